//! 3-D Secure: the challenge page and endpoints, and the cards that ask for authentication.

use crate::common::*;

#[tokio::test]
async fn three_d_secure_challenge_complete_and_fail() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4000002760003184").await;
    let pi = sb.pay_20_usd(&pm, &[]).await.expect_ok();
    assert_eq!(str_at(&pi, "status"), "requires_action");
    assert_eq!(str_at(&pi, "next_action.type"), "use_stripe_sdk");
    let url = str_at(&pi, "next_action.use_stripe_sdk.stripe_js");
    let id = str_at(&pi, "id");
    assert!(url.contains(&format!("/3ds/{id}?client_secret=")), "{url}");
    assert_eq!(
        sb.events_of_type("payment_intent.requires_action")
            .await
            .len(),
        1
    );

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

    let done = sb.submit_3ds(&pi, "complete").await;
    assert_eq!(str_at(&done, "outcome"), "complete");
    assert_eq!(str_at(&done, "payment_intent.status"), "succeeded");
    let pi = sb
        .get(&format!("/v1/payment_intents/{id}?expand[]=latest_charge"))
        .await
        .expect_ok();
    assert_eq!(str_at(&pi, "status"), "succeeded");
    assert_eq!(
        str_at(
            &pi,
            "latest_charge.payment_method_details.card.three_d_secure.result"
        ),
        "authenticated"
    );

    // Failing authentication.
    let pi2 = sb
        .pay_20_usd("pm_card_authenticationRequired", &[])
        .await
        .expect_ok();
    let failed = sb.submit_3ds(&pi2, "fail").await;
    assert_eq!(str_at(&failed, "outcome"), "fail");
    let pi2 = sb.retrieve("payment_intents", &str_at(&pi2, "id")).await;
    assert_eq!(str_at(&pi2, "status"), "requires_payment_method");
    assert_eq!(
        str_at(&pi2, "last_payment_error.code"),
        "payment_intent_authentication_failure"
    );
    assert!(pi2["payment_method"].is_null() && pi2["latest_charge"].is_null());

    // The HTML variant (form post without JS) answers a page that notifies the parent.
    let pi3 = sb
        .pay_20_usd("pm_card_authenticationRequired", &[])
        .await
        .expect_ok();
    let r = sb
        .http
        .post(format!("{}/3ds/{}/complete", sb.base, str_at(&pi3, "id")))
        .form(&[("client_secret", str_at(&pi3, "client_secret"))])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("stripe-sandbox-3ds") && html.contains("\"complete\""));
    // Authentication is over: a second attempt is refused.
    let r = sb
        .http
        .post(format!("{}/3ds/{}/fail", sb.base, str_at(&pi3, "id")))
        .form(&[("client_secret", str_at(&pi3, "client_secret"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn card_3178_requires_authentication_then_declines() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4000008260003178").await;
    let pi = sb.pay_20_usd(&pm, &[]).await.expect_ok();
    assert_eq!(str_at(&pi, "status"), "requires_action");
    let done = sb.submit_3ds(&pi, "complete").await;
    assert_eq!(
        str_at(&done, "payment_intent.status"),
        "requires_payment_method"
    );
    assert_eq!(
        str_at(&done, "payment_intent.last_payment_error.decline_code"),
        "insufficient_funds"
    );
    let ch = sb
        .retrieve("charges", &str_at(&done, "payment_intent.latest_charge"))
        .await;
    assert_eq!(str_at(&ch, "status"), "failed");
}

#[tokio::test]
async fn card_3155_needs_no_authentication_off_session_once_set_up() {
    let sb = TestSandbox::start().await;
    let cus = sb.create_customer().await;
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
        assert_eq!(sb.events_of_type(t).await.len(), 1, "{t}");
    }

    let off = [("customer", cus.as_str()), ("off_session", "true")];
    let pi = sb.pay_20_usd(&pm, &off).await.expect_ok();
    assert_eq!(str_at(&pi, "status"), "succeeded");
    // On-session it still asks for authentication.
    let pi = sb.pay_20_usd(&pm, &[("customer", &cus)]).await.expect_ok();
    assert_eq!(str_at(&pi, "status"), "requires_action");

    // The same card attached without being set up: off-session needs authentication.
    let pm2 = sb.card_payment_method("4000002500003155").await;
    sb.attach(&pm2, &cus).await.expect_ok();
    let r = sb.pay_20_usd(&pm2, &off).await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "code"), "authentication_required");
    assert_eq!(str_at(r.error(), "decline_code"), "authentication_required");
    assert_eq!(
        str_at(r.error(), "payment_intent.status"),
        "requires_payment_method"
    );
    assert!(r.error()["charge"].is_string());
}

#[tokio::test]
async fn card_3155_saved_with_setup_future_usage_pays_off_session() {
    let sb = TestSandbox::start().await;
    let cus = sb.create_customer().await;
    let pi = sb
        .pay_20_usd(
            "pm_card_authenticationRequiredOnSetup",
            &[("customer", &cus), ("setup_future_usage", "off_session")],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&pi, "status"), "requires_action");
    let done = sb.submit_3ds(&pi, "complete").await;
    assert_eq!(str_at(&done, "payment_intent.status"), "succeeded");
    let pm = str_at(&done, "payment_intent.payment_method");
    let listed = sb
        .get_query(
            "/v1/payment_methods",
            &[("customer", &cus), ("type", "card")],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&listed, "data.0.id"), pm);
    assert_eq!(str_at(&listed, "data.0.customer"), cus);
    let again = sb
        .pay_20_usd(&pm, &[("customer", &cus), ("off_session", "true")])
        .await
        .expect_ok();
    assert_eq!(str_at(&again, "status"), "succeeded");
}

#[tokio::test]
async fn card_3184_always_requires_authentication() {
    let sb = TestSandbox::start().await;
    let cus = sb.create_customer().await;
    let si = sb
        .confirm_setup_intent(&cus, "pm_card_authenticationRequired")
        .await
        .expect_ok();
    let done = sb.submit_3ds(&si, "complete").await;
    let pm = str_at(&done, "setup_intent.payment_method");
    let r = sb
        .pay_20_usd(&pm, &[("customer", &cus), ("off_session", "true")])
        .await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "code"), "authentication_required");
}
