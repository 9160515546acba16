//! The Stripe.js stand-in, served like https://js.stripe.com/v3/:
//!
//! * `GET /v3/` (and `/v3`) — the script defining the global `Stripe(publishableKey)`
//!   (`assets/stripe.js`);
//! * `GET /v3/elements/card` — the card element's iframe, whose inputs are named
//!   `cardnumber`, `exp-date`, `cvc` and `postal` like Stripe's (`assets/card.html`).
//!   Card details go from this frame straight to `POST /v1/payment_methods` with the
//!   publishable key; the shop's page only sees the resulting `pm_…` id.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::Sandbox;

const STRIPE_JS: &str = include_str!("../assets/stripe.js");
const CARD_FRAME: &str = include_str!("../assets/card.html");

pub fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v3", get(script))
        .route("/v3/", get(script))
        .route("/v3/elements/card", get(card_frame))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn script() -> Response {
    asset("application/javascript; charset=utf-8", STRIPE_JS)
}

async fn card_frame() -> Response {
    asset("text/html; charset=utf-8", CARD_FRAME)
}
