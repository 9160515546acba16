//! Storage: one sqlx pool (SQLite file by default, PostgreSQL when `DATABASE_URL` says
//! so), the same portable migrations (`shop/migrations/`) on both, and every query of the
//! shop, one module per concept: [`accounts`] (accounts, sessions, sign-in failures,
//! ownership), [`cards`] (saved cards), [`catalogue`], [`carts`], [`orders`], [`payments`]
//! (an order's PaymentIntent and the one path by which Stripe's word changes an order),
//! [`events`] (verified Stripe events, stored once; their writes and `pay`'s go through
//! one group commit, `writer`), [`refunds`] (refunds by `re_` id, the
//! refundable amount, the merchant audit trail).
//!
//! Queries return [`StoreError`]; [`From<StoreError> for ShopError`](StoreError) is the
//! one place a storage failure becomes what a shopper sees (logged, then `Internal`).

pub mod accounts;
pub mod cards;
pub mod carts;
pub mod catalogue;
pub mod console;
pub mod disputes;
pub mod events;
pub mod fraud;
pub mod guard;
pub mod orders;
pub mod payments;
pub mod payouts;
pub mod reconcile;
pub mod refunds;
mod writer;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use stripe_client::Secret;
use stripe_types::Currency;

use crate::error::ShopError;
use crate::ids::{OrderId, Sku};
use crate::order::OrderStatus;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite { path: PathBuf },
    Postgres { url: Secret },
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite { path } => write!(f, "Sqlite({})", path.display()),
            Database::Postgres { url } => write!(f, "Postgres({})", redact_url(url.expose())),
        }
    }
}

/// `postgres://user:pw@host/db` → `postgres://user:***@host/db`.
fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "[unparseable]".into(),
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// Group commit of stored events, their "processed" marks and the intents `pay`
    /// records (see `writer`).
    writer: writer::Writer,
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Why a query did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule of the shop refused the change inside its transaction (nothing was
    /// written): an unknown product, a full cart, a changed total…
    #[error(transparent)]
    Refused(#[from] ShopError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value breaks what the schema promises (a status or currency no code
    /// writes).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Other writers kept changing the row (optimistic concurrency gave up).
    #[error("row kept changing: {0}")]
    Contended(&'static str),
    /// A group commit this write was part of failed (the first error, as text: every
    /// write of the batch gets it).
    #[error("database error (group commit): {0}")]
    Batch(String),
}

impl From<StoreError> for ShopError {
    /// The one place a storage failure is turned into what the shopper sees.
    fn from(error: StoreError) -> ShopError {
        match error {
            StoreError::Refused(refusal) => refusal,
            failure => {
                tracing::error!(error = %failure, "database error");
                ShopError::Internal
            }
        }
    }
}

impl Store {
    /// Connects (creating the SQLite file and its directory if needed) and migrates.
    pub async fn connect(database: &Database) -> Result<Store, ConnectError> {
        sqlx::any::install_default_drivers();
        let (url, max_connections) = match database {
            Database::Sqlite { path } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| ConnectError::DataDir(dir.display().to_string(), e))?;
                }
                (format!("sqlite://{}?mode=rwc", path.display()), 8)
            }
            Database::Postgres { url } => (url.expose().to_owned(), 16),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings a connection every time the pool hands it out. A SQLite
            // connection is this process's own file handle (nothing on the far side can
            // drop it), and the ping is one more round trip to the connection's thread for
            // every query: on the pay path's profile, thread switches were the largest
            // cost. PostgreSQL keeps it (a server restart drops its connections).
            .test_before_acquire(matches!(database, Database::Postgres { .. }))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        // WAL lets readers run beside the writer; writers wait for each
                        // other instead of failing at once. `synchronous = FULL`: a commit
                        // (an acknowledged webhook event) is on disk before it returns, and
                        // survives a power loss (NORMAL may lose the last ones in WAL mode).
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(ConnectError::Connect)?;
        MIGRATOR.run(&pool).await?;
        let writer = writer::Writer::start(pool.clone());
        Ok(Store { pool, writer })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// `SELECT 1` against the database, for `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Unix milliseconds now: every timestamp the store writes.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// `$first, $first+1, …`: one SQL parameter per value, for `status IN (…)`.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn currency(code: &str) -> Result<Currency, StoreError> {
    Currency::from_str(code).map_err(|e| StoreError::Corrupt(format!("currency {code:?}: {e}")))
}

fn order_status(name: &str) -> Result<OrderStatus, StoreError> {
    OrderStatus::parse(name).ok_or_else(|| StoreError::Corrupt(format!("order status {name:?}")))
}

fn sku(stored: &str) -> Result<Sku, StoreError> {
    Sku::parse(stored).map_err(|_| StoreError::Corrupt(format!("sku {stored:?}")))
}

fn order_id(stored: &str) -> Result<OrderId, StoreError> {
    OrderId::parse(stored).map_err(|_| StoreError::Corrupt(format!("order id {stored:?}")))
}

fn quantity(stored: i64) -> Result<u32, StoreError> {
    u32::try_from(stored).map_err(|_| StoreError::Corrupt(format!("quantity {stored}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_redacted_in_debug() {
        let db = Database::Postgres {
            url: Secret::new("postgres://app:hunter2@db.internal/shop"),
        };
        let shown = format!("{db:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app:***@db.internal"), "{shown}");
    }

    #[test]
    fn storage_failures_reach_the_shopper_as_internal_and_refusals_as_themselves() {
        let refused = StoreError::Refused(ShopError::EmptyCart);
        assert_eq!(ShopError::from(refused), ShopError::EmptyCart);
        let broken = StoreError::Corrupt("order status \"x\"".into());
        assert_eq!(ShopError::from(broken), ShopError::Internal);
        let db = StoreError::Database(sqlx::Error::RowNotFound);
        assert_eq!(ShopError::from(db), ShopError::Internal);
    }
}
