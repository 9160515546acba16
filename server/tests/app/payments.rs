//! Paying for orders against the running server and its embedded sandbox: one
//! PaymentIntent per order, fulfilment by verified webhooks (any order, duplicates) or a
//! server-side retrieve, never by what the browser says. SQLite and PostgreSQL.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::{spawn_app, Backend, TestApp};
use stripe_client::{ConfirmPaymentIntent, IdempotencyKey, StripeError};

on_both_backends!(
    one_payment_intent_per_order_with_the_order_amount,
    a_confirmed_payment_is_fulfilled_by_the_webhook,
    a_decline_fails_the_order_and_a_retry_pays_it,
    without_webhooks_a_server_side_retrieve_settles_the_order,
    events_apply_once_and_in_any_order,
    money_that_does_not_match_the_order_is_not_fulfilled,
    unknown_orders_cannot_be_paid,
    pages_carry_the_csp_and_no_secret,
    a_stored_stripe_error_does_not_block_the_order,
    a_slow_stripe_answers_the_shopper_within_seconds,
    concurrent_payments_share_commits_and_a_bad_write_fails_alone,
);

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Two mugs ($25.00) in a fresh cart, checked out: the order's id.
async fn order(app: &TestApp) -> String {
    let added = app
        .call("add_to_cart", &[("sku", "ferris-mug"), ("quantity", "2")])
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let order = app.call("checkout", &[("expected_total", "2500")]).await;
    assert_eq!(order.status, 200, "{}", order.body);
    order.body.as_str().unwrap().to_owned()
}

async fn pay(app: &TestApp, order_id: &str) -> serde_json::Value {
    let r = app.call("pay", &[("order_id", order_id)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The order's PaymentIntent id (`POST /api/pay`).
async fn payment_intent_of(app: &TestApp, order_id: &str) -> String {
    pay(app, order_id).await["payment_intent_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn status(app: &TestApp, order_id: &str) -> serde_json::Value {
    let r = app.call("order", &[("id", order_id)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// Polls the order (as the order page does) until its status is `want`.
async fn wait_for(app: &TestApp, order_id: &str, want: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let order = status(app, order_id).await;
        if order["status"] == want {
            return order;
        }
        assert!(
            Instant::now() < deadline,
            "order never became {want}: {order}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Confirms server-side with a test PaymentMethod (what Stripe.js does in the browser).
async fn confirm(app: &TestApp, pi: &str, pm: &str, attempt: u32) -> Result<(), StripeError> {
    let params = ConfirmPaymentIntent {
        payment_method: Some(pm.into()),
        ..Default::default()
    };
    let key = IdempotencyKey::for_operation("test", pi, "confirm", attempt).unwrap();
    app.server
        .stripe
        .client
        .confirm_payment_intent(pi, &params, &key)
        .await
        .map(|_| ())
}

async fn one_payment_intent_per_order_with_the_order_amount(app: &TestApp) {
    let order_id = order(app).await;
    let first = pay(app, &order_id).await;
    let pi_id = first["payment_intent_id"].as_str().unwrap().to_owned();
    assert!(first["client_secret"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{pi_id}_secret_")));
    assert_eq!(first["amount"]["minor"], 2500, "{first}");
    // A reload, and a burst of clicks: always the same PaymentIntent.
    let again = pay(app, &order_id).await;
    assert_eq!(again["payment_intent_id"], first["payment_intent_id"]);
    let form = [("order_id", order_id.as_str())];
    let burst = futures::future::join_all((0..6).map(|_| app.call("pay", &form))).await;
    for r in burst {
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["payment_intent_id"], first["payment_intent_id"]);
    }
    // At Stripe: the order's amount and id, whatever the browser sent.
    let pi = app
        .server
        .stripe
        .client
        .retrieve_payment_intent(&pi_id, &[])
        .await
        .unwrap();
    assert_eq!((pi.amount, pi.currency.code()), (2500, "usd"));
    assert_eq!(pi.metadata.get("order_id"), Some(&order_id));
    // A request cannot choose the amount: extra fields are not read.
    let r = app
        .call("pay", &[("order_id", &order_id), ("amount", "1")])
        .await;
    assert_eq!(r.body["amount"]["minor"], 2500, "{}", r.body);
}

async fn a_confirmed_payment_is_fulfilled_by_the_webhook(app: &TestApp) {
    let order_id = order(app).await;
    let pi = payment_intent_of(app, &order_id).await;
    confirm(app, &pi, "pm_card_visa", 1).await.unwrap();
    let paid = wait_for(app, &order_id, "paid").await;
    assert_eq!(paid["failure_code"], serde_json::Value::Null);
    // Events are stored without the PaymentIntent's client secret.
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM stripe_events")
        .fetch_all(app.server.store.pool())
        .await
        .unwrap();
    assert!(!payloads.is_empty());
    assert!(
        payloads.iter().all(|p| !p.contains("_secret_")),
        "{payloads:?}"
    );
    // A paid order takes no second payment.
    let again = app.call("pay", &[("order_id", &order_id)]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["kind"], "already_paid");
}

async fn a_decline_fails_the_order_and_a_retry_pays_it(app: &TestApp) {
    let order_id = order(app).await;
    let pi = payment_intent_of(app, &order_id).await;
    let declined = confirm(app, &pi, "pm_card_chargeDeclinedInsufficientFunds", 1)
        .await
        .unwrap_err();
    assert!(matches!(declined, StripeError::Card { .. }), "{declined}");
    let failed = wait_for(app, &order_id, "failed").await;
    assert_eq!(failed["failure_code"], "insufficient_funds");
    // The retry uses the same PaymentIntent.
    assert_eq!(pay(app, &order_id).await["payment_intent_id"], pi.as_str());
    confirm(app, &pi, "pm_card_visa", 2).await.unwrap();
    wait_for(app, &order_id, "paid").await;
}

async fn without_webhooks_a_server_side_retrieve_settles_the_order(app: &TestApp) {
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url();
    let paused = app
        .client
        .post(format!("{sandbox}/_sandbox/webhooks/pause"))
        .send()
        .await
        .unwrap();
    assert!(paused.status().is_success());
    let order_id = order(app).await;
    let pi = payment_intent_of(app, &order_id).await;
    confirm(app, &pi, "pm_card_visa", 1).await.unwrap();
    // The browser's word only shows "processing"...
    let r = app
        .call("payment_submitted", &[("order_id", &order_id)])
        .await;
    assert_eq!(r.body, "processing", "{}", r.body);
    assert_eq!(status(app, &order_id).await["status"], "processing");
    // ...until the server asks Stripe itself (no webhook arrived).
    wait_for(app, &order_id, "paid").await;
    assert_eq!(app.count("stripe_events").await, 0);
}

fn pi_event(id: &str, kind: &str, created: i64, pi: &str, order_id: &str, received: i64) -> String {
    let (status, error) = match kind {
        "payment_intent.succeeded" => ("succeeded", serde_json::Value::Null),
        _ => (
            "requires_payment_method",
            serde_json::json!({"type": "card_error", "code": "card_declined",
                               "decline_code": "generic_decline"}),
        ),
    };
    serde_json::json!({
        "id": id, "object": "event", "type": kind, "created": created,
        "api_version": stripe_types::API_VERSION, "livemode": false,
        "data": {"object": {
            "id": pi, "object": "payment_intent", "amount": 2500,
            "amount_received": received, "currency": "usd", "status": status,
            "last_payment_error": error, "metadata": {"order_id": order_id}
        }}
    })
    .to_string()
}

async fn deliver(app: &TestApp, body: &str) -> u16 {
    let signature =
        stripe_client::webhook::sign(body.as_bytes(), &app.server.stripe.webhook_secret, now());
    app.client
        .post(app.url("/webhook"))
        .header("stripe-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn events_apply_once_and_in_any_order(app: &TestApp) {
    let order_id = order(app).await;
    let pi = "pi_test_reordered";
    let t = now();
    let succeeded = pi_event("evt_ok", "payment_intent.succeeded", t, pi, &order_id, 2500);
    let older_failure = pi_event(
        "evt_fail",
        "payment_intent.payment_failed",
        t - 5,
        pi,
        &order_id,
        0,
    );
    // The success arrives first (it also attaches the PaymentIntent to the order)...
    assert_eq!(deliver(app, &succeeded).await, 200);
    assert_eq!(status(app, &order_id).await["status"], "paid");
    // ...then the older failure, and a duplicate of the success: nothing moves back.
    assert_eq!(deliver(app, &older_failure).await, 200);
    assert_eq!(deliver(app, &succeeded).await, 200);
    assert_eq!(status(app, &order_id).await["status"], "paid");
    assert_eq!(app.count("stripe_events").await, 2);
    let unprocessed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM stripe_events WHERE processed_at IS NULL")
            .fetch_one(app.server.store.pool())
            .await
            .unwrap();
    assert_eq!(unprocessed, 0);
}

async fn money_that_does_not_match_the_order_is_not_fulfilled(app: &TestApp) {
    let order_id = order(app).await;
    let short = pi_event(
        "evt_short",
        "payment_intent.succeeded",
        now(),
        "pi_short",
        &order_id,
        100,
    );
    assert_eq!(deliver(app, &short).await, 200);
    // Never paid on it, and not left pending either: the merchant looks at it.
    assert_eq!(status(app, &order_id).await["status"], "needs_review");
    let id = shop::OrderId::parse(&order_id).unwrap();
    let reason = app.server.store.review_reason(&id).await.unwrap();
    assert_eq!(
        reason.as_deref(),
        Some("$1.00 received on pi_short for an order of $25.00")
    );
    // Another currency, same number.
    let eur = short
        .replace("evt_short", "evt_eur")
        .replace("\"usd\"", "\"eur\"")
        .replace("\"amount_received\":100", "\"amount_received\":2500");
    assert_eq!(deliver(app, &eur).await, 200);
    assert_eq!(status(app, &order_id).await["status"], "needs_review");
    // The first reason stays.
    assert_eq!(app.server.store.review_reason(&id).await.unwrap(), reason);
}

async fn unknown_orders_cannot_be_paid(app: &TestApp) {
    for id in ["ord_aaaaaaaaaaaaaaaaaaaa", "nope", "", "../../etc/passwd"] {
        let r = app.call("pay", &[("order_id", id)]).await;
        assert_eq!(r.status, 404, "{id}: {}", r.body);
        assert_eq!(r.body["kind"], "unknown_order");
    }
    let r = app.call("pay", &[]).await;
    assert_eq!(r.status, 400, "{}", r.body);
}

async fn pages_carry_the_csp_and_no_secret(app: &TestApp) {
    let order_id = order(app).await;
    let paid = app.call("pay", &[("order_id", &order_id)]).await;
    let response = app
        .client
        .get(app.url(&format!("/checkout/{order_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .expect("a CSP on pages")
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url();
    let origin = sandbox.trim_end_matches('/');
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains(&format!("frame-src {origin}")), "{csp}");
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(!script_src.contains("unsafe-inline"), "{csp}");
    // The hydration script carries the policy's nonce.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in script-src");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "{html}");
    assert!(html.contains("data-testid=\"card-element\""), "{html}");
    // Stripe.js is preloaded from <head>, before the stylesheet could hold it back.
    let js_url = format!("{origin}/v3/");
    let head = html.split("</head>").next().unwrap();
    let preloaded = head.split("<link ").skip(1).any(|tag| {
        let tag = tag.split('>').next().unwrap_or_default();
        [
            "rel=\"preload\"".to_owned(),
            "as=\"script\"".to_owned(),
            format!("href=\"{js_url}\""),
        ]
        .iter()
        .all(|attribute| tag.contains(attribute.as_str()))
    });
    assert!(preloaded, "no preload of {js_url}: {head}");
    // The checkout runs the `pay` module, not the Leptos one, from the form's own setup.
    assert!(html.contains("import(\"/pay/pay.js\")"), "{html}");
    assert!(!html.contains("/pkg/checkout.js"), "{html}");
    assert!(!html.contains("/pkg/checkout.wasm"), "{html}");
    let props = html
        .split("data-props=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the payment form's data-props");
    let props = props.replace("&quot;", "\"").replace("&amp;", "&");
    let setup: shop::PaymentFormSetup = serde_json::from_str(&props).expect(&props);
    assert_eq!(setup.order_id, order_id);
    assert!(setup.config.publishable_key.starts_with("pk_test_"));
    for (what, text) in [("page", html.as_str()), ("pay", &paid.body.to_string())] {
        assert!(!text.contains("sk_test_"), "{what}");
        assert!(
            !text.contains(app.server.stripe.webhook_secret.expose()),
            "{what}"
        );
    }
}

async fn a_stored_stripe_error_does_not_block_the_order(app: &TestApp) {
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url();
    let order_id = order(app).await;
    // A 500 on the create: Stripe keeps it under the idempotency key for 24 h.
    let fault = app
        .client
        .post(format!("{sandbox}/_sandbox/faults"))
        .json(&serde_json::json!({"kind": "api_error", "count": 1,
                                  "path_prefix": "/v1/payment_intents", "method": "POST"}))
        .send()
        .await
        .unwrap();
    assert!(fault.status().is_success());
    let failed = app.call("pay", &[("order_id", &order_id)]).await;
    assert_eq!(failed.status, 502, "{}", failed.body);
    assert_eq!(failed.body["kind"], "payment");
    // The next try uses the next key and works.
    let paid = pay(app, &order_id).await;
    assert!(paid["payment_intent_id"]
        .as_str()
        .unwrap()
        .starts_with("pi_"));
    assert_eq!(
        pay(app, &order_id).await["payment_intent_id"],
        paid["payment_intent_id"]
    );
}

/// Stripe hangs: the shopper waiting on "pay" gets an answer after two short attempts
/// (server::INTERACTIVE_TIMEOUT each), not after the background budget of minutes; the
/// next try, Stripe answering again, pays the same order with the same intent.
async fn a_slow_stripe_answers_the_shopper_within_seconds(app: &TestApp) {
    let order_id = order(app).await;
    let sandbox = app.server.stripe.sandbox.as_ref().unwrap().url().to_owned();
    let fault = app
        .client
        .post(format!("{sandbox}/_sandbox/faults"))
        .json(&serde_json::json!({
            "kind": "delay", "delay_ms": 15_000, "count": server::INTERACTIVE_RETRIES + 1,
            "path_prefix": "/v1/payment_intents", "method": "POST"
        }))
        .send()
        .await
        .unwrap();
    assert!(fault.status().is_success());
    let started = Instant::now();
    let r = app.call("pay", &[("order_id", &order_id)]).await;
    let waited = started.elapsed();
    assert!(r.status >= 500, "{}: {}", r.status, r.body);
    let attempts = server::INTERACTIVE_RETRIES + 1;
    let budget = server::INTERACTIVE_TIMEOUT * attempts + Duration::from_secs(3);
    assert!(waited < budget, "the shopper waited {waited:?}");
    assert!(waited >= server::INTERACTIVE_TIMEOUT, "{waited:?}");
    // Stripe is back. While the delayed requests still run there, the same idempotency
    // key is "in use" (Stripe's 409); once they ran, the same order gets one intent.
    let deadline = Instant::now() + Duration::from_secs(30);
    let again = loop {
        let r = app.call("pay", &[("order_id", &order_id)]).await;
        if r.status == 200 {
            break r.body;
        }
        assert!(Instant::now() < deadline, "{}: {}", r.status, r.body);
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(again["payment_intent_id"]
        .as_str()
        .unwrap()
        .starts_with("pi_"));
    let intents: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM orders WHERE id = $1 AND payment_intent_id IS NOT NULL",
    )
    .bind(&order_id)
    .fetch_one(app.server.store.pool())
    .await
    .unwrap();
    assert_eq!(intents, 1);
}

/// `pay` records each new intent through the group commit, beside webhook events:
/// concurrent first payments each record their own intent (and a second call finds it),
/// and a write the database refuses (an intent already on another order: unique) fails
/// alone, never the writes that shared its transaction.
async fn concurrent_payments_share_commits_and_a_bad_write_fails_alone(app: &TestApp) {
    let mut orders = Vec::new();
    for _ in 0..12 {
        orders.push(order(app).await);
    }
    let pis = futures::future::join_all(orders.iter().map(|o| payment_intent_of(app, o))).await;
    let distinct: std::collections::HashSet<&String> = pis.iter().collect();
    assert_eq!(distinct.len(), orders.len(), "{pis:?}");
    for (order_id, pi) in orders.iter().zip(&pis) {
        assert_eq!(&payment_intent_of(app, order_id).await, pi);
        let stored: Option<String> =
            sqlx::query_scalar("SELECT payment_intent_id FROM orders WHERE id = $1")
                .bind(order_id)
                .fetch_one(app.server.store.pool())
                .await
                .unwrap();
        assert_eq!(stored.as_deref(), Some(pi.as_str()));
    }

    let store = &app.server.store;
    let other = order(app).await;
    let other_id = shop::OrderId::parse(&other).unwrap();
    let ids: Vec<String> = (0..8).map(|i| format!("evt_beside_{i}")).collect();
    let (bad, good) = tokio::join!(
        store.attach_payment_intent(&other_id, &pis[0], Some("203.0.113.9")),
        futures::future::join_all(ids.iter().map(|id| {
            let record = shop::store::events::EventRecord {
                id,
                kind: "charge.updated",
                created: now(),
                object_id: None,
                payment_intent_id: None,
            };
            async move { store.record_event(&record, "{}", true).await }
        })),
    );
    assert!(bad.is_err(), "an intent on two orders: {bad:?}");
    for (id, stored) in ids.iter().zip(&good) {
        assert!(matches!(stored, Ok(true)), "{id}: {stored:?}");
    }
    // The refused order is untouched and pays on its own intent.
    let pi = payment_intent_of(app, &other).await;
    assert!(!pis.contains(&pi));
}
