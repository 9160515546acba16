//! Storage for the orders' payments: the PaymentIntent of each order, and the one path
//! ([`Store::apply_fact`]) by which a verified Stripe fact changes an order, whether it
//! came from a webhook or from a server-side retrieve.

use std::str::FromStr;

use app::shop::OrderStatus;
use sqlx::any::AnyRow;
use sqlx::Row;
use stripe_types::{Currency, Money};

use crate::fulfilment::{decide, Change, Decision, Ignored, OrderPayment, PaymentFact};
use crate::store::{now_ms, Store};

/// An order's payment row.
#[derive(Debug, Clone)]
pub struct OrderPaymentRow {
    pub order_id: String,
    pub payment: OrderPayment,
    pub failure_code: Option<String>,
    /// Unix ms of the last server-side retrieve.
    pub checked_at: i64,
    /// The version of the PaymentIntent create's idempotency key.
    pub pi_attempt: i64,
    revision: i64,
}

/// What [`Store::apply_fact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Changed {
        order_id: String,
        status: OrderStatus,
    },
    Ignored {
        order_id: String,
        reason: Ignored,
    },
    /// No order has this PaymentIntent (nor the order id in its metadata).
    UnknownOrder,
}

const SELECT: &str = "SELECT id, status, currency, total_minor, payment_intent_id, last_fact_at, \
                      refunded_minor, failure_code, checked_at, pi_attempt, revision FROM orders";

fn row_to_payment(row: &AnyRow) -> Result<OrderPaymentRow, sqlx::Error> {
    let decode = |e: String| sqlx::Error::Decode(e.into());
    let status: String = row.try_get("status")?;
    let currency: String = row.try_get("currency")?;
    Ok(OrderPaymentRow {
        order_id: row.try_get("id")?,
        payment: OrderPayment {
            status: OrderStatus::parse(&status)
                .ok_or_else(|| decode(format!("bad order status {status}")))?,
            total: Money::new(
                row.try_get("total_minor")?,
                Currency::from_str(&currency).map_err(|e| decode(e.to_string()))?,
            ),
            payment_intent_id: row.try_get("payment_intent_id")?,
            last_fact_at: row.try_get("last_fact_at")?,
            refunded_minor: row.try_get("refunded_minor")?,
        },
        failure_code: row.try_get("failure_code")?,
        checked_at: row.try_get("checked_at")?,
        pi_attempt: row.try_get("pi_attempt")?,
        revision: row.try_get("revision")?,
    })
}

impl Store {
    pub async fn order_payment(
        &self,
        order_id: &str,
    ) -> Result<Option<OrderPaymentRow>, sqlx::Error> {
        sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(order_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(row_to_payment)
            .transpose()
    }

    async fn order_payment_for_fact(
        &self,
        fact: &PaymentFact,
    ) -> Result<Option<OrderPaymentRow>, sqlx::Error> {
        let by_pi = sqlx::query(&format!("{SELECT} WHERE payment_intent_id = $1"))
            .bind(&fact.payment_intent_id)
            .fetch_optional(self.pool())
            .await?;
        if let Some(row) = by_pi {
            return row_to_payment(&row).map(Some);
        }
        // The event may beat the server storing the PaymentIntent's id on the order.
        match &fact.order_id {
            Some(order_id) => self.order_payment(order_id).await,
            None => Ok(None),
        }
    }

    /// Records the order's PaymentIntent unless it already has one; returns the one the
    /// order now has.
    pub async fn attach_payment_intent(
        &self,
        order_id: &str,
        payment_intent_id: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query(
            "UPDATE orders SET payment_intent_id = $1, revision = revision + 1, updated_at = $2 \
             WHERE id = $3 AND payment_intent_id IS NULL",
        )
        .bind(payment_intent_id)
        .bind(now_ms())
        .bind(order_id)
        .execute(self.pool())
        .await?;
        Ok(self
            .order_payment(order_id)
            .await?
            .and_then(|row| row.payment.payment_intent_id))
    }

    /// The browser reports that the shopper's confirmation went through: the order shows
    /// `processing` until Stripe's word (webhook or retrieve) arrives. Nothing is
    /// fulfilled on this basis.
    pub async fn mark_submitted(&self, order_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE orders SET status = 'processing', revision = revision + 1, updated_at = $1 \
             WHERE id = $2 AND status IN ('pending', 'failed') AND payment_intent_id IS NOT NULL",
        )
        .bind(now_ms())
        .bind(order_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// After Stripe stored an error under the create's idempotency key: the next try uses
    /// a new key. Only while no PaymentIntent is attached (an unattached one's client
    /// secret was never handed out, so it cannot be confirmed).
    pub async fn next_pi_attempt(&self, order_id: &str, attempt: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE orders SET pi_attempt = pi_attempt + 1, revision = revision + 1 \
             WHERE id = $1 AND payment_intent_id IS NULL AND pi_attempt = $2",
        )
        .bind(order_id)
        .bind(attempt)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn set_checked(&self, order_id: &str, at_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE orders SET checked_at = $1 WHERE id = $2")
            .bind(at_ms)
            .bind(order_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Applies one verified fact to its order through the state machine. The only way
    /// an order becomes `paid`: webhooks and server-side retrieves both come here.
    ///
    /// Optimistic concurrency: the update only lands if the row is still the one the
    /// decision was made on; otherwise it is decided again on the new row.
    pub async fn apply_fact(&self, fact: &PaymentFact) -> Result<Applied, sqlx::Error> {
        for _ in 0..5 {
            let Some(row) = self.order_payment_for_fact(fact).await? else {
                return Ok(Applied::UnknownOrder);
            };
            let change = match decide(&row.payment, fact) {
                Decision::Apply(change) => change,
                Decision::Ignore(reason) => {
                    return Ok(Applied::Ignored {
                        order_id: row.order_id,
                        reason,
                    })
                }
            };
            if self.write_change(&row, &change).await? {
                if change.status == OrderStatus::Paid && row.payment.status != OrderStatus::Paid {
                    tracing::info!(
                        order_id = %row.order_id,
                        payment_intent = %change.payment_intent_id,
                        amount = row.payment.total.minor,
                        currency = %row.payment.total.currency,
                        "order paid"
                    );
                }
                return Ok(Applied::Changed {
                    order_id: row.order_id,
                    status: change.status,
                });
            }
        }
        Err(sqlx::Error::Protocol(
            "order kept changing while a payment fact was applied".into(),
        ))
    }

    async fn write_change(
        &self,
        row: &OrderPaymentRow,
        change: &Change,
    ) -> Result<bool, sqlx::Error> {
        let now = now_ms();
        let paid_at = (change.status == OrderStatus::Paid).then_some(now);
        let done = sqlx::query(
            "UPDATE orders SET status = $1, refunded_minor = $2, last_fact_at = $3, \
             failure_code = $4, payment_intent_id = $5, paid_at = COALESCE(paid_at, $6), \
             revision = revision + 1, updated_at = $7 \
             WHERE id = $8 AND revision = $9",
        )
        .bind(change.status.as_str())
        .bind(change.refunded_minor)
        .bind(change.last_fact_at)
        .bind(&change.failure_code)
        .bind(&change.payment_intent_id)
        .bind(paid_at)
        .bind(now)
        .bind(&row.order_id)
        .bind(row.revision)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a stored event as turned into order state.
    pub async fn mark_event_processed(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE stripe_events SET processed_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Whether a stored event still waits to be processed.
    pub async fn event_unprocessed(&self, id: &str) -> Result<bool, sqlx::Error> {
        Ok(
            sqlx::query(
                "SELECT 1 AS one FROM stripe_events WHERE id = $1 AND processed_at IS NULL",
            )
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .is_some(),
        )
    }

    /// Counts a failed processing attempt of a stored event.
    pub async fn event_attempt_failed(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE stripe_events SET attempts = attempts + 1 WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Stored events not yet processed that arrived before `before_ms` and failed fewer
    /// than `max_attempts` times, oldest first (one that keeps failing is parked, for a
    /// human, instead of holding up the others).
    pub async fn unprocessed_events(
        &self,
        before_ms: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query(
            "SELECT id, payload FROM stripe_events WHERE processed_at IS NULL AND received_at < $1 \
             AND attempts < $2 ORDER BY received_at LIMIT $3",
        )
        .bind(before_ms)
        .bind(max_attempts)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("payload")?)))
        .collect()
    }
}
