//! `bench reconcile`: one "Reconcile now" (`POST /api/reconcile_now`) after the shop
//! missed every webhook of about `--events` events. Webhook deliveries are paused at the
//! embedded sandbox; orders are placed through the shop as a browser places them
//! (add_to_cart, checkout, pay) and their PaymentIntents confirmed at the sandbox with
//! the test card, by `-c` tasks, until Stripe's Events API holds at least that many
//! events. Then one run, timed: missed events per second. Afterwards every one of those
//! orders must be `paid`, and the shop must have stored each event the run read, once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::Row;
use stripe_client::stripe_types::PaymentIntentStatus;
use stripe_client::{ConfirmPaymentIntent, IdempotencyKey, ListEvents, Page};

use crate::harness::{self, Target};
use crate::orders;

pub struct Args {
    /// Events to have at Stripe, unseen by the shop, before the run.
    pub events: usize,
    /// Tasks placing and paying orders.
    pub concurrency: usize,
    pub database: Option<String>,
}

/// How long the one reconciliation may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);
/// Orders checked per query (bind parameters).
const CHECK_BATCH: usize = 500;

/// A `/_sandbox/...` control call (JSON `{}`).
async fn control(client: &reqwest::Client, sandbox: &str, path: &str) -> anyhow::Result<()> {
    let response = client
        .post(format!("{sandbox}/_sandbox/{path}"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .with_context(|| format!("/_sandbox/{path}"))?;
    let status = response.status();
    anyhow::ensure!(
        status.is_success(),
        "/_sandbox/{path}: HTTP {status}: {}",
        response.text().await.unwrap_or_default()
    );
    Ok(())
}

/// One order placed through the shop and paid at the sandbox (as Stripe.js would confirm
/// it with the test card): its id.
async fn paid_order(
    client: &reqwest::Client,
    base: &str,
    stripe: &stripe_client::Client,
) -> anyhow::Result<String> {
    let order = orders::create_order(client, base).await?;
    let response = client
        .post(format!("{base}/api/pay"))
        .header(reqwest::header::COOKIE, &order.cookie)
        .form(&[("order_id", order.id.as_str())])
        .send()
        .await
        .context("pay")?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status.is_success(), "pay: HTTP {status}: {text}");
    let body: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("pay answered {text}"))?;
    let pi = body["payment_intent_id"]
        .as_str()
        .with_context(|| format!("pay answered no payment_intent_id: {text}"))?;
    let params = ConfirmPaymentIntent {
        payment_method: Some("pm_card_visa".into()),
        ..Default::default()
    };
    let key = IdempotencyKey::for_operation("bench", pi, "confirm", 1)?;
    let confirmed = stripe
        .confirm_payment_intent(pi, &params, &key)
        .await
        .with_context(|| format!("confirming {pi} at the sandbox"))?;
    anyhow::ensure!(
        confirmed.status.known() == Some(&PaymentIntentStatus::Succeeded),
        "{pi} is {:?} after confirming with pm_card_visa",
        confirmed.status
    );
    Ok(order.id)
}

/// `n` paid orders, `concurrency` at a time.
async fn paid_orders(
    client: &reqwest::Client,
    base: &str,
    stripe: &stripe_client::Client,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..concurrency.clamp(1, n.max(1)))
        .map(|_| {
            let (client, base, stripe, next) = (
                client.clone(),
                base.to_owned(),
                stripe.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut ids = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    ids.push(paid_order(&client, &base, &stripe).await?);
                }
                anyhow::Ok(ids)
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(n);
    for h in handles {
        ids.extend(h.await.context("a payment worker panicked")??);
    }
    Ok(ids)
}

/// The ids of the events Stripe's Events API lists (every page).
async fn event_ids(stripe: &stripe_client::Client) -> anyhow::Result<Vec<String>> {
    let mut params = ListEvents {
        page: Page {
            limit: Some(100),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut ids = Vec::new();
    loop {
        let list = stripe
            .list_events(&params)
            .await
            .context("listing events")?;
        let cursor = list.next_cursor().map(str::to_owned);
        ids.extend(list.data.into_iter().map(|e| e.id));
        match cursor {
            Some(cursor) => params.page.starting_after = Some(cursor),
            None => return Ok(ids),
        }
    }
}

async fn count(pool: &sqlx::AnyPool, sql: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query(sql)
        .fetch_one(pool)
        .await
        .with_context(|| sql.to_owned())?
        .try_get("n")?)
}

/// How many rows of `table` have one of `ids` (and `extra`, `$1` bound to `value`).
async fn count_ids(
    pool: &sqlx::AnyPool,
    table: &str,
    extra: Option<(&str, &str)>,
    ids: &[String],
) -> anyhow::Result<usize> {
    let mut found = 0;
    for chunk in ids.chunks(CHECK_BATCH) {
        let first = if extra.is_some() { 2 } else { 1 };
        let marks: Vec<String> = (first..chunk.len() + first)
            .map(|i| format!("${i}"))
            .collect();
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE {}id IN ({})",
            extra.map_or(String::new(), |(column, _)| format!("{column} = $1 AND ")),
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql);
        if let Some((_, value)) = extra {
            query = query.bind(value);
        }
        for id in chunk {
            query = query.bind(id.as_str());
        }
        let n: i64 = query
            .fetch_one(pool)
            .await
            .with_context(|| format!("counting rows of {table}"))?
            .try_get("n")?;
        found += n as usize;
    }
    Ok(found)
}

/// How many of the orders `ids` are `paid`.
async fn paid_count(pool: &sqlx::AnyPool, ids: &[String]) -> anyhow::Result<usize> {
    count_ids(pool, "orders", Some(("status", "paid")), ids).await
}

pub async fn run(args: Args) -> anyhow::Result<bool> {
    let target = Target::new(None, args.database.as_deref()).await?;
    let backend = target.backend();
    println!(
        "reconcile: at least {} events the shop never saw, {} tasks making them, target {}, {} cores",
        args.events,
        args.concurrency,
        target.description,
        harness::cores()
    );
    let pool = target
        .store
        .as_ref()
        .context("the server's database")?
        .pool()
        .clone();
    let (stripe, sandbox) = target.sandbox()?;
    let stripe = stripe.clone();
    let (_email, merchant) = harness::signed_in_merchant(&target, RUN_TIMEOUT).await?;
    let client = harness::client(args.concurrency);
    control(&client, &sandbox, "webhooks/pause").await?;

    // Orders until Stripe holds enough events (a payment makes a few: the estimate of how
    // many is corrected after each round).
    let t0 = Instant::now();
    let mut listed = event_ids(&stripe).await?;
    let baseline = listed.len();
    let mut existing = baseline;
    let mut per_payment = 4.0;
    let mut order_ids: Vec<String> = Vec::new();
    while existing < args.events {
        let n = (((args.events - existing) as f64 / per_payment).ceil() as usize).max(1);
        let made = paid_orders(&client, &target.base, &stripe, n, args.concurrency)
            .await
            .context("making payments")?;
        order_ids.extend(made);
        listed = event_ids(&stripe).await?;
        existing = listed.len();
        per_payment = ((existing - baseline) as f64 / order_ids.len() as f64).max(1.0);
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "  {} orders paid at the sandbox ({per_payment:.1} events each) in {secs:.2} s: {existing} events at Stripe",
        order_ids.len()
    );
    let paid_before = paid_count(&pool, &order_ids).await?;
    let stored_before = count(&pool, "SELECT COUNT(*) AS n FROM stripe_events").await?;
    println!(
        "  before the run: {paid_before} of them paid in the shop, {stored_before} events stored"
    );

    let t = Instant::now();
    let response = merchant
        .post(target.url("/api/reconcile_now"))
        .form(&[] as &[(&str, &str)])
        .send()
        .await
        .context("reconcile_now")?;
    let status = response.status();
    let text = response.text().await.context("reconcile_now's answer")?;
    let seconds = t.elapsed().as_secs_f64();
    drop(client);
    drop(merchant);
    if !status.is_success() {
        target.stop().await;
        anyhow::bail!("reconcile_now: HTTP {status}: {text}");
    }
    let run: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("reconcile_now answered {text}"))?;
    let field = |name: &str| run[name].as_i64().unwrap_or(-1);
    let (events_read, events_missed) = (field("events_read"), field("events_missed"));
    let (objects, drifts) = (field("objects_checked"), field("drifts"));
    let error = run["error"].clone();

    let paid_after = paid_count(&pool, &order_ids).await?;
    let stored_total = count(&pool, "SELECT COUNT(*) AS n FROM stripe_events").await?;
    // Each event Stripe lists stored once, and the run stored exactly the ones it missed
    // (on a fresh database: as many rows as events read).
    let stored = count_ids(&pool, "stripe_events", None, &listed).await? as i64;
    target.stop().await;

    let per_s = events_missed.max(0) as f64 / seconds.max(1e-9);
    let all_paid = paid_after == order_ids.len();
    let stored_all = stored == events_read
        && events_read == listed.len() as i64
        && stored_total - stored_before == events_missed;
    println!(
        "reconcile: {events_missed} missed events (of {events_read} read) applied in {seconds:.2} s = {per_s:.0} events/s; {objects} objects checked, {drifts} drifts; error {error}"
    );
    println!(
        "  afterwards: {paid_after} of {} orders paid{}; of the {} events at Stripe {stored} stored, {events_read} read, {} new rows{}",
        order_ids.len(),
        if all_paid { "" } else { " (SOME NOT PAID)" },
        listed.len(),
        stored_total - stored_before,
        if stored_all { " (consistent)" } else { " (MISMATCH)" }
    );
    let json = serde_json::json!({
        "bench": "reconcile",
        "events": events_missed,
        "events_read": events_read,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "events_per_s": (per_s * 10.0).round() / 10.0,
        "objects": objects,
        "drifts": drifts,
        "orders": order_ids.len(),
        "orders_paid": paid_after,
        "stored": stored,
        "stored_total": stored_total,
        "error": error,
        "backend": backend,
    });
    println!("{json}");
    Ok(error.is_null() && all_paid && stored_all && events_missed > 0)
}
