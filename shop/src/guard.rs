//! The card-testing guard and the expiry of what shoppers abandon.
//!
//! Card testers confirm stolen card numbers one after another on a cheap order. Stripe's
//! `payment_intent.payment_failed` events (each stored once, by its id) are the count:
//! - after `failures_per_order` failed attempts on an order's PaymentIntent, the order is
//!   closed and the intent canceled (`fraudulent`) at Stripe, so the client secret the
//!   browser holds is useless too; `pay` refuses it with a clear message;
//! - after `failures_per_client_hour` failed attempts within an hour on the orders paid
//!   from one client address, `pay` refuses that address.
//!
//! Orders never paid for `order_expiry_hours` are closed the same way (`abandoned`), and
//! guest carts untouched for `cart_expiry_days` without an order are deleted.

use stripe_client::{CancelPaymentIntent, CancellationReason, Client, IdempotencyKey, StripeError};

use crate::error::ShopError;
use crate::ids::OrderId;
use crate::payment_state::fact_from_payment_intent;
use crate::store::guard::ClosedReason;
use crate::store::payments::OrderPaymentRow;
use crate::store::{now_ms, Store};

/// The guard's and the expiry's thresholds (0 turns one off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardSettings {
    /// `CARD_TESTING_FAILURES_PER_ORDER`.
    pub failures_per_order: u32,
    /// `CARD_TESTING_FAILURES_PER_CLIENT_HOUR`.
    pub failures_per_client_hour: u32,
    /// `ORDER_EXPIRY_HOURS`.
    pub order_expiry_hours: u32,
    /// `CART_EXPIRY_DAYS`.
    pub cart_expiry_days: u32,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            failures_per_order: 5,
            failures_per_client_hour: 10,
            order_expiry_hours: 48,
            cart_expiry_days: 30,
        }
    }
}

/// What one expiry pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    pub orders: usize,
    pub carts: u64,
}

#[derive(Clone)]
pub struct Guard {
    store: Store,
    stripe: Client,
    settings: GuardSettings,
}

const HOUR_MS: i64 = 3_600_000;

impl Guard {
    pub fn new(store: Store, stripe: Client, settings: GuardSettings) -> Guard {
        Guard {
            store,
            stripe,
            settings,
        }
    }

    pub fn settings(&self) -> GuardSettings {
        self.settings
    }

    /// The client window the guard counts failed attempts in, for `pay`'s read of the
    /// order ([`Store::order_payment_and_client_failures`]): the client's address and the
    /// start of the last hour, or `None` when there is no address or no per-client limit.
    pub fn client_window<'a>(&self, client_ip: Option<&'a str>) -> Option<(&'a str, i64)> {
        let ip = client_ip?;
        (self.settings.failures_per_client_hour > 0).then(|| (ip, now_ms() - HOUR_MS))
    }

    /// Before an order's payment starts (`pay`): refused when the shop closed the order,
    /// when its intent had too many failed attempts (the order is closed now), or when
    /// the client address had too many in the last hour. Takes the order's row and the
    /// client's failed attempts in [`Guard::client_window`] as `pay` read them (one
    /// statement); the address is recorded with the order's intent.
    pub async fn before_payment(
        &self,
        order: &OrderPaymentRow,
        client_ip: Option<&str>,
        client_failures: Option<i64>,
    ) -> Result<(), ShopError> {
        let order_id = &order.order_id;
        match order.closed_reason {
            Some(ClosedReason::CardTesting) => return Err(ShopError::OrderAttemptsExhausted),
            Some(ClosedReason::Expired) => {
                return Err(ShopError::NotPayable {
                    status: "canceled".into(),
                })
            }
            None => {}
        }
        if let Some(ip) = client_ip {
            let limit = i64::from(self.settings.failures_per_client_hour);
            if limit > 0 && client_failures.is_some_and(|failures| failures >= limit) {
                tracing::warn!(client = ip, order_id = %order_id, "card-testing guard: client over its failed attempts");
                return Err(ShopError::ClientAttemptsExhausted);
            }
            // An order without an intent gets its address with the intent (one write);
            // one paid from elsewhere since is moved to the new address.
            let intent = order.payment.payment_intent_id.is_some();
            if intent && order.client_ip.as_deref() != Some(ip) {
                self.store.set_order_client(order_id, ip).await?;
            }
        }
        if let Some(pi) = order.payment.payment_intent_id.as_deref() {
            if self.over_order_limit(pi).await? {
                self.close(order_id, ClosedReason::CardTesting).await?;
                return Err(ShopError::OrderAttemptsExhausted);
            }
        }
        Ok(())
    }

    /// After a `payment_intent.payment_failed` event was stored and applied: closes the
    /// order when its intent reached the limit (idempotent: processing the event again
    /// cancels with the same key).
    pub async fn after_failure(
        &self,
        order: &OrderId,
        payment_intent: &str,
    ) -> Result<(), ShopError> {
        if self.over_order_limit(payment_intent).await? {
            self.close(order, ClosedReason::CardTesting).await?;
        }
        Ok(())
    }

    async fn over_order_limit(&self, payment_intent: &str) -> Result<bool, ShopError> {
        let limit = i64::from(self.settings.failures_per_order);
        Ok(limit > 0 && self.store.failed_attempts_on_intent(payment_intent).await? >= limit)
    }

    /// Closes the order: the reason recorded first (a crash in between retries the
    /// cancel), then its PaymentIntent canceled at Stripe and Stripe's answer applied
    /// through the state machine (`canceled`; an intent that succeeded meanwhile makes
    /// the order `paid`: money taken outranks the closing).
    pub async fn close(&self, order: &OrderId, reason: ClosedReason) -> Result<(), ShopError> {
        let Some(pi) = self.store.close_order(order, reason).await? else {
            tracing::warn!(order_id = %order, reason = reason.as_str(), "order closed (no PaymentIntent)");
            return Ok(());
        };
        let cancellation_reason = match reason {
            ClosedReason::CardTesting => CancellationReason::Fraudulent,
            ClosedReason::Expired => CancellationReason::Abandoned,
        };
        let key = IdempotencyKey::for_operation("order", order.as_str(), "pi-cancel", 1)
            .map_err(|_| ShopError::Internal)?;
        let asked_at = now_ms() / 1000 - 5;
        let params = CancelPaymentIntent {
            cancellation_reason: Some(cancellation_reason),
        };
        let intent = match self.stripe.cancel_payment_intent(&pi, &params, &key).await {
            Ok(intent) => intent,
            // Succeeded or processing already (cannot be canceled): what it is, applied.
            Err(StripeError::Api { .. }) => self
                .stripe
                .retrieve_payment_intent(&pi, &[])
                .await
                .map_err(|e| crate::cards::stripe_failure("retrieve PaymentIntent", e))?,
            Err(error) => return Err(crate::cards::stripe_failure("cancel PaymentIntent", error)),
        };
        self.store
            .apply_fact(&fact_from_payment_intent(&intent, asked_at))
            .await?;
        tracing::warn!(order_id = %order, payment_intent = %pi, reason = reason.as_str(), status = ?intent.status(), "order closed by the shop");
        Ok(())
    }

    /// One expiry pass (the backlog job's): up to `limit` orders never paid for
    /// `order_expiry_hours` closed, and abandoned guest carts deleted.
    pub async fn expire(&self, limit: i64) -> Result<Expired, ShopError> {
        let mut done = Expired::default();
        if self.settings.order_expiry_hours > 0 {
            let before = now_ms() - i64::from(self.settings.order_expiry_hours) * HOUR_MS;
            for order in self.store.orders_to_expire(before, limit).await? {
                match self.close(&order, ClosedReason::Expired).await {
                    Ok(()) => done.orders += 1,
                    // Stripe unreachable: the next pass tries again (the reason stays).
                    Err(error) => {
                        tracing::warn!(order_id = %order, %error, "expiry: cannot close the order yet")
                    }
                }
            }
        }
        if self.settings.cart_expiry_days > 0 {
            let before = now_ms() - i64::from(self.settings.cart_expiry_days) * 24 * HOUR_MS;
            done.carts = self.store.delete_abandoned_carts(before, limit).await?;
        }
        Ok(done)
    }
}
