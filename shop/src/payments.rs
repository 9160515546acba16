//! Paying for orders: one PaymentIntent per order, created from the order's stored
//! amount with a deterministic idempotency key and `metadata[order_id]`, reused on every
//! later request; server-side retrieves reconcile the order with Stripe through the
//! same state machine as the webhook.

use std::sync::Arc;

use app::backend::{PaymentBackend, ShopBackend};
use app::shop::{OrderStatus, OrderView, PaymentStart, ShopError};
use stripe_client::{
    CreatePaymentIntent, IdempotencyKey, PaymentIntent, StripeError, UpdatePaymentIntent,
};
use stripe_types::{Money, PaymentIntentStatus};

use crate::fulfilment::fact_from_payment_intent;
use crate::order_payments::OrderPaymentRow;
use crate::payments::Payments;
use crate::store::{is_order_id, now_ms, Store};

/// A `processing` order is checked with Stripe directly when no webhook settled it for
/// this long (and then at most this often).
const RECHECK_AFTER_MS: i64 = 2_000;

/// A retrieve's snapshot counts as taken this much before it was asked for, so a Stripe
/// event stamped by a clock a little behind ours is not mistaken for an older one.
const CLOCK_SKEW_SECS: i64 = 5;

pub struct Checkout {
    store: Store,
    payments: Arc<Payments>,
}

impl Checkout {
    pub fn new(store: Store, payments: Arc<Payments>) -> Checkout {
        Checkout { store, payments }
    }

    async fn payment_row(&self, order_id: &str) -> Result<OrderPaymentRow, ShopError> {
        let unknown = || ShopError::UnknownOrder {
            id: order_id.chars().take(40).collect(),
        };
        if !is_order_id(order_id) {
            return Err(unknown());
        }
        self.store
            .order_payment(order_id)
            .await
            .map_err(db)?
            .ok_or_else(unknown)
    }

    /// Applies what a retrieved PaymentIntent says, through the same path as webhooks.
    /// `asked_at`: when the retrieve was sent (Unix seconds), so that an event Stripe
    /// created after the snapshot still counts as newer.
    async fn reconcile(&self, pi: &PaymentIntent, asked_at: i64) -> Result<(), ShopError> {
        let fact = fact_from_payment_intent(pi, asked_at);
        let applied = self.store.apply_fact(&fact).await.map_err(db)?;
        tracing::debug!(payment_intent = %pi.id, ?applied, "reconciled by retrieve");
        Ok(())
    }

    async fn create_intent(
        &self,
        order_id: &str,
        total: Money,
        attempt: i64,
    ) -> Result<PaymentIntent, ShopError> {
        let version = u32::try_from(attempt).map_err(|_| ShopError::Internal)?;
        let key = IdempotencyKey::for_operation("order", order_id, "pi", version)
            .map_err(|_| ShopError::Internal)?;
        let params = CreatePaymentIntent::new(total)
            .metadata("order_id", order_id)
            .description(format!("Order {order_id}"));
        let pi = match self
            .payments
            .client
            .create_payment_intent(&params, &key)
            .await
        {
            Ok(pi) => pi,
            Err(error) => {
                // Stripe keeps an error result under the key for 24 h (a 500 is replayed,
                // changed parameters are an idempotency_error): the next try needs a new key.
                if matches!(
                    error,
                    StripeError::Api { .. } | StripeError::Idempotency { .. }
                ) {
                    self.store
                        .next_pi_attempt(order_id, attempt)
                        .await
                        .map_err(db)?;
                }
                return Err(stripe_failure("create PaymentIntent", order_id, error));
            }
        };
        tracing::info!(order_id, payment_intent = %pi.id, amount = total.minor, currency = %total.currency, "PaymentIntent created");
        Ok(pi)
    }
}

#[async_trait::async_trait]
impl PaymentBackend for Checkout {
    async fn start_payment(&self, order_id: &str) -> Result<PaymentStart, ShopError> {
        let row = self.payment_row(order_id).await?;
        let total = row.payment.total;
        match row.payment.status {
            OrderStatus::Paid | OrderStatus::Refunded => return Err(ShopError::AlreadyPaid),
            OrderStatus::Canceled => {
                return Err(ShopError::NotPayable {
                    status: OrderStatus::Canceled.as_str().into(),
                })
            }
            OrderStatus::Pending | OrderStatus::Processing | OrderStatus::Failed => {}
        }
        let mut pi = match &row.payment.payment_intent_id {
            Some(id) => {
                // Reuse: a server-side retrieve, which also tells whether it was paid.
                let asked_at = unix_now() - CLOCK_SKEW_SECS;
                let pi = self
                    .payments
                    .client
                    .retrieve_payment_intent(id, &[])
                    .await
                    .map_err(|e| stripe_failure("retrieve PaymentIntent", order_id, e))?;
                // Settled at Stripe already: record it (same path as webhooks) and say so.
                let settled = match pi.status() {
                    Some(PaymentIntentStatus::Succeeded) => Some(ShopError::AlreadyPaid),
                    Some(
                        status @ (PaymentIntentStatus::Processing | PaymentIntentStatus::Canceled),
                    ) => Some(ShopError::NotPayable {
                        status: status.as_str().into(),
                    }),
                    _ => None,
                };
                if let Some(error) = settled {
                    self.reconcile(&pi, asked_at).await?;
                    return Err(error);
                }
                pi
            }
            None => {
                let pi = self.create_intent(order_id, total, row.pi_attempt).await?;
                let attached = self
                    .store
                    .attach_payment_intent(order_id, &pi.id)
                    .await
                    .map_err(db)?;
                if attached.as_deref() != Some(pi.id.as_str()) {
                    // Same idempotency key, so this cannot be another intent unless one
                    // was attached by hand; never hand out an intent the order does not know.
                    tracing::error!(order_id, created = %pi.id, stored = ?attached, "order has another PaymentIntent");
                    return Err(ShopError::Internal);
                }
                pi
            }
        };
        // The order is the truth: an intent for another amount is brought in line.
        if pi.money() != total {
            let version = u32::try_from(total.minor.rem_euclid(1 << 31)).unwrap_or(0);
            let key = IdempotencyKey::for_operation("order", order_id, "pi-amount", version)
                .map_err(|_| ShopError::Internal)?;
            pi = self
                .payments
                .client
                .update_payment_intent(&pi.id, &UpdatePaymentIntent::amount(total), &key)
                .await
                .map_err(|e| stripe_failure("update PaymentIntent amount", order_id, e))?;
            tracing::info!(order_id, payment_intent = %pi.id, amount = total.minor, "PaymentIntent amount updated to the order's");
        }
        let client_secret = pi
            .client_secret
            .as_ref()
            .map(|s| s.expose().to_owned())
            .ok_or_else(|| {
                tracing::error!(order_id, payment_intent = %pi.id, "PaymentIntent without a client secret");
                ShopError::Internal
            })?;
        Ok(PaymentStart {
            order_id: order_id.to_owned(),
            payment_intent_id: pi.id,
            client_secret,
            amount: total,
        })
    }

    async fn payment_submitted(&self, order_id: &str) -> Result<OrderStatus, ShopError> {
        self.payment_row(order_id).await?;
        self.store.mark_submitted(order_id).await.map_err(db)?;
        // The first retrieve only if no webhook settles it within RECHECK_AFTER_MS.
        self.store
            .set_checked(order_id, now_ms())
            .await
            .map_err(db)?;
        Ok(self.payment_row(order_id).await?.payment.status)
    }

    async fn order(&self, order_id: &str) -> Result<OrderView, ShopError> {
        let view = self.store.order(order_id).await?;
        if view.status != OrderStatus::Processing {
            return Ok(view);
        }
        let row = self.payment_row(order_id).await?;
        let now = now_ms();
        let Some(pi_id) = row.payment.payment_intent_id.as_deref() else {
            return Ok(view);
        };
        if now - row.checked_at < RECHECK_AFTER_MS {
            return Ok(view);
        }
        self.store.set_checked(order_id, now).await.map_err(db)?;
        let asked_at = unix_now() - CLOCK_SKEW_SECS;
        match self
            .payments
            .client
            .retrieve_payment_intent(pi_id, &[])
            .await
        {
            Ok(pi) => self.reconcile(&pi, asked_at).await?,
            // The page keeps showing `processing` and asks again later.
            Err(error) => tracing::warn!(%error, order_id, "retrieve of a processing order failed"),
        }
        self.store.order(order_id).await
    }
}

fn unix_now() -> i64 {
    now_ms() / 1000
}

fn db(error: sqlx::Error) -> ShopError {
    tracing::error!(%error, "database error");
    ShopError::Internal
}

/// Logs the full Stripe error (never the key: `StripeError` holds none) and gives the
/// shopper its safe message.
fn stripe_failure(operation: &str, order_id: &str, error: StripeError) -> ShopError {
    tracing::error!(%error, operation, order_id, "Stripe request failed");
    ShopError::Payment {
        message: error.customer_message().to_owned(),
    }
}
