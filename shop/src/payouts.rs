//! Payouts: Stripe's `payout.*` events mirrored by `po_` id (the console's payouts page
//! and the dashboard's failed-payout flag), and the retrieve the reconciliation uses.

use stripe_client::{Client, Event, EventType, Payout};

use crate::error::ShopError;
use crate::payout::PayoutView;
use crate::store::{now_ms, Store, StoreError};

pub fn is_payout_event(kind: &EventType) -> bool {
    matches!(
        kind,
        EventType::PayoutCreated
            | EventType::PayoutUpdated
            | EventType::PayoutPaid
            | EventType::PayoutFailed
            | EventType::PayoutCanceled
    )
}

#[derive(Debug, thiserror::Error)]
pub enum PayoutEventError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unexpected object: {0}")]
    Malformed(#[from] serde_json::Error),
}

#[derive(Clone)]
pub struct Payouts {
    store: Store,
    stripe: Client,
}

impl Payouts {
    pub fn new(store: Store, stripe: Client) -> Payouts {
        Payouts { store, stripe }
    }

    /// A `payout.*` event: the payout as of the event.
    pub async fn apply_event(&self, event: &Event) -> Result<(), PayoutEventError> {
        let payout = event.object_as::<Payout>()?;
        let changed = self.store.apply_payout(&payout, event.created).await?;
        if changed && payout.status.as_wire() == "failed" {
            tracing::warn!(
                payout = %payout.id,
                failure_code = payout.failure_code.as_deref().unwrap_or(""),
                "payout failed"
            );
        }
        Ok(())
    }

    /// The console's payouts page: the newest 200.
    pub async fn list(&self) -> Result<Vec<PayoutView>, ShopError> {
        Ok(self.store.payouts(200).await?)
    }

    /// Asks Stripe for the payout and stores its answer (as of now) through the same
    /// upsert as the events; returns Stripe's status.
    pub async fn refresh(&self, id: &str) -> Result<String, ShopError> {
        let payout = self
            .stripe
            .retrieve_payout(id)
            .await
            .map_err(|e| crate::cards::stripe_failure("payouts.retrieve", e))?;
        self.store.apply_payout(&payout, now_ms() / 1000).await?;
        Ok(payout.status.as_wire())
    }
}
