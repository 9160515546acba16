//! `POST /webhook`: Stripe's (or the sandbox's) event deliveries.
//!
//! The signature is checked on the raw bytes before anything is parsed (any matching
//! `v1`, constant time, timestamp tolerance), with no way around it: there is always a
//! secret (configured, or generated for the sandbox). A verified event is stored once,
//! keyed by its id, before the 2xx; duplicates are acknowledged and ignored. Turning
//! events into order state happens from the stored rows.

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

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
    let payload = String::from_utf8_lossy(&body);
    match state
        .store
        .record_event(&event.id, event.kind.as_str(), event.created, &payload)
        .await
    {
        Ok(true) => {
            tracing::info!(event = %event.id, kind = event.kind.as_str(), "webhook event stored");
            (StatusCode::OK, Json(serde_json::json!({"received": true}))).into_response()
        }
        Ok(false) => {
            tracing::info!(event = %event.id, "duplicate webhook event ignored");
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

fn reject(reason: &'static str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": reason})),
    )
        .into_response()
}
