//! Saved cards: each account's Stripe Customer and the PaymentMethods attached to it.
//!
//! Stripe is the source of truth. A card is recorded as saved only when Stripe says it is
//! attached (`payment_method.attached`, a succeeded SetupIntent or a saving PaymentIntent
//! retrieved on the server), always by its `pm_…` id, through
//! [`Store::record_card`]; detached ones stay detached. Before every use the card is
//! checked twice: saved on the caller's account here, and attached to the caller's
//! Customer at Stripe.

use stripe_client::{
    Client, CreateCustomer, CreateSetupIntent, Event, IdempotencyKey, PaymentIntent, PaymentMethod,
    StripeError, UpdateCustomer,
};
use stripe_types::SetupIntentStatus;

use crate::account::{AccountId, PaymentMethodId, SavedCard, SetupStart};
use crate::error::ShopError;
use crate::store::accounts::AccountRow;
use crate::store::cards::{CardFact, CardRecorded};
use crate::store::{now_ms, Store, StoreError};

/// The event types that change saved cards.
pub fn is_card_event(kind: &str) -> bool {
    matches!(
        kind,
        "payment_method.attached"
            | "payment_method.detached"
            | "payment_method.updated"
            | "payment_method.automatically_updated"
            | "setup_intent.succeeded"
            | "setup_intent.setup_failed"
            | "customer.updated"
            | "customer.deleted"
    )
}

/// Why a card event could not be applied now (it stays unprocessed and is retried).
#[derive(Debug, thiserror::Error)]
pub enum CardEventError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Stripe: {0}")]
    Stripe(#[from] StripeError),
    /// It will not parse better next time.
    #[error("unexpected event object: {0}")]
    Malformed(#[from] serde_json::Error),
}

#[derive(Clone)]
pub struct Cards {
    store: Store,
    stripe: Client,
}

impl Cards {
    pub fn new(store: Store, stripe: Client) -> Cards {
        Cards { store, stripe }
    }

    /// The account's Customer, created at Stripe on first need: one per account even
    /// under concurrency (a deterministic idempotency key, `account-{id}-customer-v{n}`,
    /// and a compare-and-set on the row).
    #[tracing::instrument(level = "error", skip_all, fields(account = %account.id))]
    pub async fn customer(&self, account: &AccountRow) -> Result<String, ShopError> {
        if let Some(id) = &account.stripe_customer_id {
            return Ok(id.clone());
        }
        let version = u32::try_from(account.customer_attempt).map_err(|_| ShopError::Internal)?;
        let key =
            IdempotencyKey::for_operation("account", account.id.as_str(), "customer", version)
                .map_err(|_| ShopError::Internal)?;
        let mut params = CreateCustomer {
            email: Some(account.email.clone()),
            ..CreateCustomer::default()
        };
        params
            .metadata
            .insert("account_id".into(), account.id.to_string());
        let customer = self
            .stripe
            .create_customer(&params, &key)
            .await
            .map_err(|e| stripe_failure("create Customer", e))?;
        let stored = self.store.set_customer(&account.id, &customer.id).await?;
        match stored {
            Some(stored) if stored == customer.id => {
                tracing::info!(customer = %customer.id, "Stripe Customer created");
                Ok(stored)
            }
            Some(stored) => {
                // Same key, so the same Customer, unless one was recorded by hand.
                tracing::error!(created = %customer.id, %stored, "account has another Customer");
                Ok(stored)
            }
            None => Err(ShopError::Internal),
        }
    }

    pub async fn cards(&self, account: &AccountId) -> Result<Vec<SavedCard>, ShopError> {
        Ok(self.store.cards(account).await?)
    }

    /// A SetupIntent on the account's Customer for "Add a card" (`usage=off_session`, so
    /// the card can later pay while the shopper is away).
    #[tracing::instrument(level = "error", skip_all, fields(account = %account.id))]
    pub async fn start_setup(&self, account: &AccountRow) -> Result<SetupStart, ShopError> {
        let customer = self.customer(account).await?;
        // A fresh key per request: an unconfirmed SetupIntent costs nothing, and retries
        // of this one request reuse the key.
        let params = CreateSetupIntent::new(customer).metadata("account_id", account.id.as_str());
        let si = self
            .stripe
            .create_setup_intent(&params, &IdempotencyKey::random())
            .await
            .map_err(|e| stripe_failure("create SetupIntent", e))?;
        let client_secret = si
            .client_secret
            .as_ref()
            .map(|s| s.expose().to_owned())
            .ok_or(ShopError::Internal)?;
        Ok(SetupStart {
            setup_intent_id: si.id,
            client_secret,
        })
    }

    /// The browser says its `confirmCardSetup` went through: the SetupIntent is retrieved
    /// (Stripe's word, not the browser's) and, if it succeeded on this account's Customer,
    /// its card recorded. Returns the account's cards.
    #[tracing::instrument(level = "error", skip_all, fields(account = %account.id, setup_intent = setup_intent_id))]
    pub async fn setup_confirmed(
        &self,
        account: &AccountRow,
        setup_intent_id: &str,
    ) -> Result<Vec<SavedCard>, ShopError> {
        let not_found = || ShopError::UnknownCard;
        if !setup_intent_id.starts_with("seti_") || setup_intent_id.len() > 255 {
            return Err(not_found());
        }
        let si = match self.stripe.retrieve_setup_intent(setup_intent_id).await {
            Ok(si) => si,
            // Not there, or not even shaped like an id (refused before any request).
            Err(e) if e.is_not_found() => return Err(not_found()),
            Err(stripe_client::StripeError::InvalidArgument { .. }) => return Err(not_found()),
            Err(e) => return Err(stripe_failure("retrieve SetupIntent", e)),
        };
        let ours = account.stripe_customer_id.is_some()
            && si.customer_id() == account.stripe_customer_id.as_deref();
        if !ours {
            return Err(not_found());
        }
        if si.status() == Some(SetupIntentStatus::Succeeded) {
            if let Some(pm) = si.payment_method_id() {
                self.retrieve_and_record(pm)
                    .await
                    .map_err(|e| event_failure("record a set-up card", e))?;
            }
        }
        self.cards(&account.id).await
    }

    /// Removes a saved card: detached at Stripe (idempotent), then gone here. Another
    /// account's card, or one already gone, is a card the caller does not have (404).
    #[tracing::instrument(level = "error", skip_all, fields(account = %account, payment_method = %pm))]
    pub async fn remove(&self, account: &AccountId, pm: &PaymentMethodId) -> Result<(), ShopError> {
        if self.store.owned_card_customer(account, pm).await?.is_none() {
            return Err(ShopError::UnknownCard);
        }
        self.detach(pm.as_str())
            .await
            .map_err(|e| stripe_failure("detach PaymentMethod", e))?;
        self.store.card_detached(pm.as_str(), None).await?;
        tracing::info!("card removed");
        Ok(())
    }

    /// Makes a saved card the default (`invoice_settings.default_payment_method`), at
    /// Stripe first, then here.
    #[tracing::instrument(level = "error", skip_all, fields(account = %account, payment_method = %pm))]
    pub async fn make_default(
        &self,
        account: &AccountId,
        pm: &PaymentMethodId,
    ) -> Result<(), ShopError> {
        let customer = self.usable(account, pm).await?;
        self.set_default_at_stripe(&customer, pm.as_str())
            .await
            .map_err(|e| stripe_failure("update Customer default card", e))?;
        Ok(())
    }

    /// The caller's Customer if `pm` may be charged for this account: saved on it here,
    /// and attached to its Customer at Stripe (checked before every use). Otherwise a
    /// card the caller does not have (404).
    pub async fn usable(
        &self,
        account: &AccountId,
        pm: &PaymentMethodId,
    ) -> Result<String, ShopError> {
        let Some(customer) = self.store.owned_card_customer(account, pm).await? else {
            return Err(ShopError::UnknownCard);
        };
        let at_stripe = match self.stripe.retrieve_payment_method(pm.as_str()).await {
            Ok(found) => found,
            Err(e) if e.is_not_found() => {
                self.store.card_detached(pm.as_str(), None).await?;
                return Err(ShopError::UnknownCard);
            }
            Err(e) => return Err(stripe_failure("retrieve PaymentMethod", e)),
        };
        if at_stripe.customer_id() != Some(customer.as_str()) {
            tracing::warn!(payment_method = %pm, "saved card no longer attached at Stripe");
            self.store.card_detached(pm.as_str(), None).await?;
            return Err(ShopError::UnknownCard);
        }
        Ok(customer)
    }

    /// A PaymentIntent that succeeded with `setup_future_usage` saved its card (Stripe
    /// attached it): record it, as the server-side retrieve path beside
    /// `payment_method.attached`.
    pub async fn saved_by_payment(&self, pi: &PaymentIntent) -> Result<(), CardEventError> {
        let saving = pi.setup_future_usage.is_some() && pi.customer_id().is_some();
        match pi.payment_method_id() {
            Some(pm) if saving => self.retrieve_and_record(pm).await,
            _ => Ok(()),
        }
    }

    /// Applies one verified card event (see [`is_card_event`]).
    pub async fn apply_event(&self, event: &Event) -> Result<(), CardEventError> {
        let kind = event.kind.as_str();
        match kind {
            "payment_method.attached"
            | "payment_method.updated"
            | "payment_method.automatically_updated" => {
                let pm: PaymentMethod = event.object_as()?;
                match card_fact(&pm, event.created) {
                    Some(fact) => self.record(&fact).await,
                    // Attached to no one (an update of an unattached card): not ours.
                    None => Ok(()),
                }
            }
            "payment_method.detached" => {
                let pm: PaymentMethod = event.object_as()?;
                // The Customer it was attached to (a detached card has none any more),
                // for a tombstone in case the attach event arrives after this one.
                let tombstone = event
                    .data
                    .previous_attributes
                    .as_ref()
                    .and_then(|p| p.get("customer"))
                    .and_then(|c| c.as_str())
                    .and_then(|customer| card_fact_for(&pm, customer.to_owned(), event.created));
                if self.store.card_detached(&pm.id, tombstone.as_ref()).await? {
                    tracing::info!(payment_method = %pm.id, "saved card detached");
                }
                Ok(())
            }
            "setup_intent.succeeded" => {
                let si: stripe_client::SetupIntent = event.object_as()?;
                match si.payment_method_id() {
                    Some(pm) if si.customer_id().is_some() => self.retrieve_and_record(pm).await,
                    _ => Ok(()),
                }
            }
            "setup_intent.setup_failed" => {
                let si: stripe_client::SetupIntent = event.object_as()?;
                let code = si.last_setup_error.as_ref().and_then(|e| e.code.clone());
                tracing::info!(setup_intent = %si.id, ?code, "card set-up failed; nothing saved");
                Ok(())
            }
            "customer.updated" => {
                let customer: stripe_client::Customer = event.object_as()?;
                let default = customer.default_payment_method_id();
                self.store
                    .set_default_card(&customer.id, default, event.created)
                    .await?;
                Ok(())
            }
            "customer.deleted" => {
                let id = event.object_id().unwrap_or_default().to_owned();
                if self.store.customer_deleted(&id).await? {
                    tracing::warn!(customer = %id, "Stripe Customer deleted: its cards are gone");
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn retrieve_and_record(&self, pm: &str) -> Result<(), CardEventError> {
        let asked_at = now_ms() / 1000 - 5;
        let pm = self.stripe.retrieve_payment_method(pm).await?;
        match card_fact(&pm, asked_at) {
            Some(fact) => self.record(&fact).await,
            None => Ok(()),
        }
    }

    /// Records an attached card; a second copy of a card already saved (same
    /// fingerprint) is detached at Stripe, the older copy stays. The first card saved
    /// becomes the default.
    async fn record(&self, fact: &CardFact) -> Result<(), CardEventError> {
        match self.store.record_card(fact).await? {
            CardRecorded::Saved { account } => {
                tracing::info!(payment_method = %fact.payment_method, "card saved");
                // A copy recorded at the same moment by another request is newer: it goes.
                for duplicate in self.store.newer_duplicates(&fact.payment_method).await? {
                    self.drop_duplicate(&duplicate, &fact.payment_method)
                        .await?;
                }
                if self.store.default_card(&account).await?.is_none() {
                    // A convenience: if Stripe refuses now, the card is saved all the same.
                    if let Err(error) = self
                        .set_default_at_stripe(&fact.customer, &fact.payment_method)
                        .await
                    {
                        tracing::warn!(%error, "first saved card not made the default");
                    }
                }
                Ok(())
            }
            CardRecorded::Duplicate { keep, .. } => {
                self.drop_duplicate(&fact.payment_method, &keep).await
            }
            CardRecorded::Ignored | CardRecorded::UnknownCustomer => Ok(()),
        }
    }

    async fn drop_duplicate(&self, duplicate: &str, keep: &str) -> Result<(), CardEventError> {
        tracing::info!(payment_method = %duplicate, keep, "same card saved twice: detaching the newer copy");
        self.detach(duplicate).await?;
        self.store.card_detached(duplicate, None).await?;
        Ok(())
    }

    /// Detaches at Stripe; a card that is no longer attached counts as done.
    async fn detach(&self, pm: &str) -> Result<(), StripeError> {
        let key = IdempotencyKey::for_operation("pm", pm, "detach", 1)
            .unwrap_or_else(|_| IdempotencyKey::random());
        match self.stripe.detach_payment_method(pm, &key).await {
            Ok(_) => Ok(()),
            Err(error) => match self.stripe.retrieve_payment_method(pm).await {
                Ok(found) if found.customer_id().is_none() => Ok(()),
                Err(e) if e.is_not_found() => Ok(()),
                _ => Err(error),
            },
        }
    }

    async fn set_default_at_stripe(&self, customer: &str, pm: &str) -> Result<(), StripeError> {
        let key = IdempotencyKey::random();
        let updated = self
            .stripe
            .update_customer(customer, &UpdateCustomer::default_payment_method(pm), &key)
            .await?;
        // Recorded now (the `customer.updated` event says the same, later).
        let _ = self
            .store
            .set_default_card(
                &updated.id,
                updated.default_payment_method_id(),
                now_ms() / 1000,
            )
            .await;
        Ok(())
    }
}

/// A card as Stripe describes it, if it is a card attached to a Customer.
fn card_fact(pm: &PaymentMethod, fact_at: i64) -> Option<CardFact> {
    let customer = pm.customer_id()?.to_owned();
    card_fact_for(pm, customer, fact_at)
}

fn card_fact_for(pm: &PaymentMethod, customer: String, fact_at: i64) -> Option<CardFact> {
    let card = pm.card.as_ref()?;
    Some(CardFact {
        payment_method: pm.id.clone(),
        customer,
        brand: card.brand.as_str().to_owned(),
        last4: card.last4.clone(),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        fingerprint: card.fingerprint.clone(),
        stripe_created: pm.created,
        fact_at,
    })
}

/// Logs the full Stripe error and gives the shopper its safe message.
pub(crate) fn stripe_failure(operation: &str, error: StripeError) -> ShopError {
    tracing::error!(%error, operation, "Stripe request failed");
    ShopError::Payment {
        message: error.customer_message().to_owned(),
    }
}

fn event_failure(operation: &str, error: CardEventError) -> ShopError {
    match error {
        CardEventError::Stripe(e) => stripe_failure(operation, e),
        CardEventError::Store(e) => e.into(),
        CardEventError::Malformed(e) => {
            tracing::error!(error = %e, operation, "unexpected Stripe object");
            ShopError::Internal
        }
    }
}
