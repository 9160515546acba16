//! Idempotency keys: replays, conflicts, scoping, what is not stored.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn idempotent_requests_replay_the_first_result() {
    let sb = TestSandbox::start().await;
    let first = sb.pay_idempotent("pm_card_visa", "key-1").await;
    assert_eq!(first.status, 200);
    assert!(first.header("idempotent-replayed").is_none());
    // Same parameters in another order: a replay, same body, marked as such.
    let mut shuffled = payment_form("pm_card_visa", &[]);
    shuffled.reverse();
    let again = sb
        .post_idempotent("/v1/payment_intents", &shuffled, "key-1")
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("original-request"), first.header("request-id"));
    assert_ne!(again.header("request-id"), first.header("request-id"));
    assert_eq!(again.json, first.json);
    assert_eq!(sb.list_len("/v1/payment_intents").await, 1);
    assert_eq!(sb.list_len("/v1/charges").await, 1);
    // Declines are results too: replayed with their 402.
    let d1 = sb.pay_idempotent("pm_card_chargeDeclined", "key-2").await;
    let d2 = sb.pay_idempotent("pm_card_chargeDeclined", "key-2").await;
    assert_eq!((d1.status, d2.status), (402, 402));
    assert_eq!(d2.header("idempotent-replayed"), Some("true"));
    assert_eq!(d1.json, d2.json);
    assert_eq!(sb.list_len("/v1/charges").await, 2);
}

#[tokio::test]
async fn same_key_with_different_parameters_is_an_idempotency_error() {
    let sb = TestSandbox::start().await;
    sb.pay_idempotent("pm_card_visa", "key-x").await.expect_ok();
    let mut other = payment_form("pm_card_visa", &[]);
    other[0] = ("amount", "2001");
    let r = sb
        .post_idempotent("/v1/payment_intents", &other, "key-x")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(str_at(r.error(), "type"), "idempotency_error");
    assert!(str_at(r.error(), "message").contains("key-x"));
    // Another endpoint with the same key is also a different request.
    let r = sb.post_idempotent("/v1/customers", &[], "key-x").await;
    assert_eq!(str_at(r.error(), "type"), "idempotency_error");
    assert_eq!(sb.list_len("/v1/payment_intents").await, 1);
}

#[tokio::test]
async fn same_key_while_the_first_request_runs_is_a_409() {
    let sb = TestSandbox::start().await;
    sb.inject_fault(
        json!({"kind": "delay", "delay_ms": 1500, "path_prefix": "/v1/payment_intents"}),
    )
    .await;
    let slow = sb.pay_idempotent("pm_card_visa", "key-slow");
    let conflict = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sb.pay_idempotent("pm_card_visa", "key-slow").await
    };
    let started = Instant::now();
    let (first, second) = tokio::join!(slow, conflict);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(first.status, 200);
    assert_eq!(second.status, 409);
    assert_eq!(str_at(second.error(), "code"), "idempotency_key_in_use");
    assert_eq!(second.header("stripe-should-retry"), Some("true"));
    // Once done, the key replays.
    let third = sb.pay_idempotent("pm_card_visa", "key-slow").await;
    assert_eq!(third.header("idempotent-replayed"), Some("true"));
    assert_eq!(third.json, first.json);
}

#[tokio::test]
async fn nothing_is_stored_for_requests_failing_validation() {
    let sb = TestSandbox::start().await;
    let r = sb
        .post_idempotent(
            "/v1/payment_intents",
            &[("amount", "abc"), ("currency", "usd")],
            "key-v",
        )
        .await;
    assert_eq!(r.status, 400);
    // The same key with fixed parameters runs normally (no idempotency_error, no replay).
    let ok = sb.pay_idempotent("pm_card_visa", "key-v").await;
    assert_eq!(ok.status, 200);
    assert!(ok.header("idempotent-replayed").is_none());
    // Rate-limited requests store nothing either.
    sb.inject_fault(json!({"kind": "rate_limit"})).await;
    let limited = sb
        .post_idempotent("/v1/customers", &[("name", "A")], "key-r")
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(str_at(limited.error(), "code"), "rate_limit");
    let after = sb
        .post_idempotent("/v1/customers", &[("name", "A")], "key-r")
        .await;
    assert_eq!(after.status, 200);
    assert!(after.header("idempotent-replayed").is_none());
}

#[tokio::test]
async fn idempotency_keys_are_scoped_by_api_key() {
    let sb = TestSandbox::start().await;
    let a = sb
        .post_idempotent("/v1/customers", &[("name", "A")], "shared")
        .await
        .expect_ok();
    let b = sb
        .send(
            reqwest::Method::POST,
            "/v1/customers",
            Some(OTHER_SECRET_KEY),
            &[("name", "A")],
            Some("shared"),
        )
        .await;
    assert_eq!(b.status, 200);
    assert!(b.header("idempotent-replayed").is_none());
    assert_ne!(str_at(&a, "id"), str_at(&b.json, "id"));
    let long = "k".repeat(256);
    let r = sb.post_idempotent("/v1/customers", &[], &long).await;
    assert_eq!(r.status, 400);
}
