//! Webhooks: signatures, retries on the sandbox clock, delivery controls, endpoints.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn webhooks_are_signed_like_stripe() {
    let secret = "whsec_test_5up3rS3cr3t";
    let (sb, rx) = TestSandbox::with_webhook_receiver(secret).await;
    let pi = sb.pay_ok("pm_card_visa", &[]).await;
    let hits = rx.wait_for(3).await;
    for hit in &hits {
        assert!(hit.is_signed_with(secret), "{}", hit.signature);
        assert!(!hit.is_signed_with("whsec_wrong"));
        let mut tampered = hit.body.clone();
        tampered[10] ^= 1;
        assert!(!verify_signature(secret, &hit.signature, &tampered, 300));
        assert!(hit.content_type.starts_with("application/json"));
        assert!(hit.user_agent.starts_with("Stripe/1.0"));
        let ev = hit.json();
        assert!(str_at(&ev, "id").starts_with("evt_"));
        assert_eq!(str_at(&ev, "object"), "event");
        assert_eq!(str_at(&ev, "api_version"), "2024-06-20");
        assert_eq!(value_at(&ev, "livemode"), json!(false));
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
        .map(WebhookHit::json)
        .find(|e| e["type"] == "payment_intent.succeeded")
        .unwrap();
    assert_eq!(str_at(&succeeded, "data.object.id"), str_at(&pi, "id"));
    // Deliveries are listed with their attempts.
    let deliveries = eventually(5, "3 successful deliveries", || async {
        let ds = sb.deliveries("?status=succeeded").await;
        (ds.len() == 3).then_some(ds)
    })
    .await;
    for d in &deliveries {
        assert_eq!(str_at(d, "status"), "succeeded");
        assert_eq!(value_at(d, "attempts.0.http_status"), json!(200));
    }
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_on_the_sandbox_clock() {
    let (sb, rx) = TestSandbox::with_webhook_receiver("whsec_retry").await;
    rx.answer_with(500);
    let cus = sb.create_customer().await;
    rx.wait_for(1).await;
    let d = eventually(5, "the first attempt to be recorded", || async {
        let ds = sb.deliveries("?event_type=customer.created").await;
        let d = ds[0].clone();
        (d["attempts"].as_array().unwrap().len() == 1 && d["next_attempt_at"].is_i64()).then_some(d)
    })
    .await;
    assert_eq!(str_at(&d, "status"), "pending");
    assert_eq!(value_at(&d, "attempts.0.http_status"), json!(500));
    let first_at = value_at(&d, "attempts.0.at").as_i64().unwrap();
    let next = value_at(&d, "next_attempt_at").as_i64().unwrap();
    assert!(
        (59..=61).contains(&(next - first_at)),
        "first retry after ~1 minute"
    );
    // Not yet due.
    sb.advance_clock(30).await;
    assert_eq!(rx.hits().len(), 1);
    // Due: the retry fires while the clock moves.
    sb.advance_clock(31).await;
    assert_eq!(rx.hits().len(), 2);
    let d = &sb.deliveries("?event_type=customer.created").await[0];
    let second_next = value_at(d, "next_attempt_at").as_i64().unwrap();
    let second_at = value_at(d, "attempts.1.at").as_i64().unwrap();
    assert!(
        (119..=121).contains(&(second_next - second_at)),
        "then ~2 minutes"
    );
    // Same event, new signature each attempt.
    let hits = rx.hits();
    assert_eq!(hits[0].json()["id"], hits[1].json()["id"]);
    assert!(hits[1].is_signed_with("whsec_retry"));
    // The endpoint recovers: the next retry succeeds and it stops.
    rx.answer_with(200);
    sb.advance_clock(600).await;
    let d = &sb.deliveries("?event_type=customer.created").await[0];
    assert_eq!(str_at(d, "status"), "succeeded");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 3);
    sb.advance_clock(86400).await;
    assert_eq!(rx.hits().len(), 3);
    let ev = sb.retrieve("events", &str_at(d, "event_id")).await;
    assert_eq!(value_at(&ev, "pending_webhooks"), json!(0));
    assert_eq!(str_at(&rx.hits()[0].json(), "data.object.id"), cus);
}

#[tokio::test]
async fn deliveries_give_up_after_three_days() {
    // Nothing listens on this port: every attempt is a connection error.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = loopback_config();
    config.webhook_endpoints = vec![(
        format!("http://127.0.0.1:{port}/webhook"),
        "whsec_dead".into(),
    )];
    let sb = TestSandbox::start_with(config).await;
    sb.create_customer().await;
    eventually(5, "first attempt", || async {
        let ds = sb.deliveries("").await;
        (!ds[0]["attempts"].as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    sb.advance_clock(2 * 86400).await;
    let d = &sb.deliveries("").await[0];
    assert_eq!(
        str_at(d, "status"),
        "pending",
        "still retrying after 2 days"
    );
    sb.advance_clock(2 * 86400).await;
    let d = &sb.deliveries("").await[0];
    assert_eq!(str_at(d, "status"), "failed", "gave up after 3 days: {d}");
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
    let (sb, rx) = TestSandbox::with_webhook_receiver("whsec_ctl").await;
    sb.control_ok("/webhooks/pause").await;
    for name in ["first", "second", "third"] {
        sb.post_ok("/v1/customers", &[("name", name)]).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(rx.hits().is_empty(), "paused");
    assert_eq!(sb.deliveries("?status=pending").await.len(), 3);
    let unpause = json!({"reverse": true, "paused": false});
    let controls = sb.control_ok_with("/webhooks", unpause).await;
    assert_eq!(
        controls,
        json!({"paused": false, "duplicate": false, "delay_ms": 0, "reverse": true, "parallel": 1})
    );
    let hits = rx.wait_for(3).await;
    let names: Vec<String> = hits
        .iter()
        .map(|h| str_at(&h.json(), "data.object.name"))
        .collect();
    assert_eq!(
        names,
        vec!["third", "second", "first"],
        "queued events delivered newest first"
    );

    let duplicate = json!({"reverse": false, "duplicate": true, "delay_ms": 150});
    sb.control_ok_with("/webhooks", duplicate).await;
    let t = Instant::now();
    sb.post_ok("/v1/customers", &[("name", "fourth")]).await;
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
    assert_eq!(value_at(d, "attempts.1.duplicate"), json!(true));
    // Flush is a no-op when nothing is due.
    let flushed = sb.control_ok("/webhooks/flush").await;
    assert_eq!(list_data(&flushed).len(), 4);
}

#[tokio::test]
async fn parallel_lanes_send_an_endpoints_deliveries_at_once_and_settle() {
    let (sb, rx) = TestSandbox::with_webhook_receiver("whsec_lanes").await;
    let handle = sb.running.sandbox();
    assert!(handle.webhooks_settled(), "nothing to send yet");
    sb.control_ok("/webhooks/pause").await;
    let names: Vec<String> = (0..8).map(|i| format!("lane {i}")).collect();
    for name in &names {
        sb.post_ok("/v1/customers", &[("name", name.as_str())])
            .await;
    }
    assert!(!handle.webhooks_settled(), "8 deliveries due (paused)");
    // Each delivery waits 300 ms first: one after another they would take 2.4 s.
    let lanes = json!({"parallel": 8, "delay_ms": 300, "paused": false});
    let controls = sb.control_ok_with("/webhooks", lanes).await;
    assert_eq!(controls["parallel"], json!(8));
    let t = Instant::now();
    let hits = rx.wait_for(8).await;
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "8 lanes at once, not one after another: {:?}",
        t.elapsed()
    );
    let mut got: Vec<String> = hits
        .iter()
        .map(|h| str_at(&h.json(), "data.object.name"))
        .collect();
    got.sort();
    assert_eq!(got, names, "every event once");
    eventually(5, "the sandbox settled", || async {
        handle.webhooks_settled().then_some(())
    })
    .await;
    // 0 lanes is one lane.
    let one = sb
        .control_ok_with("/webhooks", json!({"parallel": 0}))
        .await;
    assert_eq!(one["parallel"], json!(1));
}

#[tokio::test]
async fn webhook_endpoints_can_be_registered_at_run_time() {
    let sb = TestSandbox::start().await;
    let rx = WebhookReceiver::start().await;
    sb.create_customer().await;
    let endpoint = json!({"url": rx.url, "secret": "whsec_late", "enabled_events": ["payment_intent.succeeded"]});
    let ep = sb.control_ok_with("/webhook_endpoints", endpoint).await;
    assert!(str_at(&ep, "id").starts_with("we_"));
    sb.pay_ok("pm_card_visa", &[]).await;
    let hits = rx.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        rx.event_types(),
        vec!["payment_intent.succeeded"],
        "filtered by enabled_events"
    );
    assert!(hits[0].is_signed_with("whsec_late"));
    let listed = sb.control_get("/webhook_endpoints").await;
    assert_eq!(list_data(&listed).len(), 1);
    // Library API too.
    let rx2 = WebhookReceiver::start().await;
    sb.running.add_webhook_endpoint(&rx2.url, "whsec_lib");
    sb.create_customer().await;
    let hits = rx2.wait_for(1).await;
    assert!(hits[0].is_signed_with("whsec_lib"));
    let r = sb
        .control_post("/webhook_endpoints", json!({"url": "not a url"}))
        .await;
    assert_eq!(r.status, 400);
    let r = sb.control_post("/webhook_endpoints", json!("{nope")).await;
    assert_eq!(r.status, 400);
    assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
}
