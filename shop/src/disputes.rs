//! Disputes: Stripe's `charge.dispute.*` events mirrored by `dp_` id, and the console's
//! answers — evidence staged (`submit=false`) or submitted, or the dispute accepted —
//! each sent to Stripe and then stored from Stripe's answer, through the same upsert as
//! the events ([`Store::apply_dispute`]).

use stripe_client::{
    Client, Dispute, DisputeEvidence, Event, EventType, IdempotencyKey, UpdateDispute,
};

use crate::account::RequestId;
use crate::dispute::DisputeView;
use crate::error::ShopError;
use crate::ids::OrderId;
use crate::refunds::Merchant;
use crate::store::disputes::Funds;
use crate::store::{Store, StoreError};

/// Evidence text is Stripe's to limit (150,000 characters in all); the console's one
/// free-text field keeps well under it.
pub const MAX_EVIDENCE_CHARS: usize = 20_000;

pub fn is_dispute_event(kind: &EventType) -> bool {
    matches!(
        kind,
        EventType::ChargeDisputeCreated
            | EventType::ChargeDisputeUpdated
            | EventType::ChargeDisputeClosed
            | EventType::ChargeDisputeFundsWithdrawn
            | EventType::ChargeDisputeFundsReinstated
    )
}

#[derive(Debug, thiserror::Error)]
pub enum DisputeEventError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unexpected object: {0}")]
    Malformed(#[from] serde_json::Error),
}

#[derive(Clone)]
pub struct Disputes {
    store: Store,
    stripe: Client,
}

impl Disputes {
    pub fn new(store: Store, stripe: Client) -> Disputes {
        Disputes { store, stripe }
    }

    pub async fn apply_event(&self, event: &Event) -> Result<(), DisputeEventError> {
        let dispute = event.object_as::<Dispute>()?;
        let funds = match event.kind {
            EventType::ChargeDisputeFundsWithdrawn => Funds::Withdrawn,
            EventType::ChargeDisputeFundsReinstated => Funds::Reinstated,
            _ => Funds::None,
        };
        self.store
            .apply_dispute(&dispute, event.created, funds)
            .await?;
        tracing::info!(dispute = %dispute.id, status = %dispute.status, "dispute recorded");
        Ok(())
    }

    /// Stages (`submit == false`) or submits the evidence: what the shop knows of the
    /// order (the account's email, the order's lines and date) and the merchant's text.
    /// A submission is final at Stripe.
    #[tracing::instrument(level = "error", skip_all, fields(dispute = %id))]
    pub async fn send_evidence(
        &self,
        merchant: &Merchant,
        id: &str,
        text: &str,
        submit: bool,
        request: &RequestId,
    ) -> Result<DisputeView, ShopError> {
        let known = self.open_dispute(id).await?;
        let text = text.trim();
        if text.chars().count() > MAX_EVIDENCE_CHARS {
            return Err(ShopError::BadRequest(format!(
                "the evidence text is over {MAX_EVIDENCE_CHARS} characters"
            )));
        }
        let mut evidence = self.known_evidence(&known).await?;
        evidence.uncategorized_text = (!text.is_empty()).then(|| text.to_owned());
        let params = UpdateDispute {
            evidence: Some(evidence),
            submit: Some(submit),
            ..Default::default()
        };
        let key = key(if submit { "submit" } else { "save" }, id, request)?;
        let answer = self
            .stripe
            .update_dispute(id, &params, &key)
            .await
            .map_err(|e| crate::cards::stripe_failure("disputes.update", e))?;
        self.recorded(
            merchant,
            answer,
            if submit {
                "evidence submitted"
            } else {
                "evidence saved"
            },
            text,
        )
        .await
    }

    /// Accepts the dispute (it is lost).
    #[tracing::instrument(level = "error", skip_all, fields(dispute = %id))]
    pub async fn accept(
        &self,
        merchant: &Merchant,
        id: &str,
        request: &RequestId,
    ) -> Result<DisputeView, ShopError> {
        self.open_dispute(id).await?;
        let answer = self
            .stripe
            .close_dispute(id, &key("accept", id, request)?)
            .await
            .map_err(|e| crate::cards::stripe_failure("disputes.close", e))?;
        self.recorded(merchant, answer, "dispute accepted", "")
            .await
    }

    async fn open_dispute(&self, id: &str) -> Result<DisputeView, ShopError> {
        let known = self.store.dispute(id).await?;
        if !known.needs_response() {
            return Err(ShopError::BadRequest(format!(
                "this dispute is {}: nothing more can be sent",
                known.status
            )));
        }
        Ok(known)
    }

    /// Stores Stripe's answer (as of now) and records who did it.
    async fn recorded(
        &self,
        merchant: &Merchant,
        answer: Dispute,
        action: &str,
        detail: &str,
    ) -> Result<DisputeView, ShopError> {
        let now = crate::store::now_ms() / 1000;
        self.store.apply_dispute(&answer, now, Funds::None).await?;
        let view = self.store.dispute(&answer.id).await?;
        let detail = format!(
            "{} {}{}",
            answer.id,
            view.status,
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {}", detail.chars().take(200).collect::<String>())
            }
        );
        self.store
            .audit(view.order_id.as_ref(), &merchant.email, action, &detail)
            .await?;
        Ok(view)
    }

    /// The evidence the shop can give by itself: the customer's email, what was bought
    /// and when.
    async fn known_evidence(&self, dispute: &DisputeView) -> Result<DisputeEvidence, ShopError> {
        let mut evidence = DisputeEvidence::default();
        let Some(order_id) = &dispute.order_id else {
            return Ok(evidence);
        };
        let order = self.store.order(order_id).await?;
        let (email, _) = self.store.order_owner(order_id).await?;
        evidence.customer_email_address = email;
        evidence.product_description = Some(
            order
                .lines
                .iter()
                .map(|l| format!("{} × {}", l.quantity, l.name))
                .collect::<Vec<_>>()
                .join(", "),
        );
        evidence.service_date = Some(crate::account::date(order.created_at));
        Ok(evidence)
    }

    /// The disputes of an order (the console's order page).
    pub async fn order_disputes(&self, order_id: &OrderId) -> Result<Vec<DisputeView>, ShopError> {
        Ok(self.store.order_disputes(order_id).await?)
    }
}

fn key(action: &str, id: &str, request: &RequestId) -> Result<IdempotencyKey, ShopError> {
    IdempotencyKey::new(format!("dispute-{id}-{action}-{}", request.as_str()))
        .map_err(|_| ShopError::Internal)
}
