//! Disputes in the console: recorded from Stripe's events by `dp_` id, evidence staged
//! then submitted (won when the sandbox clock moves), accepted (lost), and 404 for anyone
//! but a merchant. SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use stripe_client::ListDisputes;

use crate::support::{
    browser, merchant, order_paid_with, spawn_app, Backend, TestApp, MERCHANT_PASSWORD as PASSWORD,
};

on_both_backends!(
    a_dispute_is_answered_with_staged_then_submitted_evidence_and_won,
    an_accepted_dispute_is_lost,
    only_merchants_see_or_answer_disputes,
    a_late_echo_within_the_same_second_never_moves_a_dispute_back,
);

/// A guest's order of two mugs paid with a card whose payment gets disputed (0259);
/// returns the order id and the dispute's id, once the shop has recorded it.
async fn disputed_order(app: &TestApp) -> (String, String) {
    let (order_id, pi) = order_paid_with(app, "pm_card_createDispute").await;
    let client = &app.server.stripe.client;
    let list = client
        .list_disputes(&ListDisputes {
            payment_intent: Some(pi.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let dp = list.data[0].id.clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.server.store.dispute(&dp).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the dispute never reached the shop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (order_id, dp)
}

async fn dispute(app: &TestApp, client: &reqwest::Client, dp: &str) -> serde_json::Value {
    let r = app
        .call_as(client, "merchant_dispute", &[("dispute_id", dp)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

async fn answer(
    app: &TestApp,
    client: &reqwest::Client,
    dp: &str,
    action: &str,
    text: &str,
) -> crate::support::ApiResponse {
    let request = shop::RequestId::generate().as_str().to_owned();
    app.call_as(
        client,
        "dispute_response",
        &[
            ("dispute_id", dp),
            ("action", action),
            ("evidence_text", text),
            ("request_id", &request),
        ],
    )
    .await
}

async fn wait_for_dispute(
    app: &TestApp,
    client: &reqwest::Client,
    dp: &str,
    status: &str,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = dispute(app, client, dp).await;
        if d["status"] == status {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "dispute never became {status}: {d}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn advance_clock(app: &TestApp, seconds: i64) {
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url();
    let r = app
        .client
        .post(format!("{sandbox}/_sandbox/clock/advance"))
        .json(&serde_json::json!({ "seconds": seconds }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn a_dispute_is_answered_with_staged_then_submitted_evidence_and_won(app: &TestApp) {
    let (order_id, dp) = disputed_order(app).await;
    let merchant = merchant(app).await;
    let d = wait_for_dispute(app, &merchant, &dp, "needs_response").await;
    assert_eq!(d["order_id"], order_id.as_str());
    assert_eq!(d["amount"]["minor"], 2500);
    let due = d["due_by"].as_i64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(due > now + 6 * 86400, "due_by {due} is about a week away");
    // The inbox lists it; the order page shows it.
    let inbox = app.call_as(&merchant, "merchant_disputes", &[]).await;
    assert_eq!(inbox.body[0]["id"], dp.as_str(), "{}", inbox.body);
    let order = app
        .call_as(&merchant, "merchant_order", &[("order_id", &order_id)])
        .await;
    assert_eq!(order.body["disputes"][0]["id"], dp.as_str());
    // Saved: staged at Stripe, nothing submitted.
    let saved = answer(app, &merchant, &dp, "save", "Delivered, signed for.").await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.body["status"], "needs_response");
    assert_eq!(saved.body["submission_count"], 0);
    assert_eq!(saved.body["evidence_text"], "Delivered, signed for.");
    let at_stripe = app
        .server
        .stripe
        .client
        .retrieve_dispute(&dp)
        .await
        .unwrap();
    let evidence = at_stripe.evidence.unwrap();
    assert_eq!(
        evidence.product_description.as_deref(),
        Some("2 × Ferris mug")
    );
    // Submitted (the sandbox's winning text): under review, then won when the clock moves.
    let submitted = answer(app, &merchant, &dp, "submit", "winning_evidence").await;
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    assert_eq!(
        (
            submitted.body["status"].as_str(),
            submitted.body["submission_count"].as_i64()
        ),
        (Some("under_review"), Some(1))
    );
    // Nothing more can be sent.
    let again = answer(app, &merchant, &dp, "submit", "more").await;
    assert_eq!(again.status, 400, "{}", again.body);
    advance_clock(app, 120).await;
    let won = wait_for_dispute(app, &merchant, &dp, "won").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut won = won;
    while won["reinstated"]["minor"] != 2500 {
        assert!(Instant::now() < deadline, "funds never reinstated: {won}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        won = dispute(app, &merchant, &dp).await;
    }
    assert_eq!(won["withdrawn"]["minor"], 2500);
    // Who did what, on the order.
    let order = app
        .call_as(&merchant, "merchant_order", &[("order_id", &order_id)])
        .await;
    let actions: Vec<&str> = order.body["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["evidence saved", "evidence submitted"]);
}

async fn an_accepted_dispute_is_lost(app: &TestApp) {
    let (_, dp) = disputed_order(app).await;
    let merchant = merchant(app).await;
    wait_for_dispute(app, &merchant, &dp, "needs_response").await;
    let accepted = answer(app, &merchant, &dp, "accept", "").await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["status"], "lost");
    // A late "needs_response" event does not bring it back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(dispute(app, &merchant, &dp).await["status"], "lost");
}

async fn only_merchants_see_or_answer_disputes(app: &TestApp) {
    let (_, dp) = disputed_order(app).await;
    let shopper = browser();
    let r = app
        .call_as(
            &shopper,
            "sign_up",
            &[
                (
                    "email",
                    &format!("s-{}@example.com", shop::RequestId::generate().as_str()),
                ),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    for client in [&browser(), &shopper] {
        let r = app.call_as(client, "merchant_disputes", &[]).await;
        assert_eq!(r.status, 404);
        let r = app
            .call_as(client, "merchant_dispute", &[("dispute_id", &dp)])
            .await;
        assert_eq!(r.status, 404);
        let r = answer(app, client, &dp, "accept", "").await;
        assert_eq!(r.status, 404);
        let page = client
            .get(app.url("/merchant/disputes"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 404);
    }
    let at_stripe = app
        .server
        .stripe
        .client
        .retrieve_dispute(&dp)
        .await
        .unwrap();
    assert_eq!(at_stripe.status.to_string(), "needs_response");
    assert_eq!(app.count("merchant_audit").await, 0);
}

/// The echo of "save evidence" (`needs_response`) arriving after the submission's answer
/// (`under_review`) stamped with the same second: the dispute stays under review.
async fn a_late_echo_within_the_same_second_never_moves_a_dispute_back(app: &TestApp) {
    use shop::store::disputes::Funds;
    let (_, dp) = disputed_order(app).await;
    let stripe = app
        .server
        .stripe
        .client
        .retrieve_dispute(&dp)
        .await
        .unwrap();
    let with_status = |status: &str| {
        let mut json = serde_json::to_value(&stripe).unwrap();
        json["status"] = status.into();
        serde_json::from_value::<stripe_client::Dispute>(json).unwrap()
    };
    let at = shop::store::now_ms() / 1000 + 60;
    let store = &app.server.store;
    let apply = |status: &str, at: i64| {
        let dispute = with_status(status);
        async move {
            store
                .apply_dispute(&dispute, at, Funds::None)
                .await
                .unwrap()
        }
    };
    assert!(apply("under_review", at).await);
    assert!(!apply("needs_response", at).await);
    assert_eq!(store.dispute(&dp).await.unwrap().status, "under_review");
    // A later second still moves it on (won), and the same second back is refused.
    assert!(apply("won", at + 1).await);
    assert!(!apply("under_review", at + 1).await);
    assert_eq!(store.dispute(&dp).await.unwrap().status, "won");
}
