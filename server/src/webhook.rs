//! `POST /webhook`: Stripe's (or the sandbox's) event deliveries.
//!
//! The signature is checked on the raw bytes before anything is parsed (any matching
//! `v1`, constant time, timestamp tolerance), with no way around it: there is always a
//! secret (configured, or generated for the sandbox). A verified event is stored once,
//! keyed by its id, before the 2xx; duplicates are acknowledged and ignored. Payment
//! events are then turned into order state ([`crate::fulfilment`]) at once; one whose
//! processing failed stays marked unprocessed and the background job retries it.

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use stripe_client::Event;

use crate::fulfilment::{self, Ignored, PaymentFact};
use crate::order_payments::Applied;
use crate::store::Store;
use crate::AppState;

/// Stripe's payloads are small; anything bigger is not from Stripe.
pub const MAX_BODY: usize = 512 * 1024;

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(signature) = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
    else {
        tracing::warn!("webhook without a Stripe-Signature header refused");
        return reject("missing Stripe-Signature header");
    };
    let payments = &state.payments;
    let event = match stripe_client::webhook::verify(
        &body,
        signature,
        std::slice::from_ref(&payments.webhook_secret),
        payments.webhook_tolerance,
        SystemTime::now(),
    ) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "webhook refused");
            return reject("invalid signature or payload");
        }
    };
    let payload = stored_payload(&body, &event);
    let relevant = fulfilment::is_payment_event(&event.kind);
    match state
        .store
        .record_event(
            &event.id,
            event.kind.as_str(),
            event.created,
            &payload,
            !relevant,
        )
        .await
    {
        Ok(true) => {
            tracing::debug!(event = %event.id, kind = event.kind.as_str(), "webhook event stored");
            if relevant {
                process(&state.store, &event).await;
            }
            (StatusCode::OK, Json(serde_json::json!({"received": true}))).into_response()
        }
        Ok(false) => {
            tracing::debug!(event = %event.id, "duplicate webhook event");
            // Stored by an earlier delivery whose processing failed: try again now.
            if relevant
                && state
                    .store
                    .event_unprocessed(&event.id)
                    .await
                    .unwrap_or(false)
            {
                process(&state.store, &event).await;
            }
            (
                StatusCode::OK,
                Json(serde_json::json!({"received": true, "duplicate": true})),
            )
                .into_response()
        }
        Err(error) => {
            // Not acknowledged: Stripe delivers it again later.
            tracing::error!(%error, event = %event.id, "cannot store webhook event");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
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

/// Turns a stored payment event into order state; marks it processed unless the
/// database failed (then the background job tries again).
pub async fn process(store: &Store, event: &Event) {
    let outcome = match fulfilment::fact_from_event(event) {
        None => None,
        Some(Err(error)) => {
            // It will not parse better next time: keep it stored, log, move on.
            tracing::error!(%error, event = %event.id, "payment event with an unexpected object");
            None
        }
        Some(Ok(fact)) => Some(store.apply_fact(&fact).await.map(|applied| (fact, applied))),
    };
    match outcome {
        Some(Err(error)) => {
            tracing::error!(%error, event = %event.id, "cannot apply payment event; will retry");
            let _ = store.event_attempt_failed(&event.id).await;
            return;
        }
        Some(Ok((fact, applied))) => log_applied(&event.id, event.kind.as_str(), &fact, &applied),
        None => {}
    }
    if let Err(error) = store.mark_event_processed(&event.id).await {
        tracing::error!(%error, event = %event.id, "cannot mark event processed; will retry");
    }
}

fn log_applied(event: &str, kind: &str, fact: &PaymentFact, applied: &Applied) {
    let pi = &fact.payment_intent_id;
    match applied {
        Applied::Changed { order_id, status } => {
            tracing::info!(event, kind, %order_id, payment_intent = %pi, status = status.as_str(), "order updated")
        }
        Applied::Ignored {
            order_id,
            reason: reason @ (Ignored::AmountMismatch { .. } | Ignored::OtherPaymentIntent),
        } => tracing::error!(
            event, kind, %order_id, payment_intent = %pi, ?reason,
            "payment does not match its order: NOT fulfilled, needs a look"
        ),
        Applied::Ignored { order_id, reason } => {
            tracing::debug!(event, kind, %order_id, ?reason, "payment event changes nothing")
        }
        Applied::UnknownOrder => {
            tracing::warn!(event, kind, payment_intent = %pi, "payment event for no known order")
        }
    }
}

/// After this many failed attempts an event is parked (logged; left for a human).
const MAX_ATTEMPTS: i64 = 10;

/// Processes events stored but not processed (a crash or a database error between
/// storing and processing), oldest first. Returns how many were attempted.
pub async fn process_backlog(store: &Store, older_than_ms: i64) -> Result<usize, sqlx::Error> {
    let events = store
        .unprocessed_events(crate::store::now_ms() - older_than_ms, MAX_ATTEMPTS, 100)
        .await?;
    for (id, payload) in &events {
        match serde_json::from_str::<Event>(payload) {
            Ok(event) => process(store, &event).await,
            Err(error) => {
                tracing::error!(%error, event = %id, "stored event does not parse; skipped");
                store.mark_event_processed(id).await?;
            }
        }
    }
    Ok(events.len())
}

fn reject(reason: &'static str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": reason})),
    )
        .into_response()
}
