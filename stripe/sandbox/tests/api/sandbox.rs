//! The sandbox itself: resetting it, and embedding its router without a socket.

use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn reset_forgets_all_state() {
    let sb = TestSandbox::start().await;
    sb.pay_20_usd("pm_card_visa", &[]).await.expect_ok();
    sb.create_customer().await;
    assert_eq!(sb.control_post("/reset", empty_object()).await.status, 200);
    assert_eq!(sb.list_len("/v1/payment_intents").await, 0);
    assert_eq!(sb.list_len("/v1/customers").await, 0);
    assert_eq!(sb.list_len("/v1/events").await, 0);
}

#[tokio::test]
async fn the_router_can_be_embedded_without_a_socket() {
    use tower::ServiceExt;
    let sandbox = stripe_sandbox::Sandbox::new(stripe_sandbox::SandboxConfig::default()).unwrap();
    let router = sandbox.router();
    let req = axum::http::Request::post("/v1/payment_intents")
        .header("authorization", format!("Bearer {SECRET_KEY}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "sandbox.local")
        .body(axum::body::Body::from("amount=1200&currency=gbp&payment_method=pm_card_authenticationRequired&payment_method_types[]=card&confirm=true"))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let pi: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(str_at(&pi, "status"), "requires_action");
    assert!(str_at(&pi, "next_action.use_stripe_sdk.stripe_js")
        .starts_with("http://sandbox.local/3ds/pi_"));
    let resp = router
        .oneshot(
            axum::http::Request::get("/v1/nope")
                .header("authorization", format!("Bearer {SECRET_KEY}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    sandbox.shutdown().await;
}
