//! The card-testing guard's and the expiry's storage: failed attempts counted from the
//! stored events (each Stripe event once, by its id), the shop's own closing of an order,
//! and what is old enough to expire.

use sqlx::Row;

use super::{now_ms, order_id, Store, StoreError};
use crate::ids::OrderId;
use crate::order::OrderStatus;

/// The Stripe event of a failed confirmation attempt.
pub(super) const FAILED: &str = "payment_intent.payment_failed";

/// Why the shop closed an order itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedReason {
    /// The card-testing guard: too many failed attempts on it.
    CardTesting,
    /// Never paid, and too old.
    Expired,
}

impl ClosedReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            ClosedReason::CardTesting => "card_testing",
            ClosedReason::Expired => "expired",
        }
    }

    pub fn parse(value: &str) -> Option<ClosedReason> {
        match value {
            "card_testing" => Some(ClosedReason::CardTesting),
            "expired" => Some(ClosedReason::Expired),
            _ => None,
        }
    }
}

impl Store {
    /// Failed attempts on one PaymentIntent (its `payment_intent.payment_failed` events).
    pub async fn failed_attempts_on_intent(&self, payment_intent: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM stripe_events WHERE type = $1 AND payment_intent_id = $2",
        )
        .bind(FAILED)
        .bind(payment_intent)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Records where the order is being paid from.
    pub async fn set_order_client(
        &self,
        order: &OrderId,
        client_ip: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE orders SET client_ip = $1 WHERE id = $2 AND (client_ip IS NULL OR client_ip <> $1)")
            .bind(client_ip)
            .bind(order.as_str())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Marks the order closed by the shop (the first reason stays). Without a
    /// PaymentIntent there is nothing at Stripe to cancel: a payable order becomes
    /// `canceled` here at once. Returns the order's PaymentIntent, to cancel at Stripe.
    pub async fn close_order(
        &self,
        order: &OrderId,
        reason: ClosedReason,
    ) -> Result<Option<String>, StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE orders SET closed_reason = $1, revision = revision + 1, updated_at = $2 \
             WHERE id = $3 AND closed_reason IS NULL",
        )
        .bind(reason.as_str())
        .bind(now)
        .bind(order.as_str())
        .execute(self.pool())
        .await?;
        sqlx::query(
            "UPDATE orders SET status = $1, revision = revision + 1, updated_at = $2 \
             WHERE id = $3 AND payment_intent_id IS NULL AND status IN ($4, $5)",
        )
        .bind(OrderStatus::Canceled.as_str())
        .bind(now)
        .bind(order.as_str())
        .bind(OrderStatus::Pending.as_str())
        .bind(OrderStatus::Failed.as_str())
        .execute(self.pool())
        .await?;
        let row = sqlx::query("SELECT payment_intent_id FROM orders WHERE id = $1")
            .bind(order.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row
            .map(|r| r.try_get::<Option<String>, _>("payment_intent_id"))
            .transpose()?
            .flatten())
    }

    /// Orders never paid (`pending` or `failed`) placed before `before_ms`, and those the
    /// shop closed whose intent is not canceled yet (Stripe was unreachable), oldest
    /// first. `processing` ones are left alone: money is moving.
    pub async fn orders_to_expire(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<Vec<OrderId>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM orders WHERE status IN ($1, $2) \
             AND (created_at < $3 OR closed_reason IS NOT NULL) ORDER BY created_at LIMIT $4",
        )
        .bind(OrderStatus::Pending.as_str())
        .bind(OrderStatus::Failed.as_str())
        .bind(before_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| order_id(&r.try_get::<String, _>("id")?))
            .collect()
    }

    /// Deletes (with their lines) up to `limit` guest carts untouched since `before_ms`
    /// that no order and no account refers to; the number deleted.
    pub async fn delete_abandoned_carts(
        &self,
        before_ms: i64,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM carts WHERE id IN (SELECT c.id FROM carts c WHERE c.updated_at < $1 \
               AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.cart_id = c.id) \
               AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.cart_id = c.id) \
             LIMIT $2)",
        )
        .bind(before_ms)
        .bind(limit)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}
