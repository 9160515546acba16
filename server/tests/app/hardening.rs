//! Abuse limits: rate limits per client address, body limits, the card-testing guard
//! (per order and per client), and the expiry of never-paid orders and abandoned carts.

use std::time::{Duration, Instant};

use crate::support::{browser, spawn_app, spawn_app_with, Backend, TestApp};
use shop::guard::{Guard, GuardSettings};
use shop::OrderId;
use stripe_client::{ConfirmPaymentIntent, IdempotencyKey};

mod limited {
    use super::*;

    /// The rate limits on (3 payment calls and 2 sign-ins a minute per address), the
    /// proxy's `X-Forwarded-For` trusted.
    async fn spawn(backend: Backend) -> Option<TestApp> {
        spawn_app_with(
            backend,
            vec![
                ("RATE_LIMIT_PAYMENTS_PER_MINUTE", "3".into()),
                ("RATE_LIMIT_SIGN_IN_PER_MINUTE", "2".into()),
                ("TRUST_FORWARDED_FOR", "1".into()),
            ],
        )
        .await
    }

    #[tokio::test]
    async fn sqlite() {
        let app = spawn(Backend::Sqlite).await.unwrap();
        rate_limits_count_per_client_address(&app).await;
        app.stop().await;
    }

    #[tokio::test]
    async fn postgres() {
        let Some(app) = spawn(Backend::Postgres).await else {
            return;
        };
        rate_limits_count_per_client_address(&app).await;
        app.stop().await;
    }
}

on_both_backends!(
    bodies_over_the_limit_are_refused_before_anything_is_read,
    card_testing_on_one_order_closes_it_and_cancels_its_intent,
    card_testing_from_one_client_is_refused_for_an_hour,
    never_paid_orders_and_abandoned_carts_expire,
    an_intent_canceled_at_stripe_gets_a_new_attempt_on_the_same_order,
    an_intent_gone_at_stripe_gets_a_new_attempt_on_the_same_order,
    money_taken_with_another_amount_lands_the_order_in_review,
);

async fn post_from(
    app: &TestApp,
    client: &reqwest::Client,
    ip: &str,
    endpoint: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/{endpoint}")))
        .header("x-forwarded-for", format!("203.0.113.250, {ip}"))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn rate_limits_count_per_client_address(app: &TestApp) {
    let shopper = browser();
    let add = post_from(
        app,
        &shopper,
        "198.51.100.7",
        "add_to_cart",
        &[("sku", "ferris-mug"), ("quantity", "1")],
    )
    .await;
    assert_eq!(add.status(), 200);
    let order = post_from(
        app,
        &shopper,
        "198.51.100.7",
        "checkout",
        &[("expected_total", "1250")],
    )
    .await;
    assert_eq!(order.status(), 200);
    let order_id: String = order.json().await.unwrap();
    // checkout + 2 pays: the budget of 3.
    for _ in 0..2 {
        let pay = post_from(
            app,
            &shopper,
            "198.51.100.7",
            "pay",
            &[("order_id", &order_id)],
        )
        .await;
        assert_eq!(pay.status(), 200);
    }
    let refused = post_from(
        app,
        &shopper,
        "198.51.100.7",
        "pay",
        &[("order_id", &order_id)],
    )
    .await;
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=21).contains(&wait), "{wait}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["kind"], "rate_limited", "{body}");
    // Not counted against the limit: reading the cart, the order.
    let cart = post_from(app, &shopper, "198.51.100.7", "cart", &[]).await;
    assert_eq!(cart.status(), 200);
    // Another address has its own budget (the same browser behind another address).
    let other = post_from(
        app,
        &shopper,
        "198.51.100.8",
        "pay",
        &[("order_id", &order_id)],
    )
    .await;
    assert_eq!(other.status(), 200);

    // Sign-in: 2 a minute per address, whatever the email.
    let guesser = browser();
    for email in ["a@example.com", "b@example.com"] {
        let r = post_from(
            app,
            &guesser,
            "192.0.2.44",
            "sign_in",
            &[("email", email), ("password", "wrong password 1")],
        )
        .await;
        assert_eq!(r.status(), 401);
    }
    let r = post_from(
        app,
        &guesser,
        "192.0.2.44",
        "sign_in",
        &[("email", "c@example.com"), ("password", "wrong password 1")],
    )
    .await;
    assert_eq!(r.status(), 429);
    // Nothing was recorded for the refused attempt: the throttling table has 2 rows at most.
    let failures = app.count("sign_in_failures").await;
    assert!(failures <= 2 * 2, "{failures}");
}

async fn bodies_over_the_limit_are_refused_before_anything_is_read(app: &TestApp) {
    let carts = app.count("carts").await;
    let huge = "x".repeat(300 * 1024);
    let r = app
        .client
        .post(app.url("/api/add_to_cart"))
        .form(&[("sku", "ferris-mug"), ("note", huge.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // The webhook takes more (Stripe's payloads), not unlimited.
    let r = app
        .client
        .post(app.url("/webhook"))
        .header("stripe-signature", "t=1,v1=00")
        .body("x".repeat(600 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // A body with no Content-Length that grows past the limit fails to read: 4xx.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b'a'; 16 * 1024])).collect();
    let r = app
        .client
        .post(app.url("/api/add_to_cart"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(app.count("carts").await, carts);
}

/// A guest's order of one mug and its intent (from `pay`).
async fn order_and_intent(app: &TestApp, shopper: &reqwest::Client) -> (String, String) {
    let added = app
        .call_as(
            shopper,
            "add_to_cart",
            &[("sku", "ferris-mug"), ("quantity", "1")],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let order = app
        .call_as(shopper, "checkout", &[("expected_total", "1250")])
        .await;
    let order_id = order.body.as_str().unwrap().to_owned();
    let pay = app
        .call_as(shopper, "pay", &[("order_id", &order_id)])
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);
    (
        order_id,
        pay.body["payment_intent_id"].as_str().unwrap().to_owned(),
    )
}

/// Confirms the intent as Stripe.js would (a card tester reuses the client secret).
async fn confirm(app: &TestApp, pi: &str, pm: &str) -> Result<(), stripe_client::StripeError> {
    let params = ConfirmPaymentIntent {
        payment_method: Some(pm.into()),
        ..Default::default()
    };
    app.server
        .stripe
        .client
        .confirm_payment_intent(pi, &params, &IdempotencyKey::random())
        .await
        .map(|_| ())
}

async fn failed_events(app: &TestApp, pi: &str) -> i64 {
    app.server
        .store
        .failed_attempts_on_intent(pi)
        .await
        .unwrap()
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
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

async fn card_testing_on_one_order_closes_it_and_cancels_its_intent(app: &TestApp) {
    let tester = browser();
    let (order_id, pi) = order_and_intent(app, &tester).await;
    let limit = GuardSettings::default().failures_per_order as i64;
    // Declines one after another with the same client secret, never calling `pay` again.
    for n in 1..limit {
        assert!(confirm(app, &pi, "pm_card_chargeDeclined").await.is_err());
        wait_until("the failure is stored", || async {
            failed_events(app, &pi).await == n
        })
        .await;
    }
    assert_eq!(order_status(app, &order_id).await, "failed");
    // Still payable below the limit.
    let pay = app
        .call_as(&tester, "pay", &[("order_id", &order_id)])
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);
    // The limit-th decline: the webhook closes the order and cancels the intent.
    assert!(confirm(app, &pi, "pm_card_chargeDeclinedStolenCard")
        .await
        .is_err());
    wait_until("the order is canceled", || async {
        order_status(app, &order_id).await == "canceled"
    })
    .await;
    let intent = app
        .server
        .stripe
        .client
        .retrieve_payment_intent(&pi, &[])
        .await
        .unwrap();
    assert_eq!(intent.status().unwrap().as_str(), "canceled");
    assert_eq!(
        intent.cancellation_reason.as_ref().unwrap().as_str(),
        "fraudulent"
    );
    // The client secret is useless now, even with a good card.
    assert!(confirm(app, &pi, "pm_card_visa").await.is_err());
    // And `pay` says why, in words.
    let pay = app
        .call_as(&tester, "pay", &[("order_id", &order_id)])
        .await;
    assert_eq!(pay.status, 409, "{}", pay.body);
    assert_eq!(pay.body["kind"], "order_attempts_exhausted");
    assert_eq!(order_status(app, &order_id).await, "canceled");
}

async fn card_testing_from_one_client_is_refused_for_an_hour(app: &TestApp) {
    let limit = GuardSettings::default().failures_per_client_hour as i64;
    // Several orders from one address (each a new cart), one decline each: under the
    // per-order limit, over the per-client one.
    let mut orders = Vec::new();
    for _ in 0..limit {
        let tester = browser();
        let (order_id, pi) = order_and_intent(app, &tester).await;
        assert!(confirm(app, &pi, "pm_card_chargeDeclined").await.is_err());
        wait_until("the failure is stored", || async {
            failed_events(app, &pi).await == 1
        })
        .await;
        orders.push((tester, order_id));
    }
    let (tester, order_id) = &orders[0];
    let pay = app.call_as(tester, "pay", &[("order_id", order_id)]).await;
    assert_eq!(pay.status, 429, "{}", pay.body);
    assert_eq!(pay.body["kind"], "client_attempts_exhausted");
    // A new order from the same address too; nothing was created for it at Stripe.
    let fresh = browser();
    app.call_as(
        &fresh,
        "add_to_cart",
        &[("sku", "ferris-mug"), ("quantity", "1")],
    )
    .await;
    let order = app
        .call_as(&fresh, "checkout", &[("expected_total", "1250")])
        .await;
    let new_order = order.body.as_str().unwrap().to_owned();
    let pay = app
        .call_as(&fresh, "pay", &[("order_id", &new_order)])
        .await;
    assert_eq!(pay.status, 429, "{}", pay.body);
    let row = app
        .server
        .store
        .order_payment(&OrderId::parse(&new_order).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.payment.payment_intent_id, None);
    // An hour later the address is welcome again.
    sqlx::query("UPDATE stripe_events SET received_at = received_at - 3600001")
        .execute(app.server.store.pool())
        .await
        .unwrap();
    let pay = app
        .call_as(&fresh, "pay", &[("order_id", &new_order)])
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);
}

async fn never_paid_orders_and_abandoned_carts_expire(app: &TestApp) {
    let guard = Guard::new(
        app.server.store.clone(),
        app.server.stripe.client.clone(),
        GuardSettings::default(),
    );
    // An order with an intent, one without, one paid, one fresh: all placed "long ago"
    // but the fresh one.
    let with_intent = browser();
    let (old_with_intent, pi) = order_and_intent(app, &with_intent).await;
    let without = browser();
    app.call_as(
        &without,
        "add_to_cart",
        &[("sku", "ferris-mug"), ("quantity", "1")],
    )
    .await;
    let order = app
        .call_as(&without, "checkout", &[("expected_total", "1250")])
        .await;
    let old_without_intent = order.body.as_str().unwrap().to_owned();
    let payer = browser();
    let (old_paid, paid_pi) = order_and_intent(app, &payer).await;
    confirm(app, &paid_pi, "pm_card_visa").await.unwrap();
    wait_until("paid", || async {
        order_status(app, &old_paid).await == "paid"
    })
    .await;
    let recent = browser();
    let (fresh, _) = order_and_intent(app, &recent).await;
    // An abandoned guest cart (never checked out) and one still in use.
    let abandoned = browser();
    app.call_as(
        &abandoned,
        "add_to_cart",
        &[("sku", "async-socks"), ("quantity", "1")],
    )
    .await;
    let carts_before = app.count("carts").await;
    let long_ago = shop::store::now_ms() - 31 * 24 * 3_600_000;
    for id in [&old_with_intent, &old_without_intent, &old_paid] {
        sqlx::query("UPDATE orders SET created_at = $1 WHERE id = $2")
            .bind(long_ago)
            .bind(id.as_str())
            .execute(app.server.store.pool())
            .await
            .unwrap();
    }
    sqlx::query("UPDATE carts SET updated_at = $1")
        .bind(long_ago)
        .execute(app.server.store.pool())
        .await
        .unwrap();
    let in_use = browser();
    app.call_as(
        &in_use,
        "add_to_cart",
        &[("sku", "async-socks"), ("quantity", "1")],
    )
    .await;

    let done = guard.expire(50).await.unwrap();
    assert_eq!(done.orders, 2, "{done:?}");
    assert_eq!(order_status(app, &old_with_intent).await, "canceled");
    assert_eq!(order_status(app, &old_without_intent).await, "canceled");
    assert_eq!(order_status(app, &old_paid).await, "paid");
    assert_eq!(order_status(app, &fresh).await, "pending");
    let intent = app
        .server
        .stripe
        .client
        .retrieve_payment_intent(&pi, &[])
        .await
        .unwrap();
    assert_eq!(
        intent.cancellation_reason.as_ref().unwrap().as_str(),
        "abandoned"
    );
    // Only the abandoned guest cart went: carts with orders and the one in use stay.
    assert_eq!(done.carts, 1, "{done:?}");
    assert_eq!(app.count("carts").await, carts_before);
    // The shopper of an expired order is told it can no longer be paid.
    let pay = app
        .call_as(&with_intent, "pay", &[("order_id", &old_with_intent)])
        .await;
    assert_eq!(pay.status, 409, "{}", pay.body);
    // A second pass finds nothing.
    assert_eq!(
        guard.expire(50).await.unwrap(),
        shop::guard::Expired::default()
    );
}

async fn an_intent_canceled_at_stripe_gets_a_new_attempt_on_the_same_order(app: &TestApp) {
    let shopper = browser();
    let (order_id, first) = order_and_intent(app, &shopper).await;
    // Canceled in the Dashboard (not by the shop): the webhook makes the order canceled.
    let params = stripe_client::CancelPaymentIntent {
        cancellation_reason: Some(stripe_client::CancellationReason::RequestedByCustomer),
    };
    app.server
        .stripe
        .client
        .cancel_payment_intent(&first, &params, &IdempotencyKey::random())
        .await
        .unwrap();
    wait_until("canceled", || async {
        order_status(app, &order_id).await == "canceled"
    })
    .await;
    // Paying again: a new intent on the same order, the same amount; a double click gets
    // the same one.
    let pay = app
        .call_as(&shopper, "pay", &[("order_id", &order_id)])
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);
    let second = pay.body["payment_intent_id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(order_status(app, &order_id).await, "pending");
    let again = app
        .call_as(&shopper, "pay", &[("order_id", &order_id)])
        .await;
    assert_eq!(
        again.body["payment_intent_id"].as_str(),
        Some(second.as_str())
    );
    let intent = app
        .server
        .stripe
        .client
        .retrieve_payment_intent(&second, &[])
        .await
        .unwrap();
    assert_eq!(intent.amount, 1250);
    assert_eq!(
        intent.metadata.get("order_id").map(String::as_str),
        Some(order_id.as_str())
    );
    // Paid on the new intent; the old one's events change nothing.
    confirm(app, &second, "pm_card_visa").await.unwrap();
    wait_until("paid", || async {
        order_status(app, &order_id).await == "paid"
    })
    .await;
    let row = app
        .server
        .store
        .order_payment(&OrderId::parse(&order_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.payment.payment_intent_id.as_deref(),
        Some(second.as_str())
    );
    assert_eq!(row.pi_attempt, 2);
}

async fn an_intent_gone_at_stripe_gets_a_new_attempt_on_the_same_order(app: &TestApp) {
    let shopper = browser();
    let (order_id, first) = order_and_intent(app, &shopper).await;
    // The sandbox forgets everything (as a switch to other keys on the same database).
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url();
    let reset = app
        .client
        .post(format!("{sandbox}/_sandbox/reset"))
        .json(&serde_json::json!({"keep_endpoints": true}))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success());
    let pay = app
        .call_as(&shopper, "pay", &[("order_id", &order_id)])
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);
    let second = pay.body["payment_intent_id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    confirm(app, &second, "pm_card_visa").await.unwrap();
    wait_until("paid", || async {
        order_status(app, &order_id).await == "paid"
    })
    .await;
}

async fn money_taken_with_another_amount_lands_the_order_in_review(app: &TestApp) {
    let shopper = browser();
    let (order_id, pi) = order_and_intent(app, &shopper).await;
    // Someone changes the amount at Stripe (a bug, a Dashboard edit) and it is paid.
    let wrong = stripe_types::Money::new(999, stripe_types::Currency::USD);
    app.server
        .stripe
        .client
        .update_payment_intent(
            &pi,
            &stripe_client::UpdatePaymentIntent::amount(wrong),
            &IdempotencyKey::random(),
        )
        .await
        .unwrap();
    confirm(app, &pi, "pm_card_visa").await.unwrap();
    wait_until("in review", || async {
        order_status(app, &order_id).await == "needs_review"
    })
    .await;
    // Never fulfilled, never payable, and the merchant is told why.
    let pay = app
        .call_as(&shopper, "pay", &[("order_id", &order_id)])
        .await;
    assert_eq!(pay.status, 409, "{}", pay.body);
    let merchant = crate::support::merchant(app).await;
    let page = merchant
        .get(app.url(&format!("/merchant/orders/{order_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"data-testid="review-reason""#), "{page}");
    assert!(
        page.contains(&format!("$9.99 received on {pi} for an order of $12.50")),
        "{page}"
    );
    let dashboard = merchant
        .get(app.url("/merchant"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let text = dashboard.replace("<!>", "").replace("<!-- -->", "");
    assert!(text.contains("Orders to review</a>: 1<"), "{text}");
    let listed = merchant
        .get(app.url("/merchant/orders?status=needs_review"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains(&order_id));
}
