//! `POST /webhook`: Stripe's (or the sandbox's) event deliveries, the HTTP side.
//!
//! The signature is checked on the raw bytes before anything is parsed (any matching
//! `v1`, constant time, timestamp tolerance), with no way around it: there is always a
//! secret (configured, or generated for the sandbox). A verified event is handed to
//! [`shop::stripe_events::ingest`], which stores it once by id before the 2xx and turns
//! payment events into order state; duplicates are acknowledged and ignored.

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use shop::stripe_events::{self, Ingested};

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
    let provider = &state.stripe;
    let event = match stripe_client::webhook::verify(
        &body,
        signature,
        std::slice::from_ref(&provider.webhook_secret),
        provider.webhook_tolerance,
        SystemTime::now(),
    ) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "webhook refused");
            return reject("invalid signature or payload");
        }
    };
    // An event of the other mode (a live event sent to a test-mode shop, or the reverse:
    // one endpoint URL configured in both modes) concerns none of our objects: refused,
    // logged, and acknowledged so that Stripe stops sending it.
    let live_key = provider.client.key_mode() == stripe_client::KeyMode::Live;
    if event.livemode != live_key {
        tracing::error!(
            event_id = %event.id,
            livemode = event.livemode,
            "webhook event of the other mode (live vs test) ignored: nothing stored or applied"
        );
        return (
            StatusCode::OK,
            Json(serde_json::json!({"received": true, "ignored": "livemode does not match the key's mode"})),
        )
            .into_response();
    }
    match stripe_events::ingest(
        &state.services.store,
        &state.services.handlers,
        &body,
        &event,
    )
    .await
    {
        Ok(Ingested::New) => {
            (StatusCode::OK, Json(serde_json::json!({"received": true}))).into_response()
        }
        Ok(Ingested::Duplicate) => (
            StatusCode::OK,
            Json(serde_json::json!({"received": true, "duplicate": true})),
        )
            .into_response(),
        Err(error) => {
            // Not acknowledged: Stripe delivers it again later.
            tracing::error!(%error, event_id = %event.id, "cannot store webhook event");
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
