//! PaymentMethods: card checks at creation, raw numbers vs test tokens, single use without a Customer.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn card_details_are_checked_when_the_payment_method_is_created() {
    let sb = TestSandbox::start().await;
    let r = sb.create_card("4242424242424241", "123").await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "type"), "card_error");
    assert_eq!(str_at(r.error(), "code"), "incorrect_number");
    assert_eq!(str_at(r.error(), "param"), "card[number]");

    let (year, month) = stripe_sandbox::util::year_month(stripe_sandbox::util::real_now());
    let create = |m: String, y: String, cvc: &'static str, number: &'static str| {
        let sb = &sb;
        async move {
            sb.post_publishable(
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
        r.status_and_error("code"),
        (402, "invalid_expiry_year".into())
    );
    assert_eq!(str_at(r.error(), "param"), "card[exp_year]");
    let r = create("13".into(), "2040".into(), "123", "4242424242424242").await;
    assert_eq!(str_at(r.error(), "code"), "invalid_expiry_month");
    if month > 1 {
        let r = create(
            (month - 1).to_string(),
            year.to_string(),
            "123",
            "4242424242424242",
        )
        .await;
        assert_eq!(str_at(r.error(), "code"), "invalid_expiry_month");
    }
    // This month is still valid; two-digit years are accepted.
    create(
        month.to_string(),
        year.to_string(),
        "123",
        "4242424242424242",
    )
    .await
    .expect_ok();
    let pm = create("12".into(), "40".into(), "123", "4242424242424242")
        .await
        .expect_ok();
    assert_eq!(value_at(&pm, "card.exp_year"), json!(2040));
    // CVC length per brand.
    let r = create("12".into(), "2040".into(), "123", "378282246310005").await;
    assert_eq!(
        (str_at(r.error(), "code"), str_at(r.error(), "param")),
        ("invalid_cvc".into(), "card[cvc]".into())
    );
    let r = create("12".into(), "2040".into(), "1234", "4242424242424242").await;
    assert_eq!(str_at(r.error(), "code"), "invalid_cvc");
    create("12".into(), "2040".into(), "1234", "378282246310005")
        .await
        .expect_ok();
    // Missing fields are parameter errors (400).
    let r = sb
        .post_publishable(
            "/v1/payment_methods",
            &[("type", "card"), ("card[number]", "4242424242424242")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(str_at(r.error(), "code"), "parameter_missing");
    assert_eq!(str_at(r.error(), "param"), "card[exp_month]");
}

#[tokio::test]
async fn raw_card_numbers_are_refused_on_secret_key_requests() {
    let sb = TestSandbox::start().await;
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
    assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
    assert!(
        str_at(r.error(), "message").contains("test tokens"),
        "{}",
        r.json
    );
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
    assert!(str_at(r.error(), "message").contains("unsafe"));
    assert_eq!(sb.list_len("/v1/payment_intents").await, 0);
    // Test tokens are fine server-side.
    let pm = sb
        .post(
            "/v1/payment_methods",
            &[("type", "card"), ("card[token]", "tok_mastercard")],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&pm, "card.brand"), "mastercard");
    let pi = sb
        .create_payment_intent(
            "1000",
            &[
                ("confirm", "true"),
                ("payment_method_data[type]", "card"),
                ("payment_method_data[card][token]", "tok_visa"),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&pi, "status"), "succeeded");
}

#[tokio::test]
async fn a_payment_method_used_without_a_customer_cannot_be_reused() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4242424242424242").await;
    sb.pay_20_usd(&pm, &[]).await.expect_ok();
    let r = sb.pay_20_usd(&pm, &[]).await;
    assert_eq!(r.status_and_error("param"), (400, "payment_method".into()));
    assert!(str_at(r.error(), "message").contains("may not be used again"));
    // Attached to a customer it can be used again and again, but only with that customer.
    let cus = sb.create_customer().await;
    let saved = sb.card_payment_method("4242424242424242").await;
    sb.attach(&saved, &cus).await.expect_ok();
    sb.pay_20_usd(&saved, &[("customer", &cus)])
        .await
        .expect_ok();
    sb.pay_20_usd(&saved, &[("customer", &cus)])
        .await
        .expect_ok();
    let r = sb.pay_20_usd(&saved, &[]).await;
    assert_eq!(r.status_and_error("param"), (400, "payment_method".into()));
}
