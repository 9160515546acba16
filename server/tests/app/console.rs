//! The console's payouts, events, dashboard and reconciliation: payouts follow Stripe's
//! statuses (never back), a parked event is processed again, the dashboard adds up the
//! day per currency, and one reconciliation after the webhook endpoint was unreachable
//! leaves every record right with nothing twice. SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use serde_json::json;
use stripe_client::{CreateRefund, IdempotencyKey, ListEvents};

use crate::support::{
    browser, merchant, order_confirmed_with, order_paid_with, spawn_app, Backend, TestApp,
};

on_both_backends!(
    payouts_follow_stripe_and_failures_are_flagged,
    a_parked_event_is_processed_again,
    the_dashboard_adds_up_the_day_per_currency,
    one_reconciliation_catches_up_after_the_webhook_was_unreachable,
    only_merchants_see_payouts_events_and_reconciliation,
    the_sweeper_settles_an_order_whose_webhook_was_lost,
);

fn sandbox(app: &TestApp) -> String {
    app.server.stripe.sandbox.as_ref().unwrap().url().to_owned()
}

async fn control(app: &TestApp, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = app
        .client
        .post(format!("{}/_sandbox/{path}", sandbox(app)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

/// A page's HTML as `client` sees it (answered 200).
async fn html_as(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let page = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200, "{path}");
    page.text().await.unwrap()
}

/// Waits until `check` holds (the webhook is asynchronous).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn payouts(app: &TestApp, merchant: &reqwest::Client) -> Vec<serde_json::Value> {
    let r = app.call_as(merchant, "merchant_payouts", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body.as_array().unwrap().clone()
}

async fn payout_status(app: &TestApp, merchant: &reqwest::Client, id: &str) -> Option<String> {
    payouts(app, merchant)
        .await
        .into_iter()
        .find(|p| p["id"] == id)
        .map(|p| p["status"].as_str().unwrap().to_owned())
}

async fn payouts_follow_stripe_and_failures_are_flagged(app: &TestApp) {
    let merchant = merchant(app).await;
    let paid = control(app, "payouts", json!({"amount": 5000})).await;
    let paid_id = paid["id"].as_str().unwrap().to_owned();
    eventually("the payout is pending", || async {
        payout_status(app, &merchant, &paid_id).await.as_deref() == Some("pending")
    })
    .await;
    control(app, &format!("payouts/{paid_id}/in_transit"), json!({})).await;
    control(app, &format!("payouts/{paid_id}/paid"), json!({})).await;
    eventually("the payout is paid", || async {
        payout_status(app, &merchant, &paid_id).await.as_deref() == Some("paid")
    })
    .await;
    // An older fact delivered again (a late `payout.created`) moves nothing back.
    let created = app
        .server
        .stripe
        .client
        .list_events(&ListEvents {
            kind: Some("payout.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let first = created
        .data
        .iter()
        .find(|e| e.object_id() == Some(paid_id.as_str()))
        .unwrap();
    let mut stale: stripe_client::Payout = first.object_as().unwrap();
    stale.status = stripe_types::PayoutStatus::Pending.into();
    app.server
        .store
        .apply_payout(&stale, first.created - 1)
        .await
        .unwrap();
    assert_eq!(
        payout_status(app, &merchant, &paid_id).await.as_deref(),
        Some("paid")
    );

    let failed = control(app, "payouts", json!({"amount": 1200})).await;
    let failed_id = failed["id"].as_str().unwrap().to_owned();
    control(
        app,
        &format!("payouts/{failed_id}/failed"),
        json!({"failure_code": "account_closed"}),
    )
    .await;
    eventually("the payout failed", || async {
        payout_status(app, &merchant, &failed_id).await.as_deref() == Some("failed")
    })
    .await;
    let row = payouts(app, &merchant)
        .await
        .into_iter()
        .find(|p| p["id"] == failed_id.as_str())
        .unwrap();
    assert_eq!(row["failure_code"], "account_closed");
    assert_eq!(row["amount"]["minor"], 1200);
    // Flagged on the dashboard and marked on the payouts page.
    let dashboard = app.call_as(&merchant, "merchant_dashboard", &[]).await;
    assert_eq!(dashboard.status, 200, "{}", dashboard.body);
    let flagged = dashboard.body["failed_payouts"].as_array().unwrap();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(flagged[0]["id"], failed_id.as_str());
    let html = html_as(app, &merchant, "/merchant/payouts").await;
    assert!(html.contains(&format!(
        "data-status=\"failed\" data-payout=\"{failed_id}\""
    )));
    assert!(html.contains(&format!("data-status=\"paid\" data-payout=\"{paid_id}\"")));
    // Stored once each, by po_ id.
    assert_eq!(app.count("payouts").await, 2);
}

async fn a_parked_event_is_processed_again(app: &TestApp) {
    let merchant = merchant(app).await;
    let (order_id, pi) = order_paid_with(app, "pm_card_visa").await;
    eventually("the order is paid", || async {
        app.server
            .store
            .order(&shop::OrderId::parse(&order_id).unwrap())
            .await
            .unwrap()
            .status
            == shop::OrderStatus::Paid
    })
    .await;
    // A payment event that failed ten times (a database outage, say) waits for a human.
    let event = app
        .server
        .stripe
        .client
        .list_events(&ListEvents {
            kind: Some("payment_intent.succeeded".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .data
        .into_iter()
        .find(|e| e.object_id() == Some(pi.as_str()))
        .unwrap();
    // (Stored and processed first: the order may be paid by `charge.succeeded` before.)
    eventually("the event is processed", || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM stripe_events WHERE id = $1 AND processed_at IS NOT NULL",
        )
        .bind(&event.id)
        .fetch_one(app.server.store.pool())
        .await
        .unwrap()
            == 1
    })
    .await;
    sqlx::query(
        "UPDATE stripe_events SET processed_at = NULL, attempts = 10, last_error = 'db down' \
         WHERE id = $1",
    )
    .bind(&event.id)
    .execute(app.server.store.pool())
    .await
    .unwrap();
    let parked = app
        .call_as(&merchant, "merchant_events", &[("parked", "1")])
        .await;
    assert_eq!(parked.status, 200, "{}", parked.body);
    let rows = parked.body["events"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["id"], event.id.as_str());
    assert_eq!(rows[0]["parked"], true);
    assert_eq!(rows[0]["last_error"], "db down");
    assert_eq!(rows[0]["order_id"], order_id.as_str());
    let dashboard = app.call_as(&merchant, "merchant_dashboard", &[]).await;
    assert_eq!(dashboard.body["parked_events"], 1);
    let html = html_as(app, &merchant, "/merchant/events?parked=1").await;
    assert!(html.contains("data-testid=\"event-row\""), "{html}");
    assert!(html.contains("data-testid=\"event-retry\""));

    let again = app
        .call_as(&merchant, "process_event_again", &[("event_id", &event.id)])
        .await;
    assert_eq!((again.status, &again.body), (200, &json!(true)));
    let parked = app
        .call_as(&merchant, "merchant_events", &[("parked", "1")])
        .await;
    assert!(parked.body["events"].as_array().unwrap().is_empty());
    // Once processed, there is nothing to process again; an unknown id is 404.
    for id in [event.id.as_str(), "evt_nope"] {
        let r = app
            .call_as(&merchant, "process_event_again", &[("event_id", id)])
            .await;
        assert_eq!(r.status, 404, "{id}: {}", r.body);
    }
    // Recorded in the audit trail.
    let audit: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM merchant_audit WHERE action = 'event processed again'",
    )
    .fetch_one(app.server.store.pool())
    .await
    .unwrap();
    assert_eq!(audit, 1);
}

/// A guest's order whose payment was declined (4000 0000 0000 0002) at the sandbox.
async fn declined_order(app: &TestApp) -> String {
    let (order_id, _, declined) = order_confirmed_with(app, "pm_card_chargeDeclined").await;
    assert!(declined.is_err());
    order_id
}

async fn the_dashboard_adds_up_the_day_per_currency(app: &TestApp) {
    let merchant = merchant(app).await;
    let mut paid = Vec::new();
    for _ in 0..3 {
        paid.push(order_paid_with(app, "pm_card_visa").await);
    }
    declined_order(app).await;
    for (order_id, _) in &paid {
        let id = shop::OrderId::parse(order_id).unwrap();
        eventually("the order is paid", || async {
            app.server.store.order(&id).await.unwrap().status == shop::OrderStatus::Paid
        })
        .await;
    }
    // 5.00 refunded of one of them.
    let refund = app
        .call_as(
            &merchant,
            "refund_order",
            &[
                ("order_id", paid[0].0.as_str()),
                ("amount", "5.00"),
                ("reason", "requested_by_customer"),
                ("note", ""),
                ("request_id", shop::RequestId::generate().as_str()),
            ],
        )
        .await;
    assert_eq!(refund.status, 200, "{}", refund.body);
    let d = app.call_as(&merchant, "merchant_dashboard", &[]).await;
    assert_eq!(d.status, 200, "{}", d.body);
    let series = d.body["series"].as_array().unwrap();
    assert_eq!(series.len(), 1, "one currency: {series:?}");
    assert_eq!(series[0]["currency"], "usd");
    let days = series[0]["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = days.last().unwrap();
    assert_eq!(today["gross"], 7500);
    assert_eq!(today["refunded"], 500);
    assert_eq!(today["disputed"], 0);
    assert!(days[..29].iter().all(|d| d["gross"] == 0));
    assert_eq!(d.body["paid"], 3);
    assert_eq!(d.body["attempted"], 4);
    eventually("the decline is counted", || async {
        let d = app.call_as(&merchant, "merchant_dashboard", &[]).await;
        d.body["declines"][0][0] == "generic_decline" && d.body["declines"][0][1] == 1
    })
    .await;
    // The page: the SVG with its title and description, and the figures as a table.
    let html = html_as(app, &merchant, "/merchant").await;
    assert!(html.contains("<svg"), "{html}");
    assert!(html.contains("<title id=\"chart-title-USD\">"));
    assert!(html.contains("<desc id=\"chart-desc-USD\">"));
    assert!(html.contains("data-measure=\"net\""));
    assert!(html.contains("data-testid=\"chart-table\""));
    assert!(html.contains("$75.00"), "today's gross in the table");
    assert!(html.contains("$70.00"), "today's net in the table");
}

/// The webhook endpoint is unreachable (deliveries held at the sandbox) while 50 payments,
/// 3 refunds made in Stripe's Dashboard, a dispute and a payout happen. One reconciliation makes every record right; the held deliveries, released
/// after, change nothing; a second reconciliation finds nothing.
async fn one_reconciliation_catches_up_after_the_webhook_was_unreachable(app: &TestApp) {
    let merchant = merchant(app).await;
    // Something the webhook delivered before the outage: the first run starts from it.
    let (before_id, _) = order_paid_with(app, "pm_card_visa").await;
    let before = shop::OrderId::parse(&before_id).unwrap();
    eventually("the first order is paid", || async {
        app.server.store.order(&before).await.unwrap().status == shop::OrderStatus::Paid
    })
    .await;
    let first = app.call_as(&merchant, "reconcile_now", &[]).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["events_missed"], 0, "{}", first.body);

    control(app, "webhooks/pause", json!({})).await;
    let mut orders = Vec::new();
    for _ in 0..50 {
        orders.push(order_paid_with(app, "pm_card_visa").await);
    }
    let (disputed_order, _) = order_paid_with(app, "pm_card_createDispute").await;
    let stripe = &app.server.stripe.client;
    // Three refunds made in Stripe's Dashboard (no metadata of ours): 5.00, everything,
    // 2.00.
    stripe
        .create_refund(
            &CreateRefund::partial(&orders[0].1, 500),
            &IdempotencyKey::new("dashboard-refund-a-0123456789").unwrap(),
        )
        .await
        .unwrap();
    stripe
        .create_refund(
            &CreateRefund::full(&orders[1].1),
            &IdempotencyKey::new("dashboard-refund-b-0123456789").unwrap(),
        )
        .await
        .unwrap();
    stripe
        .create_refund(
            &CreateRefund::partial(&orders[2].1, 200),
            &IdempotencyKey::new("dashboard-refund-c-0123456789").unwrap(),
        )
        .await
        .unwrap();
    let payout = control(app, "payouts", json!({"amount": 4000})).await;
    let payout_id = payout["id"].as_str().unwrap().to_owned();
    // Nothing reached the shop: the orders are still pending.
    let o2 = shop::OrderId::parse(&orders[3].0).unwrap();
    assert_eq!(
        app.server.store.order(&o2).await.unwrap().status,
        shop::OrderStatus::Pending
    );
    let events_before = app.count("stripe_events").await;

    let run = app.call_as(&merchant, "reconcile_now", &[]).await;
    assert_eq!(run.status, 200, "{}", run.body);
    assert!(run.body["error"].is_null(), "{}", run.body);
    let missed = run.body["events_missed"].as_i64().unwrap();
    assert!(missed >= 51 * 2, "{}", run.body);
    assert_eq!(app.count("stripe_events").await, events_before + missed);

    // Every record right.
    for (i, (order_id, _)) in orders.iter().enumerate() {
        let id = shop::OrderId::parse(order_id).unwrap();
        let expected = match i {
            0 | 2 => shop::OrderStatus::PartiallyRefunded,
            1 => shop::OrderStatus::Refunded,
            _ => shop::OrderStatus::Paid,
        };
        assert_eq!(
            app.server.store.order(&id).await.unwrap().status,
            expected,
            "order {i}"
        );
    }
    let refunds = app.count("refunds").await;
    assert_eq!(refunds, 3, "each Dashboard refund once");
    let disputes = app.call_as(&merchant, "merchant_disputes", &[]).await;
    let list = disputes.body.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["order_id"], disputed_order.as_str());
    assert_eq!(
        payout_status(app, &merchant, &payout_id).await.as_deref(),
        Some("pending")
    );
    // The drift report names what differed.
    let report = app.call_as(&merchant, "merchant_reconciliation", &[]).await;
    assert_eq!(report.status, 200, "{}", report.body);
    let drift = report.body["drift"].as_array().unwrap();
    let payment_drift = drift.iter().filter(|d| d["kind"] == "payment").count();
    assert_eq!(payment_drift, 51, "{drift:?}");
    assert!(drift.iter().all(|d| d["resolved"] == true), "{drift:?}");
    assert!(drift
        .iter()
        .any(|d| d["kind"] == "payout" && d["object_id"] == payout_id.as_str()));
    let page = html_as(app, &merchant, "/merchant/reconciliation").await;
    assert!(page.contains("data-testid=\"drift-row\""));
    assert!(page.contains("data-testid=\"reconcile-now\""));

    // The held deliveries arrive now: all duplicates, nothing changes.
    control(app, "webhooks/resume", json!({})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.count("stripe_events").await, events_before + missed);
    assert_eq!(app.count("refunds").await, 3);
    // A second run finds nothing new and nothing different.
    let again = app.call_as(&merchant, "reconcile_now", &[]).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["events_missed"], 0, "{}", again.body);
    assert_eq!(again.body["drifts"], 0, "{}", again.body);
}

async fn only_merchants_see_payouts_events_and_reconciliation(app: &TestApp) {
    let guest = browser();
    let shopper = browser();
    let r = app
        .call_as(
            &shopper,
            "sign_up",
            &[
                ("email", "console-shopper@example.com"),
                ("password", "shopper password 0123"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for client in [&guest, &shopper] {
        for (endpoint, form) in [
            ("merchant_dashboard", vec![]),
            ("merchant_payouts", vec![]),
            ("merchant_events", vec![]),
            ("process_event_again", vec![("event_id", "evt_1")]),
            ("merchant_reconciliation", vec![]),
            ("reconcile_now", vec![]),
        ] {
            let r = app.call_as(client, endpoint, &form).await;
            assert_eq!(
                (r.status, r.body["kind"].as_str()),
                (404, Some("not_found")),
                "{endpoint}"
            );
        }
        for path in [
            "/merchant",
            "/merchant/payouts",
            "/merchant/events",
            "/merchant/reconciliation",
        ] {
            let page = client.get(app.url(path)).send().await.unwrap();
            assert_eq!(page.status(), 404, "{path}");
        }
    }
    assert_eq!(app.count("reconciliations").await, 0);
}

/// Paid at Stripe, the shopper gone, the webhook lost: the sweeper's retrieve settles it.
async fn the_sweeper_settles_an_order_whose_webhook_was_lost(app: &TestApp) {
    control(app, "webhooks/pause", json!({})).await;
    let (order_id, _) = order_paid_with(app, "pm_card_visa").await;
    let declined_id = declined_order(app).await;
    let id = shop::OrderId::parse(&order_id).unwrap();
    let store = &app.server.store;
    assert_eq!(
        store.order(&id).await.unwrap().status,
        shop::OrderStatus::Pending
    );
    let payments = shop::payments::Payments::new(store.clone(), app.server.stripe.client.clone());
    // Still busy (touched within the quiet time): left alone.
    assert_eq!(payments.sweep(60_000, 20).await.unwrap(), 0);
    assert_eq!(payments.sweep(0, 20).await.unwrap(), 2);
    assert_eq!(
        store.order(&id).await.unwrap().status,
        shop::OrderStatus::Paid
    );
    let declined = shop::OrderId::parse(&declined_id).unwrap();
    assert_eq!(
        store.order(&declined).await.unwrap().status,
        shop::OrderStatus::Failed
    );
    // Just checked: not asked again at once (a growing pause).
    assert_eq!(payments.sweep(0, 20).await.unwrap(), 0);
}
