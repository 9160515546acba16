//! Fault injection: 500s, delays, dropped connections before and after the effect.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn injected_500s_are_stored_like_stripe_stores_them() {
    let sb = TestSandbox::start().await;
    sb.inject_fault(json!({"kind": "api_error", "count": 1}))
        .await;
    let r = sb.pay_idempotent("pm_card_visa", "key-500").await;
    assert_eq!(r.status, 500);
    assert_eq!(str_at(r.error(), "type"), "api_error");
    assert_eq!(r.header("stripe-should-retry"), Some("true"));
    assert_eq!(
        sb.list_len("/v1/payment_intents").await,
        0,
        "the failed request had no effect"
    );
    // The same key replays the 500; a new key goes through.
    let replay = sb.pay_idempotent("pm_card_visa", "key-500").await;
    assert_eq!(
        (replay.status, replay.header("idempotent-replayed")),
        (500, Some("true"))
    );
    assert_eq!(
        sb.pay_idempotent("pm_card_visa", "key-500b").await.status,
        200
    );
    // Faults can target a path and a count.
    sb.inject_fault(json!({"kind": "api_error", "count": 2, "path_prefix": "/v1/customers"}))
        .await;
    assert_eq!(sb.get("/v1/payment_intents").await.status, 200);
    assert_eq!(sb.get("/v1/customers").await.status, 500);
    assert_eq!(sb.get("/v1/customers").await.status, 500);
    assert_eq!(sb.get("/v1/customers").await.status, 200);
    let listed = sb.control_get("/faults").await;
    assert_eq!(list_data(&listed).len(), 0);
}

#[tokio::test]
async fn delay_fault_slows_the_request() {
    let sb = TestSandbox::start().await;
    sb.inject_fault(json!({"kind": "delay", "delay_ms": 300}))
        .await;
    let t = Instant::now();
    sb.get_ok("/v1/customers").await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    sb.get_ok("/v1/customers").await;
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn dropped_connection_before_the_request_took_effect() {
    let sb = TestSandbox::start().await;
    sb.inject_fault(json!({"kind": "drop_before"})).await;
    let r = sb.try_pay_idempotent("pm_card_visa", "key-drop-1").await;
    let e = r.err().expect("no answer");
    assert!(!e.is_status(), "{e}");
    assert_eq!(sb.list_len("/v1/payment_intents").await, 0);
    // The retry with the same key executes for the first time.
    let retry = sb.pay_idempotent("pm_card_visa", "key-drop-1").await;
    assert_eq!(retry.status, 200);
    assert!(retry.header("idempotent-replayed").is_none());
    assert_eq!(sb.list_len("/v1/payment_intents").await, 1);
}

#[tokio::test]
async fn dropped_connection_after_the_request_took_effect_then_idempotent_retry() {
    let sb = TestSandbox::start().await;
    sb.inject_fault(
        json!({"kind": "drop_after", "path_prefix": "/v1/payment_intents", "method": "POST"}),
    )
    .await;
    let r = sb.try_pay_idempotent("pm_card_visa", "key-drop-2").await;
    assert!(r.is_err(), "the answer is lost");
    // ...but the payment happened.
    let listed = sb.get_ok("/v1/payment_intents").await;
    assert_eq!(list_data(&listed).len(), 1);
    let id = str_at(&listed, "data.0.id");
    assert_eq!(str_at(&listed, "data.0.status"), "succeeded");
    // The client retries with the same key and gets the stored result.
    let retry = sb.pay_idempotent("pm_card_visa", "key-drop-2").await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(str_at(&retry.json, "id"), id);
    assert_eq!(sb.list_len("/v1/payment_intents").await, 1);
    assert_eq!(sb.list_len("/v1/charges").await, 1);
}

#[tokio::test]
async fn a_drop_after_fault_also_loses_an_idempotent_replay() {
    let sb = TestSandbox::start().await;
    sb.inject_fault(json!({"kind": "drop_after", "count": 2, "path_prefix": "/v1/payment_intents", "method": "POST"})).await;
    for attempt in 1..=2 {
        let r = sb
            .try_pay_idempotent("pm_card_visa", "key-drop-twice")
            .await;
        assert!(r.is_err(), "attempt {attempt}: the answer is lost");
    }
    let third = sb.pay_idempotent("pm_card_visa", "key-drop-twice").await;
    assert_eq!(third.status, 200);
    assert_eq!(third.header("idempotent-replayed"), Some("true"));
    assert_eq!(sb.list_len("/v1/payment_intents").await, 1);
}
