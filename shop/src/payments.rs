//! The payments service: paying for an order (order → PaymentIntent).
//!
//! One PaymentIntent per order, created from the order's stored amount with a
//! deterministic idempotency key and `metadata[order_id]`, reused on every later request;
//! server-side retrieves reconcile the order with Stripe through the same path as
//! webhooks ([`Store::apply_fact`]).

use stripe_client::{
    Client, CreatePaymentIntent, IdempotencyKey, PaymentIntent, StripeError, UpdatePaymentIntent,
};
use stripe_types::{Money, PaymentIntentStatus};

use crate::error::ShopError;
use crate::ids::OrderId;
use crate::order::{OrderStatus, OrderView, PaymentStart};
use crate::payment_state::fact_from_payment_intent;
use crate::store::payments::OrderPaymentRow;
use crate::store::{now_ms, Store};

/// A `processing` order is checked with Stripe directly when no webhook settled it for
/// this long (and then at most this often).
const RECHECK_AFTER_MS: i64 = 2_000;

/// A retrieve's snapshot counts as taken this much before it was asked for, so a Stripe
/// event stamped by a clock a little behind ours is not mistaken for an older one.
const CLOCK_SKEW_SECS: i64 = 5;

/// Orders' payments, against Stripe (or the offline sandbox: the same client, another
/// base URL).
#[derive(Clone)]
pub struct Payments {
    store: Store,
    stripe: Client,
}

impl Payments {
    pub fn new(store: Store, stripe: Client) -> Payments {
        Payments { store, stripe }
    }

    /// The order's PaymentIntent for the browser to confirm: created on the first call
    /// (with the order's amount from the database), the same one on every later call (a
    /// reload, a second click, a retry after a decline).
    #[tracing::instrument(level = "error", skip_all, fields(order_id = %order_id, payment_intent))]
    pub async fn start_payment(&self, order_id: &OrderId) -> Result<PaymentStart, ShopError> {
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
                tracing::Span::current().record("payment_intent", id.as_str());
                // Reuse: a server-side retrieve, which also tells whether it was paid.
                let asked_at = unix_now() - CLOCK_SKEW_SECS;
                let pi = self
                    .stripe
                    .retrieve_payment_intent(id, &[])
                    .await
                    .map_err(|e| stripe_failure("retrieve PaymentIntent", e))?;
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
                tracing::Span::current().record("payment_intent", pi.id.as_str());
                let attached = self.store.attach_payment_intent(order_id, &pi.id).await?;
                if attached.as_deref() != Some(pi.id.as_str()) {
                    // Same idempotency key, so this cannot be another intent unless one
                    // was attached by hand; never hand out an intent the order does not know.
                    tracing::error!(stored = ?attached, "order has another PaymentIntent");
                    return Err(ShopError::Internal);
                }
                pi
            }
        };
        // The order is the truth: an intent for another amount is brought in line.
        if pi.money() != total {
            let version = u32::try_from(total.minor.rem_euclid(1 << 31)).unwrap_or(0);
            let key =
                IdempotencyKey::for_operation("order", order_id.as_str(), "pi-amount", version)
                    .map_err(|_| ShopError::Internal)?;
            pi = self
                .stripe
                .update_payment_intent(&pi.id, &UpdatePaymentIntent::amount(total), &key)
                .await
                .map_err(|e| stripe_failure("update PaymentIntent amount", e))?;
            tracing::info!(
                amount = total.minor,
                "PaymentIntent amount updated to the order's"
            );
        }
        let client_secret = pi
            .client_secret
            .as_ref()
            .map(|s| s.expose().to_owned())
            .ok_or_else(|| {
                tracing::error!("PaymentIntent without a client secret");
                ShopError::Internal
            })?;
        Ok(PaymentStart {
            order_id: order_id.clone(),
            payment_intent_id: pi.id,
            client_secret,
            amount: total,
        })
    }

    /// The browser's `confirmCardPayment` went through: the order shows `processing`
    /// until Stripe itself confirms (webhook or server-side retrieve). A display hint
    /// only: nothing is fulfilled on the browser's word.
    #[tracing::instrument(level = "error", skip_all, fields(order_id = %order_id))]
    pub async fn payment_submitted(&self, order_id: &OrderId) -> Result<OrderStatus, ShopError> {
        self.payment_row(order_id).await?;
        self.store.mark_submitted(order_id).await?;
        // The first retrieve only if no webhook settles it within RECHECK_AFTER_MS.
        self.store.set_checked(order_id, now_ms()).await?;
        Ok(self.payment_row(order_id).await?.payment.status)
    }

    /// The order, reconciled with Stripe (a server-side retrieve) when a payment has been
    /// awaited for a while without a webhook.
    #[tracing::instrument(level = "error", skip_all, fields(order_id = %order_id, payment_intent))]
    pub async fn order(&self, order_id: &OrderId) -> Result<OrderView, ShopError> {
        let view = self.store.order(order_id).await?;
        if view.status != OrderStatus::Processing {
            return Ok(view);
        }
        let row = self.payment_row(order_id).await?;
        let now = now_ms();
        let Some(pi_id) = row.payment.payment_intent_id.as_deref() else {
            return Ok(view);
        };
        tracing::Span::current().record("payment_intent", pi_id);
        if now - row.checked_at < RECHECK_AFTER_MS {
            return Ok(view);
        }
        self.store.set_checked(order_id, now).await?;
        let asked_at = unix_now() - CLOCK_SKEW_SECS;
        match self.stripe.retrieve_payment_intent(pi_id, &[]).await {
            Ok(pi) => self.reconcile(&pi, asked_at).await?,
            // The page keeps showing `processing` and asks again later.
            Err(error) => tracing::warn!(%error, "retrieve of a processing order failed"),
        }
        Ok(self.store.order(order_id).await?)
    }

    async fn payment_row(&self, order_id: &OrderId) -> Result<OrderPaymentRow, ShopError> {
        self.store
            .order_payment(order_id)
            .await?
            .ok_or_else(|| ShopError::UnknownOrder {
                id: order_id.to_string(),
            })
    }

    /// Applies what a retrieved PaymentIntent says, through the same path as webhooks.
    /// `asked_at`: when the retrieve was sent (Unix seconds), so that an event Stripe
    /// created after the snapshot still counts as newer.
    async fn reconcile(&self, pi: &PaymentIntent, asked_at: i64) -> Result<(), ShopError> {
        let fact = fact_from_payment_intent(pi, asked_at);
        let applied = self.store.apply_fact(&fact).await?;
        tracing::debug!(?applied, "reconciled by retrieve");
        Ok(())
    }

    async fn create_intent(
        &self,
        order_id: &OrderId,
        total: Money,
        attempt: i64,
    ) -> Result<PaymentIntent, ShopError> {
        let version = u32::try_from(attempt).map_err(|_| ShopError::Internal)?;
        let key = IdempotencyKey::for_operation("order", order_id.as_str(), "pi", version)
            .map_err(|_| ShopError::Internal)?;
        let params = CreatePaymentIntent::new(total)
            .metadata("order_id", order_id.as_str())
            .description(format!("Order {order_id}"));
        let pi = match self.stripe.create_payment_intent(&params, &key).await {
            Ok(pi) => pi,
            Err(error) => {
                // Stripe keeps an error result under the key for 24 h (a 500 is replayed,
                // changed parameters are an idempotency_error): the next try needs a new key.
                if matches!(
                    error,
                    StripeError::Api { .. } | StripeError::Idempotency { .. }
                ) {
                    self.store.next_pi_attempt(order_id, attempt).await?;
                }
                return Err(stripe_failure("create PaymentIntent", error));
            }
        };
        tracing::info!(payment_intent = %pi.id, amount = total.minor, currency = %total.currency, "PaymentIntent created");
        Ok(pi)
    }
}

fn unix_now() -> i64 {
    now_ms() / 1000
}

/// Logs the full Stripe error (never the key: `StripeError` holds none) in the caller's
/// span (which carries the order) and gives the shopper its safe message.
fn stripe_failure(operation: &str, error: StripeError) -> ShopError {
    tracing::error!(%error, operation, "Stripe request failed");
    ShopError::Payment {
        message: error.customer_message().to_owned(),
    }
}
