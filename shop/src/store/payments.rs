//! Orders' payments: the PaymentIntent of each order, and [`Store::apply_fact`], the one
//! path by which a verified Stripe fact changes an order, whether it came from a webhook
//! or from a server-side retrieve.

use sqlx::any::AnyRow;
use sqlx::Row;
use stripe_types::Money;

use super::guard::ClosedReason;
use super::writer::Write;
use super::{currency, now_ms, order_id, order_status, Store, StoreError};
use crate::ids::OrderId;
use crate::order::OrderStatus;
use crate::payment_state::{
    decide, Change, Decision, FactKind, Ignored, OrderPayment, PaymentFact,
};

/// An order's payment row.
#[derive(Debug, Clone)]
pub struct OrderPaymentRow {
    pub order_id: OrderId,
    pub payment: OrderPayment,
    pub failure_code: Option<String>,
    /// Unix ms of the last server-side retrieve.
    pub checked_at: i64,
    /// The version of the PaymentIntent create's idempotency key.
    pub pi_attempt: i64,
    /// The account that placed the order (`None`: a guest).
    pub account_id: Option<String>,
    /// The cart that placed it (a guest's order belongs to its cookie).
    pub cart_id: String,
    /// Why the shop closed the order, if it did.
    pub closed_reason: Option<ClosedReason>,
    /// The address it was last paid from (the card-testing guard counts by it).
    pub client_ip: Option<String>,
    revision: i64,
}

/// What [`Store::apply_fact`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Changed {
        order_id: OrderId,
        status: OrderStatus,
    },
    Ignored {
        order_id: OrderId,
        reason: Ignored,
    },
    /// No order has this PaymentIntent (nor the order id in its metadata).
    UnknownOrder,
}

/// The columns of an [`OrderPaymentRow`].
macro_rules! payment_columns {
    () => {
        "id, status, currency, total_minor, payment_intent_id, last_fact_at, refunded_minor, \
         failure_code, checked_at, pi_attempt, account_id, cart_id, closed_reason, client_ip, \
         revision"
    };
}

const SELECT: &str = concat!("SELECT ", payment_columns!(), " FROM orders");

fn row_to_payment(row: &AnyRow) -> Result<OrderPaymentRow, StoreError> {
    Ok(OrderPaymentRow {
        order_id: order_id(&row.try_get::<String, _>("id")?)?,
        payment: OrderPayment {
            status: order_status(&row.try_get::<String, _>("status")?)?,
            total: Money::new(
                row.try_get("total_minor")?,
                currency(&row.try_get::<String, _>("currency")?)?,
            ),
            payment_intent_id: row.try_get("payment_intent_id")?,
            last_fact_at: row.try_get("last_fact_at")?,
            refunded_minor: row.try_get("refunded_minor")?,
        },
        failure_code: row.try_get("failure_code")?,
        checked_at: row.try_get("checked_at")?,
        pi_attempt: row.try_get("pi_attempt")?,
        account_id: row.try_get("account_id")?,
        cart_id: row.try_get("cart_id")?,
        closed_reason: row
            .try_get::<Option<String>, _>("closed_reason")?
            .as_deref()
            .and_then(ClosedReason::parse),
        client_ip: row.try_get("client_ip")?,
        revision: row.try_get("revision")?,
    })
}

impl Store {
    pub async fn order_payment(
        &self,
        order_id: &OrderId,
    ) -> Result<Option<OrderPaymentRow>, StoreError> {
        sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(order_id.as_str())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(row_to_payment)
            .transpose()
    }

    /// [`Store::order_payment`] and, when `client` (`(address, since_ms)`) is given, the
    /// failed attempts received since `since_ms` on the orders last paid from that
    /// address (the card-testing guard's count), in one statement: `pay` reads both before
    /// every payment, and a round trip to SQLite's thread is most of a query's cost.
    #[tracing::instrument(level = "debug", name = "store.order_payment", skip_all)]
    pub async fn order_payment_and_client_failures(
        &self,
        order_id: &OrderId,
        client: Option<(&str, i64)>,
    ) -> Result<Option<(OrderPaymentRow, Option<i64>)>, StoreError> {
        let Some((client_ip, since_ms)) = client else {
            return Ok(self.order_payment(order_id).await?.map(|row| (row, None)));
        };
        let row = sqlx::query(concat!(
            "SELECT ",
            payment_columns!(),
            ", (SELECT COUNT(*) FROM orders o JOIN stripe_events e \
               ON e.payment_intent_id = o.payment_intent_id AND e.type = $1 \
             WHERE o.client_ip = $2 AND e.received_at >= $3) AS client_failures \
             FROM orders WHERE id = $4"
        ))
        .bind(super::guard::FAILED)
        .bind(client_ip)
        .bind(since_ms)
        .bind(order_id.as_str())
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some((
                row_to_payment(&row)?,
                Some(row.try_get("client_failures")?),
            ))),
            None => Ok(None),
        }
    }

    async fn order_payment_for_fact(
        &self,
        fact: &PaymentFact,
    ) -> Result<Option<OrderPaymentRow>, StoreError> {
        let by_pi = sqlx::query(&format!("{SELECT} WHERE payment_intent_id = $1"))
            .bind(&fact.payment_intent_id)
            .fetch_optional(self.pool())
            .await?;
        if let Some(row) = by_pi {
            return row_to_payment(&row).map(Some);
        }
        // The event may beat the server storing the PaymentIntent's id on the order.
        match fact.order_id.as_deref().map(OrderId::parse) {
            Some(Ok(order_id)) => self.order_payment(&order_id).await,
            // Not one of our order ids (metadata set by someone else): no order of ours.
            Some(Err(_)) | None => Ok(None),
        }
    }

    /// Records the order's PaymentIntent unless it already has one, and where it is paid
    /// from; returns the one the order now has. Through the group commit: durable when
    /// it returns, and concurrent payments share one commit.
    #[tracing::instrument(level = "debug", name = "store.attach_intent", skip_all)]
    pub async fn attach_payment_intent(
        &self,
        order_id: &OrderId,
        payment_intent_id: &str,
        client_ip: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let recorded = self
            .writer
            .write(Write::AttachIntent {
                order_id: order_id.as_str().to_owned(),
                payment_intent_id: payment_intent_id.to_owned(),
                client_ip: client_ip.map(str::to_owned),
                at: now_ms(),
            })
            .await?;
        if recorded {
            return Ok(Some(payment_intent_id.to_owned()));
        }
        Ok(self
            .order_payment(order_id)
            .await?
            .and_then(|row| row.payment.payment_intent_id))
    }

    /// A new attempt on the same order: the intent `old` is gone at Stripe or was canceled
    /// (not by the shop), so `new` (created under the next key version, `attempt`) takes
    /// its place, and the order is payable again. Compare-and-set on `old`: of two
    /// concurrent callers (who created the same `new`: same key), one swaps, the other
    /// finds it done. Returns the order's intent afterwards.
    pub async fn replace_payment_intent(
        &self,
        order_id: &OrderId,
        old: &str,
        new: &str,
        attempt: i64,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query(
            "UPDATE orders SET payment_intent_id = $1, pi_attempt = $2, status = $3, \
             failure_code = NULL, revision = revision + 1, updated_at = $4 \
             WHERE id = $5 AND payment_intent_id = $6 AND closed_reason IS NULL \
             AND status IN ($3, $7, $8, $9)",
        )
        .bind(new)
        .bind(attempt)
        .bind(OrderStatus::Pending.as_str())
        .bind(now_ms())
        .bind(order_id.as_str())
        .bind(old)
        .bind(OrderStatus::Processing.as_str())
        .bind(OrderStatus::Failed.as_str())
        .bind(OrderStatus::Canceled.as_str())
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
    pub async fn mark_submitted(&self, order_id: &OrderId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE orders SET status = $1, revision = revision + 1, updated_at = $2 \
             WHERE id = $3 AND status IN ($4, $5) AND payment_intent_id IS NOT NULL",
        )
        .bind(OrderStatus::Processing.as_str())
        .bind(now_ms())
        .bind(order_id.as_str())
        .bind(OrderStatus::Pending.as_str())
        .bind(OrderStatus::Failed.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// After Stripe stored an error under the create's idempotency key: the next try uses
    /// a new key. Only while no PaymentIntent is attached (an unattached one's client
    /// secret was never handed out, so it cannot be confirmed).
    pub async fn next_pi_attempt(
        &self,
        order_id: &OrderId,
        attempt: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE orders SET pi_attempt = pi_attempt + 1, revision = revision + 1 \
             WHERE id = $1 AND payment_intent_id IS NULL AND pi_attempt = $2",
        )
        .bind(order_id.as_str())
        .bind(attempt)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn set_checked(&self, order_id: &OrderId, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE orders SET checked_at = $1 WHERE id = $2")
            .bind(at_ms)
            .bind(order_id.as_str())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Orders whose payment may have moved at Stripe without the shop hearing of it
    /// (`pending` or `processing`, with a PaymentIntent, untouched since `quiet_since_ms`),
    /// least recently checked first. Each is checked again after a pause that grows with
    /// its age (a quarter of it, at least a minute): a fresh order is swept every minute,
    /// a day-old abandoned one every six hours.
    pub async fn orders_to_sweep(
        &self,
        now_ms: i64,
        quiet_since_ms: i64,
        limit: i64,
    ) -> Result<Vec<(OrderId, String)>, StoreError> {
        sqlx::query(
            "SELECT id, payment_intent_id FROM orders WHERE status IN ($1, $2) \
             AND payment_intent_id IS NOT NULL AND updated_at < $3 \
             AND checked_at < $4 - 60000 AND checked_at < $4 - ($4 - created_at) / 4 \
             ORDER BY checked_at LIMIT $5",
        )
        .bind(OrderStatus::Pending.as_str())
        .bind(OrderStatus::Processing.as_str())
        .bind(quiet_since_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok((
                super::order_id(&r.try_get::<String, _>("id")?)?,
                r.try_get("payment_intent_id")?,
            ))
        })
        .collect()
    }

    /// Applies one verified fact to its order through the state machine
    /// ([`crate::payment_state::decide`]). The only way an order becomes `paid`: webhooks
    /// and server-side retrieves both come here.
    ///
    /// Optimistic concurrency: the update only lands if the row is still the one the
    /// decision was made on; otherwise it is decided again on the new row.
    #[tracing::instrument(level = "error", skip_all, fields(payment_intent = %fact.payment_intent_id, order_id))]
    pub async fn apply_fact(&self, fact: &PaymentFact) -> Result<Applied, StoreError> {
        for _ in 0..5 {
            let Some(row) = self.order_payment_for_fact(fact).await? else {
                return Ok(Applied::UnknownOrder);
            };
            tracing::Span::current().record("order_id", row.order_id.as_str());
            let change = match decide(&row.payment, fact) {
                Decision::Apply(change) => change,
                Decision::Ignore(reason) => {
                    if let Some(why) = needs_review(&reason, fact) {
                        self.flag_for_review(&row.order_id, &why).await?;
                    }
                    return Ok(Applied::Ignored {
                        order_id: row.order_id,
                        reason,
                    });
                }
            };
            if self.write_change(&row, &change).await? {
                if change.status == OrderStatus::Paid && row.payment.status != OrderStatus::Paid {
                    tracing::info!(
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
        Err(StoreError::Contended(
            "order kept changing while a payment fact was applied",
        ))
    }

    /// An order Stripe said something unfulfillable about: `needs_review` (with the
    /// reason) when it was never paid; a paid one keeps its status and gets the reason
    /// (a second payment: the merchant refunds one). Once: the first reason stays.
    async fn flag_for_review(&self, order: &OrderId, why: &str) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "UPDATE orders SET review_reason = $1, revision = revision + 1, updated_at = $2 \
             WHERE id = $3 AND review_reason IS NULL",
        )
        .bind(why)
        .bind(now)
        .bind(order.as_str())
        .execute(self.pool())
        .await?;
        let flagged = sqlx::query(
            "UPDATE orders SET status = $1, revision = revision + 1, updated_at = $2 \
             WHERE id = $3 AND status IN ($4, $5, $6, $7)",
        )
        .bind(OrderStatus::NeedsReview.as_str())
        .bind(now)
        .bind(order.as_str())
        .bind(OrderStatus::Pending.as_str())
        .bind(OrderStatus::Processing.as_str())
        .bind(OrderStatus::Failed.as_str())
        .bind(OrderStatus::Canceled.as_str())
        .execute(self.pool())
        .await?;
        tracing::error!(order_id = %order, reason = why, status_changed = flagged.rows_affected() == 1, "order needs the merchant's review");
        Ok(())
    }

    /// Why the order needs review, in the merchant's words.
    pub async fn review_reason(&self, order: &OrderId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT review_reason FROM orders WHERE id = $1")
            .bind(order.as_str())
            .fetch_optional(self.pool())
            .await?;
        Ok(row
            .map(|r| r.try_get::<Option<String>, _>("review_reason"))
            .transpose()?
            .flatten())
    }

    /// Orders waiting for the merchant's review (status or flag).
    pub async fn review_count(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM orders WHERE review_reason IS NOT NULL")
                .fetch_one(self.pool())
                .await?
                .try_get("n")?,
        )
    }

    async fn write_change(
        &self,
        row: &OrderPaymentRow,
        change: &Change,
    ) -> Result<bool, StoreError> {
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
        .bind(row.order_id.as_str())
        .bind(row.revision)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// What the state machine refused that a person must look at: money taken with an
/// amount or currency that is not the order's, or taken on another PaymentIntent than the
/// order's (a second payment for one order). Stale or duplicate facts are not.
fn needs_review(reason: &Ignored, fact: &PaymentFact) -> Option<String> {
    match reason {
        Ignored::AmountMismatch { expected, got } => Some(format!(
            "{} received on {} for an order of {}",
            got, fact.payment_intent_id, expected
        )),
        Ignored::OtherPaymentIntent if matches!(fact.kind, FactKind::Succeeded { .. }) => {
            Some(format!(
                "a second PaymentIntent {} succeeded for this order",
                fact.payment_intent_id
            ))
        }
        _ => None,
    }
}
