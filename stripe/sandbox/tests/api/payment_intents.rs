//! PaymentIntents: manual capture, update and cancel rules, automatic payment methods.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn manual_capture_flow() {
    let sb = TestSandbox::start().await;
    let pi = sb
        .pay_20_usd("pm_card_visa", &[("capture_method", "manual")])
        .await
        .expect_ok();
    assert_eq!(str_at(&pi, "status"), "requires_capture");
    assert_eq!(value_at(&pi, "amount_capturable"), json!(2000));
    assert_eq!(value_at(&pi, "amount_received"), json!(0));
    assert_eq!(
        sb.events_of_type("payment_intent.amount_capturable_updated")
            .await
            .len(),
        1
    );
    assert_eq!(sb.events_of_type("payment_intent.succeeded").await.len(), 0);
    let id = str_at(&pi, "id");
    let r = sb
        .post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "2500")],
        )
        .await;
    assert_eq!(
        r.status_and_error("param"),
        (400, "amount_to_capture".into())
    );
    let pi = sb
        .post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "1500")],
        )
        .await
        .expect_ok();
    assert_eq!(
        (str_at(&pi, "status"), value_at(&pi, "amount_received")),
        ("succeeded".into(), json!(1500))
    );
    let ch = sb.retrieve("charges", &str_at(&pi, "latest_charge")).await;
    assert_eq!(
        (value_at(&ch, "captured"), value_at(&ch, "amount_captured")),
        (json!(true), json!(1500))
    );
    assert_eq!(sb.events_of_type("charge.captured").await.len(), 1);
    // Refunds are limited to what was captured.
    let r = sb
        .post(
            "/v1/refunds",
            &[("payment_intent", &id), ("amount", "1501")],
        )
        .await;
    assert_eq!(r.status_and_error("param"), (400, "amount".into()));
    let r = sb
        .post(&format!("/v1/payment_intents/{id}/capture"), &[])
        .await;
    assert_eq!(
        r.status_and_error("code"),
        (400, "payment_intent_unexpected_state".into())
    );
    // Cancelling an authorization releases it.
    let pi2 = sb
        .pay_20_usd("pm_card_visa", &[("capture_method", "manual")])
        .await
        .expect_ok();
    let canceled = sb
        .post(
            &format!("/v1/payment_intents/{}/cancel", str_at(&pi2, "id")),
            &[("cancellation_reason", "abandoned")],
        )
        .await
        .expect_ok();
    assert_eq!(
        (
            str_at(&canceled, "status"),
            str_at(&canceled, "cancellation_reason")
        ),
        ("canceled".into(), "abandoned".into())
    );
    let ch2 = sb.retrieve("charges", &str_at(&pi2, "latest_charge")).await;
    assert_eq!(value_at(&ch2, "refunded"), json!(true));
}

#[tokio::test]
async fn update_and_cancel_follow_the_status_rules() {
    let sb = TestSandbox::start().await;
    let pi = sb
        .create_payment_intent("2000", &[("metadata[order_id]", "42")])
        .await
        .expect_ok();
    let id = str_at(&pi, "id");
    assert_eq!(str_at(&pi, "metadata.order_id"), "42");
    assert!(pi["automatic_payment_methods"].is_null());
    let path = format!("/v1/payment_intents/{id}");
    let up = sb
        .post(
            &path,
            &[
                ("amount", "2600"),
                ("metadata[order_id]", ""),
                ("metadata[cart]", "c1"),
                ("description", "Order 42"),
                ("payment_method", "pm_card_visa"),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(value_at(&up, "amount"), json!(2600));
    assert_eq!(value_at(&up, "metadata"), json!({"cart": "c1"}));
    assert_eq!(str_at(&up, "description"), "Order 42");
    assert_eq!(str_at(&up, "status"), "requires_confirmation");
    let done = sb.post(&format!("{path}/confirm"), &[]).await.expect_ok();
    assert_eq!(
        (str_at(&done, "status"), value_at(&done, "amount_received")),
        ("succeeded".into(), json!(2600))
    );
    let r = sb.post(&path, &[("amount", "100")]).await;
    assert_eq!(
        r.status_and_error("code"),
        (400, "payment_intent_unexpected_state".into())
    );
    // Metadata stays editable.
    assert_eq!(
        str_at(
            &sb.post(&path, &[("metadata[shipped]", "yes")])
                .await
                .expect_ok(),
            "metadata.shipped"
        ),
        "yes"
    );
    let r = sb.post(&format!("{path}/cancel"), &[]).await;
    assert_eq!(
        r.status_and_error("code"),
        (400, "payment_intent_unexpected_state".into())
    );
    let r = sb.post(&format!("{path}/confirm"), &[]).await;
    assert_eq!(r.status, 400);
    // Cancel an open one.
    let other = sb
        .post(
            "/v1/payment_intents",
            &[("amount", "2000"), ("currency", "eur")],
        )
        .await
        .expect_ok();
    let c = sb
        .post(
            &format!("/v1/payment_intents/{}/cancel", str_at(&other, "id")),
            &[("cancellation_reason", "requested_by_customer")],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&c, "status"), "canceled");
    assert!(c["canceled_at"].is_i64());
    assert_eq!(sb.events_of_type("payment_intent.canceled").await.len(), 1);
    // A confirmation without a payment method is refused.
    let bare = sb.create_payment_intent("2000", &[]).await.expect_ok();
    let r = sb
        .post(
            &format!("/v1/payment_intents/{}/confirm", str_at(&bare, "id")),
            &[],
        )
        .await;
    assert_eq!(r.status_and_error("param"), (400, "payment_method".into()));
}

#[tokio::test]
async fn automatic_payment_methods_need_a_return_url_when_confirmed_server_side() {
    let sb = TestSandbox::start().await;
    // Confirmed at creation, without `payment_method_types`.
    let automatic = |extra: &[(&'static str, &'static str)]| {
        let mut form = vec![
            ("amount", "2000"),
            ("currency", "usd"),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
        ];
        form.extend_from_slice(extra);
        form
    };
    let r = sb.post("/v1/payment_intents", &automatic(&[])).await;
    assert_eq!(r.status_and_error("param"), (400, "return_url".into()));
    assert_eq!(sb.list_len("/v1/payment_intents").await, 0);
    let ok = sb
        .post(
            "/v1/payment_intents",
            &automatic(&[("return_url", "https://shop.example/return")]),
        )
        .await
        .expect_ok();
    assert_eq!(
        value_at(&ok, "automatic_payment_methods.enabled"),
        json!(true)
    );
    assert_eq!(str_at(&ok, "status"), "succeeded");
    let never = sb
        .post(
            "/v1/payment_intents",
            &automatic(&[
                ("automatic_payment_methods[enabled]", "true"),
                ("automatic_payment_methods[allow_redirects]", "never"),
            ]),
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&never, "status"), "succeeded");
}
