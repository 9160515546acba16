//! Stripe's test cards and `pm_card_*` ids: what each one does at confirmation and after.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn successful_test_cards_via_publishable_key() {
    let sb = TestSandbox::start().await;
    for (number, cvc, brand, last4) in [
        ("4242 4242 4242 4242", "123", "visa", "4242"),
        ("5555555555554444", "321", "mastercard", "4444"),
        ("3782 822463 10005", "1234", "amex", "0005"),
    ] {
        let pm = sb.create_card(number, cvc).await.expect_ok();
        assert_eq!(str_at(&pm, "object"), "payment_method");
        assert_eq!(str_at(&pm, "card.brand"), brand);
        assert_eq!(str_at(&pm, "card.last4"), last4);
        assert_eq!(value_at(&pm, "livemode"), json!(false));
        let pi = sb.pay_20_usd(&str_at(&pm, "id"), &[]).await.expect_ok();
        assert_eq!(str_at(&pi, "status"), "succeeded", "{number}");
        assert_eq!(value_at(&pi, "amount_received"), json!(2000));
        assert!(
            pi["charges"].is_null(),
            "API 2024-06-20 has no charges list"
        );
        let ch = sb.retrieve("charges", &str_at(&pi, "latest_charge")).await;
        assert_eq!(str_at(&ch, "status"), "succeeded");
        assert_eq!(value_at(&ch, "paid"), json!(true));
        assert_eq!(value_at(&ch, "captured"), json!(true));
        assert_eq!(value_at(&ch, "amount_captured"), json!(2000));
        assert_eq!(str_at(&ch, "payment_intent"), str_at(&pi, "id"));
        assert_eq!(str_at(&ch, "payment_method_details.card.brand"), brand);
    }
}

#[tokio::test]
async fn declining_test_cards_fail_at_confirmation_with_402() {
    let sb = TestSandbox::start().await;
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
        let pm = sb.card_payment_method(number).await;
        let r = sb.pay_20_usd(&pm, &[]).await;
        assert_eq!(r.status, 402, "{number}: {}", r.json);
        let e = r.error();
        assert_eq!(str_at(e, "type"), "card_error", "{number}");
        assert_eq!(str_at(e, "code"), code, "{number}");
        assert_eq!(e["decline_code"].as_str(), decline, "{number}");
        assert_eq!(e["param"].as_str(), param, "{number}");
        assert!(!str_at(e, "message").is_empty());
        assert_eq!(
            str_at(e, "payment_intent.status"),
            "requires_payment_method"
        );
        assert_eq!(str_at(e, "payment_intent.last_payment_error.code"), code);
        assert_eq!(str_at(e, "payment_method.id"), pm);
        // A failed charge exists.
        let ch = sb.retrieve("charges", &str_at(e, "charge")).await;
        assert_eq!(str_at(&ch, "status"), "failed");
        assert_eq!(value_at(&ch, "paid"), json!(false));
        assert_eq!(str_at(&ch, "failure_code"), code);
        // The intent is back to requires_payment_method.
        let pi = sb
            .retrieve("payment_intents", &str_at(e, "payment_intent.id"))
            .await;
        assert_eq!(str_at(&pi, "status"), "requires_payment_method");
        assert!(pi["payment_method"].is_null());
        assert_eq!(str_at(&pi, "latest_charge"), str_at(e, "charge"));
        assert_eq!(str_at(&pi, "last_payment_error.type"), "card_error");
    }
    assert_eq!(sb.events_of_type("charge.failed").await.len(), cases.len());
    assert_eq!(
        sb.events_of_type("payment_intent.payment_failed")
            .await
            .len(),
        cases.len()
    );
}

#[tokio::test]
async fn pm_card_test_payment_methods_server_side() {
    let sb = TestSandbox::start().await;
    let ok = [
        "pm_card_visa",
        "pm_card_mastercard",
        "pm_card_amex",
        "pm_card_createDispute",
    ];
    for id in ok {
        let pi = sb.pay_20_usd(id, &[]).await.expect_ok();
        assert_eq!(str_at(&pi, "status"), "succeeded", "{id}");
        let pm = str_at(&pi, "payment_method");
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
        let r = sb.pay_20_usd(id, &[]).await;
        assert_eq!(r.status, 402, "{id}");
        assert_eq!(
            (str_at(r.error(), "code"), str_at(r.error(), "decline_code")),
            (code.into(), decline.into()),
            "{id}"
        );
    }
    for id in [
        "pm_card_authenticationRequired",
        "pm_card_authenticationRequiredOnSetup",
    ] {
        let pi = sb.pay_20_usd(id, &[]).await.expect_ok();
        assert_eq!(str_at(&pi, "status"), "requires_action", "{id}");
    }
    let brand = sb.get("/v1/payment_methods/pm_card_amex").await.expect_ok();
    assert_eq!(str_at(&brand, "card.brand"), "amex");
    let r = sb.pay_20_usd("pm_card_doesNotExist", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(str_at(r.error(), "code"), "resource_missing");
    assert_eq!(str_at(r.error(), "param"), "payment_method");
}

#[tokio::test]
async fn card_0341_attaches_but_every_charge_is_declined() {
    let sb = TestSandbox::start().await;
    let cus = sb.create_customer().await;
    let pm = sb.card_payment_method("4000000000000341").await;
    let attached = sb.attach(&pm, &cus).await.expect_ok();
    assert_eq!(str_at(&attached, "customer"), cus);
    assert_eq!(sb.events_of_type("payment_method.attached").await.len(), 1);
    for _ in 0..2 {
        let r = sb.pay_20_usd(&pm, &[("customer", &cus)]).await;
        assert_eq!(r.status, 402);
        assert_eq!(str_at(r.error(), "decline_code"), "generic_decline");
    }
    // A plain declining card does not even attach.
    let bad = sb.card_payment_method("4000000000000002").await;
    let r = sb.attach(&bad, &cus).await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "code"), "card_declined");
}

#[tokio::test]
async fn card_0259_succeeds_then_a_dispute_is_opened() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4000000000000259").await;
    let pi = sb.pay_20_usd(&pm, &[]).await.expect_ok();
    assert_eq!(str_at(&pi, "status"), "succeeded");
    let ch = str_at(&pi, "latest_charge");
    let disputes = sb
        .get_query("/v1/disputes", &[("charge", &ch)])
        .await
        .expect_ok();
    let dp = &disputes["data"][0];
    assert_eq!(str_at(dp, "reason"), "fraudulent");
    assert_eq!(str_at(dp, "status"), "needs_response");
    assert_eq!(str_at(dp, "payment_intent"), str_at(&pi, "id"));
    assert_eq!(value_at(dp, "amount"), json!(2000));
    assert!(
        value_at(dp, "evidence_details.due_by").as_i64().unwrap()
            > value_at(dp, "created").as_i64().unwrap()
    );
    assert_eq!(
        value_at(&sb.retrieve("charges", &ch).await, "disputed"),
        json!(true)
    );
    let created = sb.events_of_type("charge.dispute.created").await;
    assert_eq!(str_at(&created[0], "data.object.id"), str_at(dp, "id"));
    assert_eq!(
        sb.events_of_type("charge.dispute.funds_withdrawn")
            .await
            .len(),
        1
    );
    // A disputed charge cannot be refunded.
    let r = sb.post("/v1/refunds", &[("charge", &ch)]).await;
    assert_eq!(r.status_and_error("code"), (400, "charge_disputed".into()));
}

#[tokio::test]
async fn card_5423_succeeds_then_an_early_fraud_warning_is_raised() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4000000000005423").await;
    let pi = sb.pay_20_usd(&pm, &[]).await.expect_ok();
    assert_eq!(str_at(&pi, "status"), "succeeded");
    let ev = sb.events_of_type("radar.early_fraud_warning.created").await;
    assert_eq!(ev.len(), 1);
    let efw = &ev[0]["data"]["object"];
    assert_eq!(str_at(efw, "object"), "radar.early_fraud_warning");
    assert_eq!(str_at(efw, "charge"), str_at(&pi, "latest_charge"));
    let got = sb
        .retrieve("radar/early_fraud_warnings", &str_at(efw, "id"))
        .await;
    assert_eq!(value_at(&got, "actionable"), json!(true));
}
