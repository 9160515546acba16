//! Storage: one sqlx pool (SQLite file by default, PostgreSQL when DATABASE_URL says so),
//! the same portable migrations on both, and the shop's queries.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::backend::ShopBackend;
use app::shop::{
    self, CartView, OrderStatus, OrderView, Product, ShopError, MAX_LINES, MAX_QUANTITY,
};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use stripe_types::{Currency, Money};

use crate::config::Database;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Store {
    /// Connects (creating the SQLite file and its directory if needed) and migrates.
    pub async fn connect(database: &Database) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, max_connections) = match database {
            Database::Sqlite { path } => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::DataDir(dir.display().to_string(), e))?;
                }
                (format!("sqlite://{}?mode=rwc", path.display()), 8)
            }
            Database::Postgres { url } => (url.expose().to_owned(), 16),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        // WAL lets readers run beside the writer; writers wait for each
                        // other instead of failing at once.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(StoreError::Connect)?;
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// `SELECT 1` against the database, for `/healthz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Stores a verified Stripe event unless its id is already stored; `true` if new.
    /// `processed`: nothing more is to be done with it (a type the shop does not use).
    pub async fn record_event(
        &self,
        id: &str,
        kind: &str,
        created: i64,
        payload: &str,
        processed: bool,
    ) -> Result<bool, sqlx::Error> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO stripe_events (id, type, created, payload, received_at, processed_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(kind)
        .bind(created)
        .bind(payload)
        .bind(now)
        .bind(processed.then_some(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn priced_cart<'e, E>(executor: E, cart_id: &str) -> Result<CartView, ShopError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let rows = sqlx::query(
            "SELECT p.sku, p.name, p.description, p.price_minor, p.currency, p.swatch, ci.quantity \
             FROM cart_items ci JOIN products p ON p.id = ci.product_id \
             WHERE ci.cart_id = $1 ORDER BY ci.added_at, p.id",
        )
        .bind(cart_id)
        .fetch_all(executor)
        .await
        .map_err(internal)?;
        let items = rows
            .iter()
            .map(|row| {
                let quantity: i64 = row.try_get("quantity").map_err(internal)?;
                let quantity = u32::try_from(quantity).map_err(|_| ShopError::Internal)?;
                Ok((product_from_row(row)?, quantity))
            })
            .collect::<Result<Vec<_>, ShopError>>()?;
        shop::price_cart(&items)
    }

    /// The product's id, if the SKU is in the active catalogue.
    async fn product_id<'e, E>(executor: E, sku: &str) -> Result<i64, ShopError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        sqlx::query("SELECT id FROM products WHERE sku = $1 AND active = 1")
            .bind(sku)
            .fetch_optional(executor)
            .await
            .map_err(internal)?
            .map(|row| row.try_get::<i64, _>("id").map_err(internal))
            .transpose()?
            .ok_or_else(|| ShopError::UnknownProduct {
                sku: sku.to_owned(),
            })
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn internal(error: sqlx::Error) -> ShopError {
    tracing::error!(%error, "database error");
    ShopError::Internal
}

fn currency(code: &str) -> Result<Currency, ShopError> {
    Currency::from_str(code).map_err(|e| {
        tracing::error!(error = %e, "bad currency in the database");
        ShopError::Internal
    })
}

fn product_from_row(row: &AnyRow) -> Result<Product, ShopError> {
    let code: String = row.try_get("currency").map_err(internal)?;
    Ok(Product {
        sku: row.try_get("sku").map_err(internal)?,
        name: row.try_get("name").map_err(internal)?,
        description: row.try_get("description").map_err(internal)?,
        price: Money::new(
            row.try_get("price_minor").map_err(internal)?,
            currency(&code)?,
        ),
        swatch: row.try_get("swatch").map_err(internal)?,
    })
}

fn new_order_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let tail: String = (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("ord_{tail}")
}

pub fn is_order_id(id: &str) -> bool {
    id.strip_prefix("ord_").is_some_and(|tail| {
        tail.len() == 20
            && tail
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

#[async_trait::async_trait]
impl ShopBackend for Store {
    async fn products(&self) -> Result<Vec<Product>, ShopError> {
        let rows = sqlx::query(
            "SELECT sku, name, description, price_minor, currency, swatch \
             FROM products WHERE active = 1 ORDER BY sort_order, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(product_from_row).collect()
    }

    async fn cart(&self, cart_id: &str) -> Result<CartView, ShopError> {
        Store::priced_cart(&self.pool, cart_id).await
    }

    async fn add_to_cart(
        &self,
        cart_id: &str,
        sku: &str,
        quantity: u32,
    ) -> Result<CartView, ShopError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await.map_err(internal)?;
        // A write first, so SQLite takes the write lock now rather than failing to
        // upgrade a read lock later.
        sqlx::query(
            "INSERT INTO carts (id, created_at, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(cart_id)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
        let product_id = Store::product_id(&mut *tx, sku).await?;
        let current: Option<i64> =
            sqlx::query("SELECT quantity FROM cart_items WHERE cart_id = $1 AND product_id = $2")
                .bind(cart_id)
                .bind(product_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(internal)?
                .map(|row| row.try_get("quantity"))
                .transpose()
                .map_err(internal)?;
        match current {
            Some(current) => {
                let new = current + i64::from(quantity);
                if new > i64::from(MAX_QUANTITY) {
                    return Err(ShopError::QuantityLimit);
                }
                sqlx::query(
                    "UPDATE cart_items SET quantity = $1 WHERE cart_id = $2 AND product_id = $3",
                )
                .bind(new)
                .bind(cart_id)
                .bind(product_id)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            }
            None => {
                let lines: i64 =
                    sqlx::query("SELECT COUNT(*) AS n FROM cart_items WHERE cart_id = $1")
                        .bind(cart_id)
                        .fetch_one(&mut *tx)
                        .await
                        .and_then(|row| row.try_get("n"))
                        .map_err(internal)?;
                if lines >= MAX_LINES as i64 {
                    return Err(ShopError::TooManyLines);
                }
                sqlx::query(
                    "INSERT INTO cart_items (cart_id, product_id, quantity, added_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(cart_id)
                .bind(product_id)
                .bind(i64::from(quantity))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            }
        }
        let cart = Store::priced_cart(&mut *tx, cart_id).await?;
        tx.commit().await.map_err(internal)?;
        Ok(cart)
    }

    async fn set_quantity(
        &self,
        cart_id: &str,
        sku: &str,
        quantity: u32,
    ) -> Result<CartView, ShopError> {
        let product_id = Store::product_id(&self.pool, sku).await?;
        let done = sqlx::query(
            "UPDATE cart_items SET quantity = $1 WHERE cart_id = $2 AND product_id = $3",
        )
        .bind(i64::from(quantity))
        .bind(cart_id)
        .bind(product_id)
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        if done.rows_affected() == 0 {
            return Err(ShopError::NotInCart {
                sku: sku.to_owned(),
            });
        }
        self.cart(cart_id).await
    }

    async fn remove_from_cart(&self, cart_id: &str, sku: &str) -> Result<CartView, ShopError> {
        let product_id = Store::product_id(&self.pool, sku).await?;
        let done = sqlx::query("DELETE FROM cart_items WHERE cart_id = $1 AND product_id = $2")
            .bind(cart_id)
            .bind(product_id)
            .execute(&self.pool)
            .await
            .map_err(internal)?;
        if done.rows_affected() == 0 {
            return Err(ShopError::NotInCart {
                sku: sku.to_owned(),
            });
        }
        self.cart(cart_id).await
    }

    async fn checkout(
        &self,
        cart_id: &str,
        expected_total_minor: i64,
    ) -> Result<String, ShopError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let touched = sqlx::query("UPDATE carts SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(cart_id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        if touched.rows_affected() == 0 {
            return Err(ShopError::EmptyCart);
        }
        let cart = Store::priced_cart(&mut *tx, cart_id).await?;
        let Some(total) = cart.total else {
            return Err(ShopError::EmptyCart);
        };
        if total.minor != expected_total_minor {
            return Err(ShopError::TotalChanged {
                expected: Money::new(expected_total_minor, total.currency).to_string(),
                current: total.to_string(),
            });
        }
        let order_id = new_order_id();
        sqlx::query(
            "INSERT INTO orders (id, cart_id, status, currency, total_minor, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&order_id)
        .bind(cart_id)
        .bind(OrderStatus::Pending.as_str())
        .bind(total.currency.code())
        .bind(total.minor)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
        for (line_no, line) in cart.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_lines \
                 (order_id, line_no, product_id, sku, name, unit_minor, quantity, line_minor) \
                 SELECT $1, $2, id, sku, name, $3, $4, $5 FROM products WHERE sku = $6",
            )
            .bind(&order_id)
            .bind(line_no as i64)
            .bind(line.unit_price.minor)
            .bind(i64::from(line.quantity))
            .bind(line.line_total.minor)
            .bind(&line.sku)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        }
        sqlx::query("DELETE FROM cart_items WHERE cart_id = $1")
            .bind(cart_id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(order_id, amount = total.minor, currency = %total.currency, "order created");
        Ok(order_id)
    }

    async fn order(&self, order_id: &str) -> Result<OrderView, ShopError> {
        let unknown = || ShopError::UnknownOrder {
            id: order_id.chars().take(40).collect(),
        };
        if !is_order_id(order_id) {
            return Err(unknown());
        }
        let row = sqlx::query(
            "SELECT id, status, currency, total_minor, created_at, failure_code FROM orders \
             WHERE id = $1",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?
        .ok_or_else(unknown)?;
        let currency = currency(&row.try_get::<String, _>("currency").map_err(internal)?)?;
        let status: String = row.try_get("status").map_err(internal)?;
        let lines = sqlx::query(
            "SELECT sku, name, unit_minor, quantity, line_minor FROM order_lines \
             WHERE order_id = $1 ORDER BY line_no",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?
        .iter()
        .map(|l| {
            let quantity: i64 = l.try_get("quantity").map_err(internal)?;
            Ok(shop::CartLine {
                sku: l.try_get("sku").map_err(internal)?,
                name: l.try_get("name").map_err(internal)?,
                unit_price: Money::new(l.try_get("unit_minor").map_err(internal)?, currency),
                quantity: u32::try_from(quantity).map_err(|_| ShopError::Internal)?,
                line_total: Money::new(l.try_get("line_minor").map_err(internal)?, currency),
            })
        })
        .collect::<Result<Vec<_>, ShopError>>()?;
        Ok(OrderView {
            id: row.try_get("id").map_err(internal)?,
            status: OrderStatus::parse(&status).ok_or(ShopError::Internal)?,
            lines,
            total: Money::new(row.try_get("total_minor").map_err(internal)?, currency),
            created_at: row.try_get("created_at").map_err(internal)?,
            failure_code: row.try_get("failure_code").map_err(internal)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_are_random_and_validated() {
        let a = new_order_id();
        assert!(is_order_id(&a), "{a}");
        assert_ne!(a, new_order_id());
        for bad in [
            "",
            "ord_",
            "ord_ABCDEFGHIJKLMNOPQRST",
            "1",
            "ord_../../etc/passwd0000",
        ] {
            assert!(!is_order_id(bad), "{bad}");
        }
    }
}
