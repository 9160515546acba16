//! The surface around the resources: API keys, Stripe-shaped errors, and the sandbox itself.

use reqwest::Method;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn publishable_keys_only_where_stripe_js_uses_them() {
    let sb = TestSandbox::start().await;
    let forbidden = [
        (Method::POST, "/v1/payment_intents"),
        (Method::GET, "/v1/payment_intents"),
        (Method::GET, "/v1/customers"),
        (Method::POST, "/v1/customers"),
        (Method::POST, "/v1/refunds"),
        (Method::GET, "/v1/events"),
    ];
    let form = [("amount", "1000"), ("currency", "usd")];
    for (m, path) in forbidden {
        let r = sb.send(m, path, Some(PUBLISHABLE_KEY), &form, None).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
        assert!(str_at(r.error(), "message").contains("publishable API key"));
    }
    let pi = sb.intent_ok("1000", &[]).await;
    let id = str_at(&pi, "id");
    let secret = str_at(&pi, "client_secret");
    let path = format!("/v1/payment_intents/{id}");
    let r = sb.get_publishable(&path, &[]).await;
    assert_eq!(r.status_and_error("param"), (400, "client_secret".into()));
    let wrong = [("client_secret", "pi_x_secret_y")];
    let r = sb.get_publishable(&path, &wrong).await;
    assert_eq!(r.status_and_error("param"), (400, "client_secret".into()));
    let got = sb
        .get_publishable(&path, &[("client_secret", &secret)])
        .await;
    assert_eq!(
        str_at(&got.expect_ok(), "status"),
        "requires_payment_method"
    );
    // Stripe.js flow: create the PaymentMethod and confirm with the publishable key.
    let pm = sb.card_payment_method("4242424242424242").await;
    let confirm = format!("{path}/confirm");
    let r = sb
        .post_publishable(&confirm, &[("payment_method", &pm)])
        .await;
    assert_eq!(r.status_and_error("param"), (400, "client_secret".into()));
    let form = [
        ("payment_method", pm.as_str()),
        ("client_secret", &secret),
        ("use_stripe_sdk", "true"),
    ];
    let done = sb.post_publishable(&confirm, &form).await.expect_ok();
    assert_eq!(str_at(&done, "status"), "succeeded");
    // Capturing, cancelling, refunding are secret-key operations.
    let cancel = format!("{path}/cancel");
    let r = sb
        .post_publishable(&cancel, &[("client_secret", &secret)])
        .await;
    assert_eq!(r.status, 403);
    // Stripe.js may send the key as a form field instead of a header.
    let form = [
        ("key", PUBLISHABLE_KEY),
        ("type", "card"),
        ("card[number]", "4242424242424242"),
        ("card[exp_month]", "1"),
        ("card[exp_year]", "2040"),
    ];
    let url = format!("{}/v1/payment_methods", sb.base);
    let r = sb.http.post(url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn api_keys_are_checked() {
    let sb = TestSandbox::start().await;
    let customers =
        |key: Option<&'static str>| sb.send(Method::GET, "/v1/customers", key, &[], None);
    let r = customers(None).await;
    assert_eq!(r.status, 401);
    assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
    assert!(str_at(r.error(), "message").contains("You did not provide an API key"));
    for bad in [
        "nonsense",
        "sk_test_",
        "sk_live_51abcdefghijklmnop",
        "pk_live_51abc",
        "whsec_abc",
        "sk_test_bad key",
    ] {
        let r = customers(Some(bad)).await;
        assert_eq!(r.status, 401, "{bad}");
        let message = str_at(r.error(), "message");
        assert!(message.starts_with("Invalid API Key provided"), "{bad}");
        assert!(!message.contains("bcdefghijklm"), "keys are redacted");
    }
    // HTTP Basic with the key as user, and restricted keys, work.
    let url = format!("{}/v1/customers", sb.base);
    let basic = sb.http.get(url).basic_auth(SECRET_KEY, Some(""));
    assert_eq!(basic.send().await.unwrap().status(), 200);
    let r = customers(Some("rk_test_51restricted")).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn unknown_routes_and_bad_parameters_are_stripe_shaped_errors() {
    let sb = TestSandbox::start().await;
    for (m, path) in [
        (Method::GET, "/v1/nothing_here"),
        (Method::DELETE, "/v1/payment_intents"),
        (Method::GET, "/somewhere/else"),
        (Method::POST, "/v1/charges"),
    ] {
        let r = sb.send(m, path, Some(SECRET_KEY), &[], None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
        assert!(str_at(r.error(), "message").contains("Unrecognized request URL"));
        assert!(r.header("request-id").unwrap().starts_with("req_"));
    }
    let base = [("amount", "2000"), ("currency", "usd")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut f = base.to_vec();
        f.extend_from_slice(extra);
        f
    };
    let usd = |amount| vec![("amount", amount), ("currency", "usd")];
    let in_currency = |currency| vec![("amount", "2000"), ("currency", currency)];
    let card_colour = with(&[
        ("payment_method_data[type]", "card"),
        ("payment_method_data[card][token]", "tok_visa"),
        ("payment_method_data[card][colour]", "red"),
    ]);
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (with(&[("colour", "red")]), "parameter_unknown", "colour"),
        (
            card_colour,
            "parameter_unknown",
            "payment_method_data[card][colour]",
        ),
        (usd("12abc"), "parameter_invalid_integer", "amount"),
        (vec![("currency", "usd")], "parameter_missing", "amount"),
        (vec![("amount", "2000")], "parameter_missing", "currency"),
        (usd("10"), "amount_too_small", "amount"),
        (usd("-5"), "parameter_invalid_integer", "amount"),
        (with(&[("confirm", "maybe")]), "", "confirm"),
        (in_currency("xyz"), "", "currency"),
        (in_currency("usdollars"), "", "currency"),
        (with(&[("capture_method", "later")]), "", "capture_method"),
    ];
    for (form, code, param) in cases {
        let r = sb.post("/v1/payment_intents", &form).await;
        assert_eq!(r.status, 400, "{form:?}: {}", r.json);
        assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
        assert_eq!(r.error()["param"].as_str(), Some(param), "{form:?}");
        if !code.is_empty() {
            assert_eq!(str_at(r.error(), "code"), code, "{form:?}");
        }
    }
    assert_eq!(sb.list_len("/v1/payment_intents").await, 0);
    // Upper-case currencies are accepted and stored lower-case.
    let jpy = [("amount", "500"), ("currency", "JPY")];
    let pi = sb.post_ok("/v1/payment_intents", &jpy).await;
    assert_eq!(str_at(&pi, "currency"), "jpy");
    let r = sb.get("/v1/payment_intents/pi_doesnotexist").await;
    assert_eq!(r.status_and_error("code"), (404, "resource_missing".into()));
    let path = format!("/v1/payment_intents/{}", str_at(&pi, "id"));
    let r = sb.get_query(&path, &[("expand[]", "amount")]).await;
    assert_eq!(r.status, 400);
    let unknown = with(&[("customer", "cus_nope")]);
    let r = sb.post("/v1/payment_intents", &unknown).await;
    let got = (
        r.status,
        str_at(r.error(), "code"),
        str_at(r.error(), "param"),
    );
    assert_eq!(got, (400, "resource_missing".into(), "customer".into()));
}

#[tokio::test]
async fn reset_forgets_all_state() {
    let sb = TestSandbox::start().await;
    sb.pay_ok("pm_card_visa", &[]).await;
    sb.create_customer().await;
    assert_eq!(sb.control_status("/reset").await, 200);
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
