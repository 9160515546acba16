//! The Stripe REST surface: test cards, pm_card_* ids, 3-D Secure, keys, errors,
//! refunds, captures, customers, lists, expansion, disputes, payouts, events.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn successful_test_cards_via_publishable_key() {
    let sb = Sb::start().await;
    for (number, cvc, brand, last4) in [
        ("4242 4242 4242 4242", "123", "visa", "4242"),
        ("5555555555554444", "321", "mastercard", "4444"),
        ("3782 822463 10005", "1234", "amex", "0005"),
    ] {
        let pm = sb.card(number, cvc).await.ok();
        assert_eq!(s(&pm, "object"), "payment_method");
        assert_eq!(s(&pm, "card.brand"), brand);
        assert_eq!(s(&pm, "card.last4"), last4);
        assert_eq!(j(&pm, "livemode"), json!(false));
        let pi = sb.pay(&s(&pm, "id"), &[]).await.ok();
        assert_eq!(s(&pi, "status"), "succeeded", "{number}");
        assert_eq!(j(&pi, "amount_received"), json!(2000));
        assert!(
            pi["charges"].is_null(),
            "API 2024-06-20 has no charges list"
        );
        let ch = sb
            .get(&format!("/v1/charges/{}", s(&pi, "latest_charge")))
            .await
            .ok();
        assert_eq!(s(&ch, "status"), "succeeded");
        assert_eq!(j(&ch, "paid"), json!(true));
        assert_eq!(j(&ch, "captured"), json!(true));
        assert_eq!(j(&ch, "amount_captured"), json!(2000));
        assert_eq!(s(&ch, "payment_intent"), s(&pi, "id"));
        assert_eq!(s(&ch, "payment_method_details.card.brand"), brand);
    }
}

#[tokio::test]
async fn declining_test_cards_fail_at_confirmation_with_402() {
    let sb = Sb::start().await;
    let cases = [
        (
            "4000000000000002",
            "card_declined",
            Some("generic_decline"),
            None,
        ),
        (
            "4000000000009995",
            "card_declined",
            Some("insufficient_funds"),
            None,
        ),
        ("4000000000009987", "card_declined", Some("lost_card"), None),
        (
            "4000000000000069",
            "expired_card",
            Some("expired_card"),
            Some("exp_month"),
        ),
        (
            "4000000000000127",
            "incorrect_cvc",
            Some("incorrect_cvc"),
            Some("cvc"),
        ),
        (
            "4000000000000119",
            "processing_error",
            Some("processing_error"),
            None,
        ),
        (
            "4000000000000341",
            "card_declined",
            Some("generic_decline"),
            None,
        ),
    ];
    for (number, code, decline, param) in cases {
        let pm = sb.card_id(number).await;
        let r = sb.pay(&pm, &[]).await;
        assert_eq!(r.status, 402, "{number}: {}", r.json);
        let e = r.err();
        assert_eq!(s(e, "type"), "card_error", "{number}");
        assert_eq!(s(e, "code"), code, "{number}");
        assert_eq!(e["decline_code"].as_str(), decline, "{number}");
        assert_eq!(e["param"].as_str(), param, "{number}");
        assert!(!s(e, "message").is_empty());
        assert_eq!(s(e, "payment_intent.status"), "requires_payment_method");
        assert_eq!(s(e, "payment_intent.last_payment_error.code"), code);
        assert_eq!(s(e, "payment_method.id"), pm);
        // A failed charge exists.
        let ch = sb
            .get(&format!("/v1/charges/{}", s(e, "charge")))
            .await
            .ok();
        assert_eq!(s(&ch, "status"), "failed");
        assert_eq!(j(&ch, "paid"), json!(false));
        assert_eq!(s(&ch, "failure_code"), code);
        // The intent is back to requires_payment_method.
        let pi = sb
            .get(&format!(
                "/v1/payment_intents/{}",
                s(e, "payment_intent.id")
            ))
            .await
            .ok();
        assert_eq!(s(&pi, "status"), "requires_payment_method");
        assert!(pi["payment_method"].is_null());
        assert_eq!(s(&pi, "latest_charge"), s(e, "charge"));
        assert_eq!(s(&pi, "last_payment_error.type"), "card_error");
    }
    assert_eq!(sb.events("charge.failed").await.len(), cases.len());
    assert_eq!(
        sb.events("payment_intent.payment_failed").await.len(),
        cases.len()
    );
}

#[tokio::test]
async fn card_details_are_checked_when_the_payment_method_is_created() {
    let sb = Sb::start().await;
    let r = sb.card("4242424242424241", "123").await;
    assert_eq!(r.status, 402);
    assert_eq!(s(r.err(), "type"), "card_error");
    assert_eq!(s(r.err(), "code"), "incorrect_number");
    assert_eq!(s(r.err(), "param"), "card[number]");

    let (year, month) = stripe_sandbox::util::year_month(stripe_sandbox::util::real_now());
    let create = |m: String, y: String, cvc: &'static str, number: &'static str| {
        let sb = &sb;
        async move {
            sb.post_pk(
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", number),
                    ("card[exp_month]", &m),
                    ("card[exp_year]", &y),
                    ("card[cvc]", cvc),
                ],
            )
            .await
        }
    };
    let r = create(
        "12".into(),
        (year - 1).to_string(),
        "123",
        "4242424242424242",
    )
    .await;
    assert_eq!(
        (r.status, s(r.err(), "code")),
        (402, "invalid_expiry_year".into())
    );
    assert_eq!(s(r.err(), "param"), "card[exp_year]");
    let r = create("13".into(), "2040".into(), "123", "4242424242424242").await;
    assert_eq!(s(r.err(), "code"), "invalid_expiry_month");
    if month > 1 {
        let r = create(
            (month - 1).to_string(),
            year.to_string(),
            "123",
            "4242424242424242",
        )
        .await;
        assert_eq!(s(r.err(), "code"), "invalid_expiry_month");
    }
    // This month is still valid; two-digit years are accepted.
    create(
        month.to_string(),
        year.to_string(),
        "123",
        "4242424242424242",
    )
    .await
    .ok();
    let pm = create("12".into(), "40".into(), "123", "4242424242424242")
        .await
        .ok();
    assert_eq!(j(&pm, "card.exp_year"), json!(2040));
    // CVC length per brand.
    let r = create("12".into(), "2040".into(), "123", "378282246310005").await;
    assert_eq!(
        (s(r.err(), "code"), s(r.err(), "param")),
        ("invalid_cvc".into(), "card[cvc]".into())
    );
    let r = create("12".into(), "2040".into(), "1234", "4242424242424242").await;
    assert_eq!(s(r.err(), "code"), "invalid_cvc");
    create("12".into(), "2040".into(), "1234", "378282246310005")
        .await
        .ok();
    // Missing fields are parameter errors (400).
    let r = sb
        .post_pk(
            "/v1/payment_methods",
            &[("type", "card"), ("card[number]", "4242424242424242")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(s(r.err(), "code"), "parameter_missing");
    assert_eq!(s(r.err(), "param"), "card[exp_month]");
}

#[tokio::test]
async fn raw_card_numbers_are_refused_on_secret_key_requests() {
    let sb = Sb::start().await;
    let r = sb
        .post(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2040"),
            ],
        )
        .await;
    assert_eq!(s(r.err(), "type"), "invalid_request_error");
    assert!(s(r.err(), "message").contains("test tokens"), "{}", r.json);
    let r = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method_data[type]", "card"),
                ("payment_method_data[card][number]", "4242424242424242"),
                ("payment_method_data[card][exp_month]", "12"),
                ("payment_method_data[card][exp_year]", "2040"),
            ],
        )
        .await;
    assert!(s(r.err(), "message").contains("unsafe"));
    assert_eq!(sb.count("/v1/payment_intents").await, 0);
    // Test tokens are fine server-side.
    let pm = sb
        .post(
            "/v1/payment_methods",
            &[("type", "card"), ("card[token]", "tok_mastercard")],
        )
        .await
        .ok();
    assert_eq!(s(&pm, "card.brand"), "mastercard");
    let pi = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
                ("payment_method_data[type]", "card"),
                ("payment_method_data[card][token]", "tok_visa"),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&pi, "status"), "succeeded");
}

#[tokio::test]
async fn pm_card_test_payment_methods_server_side() {
    let sb = Sb::start().await;
    let ok = [
        "pm_card_visa",
        "pm_card_mastercard",
        "pm_card_amex",
        "pm_card_createDispute",
    ];
    for id in ok {
        let pi = sb.pay(id, &[]).await.ok();
        assert_eq!(s(&pi, "status"), "succeeded", "{id}");
        let pm = s(&pi, "payment_method");
        assert!(
            pm.starts_with("pm_") && pm != id,
            "a fresh PaymentMethod is created for {id}"
        );
    }
    let declines = [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "card_declined",
            "insufficient_funds",
        ),
        (
            "pm_card_chargeDeclinedLostCard",
            "card_declined",
            "lost_card",
        ),
        (
            "pm_card_chargeDeclinedExpiredCard",
            "expired_card",
            "expired_card",
        ),
        (
            "pm_card_chargeDeclinedIncorrectCvc",
            "incorrect_cvc",
            "incorrect_cvc",
        ),
        (
            "pm_card_chargeDeclinedProcessingError",
            "processing_error",
            "processing_error",
        ),
        (
            "pm_card_chargeCustomerFail",
            "card_declined",
            "generic_decline",
        ),
    ];
    for (id, code, decline) in declines {
        let r = sb.pay(id, &[]).await;
        assert_eq!(r.status, 402, "{id}");
        assert_eq!(
            (s(r.err(), "code"), s(r.err(), "decline_code")),
            (code.into(), decline.into()),
            "{id}"
        );
    }
    for id in [
        "pm_card_authenticationRequired",
        "pm_card_authenticationRequiredOnSetup",
    ] {
        let pi = sb.pay(id, &[]).await.ok();
        assert_eq!(s(&pi, "status"), "requires_action", "{id}");
    }
    let brand = sb.get("/v1/payment_methods/pm_card_amex").await.ok();
    assert_eq!(s(&brand, "card.brand"), "amex");
    let r = sb.pay("pm_card_doesNotExist", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(s(r.err(), "code"), "resource_missing");
    assert_eq!(s(r.err(), "param"), "payment_method");
}

#[tokio::test]
async fn three_d_secure_challenge_complete_and_fail() {
    let sb = Sb::start().await;
    let pm = sb.card_id("4000002760003184").await;
    let pi = sb.pay(&pm, &[]).await.ok();
    assert_eq!(s(&pi, "status"), "requires_action");
    assert_eq!(s(&pi, "next_action.type"), "use_stripe_sdk");
    let url = s(&pi, "next_action.use_stripe_sdk.stripe_js");
    let id = s(&pi, "id");
    assert!(url.contains(&format!("/3ds/{id}?client_secret=")), "{url}");
    assert_eq!(sb.events("payment_intent.requires_action").await.len(), 1);

    // The challenge page (no API key needed, the client secret authorizes it).
    let page = sb.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for needle in [
        "Complete authentication",
        "Fail authentication",
        "stripe-sandbox-3ds",
        "postMessage",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    let bad = sb
        .http
        .get(format!("{}/3ds/{id}?client_secret=nope", sb.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let done = sb.three_ds(&pi, "complete").await;
    assert_eq!(s(&done, "outcome"), "complete");
    assert_eq!(s(&done, "payment_intent.status"), "succeeded");
    let pi = sb
        .get(&format!("/v1/payment_intents/{id}?expand[]=latest_charge"))
        .await
        .ok();
    assert_eq!(s(&pi, "status"), "succeeded");
    assert_eq!(
        s(
            &pi,
            "latest_charge.payment_method_details.card.three_d_secure.result"
        ),
        "authenticated"
    );

    // Failing authentication.
    let pi2 = sb.pay("pm_card_authenticationRequired", &[]).await.ok();
    let failed = sb.three_ds(&pi2, "fail").await;
    assert_eq!(s(&failed, "outcome"), "fail");
    let pi2 = sb
        .get(&format!("/v1/payment_intents/{}", s(&pi2, "id")))
        .await
        .ok();
    assert_eq!(s(&pi2, "status"), "requires_payment_method");
    assert_eq!(
        s(&pi2, "last_payment_error.code"),
        "payment_intent_authentication_failure"
    );
    assert!(pi2["payment_method"].is_null() && pi2["latest_charge"].is_null());

    // The HTML variant (form post without JS) answers a page that notifies the parent.
    let pi3 = sb.pay("pm_card_authenticationRequired", &[]).await.ok();
    let r = sb
        .http
        .post(format!("{}/3ds/{}/complete", sb.base, s(&pi3, "id")))
        .form(&[("client_secret", s(&pi3, "client_secret"))])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("stripe-sandbox-3ds") && html.contains("\"complete\""));
    // Authentication is over: a second attempt is refused.
    let r = sb
        .http
        .post(format!("{}/3ds/{}/fail", sb.base, s(&pi3, "id")))
        .form(&[("client_secret", s(&pi3, "client_secret"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn card_3178_requires_authentication_then_declines() {
    let sb = Sb::start().await;
    let pm = sb.card_id("4000008260003178").await;
    let pi = sb.pay(&pm, &[]).await.ok();
    assert_eq!(s(&pi, "status"), "requires_action");
    let done = sb.three_ds(&pi, "complete").await;
    assert_eq!(s(&done, "payment_intent.status"), "requires_payment_method");
    assert_eq!(
        s(&done, "payment_intent.last_payment_error.decline_code"),
        "insufficient_funds"
    );
    let ch = sb
        .get(&format!(
            "/v1/charges/{}",
            s(&done, "payment_intent.latest_charge")
        ))
        .await
        .ok();
    assert_eq!(s(&ch, "status"), "failed");
}

#[tokio::test]
async fn card_3155_needs_no_authentication_off_session_once_set_up() {
    let sb = Sb::start().await;
    let cus = sb.customer().await;
    let pm = sb.card_id("4000002500003155").await;
    let si = sb
        .post(
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", &pm),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&si, "status"), "requires_action");
    assert!(s(&si, "client_secret").starts_with(&format!("{}_secret_", s(&si, "id"))));
    let done = sb.three_ds(&si, "complete").await;
    assert_eq!(s(&done, "setup_intent.status"), "succeeded");
    let saved = sb
        .get_q(
            &format!("/v1/customers/{cus}/payment_methods"),
            &[("type", "card")],
        )
        .await
        .ok();
    assert_eq!(s(&saved, "data.0.id"), pm);
    let types: Vec<String> = [
        "setup_intent.created",
        "setup_intent.requires_action",
        "setup_intent.succeeded",
        "payment_method.attached",
    ]
    .iter()
    .map(|t| t.to_string())
    .collect();
    for t in &types {
        assert_eq!(sb.events(t).await.len(), 1, "{t}");
    }

    let off = [("customer", cus.as_str()), ("off_session", "true")];
    let pi = sb.pay(&pm, &off).await.ok();
    assert_eq!(s(&pi, "status"), "succeeded");
    // On-session it still asks for authentication.
    let pi = sb.pay(&pm, &[("customer", &cus)]).await.ok();
    assert_eq!(s(&pi, "status"), "requires_action");

    // The same card attached without being set up: off-session needs authentication.
    let pm2 = sb.card_id("4000002500003155").await;
    sb.post(
        &format!("/v1/payment_methods/{pm2}/attach"),
        &[("customer", &cus)],
    )
    .await
    .ok();
    let r = sb.pay(&pm2, &off).await;
    assert_eq!(r.status, 402);
    assert_eq!(s(r.err(), "code"), "authentication_required");
    assert_eq!(s(r.err(), "decline_code"), "authentication_required");
    assert_eq!(
        s(r.err(), "payment_intent.status"),
        "requires_payment_method"
    );
    assert!(r.err()["charge"].is_string());
}

#[tokio::test]
async fn card_3155_saved_with_setup_future_usage_pays_off_session() {
    let sb = Sb::start().await;
    let cus = sb.customer().await;
    let pi = sb
        .pay(
            "pm_card_authenticationRequiredOnSetup",
            &[("customer", &cus), ("setup_future_usage", "off_session")],
        )
        .await
        .ok();
    assert_eq!(s(&pi, "status"), "requires_action");
    let done = sb.three_ds(&pi, "complete").await;
    assert_eq!(s(&done, "payment_intent.status"), "succeeded");
    let pm = s(&done, "payment_intent.payment_method");
    let listed = sb
        .get_q(
            "/v1/payment_methods",
            &[("customer", &cus), ("type", "card")],
        )
        .await
        .ok();
    assert_eq!(s(&listed, "data.0.id"), pm);
    assert_eq!(s(&listed, "data.0.customer"), cus);
    let again = sb
        .pay(&pm, &[("customer", &cus), ("off_session", "true")])
        .await
        .ok();
    assert_eq!(s(&again, "status"), "succeeded");
}

#[tokio::test]
async fn card_3184_always_requires_authentication() {
    let sb = Sb::start().await;
    let cus = sb.customer().await;
    let si = sb
        .post(
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", "pm_card_authenticationRequired"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
        )
        .await
        .ok();
    let done = sb.three_ds(&si, "complete").await;
    let pm = s(&done, "setup_intent.payment_method");
    let r = sb
        .pay(&pm, &[("customer", &cus), ("off_session", "true")])
        .await;
    assert_eq!(r.status, 402);
    assert_eq!(s(r.err(), "code"), "authentication_required");
}

#[tokio::test]
async fn card_0341_attaches_but_every_charge_is_declined() {
    let sb = Sb::start().await;
    let cus = sb.customer().await;
    let pm = sb.card_id("4000000000000341").await;
    let attached = sb
        .post(
            &format!("/v1/payment_methods/{pm}/attach"),
            &[("customer", &cus)],
        )
        .await
        .ok();
    assert_eq!(s(&attached, "customer"), cus);
    assert_eq!(sb.events("payment_method.attached").await.len(), 1);
    for _ in 0..2 {
        let r = sb.pay(&pm, &[("customer", &cus)]).await;
        assert_eq!(r.status, 402);
        assert_eq!(s(r.err(), "decline_code"), "generic_decline");
    }
    // A plain declining card does not even attach.
    let bad = sb.card_id("4000000000000002").await;
    let r = sb
        .post(
            &format!("/v1/payment_methods/{bad}/attach"),
            &[("customer", &cus)],
        )
        .await;
    assert_eq!(r.status, 402);
    assert_eq!(s(r.err(), "code"), "card_declined");
}

#[tokio::test]
async fn card_0259_succeeds_then_a_dispute_is_opened() {
    let sb = Sb::start().await;
    let pm = sb.card_id("4000000000000259").await;
    let pi = sb.pay(&pm, &[]).await.ok();
    assert_eq!(s(&pi, "status"), "succeeded");
    let ch = s(&pi, "latest_charge");
    let disputes = sb.get_q("/v1/disputes", &[("charge", &ch)]).await.ok();
    let dp = &disputes["data"][0];
    assert_eq!(s(dp, "reason"), "fraudulent");
    assert_eq!(s(dp, "status"), "needs_response");
    assert_eq!(s(dp, "payment_intent"), s(&pi, "id"));
    assert_eq!(j(dp, "amount"), json!(2000));
    assert!(
        j(dp, "evidence_details.due_by").as_i64().unwrap() > j(dp, "created").as_i64().unwrap()
    );
    assert_eq!(
        j(&sb.get(&format!("/v1/charges/{ch}")).await.ok(), "disputed"),
        json!(true)
    );
    let created = sb.events("charge.dispute.created").await;
    assert_eq!(s(&created[0], "data.object.id"), s(dp, "id"));
    assert_eq!(sb.events("charge.dispute.funds_withdrawn").await.len(), 1);
    // A disputed charge cannot be refunded.
    let r = sb.post("/v1/refunds", &[("charge", &ch)]).await;
    assert_eq!(
        (r.status, s(r.err(), "code")),
        (400, "charge_disputed".into())
    );
}

#[tokio::test]
async fn card_5423_succeeds_then_an_early_fraud_warning_is_raised() {
    let sb = Sb::start().await;
    let pm = sb.card_id("4000000000005423").await;
    let pi = sb.pay(&pm, &[]).await.ok();
    assert_eq!(s(&pi, "status"), "succeeded");
    let ev = sb.events("radar.early_fraud_warning.created").await;
    assert_eq!(ev.len(), 1);
    let efw = &ev[0]["data"]["object"];
    assert_eq!(s(efw, "object"), "radar.early_fraud_warning");
    assert_eq!(s(efw, "charge"), s(&pi, "latest_charge"));
    let got = sb
        .get(&format!("/v1/radar/early_fraud_warnings/{}", s(efw, "id")))
        .await
        .ok();
    assert_eq!(j(&got, "actionable"), json!(true));
}

#[tokio::test]
async fn publishable_keys_only_where_stripe_js_uses_them() {
    let sb = Sb::start().await;
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
                Some(PK),
                &[("amount", "1000"), ("currency", "usd")],
                None,
            )
            .await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(s(r.err(), "type"), "invalid_request_error");
        assert!(s(r.err(), "message").contains("publishable API key"));
    }
    let pi = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
            ],
        )
        .await
        .ok();
    let id = s(&pi, "id");
    let secret = s(&pi, "client_secret");
    let path = format!("/v1/payment_intents/{id}");
    let r = sb.get_pk(&path, &[]).await;
    assert_eq!(
        (r.status, s(r.err(), "param")),
        (400, "client_secret".into())
    );
    let r = sb
        .get_pk(&path, &[("client_secret", "pi_x_secret_y")])
        .await;
    assert_eq!(
        (r.status, s(r.err(), "param")),
        (400, "client_secret".into())
    );
    assert_eq!(
        s(
            &sb.get_pk(&path, &[("client_secret", &secret)]).await.ok(),
            "status"
        ),
        "requires_payment_method"
    );
    // Stripe.js flow: create the PaymentMethod and confirm with the publishable key.
    let pm = sb.card_id("4242424242424242").await;
    let confirm = format!("{path}/confirm");
    let r = sb.post_pk(&confirm, &[("payment_method", &pm)]).await;
    assert_eq!(
        (r.status, s(r.err(), "param")),
        (400, "client_secret".into())
    );
    let done = sb
        .post_pk(
            &confirm,
            &[
                ("payment_method", &pm),
                ("client_secret", &secret),
                ("use_stripe_sdk", "true"),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&done, "status"), "succeeded");
    // Capturing, cancelling, refunding are secret-key operations.
    let r = sb
        .post_pk(&format!("{path}/cancel"), &[("client_secret", &secret)])
        .await;
    assert_eq!(r.status, 403);
    // Stripe.js may send the key as a form field instead of a header.
    let r = sb
        .http
        .post(format!("{}/v1/payment_methods", sb.base))
        .form(&[
            ("key", PK),
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
    let sb = Sb::start().await;
    let r = sb
        .send(reqwest::Method::GET, "/v1/customers", None, &[], None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(s(r.err(), "type"), "invalid_request_error");
    assert!(s(r.err(), "message").contains("You did not provide an API key"));
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
            s(r.err(), "message").starts_with("Invalid API Key provided"),
            "{bad}"
        );
        assert!(
            !s(r.err(), "message").contains("bcdefghijklm"),
            "keys are redacted"
        );
    }
    // HTTP Basic with the key as user, and restricted keys, work.
    let r = sb
        .http
        .get(format!("{}/v1/customers", sb.base))
        .basic_auth(SK, Some(""))
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

#[tokio::test]
async fn unknown_routes_and_bad_parameters_are_stripe_shaped_errors() {
    let sb = Sb::start().await;
    for (m, path) in [
        (reqwest::Method::GET, "/v1/nothing_here"),
        (reqwest::Method::DELETE, "/v1/payment_intents"),
        (reqwest::Method::GET, "/somewhere/else"),
        (reqwest::Method::POST, "/v1/charges"),
    ] {
        let r = sb.send(m, path, Some(SK), &[], None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(s(r.err(), "type"), "invalid_request_error");
        assert!(s(r.err(), "message").contains("Unrecognized request URL"));
        assert!(r.header("request-id").unwrap().starts_with("req_"));
    }
    let base = [("amount", "2000"), ("currency", "usd")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut f = base.to_vec();
        f.extend_from_slice(extra);
        f
    };
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (with(&[("colour", "red")]), "parameter_unknown", "colour"),
        (
            with(&[
                ("payment_method_data[type]", "card"),
                ("payment_method_data[card][token]", "tok_visa"),
                ("payment_method_data[card][colour]", "red"),
            ]),
            "parameter_unknown",
            "payment_method_data[card][colour]",
        ),
        (
            vec![("amount", "12abc"), ("currency", "usd")],
            "parameter_invalid_integer",
            "amount",
        ),
        (vec![("currency", "usd")], "parameter_missing", "amount"),
        (vec![("amount", "2000")], "parameter_missing", "currency"),
        (
            vec![("amount", "10"), ("currency", "usd")],
            "amount_too_small",
            "amount",
        ),
        (
            vec![("amount", "-5"), ("currency", "usd")],
            "parameter_invalid_integer",
            "amount",
        ),
        (with(&[("confirm", "maybe")]), "", "confirm"),
        (
            vec![("amount", "2000"), ("currency", "xyz")],
            "",
            "currency",
        ),
        (
            vec![("amount", "2000"), ("currency", "usdollars")],
            "",
            "currency",
        ),
        (with(&[("capture_method", "later")]), "", "capture_method"),
    ];
    for (form, code, param) in cases {
        let r = sb.post("/v1/payment_intents", &form).await;
        assert_eq!(r.status, 400, "{form:?}: {}", r.json);
        assert_eq!(s(r.err(), "type"), "invalid_request_error");
        assert_eq!(r.err()["param"].as_str(), Some(param), "{form:?}");
        if !code.is_empty() {
            assert_eq!(s(r.err(), "code"), code, "{form:?}");
        }
    }
    assert_eq!(sb.count("/v1/payment_intents").await, 0);
    // Upper-case currencies are accepted and stored lower-case.
    let pi = sb
        .post(
            "/v1/payment_intents",
            &[("amount", "500"), ("currency", "JPY")],
        )
        .await
        .ok();
    assert_eq!(s(&pi, "currency"), "jpy");
    let r = sb.get("/v1/payment_intents/pi_doesnotexist").await;
    assert_eq!(
        (r.status, s(r.err(), "code")),
        (404, "resource_missing".into())
    );
    let r = sb
        .get_q(
            &format!("/v1/payment_intents/{}", s(&pi, "id")),
            &[("expand[]", "amount")],
        )
        .await;
    assert_eq!(r.status, 400);
    let r = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("customer", "cus_nope"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, s(r.err(), "code"), s(r.err(), "param")),
        (400, "resource_missing".into(), "customer".into())
    );
}

#[tokio::test]
async fn refunds_partial_several_and_never_more_than_the_charge() {
    let sb = Sb::start().await;
    let pi = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "5000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
        )
        .await
        .ok();
    let pi_id = s(&pi, "id");
    let ch = s(&pi, "latest_charge");
    let r1 = sb
        .post(
            "/v1/refunds",
            &[
                ("payment_intent", &pi_id),
                ("amount", "1000"),
                ("reason", "requested_by_customer"),
                ("metadata[ticket]", "T-1"),
            ],
        )
        .await
        .ok();
    assert_eq!(
        (
            s(&r1, "status"),
            s(&r1, "charge"),
            s(&r1, "metadata.ticket")
        ),
        ("succeeded".into(), ch.clone(), "T-1".into())
    );
    assert_eq!(s(&r1, "reason"), "requested_by_customer");
    sb.post("/v1/refunds", &[("charge", &ch), ("amount", "1500")])
        .await
        .ok();
    let charge = sb.get(&format!("/v1/charges/{ch}")).await.ok();
    assert_eq!(
        (j(&charge, "amount_refunded"), j(&charge, "refunded")),
        (json!(2500), json!(false))
    );
    // Over-refund: 400 invalid_request_error on `amount`, nothing changes.
    let r = sb
        .post(
            "/v1/refunds",
            &[("payment_intent", &pi_id), ("amount", "2501")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(s(r.err(), "type"), "invalid_request_error");
    assert_eq!(s(r.err(), "param"), "amount");
    assert_eq!(
        j(
            &sb.get(&format!("/v1/charges/{ch}")).await.ok(),
            "amount_refunded"
        ),
        json!(2500)
    );
    // The rest, without an amount.
    let last = sb
        .post("/v1/refunds", &[("payment_intent", &pi_id)])
        .await
        .ok();
    assert_eq!(j(&last, "amount"), json!(2500));
    let charge = sb.get(&format!("/v1/charges/{ch}")).await.ok();
    assert_eq!(
        (j(&charge, "amount_refunded"), j(&charge, "refunded")),
        (json!(5000), json!(true))
    );
    let r = sb
        .post("/v1/refunds", &[("charge", &ch), ("amount", "1")])
        .await;
    assert_eq!(
        (r.status, s(r.err(), "code")),
        (400, "charge_already_refunded".into())
    );
    let listed = sb
        .get_q("/v1/refunds", &[("payment_intent", &pi_id)])
        .await
        .ok();
    assert_eq!(listed["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        s(
            &sb.get(&format!("/v1/refunds/{}", s(&r1, "id"))).await.ok(),
            "id"
        ),
        s(&r1, "id")
    );
    assert_eq!(sb.events("refund.created").await.len(), 3);
    let refunded = sb.events("charge.refunded").await;
    assert_eq!(refunded.len(), 3);
    assert_eq!(
        j(&refunded[0], "data.previous_attributes.amount_refunded"),
        json!(2500)
    );
    // Validation.
    for (form, param) in [
        (
            vec![("payment_intent", pi_id.as_str()), ("reason", "because")],
            "reason",
        ),
        (
            vec![("payment_intent", pi_id.as_str()), ("amount", "0")],
            "amount",
        ),
    ] {
        let r = sb.post("/v1/refunds", &form).await;
        assert_eq!((r.status, s(r.err(), "param")), (400, param.to_owned()));
    }
    let declined = sb.pay("pm_card_chargeDeclined", &[]).await;
    let r = sb
        .post(
            "/v1/refunds",
            &[("payment_intent", &s(declined.err(), "payment_intent.id"))],
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn refund_failure_can_be_triggered() {
    let sb = Sb::start().await;
    let pi = sb.pay("pm_card_visa", &[]).await.ok();
    let re = sb
        .post(
            "/v1/refunds",
            &[("payment_intent", &s(&pi, "id")), ("amount", "500")],
        )
        .await
        .ok();
    let failed = sb
        .control(&format!("/refunds/{}/fail", s(&re, "id")), empty())
        .await
        .ok();
    assert_eq!(s(&failed, "status"), "failed");
    assert_eq!(s(&failed, "failure_reason"), "expired_or_canceled_card");
    let ch = sb
        .get(&format!("/v1/charges/{}", s(&pi, "latest_charge")))
        .await
        .ok();
    assert_eq!(j(&ch, "amount_refunded"), json!(0));
    assert_eq!(sb.events("refund.failed").await.len(), 1);
    assert_eq!(
        s(
            &sb.events("refund.updated").await[0],
            "data.previous_attributes.status"
        ),
        "succeeded"
    );
    // The money is refundable again.
    sb.post("/v1/refunds", &[("payment_intent", &s(&pi, "id"))])
        .await
        .ok();
}

#[tokio::test]
async fn manual_capture_flow() {
    let sb = Sb::start().await;
    let pi = sb
        .pay("pm_card_visa", &[("capture_method", "manual")])
        .await
        .ok();
    assert_eq!(s(&pi, "status"), "requires_capture");
    assert_eq!(j(&pi, "amount_capturable"), json!(2000));
    assert_eq!(j(&pi, "amount_received"), json!(0));
    assert_eq!(
        sb.events("payment_intent.amount_capturable_updated")
            .await
            .len(),
        1
    );
    assert_eq!(sb.events("payment_intent.succeeded").await.len(), 0);
    let id = s(&pi, "id");
    let r = sb
        .post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "2500")],
        )
        .await;
    assert_eq!(
        (r.status, s(r.err(), "param")),
        (400, "amount_to_capture".into())
    );
    let pi = sb
        .post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "1500")],
        )
        .await
        .ok();
    assert_eq!(
        (s(&pi, "status"), j(&pi, "amount_received")),
        ("succeeded".into(), json!(1500))
    );
    let ch = sb
        .get(&format!("/v1/charges/{}", s(&pi, "latest_charge")))
        .await
        .ok();
    assert_eq!(
        (j(&ch, "captured"), j(&ch, "amount_captured")),
        (json!(true), json!(1500))
    );
    assert_eq!(sb.events("charge.captured").await.len(), 1);
    // Refunds are limited to what was captured.
    let r = sb
        .post(
            "/v1/refunds",
            &[("payment_intent", &id), ("amount", "1501")],
        )
        .await;
    assert_eq!((r.status, s(r.err(), "param")), (400, "amount".into()));
    let r = sb
        .post(&format!("/v1/payment_intents/{id}/capture"), &[])
        .await;
    assert_eq!(
        (r.status, s(r.err(), "code")),
        (400, "payment_intent_unexpected_state".into())
    );
    // Cancelling an authorization releases it.
    let pi2 = sb
        .pay("pm_card_visa", &[("capture_method", "manual")])
        .await
        .ok();
    let canceled = sb
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&pi2, "id")),
            &[("cancellation_reason", "abandoned")],
        )
        .await
        .ok();
    assert_eq!(
        (s(&canceled, "status"), s(&canceled, "cancellation_reason")),
        ("canceled".into(), "abandoned".into())
    );
    let ch2 = sb
        .get(&format!("/v1/charges/{}", s(&pi2, "latest_charge")))
        .await
        .ok();
    assert_eq!(j(&ch2, "refunded"), json!(true));
}

#[tokio::test]
async fn update_and_cancel_follow_the_status_rules() {
    let sb = Sb::start().await;
    let pi = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
                ("metadata[order_id]", "42"),
            ],
        )
        .await
        .ok();
    let id = s(&pi, "id");
    assert_eq!(s(&pi, "metadata.order_id"), "42");
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
        .ok();
    assert_eq!(j(&up, "amount"), json!(2600));
    assert_eq!(j(&up, "metadata"), json!({"cart": "c1"}));
    assert_eq!(s(&up, "description"), "Order 42");
    assert_eq!(s(&up, "status"), "requires_confirmation");
    let done = sb.post(&format!("{path}/confirm"), &[]).await.ok();
    assert_eq!(
        (s(&done, "status"), j(&done, "amount_received")),
        ("succeeded".into(), json!(2600))
    );
    let r = sb.post(&path, &[("amount", "100")]).await;
    assert_eq!(
        (r.status, s(r.err(), "code")),
        (400, "payment_intent_unexpected_state".into())
    );
    // Metadata stays editable.
    assert_eq!(
        s(
            &sb.post(&path, &[("metadata[shipped]", "yes")]).await.ok(),
            "metadata.shipped"
        ),
        "yes"
    );
    let r = sb.post(&format!("{path}/cancel"), &[]).await;
    assert_eq!(
        (r.status, s(r.err(), "code")),
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
        .ok();
    let c = sb
        .post(
            &format!("/v1/payment_intents/{}/cancel", s(&other, "id")),
            &[("cancellation_reason", "requested_by_customer")],
        )
        .await
        .ok();
    assert_eq!(s(&c, "status"), "canceled");
    assert!(c["canceled_at"].is_i64());
    assert_eq!(sb.events("payment_intent.canceled").await.len(), 1);
    // A confirmation without a payment method is refused.
    let bare = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
            ],
        )
        .await
        .ok();
    let r = sb
        .post(
            &format!("/v1/payment_intents/{}/confirm", s(&bare, "id")),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, s(r.err(), "param")),
        (400, "payment_method".into())
    );
}

#[tokio::test]
async fn automatic_payment_methods_need_a_return_url_when_confirmed_server_side() {
    let sb = Sb::start().await;
    let r = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!((r.status, s(r.err(), "param")), (400, "return_url".into()));
    assert_eq!(sb.count("/v1/payment_intents").await, 0);
    let ok = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
                ("return_url", "https://shop.example/return"),
            ],
        )
        .await
        .ok();
    assert_eq!(j(&ok, "automatic_payment_methods.enabled"), json!(true));
    assert_eq!(s(&ok, "status"), "succeeded");
    let never = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
                ("automatic_payment_methods[enabled]", "true"),
                ("automatic_payment_methods[allow_redirects]", "never"),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&never, "status"), "succeeded");
}

#[tokio::test]
async fn a_payment_method_used_without_a_customer_cannot_be_reused() {
    let sb = Sb::start().await;
    let pm = sb.card_id("4242424242424242").await;
    sb.pay(&pm, &[]).await.ok();
    let r = sb.pay(&pm, &[]).await;
    assert_eq!(
        (r.status, s(r.err(), "param")),
        (400, "payment_method".into())
    );
    assert!(s(r.err(), "message").contains("may not be used again"));
    // Attached to a customer it can be used again and again, but only with that customer.
    let cus = sb.customer().await;
    let saved = sb.card_id("4242424242424242").await;
    sb.post(
        &format!("/v1/payment_methods/{saved}/attach"),
        &[("customer", &cus)],
    )
    .await
    .ok();
    sb.pay(&saved, &[("customer", &cus)]).await.ok();
    sb.pay(&saved, &[("customer", &cus)]).await.ok();
    let r = sb.pay(&saved, &[]).await;
    assert_eq!(
        (r.status, s(r.err(), "param")),
        (400, "payment_method".into())
    );
}

#[tokio::test]
async fn customers_and_saved_payment_methods() {
    let sb = Sb::start().await;
    let c = sb
        .post(
            "/v1/customers",
            &[
                ("email", "a@example.com"),
                ("name", "Ada"),
                ("metadata[user_id]", "7"),
                ("payment_method", "pm_card_visa"),
            ],
        )
        .await
        .ok();
    let id = s(&c, "id");
    assert!(id.starts_with("cus_"));
    assert_eq!(
        (s(&c, "object"), s(&c, "metadata.user_id")),
        ("customer".into(), "7".into())
    );
    let pms = sb
        .get_q(
            &format!("/v1/customers/{id}/payment_methods"),
            &[("type", "card")],
        )
        .await
        .ok();
    assert_eq!(pms["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        s(&pms, "url"),
        format!("/v1/customers/{id}/payment_methods")
    );
    let pm = s(&pms, "data.0.id");
    let up = sb
        .post(
            &format!("/v1/customers/{id}"),
            &[
                ("name", "Ada L."),
                ("invoice_settings[default_payment_method]", &pm),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&up, "name"), "Ada L.");
    assert_eq!(s(&up, "invoice_settings.default_payment_method"), pm);
    let updated = sb.events("customer.updated").await;
    assert_eq!(s(&updated[0], "data.previous_attributes.name"), "Ada");
    assert_eq!(sb.events("customer.created").await.len(), 1);
    // Second card, list both ways, detach one.
    let pm2 = sb
        .post(
            "/v1/payment_methods/pm_card_mastercard/attach",
            &[("customer", &id)],
        )
        .await
        .ok();
    let listed = sb
        .get_q(
            "/v1/payment_methods",
            &[("customer", &id), ("type", "card")],
        )
        .await
        .ok();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(s(&listed, "data.0.id"), s(&pm2, "id"), "newest first");
    let detached = sb
        .post(&format!("/v1/payment_methods/{pm}/detach"), &[])
        .await
        .ok();
    assert!(detached["customer"].is_null());
    assert_eq!(sb.events("payment_method.detached").await.len(), 1);
    let r = sb
        .post(&format!("/v1/payment_methods/{pm}/detach"), &[])
        .await;
    assert_eq!(r.status, 400);
    let c = sb.get(&format!("/v1/customers/{id}")).await.ok();
    assert!(c["invoice_settings"]["default_payment_method"].is_null());
    // Another customer cannot take an attached card.
    let other = sb.customer().await;
    let r = sb
        .post(
            &format!("/v1/payment_methods/{}/attach", s(&pm2, "id")),
            &[("customer", &other)],
        )
        .await;
    assert_eq!(r.status, 400);
    // Delete.
    let d = sb.delete(&format!("/v1/customers/{id}")).await.ok();
    assert_eq!(d, json!({"id": id, "object": "customer", "deleted": true}));
    assert_eq!(
        sb.get(&format!("/v1/customers/{id}")).await.ok()["deleted"],
        json!(true)
    );
    assert_eq!(sb.events("customer.deleted").await.len(), 1);
    let r = sb
        .post(&format!("/v1/customers/{id}"), &[("name", "x")])
        .await;
    assert_eq!(r.status, 404);
    let r = sb
        .get_q(
            &format!("/v1/customers/{id}/payment_methods"),
            &[("type", "card")],
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn lists_paginate_newest_first() {
    let sb = Sb::start().await;
    let cus = sb.customer().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let amount = (1000 + i).to_string();
        let pi = sb
            .post(
                "/v1/payment_intents",
                &[("amount", &amount), ("currency", "usd"), ("customer", &cus)],
            )
            .await
            .ok();
        ids.push(s(&pi, "id"));
    }
    sb.post(
        "/v1/payment_intents",
        &[("amount", "999"), ("currency", "usd")],
    )
    .await
    .ok();
    let page = sb
        .get_q("/v1/payment_intents", &[("customer", &cus), ("limit", "2")])
        .await
        .ok();
    assert_eq!(
        (s(&page, "object"), s(&page, "url")),
        ("list".into(), "/v1/payment_intents".into())
    );
    assert_eq!(j(&page, "has_more"), json!(true));
    let got: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(p, "id"))
        .collect();
    assert_eq!(got, vec![ids[4].clone(), ids[3].clone()]);
    let page2 = sb
        .get_q(
            "/v1/payment_intents",
            &[
                ("customer", &cus),
                ("limit", "2"),
                ("starting_after", &ids[3]),
            ],
        )
        .await
        .ok();
    let got: Vec<String> = page2["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(p, "id"))
        .collect();
    assert_eq!(got, vec![ids[2].clone(), ids[1].clone()]);
    let page3 = sb
        .get_q(
            "/v1/payment_intents",
            &[
                ("customer", &cus),
                ("limit", "2"),
                ("starting_after", &ids[1]),
            ],
        )
        .await
        .ok();
    assert_eq!(
        (
            page3["data"].as_array().unwrap().len(),
            j(&page3, "has_more")
        ),
        (1, json!(false))
    );
    let before = sb
        .get_q(
            "/v1/payment_intents",
            &[
                ("customer", &cus),
                ("limit", "2"),
                ("ending_before", &ids[1]),
            ],
        )
        .await
        .ok();
    let got: Vec<String> = before["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| s(p, "id"))
        .collect();
    assert_eq!(got, vec![ids[3].clone(), ids[2].clone()]);
    assert_eq!(sb.count("/v1/payment_intents").await, 6);
    let r = sb.get_q("/v1/payment_intents", &[("limit", "101")]).await;
    assert_eq!(r.status, 400);
    let r = sb
        .get_q("/v1/payment_intents", &[("starting_after", "pi_unknown")])
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn expand_inlines_related_objects() {
    let sb = Sb::start().await;
    let cus = sb.customer().await;
    let pi = sb
        .pay(
            "pm_card_visa",
            &[
                ("customer", &cus),
                ("expand[]", "latest_charge"),
                ("expand[]", "customer"),
                ("expand[]", "payment_method"),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&pi, "latest_charge.object"), "charge");
    assert_eq!(s(&pi, "customer.id"), cus);
    assert_eq!(s(&pi, "payment_method.object"), "payment_method");
    let id = s(&pi, "id");
    let ch = s(&pi, "latest_charge.id");
    let c = sb
        .get_q(
            &format!("/v1/charges/{ch}"),
            &[("expand[]", "payment_intent")],
        )
        .await
        .ok();
    assert_eq!(s(&c, "payment_intent.id"), id);
    let nested = sb
        .get_q(
            &format!("/v1/charges/{ch}"),
            &[("expand[]", "payment_intent.latest_charge")],
        )
        .await
        .ok();
    assert_eq!(s(&nested, "payment_intent.latest_charge.id"), ch);
    let list = sb
        .get_q("/v1/payment_intents", &[("expand[]", "data.latest_charge")])
        .await
        .ok();
    assert_eq!(s(&list, "data.0.latest_charge.object"), "charge");
    let r = sb
        .get_q("/v1/payment_intents", &[("expand[]", "latest_charge")])
        .await;
    assert_eq!(r.status, 400);
    let re = sb
        .post(
            "/v1/refunds",
            &[
                ("payment_intent", &id),
                ("amount", "100"),
                ("expand[]", "charge"),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&re, "charge.id"), ch);
}

#[tokio::test]
async fn disputes_evidence_close_and_outcomes() {
    let sb = Sb::start().await;
    let pi = sb.pay("pm_card_createDispute", &[]).await.ok();
    let dp = sb
        .get_q("/v1/disputes", &[("payment_intent", &s(&pi, "id"))])
        .await
        .ok()["data"][0]
        .clone();
    let id = s(&dp, "id");
    let up = sb
        .post(
            &format!("/v1/disputes/{id}"),
            &[
                ("evidence[customer_name]", "Jenny"),
                ("evidence[product_description]", "Shoes"),
                ("submit", "false"),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&up, "status"), "needs_response");
    assert_eq!(s(&up, "evidence.customer_name"), "Jenny");
    assert_eq!(j(&up, "evidence_details.has_evidence"), json!(true));
    let submitted = sb
        .post(&format!("/v1/disputes/{id}"), &[("metadata[case]", "1")])
        .await
        .ok();
    assert_eq!(s(&submitted, "status"), "under_review");
    assert_eq!(j(&submitted, "evidence_details.submission_count"), json!(1));
    let updates = sb.events("charge.dispute.updated").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(
        s(&updates[0], "data.previous_attributes.status"),
        "needs_response"
    );
    let r = sb
        .post(&format!("/v1/disputes/{id}"), &[("evidence[bogus]", "x")])
        .await;
    assert_eq!(
        (r.status, s(r.err(), "param")),
        (400, "evidence[bogus]".into())
    );
    let won = sb
        .control(&format!("/disputes/{id}/win"), empty())
        .await
        .ok();
    assert_eq!(s(&won, "status"), "won");
    assert_eq!(sb.events("charge.dispute.closed").await.len(), 1);
    assert_eq!(sb.events("charge.dispute.funds_reinstated").await.len(), 1);
    assert_eq!(
        sb.control(&format!("/disputes/{id}/lose"), empty())
            .await
            .status,
        400
    );

    // Closing (accepting) a dispute loses it.
    let pi2 = sb.pay("pm_card_visa", &[]).await.ok();
    let dp2 = sb
        .control(
            &format!("/charges/{}/dispute", s(&pi2, "latest_charge")),
            json!({"reason": "product_not_received"}),
        )
        .await
        .ok();
    assert_eq!(
        (s(&dp2, "reason"), s(&dp2, "status")),
        ("product_not_received".into(), "needs_response".into())
    );
    let closed = sb
        .post(&format!("/v1/disputes/{}/close", s(&dp2, "id")), &[])
        .await
        .ok();
    assert_eq!(s(&closed, "status"), "lost");
    // Triggered via a PaymentIntent id; lost through the control API.
    let pi3 = sb.pay("pm_card_visa", &[]).await.ok();
    let dp3 = sb
        .control(&format!("/charges/{}/dispute", s(&pi3, "id")), empty())
        .await
        .ok();
    let lost = sb
        .control(&format!("/disputes/{}/lose", s(&dp3, "id")), empty())
        .await
        .ok();
    assert_eq!(s(&lost, "status"), "lost");
    assert_eq!(sb.events("charge.dispute.funds_reinstated").await.len(), 1);
    // Stripe's magic evidence decides the dispute shortly after submission.
    let pi4 = sb.pay("pm_card_visa", &[]).await.ok();
    let dp4 = sb
        .control(&format!("/charges/{}/dispute", s(&pi4, "id")), empty())
        .await
        .ok();
    sb.post(
        &format!("/v1/disputes/{}", s(&dp4, "id")),
        &[("evidence[uncategorized_text]", "winning_evidence")],
    )
    .await
    .ok();
    sb.control("/clock/advance", json!({"seconds": 120}))
        .await
        .ok();
    assert_eq!(
        s(
            &sb.get(&format!("/v1/disputes/{}", s(&dp4, "id")))
                .await
                .ok(),
            "status"
        ),
        "won"
    );
}

#[tokio::test]
async fn an_unanswered_dispute_is_lost_when_its_deadline_passes() {
    let sb = Sb::start().await;
    let pi = sb.pay("pm_card_createDispute", &[]).await.ok();
    let dp = sb
        .get_q("/v1/disputes", &[("payment_intent", &s(&pi, "id"))])
        .await
        .ok()["data"][0]
        .clone();
    let due = j(&dp, "evidence_details.due_by").as_i64().unwrap();
    let now = sb.control_get("/clock").await["now"].as_i64().unwrap();
    sb.control("/clock/advance", json!({"seconds": due - now - 3600}))
        .await
        .ok();
    assert_eq!(
        s(
            &sb.get(&format!("/v1/disputes/{}", s(&dp, "id"))).await.ok(),
            "status"
        ),
        "needs_response"
    );
    let clock = sb
        .control("/clock/advance", json!({"seconds": 7200}))
        .await
        .ok();
    assert!(clock["now"].as_i64().unwrap() > due);
    let after = sb.get(&format!("/v1/disputes/{}", s(&dp, "id"))).await.ok();
    assert_eq!(s(&after, "status"), "lost");
    assert_eq!(j(&after, "evidence_details.past_due"), json!(true));
    let closed = sb.events("charge.dispute.closed").await;
    assert_eq!(closed.len(), 1);
    assert!(
        closed[0]["request"]["id"].is_null(),
        "not caused by an API request"
    );
}

#[tokio::test]
async fn payouts_are_created_and_settled_through_the_control_api() {
    let sb = Sb::start().await;
    sb.pay("pm_card_visa", &[]).await.ok();
    let po = sb.control("/payouts", empty()).await.ok();
    assert_eq!(
        (s(&po, "object"), s(&po, "status"), j(&po, "amount")),
        ("payout".into(), "pending".into(), json!(2000))
    );
    let paid = sb
        .control(&format!("/payouts/{}/paid", s(&po, "id")), empty())
        .await
        .ok();
    assert_eq!(s(&paid, "status"), "paid");
    let po2 = sb
        .control("/payouts", json!({"amount": 700, "currency": "usd"}))
        .await
        .ok();
    let failed = sb
        .control(
            &format!("/payouts/{}/failed", s(&po2, "id")),
            json!({"failure_code": "no_account"}),
        )
        .await
        .ok();
    assert_eq!(
        (s(&failed, "status"), s(&failed, "failure_code")),
        ("failed".into(), "no_account".into())
    );
    assert_eq!(
        sb.control(&format!("/payouts/{}/paid", s(&po2, "id")), empty())
            .await
            .status,
        400
    );
    let listed = sb.get("/v1/payouts").await.ok();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        s(
            &sb.get(&format!("/v1/payouts/{}", s(&po, "id"))).await.ok(),
            "status"
        ),
        "paid"
    );
    for t in [
        "payout.created",
        "payout.paid",
        "payout.failed",
        "payout.updated",
    ] {
        assert!(!sb.events(t).await.is_empty(), "{t}");
    }
    let efw = sb
        .control(
            &format!(
                "/charges/{}/early_fraud_warning",
                s(&sb.pay("pm_card_visa", &[]).await.ok(), "latest_charge")
            ),
            empty(),
        )
        .await
        .ok();
    assert_eq!(s(&efw, "object"), "radar.early_fraud_warning");
}

#[tokio::test]
async fn events_carry_snapshots_and_request_context() {
    let sb = Sb::start().await;
    let r = sb
        .post_idem(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
            "order-42-attempt-1",
        )
        .await;
    let request_id = r.header("request-id").unwrap().to_owned();
    let pi = r.ok();
    let all = sb.get_q("/v1/events", &[("limit", "100")]).await.ok();
    let types: Vec<String> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(e, "type"))
        .collect();
    assert_eq!(
        types,
        vec![
            "payment_intent.succeeded",
            "charge.succeeded",
            "payment_intent.created"
        ]
    );
    let created = &all["data"][2];
    assert_eq!(s(created, "object"), "event");
    assert_eq!(s(created, "api_version"), "2024-06-20");
    assert_eq!(j(created, "livemode"), json!(false));
    assert_eq!(s(created, "request.id"), request_id);
    assert_eq!(s(created, "request.idempotency_key"), "order-42-attempt-1");
    // Snapshots: the object as it was at that moment.
    assert_eq!(s(created, "data.object.status"), "requires_confirmation");
    assert_eq!(s(&all["data"][0], "data.object.status"), "succeeded");
    assert_eq!(s(&all["data"][0], "data.object.id"), s(&pi, "id"));
    let one = sb
        .get(&format!("/v1/events/{}", s(created, "id")))
        .await
        .ok();
    assert_eq!(one, *created);
    let filtered = sb
        .get_q("/v1/events", &[("types[]", "charge.*")])
        .await
        .ok();
    assert_eq!(filtered["data"].as_array().unwrap().len(), 1);
    assert_eq!(sb.get("/v1/events/evt_nope").await.status, 404);
}

#[tokio::test]
async fn setup_intent_with_a_declining_card_fails() {
    let sb = Sb::start().await;
    let cus = sb.customer().await;
    let r = sb
        .post(
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", "pm_card_chargeDeclined"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(r.status, 402);
    assert_eq!(s(r.err(), "code"), "card_declined");
    assert_eq!(s(r.err(), "setup_intent.status"), "requires_payment_method");
    assert_eq!(
        s(r.err(), "setup_intent.last_setup_error.decline_code"),
        "generic_decline"
    );
    assert_eq!(sb.events("setup_intent.setup_failed").await.len(), 1);
    // Publishable-key confirmation of a SetupIntent (confirmCardSetup).
    let si = sb
        .post(
            "/v1/setup_intents",
            &[("customer", &cus), ("payment_method_types[]", "card")],
        )
        .await
        .ok();
    let pm = sb.card_id("4242424242424242").await;
    let done = sb
        .post_pk(
            &format!("/v1/setup_intents/{}/confirm", s(&si, "id")),
            &[
                ("client_secret", &s(&si, "client_secret")),
                ("payment_method", &pm),
            ],
        )
        .await
        .ok();
    assert_eq!(s(&done, "status"), "succeeded");
    let got = sb
        .get_pk(
            &format!("/v1/setup_intents/{}", s(&si, "id")),
            &[("client_secret", &s(&si, "client_secret"))],
        )
        .await
        .ok();
    assert_eq!(s(&got, "payment_method"), pm);
    let failed_3ds = sb
        .post(
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", "pm_card_authenticationRequired"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
        )
        .await
        .ok();
    let out = sb.three_ds(&failed_3ds, "fail").await;
    assert_eq!(s(&out, "setup_intent.status"), "requires_payment_method");
    assert_eq!(
        s(&out, "setup_intent.last_setup_error.code"),
        "setup_intent_authentication_failure"
    );
}

#[tokio::test]
async fn reset_forgets_all_state() {
    let sb = Sb::start().await;
    sb.pay("pm_card_visa", &[]).await.ok();
    sb.customer().await;
    assert_eq!(sb.control("/reset", empty()).await.status, 200);
    assert_eq!(sb.count("/v1/payment_intents").await, 0);
    assert_eq!(sb.count("/v1/customers").await, 0);
    assert_eq!(sb.count("/v1/events").await, 0);
}

#[tokio::test]
async fn the_router_can_be_embedded_without_a_socket() {
    use tower::ServiceExt;
    let sandbox = stripe_sandbox::Sandbox::new(stripe_sandbox::SandboxConfig::default()).unwrap();
    let router = sandbox.router();
    let req = axum::http::Request::post("/v1/payment_intents")
        .header("authorization", format!("Bearer {SK}"))
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
    assert_eq!(s(&pi, "status"), "requires_action");
    assert!(
        s(&pi, "next_action.use_stripe_sdk.stripe_js").starts_with("http://sandbox.local/3ds/pi_")
    );
    let resp = router
        .oneshot(
            axum::http::Request::get("/v1/nope")
                .header("authorization", format!("Bearer {SK}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    sandbox.shutdown().await;
}
