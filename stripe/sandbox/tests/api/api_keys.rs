//! API keys: secret, restricted and publishable keys, and where each is accepted.

use crate::common::*;

#[tokio::test]
async fn publishable_keys_only_where_stripe_js_uses_them() {
    let sb = TestSandbox::start().await;
    let forbidden = [
        (reqwest::Method::POST, "/v1/payment_intents"),
        (reqwest::Method::GET, "/v1/payment_intents"),
        (reqwest::Method::GET, "/v1/customers"),
        (reqwest::Method::POST, "/v1/customers"),
        (reqwest::Method::POST, "/v1/refunds"),
        (reqwest::Method::GET, "/v1/events"),
    ];
    for (m, path) in forbidden {
        let r = sb
            .send(
                m,
                path,
                Some(PUBLISHABLE_KEY),
                &[("amount", "1000"), ("currency", "usd")],
                None,
            )
            .await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
        assert!(str_at(r.error(), "message").contains("publishable API key"));
    }
    let pi = sb.create_payment_intent("1000", &[]).await.expect_ok();
    let id = str_at(&pi, "id");
    let secret = str_at(&pi, "client_secret");
    let path = format!("/v1/payment_intents/{id}");
    let r = sb.get_publishable(&path, &[]).await;
    assert_eq!(r.status_and_error("param"), (400, "client_secret".into()));
    let r = sb
        .get_publishable(&path, &[("client_secret", "pi_x_secret_y")])
        .await;
    assert_eq!(r.status_and_error("param"), (400, "client_secret".into()));
    assert_eq!(
        str_at(
            &sb.get_publishable(&path, &[("client_secret", &secret)])
                .await
                .expect_ok(),
            "status"
        ),
        "requires_payment_method"
    );
    // Stripe.js flow: create the PaymentMethod and confirm with the publishable key.
    let pm = sb.card_payment_method("4242424242424242").await;
    let confirm = format!("{path}/confirm");
    let r = sb
        .post_publishable(&confirm, &[("payment_method", &pm)])
        .await;
    assert_eq!(r.status_and_error("param"), (400, "client_secret".into()));
    let done = sb
        .post_publishable(
            &confirm,
            &[
                ("payment_method", &pm),
                ("client_secret", &secret),
                ("use_stripe_sdk", "true"),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&done, "status"), "succeeded");
    // Capturing, cancelling, refunding are secret-key operations.
    let r = sb
        .post_publishable(&format!("{path}/cancel"), &[("client_secret", &secret)])
        .await;
    assert_eq!(r.status, 403);
    // Stripe.js may send the key as a form field instead of a header.
    let r = sb
        .http
        .post(format!("{}/v1/payment_methods", sb.base))
        .form(&[
            ("key", PUBLISHABLE_KEY),
            ("type", "card"),
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", "1"),
            ("card[exp_year]", "2040"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn api_keys_are_checked() {
    let sb = TestSandbox::start().await;
    let r = sb
        .send(reqwest::Method::GET, "/v1/customers", None, &[], None)
        .await;
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
        let r = sb
            .send(reqwest::Method::GET, "/v1/customers", Some(bad), &[], None)
            .await;
        assert_eq!(r.status, 401, "{bad}");
        assert!(
            str_at(r.error(), "message").starts_with("Invalid API Key provided"),
            "{bad}"
        );
        assert!(
            !str_at(r.error(), "message").contains("bcdefghijklm"),
            "keys are redacted"
        );
    }
    // HTTP Basic with the key as user, and restricted keys, work.
    let r = sb
        .http
        .get(format!("{}/v1/customers", sb.base))
        .basic_auth(SECRET_KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = sb
        .send(
            reqwest::Method::GET,
            "/v1/customers",
            Some("rk_test_51restricted"),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
}
