//! The merchant console: access (404 for anyone else), refunds checked against what is
//! still refundable where they are recorded, one refund per request however often it is
//! sent, refunds kept by their `re_` id whichever of Stripe's answer and the webhook echo
//! comes first, refunds made in Stripe's Dashboard imported, failed refunds giving the
//! money back. SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use shop::refund::RefundState;
use shop::store::refunds::{RefundApplied, RefundRequest};
use shop::OrderId;
use stripe_client::{CreateRefund, IdempotencyKey, ListRefunds};

use crate::support::{
    browser, merchant, order_paid_with, spawn_app, Backend, TestApp, MERCHANT_PASSWORD as PASSWORD,
};

on_both_backends!(
    only_merchants_see_the_console,
    partial_then_full_refund_and_an_over_refund_refused,
    a_double_submit_makes_one_refund,
    two_merchants_refunding_the_rest_make_one_refund,
    the_echo_before_the_answer_is_one_refund,
    a_dashboard_refund_is_imported,
    a_failed_refund_gives_the_money_back,
    a_dismissed_failed_refund_leaves_the_queue,
);

fn email(who: &str) -> String {
    format!("{who}-{}@example.com", shop::RequestId::generate().as_str())
}

/// A paid order of two mugs ($25.00), placed and paid by a guest.
async fn paid_order(app: &TestApp) -> (String, String) {
    let (order_id, pi) = order_paid_with(app, "pm_card_visa").await;
    wait_for_status(app, &order_id, "paid").await;
    (order_id, pi)
}

async fn order_status(app: &TestApp, order_id: &str) -> String {
    app.server
        .store
        .order(&OrderId::parse(order_id).unwrap())
        .await
        .unwrap()
        .status
        .as_str()
        .to_owned()
}

async fn wait_for_status(app: &TestApp, order_id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while order_status(app, order_id).await != want {
        assert!(Instant::now() < deadline, "order never became {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn refund(
    app: &TestApp,
    client: &reqwest::Client,
    order_id: &str,
    amount: &str,
    request_id: &str,
) -> crate::support::ApiResponse {
    app.call_as(
        client,
        "refund_order",
        &[
            ("order_id", order_id),
            ("amount", amount),
            ("reason", "requested_by_customer"),
            ("note", "test"),
            ("request_id", request_id),
        ],
    )
    .await
}

fn request_id() -> String {
    shop::RequestId::generate().as_str().to_owned()
}

async fn ledger(app: &TestApp, client: &reqwest::Client, order_id: &str) -> serde_json::Value {
    let r = app
        .call_as(client, "merchant_order", &[("order_id", order_id)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["ledger"].clone()
}

/// Refunds of the PaymentIntent at Stripe.
async fn stripe_refunds(app: &TestApp, pi: &str) -> Vec<stripe_client::Refund> {
    app.server
        .stripe
        .client
        .list_refunds(&ListRefunds::for_payment_intent(pi))
        .await
        .unwrap()
        .data
}

async fn only_merchants_see_the_console(app: &TestApp) {
    let (order_id, pi) = paid_order(app).await;
    let guest = browser();
    let shopper = browser();
    let r = app
        .call_as(
            &shopper,
            "sign_up",
            &[("email", &email("shopper")), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for client in [&guest, &shopper] {
        for (endpoint, form) in [
            ("merchant_orders", vec![]),
            ("merchant_order", vec![("order_id", order_id.as_str())]),
            ("merchant_order", vec![("order_id", "ord_nope")]),
        ] {
            let r = app.call_as(client, endpoint, &form).await;
            assert_eq!(
                (r.status, r.body["kind"].as_str()),
                (404, Some("not_found")),
                "{endpoint}"
            );
        }
        let r = refund(app, client, &order_id, "5.00", &request_id()).await;
        assert_eq!(
            (r.status, r.body["kind"].as_str()),
            (404, Some("not_found"))
        );
        for path in [
            "/merchant/orders".to_owned(),
            format!("/merchant/orders/{order_id}"),
        ] {
            let page = client.get(app.url(&path)).send().await.unwrap();
            assert_eq!(page.status(), 404, "{path}");
            let html = page.text().await.unwrap();
            assert!(!html.contains(&pi), "{path} shows the PaymentIntent");
        }
    }
    assert_eq!(app.count("refunds").await, 0);
    assert!(stripe_refunds(app, &pi).await.is_empty());
    // The merchant sees the order in the list and on its page.
    let merchant = merchant(app).await;
    let list = app
        .call_as(
            &merchant,
            "merchant_orders",
            &[("status", "paid"), ("q", &order_id)],
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["orders"][0]["id"], order_id.as_str());
    let page = merchant
        .get(app.url(&format!("/merchant/orders/{order_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"ledger-refundable\""));
}

async fn partial_then_full_refund_and_an_over_refund_refused(app: &TestApp) {
    let (order_id, pi) = paid_order(app).await;
    let merchant = merchant(app).await;
    let r = refund(app, &merchant, &order_id, "5.00", &request_id()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["stripe_id"].as_str().unwrap().starts_with("re_"),
        "{}",
        r.body
    );
    assert_eq!(r.body["status"], "succeeded");
    wait_for_status(app, &order_id, "partially_refunded").await;
    let l = ledger(app, &merchant, &order_id).await;
    assert_eq!(
        (
            l["refunded"]["minor"].as_i64(),
            l["refundable"]["minor"].as_i64()
        ),
        (Some(500), Some(2000))
    );
    // More than what is left: refused here, nothing sent to Stripe.
    let over = refund(app, &merchant, &order_id, "20.01", &request_id()).await;
    assert_eq!(
        (over.status, over.body["kind"].as_str()),
        (400, Some("refund_too_large")),
        "{}",
        over.body
    );
    for bad in ["0", "-1", "5,00", "abc", "1.001"] {
        let r = refund(app, &merchant, &order_id, bad, &request_id()).await;
        assert_eq!(
            (r.status, r.body["kind"].as_str()),
            (400, Some("invalid_amount")),
            "{bad}"
        );
    }
    assert_eq!(stripe_refunds(app, &pi).await.len(), 1);
    // The rest (empty amount: everything refundable).
    let rest = refund(app, &merchant, &order_id, "", &request_id()).await;
    assert_eq!(rest.status, 200, "{}", rest.body);
    assert_eq!(rest.body["amount"]["minor"], 2000);
    wait_for_status(app, &order_id, "refunded").await;
    let nothing = refund(app, &merchant, &order_id, "0.01", &request_id()).await;
    assert_eq!(nothing.status, 400, "{}", nothing.body);
    assert_eq!(stripe_refunds(app, &pi).await.len(), 2);
    // Each refund once in the ledger, the webhook echoes recognised; an audit entry each.
    let l = ledger(app, &merchant, &order_id).await;
    assert_eq!(l["refunds"].as_array().unwrap().len(), 2, "{l}");
    assert_eq!(l["refunded"]["minor"], 2500);
    assert_eq!(app.count("refunds").await, 2);
    assert_eq!(app.count("merchant_audit").await, 2);
}

async fn a_double_submit_makes_one_refund(app: &TestApp) {
    let (order_id, pi) = paid_order(app).await;
    let merchant = merchant(app).await;
    let id = request_id();
    let answers =
        futures::future::join_all((0..4).map(|_| refund(app, &merchant, &order_id, "5.00", &id)))
            .await;
    let mut refund_ids = Vec::new();
    for r in &answers {
        // Each click gets the refund, or (racing the first) "held, checked again".
        if r.status == 200 {
            refund_ids.push(r.body["stripe_id"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert!(!refund_ids.is_empty());
    // The same request again, later: the same refund.
    let again = refund(app, &merchant, &order_id, "5.00", &id).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let stripe = stripe_refunds(app, &pi).await;
    assert_eq!(stripe.len(), 1, "one refund at Stripe");
    assert_eq!(again.body["stripe_id"], stripe[0].id.as_str());
    assert_eq!(app.count("refunds").await, 1);
    let l = ledger(app, &merchant, &order_id).await;
    assert_eq!(l["refunded"]["minor"], 500);
}

async fn two_merchants_refunding_the_rest_make_one_refund(app: &TestApp) {
    let (order_id, pi) = paid_order(app).await;
    let (a, b) = (merchant(app).await, merchant(app).await);
    let (ida, idb) = (request_id(), request_id());
    let (ra, rb) = tokio::join!(
        refund(app, &a, &order_id, "25.00", &ida),
        refund(app, &b, &order_id, "25.00", &idb),
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "{} / {}", ra.body, rb.body);
    let refused = if ra.status == 400 { &ra } else { &rb };
    assert_eq!(refused.body["kind"], "refund_too_large");
    assert_eq!(stripe_refunds(app, &pi).await.len(), 1);
    wait_for_status(app, &order_id, "refunded").await;
}

async fn the_echo_before_the_answer_is_one_refund(app: &TestApp) {
    let (order_id, pi) = paid_order(app).await;
    let store = &app.server.store;
    let order = OrderId::parse(&order_id).unwrap();
    let reserved = store
        .reserve_refund(&RefundRequest {
            order_id: &order,
            amount: Some(stripe_types::Money::new(700, stripe_types::Currency::USD)),
            reason: None,
            note: None,
            request_key: "refund-echo-test-0123456789",
            requested_by: "test",
        })
        .await
        .unwrap();
    // What Stripe creates for it (webhooks paused: the echo is delivered by hand).
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url();
    let paused = app
        .client
        .post(format!("{sandbox}/_sandbox/webhooks/pause"))
        .send()
        .await
        .unwrap();
    assert!(paused.status().is_success());
    let created = app
        .server
        .stripe
        .client
        .create_refund(
            &CreateRefund::partial(&pi, 700).metadata("refund_id", &reserved.refund.id),
            &IdempotencyKey::new("refund-echo-test-0123456789").unwrap(),
        )
        .await
        .unwrap();
    // The echo first, then the answer: one row, our own, with its re_ id.
    let echo = store.apply_stripe_refund(&created).await.unwrap();
    assert!(matches!(echo, RefundApplied::Changed { .. }), "{echo:?}");
    let answer = store.apply_stripe_refund(&created).await.unwrap();
    assert!(
        matches!(answer, RefundApplied::Unchanged { .. }),
        "{answer:?}"
    );
    let refunds = store.refunds(&order).await.unwrap();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0].stripe_id.as_deref(), Some(created.id.as_str()));
    assert_eq!(refunds[0].status, RefundState::Succeeded);
    assert_eq!(refunds[0].origin.as_str(), "shop");
    wait_for_status(app, &order_id, "partially_refunded").await;
    // The webhooks of that refund (refund.created, charge.refunded) change nothing more.
    let resumed = app
        .client
        .post(format!("{sandbox}/_sandbox/webhooks/resume"))
        .send()
        .await
        .unwrap();
    assert!(resumed.status().is_success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(store.refunds(&order).await.unwrap().len(), 1);
}

async fn a_dashboard_refund_is_imported(app: &TestApp) {
    let (order_id, pi) = paid_order(app).await;
    // Made at Stripe, not through the shop (no metadata of ours).
    let outside = app
        .server
        .stripe
        .client
        .create_refund(
            &CreateRefund::partial(&pi, 300),
            &IdempotencyKey::new(format!("dashboard-{}", request_id())).unwrap(),
        )
        .await
        .unwrap();
    wait_for_status(app, &order_id, "partially_refunded").await;
    let merchant = merchant(app).await;
    let l = ledger(app, &merchant, &order_id).await;
    let rows = l["refunds"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{l}");
    assert_eq!(rows[0]["stripe_id"], outside.id.as_str());
    assert_eq!(rows[0]["origin"], "outside");
    assert_eq!(l["refundable"]["minor"], 2200);
}

async fn a_failed_refund_gives_the_money_back(app: &TestApp) {
    let (order_id, pi) = paid_order(app).await;
    let merchant = merchant(app).await;
    let r = refund(app, &merchant, &order_id, "25.00", &request_id()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    wait_for_status(app, &order_id, "refunded").await;
    let re = r.body["stripe_id"].as_str().unwrap().to_owned();
    // The bank sends it back (the sandbox's control call, as card 5126 does later).
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url();
    let failed = app
        .client
        .post(format!("{sandbox}/_sandbox/refunds/{re}/fail"))
        .json(&serde_json::json!({"failure_reason": "expired_or_canceled_card"}))
        .send()
        .await
        .unwrap();
    assert!(
        failed.status().is_success(),
        "{}",
        failed.text().await.unwrap()
    );
    wait_for_status(app, &order_id, "paid").await;
    let l = ledger(app, &merchant, &order_id).await;
    let row = &l["refunds"][0];
    assert_eq!(
        (row["status"].as_str(), row["failure_reason"].as_str()),
        (Some("failed"), Some("expired_or_canceled_card")),
        "{l}"
    );
    assert_eq!(l["refundable"]["minor"], 2500);
    // An older "succeeded" arriving late does not bring it back.
    let stale = app.server.stripe.client.retrieve_refund(&re).await.unwrap();
    assert_eq!(stale.status().map(|s| s.as_str()), Some("failed"));
    let mut older = stale.clone();
    older.status = Some(stripe_types::RefundStatus::Succeeded.into());
    let applied = app.server.store.apply_stripe_refund(&older).await.unwrap();
    assert!(
        matches!(applied, RefundApplied::Unchanged { .. }),
        "{applied:?}"
    );
    assert_eq!(order_status(app, &order_id).await, "paid");
    // It waits in the failed-refunds queue; "retry" is a new refund of the same amount
    // (one, however often the button is pressed), and the failed one leaves the queue.
    let queue = app.call_as(&merchant, "merchant_refund_queue", &[]).await;
    assert_eq!(queue.body.as_array().unwrap().len(), 1, "{}", queue.body);
    let row_id = queue.body[0]["refund"]["id"].as_str().unwrap().to_owned();
    let id = request_id();
    let form = [
        ("refund_id", row_id.as_str()),
        ("action", "retry"),
        ("request_id", id.as_str()),
    ];
    let retried = app.call_as(&merchant, "refund_queue_action", &form).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    let again = app.call_as(&merchant, "refund_queue_action", &form).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(stripe_refunds(app, &pi).await.len(), 2);
    wait_for_status(app, &order_id, "refunded").await;
    let queue = app.call_as(&merchant, "merchant_refund_queue", &[]).await;
    assert_eq!(queue.body, serde_json::json!([]));
    // Nothing left to refund.
    let more = refund(app, &merchant, &order_id, "0.01", &request_id()).await;
    assert_eq!(more.status, 400, "{}", more.body);
}

async fn a_dismissed_failed_refund_leaves_the_queue(app: &TestApp) {
    let (order_id, _) = paid_order(app).await;
    let merchant = merchant(app).await;
    let r = refund(app, &merchant, &order_id, "3.00", &request_id()).await;
    let re = r.body["stripe_id"].as_str().unwrap().to_owned();
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url();
    app.client
        .post(format!("{sandbox}/_sandbox/refunds/{re}/fail"))
        .json(&serde_json::json!({"failure_reason": "lost_or_stolen_card"}))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let row_id = loop {
        let queue = app.call_as(&merchant, "merchant_refund_queue", &[]).await;
        if let Some(row) = queue.body.as_array().unwrap().first() {
            assert_eq!(row["refund"]["failure_reason"], "lost_or_stolen_card");
            break row["refund"]["id"].as_str().unwrap().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the failed refund never reached the queue"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A shopper cannot touch it.
    let shopper = browser();
    let form = [
        ("refund_id", row_id.as_str()),
        ("action", "dismiss"),
        ("request_id", "0123456789abcdef0"),
    ];
    assert_eq!(
        app.call_as(&shopper, "refund_queue_action", &form)
            .await
            .status,
        404
    );
    let dismissed = app.call_as(&merchant, "refund_queue_action", &form).await;
    assert_eq!(dismissed.status, 200, "{}", dismissed.body);
    let queue = app.call_as(&merchant, "merchant_refund_queue", &[]).await;
    assert_eq!(queue.body, serde_json::json!([]));
    // Still failed in the ledger, the money still refundable, and the dismissal audited.
    let order = app
        .call_as(&merchant, "merchant_order", &[("order_id", &order_id)])
        .await;
    assert_eq!(order.body["ledger"]["refundable"]["minor"], 2500);
    let actions: Vec<&str> = order.body["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["refund requested", "failed refund dismissed"]);
}
