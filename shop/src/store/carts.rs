//! Carts: lines of catalogue products, always returned priced from the catalogue.

use sqlx::Row;

use super::catalogue::product_from_row;
use super::{now_ms, quantity, Store, StoreError};
use crate::catalogue::{price_cart, CartView, MAX_LINES, MAX_QUANTITY};
use crate::error::ShopError;
use crate::ids::{CartId, Quantity, Sku};

impl Store {
    pub async fn cart(&self, cart: &CartId) -> Result<CartView, StoreError> {
        Store::priced_cart(&self.pool, cart).await
    }

    /// Adds `quantity` to the product's line (creating cart and line as needed).
    pub async fn add_to_cart(
        &self,
        cart: &CartId,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<CartView, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        Store::change_cart(&mut tx, cart, now, true).await?;
        let product_id = Store::product_id(&mut *tx, sku).await?;
        let current: Option<i64> =
            sqlx::query("SELECT quantity FROM cart_items WHERE cart_id = $1 AND product_id = $2")
                .bind(cart.as_str())
                .bind(product_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get("quantity"))
                .transpose()?;
        let added = i64::from(quantity.get());
        match current {
            Some(current) => {
                let new = current + added;
                if new > i64::from(MAX_QUANTITY) {
                    return Err(ShopError::QuantityLimit.into());
                }
                sqlx::query(
                    "UPDATE cart_items SET quantity = $1 WHERE cart_id = $2 AND product_id = $3",
                )
                .bind(new)
                .bind(cart.as_str())
                .bind(product_id)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                let lines: i64 =
                    sqlx::query("SELECT COUNT(*) AS n FROM cart_items WHERE cart_id = $1")
                        .bind(cart.as_str())
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("n")?;
                if lines >= MAX_LINES as i64 {
                    return Err(ShopError::TooManyLines.into());
                }
                sqlx::query(
                    "INSERT INTO cart_items (cart_id, product_id, quantity, added_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(cart.as_str())
                .bind(product_id)
                .bind(added)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        let priced = Store::priced_cart(&mut *tx, cart).await?;
        tx.commit().await?;
        Ok(priced)
    }

    pub async fn set_quantity(
        &self,
        cart: &CartId,
        sku: &Sku,
        quantity: Quantity,
    ) -> Result<CartView, StoreError> {
        self.change_line(cart, sku, Some(quantity)).await
    }

    pub async fn remove_from_cart(&self, cart: &CartId, sku: &Sku) -> Result<CartView, StoreError> {
        self.change_line(cart, sku, None).await
    }

    /// Sets the quantity of the product's line (`Some`) or removes the line (`None`); a
    /// product that is not in the cart is refused. One transaction: the revision, the
    /// change and the priced cart it answers with.
    async fn change_line(
        &self,
        cart: &CartId,
        sku: &Sku,
        quantity: Option<Quantity>,
    ) -> Result<CartView, StoreError> {
        let mut tx = self.pool.begin().await?;
        Store::change_cart(&mut tx, cart, now_ms(), false).await?;
        let product_id = Store::product_id(&mut *tx, sku).await?;
        let query = match quantity {
            Some(quantity) => sqlx::query(
                "UPDATE cart_items SET quantity = $1 WHERE cart_id = $2 AND product_id = $3",
            )
            .bind(i64::from(quantity.get())),
            None => sqlx::query("DELETE FROM cart_items WHERE cart_id = $1 AND product_id = $2"),
        };
        let query = query.bind(cart.as_str()).bind(product_id);
        if query.execute(&mut *tx).await?.rows_affected() == 0 {
            // Dropping the transaction rolls the revision back: nothing changed.
            return Err(ShopError::NotInCart {
                sku: sku.to_string(),
            }
            .into());
        }
        let priced = Store::priced_cart(&mut *tx, cart).await?;
        tx.commit().await?;
        Ok(priced)
    }

    /// Every change to a cart starts here, in the change's transaction: `updated_at` and
    /// the revision move on (the revision rolls back with a change that fails). With
    /// `create`, a cart that does not exist yet is created at revision 1. Returns whether
    /// the cart exists. A write first: SQLite takes its write lock now rather than failing
    /// to upgrade a read lock later, and PostgreSQL locks the cart's row, so changes to
    /// one cart take their revisions in the order they commit.
    pub(super) async fn change_cart(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        cart: &CartId,
        now: i64,
        create: bool,
    ) -> Result<bool, StoreError> {
        let query = if create {
            sqlx::query(
                "INSERT INTO carts (id, created_at, updated_at, revision) VALUES ($1, $2, $2, 1) \
                 ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, \
                 revision = carts.revision + 1",
            )
        } else {
            sqlx::query("UPDATE carts SET updated_at = $2, revision = revision + 1 WHERE id = $1")
        };
        let done = query
            .bind(cart.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The cart's lines priced from the catalogue, with its revision, read by one
    /// statement (a consistent snapshot inside a transaction or not). A cart that does not
    /// exist is empty at revision 0.
    pub(super) async fn priced_cart<'e, E>(
        executor: E,
        cart: &CartId,
    ) -> Result<CartView, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        // One row per line, or one row of NULL lines for a cart without any.
        let rows = sqlx::query(
            "SELECT c.revision, p.sku, p.name, p.description, p.price_minor, p.currency, \
             p.swatch, ci.quantity \
             FROM carts c LEFT JOIN cart_items ci ON ci.cart_id = c.id \
             LEFT JOIN products p ON p.id = ci.product_id \
             WHERE c.id = $1 ORDER BY ci.added_at, p.id",
        )
        .bind(cart.as_str())
        .fetch_all(executor)
        .await?;
        let revision = match rows.first() {
            Some(row) => {
                let stored: i64 = row.try_get("revision")?;
                u64::try_from(stored)
                    .map_err(|_| StoreError::Corrupt(format!("cart revision {stored}")))?
            }
            None => 0,
        };
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<String>, _>("sku")?.is_none() {
                continue;
            }
            items.push((product_from_row(row)?, quantity(row.try_get("quantity")?)?));
        }
        Ok(CartView {
            revision,
            ..price_cart(&items)?
        })
    }
}
