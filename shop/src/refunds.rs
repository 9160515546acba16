//! Refunds from the merchant console, and Stripe's word about every refund (ours, or made
//! in Stripe's Dashboard) through one path: [`Store::apply_stripe_refund`].
//!
//! A refund request is written first, inside the transaction that checks it against
//! what is still refundable ([`Store::reserve_refund`]); then Stripe is asked with an
//! idempotency key made from the form's one-time request id and `metadata[refund_id]`
//! naming the row. Whichever comes first, Stripe's answer or the webhook echo
//! (`refund.created`), gives the row its `re_` id; the other finds it known. A request
//! whose answer was lost stays `requested` and is asked again with the same key
//! ([`Refunds::retry_unanswered`]): Stripe answers with the same refund.

use stripe_client::{Client, CreateRefund, Event, EventType, IdempotencyKey, ListRefunds, Refund};
use stripe_types::messages;

use crate::account::RequestId;
use crate::error::ShopError;
use crate::ids::OrderId;
use crate::refund::{
    parse_amount, parse_reason, Ledger, MerchantOrder, QueuedRefund, RefundState, RefundView,
};
use crate::store::refunds::{RefundApplied, RefundRequest};
use crate::store::{Store, StoreError};

/// Who is refunding (a merchant account).
#[derive(Debug, Clone)]
pub struct Merchant {
    pub email: String,
}

/// What the refund form sends.
#[derive(Debug, Clone)]
pub struct RefundForm<'a> {
    /// Major units ("5.00"); empty: everything still refundable.
    pub amount: &'a str,
    pub reason: &'a str,
    pub note: &'a str,
    pub request: &'a RequestId,
}

/// Refund events the ledger follows (stored and processed like payment events).
pub fn is_refund_event(kind: &EventType) -> bool {
    matches!(
        kind,
        EventType::RefundCreated
            | EventType::RefundUpdated
            | EventType::RefundFailed
            | EventType::ChargeRefunded
    )
}

#[derive(Debug, thiserror::Error)]
pub enum RefundEventError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Stripe(#[from] stripe_client::StripeError),
    #[error("unexpected object: {0}")]
    Malformed(#[from] serde_json::Error),
}

#[derive(Clone)]
pub struct Refunds {
    store: Store,
    stripe: Client,
}

impl Refunds {
    pub fn new(store: Store, stripe: Client) -> Refunds {
        Refunds { store, stripe }
    }

    /// The console's page of one order: the order, its ledger, its Stripe events and
    /// the audit trail.
    pub async fn merchant_order(&self, order_id: &OrderId) -> Result<MerchantOrder, ShopError> {
        let order = self.store.order(order_id).await.map_err(not_found)?;
        let (email, payment_intent_id) = self.store.order_owner(order_id).await?;
        let refunds = self.store.refunds(order_id).await?;
        let audit = self.store.audit_trail(order_id).await?;
        let disputes = self.store.order_disputes(order_id).await?;
        let events = match &payment_intent_id {
            Some(pi) => self.store.payment_events(pi).await?,
            None => Vec::new(),
        };
        let review_reason = self.store.review_reason(order_id).await?;
        Ok(MerchantOrder {
            review_reason,
            disputes,
            events,
            ledger: Ledger::new(order.status, order.total, refunds),
            order,
            email,
            payment_intent_id,
            audit,
        })
    }

    /// Refunds part or all of a paid order. The amount is checked on the server against
    /// what is still refundable, in the transaction that records the request (more gets
    /// [`ShopError::RefundTooLarge`] and nothing is sent); the same request id again is
    /// the same refund (one call to Stripe, whatever the clicks).
    #[tracing::instrument(level = "error", skip_all, fields(order_id = %order_id))]
    pub async fn refund(
        &self,
        merchant: &Merchant,
        order_id: &OrderId,
        form: &RefundForm<'_>,
    ) -> Result<RefundView, ShopError> {
        let order = self.store.order(order_id).await.map_err(not_found)?;
        let amount = match form.amount.trim() {
            "" => None,
            text => Some(parse_amount(text, order.total.currency)?),
        };
        let reason = parse_reason(form.reason)?;
        let note = form.note.trim();
        if note.chars().count() > 500 {
            return Err(ShopError::BadRequest(
                "the note is over 500 characters".into(),
            ));
        }
        self.refund_money(
            merchant,
            order_id,
            amount,
            reason.map(|r| r.as_str()),
            note,
            form.request,
            "refund requested",
        )
        .await
    }

    /// A refund of `amount` (`None`: all that is refundable), recorded then asked of
    /// Stripe; `action` names it in the audit trail.
    #[allow(clippy::too_many_arguments)]
    async fn refund_money(
        &self,
        merchant: &Merchant,
        order_id: &OrderId,
        amount: Option<stripe_types::Money>,
        reason: Option<&str>,
        note: &str,
        request: &RequestId,
        action: &str,
    ) -> Result<RefundView, ShopError> {
        let request_key = request_key(request);
        let reserved = self
            .store
            .reserve_refund(&RefundRequest {
                order_id,
                amount,
                reason,
                note: (!note.is_empty()).then_some(note),
                request_key: &request_key,
                requested_by: &merchant.email,
            })
            .await?;
        if !reserved.new && reserved.refund.status != RefundState::Requested {
            // Done before (a double click or a resent form): the same refund.
            return Ok(reserved.refund);
        }
        if reserved.new {
            let detail = format!(
                "{} {}{}",
                reserved.refund.amount,
                reason.unwrap_or("(no reason)"),
                if note.is_empty() {
                    String::new()
                } else {
                    format!(": {note}")
                }
            );
            self.store
                .audit(Some(order_id), &merchant.email, action, &detail)
                .await?;
        }
        self.ask_stripe(
            order_id,
            &reserved.refund,
            &reserved.payment_intent_id,
            &request_key,
        )
        .await
    }

    /// A failed refund of the queue tried again: a new refund of the same amount, reason
    /// and note (checked against what is refundable now); the failed one leaves the queue.
    pub async fn retry(
        &self,
        merchant: &Merchant,
        refund_id: &str,
        request: &RequestId,
    ) -> Result<RefundView, ShopError> {
        let QueuedRefund { order_id, refund } = self.store.refund_row(refund_id).await?;
        if !refund.needs_attention() {
            return Err(ShopError::BadRequest(
                "this refund is not waiting in the failed-refunds queue".into(),
            ));
        }
        let again = self
            .refund_money(
                merchant,
                &order_id,
                Some(refund.amount),
                refund.reason.as_deref(),
                refund.note.as_deref().unwrap_or_default(),
                request,
                "failed refund retried",
            )
            .await?;
        self.store.dismiss_refund(refund_id).await?;
        Ok(again)
    }

    /// Takes a failed refund out of the queue (the money stays refundable).
    pub async fn dismiss(&self, merchant: &Merchant, refund_id: &str) -> Result<(), ShopError> {
        let QueuedRefund { order_id, refund } = self.store.refund_row(refund_id).await?;
        if !self.store.dismiss_refund(refund_id).await? {
            return Err(ShopError::BadRequest(
                "this refund is not waiting in the failed-refunds queue".into(),
            ));
        }
        let detail = format!(
            "{} {}",
            refund.stripe_id.as_deref().unwrap_or(&refund.id),
            refund.amount
        );
        self.store
            .audit(
                Some(&order_id),
                &merchant.email,
                "failed refund dismissed",
                &detail,
            )
            .await?;
        Ok(())
    }

    /// The refund this request already made, if any (a repeated request is answered with
    /// it, whatever changed since).
    pub async fn made_by(&self, request: &RequestId) -> Result<Option<RefundView>, ShopError> {
        Ok(self
            .store
            .refund_by_request_key(&request_key(request))
            .await?)
    }

    /// The failed-refunds queue.
    pub async fn queue(&self) -> Result<Vec<QueuedRefund>, ShopError> {
        Ok(self.store.refund_queue().await?)
    }

    /// Creates the refund at Stripe for a `requested` row (again, after a lost answer:
    /// the same key gets the same refund).
    async fn ask_stripe(
        &self,
        order_id: &OrderId,
        row: &RefundView,
        payment_intent_id: &str,
        request_key: &str,
    ) -> Result<RefundView, ShopError> {
        let mut params = CreateRefund::partial(payment_intent_id, row.amount.minor)
            .metadata("order_id", order_id.as_str())
            .metadata("refund_id", &row.id);
        if let Some(reason) = row
            .reason
            .as_deref()
            .and_then(stripe_types::RefundReason::parse)
        {
            params = params.reason(reason);
        }
        let key = IdempotencyKey::new(request_key).map_err(|_| ShopError::Internal)?;
        match self.stripe.create_refund(&params, &key).await {
            Ok(refund) => {
                self.store.apply_stripe_refund(&refund).await?;
                tracing::info!(refund = %refund.id, amount = refund.amount, "refund created");
                Ok(self.store.refund_row(&row.id).await?.refund)
            }
            Err(error) if error.outcome_unknown() => {
                // Maybe made, maybe not: the row stays `requested` (its money held) and
                // is asked again with the same key.
                error.log("refunds.create");
                Err(ShopError::Payment {
                    message: messages::REFUND_OUTCOME_UNKNOWN.into(),
                })
            }
            Err(error) => {
                error.log("refunds.create");
                let message = stripe_refusal(&error);
                self.store.refund_rejected(&row.id, &message).await?;
                Err(ShopError::Payment { message })
            }
        }
    }

    /// Requests still unanswered after `older_than_ms` are asked again (same keys).
    pub async fn retry_unanswered(&self, older_than_ms: i64) -> Result<usize, ShopError> {
        let rows = self
            .store
            .unanswered_refunds(crate::store::now_ms() - older_than_ms, 20)
            .await?;
        for row in &rows {
            let _ = self
                .ask_stripe(
                    &row.order_id,
                    &row.refund,
                    &row.payment_intent_id,
                    &row.request_key,
                )
                .await;
        }
        Ok(rows.len())
    }

    /// A refund event: the refund itself (`refund.*`), or a charge whose refunds are
    /// listed at Stripe (`charge.refunded`: a refund made in the Dashboard shows up
    /// here too).
    pub async fn apply_event(&self, event: &Event) -> Result<(), RefundEventError> {
        match event.kind {
            EventType::ChargeRefunded => {
                let charge = event.object_as::<stripe_client::Charge>()?;
                if let Some(pi) = charge.payment_intent_id() {
                    self.sync_payment(pi).await?;
                }
            }
            _ => {
                let refund = event.object_as::<Refund>()?;
                log_applied(&refund, &self.store.apply_stripe_refund(&refund).await?);
            }
        }
        Ok(())
    }

    /// Every refund of a PaymentIntent, as Stripe has it, through the one path.
    pub async fn sync_payment(&self, payment_intent_id: &str) -> Result<(), RefundEventError> {
        let mut params = ListRefunds::for_payment_intent(payment_intent_id);
        params.page.limit = Some(100);
        loop {
            let page = self.stripe.list_refunds(&params).await?;
            for refund in &page.data {
                log_applied(refund, &self.store.apply_stripe_refund(refund).await?);
            }
            match page.next_cursor() {
                Some(cursor) if page.has_more => {
                    params.page.starting_after = Some(cursor.to_owned())
                }
                _ => return Ok(()),
            }
        }
    }
}

/// The idempotency key (and stored request key) of a refund request.
fn request_key(request: &RequestId) -> String {
    format!("refund-{}", request.as_str())
}

/// An unknown order is the console's 404.
fn not_found(error: StoreError) -> ShopError {
    match error {
        StoreError::Refused(ShopError::UnknownOrder { .. }) => ShopError::NotFound,
        other => other.into(),
    }
}

fn log_applied(refund: &Refund, applied: &RefundApplied) {
    match applied {
        RefundApplied::Changed { order_id, status } => tracing::info!(
            refund = %refund.id, %order_id, order_status = status.as_str(),
            refund_status = ?refund.status(), "refund recorded"
        ),
        RefundApplied::Unchanged { .. } => {
            tracing::debug!(refund = %refund.id, "refund already known")
        }
        RefundApplied::UnknownOrder => {
            tracing::warn!(refund = %refund.id, "refund of no known order")
        }
    }
}

/// Stripe's reason for refusing a refund, for the merchant.
fn stripe_refusal(error: &stripe_client::StripeError) -> String {
    match error {
        stripe_client::StripeError::InvalidRequest { message, .. } => {
            format!("{} {message}", messages::REFUND_REFUSED)
        }
        other => format!("{} {}", messages::REFUND_REFUSED, other.customer_message()),
    }
}
