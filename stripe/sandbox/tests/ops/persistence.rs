//! The state file: snapshots survive a restart; a corrupt file stops the start.

use std::time::Duration;

use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn state_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data").join("sandbox.json");
    let mut cfg = loopback_config();
    cfg.state_file = Some(file.clone());
    cfg.persist_debounce = Duration::from_millis(20);

    let sb = TestSandbox::start_with(cfg.clone()).await;
    let cus = sb.create_customer().await;
    let saving_payment = payment_form(
        "pm_card_visa",
        &[("customer", &cus), ("setup_future_usage", "off_session")],
    );
    let pi = sb
        .post_idempotent("/v1/payment_intents", &saving_payment, "persist-1")
        .await
        .expect_ok();
    sb.advance_clock(3600).await;
    // Debounced write happens without shutting down.
    eventually(5, "the state file", || async {
        file.exists().then_some(())
    })
    .await;
    sb.running.shutdown().await;
    let raw = std::fs::read(&file).unwrap();
    let snapshot: Value = serde_json::from_slice(&raw).expect("valid JSON");
    assert!(snapshot["payment_intents"].is_array());
    assert!(!dir.path().join("data").join("sandbox.json.tmp").exists());

    let sb2 = TestSandbox::start_with(cfg).await;
    let got = sb2.retrieve("payment_intents", &str_at(&pi, "id")).await;
    assert_eq!(got, pi);
    let saved = sb2.customer_cards(&cus).await.expect_ok();
    assert_eq!(list_data(&saved).len(), 1);
    // Idempotency records survive too.
    let replay = sb2
        .post_idempotent("/v1/payment_intents", &saving_payment, "persist-1")
        .await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json["id"], pi["id"]);
    // And the clock offset.
    let clock = sb2.control_get("/clock").await;
    assert!(clock["offset"].as_i64().unwrap() >= 3600);
    let events = sb2.get_query_ok("/v1/events", &[("limit", "100")]).await;
    assert_eq!(sb2.list_len("/v1/events").await, list_data(&events).len());
    // A saved card still pays off-session after the restart.
    let off_session = [("customer", cus.as_str()), ("off_session", "true")];
    let off = sb2.pay_ok(&str_at(&saved, "data.0.id"), &off_session).await;
    assert_eq!(str_at(&off, "status"), "succeeded");
    sb2.running.shutdown().await;

    // A corrupt state file is an error, not silently discarded.
    std::fs::write(&file, b"{not json").unwrap();
    let mut bad = loopback_config();
    bad.state_file = Some(file);
    assert!(stripe_sandbox::start(bad).await.is_err());
}
