//! `bench console`: the merchant console's pages over a shop with a history. Orders
//! spread over the last 60 days (mostly paid; some declined, canceled or still moving;
//! ~3 % refunded in full or in part, with their refunds; ~0.5 % disputed), their lines,
//! shopper accounts owning ~30 % of them, and stored Stripe events about their payments
//! (a few parked) are seeded straight into the server's database: multi-row INSERTs in
//! transactions. Then a signed-in merchant loads each page `-n` times in a row (after
//! warm-up loads), server-side rendered as a browser's first visit gets it: p50 / p95 /
//! max per page, against the target p95 < 200 ms. Every answer must be a 200, and the
//! searches must find the order they were made from.
//!
//! On PostgreSQL the tables are analysed after seeding (autovacuum does that to a
//! database that grew this big); SQLite gets nothing the server does not do itself.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context;
use shop::stripe_events::MAX_ATTEMPTS;
use sqlx::AnyPool;

use crate::harness::{self, Target};
use crate::stats::{ms, percentile, Rng};

pub struct Args {
    /// Orders to seed.
    pub orders: usize,
    /// Stored Stripe events to seed.
    pub events: usize,
    /// Timed loads of each page.
    pub requests: usize,
    pub database: Option<String>,
}

/// What each page's p95 should stay under.
const TARGET_P95: Duration = Duration::from_millis(200);
/// Untimed loads of each page first.
const WARMUP_LOADS: usize = 5;
/// Rows per INSERT statement (at most 17 columns: 8,500 bind parameters, well under
/// PostgreSQL's 65,535 and SQLite's 32,766)…
const BATCH: usize = 500;
/// …and per transaction.
const ROWS_PER_TRANSACTION: usize = 10_000;
const DAY_MS: i64 = 86_400_000;
/// The seeded history's length.
const DAYS: i64 = 60;
/// One Ferris mug (USD cents): every seeded order.
const PRICE: i64 = 1250;
/// What a partial refund gives back.
const PARTIAL_REFUND: i64 = 500;
/// Events parked (failed `MAX_ATTEMPTS` times, waiting for a human).
const PARKED: usize = 20;
const DECLINES: [&str; 5] = [
    "card_declined",
    "insufficient_funds",
    "expired_card",
    "incorrect_cvc",
    "processing_error",
];
const DISPUTE_STATUSES: [&str; 4] = ["needs_response", "under_review", "won", "lost"];
const DISPUTE_REASONS: [&str; 3] = ["fraudulent", "product_not_received", "duplicate"];
/// Not anyone's password: the seeded shoppers never sign in.
const SEEDED_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2VlZGVkc2VlZGVk$c2VlZGVkIHNob3BwZXIsIG5vIHBhc3N3b3Jk";

/// One bound value. NULLs keep their type: PostgreSQL refuses a text NULL for a BIGINT.
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(Some(v.to_owned()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(Some(v))
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        Value::Text(v.map(str::to_owned))
    }
}

/// `INSERT INTO table (columns) VALUES ($1, …), (…)…` for `rows` rows.
fn insert_sql(table: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns.len() {
            n += 1;
            let _ = write!(sql, "{}${n}", if c == 0 { "" } else { ", " });
        }
        sql.push(')');
    }
    sql
}

/// Inserts the rows `row(0..rows)` into `table`: [`BATCH`] rows per statement, a
/// transaction per [`ROWS_PER_TRANSACTION`].
async fn insert(
    pool: &AnyPool,
    table: &str,
    columns: &[&str],
    rows: usize,
    mut row: impl FnMut(usize) -> Vec<Value>,
) -> anyhow::Result<()> {
    assert!(columns.len() * BATCH < 30_000, "too many bind parameters");
    let full = insert_sql(table, columns, BATCH);
    let mut start = 0;
    while start < rows {
        let end = (start + ROWS_PER_TRANSACTION).min(rows);
        let mut tx = pool.begin().await.context("a seeding transaction")?;
        for first in (start..end).step_by(BATCH) {
            let n = BATCH.min(end - first);
            let partial;
            let sql = if n == BATCH {
                &full
            } else {
                partial = insert_sql(table, columns, n);
                &partial
            };
            let mut query = sqlx::query(sql);
            for i in first..first + n {
                let values = row(i);
                assert_eq!(values.len(), columns.len(), "a {table} row");
                for value in values {
                    query = match value {
                        Value::Int(v) => query.bind(v),
                        Value::Text(v) => query.bind(v),
                    };
                }
            }
            query
                .execute(&mut *tx)
                .await
                .with_context(|| format!("inserting {n} rows into {table}"))?;
        }
        tx.commit().await.context("committing seeded rows")?;
        start = end;
    }
    Ok(())
}

/// One seeded order.
struct SeedOrder {
    id: String,
    cart_id: String,
    status: &'static str,
    /// Unix ms.
    created_at: i64,
    /// PaymentIntent and charge at Stripe (every order but the pending ones).
    payment_intent: Option<String>,
    charge: Option<String>,
    paid_at: Option<i64>,
    failure_code: Option<&'static str>,
    refunded_minor: i64,
    /// Index of the shopper account that placed it (guests: `None`).
    account: Option<usize>,
    disputed: bool,
}

impl SeedOrder {
    /// Paid, partially refunded or refunded: money was taken.
    fn holds_money(&self) -> bool {
        self.paid_at.is_some()
    }

    /// Unix ms of its last change.
    fn updated_at(&self) -> i64 {
        self.paid_at.unwrap_or(self.created_at + 2_000)
    }
}

/// What the seeding made, and what the searches look for.
struct Seeded {
    orders: Vec<SeedOrder>,
    accounts: usize,
    refunds: usize,
    disputes: usize,
    events: usize,
    parked: usize,
    /// An account's email and the newest of its orders.
    email_search: Option<(String, String)>,
    /// A paid order's PaymentIntent and the order.
    pi_search: Option<(String, String)>,
    /// A parked event.
    parked_event: Option<String>,
}

/// Lowercase letters and digits, `len` of them (ids' tails).
fn tail(rng: &mut Rng, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len())] as char)
        .collect()
}

fn plan_orders(n: usize, accounts: usize, salt: &str, cart_salt: u64, now: i64) -> Vec<SeedOrder> {
    let mut rng = Rng::seeded(0x5eed);
    let span = DAYS * DAY_MS;
    (0..n)
        .map(|i| {
            // Evenly over the period (oldest first), a little jitter.
            let created_at = now - span
                + (span as i128 * i as i128 / n.max(1) as i128) as i64
                + rng.below(1000) as i64
                - 1000;
            let u = rng.unit();
            let status = match u {
                u if u < 0.015 => "refunded",
                u if u < 0.03 => "partially_refunded",
                u if u < 0.88 => "paid",
                u if u < 0.94 => "failed",
                u if u < 0.96 => "canceled",
                u if u < 0.98 => "processing",
                _ => "pending",
            };
            let reached_stripe = status != "pending";
            let paid = matches!(status, "paid" | "partially_refunded" | "refunded");
            SeedOrder {
                id: format!("ord_{salt}{i:012}"),
                cart_id: format!("{cart_salt:016x}{i:016x}"),
                status,
                created_at,
                payment_intent: reached_stripe.then(|| format!("pi_seed{salt}{i:012}")),
                charge: reached_stripe.then(|| format!("ch_seed{salt}{i:012}")),
                paid_at: paid.then(|| (created_at + 5_000 + rng.below(60_000) as i64).min(now)),
                failure_code: (status == "failed").then(|| DECLINES[rng.below(DECLINES.len())]),
                refunded_minor: match status {
                    "refunded" => PRICE,
                    "partially_refunded" => PARTIAL_REFUND,
                    _ => 0,
                },
                account: (rng.unit() < 0.3).then(|| rng.below(accounts)),
                disputed: status == "paid" && rng.unit() < 0.006,
            }
        })
        .collect()
}

/// The event types of one order's payment, in the order Stripe sends them.
fn event_kinds(order: &SeedOrder) -> &'static [&'static str] {
    match order.status {
        "paid" => &[
            "payment_intent.created",
            "payment_intent.succeeded",
            "charge.succeeded",
        ],
        "refunded" | "partially_refunded" => &[
            "payment_intent.created",
            "payment_intent.succeeded",
            "charge.succeeded",
            "charge.refunded",
        ],
        "failed" => &[
            "payment_intent.created",
            "charge.failed",
            "payment_intent.payment_failed",
        ],
        "canceled" => &["payment_intent.created", "payment_intent.canceled"],
        "processing" => &["payment_intent.created", "payment_intent.processing"],
        _ => &[],
    }
}

/// A Stripe-shaped event envelope (~600 bytes) about the order's payment.
fn payload(id: &str, kind: &str, created: i64, order: &SeedOrder) -> String {
    let pi = order.payment_intent.as_deref().unwrap_or_default();
    let charge = order.charge.as_deref().unwrap_or_default();
    let object = if kind.starts_with("charge.") {
        let refunded = if kind == "charge.refunded" {
            order.refunded_minor
        } else {
            0
        };
        serde_json::json!({
            "id": charge,
            "object": "charge",
            "amount": PRICE,
            "amount_captured": if kind == "charge.failed" { 0 } else { PRICE },
            "amount_refunded": refunded,
            "captured": kind != "charge.failed",
            "created": created,
            "currency": "usd",
            "failure_code": order.failure_code,
            "livemode": false,
            "metadata": {"order_id": order.id},
            "paid": kind != "charge.failed",
            "payment_intent": pi,
            "payment_method": "pm_card_visa",
            "refunded": refunded == PRICE,
            "status": if kind == "charge.failed" { "failed" } else { "succeeded" },
        })
    } else {
        let status = match kind {
            "payment_intent.succeeded" => "succeeded",
            "payment_intent.canceled" => "canceled",
            "payment_intent.processing" => "processing",
            _ => "requires_payment_method",
        };
        serde_json::json!({
            "id": pi,
            "object": "payment_intent",
            "amount": PRICE,
            "amount_received": if status == "succeeded" { PRICE } else { 0 },
            "capture_method": "automatic",
            "client_secret": format!("{pi}_secret_seeded"),
            "confirmation_method": "automatic",
            "created": created,
            "currency": "usd",
            "latest_charge": (kind != "payment_intent.created").then_some(charge),
            "livemode": false,
            "metadata": {"order_id": order.id},
            "payment_method_types": ["card"],
            "status": status,
        })
    };
    serde_json::json!({
        "id": id,
        "object": "event",
        "type": kind,
        "created": created,
        "api_version": "2024-06-20",
        "livemode": false,
        "pending_webhooks": 0,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object},
    })
    .to_string()
}

async fn seed(pool: &AnyPool, n_orders: usize, n_events: usize) -> anyhow::Result<Seeded> {
    let now = shop::store::now_ms();
    let mut rng = Rng::seeded(0xc0e5);
    // This run's ids (a reused PostgreSQL database keeps earlier runs' rows).
    let salt = tail(&mut rng, 8);
    let cart_salt = rng.next_u64();
    let n_accounts = (n_orders / 50).max(1);
    let orders = plan_orders(n_orders, n_accounts, &salt, cart_salt, now);

    let t = Instant::now();
    insert(
        pool,
        "accounts",
        &[
            "id",
            "email",
            "password_hash",
            "cart_id",
            "role",
            "created_at",
            "updated_at",
        ],
        n_accounts,
        |j| {
            vec![
                format!("acc_{salt}{j:012}").into(),
                format!("shopper-{salt}-{j}@example.com").into(),
                SEEDED_HASH.into(),
                format!("{:016x}{j:016x}", !cart_salt).into(),
                "shopper".into(),
                (now - DAYS * DAY_MS - 60_000).into(),
                (now - DAYS * DAY_MS - 60_000).into(),
            ]
        },
    )
    .await?;
    insert(
        pool,
        "orders",
        &[
            "id",
            "cart_id",
            "status",
            "currency",
            "total_minor",
            "created_at",
            "updated_at",
            "payment_intent_id",
            "last_fact_at",
            "refunded_minor",
            "failure_code",
            "paid_at",
            "account_id",
            "charge_id",
        ],
        orders.len(),
        |i| {
            let o = &orders[i];
            vec![
                o.id.as_str().into(),
                o.cart_id.as_str().into(),
                o.status.into(),
                "usd".into(),
                PRICE.into(),
                o.created_at.into(),
                o.updated_at().into(),
                o.payment_intent.as_deref().into(),
                (o.updated_at() / 1000).into(),
                o.refunded_minor.into(),
                o.failure_code.into(),
                o.paid_at.into(),
                Value::Text(o.account.map(|j| format!("acc_{salt}{j:012}"))),
                o.charge.as_deref().filter(|_| o.holds_money()).into(),
            ]
        },
    )
    .await?;
    insert(
        pool,
        "order_lines",
        &[
            "order_id",
            "line_no",
            "product_id",
            "sku",
            "name",
            "unit_minor",
            "quantity",
            "line_minor",
        ],
        orders.len(),
        |i| {
            vec![
                orders[i].id.as_str().into(),
                1_i64.into(),
                1_i64.into(),
                "ferris-mug".into(),
                "Ferris mug".into(),
                PRICE.into(),
                1_i64.into(),
                PRICE.into(),
            ]
        },
    )
    .await?;
    let refunded: Vec<usize> = (0..orders.len())
        .filter(|&i| orders[i].refunded_minor > 0)
        .collect();
    insert(
        pool,
        "refunds",
        &[
            "id",
            "order_id",
            "stripe_id",
            "amount_minor",
            "currency",
            "reason",
            "status",
            "origin",
            "status_fact_at",
            "created_at",
            "updated_at",
        ],
        refunded.len(),
        |k| {
            let i = refunded[k];
            let o = &orders[i];
            let at = (o.updated_at() + 3_600_000).min(now);
            vec![
                format!("rf_{salt}{i:012}").into(),
                o.id.as_str().into(),
                format!("re_seed{salt}{i:012}").into(),
                o.refunded_minor.into(),
                "usd".into(),
                "requested_by_customer".into(),
                "succeeded".into(),
                "outside".into(),
                (at / 1000).into(),
                at.into(),
                at.into(),
            ]
        },
    )
    .await?;
    let disputed: Vec<usize> = (0..orders.len()).filter(|&i| orders[i].disputed).collect();
    let mut dispute_rng = Rng::seeded(0xd15);
    insert(
        pool,
        "disputes",
        &[
            "id",
            "order_id",
            "payment_intent_id",
            "charge_id",
            "amount_minor",
            "currency",
            "reason",
            "status",
            "due_by",
            "has_evidence",
            "past_due",
            "submission_count",
            "withdrawn_minor",
            "reinstated_minor",
            "fact_at",
            "created_at",
            "updated_at",
        ],
        disputed.len(),
        |k| {
            let i = disputed[k];
            let o = &orders[i];
            let status = DISPUTE_STATUSES[dispute_rng.below(DISPUTE_STATUSES.len())];
            let at = (o.updated_at() + 86_400_000).min(now);
            let due_by = now / 1000 + 86_400 * (1 + dispute_rng.below(14) as i64);
            vec![
                format!("dp_seed{salt}{i:012}").into(),
                o.id.as_str().into(),
                o.payment_intent.as_deref().into(),
                o.charge.as_deref().into(),
                PRICE.into(),
                "usd".into(),
                DISPUTE_REASONS[dispute_rng.below(DISPUTE_REASONS.len())].into(),
                status.into(),
                due_by.into(),
                i64::from(status != "needs_response").into(),
                0_i64.into(),
                i64::from(status != "needs_response").into(),
                PRICE.into(),
                Value::from(if status == "won" { PRICE } else { 0 }),
                (at / 1000).into(),
                at.into(),
                at.into(),
            ]
        },
    )
    .await?;

    // Each payment's events in turn, over again from the oldest when they run out.
    let mut plan: Vec<(u32, u8, u32)> = Vec::with_capacity(n_events);
    if n_events > 0 {
        anyhow::ensure!(
            orders.iter().any(|o| !event_kinds(o).is_empty()),
            "no seeded order reached Stripe: raise --orders"
        );
    }
    let mut round = 0;
    'fill: while plan.len() < n_events {
        for (i, o) in orders.iter().enumerate() {
            for step in 0..event_kinds(o).len() {
                if plan.len() == n_events {
                    break 'fill;
                }
                plan.push((i as u32, step as u8, round));
            }
        }
        round += 1;
    }
    let stride = (n_events / PARKED.max(1)).max(1);
    let parked = |e: usize| e % stride == stride / 2 && e / stride < PARKED;
    insert(
        pool,
        "stripe_events",
        &[
            "id",
            "type",
            "created",
            "payload",
            "received_at",
            "processed_at",
            "attempts",
            "object_id",
            "payment_intent_id",
            "last_error",
        ],
        n_events,
        |e| {
            let (i, step, round) = plan[e];
            let o = &orders[i as usize];
            let kind = event_kinds(o)[step as usize];
            let id = format!("evt_seed{salt}{e:012}");
            // Later rounds a little later (fewer ties in the events page's order).
            let received_at =
                (o.created_at + i64::from(step) * 1_000 + 150 + i64::from(round)).min(now);
            let created = received_at / 1000;
            let object = if kind.starts_with("charge.") {
                o.charge.as_deref()
            } else {
                o.payment_intent.as_deref()
            };
            let parked = parked(e);
            let body = payload(&id, kind, created, o);
            vec![
                id.into(),
                kind.into(),
                created.into(),
                body.into(),
                received_at.into(),
                (!parked).then_some(received_at + 25).into(),
                Value::from(if parked { MAX_ATTEMPTS } else { 1 }),
                object.into(),
                o.payment_intent.as_deref().into(),
                parked.then_some("seeded").into(),
            ]
        },
    )
    .await?;
    let seconds = t.elapsed().as_secs_f64();

    let refunds = refunded.len();
    let disputes = disputed.len();
    let parked_count = (0..n_events).filter(|&e| parked(e)).count();
    // All of them fit the parked page's first page: any one must show.
    let parked_event = (0..n_events)
        .find(|&e| parked(e))
        .map(|e| format!("evt_seed{salt}{e:012}"));
    let email_search = orders.iter().rev().find_map(|o| {
        o.account
            .map(|j| (format!("shopper-{salt}-{j}@example.com"), o.id.clone()))
    });
    let pi_search = orders
        .iter()
        .skip(orders.len() / 2)
        .chain(orders.iter())
        .find(|o| o.status == "paid")
        .and_then(|o| Some((o.payment_intent.clone()?, o.id.clone())));
    println!(
        "  seeded {} orders ({} lines, {} accounts, {refunds} refunds, {disputes} disputes) and {n_events} events ({parked_count} parked) in {seconds:.2} s",
        orders.len(),
        orders.len(),
        n_accounts,
    );
    Ok(Seeded {
        orders,
        accounts: n_accounts,
        refunds,
        disputes,
        events: n_events,
        parked: parked_count,
        email_search,
        pi_search,
        parked_event,
    })
}

/// A console page to measure: its name in the report, its path, and a text the answer
/// must contain (what a search was made to find).
struct Page {
    name: &'static str,
    path: String,
    expect: Option<String>,
}

/// What the loads of one page measured.
struct Measured {
    latencies: Vec<Duration>,
    bytes: usize,
    errors: usize,
    first_error: Option<String>,
}

/// One GET: its body's size, or what was wrong.
async fn load(client: &reqwest::Client, url: &str, expect: Option<&str>) -> Result<usize, String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    if status != reqwest::StatusCode::OK {
        let start: String = body.chars().take(300).collect();
        return Err(format!("HTTP {status}: {start}"));
    }
    if let Some(expect) = expect {
        if !body.contains(expect) {
            return Err(format!("the page does not show {expect}"));
        }
    }
    Ok(body.len())
}

async fn measure(client: &reqwest::Client, url: &str, expect: Option<&str>, n: usize) -> Measured {
    let mut out = Measured {
        latencies: Vec::with_capacity(n),
        bytes: 0,
        errors: 0,
        first_error: None,
    };
    for i in 0..WARMUP_LOADS + n {
        let t0 = Instant::now();
        let outcome = load(client, url, expect).await;
        let elapsed = t0.elapsed();
        match outcome {
            Ok(bytes) => out.bytes = bytes,
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
                // A page that is not there (or broken) fails the same way each time.
                if i == 0 {
                    break;
                }
            }
        }
        if i >= WARMUP_LOADS {
            out.latencies.push(elapsed);
        }
    }
    out.latencies.sort_unstable();
    out
}

pub async fn run(args: Args) -> anyhow::Result<bool> {
    anyhow::ensure!(args.requests > 0, "-n must be at least 1");
    let target = Target::new(None, args.database.as_deref()).await?;
    let backend = target.backend();
    println!(
        "console: {} orders, {} events, {} loads of each page after {WARMUP_LOADS} warm-up loads, target {}, {} cores",
        args.orders,
        args.events,
        args.requests,
        target.description,
        harness::cores()
    );
    let store = target.store.clone().context("the server's database")?;
    let t0 = Instant::now();
    let seeded = seed(store.pool(), args.orders, args.events).await?;
    let seed_seconds = t0.elapsed().as_secs_f64();
    if backend == "postgres" {
        let t = Instant::now();
        sqlx::query("ANALYZE")
            .execute(store.pool())
            .await
            .context("ANALYZE")?;
        println!("  ANALYZE in {:.2} s", t.elapsed().as_secs_f64());
    }
    println!(
        "  {} orders ({:.1} % paid or refunded), {} accounts, {} refunds, {} disputes, {} events ({} parked)",
        seeded.orders.len(),
        100.0 * seeded.orders.iter().filter(|o| o.holds_money()).count() as f64
            / seeded.orders.len().max(1) as f64,
        seeded.accounts,
        seeded.refunds,
        seeded.disputes,
        seeded.events,
        seeded.parked
    );

    let (_email, client) = harness::signed_in_merchant(&target, Duration::from_secs(120)).await?;
    let mut pages = vec![
        Page {
            name: "/merchant",
            path: "/merchant".into(),
            expect: None,
        },
        Page {
            name: "/merchant/orders?status=refunded",
            path: "/merchant/orders?status=refunded".into(),
            expect: None,
        },
        Page {
            name: "/merchant/orders?status=paid&page=3",
            path: "/merchant/orders?status=paid&page=3".into(),
            expect: None,
        },
    ];
    if let Some((email, order)) = &seeded.email_search {
        pages.push(Page {
            name: "/merchant/orders?q=<email>",
            path: format!("/merchant/orders?q={}", email.replace('@', "%40")),
            expect: Some(order.clone()),
        });
    }
    if let Some((pi, order)) = &seeded.pi_search {
        pages.push(Page {
            name: "/merchant/orders?q=<pi>",
            path: format!("/merchant/orders?q={pi}"),
            expect: Some(order.clone()),
        });
    }
    pages.push(Page {
        name: "/merchant/events",
        path: "/merchant/events".into(),
        expect: None,
    });
    pages.push(Page {
        name: "/merchant/events?parked=1",
        path: "/merchant/events?parked=1".into(),
        expect: seeded.parked_event.clone(),
    });

    let mut ok = true;
    let mut worst = Duration::ZERO;
    for page in &pages {
        let m = measure(
            &client,
            &target.url(&page.path),
            page.expect.as_deref(),
            args.requests,
        )
        .await;
        let (p50, p95) = (
            percentile(&m.latencies, 0.50),
            percentile(&m.latencies, 0.95),
        );
        let max = m.latencies.last().copied().unwrap_or_default();
        let complete = m.errors == 0 && m.latencies.len() == args.requests;
        ok &= complete;
        if complete {
            worst = worst.max(p95);
        }
        println!(
            "  {:<38} p50 {:>8.2} ms  p95 {:>8.2} ms  max {:>8.2} ms  {:>7} B  {}",
            page.name,
            ms(p50),
            ms(p95),
            ms(max),
            m.bytes,
            match (&m.first_error, p95 < TARGET_P95) {
                (Some(e), _) => format!("{} ERRORS; first: {e} ({})", m.errors, page.path),
                (None, true) => "ok".into(),
                (None, false) => "p95 over 200 ms".into(),
            }
        );
        let json = serde_json::json!({
            "bench": "console",
            "page": page.name,
            "path": page.path,
            "p50_ms": ms(p50),
            "p95_ms": ms(p95),
            "max_ms": ms(max),
            "requests": m.latencies.len(),
            "errors": m.errors,
            "bytes": m.bytes,
            "target_p95_ms": ms(TARGET_P95),
            "backend": backend,
            "orders": seeded.orders.len(),
            "events": seeded.events,
            "seed_seconds": (seed_seconds * 1000.0).round() / 1000.0,
        });
        println!("{json}");
    }
    println!(
        "console: worst p95 {:.2} ms over {} pages ({backend}; target p95 < 200 ms){}",
        ms(worst),
        pages.len(),
        if ok { "" } else { "; SOME PAGES FAILED" }
    );
    drop(client);
    target.stop().await;
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_statements_number_every_parameter() {
        assert_eq!(
            insert_sql("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }

    #[test]
    fn seeded_ids_have_the_shops_shapes() {
        let orders = plan_orders(1000, 20, "abcd0123", 7, 1_800_000_000_000);
        for o in &orders {
            assert!(shop::OrderId::parse(&o.id).is_ok(), "{}", o.id);
            assert_eq!(o.cart_id.len(), 32);
            assert!(o.created_at < 1_800_000_000_000);
            assert_eq!(o.paid_at.is_some(), o.holds_money());
        }
        let paid = orders.iter().filter(|o| o.holds_money()).count();
        assert!((800..950).contains(&paid), "{paid}");
        let o = orders.iter().find(|o| o.status == "paid").unwrap();
        let body = payload("evt_x", "payment_intent.succeeded", 1, o);
        assert!((400..900).contains(&body.len()), "{}", body.len());
        let event: stripe_client::Event = serde_json::from_str(&body).unwrap();
        assert_eq!(event.object_id(), o.payment_intent.as_deref());
    }
}
