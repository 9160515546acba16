//! Saved cards: what the app's saved-cards feature relies on (fingerprints, saving while
//! paying, SetupIntents, off-session payments, detaching, the default card), as listed
//! under "Saved cards" in `shared/stripe-facts.md`.

use serde_json::Value;

use crate::common::*;

/// The `customer` of a PaymentMethod as stored now (`None` when detached or never attached).
async fn owner(sb: &TestSandbox, pm: &str) -> Option<String> {
    let pm = sb.retrieve("payment_methods", pm).await;
    pm["customer"].as_str().map(str::to_owned)
}

/// The `payment_method.attached` events of one PaymentMethod.
async fn attached_events(sb: &TestSandbox, pm: &str) -> Vec<Value> {
    let events = sb.events_of_type("payment_method.attached").await;
    events
        .into_iter()
        .filter(|e| e["data"]["object"]["id"] == pm)
        .collect()
}

/// The fingerprint of a PaymentMethod.
fn fingerprint(pm: &Value) -> String {
    str_at(pm, "card.fingerprint")
}

#[tokio::test]
async fn a_card_fingerprint_depends_only_on_the_card_number() {
    let (sb, cus) = TestSandbox::with_customer().await;
    // The same test card saved twice: two PaymentMethods (Stripe does not deduplicate).
    let first = sb.attach("pm_card_visa", &cus).await.expect_ok();
    let second = sb.attach("pm_card_visa", &cus).await.expect_ok();
    assert_ne!(str_at(&first, "id"), str_at(&second, "id"));
    let visa = fingerprint(&first);
    assert_eq!(fingerprint(&second), visa);
    assert!(visa.len() >= 8 && !visa.contains("4242"), "{visa}");
    // Typed in Stripe.js's card frame (publishable key), with other expiries and CVCs.
    for (exp_month, exp_year, cvc) in [("12", "2040", "123"), ("01", "2031", "999")] {
        let form = [
            ("type", "card"),
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", exp_month),
            ("card[exp_year]", exp_year),
            ("card[cvc]", cvc),
        ];
        let pm = sb.post_publishable("/v1/payment_methods", &form).await;
        assert_eq!(fingerprint(&pm.expect_ok()), visa, "{exp_month}/{exp_year}");
    }
    // The charge of a payment reports the same fingerprint.
    let pi = sb.pay_ok("pm_card_visa", &[]).await;
    let charge = sb.retrieve("charges", &str_at(&pi, "latest_charge")).await;
    let charged = str_at(&charge, "payment_method_details.card.fingerprint");
    assert_eq!(charged, visa);
    // Different numbers, even of the same brand, have different fingerprints.
    let mut seen = vec![visa];
    for number in [
        "4000056655665556",
        "5555555555554444",
        "4000002500003155",
        "4000002760003184",
        "4000000000000341",
    ] {
        let pm = sb.create_card(number, "123").await.expect_ok();
        let print = fingerprint(&pm);
        assert!(!seen.contains(&print), "{number} shares a fingerprint");
        seen.push(print);
    }
    // And the same number by token and by digits agrees for these too.
    let by_token = sb
        .get_ok("/v1/payment_methods/pm_card_chargeCustomerFail")
        .await;
    assert_eq!(fingerprint(&by_token), seen[5]);
}

#[tokio::test]
async fn saving_while_paying_attaches_the_card_only_when_the_payment_succeeds() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let save = [
        ("customer", cus.as_str()),
        ("setup_future_usage", "off_session"),
    ];

    // Succeeds at once: attached, with its event.
    let paid = sb.pay_ok("pm_card_visa", &save).await;
    assert_eq!(str_at(&paid, "status"), "succeeded");
    let visa = str_at(&paid, "payment_method");
    assert_eq!(owner(&sb, &visa).await.as_deref(), Some(cus.as_str()));
    let events = attached_events(&sb, &visa).await;
    assert_eq!(events.len(), 1);
    assert_eq!(str_at(&events[0], "data.object.customer"), cus);
    assert_eq!(str_at(&events[0], "data.object.card.last4"), "4242");

    // After 3-D Secure: attached only once authentication completed.
    let pending = sb.pay_ok("pm_card_authenticationRequired", &save).await;
    assert_eq!(str_at(&pending, "status"), "requires_action");
    let card_3184 = str_at(&pending, "payment_method");
    assert_eq!(owner(&sb, &card_3184).await, None);
    let done = sb.submit_3ds(&pending, "complete").await;
    assert_eq!(str_at(&done, "payment_intent.status"), "succeeded");
    assert_eq!(owner(&sb, &card_3184).await.as_deref(), Some(cus.as_str()));
    assert_eq!(attached_events(&sb, &card_3184).await.len(), 1);

    // A decline attaches nothing.
    let declined = sb.pay_20_usd("pm_card_chargeDeclined", &save).await;
    assert_eq!(
        declined.status_and_error("code"),
        (402, "card_declined".into())
    );
    let declined_pm = str_at(declined.error(), "payment_method.id");
    assert!(declined.error()["payment_method"]["customer"].is_null());
    assert_eq!(owner(&sb, &declined_pm).await, None);

    // Failed authentication attaches nothing either.
    let failing = sb.pay_ok("pm_card_authenticationRequired", &save).await;
    let failing_pm = str_at(&failing, "payment_method");
    let failed = sb.submit_3ds(&failing, "fail").await;
    assert_eq!(
        str_at(&failed, "payment_intent.status"),
        "requires_payment_method"
    );
    assert_eq!(owner(&sb, &failing_pm).await, None);

    // Without setup_future_usage a paid card is not saved, and neither is one whose
    // intent had setup_future_usage unset (`setup_future_usage=`) before paying.
    let plain = sb.pay_ok("pm_card_mastercard", &[("customer", &cus)]).await;
    assert_eq!(owner(&sb, &str_at(&plain, "payment_method")).await, None);
    let intent = sb.intent_ok("2000", &save).await;
    let path = format!("/v1/payment_intents/{}", str_at(&intent, "id"));
    let unset = sb.post_ok(&path, &[("setup_future_usage", "")]).await;
    assert!(unset["setup_future_usage"].is_null());
    let with_pm = sb
        .post_ok(&path, &[("payment_method", "pm_card_amex")])
        .await;
    assert_eq!(str_at(&with_pm, "status"), "requires_confirmation");
    let paid = sb.post_ok(&format!("{path}/confirm"), &[]).await;
    assert_eq!(str_at(&paid, "status"), "succeeded");
    assert_eq!(owner(&sb, &str_at(&paid, "payment_method")).await, None);

    let saved = list_ids(&sb.customer_cards(&cus).await.expect_ok());
    assert_eq!(saved, [card_3184, visa], "newest first, nothing else");
    assert_eq!(sb.event_count("payment_method.attached").await, 2);
}

#[tokio::test]
async fn off_session_payments_with_the_three_saved_test_cards() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let off = [("customer", cus.as_str()), ("off_session", "true")];

    // 3155, set up with a SetupIntent (3-D Secure completed): no authentication off-session.
    let si = sb.confirm_setup_intent(&cus, "pm_card_authenticationRequiredOnSetup");
    let si = si.await.expect_ok();
    assert_eq!(str_at(&si, "status"), "requires_action");
    let done = sb.submit_3ds(&si, "complete").await;
    let card_3155 = str_at(&done, "setup_intent.payment_method");
    let pi = sb.pay_ok(&card_3155, &off).await;
    assert_eq!(str_at(&pi, "status"), "succeeded");
    let charge = sb.retrieve("charges", &str_at(&pi, "latest_charge")).await;
    let three_ds = value_at(&charge, "payment_method_details.card.three_d_secure");
    assert!(three_ds.is_null(), "{three_ds}");

    // 3184, set up the same way, still needs the shopper: 402 authentication_required
    // with the intent (requires_payment_method) and the card.
    let si = sb.confirm_setup_intent(&cus, "pm_card_authenticationRequired");
    let done = sb.submit_3ds(&si.await.expect_ok(), "complete").await;
    let card_3184 = str_at(&done, "setup_intent.payment_method");
    let r = sb.pay_20_usd(&card_3184, &off).await;
    assert_eq!(r.status, 402);
    let e = r.error();
    assert_eq!(str_at(e, "type"), "card_error");
    assert_eq!(str_at(e, "code"), "authentication_required");
    assert_eq!(str_at(e, "decline_code"), "authentication_required");
    assert_eq!(
        str_at(e, "payment_intent.status"),
        "requires_payment_method"
    );
    assert_eq!(str_at(e, "payment_method.id"), card_3184);
    assert_eq!(str_at(e, "payment_method.customer"), cus);
    let lpe = "payment_intent.last_payment_error";
    assert_eq!(str_at(e, &format!("{lpe}.code")), "authentication_required");
    assert_eq!(str_at(e, &format!("{lpe}.payment_method.id")), card_3184);
    // The shopper comes back: confirmCardPayment(client_secret, {payment_method: pm}).
    let intent = value_at(e, "payment_intent");
    let confirm = format!("/v1/payment_intents/{}/confirm", str_at(&intent, "id"));
    let secret = str_at(&intent, "client_secret");
    let form = [
        ("client_secret", secret.as_str()),
        ("payment_method", card_3184.as_str()),
    ];
    let again = sb.post_publishable(&confirm, &form).await.expect_ok();
    assert_eq!(str_at(&again, "status"), "requires_action");
    let paid = sb.submit_3ds(&again, "complete").await;
    assert_eq!(str_at(&paid, "payment_intent.status"), "succeeded");
    assert_eq!(owner(&sb, &card_3184).await.as_deref(), Some(cus.as_str()));

    // 0341 attaches (a SetupIntent succeeds, no authentication) but every charge fails.
    let si = sb
        .confirm_setup_intent(&cus, "pm_card_chargeCustomerFail")
        .await;
    let si = si.expect_ok();
    assert_eq!(str_at(&si, "status"), "succeeded");
    let card_0341 = str_at(&si, "payment_method");
    assert_eq!(owner(&sb, &card_0341).await.as_deref(), Some(cus.as_str()));
    for extra in [&off[..], &[("customer", cus.as_str())][..]] {
        let r = sb.pay_20_usd(&card_0341, extra).await;
        assert_eq!(r.status_and_error("code"), (402, "card_declined".into()));
        assert_eq!(str_at(r.error(), "decline_code"), "generic_decline");
        assert_eq!(str_at(r.error(), "payment_method.id"), card_0341);
    }
    // Still saved: a decline does not detach.
    assert_eq!(owner(&sb, &card_0341).await.as_deref(), Some(cus.as_str()));
}

#[tokio::test]
async fn a_confirmed_setup_intent_emits_succeeded_and_attached() {
    let (sb, cus) = TestSandbox::with_customer().await;
    // Confirmed as Stripe.js's confirmCardSetup does: a card typed in the frame, then
    // the confirmation with the publishable key and the client secret.
    let form = [
        ("customer", cus.as_str()),
        ("payment_method_types[]", "card"),
        ("usage", "off_session"),
    ];
    let si = sb.post_ok("/v1/setup_intents", &form).await;
    assert_eq!(str_at(&si, "status"), "requires_payment_method");
    assert_eq!(str_at(&si, "usage"), "off_session");
    let pm = sb.card_payment_method("5555555555554444").await;
    let confirm = format!("/v1/setup_intents/{}/confirm", str_at(&si, "id"));
    let secret = str_at(&si, "client_secret");
    let body = [("client_secret", secret.as_str()), ("payment_method", &pm)];
    let done = sb.post_publishable(&confirm, &body).await.expect_ok();
    assert_eq!(str_at(&done, "status"), "succeeded");
    assert_eq!(str_at(&done, "payment_method"), pm);
    assert_eq!(owner(&sb, &pm).await.as_deref(), Some(cus.as_str()));
    let succeeded = sb.events_of_type("setup_intent.succeeded").await;
    assert_eq!(succeeded.len(), 1);
    assert_eq!(str_at(&succeeded[0], "data.object.payment_method"), pm);
    assert_eq!(str_at(&succeeded[0], "data.object.customer"), cus);
    let attached = attached_events(&sb, &pm).await;
    assert_eq!(attached.len(), 1);
    assert_eq!(str_at(&attached[0], "data.object.customer"), cus);

    // Failures (a decline, failed authentication) emit setup_failed and save nothing.
    let declined = sb
        .confirm_setup_intent(&cus, "pm_card_chargeDeclined")
        .await;
    assert_eq!(declined.status, 402);
    let declined_pm = str_at(declined.error(), "payment_method.id");
    let si = sb.confirm_setup_intent(&cus, "pm_card_authenticationRequired");
    let si = si.await.expect_ok();
    let failing_pm = str_at(&si, "payment_method");
    let failed = sb.submit_3ds(&si, "fail").await;
    let status = str_at(&failed, "setup_intent.status");
    assert_eq!(status, "requires_payment_method");
    assert_eq!(sb.event_count("setup_intent.setup_failed").await, 2);
    assert_eq!(sb.event_count("setup_intent.succeeded").await, 1);
    for unsaved in [declined_pm, failing_pm] {
        assert_eq!(owner(&sb, &unsaved).await, None);
        assert!(attached_events(&sb, &unsaved).await.is_empty());
    }
    assert_eq!(list_ids(&sb.customer_cards(&cus).await.expect_ok()), [pm]);
}

#[tokio::test]
async fn a_detached_card_can_never_be_used_or_attached_again() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let pm = str_at(&sb.attach("pm_card_visa", &cus).await.expect_ok(), "id");
    sb.pay_ok(&pm, &[("customer", &cus)]).await;
    let detach = format!("/v1/payment_methods/{pm}/detach");
    let detached = sb.post_ok(&detach, &[]).await;
    assert!(detached["customer"].is_null());
    let events = sb.events_of_type("payment_method.detached").await;
    assert_eq!(events.len(), 1);
    assert_eq!(str_at(&events[0], "data.object.id"), pm);
    assert!(events[0]["data"]["object"]["customer"].is_null());
    let before = str_at(&events[0], "data.previous_attributes.customer");
    assert_eq!(before, cus);

    let refused = |r: ApiResponse, what: &str| {
        assert_eq!(r.status, 400, "{what}: {}", r.json);
        assert_eq!(str_at(r.error(), "type"), "invalid_request_error", "{what}");
    };
    // Not on a PaymentIntent: on-session, off-session, or confirmed by Stripe.js.
    refused(
        sb.pay_20_usd(&pm, &[("customer", &cus)]).await,
        "on-session",
    );
    let off = [("customer", cus.as_str()), ("off_session", "true")];
    refused(sb.pay_20_usd(&pm, &off).await, "off-session");
    let intent = sb.intent_ok("2000", &[("customer", &cus)]).await;
    let confirm = format!("/v1/payment_intents/{}/confirm", str_at(&intent, "id"));
    let secret = str_at(&intent, "client_secret");
    let body = [("client_secret", secret.as_str()), ("payment_method", &pm)];
    refused(sb.post_publishable(&confirm, &body).await, "Stripe.js");
    // Not on a SetupIntent, not re-attached (to anyone), not detached twice.
    refused(sb.confirm_setup_intent(&cus, &pm).await, "setup");
    refused(sb.attach(&pm, &cus).await, "re-attach");
    let other = sb.create_customer().await;
    refused(sb.attach(&pm, &other).await, "attach elsewhere");
    refused(sb.post(&detach, &[]).await, "detach twice");
    assert_eq!(owner(&sb, &pm).await, None);
    assert_eq!(sb.event_count("payment_method.detached").await, 1);
    assert_eq!(attached_events(&sb, &pm).await.len(), 1);
}

#[tokio::test]
async fn the_default_card_must_be_attached_to_that_customer() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let other = sb.create_customer().await;
    let mine = str_at(&sb.attach("pm_card_visa", &cus).await.expect_ok(), "id");
    let theirs = str_at(&sb.attach("pm_card_visa", &other).await.expect_ok(), "id");
    let loose = sb.card_payment_method("4242424242424242").await;
    let path = format!("/v1/customers/{cus}");
    let set_default = |pm: String| {
        let (sb, path) = (&sb, &path);
        async move {
            let form = [("invoice_settings[default_payment_method]", pm.as_str())];
            sb.post(path, &form).await
        }
    };
    let ok = set_default(mine.clone()).await.expect_ok();
    assert_eq!(str_at(&ok, "invoice_settings.default_payment_method"), mine);
    let events = sb.events_of_type("customer.updated").await;
    assert_eq!(events.len(), 1);
    let object = &events[0]["data"]["object"];
    assert_eq!(
        str_at(object, "invoice_settings.default_payment_method"),
        mine
    );
    // Only what changed, as Stripe lists it.
    let previous = value_at(&events[0], "data.previous_attributes");
    let expected = serde_json::json!({"invoice_settings": {"default_payment_method": null}});
    assert_eq!(previous, expected);

    // Another customer's card, a card attached to nobody, a missing one: refused, and
    // nothing changes.
    for pm in [theirs, loose, "pm_missing".to_owned()] {
        let r = set_default(pm.clone()).await;
        assert_eq!(r.status, 400, "{pm}: {}", r.json);
        assert_eq!(str_at(r.error(), "type"), "invalid_request_error", "{pm}");
        let param = str_at(r.error(), "param");
        assert_eq!(param, "invoice_settings[default_payment_method]", "{pm}");
    }
    assert_eq!(sb.events_of_type("customer.updated").await.len(), 1);
    let c = sb.retrieve("customers", &cus).await;
    assert_eq!(str_at(&c, "invoice_settings.default_payment_method"), mine);

    // Unsetting it is an update too.
    let cleared = set_default(String::new()).await.expect_ok();
    assert!(cleared["invoice_settings"]["default_payment_method"].is_null());
    assert_eq!(sb.events_of_type("customer.updated").await.len(), 2);
}
