//! Idempotency, fault injection, webhooks (signatures, retries on the clock, delivery
//! controls) and persistence.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const PI_FORM: &[(&str, &str)] = &[
    ("amount", "2000"),
    ("currency", "usd"),
    ("payment_method", "pm_card_visa"),
    ("payment_method_types[]", "card"),
    ("confirm", "true"),
];

#[tokio::test]
async fn idempotent_requests_replay_the_first_result() {
    let sb = Sb::start().await;
    let first = sb.post_idem("/v1/payment_intents", PI_FORM, "key-1").await;
    assert_eq!(first.status, 200);
    assert!(first.header("idempotent-replayed").is_none());
    // Same parameters in another order: a replay, same body, marked as such.
    let mut shuffled = PI_FORM.to_vec();
    shuffled.reverse();
    let again = sb
        .post_idem("/v1/payment_intents", &shuffled, "key-1")
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("original-request"), first.header("request-id"));
    assert_ne!(again.header("request-id"), first.header("request-id"));
    assert_eq!(again.json, first.json);
    assert_eq!(sb.count("/v1/payment_intents").await, 1);
    assert_eq!(sb.count("/v1/charges").await, 1);
    // Declines are results too: replayed with their 402.
    let d1 = sb
        .post_idem(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_chargeDeclined"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
            "key-2",
        )
        .await;
    let d2 = sb
        .post_idem(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_chargeDeclined"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
            "key-2",
        )
        .await;
    assert_eq!((d1.status, d2.status), (402, 402));
    assert_eq!(d2.header("idempotent-replayed"), Some("true"));
    assert_eq!(d1.json, d2.json);
    assert_eq!(sb.count("/v1/charges").await, 2);
}

#[tokio::test]
async fn same_key_with_different_parameters_is_an_idempotency_error() {
    let sb = Sb::start().await;
    sb.post_idem("/v1/payment_intents", PI_FORM, "key-x")
        .await
        .ok();
    let mut other = PI_FORM.to_vec();
    other[0] = ("amount", "2001");
    let r = sb.post_idem("/v1/payment_intents", &other, "key-x").await;
    assert_eq!(r.status, 400);
    assert_eq!(s(r.err(), "type"), "idempotency_error");
    assert!(s(r.err(), "message").contains("key-x"));
    // Another endpoint with the same key is also a different request.
    let r = sb.post_idem("/v1/customers", &[], "key-x").await;
    assert_eq!(s(r.err(), "type"), "idempotency_error");
    assert_eq!(sb.count("/v1/payment_intents").await, 1);
}

#[tokio::test]
async fn same_key_while_the_first_request_runs_is_a_409() {
    let sb = Sb::start().await;
    sb.control(
        "/faults",
        json!({"kind": "delay", "delay_ms": 1500, "path_prefix": "/v1/payment_intents"}),
    )
    .await
    .ok();
    let slow = sb.post_idem("/v1/payment_intents", PI_FORM, "key-slow");
    let conflict = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        sb.post_idem("/v1/payment_intents", PI_FORM, "key-slow")
            .await
    };
    let started = Instant::now();
    let (first, second) = tokio::join!(slow, conflict);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(first.status, 200);
    assert_eq!(second.status, 409);
    assert_eq!(s(second.err(), "code"), "idempotency_key_in_use");
    assert_eq!(second.header("stripe-should-retry"), Some("true"));
    // Once done, the key replays.
    let third = sb
        .post_idem("/v1/payment_intents", PI_FORM, "key-slow")
        .await;
    assert_eq!(third.header("idempotent-replayed"), Some("true"));
    assert_eq!(third.json, first.json);
}

#[tokio::test]
async fn nothing_is_stored_for_requests_failing_validation() {
    let sb = Sb::start().await;
    let r = sb
        .post_idem(
            "/v1/payment_intents",
            &[("amount", "abc"), ("currency", "usd")],
            "key-v",
        )
        .await;
    assert_eq!(r.status, 400);
    // The same key with fixed parameters runs normally (no idempotency_error, no replay).
    let ok = sb.post_idem("/v1/payment_intents", PI_FORM, "key-v").await;
    assert_eq!(ok.status, 200);
    assert!(ok.header("idempotent-replayed").is_none());
    // Rate-limited requests store nothing either.
    sb.control("/faults", json!({"kind": "rate_limit"}))
        .await
        .ok();
    let limited = sb
        .post_idem("/v1/customers", &[("name", "A")], "key-r")
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(s(limited.err(), "code"), "rate_limit");
    let after = sb
        .post_idem("/v1/customers", &[("name", "A")], "key-r")
        .await;
    assert_eq!(after.status, 200);
    assert!(after.header("idempotent-replayed").is_none());
}

#[tokio::test]
async fn idempotency_keys_are_scoped_by_api_key() {
    let sb = Sb::start().await;
    let a = sb
        .post_idem("/v1/customers", &[("name", "A")], "shared")
        .await
        .ok();
    let b = sb
        .send(
            reqwest::Method::POST,
            "/v1/customers",
            Some(SK2),
            &[("name", "A")],
            Some("shared"),
        )
        .await;
    assert_eq!(b.status, 200);
    assert!(b.header("idempotent-replayed").is_none());
    assert_ne!(s(&a, "id"), s(&b.json, "id"));
    let long = "k".repeat(256);
    let r = sb.post_idem("/v1/customers", &[], &long).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn injected_500s_are_stored_like_stripe_stores_them() {
    let sb = Sb::start().await;
    sb.control("/faults", json!({"kind": "api_error", "count": 1}))
        .await
        .ok();
    let r = sb
        .post_idem("/v1/payment_intents", PI_FORM, "key-500")
        .await;
    assert_eq!(r.status, 500);
    assert_eq!(s(r.err(), "type"), "api_error");
    assert_eq!(r.header("stripe-should-retry"), Some("true"));
    assert_eq!(
        sb.count("/v1/payment_intents").await,
        0,
        "the failed request had no effect"
    );
    // The same key replays the 500; a new key goes through.
    let replay = sb
        .post_idem("/v1/payment_intents", PI_FORM, "key-500")
        .await;
    assert_eq!(
        (replay.status, replay.header("idempotent-replayed")),
        (500, Some("true"))
    );
    assert_eq!(
        sb.post_idem("/v1/payment_intents", PI_FORM, "key-500b")
            .await
            .status,
        200
    );
    // Faults can target a path and a count.
    sb.control(
        "/faults",
        json!({"kind": "api_error", "count": 2, "path_prefix": "/v1/customers"}),
    )
    .await
    .ok();
    assert_eq!(sb.get("/v1/payment_intents").await.status, 200);
    assert_eq!(sb.get("/v1/customers").await.status, 500);
    assert_eq!(sb.get("/v1/customers").await.status, 500);
    assert_eq!(sb.get("/v1/customers").await.status, 200);
    let listed = sb.control_get("/faults").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn delay_fault_slows_the_request() {
    let sb = Sb::start().await;
    sb.control("/faults", json!({"kind": "delay", "delay_ms": 300}))
        .await
        .ok();
    let t = Instant::now();
    sb.get("/v1/customers").await.ok();
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    sb.get("/v1/customers").await.ok();
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn dropped_connection_before_the_request_took_effect() {
    let sb = Sb::start().await;
    sb.control("/faults", json!({"kind": "drop_before"}))
        .await
        .ok();
    let r = sb
        .try_send(
            reqwest::Method::POST,
            "/v1/payment_intents",
            Some(SK),
            PI_FORM,
            Some("key-drop-1"),
        )
        .await;
    let e = r.err().expect("no answer");
    assert!(!e.is_status(), "{e}");
    assert_eq!(sb.count("/v1/payment_intents").await, 0);
    // The retry with the same key executes for the first time.
    let retry = sb
        .post_idem("/v1/payment_intents", PI_FORM, "key-drop-1")
        .await;
    assert_eq!(retry.status, 200);
    assert!(retry.header("idempotent-replayed").is_none());
    assert_eq!(sb.count("/v1/payment_intents").await, 1);
}

#[tokio::test]
async fn dropped_connection_after_the_request_took_effect_then_idempotent_retry() {
    let sb = Sb::start().await;
    sb.control(
        "/faults",
        json!({"kind": "drop_after", "path_prefix": "/v1/payment_intents", "method": "POST"}),
    )
    .await
    .ok();
    let r = sb
        .try_send(
            reqwest::Method::POST,
            "/v1/payment_intents",
            Some(SK),
            PI_FORM,
            Some("key-drop-2"),
        )
        .await;
    assert!(r.is_err(), "the answer is lost");
    // ...but the payment happened.
    let listed = sb.get("/v1/payment_intents").await.ok();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let id = s(&listed, "data.0.id");
    assert_eq!(s(&listed, "data.0.status"), "succeeded");
    // The client retries with the same key and gets the stored result.
    let retry = sb
        .post_idem("/v1/payment_intents", PI_FORM, "key-drop-2")
        .await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(s(&retry.json, "id"), id);
    assert_eq!(sb.count("/v1/payment_intents").await, 1);
    assert_eq!(sb.count("/v1/charges").await, 1);
}

#[tokio::test]
async fn a_drop_after_fault_also_loses_an_idempotent_replay() {
    let sb = Sb::start().await;
    sb.control(
        "/faults",
        json!({"kind": "drop_after", "count": 2, "path_prefix": "/v1/payment_intents", "method": "POST"}),
    )
    .await
    .ok();
    for attempt in 1..=2 {
        let r = sb
            .try_send(
                reqwest::Method::POST,
                "/v1/payment_intents",
                Some(SK),
                PI_FORM,
                Some("key-drop-twice"),
            )
            .await;
        assert!(r.is_err(), "attempt {attempt}: the answer is lost");
    }
    let third = sb
        .post_idem("/v1/payment_intents", PI_FORM, "key-drop-twice")
        .await;
    assert_eq!(third.status, 200);
    assert_eq!(third.header("idempotent-replayed"), Some("true"));
    assert_eq!(sb.count("/v1/payment_intents").await, 1);
}

async fn with_endpoint(secret: &str) -> (Sb, Receiver) {
    let rx = receiver().await;
    let mut config = config();
    config.webhook_endpoints = vec![(rx.url.clone(), secret.to_owned())];
    (Sb::start_with(config).await, rx)
}

#[tokio::test]
async fn webhooks_are_signed_like_stripe() {
    let secret = "whsec_test_5up3rS3cr3t";
    let (sb, rx) = with_endpoint(secret).await;
    let pi = sb.pay("pm_card_visa", &[]).await.ok();
    let hits = rx.wait_for(3).await;
    for hit in &hits {
        assert!(
            verify_signature(secret, &hit.signature, &hit.body, 300),
            "{}",
            hit.signature
        );
        assert!(!verify_signature(
            "whsec_wrong",
            &hit.signature,
            &hit.body,
            300
        ));
        let mut tampered = hit.body.clone();
        tampered[10] ^= 1;
        assert!(!verify_signature(secret, &hit.signature, &tampered, 300));
        assert!(hit.content_type.starts_with("application/json"));
        assert!(hit.user_agent.starts_with("Stripe/1.0"));
        let ev = hit.json();
        assert!(s(&ev, "id").starts_with("evt_"));
        assert_eq!(s(&ev, "object"), "event");
        assert_eq!(s(&ev, "api_version"), "2024-06-20");
        assert_eq!(j(&ev, "livemode"), json!(false));
        assert!(ev["request"]["id"].as_str().unwrap().starts_with("req_"));
        assert!(ev["created"].is_i64());
        assert!(ev["data"]["object"].is_object());
    }
    let mut types = rx.event_types();
    types.sort();
    assert_eq!(
        types,
        vec![
            "charge.succeeded",
            "payment_intent.created",
            "payment_intent.succeeded"
        ]
    );
    let succeeded = hits
        .iter()
        .map(Hit::json)
        .find(|e| e["type"] == "payment_intent.succeeded")
        .unwrap();
    assert_eq!(s(&succeeded, "data.object.id"), s(&pi, "id"));
    // Deliveries are listed with their attempts.
    let deliveries = eventually(5, "3 successful deliveries", || async {
        let ds = sb.deliveries("?status=succeeded").await;
        (ds.len() == 3).then_some(ds)
    })
    .await;
    for d in &deliveries {
        assert_eq!(s(d, "status"), "succeeded");
        assert_eq!(j(d, "attempts.0.http_status"), json!(200));
    }
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_on_the_sandbox_clock() {
    let (sb, rx) = with_endpoint("whsec_retry").await;
    rx.status.store(500, std::sync::atomic::Ordering::SeqCst);
    let cus = sb.customer().await;
    rx.wait_for(1).await;
    let d = eventually(5, "the first attempt to be recorded", || async {
        let ds = sb.deliveries("?event_type=customer.created").await;
        let d = ds[0].clone();
        (d["attempts"].as_array().unwrap().len() == 1 && d["next_attempt_at"].is_i64()).then_some(d)
    })
    .await;
    assert_eq!(s(&d, "status"), "pending");
    assert_eq!(j(&d, "attempts.0.http_status"), json!(500));
    let first_at = j(&d, "attempts.0.at").as_i64().unwrap();
    let next = j(&d, "next_attempt_at").as_i64().unwrap();
    assert!(
        (59..=61).contains(&(next - first_at)),
        "first retry after ~1 minute"
    );
    // Not yet due.
    sb.control("/clock/advance", json!({"seconds": 30}))
        .await
        .ok();
    assert_eq!(rx.hits().len(), 1);
    // Due: the retry fires while the clock moves.
    sb.control("/clock/advance", json!({"seconds": 31}))
        .await
        .ok();
    assert_eq!(rx.hits().len(), 2);
    let d = &sb.deliveries("?event_type=customer.created").await[0];
    let second_next = j(d, "next_attempt_at").as_i64().unwrap();
    let second_at = j(d, "attempts.1.at").as_i64().unwrap();
    assert!(
        (119..=121).contains(&(second_next - second_at)),
        "then ~2 minutes"
    );
    // Same event, new signature each attempt.
    let hits = rx.hits();
    assert_eq!(hits[0].json()["id"], hits[1].json()["id"]);
    assert!(verify_signature(
        "whsec_retry",
        &hits[1].signature,
        &hits[1].body,
        300
    ));
    // The endpoint recovers: the next retry succeeds and it stops.
    rx.status.store(200, std::sync::atomic::Ordering::SeqCst);
    sb.control("/clock/advance", json!({"seconds": 600}))
        .await
        .ok();
    let d = &sb.deliveries("?event_type=customer.created").await[0];
    assert_eq!(s(d, "status"), "succeeded");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 3);
    sb.control("/clock/advance", json!({"seconds": 86400}))
        .await
        .ok();
    assert_eq!(rx.hits().len(), 3);
    let ev = sb
        .get(&format!("/v1/events/{}", s(d, "event_id")))
        .await
        .ok();
    assert_eq!(j(&ev, "pending_webhooks"), json!(0));
    assert_eq!(s(&rx.hits()[0].json(), "data.object.id"), cus);
}

#[tokio::test]
async fn deliveries_give_up_after_three_days() {
    // Nothing listens on this port: every attempt is a connection error.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = config();
    config.webhook_endpoints = vec![(
        format!("http://127.0.0.1:{port}/webhook"),
        "whsec_dead".into(),
    )];
    let sb = Sb::start_with(config).await;
    sb.customer().await;
    eventually(5, "first attempt", || async {
        let ds = sb.deliveries("").await;
        (!ds[0]["attempts"].as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    sb.control("/clock/advance", json!({"seconds": 2 * 86400}))
        .await
        .ok();
    let d = &sb.deliveries("").await[0];
    assert_eq!(s(d, "status"), "pending", "still retrying after 2 days");
    sb.control("/clock/advance", json!({"seconds": 2 * 86400}))
        .await
        .ok();
    let d = &sb.deliveries("").await[0];
    assert_eq!(s(d, "status"), "failed", "gave up after 3 days: {d}");
    let attempts = d["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 10, "{}", attempts.len());
    assert!(attempts
        .iter()
        .all(|a| a["error"].is_string() && a["http_status"].is_null()));
    let times: Vec<i64> = attempts.iter().map(|a| a["at"].as_i64().unwrap()).collect();
    let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).all(|g| g[1] >= g[0]),
        "backoff never shrinks: {gaps:?}"
    );
    assert!(gaps[1] >= 2 * gaps[0] - 2, "exponential: {gaps:?}");
    assert!(times.last().unwrap() - times[0] <= 3 * 86400);
    assert!(d["next_attempt_at"].is_null());
}

#[tokio::test]
async fn delivery_controls_pause_reverse_duplicate_delay() {
    let (sb, rx) = with_endpoint("whsec_ctl").await;
    sb.control("/webhooks/pause", empty()).await.ok();
    for name in ["first", "second", "third"] {
        sb.post("/v1/customers", &[("name", name)]).await.ok();
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(rx.hits().is_empty(), "paused");
    assert_eq!(sb.deliveries("?status=pending").await.len(), 3);
    let controls = sb
        .control("/webhooks", json!({"reverse": true, "paused": false}))
        .await
        .ok();
    assert_eq!(
        controls,
        json!({"paused": false, "duplicate": false, "delay_ms": 0, "reverse": true})
    );
    let hits = rx.wait_for(3).await;
    let names: Vec<String> = hits
        .iter()
        .map(|h| s(&h.json(), "data.object.name"))
        .collect();
    assert_eq!(
        names,
        vec!["third", "second", "first"],
        "queued events delivered newest first"
    );

    sb.control(
        "/webhooks",
        json!({"reverse": false, "duplicate": true, "delay_ms": 150}),
    )
    .await
    .ok();
    let t = Instant::now();
    sb.post("/v1/customers", &[("name", "fourth")]).await.ok();
    let hits = rx.wait_for(5).await;
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        hits[3].json()["id"],
        hits[4].json()["id"],
        "the same event twice"
    );
    let succeeded = eventually(5, "4 successful deliveries", || async {
        let ds = sb.deliveries("?status=succeeded").await;
        (ds.len() == 4).then_some(ds)
    })
    .await;
    let d = &succeeded[3];
    assert_eq!(d["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(j(d, "attempts.1.duplicate"), json!(true));
    // Flush is a no-op when nothing is due.
    let flushed = sb.control("/webhooks/flush", empty()).await.ok();
    assert_eq!(flushed["data"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn webhook_endpoints_can_be_registered_at_run_time() {
    let sb = Sb::start().await;
    let rx = receiver().await;
    sb.customer().await;
    let ep = sb
        .control("/webhook_endpoints", json!({"url": rx.url, "secret": "whsec_late", "enabled_events": ["payment_intent.succeeded"]}))
        .await
        .ok();
    assert!(s(&ep, "id").starts_with("we_"));
    sb.pay("pm_card_visa", &[]).await.ok();
    let hits = rx.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        rx.event_types(),
        vec!["payment_intent.succeeded"],
        "filtered by enabled_events"
    );
    assert!(verify_signature(
        "whsec_late",
        &hits[0].signature,
        &hits[0].body,
        300
    ));
    let listed = sb.control_get("/webhook_endpoints").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    // Library API too.
    let rx2 = receiver().await;
    sb.running.add_webhook_endpoint(&rx2.url, "whsec_lib");
    sb.customer().await;
    let hits = rx2.wait_for(1).await;
    assert!(verify_signature(
        "whsec_lib",
        &hits[0].signature,
        &hits[0].body,
        300
    ));
    let r = sb
        .control("/webhook_endpoints", json!({"url": "not a url"}))
        .await;
    assert_eq!(r.status, 400);
    let r = sb.control("/webhook_endpoints", json!("{nope")).await;
    assert_eq!(r.status, 400);
    assert_eq!(s(r.err(), "type"), "invalid_request_error");
}

#[tokio::test]
async fn state_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data").join("sandbox.json");
    let mut cfg = config();
    cfg.state_file = Some(file.clone());
    cfg.persist_debounce = Duration::from_millis(20);

    let sb = Sb::start_with(cfg.clone()).await;
    let cus = sb.customer().await;
    let pi = sb
        .post_idem(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
                ("customer", &cus),
                ("setup_future_usage", "off_session"),
            ],
            "persist-1",
        )
        .await
        .ok();
    sb.control("/clock/advance", json!({"seconds": 3600}))
        .await
        .ok();
    // Debounced write happens without shutting down.
    eventually(5, "the state file", || async {
        file.exists().then_some(())
    })
    .await;
    sb.running.shutdown().await;
    let raw = std::fs::read(&file).unwrap();
    let snapshot: serde_json::Value = serde_json::from_slice(&raw).expect("valid JSON");
    assert!(snapshot["payment_intents"].is_array());
    assert!(!dir.path().join("data").join("sandbox.json.tmp").exists());

    let sb2 = Sb::start_with(cfg).await;
    let got = sb2
        .get(&format!("/v1/payment_intents/{}", s(&pi, "id")))
        .await
        .ok();
    assert_eq!(got, pi);
    let saved = sb2
        .get_q(
            &format!("/v1/customers/{cus}/payment_methods"),
            &[("type", "card")],
        )
        .await
        .ok();
    assert_eq!(saved["data"].as_array().unwrap().len(), 1);
    // Idempotency records survive too.
    let replay = sb2
        .post_idem(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
                ("customer", &cus),
                ("setup_future_usage", "off_session"),
            ],
            "persist-1",
        )
        .await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json["id"], pi["id"]);
    // And the clock offset.
    let clock = sb2.control_get("/clock").await;
    assert!(clock["offset"].as_i64().unwrap() >= 3600);
    assert_eq!(
        sb2.count("/v1/events").await,
        sb2.get_q("/v1/events", &[("limit", "100")]).await.ok()["data"]
            .as_array()
            .unwrap()
            .len()
    );
    // A saved card still pays off-session after the restart.
    let off = sb2
        .pay(
            &s(&saved, "data.0.id"),
            &[("customer", &cus), ("off_session", "true")],
        )
        .await
        .ok();
    assert_eq!(s(&off, "status"), "succeeded");
    sb2.running.shutdown().await;

    // A corrupt state file is an error, not silently discarded.
    std::fs::write(&file, b"{not json").unwrap();
    let mut bad = config();
    bad.state_file = Some(file);
    assert!(stripe_sandbox::start(bad).await.is_err());
}
