//! `POST /webhook` against the running server: signature checks, storage once per
//! event id, and real deliveries from the embedded sandbox.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::{spawn_app, Backend, TestApp};
use stripe_client::{CreatePaymentIntent, IdempotencyKey, WebhookSecret};
use stripe_types::{Currency, Money};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn event(id: &str) -> String {
    serde_json::json!({
        "id": id, "object": "event", "type": "payment_intent.succeeded", "created": now(),
        "api_version": stripe_types::API_VERSION, "livemode": false,
        "data": {"object": {"id": "pi_123", "object": "payment_intent", "amount": 1250,
                 "currency": "usd", "status": "succeeded", "metadata": {"order_id": "ord_x"}}},
        "request": {"id": null, "idempotency_key": null}
    })
    .to_string()
}

async fn deliver(app: &TestApp, body: &str, signature: Option<String>) -> u16 {
    let mut request = app
        .client
        .post(app.url("/webhook"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

fn signed(body: &str, secret: &WebhookSecret, t: i64) -> String {
    stripe_client::webhook::sign(body.as_bytes(), secret, t)
}

#[tokio::test]
async fn verified_events_are_stored_once() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let secret = app.server.stripe.webhook_secret.clone();
    let body = event("evt_once");
    assert_eq!(
        deliver(&app, &body, Some(signed(&body, &secret, now()))).await,
        200
    );
    assert_eq!(
        deliver(&app, &body, Some(signed(&body, &secret, now()))).await,
        200
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stripe_events WHERE id = 'evt_once'")
        .fetch_one(app.server.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.stop().await;
}

/// Deliveries arriving together share a commit (group commit): each is still answered
/// on its own, the same event delivered many times at once is stored once and answered
/// "new" exactly once.
#[tokio::test]
async fn concurrent_deliveries_are_grouped_but_each_stored_once() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let secret = app.server.stripe.webhook_secret.clone();
    let bodies: Vec<String> = (0..40)
        .map(|i| event(if i % 2 == 0 { "evt_same" } else { "evt_other" }))
        .chain((0..40).map(|i| event(&format!("evt_many_{i}"))))
        .collect();
    let answers = futures::future::join_all(bodies.iter().map(|body| {
        let signature = signed(body, &secret, now());
        let request = app
            .client
            .post(app.url("/webhook"))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(body.clone());
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.unwrap()
        }
    }))
    .await;
    let new = answers
        .iter()
        .filter(|a| a.get("duplicate").is_none())
        .count();
    assert_eq!(new, 42, "evt_same, evt_other and 40 others: {answers:?}");
    assert_eq!(app.count("stripe_events").await, 42);
    app.stop().await;
}

#[tokio::test]
async fn an_event_of_the_other_mode_is_acknowledged_but_never_applied() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let secret = app.server.stripe.webhook_secret.clone();
    // A live-mode event to this test-mode shop (the sandbox's keys are test keys).
    let body = event("evt_live").replace("\"livemode\":false", "\"livemode\":true");
    assert!(body.contains("\"livemode\":true"));
    assert_eq!(
        deliver(&app, &body, Some(signed(&body, &secret, now()))).await,
        200
    );
    assert_eq!(app.count("stripe_events").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn unverifiable_deliveries_are_refused_and_not_stored() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let secret = app.server.stripe.webhook_secret.clone();
    let body = event("evt_bad");
    let other = WebhookSecret::new("whsec_someone_else_entirely").unwrap();
    let tampered = body.replace("1250", "1");
    let cases = [
        ("no header", body.clone(), None),
        (
            "wrong secret",
            body.clone(),
            Some(signed(&body, &other, now())),
        ),
        (
            "tampered body",
            tampered.clone(),
            Some(signed(&body, &secret, now())),
        ),
        (
            "too old",
            body.clone(),
            Some(signed(&body, &secret, now() - 301)),
        ),
        ("malformed", body.clone(), Some("t=abc,v1=zz".to_owned())),
    ];
    for (what, payload, signature) in cases {
        assert_eq!(deliver(&app, &payload, signature).await, 400, "{what}");
    }
    assert_eq!(app.count("stripe_events").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_embedded_sandbox_delivers_signed_events_to_the_app() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let params = CreatePaymentIntent::new(Money::new(1250, Currency::USD))
        .payment_method("pm_card_visa")
        .confirm()
        .metadata("order_id", "ord_sandbox");
    let key = IdempotencyKey::for_operation("test", "ord_sandbox", "pi", 1).unwrap();
    let pi = app
        .server
        .stripe
        .client
        .create_payment_intent(&params, &key)
        .await
        .expect("the sandbox confirms pm_card_visa");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let kinds: Vec<String> = sqlx::query_scalar("SELECT type FROM stripe_events")
            .fetch_all(app.server.store.pool())
            .await
            .unwrap();
        if kinds.iter().any(|k| k == "payment_intent.succeeded") {
            assert!(kinds.iter().any(|k| k == "charge.succeeded"), "{kinds:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery for {}: {kinds:?}",
            pi.id
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}
