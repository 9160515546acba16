//! Verified Stripe events become order state: stored once by id (before the webhook is
//! acknowledged), then turned into a [`PaymentFact`] and applied through
//! [`Store::apply_fact`]. One whose processing failed stays unprocessed; the backlog job
//! ([`process_backlog`]) retries it and parks it after [`MAX_ATTEMPTS`].
//!
//! The HTTP side (signature check on the raw bytes, status codes) is the server's
//! `POST /webhook` route; everything after verification is here.

use stripe_client::{Client, Event, EventType, PaymentIntent};

use crate::cards::{is_card_event, CardEventError, Cards};
use crate::disputes::{is_dispute_event, DisputeEventError, Disputes};
use crate::fraud::{is_fraud_warning_event, FraudWarnings};
use crate::payment_state::{self, Ignored, PaymentFact};
use crate::payouts::{is_payout_event, PayoutEventError, Payouts};
use crate::refunds::{is_refund_event, RefundEventError, Refunds};
use crate::store::events::EventRecord;
use crate::store::payments::Applied;
use crate::store::{now_ms, Store, StoreError};

/// What turns events into state besides the payment state machine: saved cards, refunds,
/// disputes, fraud warnings and payouts (each needs the store and, for some events, Stripe).
#[derive(Clone)]
pub struct EventHandlers {
    pub cards: Cards,
    /// Closes an order whose intent had too many failed attempts (card testing).
    pub guard: crate::guard::Guard,
    pub refunds: Refunds,
    pub disputes: Disputes,
    pub fraud_warnings: FraudWarnings,
    pub payouts: Payouts,
}

impl EventHandlers {
    /// The handlers, around the saved cards the payments service already has.
    pub fn new(store: Store, stripe: Client, cards: Cards) -> EventHandlers {
        let refunds = Refunds::new(store.clone(), stripe.clone());
        EventHandlers {
            guard: crate::guard::Guard::new(
                store.clone(),
                stripe.clone(),
                crate::guard::GuardSettings::default(),
            ),
            cards,
            fraud_warnings: FraudWarnings::new(store.clone(), refunds.clone()),
            refunds,
            disputes: Disputes::new(store.clone(), stripe.clone()),
            payouts: Payouts::new(store, stripe),
        }
    }
}

/// After this many failed attempts an event is parked (logged; left for a human).
pub const MAX_ATTEMPTS: i64 = 10;

/// What became of a delivered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Stored for the first time (and processed, if it concerns an order).
    New,
    /// Stored by an earlier delivery: nothing new (processed again only if that
    /// earlier processing had failed).
    Duplicate,
}

/// Stores a verified event once and processes it. `body` is the verified payload; it is
/// stored without a PaymentIntent's `client_secret`. An `Err` means it could not be
/// stored: the webhook must not be acknowledged (Stripe delivers it again).
#[tracing::instrument(name = "stripe_event", level = "error", skip_all, fields(event_id = %event.id, kind = event.kind.as_str()))]
pub async fn ingest(
    store: &Store,
    handlers: &EventHandlers,
    body: &[u8],
    event: &Event,
) -> Result<Ingested, StoreError> {
    let relevant = is_relevant(event);
    let payload = stored_payload(body, event);
    let record = EventRecord {
        id: &event.id,
        kind: event.kind.as_str(),
        created: event.created,
        object_id: event.object_id(),
        payment_intent_id: payment_intent_of(event),
    };
    let new = store.record_event(&record, &payload, !relevant).await?;
    if new {
        tracing::debug!("webhook event stored");
        if relevant {
            process(store, handlers, event).await;
        }
        return Ok(Ingested::New);
    }
    tracing::debug!("duplicate webhook event");
    // Stored by an earlier delivery whose processing failed: try again now.
    if relevant && store.event_unprocessed(&event.id).await.unwrap_or(false) {
        process(store, handlers, event).await;
    }
    Ok(Ingested::Duplicate)
}

/// The PaymentIntent an event's object belongs to: its own id, or its `payment_intent`
/// (a charge, refund, dispute or fraud warning; an id or an expanded object).
pub fn payment_intent_of(event: &Event) -> Option<&str> {
    let object = &event.data.object;
    match event.object_id() {
        Some(id) if id.starts_with("pi_") => Some(id),
        _ => match object.get("payment_intent")? {
            serde_json::Value::String(id) => Some(id),
            expanded => expanded.get("id")?.as_str(),
        },
    }
}

/// The event as stored: verified bytes, minus a PaymentIntent's `client_secret` (which
/// only ever belongs in the shopper's browser).
///
/// The verified event is already parsed: the bytes are parsed again only when there is a
/// secret to take out.
fn stored_payload(body: &[u8], event: &Event) -> String {
    if event.data.object.get("client_secret").is_none() {
        return String::from_utf8_lossy(body).into_owned();
    }
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(object) = value
            .pointer_mut("/data/object")
            .and_then(serde_json::Value::as_object_mut)
        {
            if object.remove("client_secret").is_some() {
                return value.to_string();
            }
        }
    }
    String::from_utf8_lossy(body).into_owned()
}

/// Events that change orders, saved cards or refunds (every other one is stored, not
/// processed).
fn is_relevant(event: &Event) -> bool {
    payment_state::is_payment_event(&event.kind)
        || is_card_event(event.kind.as_str())
        || is_refund_event(&event.kind)
        || is_dispute_event(&event.kind)
        || is_fraud_warning_event(event.kind.as_str())
        || is_payout_event(&event.kind)
}

/// Turns a stored event into order, saved-card, refund, dispute, fraud-warning or payout
/// state; marks it processed unless the database or Stripe failed (then the background
/// job tries again).
pub async fn process(store: &Store, handlers: &EventHandlers, event: &Event) {
    let kind = &event.kind;
    // Events of one handler each: applied, then processed (or retried later).
    let one_handler = if is_fraud_warning_event(kind.as_str()) {
        let result = handlers.fraud_warnings.apply_event(event).await;
        Some(handled(store, event, "fraud warning", result, |_| false).await)
    } else if is_dispute_event(kind) {
        let result = handlers.disputes.apply_event(event).await;
        Some(
            handled(store, event, "dispute", result, |e| {
                matches!(e, DisputeEventError::Malformed(_))
            })
            .await,
        )
    } else if is_payout_event(kind) {
        let result = handlers.payouts.apply_event(event).await;
        Some(
            handled(store, event, "payout", result, |e| {
                matches!(e, PayoutEventError::Malformed(_))
            })
            .await,
        )
    } else if is_refund_event(kind) && !payment_state::is_payment_event(kind) {
        // `refund.*`: the refund ledger only.
        Some(apply_refund_event(store, handlers, event).await)
    } else if is_card_event(kind.as_str()) {
        let result = handlers.cards.apply_event(event).await;
        Some(
            handled(store, event, "card", result, |e| {
                matches!(e, CardEventError::Malformed(_))
            })
            .await,
        )
    } else {
        None
    };
    if let Some(done) = one_handler {
        if done {
            mark_processed(store, event).await;
        }
        return;
    }
    let outcome = match payment_state::fact_from_event(event) {
        None => None,
        Some(Err(error)) => {
            // It will not parse better next time: keep it stored, log, move on.
            tracing::error!(%error, "payment event with an unexpected object");
            None
        }
        Some(Ok(fact)) => Some(store.apply_fact(&fact).await.map(|applied| (fact, applied))),
    };
    match outcome {
        Some(Err(error)) => {
            tracing::error!(%error, "cannot apply payment event; will retry");
            attempt_failed(store, event, error.to_string()).await;
            return;
        }
        Some(Ok((fact, applied))) => {
            log_applied(&fact, &applied);
            // Card testing: one failed attempt too many closes the order.
            if *kind == EventType::PaymentIntentPaymentFailed {
                let order = match &applied {
                    Applied::Changed { order_id, .. } | Applied::Ignored { order_id, .. } => {
                        Some(order_id)
                    }
                    Applied::UnknownOrder => None,
                };
                if let Some(order) = order {
                    if let Err(error) = handlers
                        .guard
                        .after_failure(order, &fact.payment_intent_id)
                        .await
                    {
                        tracing::error!(%error, "card-testing guard: cannot close the order; will retry");
                        attempt_failed(store, event, error.to_string()).await;
                        return;
                    }
                }
            }
        }
        None => {}
    }
    // A payment that saved its card (`setup_future_usage`): record the card from Stripe.
    if *kind == EventType::PaymentIntentSucceeded {
        if let Ok(pi) = event.object_as::<PaymentIntent>() {
            if let Some(charge) = pi.latest_charge_id() {
                if let Err(error) = store.set_order_charge(&pi.id, charge).await {
                    tracing::error!(%error, "cannot record the order's charge; will retry");
                    attempt_failed(store, event, error.to_string()).await;
                    return;
                }
            }
            if let Err(error) = handlers.cards.saved_by_payment(&pi).await {
                tracing::error!(%error, "cannot record the card this payment saved; will retry");
                attempt_failed(store, event, error.to_string()).await;
                return;
            }
        }
    }
    // `charge.refunded` (after the fact it carries: it proves the payment): the charge's
    // refunds, listed at Stripe, into the ledger.
    if is_refund_event(kind) && !apply_refund_event(store, handlers, event).await {
        return;
    }
    mark_processed(store, event).await;
}

/// Applies a refund event to the ledger; `false` when it must be tried again.
async fn apply_refund_event(store: &Store, handlers: &EventHandlers, event: &Event) -> bool {
    let result = handlers.refunds.apply_event(event).await;
    handled(store, event, "refund", result, |e| {
        matches!(e, RefundEventError::Malformed(_))
    })
    .await
}

/// How a handler's attempt ended: `true` when the event is done with (applied, or its
/// object will never parse: logged, it would not parse better next time), `false` when
/// the database or Stripe failed (logged, the attempt counted: the backlog job retries).
async fn handled<E: std::fmt::Display>(
    store: &Store,
    event: &Event,
    what: &str,
    result: Result<(), E>,
    unreadable: impl Fn(&E) -> bool,
) -> bool {
    match result {
        Ok(()) => true,
        Err(error) if unreadable(&error) => {
            tracing::error!(%error, "{what} event with an unexpected object");
            true
        }
        Err(error) => {
            tracing::error!(%error, "cannot apply {what} event; will retry");
            attempt_failed(store, event, error.to_string()).await;
            false
        }
    }
}

/// Counts the failed attempt; the one that parks the event raises the alarm (an error
/// naming it: it now waits for a merchant's "process again" on the console).
async fn attempt_failed(store: &Store, event: &Event, error: String) {
    match store.event_attempt_failed(&event.id, &error).await {
        Ok(attempts) if attempts == MAX_ATTEMPTS => tracing::error!(
            event_id = %event.id,
            attempts,
            %error,
            "event PARKED after {MAX_ATTEMPTS} failed attempts: it is not processed until a \
             merchant processes it again (/merchant/events?parked=1)"
        ),
        Ok(_) => {}
        Err(store_error) => tracing::error!(%store_error, "cannot count the failed attempt"),
    }
}

async fn mark_processed(store: &Store, event: &Event) {
    if let Err(error) = store.mark_event_processed(&event.id).await {
        tracing::error!(%error, "cannot mark event processed; will retry");
    }
}

/// Logged inside the event's span (`event_id`, `kind`).
fn log_applied(fact: &PaymentFact, applied: &Applied) {
    let pi = &fact.payment_intent_id;
    match applied {
        Applied::Changed { order_id, status } => {
            tracing::info!(%order_id, payment_intent = %pi, status = status.as_str(), "order updated")
        }
        Applied::Ignored {
            order_id,
            reason: reason @ (Ignored::AmountMismatch { .. } | Ignored::OtherPaymentIntent),
        } => tracing::error!(
            %order_id, payment_intent = %pi, ?reason,
            "payment does not match its order: NOT fulfilled, needs a look"
        ),
        Applied::Ignored { order_id, reason } => {
            tracing::debug!(%order_id, ?reason, "payment event changes nothing")
        }
        Applied::UnknownOrder => {
            tracing::warn!(payment_intent = %pi, "payment event for no known order")
        }
    }
}

/// Processes events stored but not processed (a crash or a database error between
/// storing and processing), oldest first, each in its own span. Returns how many were
/// attempted.
#[tracing::instrument(name = "webhook_backlog", level = "error", skip(store, handlers))]
pub async fn process_backlog(
    store: &Store,
    handlers: &EventHandlers,
    older_than_ms: i64,
) -> Result<usize, StoreError> {
    let events = store
        .unprocessed_events(now_ms() - older_than_ms, MAX_ATTEMPTS, 100)
        .await?;
    for (id, payload) in &events {
        match serde_json::from_str::<Event>(payload) {
            Ok(event) => {
                let span = tracing::error_span!("stripe_event", event_id = %event.id, kind = event.kind.as_str());
                tracing::Instrument::instrument(process(store, handlers, &event), span).await
            }
            Err(error) => {
                tracing::error!(%error, event_id = %id, "stored event does not parse; skipped");
                store.mark_event_processed(id).await?;
            }
        }
    }
    Ok(events.len())
}
