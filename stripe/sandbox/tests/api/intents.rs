//! PaymentIntents and SetupIntents: capture, update and cancel rules, 3-D Secure, test cards.

use serde_json::json;

use crate::common::*;

const UNEXPECTED_STATE: &str = "payment_intent_unexpected_state";

#[tokio::test]
async fn manual_capture_flow() {
    let sb = TestSandbox::start().await;
    let manual = [("capture_method", "manual")];
    let pi = sb.pay_ok("pm_card_visa", &manual).await;
    assert_eq!(str_at(&pi, "status"), "requires_capture");
    assert_eq!(value_at(&pi, "amount_capturable"), json!(2000));
    assert_eq!(value_at(&pi, "amount_received"), json!(0));
    let capturable = sb.event_count("payment_intent.amount_capturable_updated");
    assert_eq!(capturable.await, 1);
    assert_eq!(sb.event_count("payment_intent.succeeded").await, 0);
    let id = str_at(&pi, "id");
    let capture = format!("/v1/payment_intents/{id}/capture");
    let r = sb.post(&capture, &[("amount_to_capture", "2500")]).await;
    assert_eq!(
        r.status_and_error("param"),
        (400, "amount_to_capture".into())
    );
    let pi = sb.post_ok(&capture, &[("amount_to_capture", "1500")]).await;
    let received = value_at(&pi, "amount_received");
    assert_eq!(
        (str_at(&pi, "status"), received),
        ("succeeded".into(), json!(1500))
    );
    let ch = sb.retrieve("charges", &str_at(&pi, "latest_charge")).await;
    let captured = value_at(&ch, "amount_captured");
    assert_eq!(
        (value_at(&ch, "captured"), captured),
        (json!(true), json!(1500))
    );
    assert_eq!(sb.event_count("charge.captured").await, 1);
    // Refunds are limited to what was captured.
    let over = [("payment_intent", id.as_str()), ("amount", "1501")];
    let r = sb.post("/v1/refunds", &over).await;
    assert_eq!(r.status_and_error("param"), (400, "amount".into()));
    let r = sb.post(&capture, &[]).await;
    assert_eq!(r.status_and_error("code"), (400, UNEXPECTED_STATE.into()));
    // Cancelling an authorization releases it.
    let pi2 = sb.pay_ok("pm_card_visa", &manual).await;
    let cancel = format!("/v1/payment_intents/{}/cancel", str_at(&pi2, "id"));
    let canceled = sb
        .post_ok(&cancel, &[("cancellation_reason", "abandoned")])
        .await;
    let reason = str_at(&canceled, "cancellation_reason");
    let expected = ("canceled".into(), "abandoned".into());
    assert_eq!((str_at(&canceled, "status"), reason), expected);
    let ch2 = sb.retrieve("charges", &str_at(&pi2, "latest_charge")).await;
    assert_eq!(value_at(&ch2, "refunded"), json!(true));
}

#[tokio::test]
async fn update_and_cancel_follow_the_status_rules() {
    let sb = TestSandbox::start().await;
    let pi = sb.intent_ok("2000", &[("metadata[order_id]", "42")]).await;
    let id = str_at(&pi, "id");
    assert_eq!(str_at(&pi, "metadata.order_id"), "42");
    assert!(pi["automatic_payment_methods"].is_null());
    let path = format!("/v1/payment_intents/{id}");
    let update = [
        ("amount", "2600"),
        ("metadata[order_id]", ""),
        ("metadata[cart]", "c1"),
        ("description", "Order 42"),
        ("payment_method", "pm_card_visa"),
    ];
    let up = sb.post_ok(&path, &update).await;
    assert_eq!(value_at(&up, "amount"), json!(2600));
    assert_eq!(value_at(&up, "metadata"), json!({"cart": "c1"}));
    assert_eq!(str_at(&up, "description"), "Order 42");
    assert_eq!(str_at(&up, "status"), "requires_confirmation");
    let done = sb.post_ok(&format!("{path}/confirm"), &[]).await;
    let received = value_at(&done, "amount_received");
    assert_eq!(
        (str_at(&done, "status"), received),
        ("succeeded".into(), json!(2600))
    );
    let r = sb.post(&path, &[("amount", "100")]).await;
    assert_eq!(r.status_and_error("code"), (400, UNEXPECTED_STATE.into()));
    // Metadata stays editable.
    let shipped = sb.post_ok(&path, &[("metadata[shipped]", "yes")]).await;
    assert_eq!(str_at(&shipped, "metadata.shipped"), "yes");
    let r = sb.post(&format!("{path}/cancel"), &[]).await;
    assert_eq!(r.status_and_error("code"), (400, UNEXPECTED_STATE.into()));
    let r = sb.post(&format!("{path}/confirm"), &[]).await;
    assert_eq!(r.status, 400);
    // Cancel an open one.
    let eur = [("amount", "2000"), ("currency", "eur")];
    let other = sb.post_ok("/v1/payment_intents", &eur).await;
    let cancel = format!("/v1/payment_intents/{}/cancel", str_at(&other, "id"));
    let c = sb.post_ok(&cancel, &[("cancellation_reason", "requested_by_customer")]);
    let c = c.await;
    assert_eq!(str_at(&c, "status"), "canceled");
    assert!(c["canceled_at"].is_i64());
    assert_eq!(sb.event_count("payment_intent.canceled").await, 1);
    // A confirmation without a payment method is refused.
    let bare = sb.intent_ok("2000", &[]).await;
    let confirm = format!("/v1/payment_intents/{}/confirm", str_at(&bare, "id"));
    let r = sb.post(&confirm, &[]).await;
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
    let return_url = automatic(&[("return_url", "https://shop.example/return")]);
    let ok = sb.post_ok("/v1/payment_intents", &return_url).await;
    assert_eq!(
        value_at(&ok, "automatic_payment_methods.enabled"),
        json!(true)
    );
    assert_eq!(str_at(&ok, "status"), "succeeded");
    let never = automatic(&[
        ("automatic_payment_methods[enabled]", "true"),
        ("automatic_payment_methods[allow_redirects]", "never"),
    ]);
    let never = sb.post_ok("/v1/payment_intents", &never).await;
    assert_eq!(str_at(&never, "status"), "succeeded");
}

#[tokio::test]
async fn setup_intent_with_a_declining_card_fails() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let r = sb
        .confirm_setup_intent(&cus, "pm_card_chargeDeclined")
        .await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "code"), "card_declined");
    let status = str_at(r.error(), "setup_intent.status");
    assert_eq!(status, "requires_payment_method");
    let decline = str_at(r.error(), "setup_intent.last_setup_error.decline_code");
    assert_eq!(decline, "generic_decline");
    assert_eq!(sb.event_count("setup_intent.setup_failed").await, 1);
    // Publishable-key confirmation of a SetupIntent (confirmCardSetup).
    let form = [
        ("customer", cus.as_str()),
        ("payment_method_types[]", "card"),
    ];
    let si = sb.post_ok("/v1/setup_intents", &form).await;
    let pm = sb.card_payment_method("4242424242424242").await;
    let path = format!("/v1/setup_intents/{}", str_at(&si, "id"));
    let secret = str_at(&si, "client_secret");
    let confirm = [("client_secret", secret.as_str()), ("payment_method", &pm)];
    let done = sb
        .post_publishable(&format!("{path}/confirm"), &confirm)
        .await;
    assert_eq!(str_at(&done.expect_ok(), "status"), "succeeded");
    let got = sb
        .get_publishable(&path, &[("client_secret", &secret)])
        .await;
    assert_eq!(str_at(&got.expect_ok(), "payment_method"), pm);
    let failed_3ds = sb.confirm_setup_intent(&cus, "pm_card_authenticationRequired");
    let out = sb.submit_3ds(&failed_3ds.await.expect_ok(), "fail").await;
    let status = str_at(&out, "setup_intent.status");
    assert_eq!(status, "requires_payment_method");
    let code = str_at(&out, "setup_intent.last_setup_error.code");
    assert_eq!(code, "setup_intent_authentication_failure");
}

#[tokio::test]
async fn three_d_secure_challenge_complete_and_fail() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4000002760003184").await;
    let pi = sb.pay_ok(&pm, &[]).await;
    assert_eq!(str_at(&pi, "status"), "requires_action");
    assert_eq!(str_at(&pi, "next_action.type"), "use_stripe_sdk");
    let url = str_at(&pi, "next_action.use_stripe_sdk.stripe_js");
    let id = str_at(&pi, "id");
    assert!(url.contains(&format!("/3ds/{id}?client_secret=")), "{url}");
    assert_eq!(sb.event_count("payment_intent.requires_action").await, 1);

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
    let bad = format!("{}/3ds/{id}?client_secret=nope", sb.base);
    let bad = sb.http.get(bad).send().await.unwrap();
    assert_eq!(bad.status(), 400);

    let done = sb.submit_3ds(&pi, "complete").await;
    assert_eq!(str_at(&done, "outcome"), "complete");
    assert_eq!(str_at(&done, "payment_intent.status"), "succeeded");
    let expanded = format!("/v1/payment_intents/{id}?expand[]=latest_charge");
    let pi = sb.get_ok(&expanded).await;
    assert_eq!(str_at(&pi, "status"), "succeeded");
    let card = "latest_charge.payment_method_details.card";
    let result = str_at(&pi, &format!("{card}.three_d_secure.result"));
    assert_eq!(result, "authenticated");

    // Failing authentication.
    let pi2 = sb.pay_ok("pm_card_authenticationRequired", &[]).await;
    let failed = sb.submit_3ds(&pi2, "fail").await;
    assert_eq!(str_at(&failed, "outcome"), "fail");
    let pi2 = sb.retrieve("payment_intents", &str_at(&pi2, "id")).await;
    assert_eq!(str_at(&pi2, "status"), "requires_payment_method");
    let code = str_at(&pi2, "last_payment_error.code");
    assert_eq!(code, "payment_intent_authentication_failure");
    assert!(pi2["payment_method"].is_null() && pi2["latest_charge"].is_null());

    // The HTML variant (form post without JS) answers a page that notifies the parent.
    let pi3 = sb.pay_ok("pm_card_authenticationRequired", &[]).await;
    let secret = [("client_secret", str_at(&pi3, "client_secret"))];
    let challenge = format!("{}/3ds/{}", sb.base, str_at(&pi3, "id"));
    let r = sb.http.post(format!("{challenge}/complete")).form(&secret);
    let html = r.send().await.unwrap().text().await.unwrap();
    assert!(html.contains("stripe-sandbox-3ds") && html.contains("\"complete\""));
    // Authentication is over: a second attempt is refused.
    let r = sb.http.post(format!("{challenge}/fail")).form(&secret);
    assert_eq!(r.send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn card_3178_requires_authentication_then_declines() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4000008260003178").await;
    let pi = sb.pay_ok(&pm, &[]).await;
    assert_eq!(str_at(&pi, "status"), "requires_action");
    let done = sb.submit_3ds(&pi, "complete").await;
    let status = str_at(&done, "payment_intent.status");
    assert_eq!(status, "requires_payment_method");
    let decline = str_at(&done, "payment_intent.last_payment_error.decline_code");
    assert_eq!(decline, "insufficient_funds");
    let charge = str_at(&done, "payment_intent.latest_charge");
    let ch = sb.retrieve("charges", &charge).await;
    assert_eq!(str_at(&ch, "status"), "failed");
}

#[tokio::test]
async fn card_3155_needs_no_authentication_off_session_once_set_up() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let pm = sb.card_payment_method("4000002500003155").await;
    let si = sb.confirm_setup_intent(&cus, &pm).await.expect_ok();
    assert_eq!(str_at(&si, "status"), "requires_action");
    assert!(str_at(&si, "client_secret").starts_with(&format!("{}_secret_", str_at(&si, "id"))));
    let done = sb.submit_3ds(&si, "complete").await;
    assert_eq!(str_at(&done, "setup_intent.status"), "succeeded");
    let saved = sb.customer_cards(&cus).await.expect_ok();
    assert_eq!(str_at(&saved, "data.0.id"), pm);
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
        assert_eq!(sb.event_count(t).await, 1, "{t}");
    }

    let off = [("customer", cus.as_str()), ("off_session", "true")];
    let pi = sb.pay_ok(&pm, &off).await;
    assert_eq!(str_at(&pi, "status"), "succeeded");
    // On-session it still asks for authentication.
    let pi = sb.pay_ok(&pm, &[("customer", &cus)]).await;
    assert_eq!(str_at(&pi, "status"), "requires_action");

    // The same card attached without being set up: off-session needs authentication.
    let pm2 = sb.card_payment_method("4000002500003155").await;
    sb.attach(&pm2, &cus).await.expect_ok();
    let r = sb.pay_20_usd(&pm2, &off).await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "code"), "authentication_required");
    assert_eq!(str_at(r.error(), "decline_code"), "authentication_required");
    let status = str_at(r.error(), "payment_intent.status");
    assert_eq!(status, "requires_payment_method");
    assert!(r.error()["charge"].is_string());
}

#[tokio::test]
async fn card_3155_saved_with_setup_future_usage_pays_off_session() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let save = [
        ("customer", cus.as_str()),
        ("setup_future_usage", "off_session"),
    ];
    let pi = sb
        .pay_ok("pm_card_authenticationRequiredOnSetup", &save)
        .await;
    assert_eq!(str_at(&pi, "status"), "requires_action");
    let done = sb.submit_3ds(&pi, "complete").await;
    assert_eq!(str_at(&done, "payment_intent.status"), "succeeded");
    let pm = str_at(&done, "payment_intent.payment_method");
    let query = [("customer", cus.as_str()), ("type", "card")];
    let listed = sb.get_query_ok("/v1/payment_methods", &query).await;
    assert_eq!(str_at(&listed, "data.0.id"), pm);
    assert_eq!(str_at(&listed, "data.0.customer"), cus);
    let off = [("customer", cus.as_str()), ("off_session", "true")];
    let again = sb.pay_ok(&pm, &off).await;
    assert_eq!(str_at(&again, "status"), "succeeded");
}

#[tokio::test]
async fn card_3184_always_requires_authentication() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let si = sb.confirm_setup_intent(&cus, "pm_card_authenticationRequired");
    let done = sb.submit_3ds(&si.await.expect_ok(), "complete").await;
    let pm = str_at(&done, "setup_intent.payment_method");
    let off = [("customer", cus.as_str()), ("off_session", "true")];
    let r = sb.pay_20_usd(&pm, &off).await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "code"), "authentication_required");
}

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
        let pi = sb.pay_ok(&str_at(&pm, "id"), &[]).await;
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
    let declined = |number, decline| (number, "card_declined", Some(decline), None);
    let cases = [
        declined("4000000000000002", "generic_decline"),
        declined("4000000000009995", "insufficient_funds"),
        declined("4000000000009987", "lost_card"),
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
        declined("4000000000000341", "generic_decline"),
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
        let status = str_at(e, "payment_intent.status");
        assert_eq!(status, "requires_payment_method");
        assert_eq!(str_at(e, "payment_intent.last_payment_error.code"), code);
        assert_eq!(str_at(e, "payment_method.id"), pm);
        // A failed charge exists.
        let ch = sb.retrieve("charges", &str_at(e, "charge")).await;
        assert_eq!(str_at(&ch, "status"), "failed");
        assert_eq!(value_at(&ch, "paid"), json!(false));
        assert_eq!(str_at(&ch, "failure_code"), code);
        // The intent is back to requires_payment_method.
        let pi_id = str_at(e, "payment_intent.id");
        let pi = sb.retrieve("payment_intents", &pi_id).await;
        assert_eq!(str_at(&pi, "status"), "requires_payment_method");
        assert!(pi["payment_method"].is_null());
        assert_eq!(str_at(&pi, "latest_charge"), str_at(e, "charge"));
        assert_eq!(str_at(&pi, "last_payment_error.type"), "card_error");
    }
    assert_eq!(sb.event_count("charge.failed").await, cases.len());
    let failed = sb.event_count("payment_intent.payment_failed").await;
    assert_eq!(failed, cases.len());
}

#[tokio::test]
async fn pm_card_test_payment_methods_server_side() {
    let sb = TestSandbox::start().await;
    let ok = [
        "pm_card_visa",
        "pm_card_mastercard",
        "pm_card_amex",
        "pm_card_createDispute",
        "pm_card_createDisputeProductNotReceived",
        "pm_card_createDisputeInquiry",
        "pm_card_createIssuerFraudRecord",
        "pm_card_createEarlyFraudWarning",
        "pm_card_refundFail",
    ];
    for id in ok {
        let pi = sb.pay_ok(id, &[]).await;
        assert_eq!(str_at(&pi, "status"), "succeeded", "{id}");
        let pm = str_at(&pi, "payment_method");
        let fresh = pm.starts_with("pm_") && pm != id;
        assert!(fresh, "a fresh PaymentMethod is created for {id}");
    }
    let declined = |id, decline| (id, "card_declined", decline);
    let declines = [
        declined("pm_card_chargeDeclined", "generic_decline"),
        declined(
            "pm_card_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
        ),
        declined("pm_card_chargeDeclinedLostCard", "lost_card"),
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
        declined("pm_card_chargeCustomerFail", "generic_decline"),
    ];
    for (id, code, decline) in declines {
        let r = sb.pay_20_usd(id, &[]).await;
        assert_eq!(r.status, 402, "{id}");
        let got = (str_at(r.error(), "code"), str_at(r.error(), "decline_code"));
        assert_eq!(got, (code.into(), decline.into()), "{id}");
    }
    for id in [
        "pm_card_authenticationRequired",
        "pm_card_authenticationRequiredOnSetup",
    ] {
        let pi = sb.pay_ok(id, &[]).await;
        assert_eq!(str_at(&pi, "status"), "requires_action", "{id}");
    }
    let brand = sb.get_ok("/v1/payment_methods/pm_card_amex").await;
    assert_eq!(str_at(&brand, "card.brand"), "amex");
    let r = sb.pay_20_usd("pm_card_doesNotExist", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(str_at(r.error(), "code"), "resource_missing");
    assert_eq!(str_at(r.error(), "param"), "payment_method");
}

#[tokio::test]
async fn card_0341_attaches_but_every_charge_is_declined() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let pm = sb.card_payment_method("4000000000000341").await;
    let attached = sb.attach(&pm, &cus).await.expect_ok();
    assert_eq!(str_at(&attached, "customer"), cus);
    assert_eq!(sb.event_count("payment_method.attached").await, 1);
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
    let pi = sb.pay_ok(&pm, &[]).await;
    assert_eq!(str_at(&pi, "status"), "succeeded");
    let ch = str_at(&pi, "latest_charge");
    let disputes = sb.get_query_ok("/v1/disputes", &[("charge", &ch)]).await;
    let dp = &disputes["data"][0];
    assert_eq!(str_at(dp, "reason"), "fraudulent");
    assert_eq!(str_at(dp, "status"), "needs_response");
    assert_eq!(str_at(dp, "payment_intent"), str_at(&pi, "id"));
    assert_eq!(value_at(dp, "amount"), json!(2000));
    let due_by = value_at(dp, "evidence_details.due_by").as_i64().unwrap();
    assert!(due_by > value_at(dp, "created").as_i64().unwrap());
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(value_at(&charge, "disputed"), json!(true));
    let created = sb.events_of_type("charge.dispute.created").await;
    assert_eq!(str_at(&created[0], "data.object.id"), str_at(dp, "id"));
    assert_eq!(sb.event_count("charge.dispute.funds_withdrawn").await, 1);
    // A disputed charge cannot be refunded.
    let r = sb.post("/v1/refunds", &[("charge", &ch)]).await;
    assert_eq!(r.status_and_error("code"), (400, "charge_disputed".into()));
}

#[tokio::test]
async fn card_2685_opens_a_product_not_received_dispute_and_1976_an_inquiry() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4000000000002685").await;
    let pi = sb.pay_ok(&pm, &[]).await;
    assert_eq!(str_at(&pi, "status"), "succeeded");
    let dp = sb.dispute_of(&str_at(&pi, "id")).await;
    let got = (str_at(&dp, "reason"), str_at(&dp, "status"));
    assert_eq!(
        got,
        ("product_not_received".into(), "needs_response".into())
    );
    assert_eq!(value_at(&dp, "balance_transactions.0.amount"), json!(-2000));
    assert_eq!(sb.event_count("charge.dispute.funds_withdrawn").await, 1);
    // The inquiry: no funds withdrawn, the charge stays refundable.
    let pi = sb.pay_ok("tok_createDisputeInquiry", &[]).await;
    let ch = str_at(&pi, "latest_charge");
    let inquiry = sb.dispute_of(&str_at(&pi, "id")).await;
    assert_eq!(str_at(&inquiry, "status"), "warning_needs_response");
    assert_eq!(str_at(&inquiry, "charge"), ch);
    assert_eq!(value_at(&inquiry, "balance_transactions"), json!([]));
    assert_eq!(value_at(&inquiry, "is_charge_refundable"), json!(true));
    let case_type = str_at(&inquiry, "payment_method_details.card.case_type");
    assert_eq!(case_type, "inquiry");
    assert_eq!(sb.event_count("charge.dispute.created").await, 2);
    assert_eq!(sb.event_count("charge.dispute.funds_withdrawn").await, 1);
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(value_at(&charge, "disputed"), json!(true));
    let pm = sb.card_payment_method("4000000000001976").await;
    let pi = sb.pay_ok(&pm, &[]).await;
    let by_number = sb.dispute_of(&str_at(&pi, "id")).await;
    assert_eq!(str_at(&by_number, "status"), "warning_needs_response");
}

#[tokio::test]
async fn card_5423_succeeds_then_an_early_fraud_warning_is_raised() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4000000000005423").await;
    let pi = sb.pay_ok(&pm, &[]).await;
    assert_eq!(str_at(&pi, "status"), "succeeded");
    let ev = sb.events_of_type("radar.early_fraud_warning.created").await;
    assert_eq!(ev.len(), 1);
    let efw = &ev[0]["data"]["object"];
    assert_eq!(str_at(efw, "object"), "radar.early_fraud_warning");
    assert_eq!(str_at(efw, "charge"), str_at(&pi, "latest_charge"));
    let efw_id = str_at(efw, "id");
    let got = sb.retrieve("radar/early_fraud_warnings", &efw_id).await;
    assert_eq!(value_at(&got, "actionable"), json!(true));
}
