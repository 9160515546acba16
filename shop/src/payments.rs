//! The payments service: paying for an order (order → PaymentIntent).
//!
//! One PaymentIntent per order, created from the order's stored amount with a
//! deterministic idempotency key and `metadata[order_id]`, reused on every later request;
//! server-side retrieves reconcile the order with Stripe through the same path as
//! webhooks ([`Store::apply_fact`]).

use stripe_client::{
    Client, ConfirmPaymentIntent, CreatePaymentIntent, IdempotencyKey, PaymentIntent,
    SetupFutureUsage, StripeError, UpdatePaymentIntent,
};
use stripe_types::{messages, Money, PaymentIntentStatus};

use crate::account::{BuyAgain, Caller, PaymentMethodId, RequestId};
use crate::cards::{stripe_failure, Cards};
use crate::error::ShopError;
use crate::guard::Guard;
pub use crate::guard::GuardSettings;
use crate::ids::OrderId;
use crate::order::{OrderStatus, OrderView, PaymentStart};
use crate::payment_state::fact_from_payment_intent;
use crate::store::accounts::AccountRow;
use crate::store::payments::{Applied, OrderPaymentRow};
use crate::store::{now_ms, Store};

/// A `processing` order is checked with Stripe directly when no webhook settled it for
/// this long (and then at most this often).
const RECHECK_AFTER_MS: i64 = 2_000;

/// A retrieve's snapshot counts as taken this much before it was asked for, so a Stripe
/// event stamped by a clock a little behind ours is not mistaken for an older one.
pub(crate) const CLOCK_SKEW_SECS: i64 = 5;

/// Orders' payments, against Stripe (or the offline sandbox: the same client, another
/// base URL).
/// How the shopper pays an order of their account: a saved card, or a new card (saved
/// for next time when `save`). Guests pay with a new card, never saved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayWith {
    pub payment_method: Option<PaymentMethodId>,
    pub save: bool,
    /// The client's address (the card-testing guard counts failures per address).
    pub client_ip: Option<String>,
}

#[derive(Clone)]
pub struct Payments {
    store: Store,
    stripe: Client,
    cards: Cards,
    guard: Guard,
}

impl Payments {
    pub fn new(store: Store, stripe: Client) -> Payments {
        let cards = Cards::new(store.clone(), stripe.clone());
        let guard = Guard::new(store.clone(), stripe.clone(), GuardSettings::default());
        Payments {
            store,
            stripe,
            cards,
            guard,
        }
    }

    /// The same service with other card-testing and expiry thresholds.
    pub fn with_guard(mut self, settings: GuardSettings) -> Payments {
        self.guard = Guard::new(self.store.clone(), self.stripe.clone(), settings);
        self
    }

    /// The card-testing guard and the expiry, on the same store and client.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// The saved-cards service on the same store and client.
    pub fn cards(&self) -> &Cards {
        &self.cards
    }

    /// The order's PaymentIntent for the browser to confirm: created on the first call
    /// (with the order's amount from the database), the same one on every later call (a
    /// reload, a second click, a retry after a decline).
    ///
    /// Only for the order's owner ([`Caller::owns`]; anyone else: 404, nothing created).
    /// An account's order is paid on the account's Customer; `with` picks a saved card
    /// (checked to be the caller's, here and at Stripe) or saves the new one.
    #[tracing::instrument(level = "error", skip_all, fields(order_id = %order_id, payment_intent))]
    pub async fn start_payment(
        &self,
        order_id: &OrderId,
        caller: &Caller,
        account: Option<&AccountRow>,
        with: &PayWith,
    ) -> Result<PaymentStart, ShopError> {
        // One read of the order: its owner, its payment, the guard's columns, and the
        // client's failed attempts the guard counts.
        let client_ip = with.client_ip.as_deref();
        let (row, client_failures) = self
            .store
            .order_payment_and_client_failures(order_id, self.guard.client_window(client_ip))
            .await?
            .ok_or_else(|| ShopError::UnknownOrder {
                id: order_id.to_string(),
            })?;
        if !caller.owns(row.account_id.as_deref(), &row.cart_id) {
            return Err(ShopError::UnknownOrder {
                id: order_id.to_string(),
            });
        }
        let total = row.payment.total;
        // Card testing: too many failed attempts on this order or from this client (an
        // order the shop closed says so, rather than just "canceled").
        if !row.payment.status.was_paid() {
            self.guard
                .before_payment(&row, client_ip, client_failures)
                .await?;
        }
        match row.payment.status {
            s if s.was_paid() => return Err(ShopError::AlreadyPaid),
            // Canceled at Stripe, not by the shop (the guard refused those): a new attempt
            // below, when its intent is canceled or gone.
            OrderStatus::Canceled if row.payment.payment_intent_id.is_none() => {
                return Err(ShopError::NotPayable {
                    status: OrderStatus::Canceled.as_str().into(),
                })
            }
            OrderStatus::Pending
            | OrderStatus::Processing
            | OrderStatus::Failed
            | OrderStatus::Canceled => {}
            OrderStatus::NeedsReview => {
                return Err(ShopError::NotPayable {
                    status: OrderStatus::NeedsReview.as_str().into(),
                })
            }
            _ => return Err(ShopError::AlreadyPaid),
        }
        // The order's Customer: an account's order only, and only its own account.
        let account = match (&row.account_id, account) {
            (Some(owner), Some(account)) if account.id.as_str() == owner => Some(account),
            (Some(_), _) => {
                return Err(ShopError::UnknownOrder {
                    id: order_id.to_string(),
                })
            }
            (None, _) => None,
        };
        if account.is_none() && (with.payment_method.is_some() || with.save) {
            return Err(ShopError::SignInRequired);
        }
        // A card that is not the caller's is refused before anything is created.
        if let (Some(account), Some(pm)) = (account, &with.payment_method) {
            self.cards.usable(&account.id, pm).await?;
        }
        let customer = match account {
            Some(account) => Some(self.cards.customer(account).await?),
            None => None,
        };
        let mut pi = match &row.payment.payment_intent_id {
            Some(id) => {
                tracing::Span::current().record("payment_intent", id.as_str());
                // Reuse: a server-side retrieve, which also tells whether it was paid.
                let asked_at = unix_now() - CLOCK_SKEW_SECS;
                match self.stripe.retrieve_payment_intent(id, &[]).await {
                    // Gone at Stripe (a sandbox reset, other keys on the same database):
                    // the order would be stuck forever; a new attempt.
                    Err(error) if error.code() == Some("resource_missing") => {
                        tracing::warn!(old = %id, "PaymentIntent no longer exists at Stripe: new attempt");
                        self.replace_intent(
                            order_id,
                            id,
                            total,
                            row.pi_attempt,
                            customer.as_deref(),
                        )
                        .await?
                    }
                    Err(error) => return Err(stripe_failure("retrieve PaymentIntent", error)),
                    // Canceled (in the Dashboard, say): no money was taken; a new attempt.
                    Ok(pi) if pi.status() == Some(PaymentIntentStatus::Canceled) => {
                        self.apply_retrieved(&pi, asked_at).await?;
                        tracing::warn!(old = %id, "PaymentIntent canceled at Stripe: new attempt");
                        self.replace_intent(
                            order_id,
                            id,
                            total,
                            row.pi_attempt,
                            customer.as_deref(),
                        )
                        .await?
                    }
                    Ok(pi) => {
                        // Settled at Stripe already: record it (same path as webhooks) and
                        // say so.
                        let settled = match pi.status() {
                            Some(PaymentIntentStatus::Succeeded) => Some(ShopError::AlreadyPaid),
                            Some(status @ PaymentIntentStatus::Processing) => {
                                Some(ShopError::NotPayable {
                                    status: status.as_str().into(),
                                })
                            }
                            _ => None,
                        };
                        if let Some(error) = settled {
                            self.apply_retrieved(&pi, asked_at).await?;
                            return Err(error);
                        }
                        pi
                    }
                }
            }
            None => {
                self.create_attached_intent(
                    order_id,
                    total,
                    row.pi_attempt,
                    customer.as_deref(),
                    with.client_ip.as_deref(),
                )
                .await?
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
        if let Some(customer) = &customer {
            pi = self.align_intent(order_id, pi, customer, with).await?;
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
    pub async fn payment_submitted(
        &self,
        order_id: &OrderId,
        caller: &Caller,
    ) -> Result<OrderStatus, ShopError> {
        self.store.check_owner(order_id, caller).await?;
        self.store.mark_submitted(order_id).await?;
        // The first retrieve only if no webhook settles it within RECHECK_AFTER_MS.
        self.store.set_checked(order_id, now_ms()).await?;
        Ok(self.payment_row(order_id).await?.payment.status)
    }

    /// The order, reconciled with Stripe (a server-side retrieve) when a payment has been
    /// awaited for a while without a webhook.
    #[tracing::instrument(level = "error", skip_all, fields(order_id = %order_id, payment_intent))]
    pub async fn order(&self, order_id: &OrderId, caller: &Caller) -> Result<OrderView, ShopError> {
        self.store.check_owner(order_id, caller).await?;
        let view = self.store.order(order_id).await?;
        // Processing, or pending with a PaymentIntent (paid in a tab the shopper closed,
        // the webhook late or lost): Stripe is asked.
        if !matches!(view.status, OrderStatus::Processing | OrderStatus::Pending) {
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
            Ok(pi) => {
                self.apply_retrieved(&pi, asked_at).await?;
            }
            // The page keeps showing what it has and asks again later.
            Err(error) => tracing::warn!(%error, "retrieve of an unsettled order failed"),
        }
        Ok(self.store.order(order_id).await?)
    }

    /// The sweeper: up to `limit` orders still `pending` or `processing` with a
    /// PaymentIntent and quiet for `quiet_for_ms` ([`Store::orders_to_sweep`]) are
    /// retrieved from Stripe and applied through the same state machine as webhooks —
    /// a shopper who closed the tab right after paying, with the webhook lost, still gets
    /// a paid order. Returns how many were asked about.
    pub async fn sweep(&self, quiet_for_ms: i64, limit: i64) -> Result<usize, ShopError> {
        let now = now_ms();
        let due = self
            .store
            .orders_to_sweep(now, now - quiet_for_ms, limit)
            .await?;
        for (order_id, pi_id) in &due {
            self.store.set_checked(order_id, now).await?;
            let asked_at = unix_now() - CLOCK_SKEW_SECS;
            match self.stripe.retrieve_payment_intent(pi_id, &[]).await {
                Ok(pi) => {
                    let applied = self.apply_retrieved(&pi, asked_at).await?;
                    tracing::debug!(%order_id, ?applied, "swept");
                }
                Err(error) => tracing::warn!(%order_id, %error, "sweep: retrieve failed"),
            }
        }
        Ok(due.len())
    }

    /// Brings an account order's PaymentIntent in line with the shopper's choice: its
    /// Customer, the saved card to pay with, and whether a new card is saved. Only while
    /// the intent still takes changes (awaiting a payment method or confirmation).
    async fn align_intent(
        &self,
        order_id: &OrderId,
        pi: PaymentIntent,
        customer: &str,
        with: &PayWith,
    ) -> Result<PaymentIntent, ShopError> {
        let mut update = UpdatePaymentIntent::default();
        let mut changed = false;
        if pi.customer_id() != Some(customer) {
            if pi.customer_id().is_some() {
                tracing::error!("PaymentIntent belongs to another Customer");
                return Err(ShopError::Internal);
            }
            update = update.customer(customer);
            changed = true;
        }
        let saving = pi.setup_future_usage.is_some();
        match &with.payment_method {
            Some(pm) => {
                if pi.payment_method_id() != Some(pm.as_str()) {
                    update = update.payment_method(pm.as_str());
                    changed = true;
                }
                // A saved card is saved already.
                if saving {
                    update = update.setup_future_usage(None);
                    changed = true;
                }
            }
            None if with.save && !saving => {
                update = update.setup_future_usage(Some(SetupFutureUsage::OffSession));
                changed = true;
            }
            None if !with.save && saving => {
                update = update.setup_future_usage(None);
                changed = true;
            }
            None => {}
        }
        if !changed {
            return Ok(pi);
        }
        // A fresh key: the update sets absolute values, so repeating it is harmless, while
        // a deterministic key would replay an older choice (save, then unsave, then save).
        self.stripe
            .update_payment_intent(&pi.id, &update, &IdempotencyKey::random())
            .await
            .map_err(|e| {
                tracing::warn!(order_id = %order_id, "PaymentIntent could not take the card choice");
                stripe_failure("update PaymentIntent card choice", e)
            })
    }

    /// "Buy again": a new order of the account with the lines of one of its orders at
    /// today's prices, charged on the server with the default card while the shopper is
    /// away. Fulfilment still comes from Stripe's events.
    ///
    /// `request` is the one-time id the button carried: the same request (a double
    /// click, a resent form) finds the same order, and so the same idempotency keys —
    /// one charge. The intent is created (and attached to the order) before it is
    /// confirmed `off_session`: if the confirmation's answer is lost, the order knows its
    /// intent, and its checkout asks Stripe instead of charging again.
    #[tracing::instrument(level = "error", skip_all, fields(previous = %previous, order_id, payment_intent))]
    pub async fn buy_again(
        &self,
        account: &AccountRow,
        previous: &OrderId,
        request: &RequestId,
    ) -> Result<BuyAgain, ShopError> {
        let caller = Caller {
            account: Some(account.id.clone()),
            account_cart: Some(account.cart_id.clone()),
            guest_cart: None,
        };
        self.store.check_owner(previous, &caller).await?;
        let order_id = self
            .store
            .reorder(&account.id, &account.cart_id, previous, request)
            .await?;
        tracing::Span::current().record("order_id", order_id.as_str());
        let another_card = |message: &str| BuyAgain::ChooseAnotherCard {
            order_id: order_id.clone(),
            message: message.to_owned(),
        };
        let row = self.payment_row(&order_id).await?;
        // The same request again (a double click): already paid, or in flight — then the
        // same keys below make Stripe answer it again, not charge again.
        if row.payment.status.was_paid() || row.payment.status == OrderStatus::Processing {
            return Ok(BuyAgain::Charged { order_id });
        }
        let Some(pm) = self.store.default_card(&account.id).await? else {
            return Ok(another_card(messages::NO_SAVED_CARD));
        };
        let customer = match self.cards.usable(&account.id, &pm).await {
            Ok(customer) => customer,
            Err(ShopError::UnknownCard) => return Ok(another_card(messages::NO_SAVED_CARD)),
            Err(e) => return Err(e),
        };
        // 1. The intent, on the account's Customer and card (not yet confirmed).
        let pi = self
            .create_attached_intent(
                &order_id,
                row.payment.total,
                row.pi_attempt,
                Some(&customer),
                None,
            )
            .await?;
        // 2. Confirmed while the shopper is away.
        let key = IdempotencyKey::for_operation("order", order_id.as_str(), "pi-off-session", 1)
            .map_err(|_| ShopError::Internal)?;
        let params = ConfirmPaymentIntent {
            payment_method: Some(pm.to_string()),
            off_session: Some(true),
            ..ConfirmPaymentIntent::default()
        };
        let asked_at = unix_now() - CLOCK_SKEW_SECS;
        match self
            .stripe
            .confirm_payment_intent(&pi.id, &params, &key)
            .await
        {
            Ok(pi) => {
                self.apply_retrieved(&pi, asked_at).await?;
                tracing::info!(status = ?pi.status(), "charged off-session");
                Ok(BuyAgain::Charged { order_id })
            }
            Err(error) => {
                if let Some(pi) = error.payment_intent() {
                    self.apply_retrieved(pi, asked_at).await?;
                }
                if error.code() == Some("authentication_required") {
                    tracing::info!("the bank wants the shopper: on-session authentication");
                    Ok(BuyAgain::NeedsAuthentication {
                        order_id,
                        payment_method: pm,
                    })
                } else {
                    // A decline, or no answer: the checkout retrieves the intent first, so
                    // a charge that did go through shows as paid, never charged twice.
                    tracing::info!(%error, code = error.code(), decline_code = error.decline_code(), "off-session charge not completed");
                    Ok(another_card(error.customer_message()))
                }
            }
        }
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
    pub async fn apply_retrieved(
        &self,
        pi: &PaymentIntent,
        asked_at: i64,
    ) -> Result<Applied, ShopError> {
        let fact = fact_from_payment_intent(pi, asked_at);
        let applied = self.store.apply_fact(&fact).await?;
        tracing::debug!(?applied, "reconciled by retrieve");
        if pi.status() == Some(PaymentIntentStatus::Succeeded) {
            // A payment that saved its card: Stripe attached it; record it now (the
            // `payment_method.attached` event says the same, maybe later).
            if let Err(error) = self.cards.saved_by_payment(pi).await {
                tracing::warn!(%error, "saved card not recorded yet (its event will)");
            }
        }
        Ok(applied)
    }

    /// Creates the order's PaymentIntent ([`Payments::create_intent`]) and records it on
    /// the order, with the client address it is paid from; the order must end up with
    /// exactly this intent.
    async fn create_attached_intent(
        &self,
        order_id: &OrderId,
        total: Money,
        attempt: i64,
        customer: Option<&str>,
        client_ip: Option<&str>,
    ) -> Result<PaymentIntent, ShopError> {
        let pi = self
            .create_intent(order_id, total, attempt, customer)
            .await?;
        tracing::Span::current().record("payment_intent", pi.id.as_str());
        let attached = self
            .store
            .attach_payment_intent(order_id, &pi.id, client_ip)
            .await?;
        if attached.as_deref() != Some(pi.id.as_str()) {
            // Same idempotency key, so this cannot be another intent unless one was
            // attached by hand; never hand out an intent the order does not know.
            tracing::error!(stored = ?attached, "order has another PaymentIntent");
            return Err(ShopError::Internal);
        }
        Ok(pi)
    }

    /// Puts a new intent (the next key version) in place of `old` on the order.
    async fn replace_intent(
        &self,
        order_id: &OrderId,
        old: &str,
        total: Money,
        attempt: i64,
        customer: Option<&str>,
    ) -> Result<PaymentIntent, ShopError> {
        let next = attempt + 1;
        let pi = self.create_intent(order_id, total, next, customer).await?;
        let now = self
            .store
            .replace_payment_intent(order_id, old, &pi.id, next)
            .await?;
        if now.as_deref() != Some(pi.id.as_str()) {
            tracing::error!(stored = ?now, new = %pi.id, "order has another PaymentIntent than the new attempt's");
            return Err(ShopError::Internal);
        }
        tracing::info!(payment_intent = %pi.id, attempt = next, "new payment attempt on the order");
        Ok(pi)
    }

    async fn create_intent(
        &self,
        order_id: &OrderId,
        total: Money,
        attempt: i64,
        customer: Option<&str>,
    ) -> Result<PaymentIntent, ShopError> {
        let version = u32::try_from(attempt).map_err(|_| ShopError::Internal)?;
        let key = IdempotencyKey::for_operation("order", order_id.as_str(), "pi", version)
            .map_err(|_| ShopError::Internal)?;
        let mut params = CreatePaymentIntent::new(total)
            .metadata("order_id", order_id.as_str())
            .description(format!("Order {order_id}"));
        if let Some(customer) = customer {
            params = params.customer(customer);
        }
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
