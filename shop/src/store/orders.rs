//! Orders: placing one (cart → `pending` order, atomically) and reading it back.

use sqlx::Row;
use stripe_types::Money;

use super::catalogue::product_from_row;
use super::{currency, now_ms, order_status, quantity, sku, Store, StoreError};
use crate::account::{AccountId, RequestId};
use crate::catalogue::{price_cart, CartLine, CartView};
use crate::error::ShopError;
use crate::ids::{CartId, OrderId};
use crate::order::{OrderStatus, OrderView};

impl Store {
    /// The order a PaymentIntent belongs to (disputes and fraud warnings name only it).
    pub async fn order_of_payment_intent(
        &self,
        payment_intent_id: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let Some(pi) = payment_intent_id else {
            return Ok(None);
        };
        Ok(
            sqlx::query("SELECT id FROM orders WHERE payment_intent_id = $1")
                .bind(pi)
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get("id"))
                .transpose()?,
        )
    }

    /// Places an order: the cart becomes a `pending` order whose lines and total come
    /// from the catalogue, and the cart is emptied, in one transaction.
    /// `expected_total_minor` is the total the shopper saw: if the server's differs (a
    /// price changed, or the request was tampered with), nothing is created.
    ///
    /// `request` is the checkout form's one-time id. The same form posted again (a double
    /// click without JavaScript, a resent form) finds the cart emptied by the first post
    /// and gets the order that post placed. A form from before that order, on a cart
    /// filled again since (the Back button), places a new order. Another cart's id is
    /// refused.
    // The cart id is the shopper's cookie (a bearer credential): never logged.
    #[tracing::instrument(level = "error", skip_all)]
    pub async fn place_order(
        &self,
        cart: &CartId,
        account: Option<&AccountId>,
        expected_total_minor: i64,
        request: Option<&RequestId>,
    ) -> Result<OrderId, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // A write first (the cart's lock): the same form twice waits here, then finds the
        // first one's order.
        if !Store::change_cart(&mut tx, cart, now, false).await? {
            return Err(ShopError::EmptyCart.into());
        }
        let priced = Store::priced_cart(&mut *tx, cart).await?;
        let mut key = request;
        if let Some(request) = request {
            let placed = sqlx::query("SELECT id, cart_id FROM orders WHERE request_key = $1")
                .bind(request.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(placed) = placed {
                if placed.try_get::<String, _>("cart_id")? != cart.as_str() {
                    return Err(ShopError::BadRequest("request_id already used".into()).into());
                }
                if priced.total.is_none() {
                    return super::order_id(&placed.try_get::<String, _>("id")?);
                }
                key = None;
            }
        }
        let Some(total) = priced.total else {
            return Err(ShopError::EmptyCart.into());
        };
        if total.minor != expected_total_minor {
            return Err(ShopError::TotalChanged {
                expected: Money::new(expected_total_minor, total.currency).to_string(),
                current: total.to_string(),
            }
            .into());
        }
        let order_id = Store::insert_order(&mut tx, cart, account, &priced, now).await?;
        if let Some(key) = key {
            sqlx::query("UPDATE orders SET request_key = $1 WHERE id = $2")
                .bind(key.as_str())
                .bind(order_id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM cart_items WHERE cart_id = $1")
            .bind(cart.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(order_id = %order_id, amount = total.minor, currency = %total.currency, "order created");
        Ok(order_id)
    }

    /// "Buy again": a new `pending` order of the account with the lines of `previous`
    /// (one of its orders) at today's catalogue prices. Products no longer sold are left
    /// out; none left is an empty cart. The same `request` again returns the order it
    /// placed the first time.
    #[tracing::instrument(level = "error", skip_all, fields(previous = %previous))]
    pub async fn reorder(
        &self,
        account: &AccountId,
        account_cart: &CartId,
        previous: &OrderId,
        request: &RequestId,
    ) -> Result<OrderId, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // A write first: SQLite's write lock now (not on a later upgrade), and on
        // PostgreSQL the account's row lock, so the same request twice waits here and
        // then finds the first one's order.
        sqlx::query("UPDATE accounts SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account.as_str())
            .execute(&mut *tx)
            .await?;
        let placed = sqlx::query("SELECT id, account_id FROM orders WHERE request_key = $1")
            .bind(request.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(placed) = placed {
            let owner: Option<String> = placed.try_get("account_id")?;
            if owner.as_deref() != Some(account.as_str()) {
                return Err(ShopError::BadRequest("request_id already used".into()).into());
            }
            return super::order_id(&placed.try_get::<String, _>("id")?);
        }
        let rows = sqlx::query(
            "SELECT p.sku, p.name, p.description, p.price_minor, p.currency, p.swatch, \
             ol.quantity FROM order_lines ol JOIN orders o ON o.id = ol.order_id \
             JOIN products p ON p.id = ol.product_id \
             WHERE ol.order_id = $1 AND o.account_id = $2 AND p.active = 1 ORDER BY ol.line_no",
        )
        .bind(previous.as_str())
        .bind(account.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let items = rows
            .iter()
            .map(|row| Ok((product_from_row(row)?, quantity(row.try_get("quantity")?)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let priced = price_cart(&items)?;
        if priced.total.is_none() {
            return Err(ShopError::EmptyCart.into());
        }
        let order_id =
            Store::insert_order(&mut tx, account_cart, Some(account), &priced, now).await?;
        sqlx::query("UPDATE orders SET request_key = $1 WHERE id = $2")
            .bind(request.as_str())
            .bind(order_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(order_id = %order_id, "order placed again");
        Ok(order_id)
    }

    async fn insert_order(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        cart: &CartId,
        account: Option<&AccountId>,
        priced: &CartView,
        now: i64,
    ) -> Result<OrderId, StoreError> {
        let total = priced.total.ok_or(ShopError::EmptyCart)?;
        let order_id = OrderId::generate();
        sqlx::query(
            "INSERT INTO orders (id, cart_id, account_id, status, currency, total_minor, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(order_id.as_str())
        .bind(cart.as_str())
        .bind(account.map(AccountId::as_str))
        .bind(OrderStatus::Pending.as_str())
        .bind(total.currency.code())
        .bind(total.minor)
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        for (line_no, line) in priced.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_lines \
                 (order_id, line_no, product_id, sku, name, unit_minor, quantity, line_minor) \
                 SELECT $1, $2, id, sku, name, $3, $4, $5 FROM products WHERE sku = $6",
            )
            .bind(order_id.as_str())
            .bind(line_no as i64)
            .bind(line.unit_price.minor)
            .bind(i64::from(line.quantity))
            .bind(line.line_total.minor)
            .bind(line.sku.as_str())
            .execute(&mut **tx)
            .await?;
        }
        Ok(order_id)
    }

    /// The order with its lines, as the shopper sees it.
    pub async fn order(&self, order_id: &OrderId) -> Result<OrderView, StoreError> {
        let row = sqlx::query(
            "SELECT id, status, currency, total_minor, created_at, failure_code FROM orders \
             WHERE id = $1",
        )
        .bind(order_id.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ShopError::UnknownOrder {
            id: order_id.to_string(),
        })?;
        let currency = currency(&row.try_get::<String, _>("currency")?)?;
        let lines = sqlx::query(
            "SELECT sku, name, unit_minor, quantity, line_minor FROM order_lines \
             WHERE order_id = $1 ORDER BY line_no",
        )
        .bind(order_id.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|l| {
            Ok(CartLine {
                sku: sku(&l.try_get::<String, _>("sku")?)?,
                name: l.try_get("name")?,
                unit_price: Money::new(l.try_get("unit_minor")?, currency),
                quantity: quantity(l.try_get("quantity")?)?,
                line_total: Money::new(l.try_get("line_minor")?, currency),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(OrderView {
            id: order_id.clone(),
            status: order_status(&row.try_get::<String, _>("status")?)?,
            lines,
            total: Money::new(row.try_get("total_minor")?, currency),
            created_at: row.try_get("created_at")?,
            failure_code: row.try_get("failure_code")?,
        })
    }
}
