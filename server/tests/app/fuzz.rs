//! Fuzz drill (issue 12, drill 4): 10,000 generated malformed requests — seeded, the
//! seed printed and `FUZZ_SEED` to replay one — against every server function (as the
//! browser calls them and as plain HTML forms post them), the pages and `POST /webhook`:
//! random bytes, bodies over the limits, bad UTF-8 and percent escapes, wrong types,
//! overflowing and negative numbers, missing and repeated fields, wrong content types,
//! forged, stale, malformed and replayed `Stripe-Signature`s. Callers are guests, a
//! signed-in shopper (with an order, a cart and a saved card) and a merchant, with
//! same-origin headers or none (so the cross-site refusal does not answer for them).
//!
//! Afterwards: no panic in the server (a panic hook counts those on the server's
//! threads), no 5xx, every request built to be refused was refused (4xx), `/healthz`
//! still answers, and every table of the database has exactly the rows it had before.
//!
//! "Malformed" is decided by oracles, not by hope: a request that may write for its
//! caller is sent only if the app's own codec (`app::codec::parse_pairs`, the body
//! limit) or the shop's own parsers (`Sku::parse`, `OrderId::parse`, …) or facts of the
//! fixture (an order that is not the caller's) say it must be refused before anything
//! is written; otherwise a poison is applied (a bad field, a missing or repeated one, a
//! broken escape) and it is checked again. Webhook deliveries are checked the same way
//! with the verifier itself (`stripe_client::webhook::verify`): only deliveries it
//! refuses are sent, plus exact replays of events already stored (acknowledged as
//! duplicates) and events of the other mode (acknowledged, ignored).
//!
//! The test builds its own multi-threaded runtime with named threads (`fuzz-sqlite…`,
//! `fuzz-postgres…`): the server runs on them, so the panic hook can tell the server's
//! panics from those of other tests running in the same process.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::cookie::CookieStore;
use reqwest::Method;
use sqlx::Row;
use stripe_client::WebhookSecret;

use crate::support::{order_paid_with, spawn_app, Backend, TestApp, MERCHANT_PASSWORD};

/// Requests per database.
const REQUESTS: usize = 10_000;
/// Requests in flight at once.
const CONCURRENCY: usize = 24;
/// The body limit of every route but `/webhook` (`/webhook`: [`WEBHOOK_LIMIT`]).
const API_BODY_LIMIT: usize = server::limits::MAX_REQUEST_BODY;

mod sqlite {
    #[test]
    fn malformed_requests_are_refused_and_change_nothing() {
        super::run("sqlite", super::Backend::Sqlite);
    }
}

mod postgres {
    #[test]
    fn malformed_requests_are_refused_and_change_nothing() {
        super::run("postgres", super::Backend::Postgres);
    }
}

// --- Panics on the server's threads -----------------------------------------------------

/// Panics seen on threads whose name starts with `fuzz-`: (thread, message).
static PANICS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// Chains a hook that records panics on the fuzz runtimes' threads (then runs the
/// previous hook, so they are printed as usual).
fn count_panics() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(name) = std::thread::current().name() {
                if name.starts_with("fuzz-") {
                    if let Ok(mut panics) = PANICS.lock() {
                        panics.push((name.to_owned(), info.to_string()));
                    }
                }
            }
            previous(info);
        }));
    });
}

fn panics_on(prefix: &str) -> Vec<(String, String)> {
    PANICS
        .lock()
        .unwrap()
        .iter()
        .filter(|(thread, _)| thread.starts_with(prefix))
        .cloned()
        .collect()
}

fn run(name: &str, backend: Backend) {
    count_panics();
    let threads = format!("fuzz-{name}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(threads.clone())
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let Some(app) = spawn_app(backend).await else {
            return;
        };
        drill(&app, name, &threads).await;
        app.stop().await;
    });
}

// --- The fixture: a shop with some history ----------------------------------------------

/// A shop with a merchant, a signed-in shopper (a pending order, a saved card, a cart), a
/// guest (an order, a cart), paid orders of other guests (one partly refunded, one
/// disputed, one with an early fraud warning) and a reconciliation run; the cookies of
/// the three callers and the ids the drills aim at.
pub struct Fixture {
    pub shopper_email: String,
    pub merchant_email: String,
    /// The `Cookie` header of each caller.
    pub shopper_cookie: String,
    pub merchant_cookie: String,
    pub guest_cookie: String,
    pub shopper_order: String,
    pub guest_order: String,
    pub paid_order: String,
    pub disputed_order: String,
    pub fraud_order: String,
    pub dispute: String,
    pub warning: String,
    /// The partial refund of `paid_order`: its row id and its `re_` id.
    pub refund: String,
    pub refund_stripe_id: String,
    /// The shopper's saved card.
    pub card: String,
    pub skus: Vec<String>,
    /// The totals of the shopper's and the guest's carts (minor units).
    pub cart_totals: Vec<i64>,
    /// Stored Stripe events (id, raw payload), all processed.
    pub events: Vec<(String, String)>,
}

/// A browser whose cookie jar can be read.
fn jar_browser() -> (reqwest::Client, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    (client, jar)
}

fn cookie_header(app: &TestApp, jar: &reqwest::cookie::Jar) -> String {
    let url: reqwest::Url = app.server.base.parse().unwrap();
    jar.cookies(&url)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Polls `query` (one text column) until it returns a row.
async fn wait_for_row(app: &TestApp, query: &str, bind: Option<&str>) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut q = sqlx::query(query);
        if let Some(b) = bind {
            q = q.bind(b.to_owned());
        }
        if let Some(row) = q.fetch_optional(app.server.store.pool()).await.unwrap() {
            return row.try_get::<String, _>(0).unwrap();
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {query}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn request_id() -> String {
    shop::RequestId::generate().as_str().to_owned()
}

pub async fn fixture(app: &TestApp) -> Fixture {
    let store = app.server.store.clone();
    // The merchant.
    let merchant_email = format!("merchant-{:08x}@example.com", rand::random::<u32>());
    shop::accounts::Accounts::new(store.clone())
        .ensure_merchant(&merchant_email, MERCHANT_PASSWORD)
        .await
        .unwrap();
    let (merchant, merchant_jar) = jar_browser();
    let r = app
        .call_as(
            &merchant,
            "sign_in",
            &[("email", &merchant_email), ("password", MERCHANT_PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The shopper: an account, a pending order, a saved card and a cart.
    let shopper_email = format!("shopper-{:08x}@example.com", rand::random::<u32>());
    let (shopper, shopper_jar) = jar_browser();
    let r = app
        .call_as(
            &shopper,
            "sign_up",
            &[
                ("email", &shopper_email),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let shopper_order = place_order(app, &shopper, "ferris-mug").await;
    let account = store
        .account_by_email(&shop::Email::parse(&shopper_email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let cards = shop::cards::Cards::new(store.clone(), app.server.stripe.client.clone());
    let customer = cards.customer(&account).await.unwrap();
    let card = app
        .server
        .stripe
        .client
        .attach_payment_method(
            "pm_card_visa",
            &customer,
            &stripe_client::IdempotencyKey::random(),
        )
        .await
        .unwrap()
        .id;
    wait_for_row(
        app,
        "SELECT id FROM saved_cards WHERE id = $1",
        Some(card.as_str()),
    )
    .await;
    let shopper_cart = app
        .call_as(
            &shopper,
            "add_to_cart",
            &[("sku", "borrow-tee"), ("quantity", "2")],
        )
        .await;
    assert_eq!(shopper_cart.status, 200, "{}", shopper_cart.body);

    // A guest: an order and a cart.
    let (guest, guest_jar) = jar_browser();
    let guest_order = place_order(app, &guest, "crab-sticker").await;
    let guest_cart = app
        .call_as(
            &guest,
            "add_to_cart",
            &[("sku", "async-socks"), ("quantity", "3")],
        )
        .await;
    assert_eq!(guest_cart.status, 200, "{}", guest_cart.body);

    // Other guests' paid orders: one partly refunded, one disputed, one warned of fraud.
    let (paid_order, _) = order_paid_with(app, "pm_card_visa").await;
    let (disputed_order, _) = order_paid_with(app, "pm_card_createDispute").await;
    let (fraud_order, _) = order_paid_with(app, "pm_card_createIssuerFraudRecord").await;
    let dispute = wait_for_row(
        app,
        "SELECT id FROM disputes WHERE order_id = $1",
        Some(disputed_order.as_str()),
    )
    .await;
    let warning = wait_for_row(
        app,
        "SELECT id FROM fraud_warnings WHERE order_id = $1",
        Some(fraud_order.as_str()),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = app
            .call_as(
                &merchant,
                "refund_order",
                &[
                    ("order_id", paid_order.as_str()),
                    ("amount", "1.00"),
                    ("reason", "requested_by_customer"),
                    ("note", "fixture"),
                    ("request_id", &request_id()),
                ],
            )
            .await;
        if r.status == 200 {
            break;
        }
        // The order is paid once the webhook arrived.
        assert!(Instant::now() < deadline, "refund: {} {}", r.status, r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refund_stripe_id = wait_for_row(
        app,
        "SELECT stripe_id FROM refunds WHERE order_id = $1 AND stripe_id IS NOT NULL",
        Some(paid_order.as_str()),
    )
    .await;
    let refund = wait_for_row(
        app,
        "SELECT id FROM refunds WHERE stripe_id = $1",
        Some(refund_stripe_id.as_str()),
    )
    .await;
    let r = app.call_as(&merchant, "reconcile_now", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let products = app.call("products", &[]).await;
    let skus = products
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap().to_owned())
        .collect();
    let cart_totals = [&shopper_cart, &guest_cart]
        .iter()
        .map(|c| c.body["total"]["minor"].as_i64().unwrap())
        .collect();
    quiesce(app).await;
    let events = sqlx::query(
        "SELECT id, payload FROM stripe_events WHERE processed_at IS NOT NULL ORDER BY id",
    )
    .fetch_all(app.server.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.try_get("id").unwrap(), r.try_get("payload").unwrap()))
    .collect();
    Fixture {
        shopper_cookie: cookie_header(app, &shopper_jar),
        merchant_cookie: cookie_header(app, &merchant_jar),
        guest_cookie: cookie_header(app, &guest_jar),
        shopper_email,
        merchant_email,
        shopper_order,
        guest_order,
        paid_order,
        disputed_order,
        fraud_order,
        dispute,
        warning,
        refund,
        refund_stripe_id,
        card,
        skus,
        cart_totals,
        events,
    }
}

/// Adds one `sku` to `client`'s cart and places the order; its id.
async fn place_order(app: &TestApp, client: &reqwest::Client, sku: &str) -> String {
    let added = app
        .call_as(client, "add_to_cart", &[("sku", sku), ("quantity", "1")])
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let total = added.body["total"]["minor"].as_i64().unwrap().to_string();
    let placed = app
        .call_as(client, "checkout", &[("expected_total", &total)])
        .await;
    assert_eq!(placed.status, 200, "{}", placed.body);
    placed.body.as_str().unwrap().to_owned()
}

/// Waits until the sandbox has nothing left to deliver and every stored event was
/// processed, and the event count stayed put for a while: nothing is still arriving.
async fn quiesce(app: &TestApp) {
    let sandbox = app
        .server
        .stripe
        .sandbox
        .as_ref()
        .expect("the tests run on the embedded sandbox")
        .sandbox()
        .clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = (-1, -1);
    let mut stable_since = Instant::now();
    loop {
        sandbox.flush_webhooks().await;
        let busy = sandbox.deliveries().iter().any(|d| {
            d.status == stripe_sandbox::DeliveryStatus::Delivering
                || (d.status == stripe_sandbox::DeliveryStatus::Pending
                    && d.next_attempt_at.is_some_and(|t| t <= sandbox.now()))
        });
        let now = (
            app.count("stripe_events").await,
            app.count("stripe_events WHERE processed_at IS NULL").await,
        );
        if busy || now != last || now.1 != 0 {
            last = now;
            stable_since = Instant::now();
        } else if stable_since.elapsed() > Duration::from_millis(600) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the shop never settled: (events, unprocessed) = {now:?}, deliveries busy: {busy}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// --- Every table's rows -----------------------------------------------------------------

/// Every table of the app's database (SQLite's `sqlite_master`, PostgreSQL's
/// `information_schema`), migrations' bookkeeping included: nothing is excluded.
pub async fn tables(app: &TestApp) -> Vec<String> {
    let sql = if app.server.description.contains("Sqlite(") {
        "SELECT name AS t FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    } else {
        "SELECT table_name::text AS t FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    };
    let names: Vec<String> = sqlx::query(sql)
        .fetch_all(app.server.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("t").unwrap())
        .collect();
    assert!(
        names.len() >= 15 && names.iter().any(|t| t == "sessions"),
        "{names:?}"
    );
    names
}

async fn row_counts(app: &TestApp, tables: &[String]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for table in tables {
        counts.insert(table.clone(), app.count(&format!("\"{table}\"")).await);
    }
    counts
}

// --- The server functions ---------------------------------------------------------------

/// Who may change something through an endpoint (with a well-formed request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    /// Nobody: it only reads.
    Never,
    /// Any caller (a guest's cart, sign-up, sign-in…).
    Anyone,
    /// A signed-in account (shopper or merchant).
    Account,
    /// A signed-in merchant.
    Merchant,
}

/// What a field holds (what values to make for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sku,
    Quantity,
    Total,
    OrderId,
    Card,
    Flag,
    Email,
    Password,
    Mode,
    RequestId,
    SetupIntent,
    Status,
    Text,
    Page,
    Amount,
    Reason,
    Note,
    DisputeId,
    DisputeAction,
    RefundId,
    QueueAction,
    WarningId,
    EventId,
}

struct Field {
    name: &'static str,
    required: bool,
    kind: Kind,
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        required: true,
        kind,
    }
}

const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        required: false,
        kind,
    }
}

struct Endpoint {
    name: &'static str,
    writes: Writes,
    fields: &'static [Field],
}

const fn ep(name: &'static str, writes: Writes, fields: &'static [Field]) -> Endpoint {
    Endpoint {
        name,
        writes,
        fields,
    }
}

use Kind::*;
use Writes::*;

/// Every `#[server]` function of `app/src/api.rs` and `app/src/merchant_api.rs` (the test
/// checks this list against the functions the server registered).
const ENDPOINTS: &[Endpoint] = &[
    ep("products", Never, &[]),
    ep("cart", Never, &[]),
    ep(
        "add_to_cart",
        Anyone,
        &[req("sku", Sku), req("quantity", Quantity)],
    ),
    ep(
        "set_quantity",
        Anyone,
        &[req("sku", Sku), req("quantity", Quantity)],
    ),
    ep("remove_from_cart", Anyone, &[req("sku", Sku)]),
    ep("checkout", Anyone, &[req("expected_total", Total)]),
    // Reading an order may ask Stripe and apply the answer: treated as a writer.
    ep("order", Anyone, &[req("id", OrderId)]),
    ep(
        "pay",
        Anyone,
        &[
            req("order_id", OrderId),
            opt("payment_method", Card),
            opt("save", Flag),
        ],
    ),
    ep("payment_submitted", Anyone, &[req("order_id", OrderId)]),
    ep("payments_config", Never, &[]),
    ep(
        "sign_up",
        Anyone,
        &[req("email", Email), req("password", Password)],
    ),
    ep(
        "sign_in",
        Anyone,
        &[req("email", Email), req("password", Password)],
    ),
    ep(
        "authenticate",
        Anyone,
        &[
            req("mode", Mode),
            req("email", Email),
            req("password", Password),
        ],
    ),
    ep("sign_out", Account, &[]),
    ep("whoami", Never, &[]),
    ep("account_orders", Never, &[]),
    ep(
        "buy_again",
        Account,
        &[req("order_id", OrderId), req("request_id", RequestId)],
    ),
    ep("payment_options", Never, &[]),
    ep("cards", Never, &[]),
    ep("start_card_setup", Account, &[]),
    ep(
        "card_setup_done",
        Account,
        &[req("setup_intent", SetupIntent)],
    ),
    ep("remove_card", Account, &[req("payment_method", Card)]),
    ep("make_default_card", Account, &[req("payment_method", Card)]),
    ep(
        "merchant_orders",
        Never,
        &[opt("status", Status), opt("q", Text), opt("page", Page)],
    ),
    ep("merchant_order", Never, &[req("order_id", OrderId)]),
    ep(
        "refund_order",
        Merchant,
        &[
            req("order_id", OrderId),
            opt("amount", Amount),
            opt("reason", Reason),
            opt("note", Note),
            req("request_id", RequestId),
        ],
    ),
    ep("merchant_disputes", Never, &[]),
    ep("merchant_dispute", Never, &[req("dispute_id", DisputeId)]),
    ep(
        "dispute_response",
        Merchant,
        &[
            req("dispute_id", DisputeId),
            req("action", DisputeAction),
            opt("evidence_text", Note),
            req("request_id", RequestId),
        ],
    ),
    ep("merchant_refund_queue", Never, &[]),
    ep(
        "refund_queue_action",
        Merchant,
        &[
            req("refund_id", RefundId),
            req("action", QueueAction),
            req("request_id", RequestId),
        ],
    ),
    ep("merchant_fraud_warnings", Never, &[]),
    ep(
        "refund_fraudulent",
        Merchant,
        &[req("warning_id", WarningId), req("request_id", RequestId)],
    ),
    ep("merchant_dashboard", Never, &[]),
    ep("merchant_payouts", Never, &[]),
    ep(
        "merchant_events",
        Never,
        &[opt("parked", Flag), opt("page", Page)],
    ),
    ep("process_event_again", Merchant, &[req("event_id", EventId)]),
    ep("merchant_reconciliation", Never, &[]),
    ep("reconcile_now", Merchant, &[]),
];

// --- Callers ----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// No cookie at all.
    Guest,
    /// The guest with an order and a cart (their cart cookie).
    GuestWithCart,
    /// Forged or malformed session and cart cookies: a guest to the server.
    Forged,
    Shopper,
    Merchant,
}

impl Caller {
    fn pick(rng: &mut StdRng) -> Caller {
        match rng.gen_range(0..100) {
            0..=24 => Caller::Guest,
            25..=37 => Caller::GuestWithCart,
            38..=47 => Caller::Forged,
            48..=79 => Caller::Shopper,
            _ => Caller::Merchant,
        }
    }

    fn signed_in(self) -> bool {
        matches!(self, Caller::Shopper | Caller::Merchant)
    }

    fn may_write(self, writes: Writes) -> bool {
        match writes {
            Writes::Never => false,
            Writes::Anyone => true,
            Writes::Account => self.signed_in(),
            Writes::Merchant => self == Caller::Merchant,
        }
    }

    fn cookie(self, fx: &Fixture, rng: &mut StdRng) -> Option<String> {
        let junk_cart = || {
            [
                "cart=",
                "cart=../../etc/passwd",
                "cart=ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
                "cart=0123456789abcdef0123456789abcdef; cart=nothex",
                "cart=0123456789abcdef0123456789abcdef0",
            ]
        };
        match self {
            Caller::Guest => None,
            Caller::GuestWithCart => Some(fx.guest_cookie.clone()),
            Caller::Forged => Some(match rng.gen_range(0..6) {
                0 => format!("session={}", hex_string(rng, 64)),
                1 => format!("session={}", hex_string(rng, 63)),
                2 => format!("session={}; cart={}", "f".repeat(64), hex_string(rng, 32)),
                3 => "session=; session=%00; theme=dark".to_owned(),
                4 => format!("cart={}", hex_string(rng, 32)),
                _ => junk_cart().choose(rng).unwrap().to_string(),
            }),
            Caller::Shopper | Caller::Merchant => {
                let own = if self == Caller::Shopper {
                    &fx.shopper_cookie
                } else {
                    &fx.merchant_cookie
                };
                Some(match rng.gen_range(0..5) {
                    0 => format!("{own}; {}", junk_cart().choose(rng).unwrap()),
                    1 => format!("theme=dark; {own}"),
                    _ => own.clone(),
                })
            }
        }
    }
}

fn hex_string(rng: &mut StdRng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

fn alnum(rng: &mut StdRng, len: usize) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| char::from(ALNUM[rng.gen_range(0..ALNUM.len())]))
        .collect()
}

// --- Values -----------------------------------------------------------------------------

/// Numbers that are not what a field wants: overflowing, negative, not decimal.
const NUMBERS: &[&str] = &[
    "99999999999999999999",
    "-1",
    "0",
    "-0",
    "00",
    "100",
    "4294967295",
    "4294967296",
    "4294967297",
    "18446744073709551616",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "1e9",
    "1E400",
    "0x10",
    "1_000",
    "1,000",
    "1.5",
    "1.",
    ".5",
    "+1",
    " 7 ",
    "\t3\n",
    "NaN",
    "inf",
    "-inf",
    "٣",
    "１",
    "1\u{0}",
    "999999999999.99",
    "0.001",
    "-5.00",
    "12345678901234567890.12",
];

/// Strings of every sort: empty, control characters, scripts, injections, long.
fn junk(rng: &mut StdRng) -> String {
    const FIXED: &[&str] = &[
        "",
        " ",
        "\u{0}",
        "null",
        "true",
        "[]",
        "{}",
        "{\"a\":1}",
        "x'; DROP TABLE orders;--",
        "' OR '1'='1",
        "%",
        "%25",
        "%00",
        "../../etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        "/api/checkout",
        "<script>alert(1)</script>",
        "{{7*7}}",
        "${jndi:ldap://x}",
        "%s%s%s%n",
        "\u{202e}gnp.exe",
        "e\u{301}\u{301}\u{301}",
        "🦀🦀",
        "\u{feff}",
        "\r\n\r\n",
        "a&b=c",
        "=",
        "&&&",
        "+",
        "ord_",
        "pm_",
        "dp_",
        "evt_",
        "seti_",
        "re_",
        "issfr_",
    ];
    match rng.gen_range(0..10) {
        0..=3 => FIXED.choose(rng).unwrap().to_string(),
        4 => NUMBERS.choose(rng).unwrap().to_string(),
        5 => {
            let len = rng.gen_range(0..40);
            (0..len)
                .map(|_| char::from(rng.gen_range(0x20u8..0x7f)))
                .collect()
        }
        6 => {
            let len = rng.gen_range(1..20);
            (0..len)
                .map(|_| {
                    let c = match rng.gen_range(0..4) {
                        0 => rng.gen_range(0u32..0x20),
                        1 => rng.gen_range(0x80..0x800),
                        2 => rng.gen_range(0x800..0xd800),
                        _ => rng.gen_range(0x1_0000..0x11_0000),
                    };
                    char::from_u32(c).unwrap_or('\u{fffd}')
                })
                .collect()
        }
        7 => "A".repeat(rng.gen_range(65..5000)),
        8 => {
            let prefix = ["ord_", "pm_", "dp_", "evt_", "seti_", "re_", "issfr_"]
                .choose(rng)
                .unwrap();
            let len = rng.gen_range(0..30);
            format!("{prefix}{}", alnum(rng, len))
        }
        _ => format!("{}\u{0}{}", alnum(rng, 3), alnum(rng, 3)),
    }
}

/// A value for a field of `kind`: half the time a plausible one (often valid, real ids
/// of the fixture), half the time junk of its kind.
fn value(kind: Kind, fx: &Fixture, rng: &mut StdRng) -> String {
    if rng.gen_bool(0.5) {
        plausible(kind, fx, rng)
    } else if rng.gen_bool(0.6) {
        poison(kind, fx, rng)
    } else {
        junk(rng)
    }
}

fn plausible(kind: Kind, fx: &Fixture, rng: &mut StdRng) -> String {
    let pick = |rng: &mut StdRng, options: &[&str]| options.choose(rng).unwrap().to_string();
    match kind {
        Sku => fx.skus.choose(rng).unwrap().clone(),
        Quantity => rng.gen_range(1..=3).to_string(),
        Total => fx.cart_totals.choose(rng).unwrap().to_string(),
        OrderId => [
            &fx.shopper_order,
            &fx.guest_order,
            &fx.paid_order,
            &fx.disputed_order,
            &fx.fraud_order,
        ]
        .choose(rng)
        .unwrap()
        .to_string(),
        Card => pick(rng, &["", &fx.card]),
        Flag => pick(rng, &["", "on", "1", "true"]),
        Email => pick(
            rng,
            &[&fx.shopper_email, &fx.merchant_email, "new@example.com"],
        ),
        Password => pick(rng, &["correct horse battery", MERCHANT_PASSWORD]),
        Mode => pick(rng, &["sign_in", "sign_up"]),
        RequestId => request_id(),
        SetupIntent => format!("seti_{}", alnum(rng, 24)),
        Status => pick(
            rng,
            &["", "paid", "refunded", "partially_refunded", "disputed"],
        ),
        Text => pick(rng, &["", &fx.paid_order, &fx.shopper_email, "ferris"]),
        Page => rng.gen_range(1..4).to_string(),
        Amount => pick(rng, &["", "1.00", "0.50", "5"]),
        Reason => pick(
            rng,
            &["", "duplicate", "fraudulent", "requested_by_customer"],
        ),
        Note => pick(rng, &["", "a note", "evidence"]),
        DisputeId => fx.dispute.clone(),
        DisputeAction => pick(rng, &["save", "submit", "accept"]),
        RefundId => pick(rng, &[&fx.refund, &fx.refund_stripe_id]),
        QueueAction => pick(rng, &["retry", "dismiss"]),
        WarningId => fx.warning.clone(),
        EventId => fx.events.choose(rng).unwrap().0.clone(),
    }
}

/// Junk of the field's kind: the values its parser exists to refuse (not always refused:
/// the oracle decides).
fn poison(kind: Kind, fx: &Fixture, rng: &mut StdRng) -> String {
    match kind {
        Sku => match rng.gen_range(0..5) {
            0 => "no-such-thing".into(),
            1 => format!("{} ", fx.skus[0]),
            2 => "x".repeat(65),
            3 => "ferris mug".into(),
            _ => junk(rng),
        },
        Quantity => match rng.gen_range(0..4) {
            0 => (shop::MAX_QUANTITY + 1).to_string(),
            1 => NUMBERS.choose(rng).unwrap().to_string(),
            _ => junk(rng),
        },
        Total => match rng.gen_range(0..3) {
            0 => (fx.cart_totals[0] - 1).to_string(),
            _ => NUMBERS.choose(rng).unwrap().to_string(),
        },
        OrderId => match rng.gen_range(0..6) {
            0 => format!("ord_{}", alnum(rng, 20)),
            1 => fx.shopper_order.to_uppercase(),
            2 => format!("{}x", fx.guest_order),
            3 => fx.shopper_order[..fx.shopper_order.len() - 1].to_owned(),
            _ => junk(rng),
        },
        Card => match rng.gen_range(0..4) {
            0 => format!("pm_{}", alnum(rng, 24)),
            1 => "pm_card_visa".into(),
            2 => format!("{} ", fx.card),
            _ => junk(rng),
        },
        Email => match rng.gen_range(0..8) {
            0 => "no-at-sign".into(),
            1 => "a@b".into(),
            2 => "@example.com".into(),
            3 => format!("{}@example.com", "x".repeat(65)),
            4 => "a@@example.com".into(),
            5 => "a b@example.com".into(),
            6 => "a@example..com".into(),
            _ => junk(rng),
        },
        Password => match rng.gen_range(0..3) {
            0 => "short".into(),
            1 => "p".repeat(shop::account::MAX_PASSWORD_CHARS + 1),
            _ => junk(rng),
        },
        Mode => ["SIGN_IN", "sign_in ", "signin", "sign-up", ""]
            .choose(rng)
            .unwrap()
            .to_string(),
        RequestId => match rng.gen_range(0..4) {
            0 => alnum(rng, 15),
            1 => alnum(rng, 65),
            2 => format!("{}_{}", alnum(rng, 10), alnum(rng, 10)),
            _ => junk(rng),
        },
        SetupIntent => match rng.gen_range(0..4) {
            0 => format!("seti_{}/../../customers", alnum(rng, 8)),
            1 => format!("seti_{}?expand[]=customer", alnum(rng, 8)),
            2 => format!("seti_{}", "9".repeat(300)),
            _ => format!("seti_{}", junk(rng)),
        },
        Amount => NUMBERS.choose(rng).unwrap().to_string(),
        Reason => ["because", "FRAUDULENT", "duplicate,fraudulent"]
            .choose(rng)
            .unwrap()
            .to_string(),
        Note => "n".repeat(rng.gen_range(501..3000)),
        DisputeId => format!("dp_{}", alnum(rng, 24)),
        DisputeAction | QueueAction => ["SAVE", "delete", "retry ", "accept\u{0}", ""]
            .choose(rng)
            .unwrap()
            .to_string(),
        RefundId => format!("re_{}", alnum(rng, 24)),
        WarningId => format!("issfr_{}", alnum(rng, 24)),
        EventId => match rng.gen_range(0..3) {
            0 => format!("evt_{}", alnum(rng, 24)),
            1 => fx.events[0].0.trim_start_matches("evt_").to_owned(),
            _ => junk(rng),
        },
        Flag | Status | Text | Page => junk(rng),
    }
}

// --- The oracle -------------------------------------------------------------------------

/// Why the server must refuse these fields before writing anything (`None`: it may
/// accept them). Mirrors the server functions' own order of checks, with the shop's own
/// parsers; ids count as refused only when they are not the fixture's (not the caller's,
/// or not anyone's).
fn field_refusal(ep: &Endpoint, f: &BTreeMap<&str, String>, fx: &Fixture) -> Option<&'static str> {
    let get = |name: &str| f.get(name).map(String::as_str).unwrap_or("");
    let own_orders = [fx.shopper_order.as_str(), fx.guest_order.as_str()];
    let sku_bad = |s: &str| shop::Sku::parse(s).is_err() || !fx.skus.iter().any(|k| k == s);
    let request_bad = || shop::RequestId::parse(get("request_id")).is_err();
    let email_bad = |e: &str| shop::Email::parse(e).is_err();
    let email_taken = |e: &str| {
        shop::Email::parse(e)
            .is_ok_and(|e| e.as_str() == fx.shopper_email || e.as_str() == fx.merchant_email)
    };
    let password_bad = |p: &str| shop::Password::parse(p).is_err();
    let bad = |b: bool, why: &'static str| b.then_some(why);
    match ep.name {
        "add_to_cart" | "set_quantity" => bad(sku_bad(get("sku")), "sku").or(bad(
            shop::Quantity::parse(get("quantity")).is_err(),
            "quantity",
        )),
        "remove_from_cart" => bad(sku_bad(get("sku")), "sku"),
        "checkout" => bad(
            get("expected_total")
                .trim()
                .parse::<i64>()
                .map_or(true, |t| !fx.cart_totals.contains(&t)),
            "total",
        ),
        "order" => bad(!own_orders.contains(&get("id")), "foreign order"),
        "payment_submitted" => bad(!own_orders.contains(&get("order_id")), "foreign order"),
        "pay" => bad(!own_orders.contains(&get("order_id")), "foreign order").or(bad(
            !get("payment_method").is_empty() && get("payment_method") != fx.card,
            "card",
        )),
        "sign_up" => bad(email_bad(get("email")), "email")
            .or(bad(password_bad(get("password")), "password"))
            .or(bad(email_taken(get("email")), "email taken")),
        // A well-formed email is a sign-in attempt (and counted, on purpose): only a
        // malformed one is refused before anything is written.
        "sign_in" => bad(email_bad(get("email")), "email"),
        "authenticate" => match get("mode") {
            "sign_in" => bad(email_bad(get("email")), "email"),
            "sign_up" => bad(email_bad(get("email")), "email")
                .or(bad(password_bad(get("password")), "password"))
                .or(bad(email_taken(get("email")), "email taken")),
            _ => Some("mode"),
        },
        "buy_again" => bad(request_bad(), "request id")
            .or(bad(get("order_id") != fx.shopper_order, "foreign order")),
        // No SetupIntent of the fixture exists (cards were attached directly).
        "card_setup_done" => Some("unknown setup intent"),
        "remove_card" | "make_default_card" => bad(get("payment_method") != fx.card, "card"),
        "refund_order" => {
            let order = get("order_id");
            let real = [
                &fx.shopper_order,
                &fx.guest_order,
                &fx.paid_order,
                &fx.disputed_order,
                &fx.fraud_order,
            ]
            .iter()
            .any(|o| o.as_str() == order);
            let amount = get("amount").trim();
            bad(request_bad(), "request id")
                .or(bad(!real, "unknown order"))
                .or(bad(
                    !amount.is_empty()
                        && shop::refund::parse_amount(amount, stripe_types::Currency::USD)
                            .map_or(true, |m| m.minor > 100_000_000),
                    "amount",
                ))
                .or(bad(
                    shop::refund::parse_reason(get("reason")).is_err(),
                    "reason",
                ))
                .or(bad(get("note").trim().chars().count() > 500, "note"))
        }
        "dispute_response" => bad(request_bad(), "request id")
            .or(bad(
                !["save", "submit", "accept"].contains(&get("action")),
                "action",
            ))
            .or(bad(
                get("dispute_id").trim() != fx.dispute,
                "unknown dispute",
            )),
        "refund_queue_action" => bad(request_bad(), "request id")
            .or(bad(
                !["retry", "dismiss"].contains(&get("action")),
                "action",
            ))
            .or(bad(
                ![fx.refund.as_str(), fx.refund_stripe_id.as_str()]
                    .contains(&get("refund_id").trim()),
                "unknown refund",
            )),
        "refund_fraudulent" => bad(request_bad(), "request id").or(bad(
            get("warning_id").trim() != fx.warning,
            "unknown warning",
        )),
        "process_event_again" => {
            let id = get("event_id").trim();
            bad(
                !id.starts_with("evt_") || !fx.events.iter().any(|(e, _)| e == id),
                "unknown event",
            )
        }
        _ => None,
    }
}

/// Why the server function must refuse this body (`None`: it may be accepted): too big,
/// not UTF-8, a broken escape, a field repeated or missing, or a field its checks refuse.
fn refusal(ep: &Endpoint, body: &[u8], fx: &Fixture) -> Option<&'static str> {
    if body.len() > API_BODY_LIMIT {
        return Some("over the body limit");
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Some("not UTF-8");
    };
    let Ok(pairs) = app::codec::parse_pairs(text) else {
        return Some("bad escape or UTF-8");
    };
    let mut fields = BTreeMap::new();
    for field in ep.fields {
        let mut values = pairs.iter().filter(|(k, _)| k == field.name);
        match (values.next(), values.next()) {
            (_, Some(_)) => return Some("repeated field"),
            (None, None) if field.required => return Some("missing field"),
            (Some((_, v)), None) => {
                fields.insert(field.name, v.clone());
            }
            _ => {}
        }
    }
    field_refusal(ep, &fields, fx)
}

// --- Probes -----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Area {
    /// A server function called as the browser's code does.
    Api,
    /// A server function posted as a plain HTML form (`Accept: text/html`, a Referer).
    Form,
    Page,
    Webhook,
    /// Wrong methods, unknown functions, odd paths.
    Other,
}

/// One request to send.
struct Probe {
    area: Area,
    /// What it is, for a report: endpoint, caller, why it must be refused.
    what: String,
    /// Whose cookies it carries (Stripe's deliveries: a guest's, none).
    caller: Caller,
    method: Method,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Bytes of padding appended when sending (bodies over the limits, made late so
    /// that 10,000 probes do not sit in memory at once).
    pad: usize,
    /// Built to be refused: any 1xx–3xx answer is a failure.
    must_fail: bool,
}

impl Probe {
    fn describe(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let body: String = body.chars().take(300).collect();
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v);
                format!("{k}: {}", v.chars().take(120).collect::<String>())
            })
            .collect();
        format!(
            "[{:?} as {:?}] {} — {} {} headers {:?} body ({} bytes + {} padding) {:?}",
            self.area,
            self.caller,
            self.what,
            self.method,
            self.path,
            headers,
            self.body.len(),
            self.pad,
            body
        )
    }
}

/// Same-origin headers, or none (a request without them is not a browser's).
fn origin_headers(base: &str, rng: &mut StdRng, headers: &mut Vec<(String, Vec<u8>)>) {
    match rng.gen_range(0..10) {
        0..=3 => {}
        4..=5 => headers.push(("sec-fetch-site".into(), b"same-origin".to_vec())),
        6 => headers.push(("sec-fetch-site".into(), b"none".to_vec())),
        7..=8 => headers.push(("origin".into(), base.as_bytes().to_vec())),
        _ => {
            headers.push(("origin".into(), base.as_bytes().to_vec()));
            headers.push(("sec-fetch-site".into(), b"same-origin".to_vec()));
        }
    }
}

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "text/plain",
    "text/plain; charset=utf-8",
    "multipart/form-data; boundary=----x",
    "application/x-www-form-urlencoded; charset=ISO-8859-1",
    "application/xml",
    "application/octet-stream",
    "a/b/c;;;=",
    "",
];

fn content_type(rng: &mut StdRng, headers: &mut Vec<(String, Vec<u8>)>) {
    match rng.gen_range(0..10) {
        0..=5 => headers.push((
            "content-type".into(),
            b"application/x-www-form-urlencoded".to_vec(),
        )),
        6 => {}
        _ => headers.push((
            "content-type".into(),
            CONTENT_TYPES.choose(rng).unwrap().as_bytes().to_vec(),
        )),
    }
}

/// A few unusual headers now and then.
fn odd_headers(rng: &mut StdRng, headers: &mut Vec<(String, Vec<u8>)>) {
    if rng.gen_bool(0.1) {
        let (name, value): (&str, &[u8]) = *[
            ("x-forwarded-for", &b"1.2.3.4, ::1, not-an-ip"[..]),
            ("accept", b"*/*;q=abc"),
            ("accept-encoding", b"gzip;q=2, br, zstd, x"),
            ("content-encoding", b"gzip"),
            ("accept-language", b"\xff\xfe"),
            ("user-agent", b""),
            ("range", b"bytes=0-1,5-"),
            ("expect", b"100-continue"),
        ]
        .choose(rng)
        .unwrap();
        headers.push((name.into(), value.to_vec()));
    }
}

/// How a field set becomes a body.
fn encode(pairs: &[(String, String)], rng: &mut StdRng) -> Vec<u8> {
    let style = rng.gen_range(0..10);
    let enc = |s: &str| -> String {
        match style {
            // As browsers and the app's own codec write it.
            0..=6 => url::form_urlencoded::byte_serialize(s.as_bytes()).collect(),
            // Every byte escaped, upper or lower case hex.
            7 => s.bytes().map(|b| format!("%{b:02X}")).collect(),
            8 => s.bytes().map(|b| format!("%{b:02x}")).collect(),
            // Not escaped at all: `&`, `=`, `%` and `+` keep their meaning.
            _ => s.to_owned(),
        }
    };
    let mut out = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join(if rng.gen_bool(0.95) { "&" } else { "&&" });
    if rng.gen_bool(0.05) {
        out.push('&');
    }
    out.into_bytes()
}

/// Breaks a body the way broken clients do (the oracle judges the result).
fn mangle(body: &mut Vec<u8>, rng: &mut StdRng) {
    let at = |rng: &mut StdRng, body: &Vec<u8>| rng.gen_range(0..=body.len());
    match rng.gen_range(0..9) {
        // Broken percent escapes.
        0 => {
            let bad = ["%", "%4", "%zz", "%g1", "%%", "%é", "%+1", "%-1", "% 1"]
                .choose(rng)
                .unwrap();
            let i = at(rng, body);
            body.splice(i..i, bad.bytes());
        }
        // Escapes of bytes that are not UTF-8.
        1 => {
            let bad = [
                "%FF",
                "%C3%28",
                "%ED%A0%80",
                "%C0%AF",
                "%F8%88%80%80%80",
                "%E2%82",
            ]
            .choose(rng)
            .unwrap();
            let i = at(rng, body);
            body.splice(i..i, bad.bytes());
        }
        // Raw bytes that are not UTF-8.
        2 => {
            let i = at(rng, body);
            body.insert(i, *[0xff, 0xc3, 0x80, 0xfe].choose(rng).unwrap());
        }
        // Cut short.
        3 => {
            let i = at(rng, body);
            body.truncate(i);
        }
        // Random bytes instead.
        4 => {
            let len = rng.gen_range(0..300);
            *body = (0..len).map(|_| rng.gen()).collect();
        }
        // Another format (JSON, XML, multipart) with the same fields.
        5 => {
            let text = String::from_utf8_lossy(body).into_owned();
            let pairs = app::codec::parse_pairs(&text).unwrap_or_default();
            let map: serde_json::Map<_, _> = pairs
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            *body = match rng.gen_range(0..3) {
                0 => serde_json::Value::Object(map).to_string().into_bytes(),
                1 => format!(
                    "<form>{}</form>",
                    map.iter()
                        .map(|(k, v)| format!("<{k}>{v}</{k}>"))
                        .collect::<String>()
                )
                .into_bytes(),
                _ => map
                    .iter()
                    .map(|(k, v)| {
                        format!("------x\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                    })
                    .collect::<String>()
                    .into_bytes(),
            };
        }
        // NUL bytes, raw.
        6 => {
            let i = at(rng, body);
            body.insert(i, 0);
        }
        // A field name with brackets or a dot (other codecs' nesting).
        7 => body.extend_from_slice(b"&sku[]=a&order[id]=1&a.b=c"),
        // Stray separators.
        _ => {
            let i = at(rng, body);
            let sep: &[u8] = [&b"&"[..], b"=", b"==", b"&=&"].choose(rng).unwrap();
            body.splice(i..i, sep.iter().copied());
        }
    }
}

/// The ways to make a request refused for sure, given the endpoint.
#[derive(Debug, Clone, Copy)]
enum Poison {
    Field,
    Missing,
    Repeated,
    Escape,
    Utf8,
    Huge,
}

fn api_probe(base: &str, fx: &Fixture, rng: &mut StdRng) -> Probe {
    let ep = ENDPOINTS.choose(rng).unwrap();
    let caller = Caller::pick(rng);
    let must_refuse = caller.may_write(ep.writes);
    let form = rng.gen_bool(0.25);

    // The fields: each declared one (usually), now and then an unknown or a repeated one.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for field in ep.fields {
        let keep = if field.required { 0.93 } else { 0.6 };
        if rng.gen_bool(keep) {
            pairs.push((field.name.into(), value(field.kind, fx, rng)));
        }
    }
    if rng.gen_bool(0.15) {
        let name = [
            "price",
            "amount_minor",
            "is_merchant",
            "role",
            "total",
            "_method",
        ]
        .choose(rng)
        .unwrap();
        pairs.push((name.to_string(), junk(rng)));
    }
    if !ep.fields.is_empty() && rng.gen_bool(0.05) {
        let field = ep.fields.choose(rng).unwrap();
        pairs.push((field.name.into(), value(field.kind, fx, rng)));
    }
    pairs.shuffle(rng);
    let mut body = encode(&pairs, rng);
    if rng.gen_bool(0.15) {
        mangle(&mut body, rng);
    }
    let mut pad = 0;
    if rng.gen_bool(0.003) {
        pad = API_BODY_LIMIT + rng.gen_range(1..100_000);
    }

    // A request that could write for this caller is made refusable for sure.
    let mut why = refusal(ep, &padded(&body, pad), fx);
    let mut attempts = 0;
    while must_refuse && why.is_none() {
        attempts += 1;
        let mut ways = vec![Poison::Escape, Poison::Utf8];
        if ep.fields.iter().any(|f| f.required) {
            ways.push(Poison::Missing);
        }
        if !ep.fields.is_empty() {
            ways.extend([
                Poison::Field,
                Poison::Field,
                Poison::Field,
                Poison::Repeated,
            ]);
        }
        if rng.gen_bool(0.01) {
            ways.push(Poison::Huge);
        }
        let way = if attempts > 20 {
            Poison::Escape
        } else {
            *ways.choose(rng).unwrap()
        };
        match way {
            Poison::Field => {
                let field = ep.fields.choose(rng).unwrap();
                pairs.retain(|(k, _)| k != field.name);
                pairs.push((field.name.into(), poison(field.kind, fx, rng)));
                body = encode(&pairs, rng);
            }
            Poison::Missing => {
                let required: Vec<_> = ep.fields.iter().filter(|f| f.required).collect();
                let field = required.choose(rng).unwrap();
                pairs.retain(|(k, _)| k != field.name);
                body = encode(&pairs, rng);
            }
            Poison::Repeated => {
                let field = ep.fields.choose(rng).unwrap();
                pairs.push((field.name.into(), plausible(field.kind, fx, rng)));
                pairs.push((field.name.into(), plausible(field.kind, fx, rng)));
                body = encode(&pairs, rng);
            }
            Poison::Escape => {
                let i = rng.gen_range(0..=body.len());
                body.splice(i..i, b"&x=%zz".iter().copied());
            }
            Poison::Utf8 => {
                let bytes: &[u8] = if rng.gen_bool(0.5) {
                    b"&x=%FF"
                } else {
                    b"&x=\xff"
                };
                let i = rng.gen_range(0..=body.len());
                body.splice(i..i, bytes.iter().copied());
            }
            Poison::Huge => pad = API_BODY_LIMIT + 1 + rng.gen_range(0..10_000),
        }
        why = refusal(ep, &padded(&body, pad), fx);
    }

    let mut headers = Vec::new();
    origin_headers(base, rng, &mut headers);
    content_type(rng, &mut headers);
    odd_headers(rng, &mut headers);
    if let Some(cookie) = caller.cookie(fx, rng) {
        headers.push(("cookie".into(), cookie.into_bytes()));
    }
    if form {
        headers.push((
            "accept".into(),
            b"text/html,application/xhtml+xml,*/*;q=0.8".to_vec(),
        ));
        let referer: Vec<u8> = match rng.gen_range(0..8) {
            0 => b"javascript:alert(1)".to_vec(),
            1 => b"/relative/only".to_vec(),
            2 => b"http://evil.example/".to_vec(),
            3 => b"\xff\xfe not ascii".to_vec(),
            _ => format!(
                "{base}{}",
                [
                    "/",
                    "/cart",
                    "/checkout/x",
                    "/account/cards",
                    "/merchant/events"
                ]
                .choose(rng)
                .unwrap()
            )
            .into_bytes(),
        };
        headers.push(("referer".into(), referer));
    }
    Probe {
        area: if form { Area::Form } else { Area::Api },
        what: format!(
            "{} as {caller:?}{}",
            ep.name,
            match why {
                Some(why) if must_refuse => format!(", refused for: {why}"),
                _ => String::new(),
            }
        ),
        caller,
        method: Method::POST,
        path: format!("/api/{}", ep.name),
        headers,
        body,
        pad,
        must_fail: must_refuse,
    }
}

fn padded(body: &[u8], pad: usize) -> Vec<u8> {
    if pad == 0 {
        return body.to_vec();
    }
    // `&z=aaa…a%zz`: over the limit, and a broken escape too, so that it is refused
    // even if a limit grows past it one day.
    assert!(pad >= 6);
    let mut b = body.to_vec();
    b.extend_from_slice(b"&z=");
    b.resize(body.len() + pad - 3, b'a');
    b.extend_from_slice(b"%zz");
    b
}

/// A page: odd ids and query strings, any caller.
fn page_probe(base: &str, fx: &Fixture, rng: &mut StdRng) -> Probe {
    let id = |rng: &mut StdRng| -> String {
        // Not an order of the fixture's callers: opening one's own order page may ask
        // Stripe about it (a write), which is not what this drill is about.
        let raw = match rng.gen_range(0..4) {
            0 => format!("ord_{}", alnum(rng, 20)),
            1 => fx.paid_order.clone(),
            2 => fx.dispute.clone(),
            _ => junk(rng),
        };
        url::form_urlencoded::byte_serialize(raw.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let query = |rng: &mut StdRng| -> String {
        if rng.gen_bool(0.5) {
            return String::new();
        }
        let k = ["status", "q", "page", "parked", "next", "card"]
            .choose(rng)
            .unwrap();
        let raw = if rng.gen_bool(0.3) {
            ["%ff", "%", "%zz", "a%00b", "//evil.example", "\\\\x"]
                .choose(rng)
                .unwrap()
                .to_string()
        } else {
            url::form_urlencoded::byte_serialize(value(Page, fx, rng).as_bytes()).collect()
        };
        format!("?{k}={raw}")
    };
    let path = match rng.gen_range(0..22) {
        0 => "/".to_owned(),
        1 => "/cart".to_owned(),
        2 => format!("/orders/{}", id(rng)),
        3 => format!("/checkout/{}", id(rng)),
        4 => "/account/sign-up".to_owned(),
        5 => "/account/sign-in".to_owned(),
        6 => "/account/orders".to_owned(),
        7 => "/account/cards".to_owned(),
        8 => "/merchant".to_owned(),
        9 => "/merchant/orders".to_owned(),
        10 => format!("/merchant/orders/{}", id(rng)),
        11 => "/merchant/disputes".to_owned(),
        12 => format!("/merchant/disputes/{}", id(rng)),
        13 => "/merchant/refunds".to_owned(),
        14 => "/merchant/fraud-warnings".to_owned(),
        15 => "/merchant/payouts".to_owned(),
        16 => "/merchant/events".to_owned(),
        17 => "/merchant/reconciliation".to_owned(),
        18 => format!("/{}", id(rng)),
        19 => "/pkg/..%2f..%2fCargo.toml".to_owned(),
        20 => format!("/orders/{}/{}", id(rng), id(rng)),
        _ => format!("/merchant/{}", "x/".repeat(rng.gen_range(1..300))),
    };
    let path = format!("{path}{}", query(rng));
    let caller = Caller::pick(rng);
    let mut headers = Vec::new();
    origin_headers(base, rng, &mut headers);
    odd_headers(rng, &mut headers);
    if let Some(cookie) = caller.cookie(fx, rng) {
        headers.push(("cookie".into(), cookie.into_bytes()));
    }
    Probe {
        area: Area::Page,
        what: format!("page as {caller:?}"),
        caller,
        method: Method::GET,
        path,
        headers,
        body: Vec::new(),
        pad: 0,
        must_fail: false,
    }
}

/// Wrong methods, unknown functions, odd paths.
fn other_probe(base: &str, fx: &Fixture, rng: &mut StdRng) -> Probe {
    let ep = ENDPOINTS.choose(rng).unwrap().name;
    let (method, path, must_fail) = match rng.gen_range(0..9) {
        0 => (
            Method::GET,
            format!("/api/{ep}?sku=ferris-mug&quantity=1"),
            true,
        ),
        1 => (Method::PUT, format!("/api/{ep}"), true),
        2 => (Method::DELETE, format!("/api/{ep}"), true),
        3 => (Method::POST, format!("/api/{ep}x"), true),
        4 => (Method::POST, "/api/%ff%fe".to_owned(), true),
        5 => (Method::GET, "/webhook".to_owned(), true),
        6 => (Method::POST, "/healthz".to_owned(), true),
        7 => (Method::POST, "/cart".to_owned(), true),
        _ => (Method::PATCH, "/merchant/orders".to_owned(), true),
    };
    let caller = Caller::pick(rng);
    let mut headers = Vec::new();
    origin_headers(base, rng, &mut headers);
    content_type(rng, &mut headers);
    if let Some(cookie) = caller.cookie(fx, rng) {
        headers.push(("cookie".into(), cookie.into_bytes()));
    }
    let body = encode(
        &[
            ("sku".into(), "ferris-mug".into()),
            ("quantity".into(), "1".into()),
        ],
        rng,
    );
    Probe {
        area: Area::Other,
        what: format!("{method} {path} as {caller:?}"),
        caller,
        method,
        path,
        headers,
        body,
        pad: 0,
        must_fail,
    }
}

// --- Webhook deliveries -----------------------------------------------------------------

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A payload: a stored event's, a synthetic event, or something else.
fn webhook_body(fx: &Fixture, rng: &mut StdRng) -> Vec<u8> {
    match rng.gen_range(0..10) {
        0..=3 => fx.events.choose(rng).unwrap().1.clone().into_bytes(),
        4..=5 => {
            let kind = [
                "payment_intent.succeeded",
                "charge.refunded",
                "charge.dispute.created",
                "payment_method.attached",
                "radar.early_fraud_warning.created",
                "payout.paid",
                "no.such.type",
            ]
            .choose(rng)
            .unwrap();
            let amount: serde_json::Value = match rng.gen_range(0..4) {
                0 => serde_json::json!(-2500),
                1 => serde_json::json!(u64::MAX),
                2 => serde_json::json!("2500"),
                _ => serde_json::json!(2500),
            };
            serde_json::json!({
                "id": format!("evt_fuzz_{}", alnum(rng, 16)),
                "object": "event",
                "type": kind,
                "created": unix_now(),
                "api_version": stripe_types::API_VERSION,
                "livemode": false,
                "data": {"object": {
                    "id": format!("pi_{}", alnum(rng, 12)),
                    "object": "payment_intent",
                    "amount": amount,
                    "currency": "usd",
                    "status": "succeeded",
                    "metadata": {"order_id": fx.shopper_order},
                }},
                "request": {"id": null, "idempotency_key": null}
            })
            .to_string()
            .into_bytes()
        }
        6 => (0..rng.gen_range(0..500)).map(|_| rng.gen()).collect(),
        7 => Vec::new(),
        8 => b"{\"id\":\"evt_1\",\"object\":\"event\"".to_vec(),
        _ => {
            let mut b = fx.events.choose(rng).unwrap().1.clone().into_bytes();
            b.insert(rng.gen_range(0..=b.len()), 0xff);
            b
        }
    }
}

/// One byte changed, one added, or some whitespace: the same event to a reader, another
/// message to the signature.
fn tamper(body: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut b = body.to_vec();
    match rng.gen_range(0..4) {
        0 if !b.is_empty() => {
            let i = rng.gen_range(0..b.len());
            b[i] ^= 1 << rng.gen_range(0..8);
        }
        1 => b.push(b'\n'),
        2 => b.insert(0, b' '),
        _ => {
            let text = String::from_utf8_lossy(&b).into_owned();
            b = text
                .replacen("\"amount\":", "\"amount\":1", 1)
                .replacen("evt_", "evt_x", 1)
                .into_bytes();
            if b == body {
                b.push(b' ');
            }
        }
    }
    b
}

fn webhook_probe(fx: &Fixture, secret: &WebhookSecret, rng: &mut StdRng) -> Probe {
    let now = unix_now();
    let other = WebhookSecret::new(format!("whsec_{}", alnum(rng, 32))).unwrap();
    let sign =
        |body: &[u8], secret: &WebhookSecret, t: i64| stripe_client::webhook::sign(body, secret, t);
    let mut body = webhook_body(fx, rng);
    let mut pad = 0;
    let (what, signature): (&str, Option<Vec<u8>>) = match rng.gen_range(0..16) {
        0 => ("no signature", None),
        1 => ("wrong secret", Some(sign(&body, &other, now).into_bytes())),
        2 => (
            "old timestamp",
            Some(sign(&body, secret, now - rng.gen_range(301..100_000_000)).into_bytes()),
        ),
        3 => (
            "future timestamp",
            Some(sign(&body, secret, now + rng.gen_range(400..100_000_000)).into_bytes()),
        ),
        4 => {
            // A valid delivery's header replayed with another body.
            let header = sign(&body, secret, now);
            body = tamper(&body, rng);
            ("replayed header, other body", Some(header.into_bytes()))
        }
        5 => {
            // The signed timestamp moved (the v1 no longer covers it).
            let header = sign(&body, secret, now);
            let moved = header.replacen(&format!("t={now}"), &format!("t={}", now + 1), 1);
            ("timestamp moved", Some(moved.into_bytes()))
        }
        6 => {
            // An exact replay of a stored (processed) event: a duplicate.
            let (_, payload) = fx.events.choose(rng).unwrap();
            body = payload.clone().into_bytes();
            ("exact replay", Some(sign(&body, secret, now).into_bytes()))
        }
        7 => {
            // The same event from longer ago than the tolerance.
            let (_, payload) = fx.events.choose(rng).unwrap();
            body = payload.clone().into_bytes();
            (
                "stale replay",
                Some(sign(&body, secret, now - 301 - rng.gen_range(0..10_000)).into_bytes()),
            )
        }
        8 => {
            // Correctly signed, but not an event (or not this mode's).
            let live =
                String::from_utf8_lossy(&body).replace("\"livemode\":false", "\"livemode\":true");
            if rng.gen_bool(0.5) {
                body = live.into_bytes();
            }
            (
                "signed, malformed or live",
                Some(sign(&body, secret, now).into_bytes()),
            )
        }
        9 => {
            let v1 = hex_string(rng, 64);
            let header = match rng.gen_range(0..14) {
                0 => format!("t={now}"),
                1 => format!("v1={v1}"),
                2 => format!("t=,v1={v1}"),
                3 => format!("t=99999999999999999999,v1={v1}"),
                4 => format!("t=-{now},v1={v1}"),
                5 => format!("t={now}.5,v1={v1}"),
                6 => format!("t={now},t={now},v1={v1}"),
                7 => format!("t={now},v1={}", &v1[..63]),
                8 => format!("t={now},v1={v1}0"),
                9 => format!("t={now},v1=,v0={v1}"),
                10 => format!("t={now};v1={v1}"),
                11 => format!(
                    "t={now},{}",
                    format!("v1={v1},").repeat(rng.gen_range(2..500))
                ),
                12 => ",,,=,=,t==,v1==".to_owned(),
                _ => format!("t = {now} , v1 = {}", v1.to_uppercase()),
            };
            ("malformed header", Some(header.into_bytes()))
        }
        10 => {
            let len = rng.gen_range(0..200);
            let header: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.gen_bool(0.9) {
                        rng.gen_range(0x20u8..0x7f)
                    } else {
                        rng.gen_range(0x80u8..=0xff)
                    }
                })
                .collect();
            ("random header", Some(header))
        }
        11 => {
            // The right signature, upper-case, for another body.
            let header = sign(&body, secret, now)
                .to_uppercase()
                .replace("T=", "t=")
                .replace("V1=", "v1=");
            body = tamper(&body, rng);
            (
                "upper-case signature, other body",
                Some(header.into_bytes()),
            )
        }
        12 => {
            pad = WEBHOOK_LIMIT + rng.gen_range(1..50_000);
            (
                "over the body limit",
                Some(sign(&body, secret, now).into_bytes()),
            )
        }
        13 => {
            // A valid signature of this body listed after the secret of someone else.
            let theirs = sign(&body, &other, now);
            let header = format!("{theirs},v1={}", hex_string(rng, 64));
            ("several v1, none ours", Some(header.into_bytes()))
        }
        14 => {
            let header = sign(&body, secret, now);
            let (_, sig) = header.split_once(",v1=").unwrap();
            ("v0 only", Some(format!("t={now},v0={sig}").into_bytes()))
        }
        _ => {
            // The signature of an empty body, or of the body with the secret's prefix off.
            let stripped = WebhookSecret::new(format!(
                "whsec_{}",
                secret
                    .expose()
                    .trim_start_matches("whsec_")
                    .chars()
                    .rev()
                    .collect::<String>()
            ))
            .unwrap();
            (
                "near-miss secret",
                Some(sign(&body, &stripped, now).into_bytes()),
            )
        }
    };
    // Decided by the verifier itself: refused, or an event the shop stored already or
    // ignores (the other mode); anything else would be a new event, not a malformed one.
    let header_text = signature
        .as_ref()
        .and_then(|s| std::str::from_utf8(s).ok())
        .filter(|s| !s.contains(['\r', '\n', '\0']));
    let verdict = match (&header_text, pad) {
        (_, pad) if pad > 0 => Err("over the limit".to_owned()),
        (None, _) => Err("no readable header".to_owned()),
        (Some(h), _) => stripe_client::webhook::verify(
            &body,
            h,
            std::slice::from_ref(secret),
            stripe_client::webhook::DEFAULT_TOLERANCE,
            SystemTime::now(),
        )
        .map_err(|e| e.to_string()),
    };
    let (what, must_fail) = match verdict {
        Err(why) => (format!("{what}: {why}"), true),
        Ok(event) if event.livemode => (format!("{what}: other mode"), false),
        Ok(event) if fx.events.iter().any(|(id, _)| *id == event.id) => {
            (format!("{what}: duplicate of {}", event.id), false)
        }
        // A new, well-formed, correctly signed event is not a malformed request: this
        // probe becomes a forged one (the same delivery signed with another secret).
        Ok(_) => {
            let forged = sign(&body, &other, now).into_bytes();
            let mut headers = vec![("stripe-signature".to_owned(), forged)];
            content_type(rng, &mut headers);
            return Probe {
                area: Area::Webhook,
                what: format!("{what} → re-signed with another secret"),
                caller: Caller::Guest,
                method: Method::POST,
                path: "/webhook".into(),
                headers,
                body,
                pad,
                must_fail: true,
            };
        }
    };
    let mut headers = Vec::new();
    if let Some(signature) = signature {
        headers.push(("stripe-signature".to_owned(), signature));
        if rng.gen_bool(0.05) {
            // A second header: the server reads the first.
            headers.push(("stripe-signature".to_owned(), b"t=1,v1=00".to_vec()));
        }
    }
    if rng.gen_bool(0.8) {
        headers.push(("content-type".into(), b"application/json".to_vec()));
    } else {
        content_type(rng, &mut headers);
    }
    Probe {
        area: Area::Webhook,
        what,
        caller: Caller::Guest,
        method: Method::POST,
        path: "/webhook".into(),
        headers,
        body,
        pad,
        must_fail,
    }
}

/// `server::webhook::MAX_BODY`.
pub const WEBHOOK_LIMIT: usize = server::webhook::MAX_BODY;

// --- Sending ----------------------------------------------------------------------------

struct Outcome {
    status: Option<u16>,
    error: Option<String>,
    body: String,
    /// The `Location` of a redirect.
    location: Option<String>,
}

impl Outcome {
    /// A plain form refused the way a browser sees it: sent back to its page with the
    /// reason in the URL (`__err`, which the page shows).
    fn is_form_refusal(&self, probe: &Probe) -> bool {
        probe.area == Area::Form
            && self.status == Some(302)
            && self
                .location
                .as_deref()
                .is_some_and(|l| l.contains("__err="))
    }
}

async fn send(client: &reqwest::Client, base: &str, probe: &Probe) -> Outcome {
    let url = format!("{base}{}", probe.path);
    let mut request = client.request(probe.method.clone(), &url);
    for (name, value) in &probe.headers {
        // A value not sendable in HTTP/1 (a control character) is left out.
        if let Ok(v) = reqwest::header::HeaderValue::from_bytes(value) {
            request = request.header(name.as_str(), v);
        }
    }
    let body = padded(&probe.body, probe.pad);
    match request.body(body).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
            let body = response.text().await.unwrap_or_default();
            Outcome {
                status: Some(status),
                error: None,
                body: body.chars().take(400).collect(),
                location,
            }
        }
        Err(e) => Outcome {
            status: None,
            error: Some(format!("{e:?}")),
            body: String::new(),
            location: None,
        },
    }
}

// --- Known bugs -------------------------------------------------------------------------

/// Answers of bugs this drill found and reported but does not fix (its brief: no change
/// outside the tests): such an answer is counted and printed, not failed. Each is as
/// narrow as the bug: the exact endpoint, input shape and answer.
fn known_bug(_backend: &str, _probe: &Probe, _outcome: &Outcome) -> Option<&'static str> {
    // None left: the two this drill found are fixed (a NUL in a form field or a URL is
    // refused at the edge with 400; `card_setup_done` with an id not shaped like one
    // answers 404). A bug found later gets a narrow, commented skip here until fixed.
    None
}

// --- The drill --------------------------------------------------------------------------

fn seed() -> u64 {
    match std::env::var("FUZZ_SEED") {
        Ok(s) if !s.trim().is_empty() => s.trim().parse().expect("FUZZ_SEED is a u64"),
        _ => rand::random(),
    }
}

async fn drill(app: &TestApp, name: &str, threads: &str) {
    // Every server function the server registered is in the list, and nothing else.
    let mut registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    registered.sort();
    let mut listed: Vec<String> = ENDPOINTS.iter().map(|e| e.name.to_owned()).collect();
    listed.sort();
    assert_eq!(listed, registered, "the fuzz's list of server functions");

    let started = Instant::now();
    let fx = fixture(app).await;
    let setup = started.elapsed();
    let seed = seed();
    eprintln!("fuzz[{name}]: seed {seed} (FUZZ_SEED={seed} replays it)");
    let mut rng = StdRng::seed_from_u64(seed);
    let base = app.server.base.clone();
    let secret = app.server.stripe.webhook_secret.clone();
    let probes: Vec<Probe> = (0..REQUESTS)
        .map(|_| match rng.gen_range(0..100) {
            0..=61 => api_probe(&base, &fx, &mut rng),
            62..=69 => page_probe(&base, &fx, &mut rng),
            70..=95 => webhook_probe(&fx, &secret, &mut rng),
            _ => other_probe(&base, &fx, &mut rng),
        })
        .collect();

    let tables = tables(app).await;
    let before = row_counts(app, &tables).await;

    let client = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
    };
    let pooled = client().build().unwrap();
    // A body over a limit is answered (413) before it is all read, and the connection
    // then closed: such requests get connections of their own, so that no other
    // request is sent on one being closed (and "no answer" keeps meaning something).
    let unpooled = client().pool_max_idle_per_host(0).build().unwrap();
    let fuzzing = Instant::now();
    let outcomes: Vec<Outcome> = futures::stream::iter(probes.iter())
        .map(|probe| {
            send(
                if probe.pad > 0 { &unpooled } else { &pooled },
                &base,
                probe,
            )
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let fuzz_time = fuzzing.elapsed();

    // Anything the requests set off has arrived (none should have: nothing was written).
    quiesce(app).await;
    let (health, _) = app.get("/healthz").await;
    let after = row_counts(app, &tables).await;

    let mut statuses: BTreeMap<(Area, String), usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    for (probe, outcome) in probes.iter().zip(&outcomes) {
        let status = match (outcome.status, &outcome.error) {
            (Some(s), _) => s.to_string(),
            (None, Some(_)) => "error".into(),
            _ => unreachable!(),
        };
        *statuses.entry((probe.area, status)).or_default() += 1;
        if let Some(bug) = known_bug(name, probe, outcome) {
            *skipped.entry(bug).or_default() += 1;
            continue;
        }
        match outcome.status {
            Some(s) if s >= 500 => failures.push(format!(
                "{s} for {}\n    answer: {}",
                probe.describe(),
                outcome.body
            )),
            Some(s) if probe.must_fail && s < 400 && !outcome.is_form_refusal(probe) => failures
                .push(format!(
                    "{s} (must be refused) for {}\n    answer: {}",
                    probe.describe(),
                    outcome.body
                )),
            // A body over the limit may be cut off by the server before it is all sent.
            None if probe.pad == 0 => failures.push(format!(
                "no answer ({}) for {}",
                outcome.error.as_deref().unwrap_or_default(),
                probe.describe()
            )),
            _ => {}
        }
    }
    let panics = panics_on(threads);
    let mut changed = Vec::new();
    for (table, n) in &before {
        if after.get(table) != Some(n) {
            changed.push(format!("{table}: {n} → {:?}", after.get(table)));
        }
    }

    eprintln!(
        "fuzz[{name}]: {} requests ({} built to be refused) in {:.1} s (setup {:.1} s), \
         seed {seed}; statuses by area:",
        probes.len(),
        probes.iter().filter(|p| p.must_fail).count(),
        fuzz_time.as_secs_f64(),
        setup.as_secs_f64()
    );
    for ((area, status), n) in &statuses {
        eprintln!("    {area:?} {status}: {n}");
    }
    eprintln!(
        "fuzz[{name}]: {} tables, rows before {before:?}",
        tables.len()
    );
    for (bug, n) in &skipped {
        eprintln!("fuzz[{name}]: SKIPPED {n} answers of a known bug: {bug}");
    }

    // Every problem at once (a failing drill says all it found).
    let mut problems = Vec::new();
    if !failures.is_empty() {
        problems.push(format!(
            "{} bad answers (the first {}):\n{}",
            failures.len(),
            failures.len().min(25),
            failures
                .iter()
                .take(25)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    if !panics.is_empty() {
        problems.push(format!(
            "the server panicked {} times: {panics:#?}",
            panics.len()
        ));
    }
    if health != 200 {
        problems.push(format!("/healthz answered {health} after the fuzz"));
    }
    if !changed.is_empty() {
        problems.push(format!("rows written by malformed requests: {changed:?}"));
    }
    assert!(
        problems.is_empty(),
        "fuzz[{name}] seed {seed} (FUZZ_SEED={seed} replays it):\n{}",
        problems.join("\n")
    );
}
