//! Abuse limits at the edge: who the client is ([`client_ip`]), and per-address rate
//! limits on the calls that cost something: signing in (password guessing) and the
//! payment path (each `checkout`/`pay` can create a PaymentIntent and spends the
//! account's Stripe rate limit).
//!
//! The limiter is `governor`'s keyed GCRA, the engine of `tower_governor`. Its layer is
//! not used because every server function goes through one Leptos route (`/api/{fn}`):
//! the limit to apply is chosen here by path, inside one middleware.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shop::ShopError;

/// `RATE_LIMIT_SIGN_IN_PER_MINUTE`, `RATE_LIMIT_PAYMENTS_PER_MINUTE` (0 turns one off)
/// and `TRUST_FORWARDED_FOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// `sign_in`, `sign_up`, `authenticate` per client address per minute.
    pub sign_in_per_minute: u32,
    /// `checkout`, `pay`, `buy_again`, `start_card_setup` per client address per minute.
    pub payments_per_minute: u32,
    /// Behind a reverse proxy: the client is the last `X-Forwarded-For` entry (the one
    /// the proxy added), not the TCP peer (the proxy). Only with a proxy that sets it:
    /// otherwise any client could pick its own address.
    pub trust_forwarded_for: bool,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            sign_in_per_minute: 10,
            payments_per_minute: 20,
            trust_forwarded_for: false,
        }
    }
}

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    SignIn,
    Payments,
}

/// The limited server functions (`POST /api/{name}`).
pub fn group(path: &str) -> Option<Group> {
    match path.strip_prefix("/api/")? {
        "sign_in" | "sign_up" | "authenticate" => Some(Group::SignIn),
        "checkout" | "pay" | "buy_again" | "start_card_setup" => Some(Group::Payments),
        _ => None,
    }
}

pub struct Limits {
    sign_in: Option<DefaultKeyedRateLimiter<IpAddr>>,
    payments: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trust_forwarded_for: bool,
    checks: AtomicU64,
}

impl Limits {
    pub fn new(settings: LimitSettings) -> Limits {
        let limiter = |per_minute: u32| {
            NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
        };
        Limits {
            sign_in: limiter(settings.sign_in_per_minute),
            payments: limiter(settings.payments_per_minute),
            trust_forwarded_for: settings.trust_forwarded_for,
            checks: AtomicU64::new(0),
        }
    }

    /// `Err(seconds to wait)` when `ip` is over the limit of `group`.
    pub fn check(&self, group: Group, ip: IpAddr) -> Result<(), u64> {
        let limiter = match group {
            Group::SignIn => &self.sign_in,
            Group::Payments => &self.payments,
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        // The keyed state grows with every address seen: forget the idle ones now and
        // then (an address whose bucket is full again needs no state).
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + 1
        })
    }
}

/// The client's address: the TCP peer, or with `trust_forwarded_for` the last entry of
/// the last `X-Forwarded-For` header (appended by the trusted proxy; earlier entries
/// are whatever the client sent).
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|p| p.ip())
}

/// Sets [`app::edge::ClientIp`] on every request and answers `429` (with
/// `Retry-After`, and the shop's error JSON the browser shows) over a limit.
pub async fn enforce(
    State(limits): State<Arc<Limits>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let ip = client_ip(request.headers(), peer, limits.trust_forwarded_for);
    if let Some(ip) = ip {
        request.extensions_mut().insert(app::edge::ClientIp(ip));
        if let Some(group) = group(request.uri().path()) {
            if let Err(seconds) = limits.check(group, ip) {
                tracing::warn!(%ip, path = request.uri().path(), seconds, "rate limit reached");
                return too_many(seconds);
            }
        }
    }
    next.run(request).await
}

/// The largest request body outside `/webhook` (which has `webhook::MAX_BODY`): room
/// for a dispute's evidence (Stripe takes 20,000 characters per text field), far below
/// what would let a client tie up memory.
pub const MAX_REQUEST_BODY: usize = 256 * 1024;

/// Every route's body limit: `413` up front when `Content-Length` says more, and a body
/// that grows past it mid-stream fails to read (the server function answers 400).
pub async fn limit_body(request: Request, next: Next) -> Response {
    // No path or query of this site holds a NUL (PostgreSQL text cannot store one): 400
    // here, before a page hands it to a query.
    let uri = request.uri();
    if [uri.path(), uri.query().unwrap_or_default()]
        .iter()
        .any(|part| part.to_ascii_lowercase().contains("%00"))
    {
        return (StatusCode::BAD_REQUEST, "a NUL character in the URL").into_response();
    }
    let limit = if request.uri().path() == "/webhook" {
        crate::webhook::MAX_BODY
    } else {
        MAX_REQUEST_BODY
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body over the limit of {limit} bytes"),
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

fn too_many(seconds: u64) -> Response {
    let error = ShopError::RateLimited {
        seconds: seconds.to_string(),
    };
    let body = serde_json::to_string(&error).unwrap_or_default();
    (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::RETRY_AFTER,
                HeaderValue::from_str(&seconds.to_string())
                    .unwrap_or(HeaderValue::from_static("60")),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_costly_calls_are_limited() {
        assert_eq!(group("/api/sign_in"), Some(Group::SignIn));
        assert_eq!(group("/api/pay"), Some(Group::Payments));
        assert_eq!(group("/api/checkout"), Some(Group::Payments));
        assert_eq!(group("/api/cart"), None);
        assert_eq!(group("/pay"), None);
        assert_eq!(group("/api/payment_submitted"), None);
    }

    #[test]
    fn each_address_has_its_own_budget() {
        let limits = Limits::new(LimitSettings {
            sign_in_per_minute: 3,
            payments_per_minute: 0,
            trust_forwarded_for: false,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limits.check(Group::SignIn, a), Ok(()));
        }
        let wait = limits.check(Group::SignIn, a).unwrap_err();
        assert!((1..=21).contains(&wait), "{wait}");
        assert_eq!(limits.check(Group::SignIn, b), Ok(()));
        // 0: no limit.
        for _ in 0..1000 {
            assert_eq!(limits.check(Group::Payments, a), Ok(()));
        }
    }

    #[test]
    fn forwarded_for_counts_only_when_trusted_and_only_its_last_entry() {
        let peer = Some(SocketAddr::from(([10, 0, 0, 5], 40000)));
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", HeaderValue::from_static("6.6.6.6"));
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 203.0.113.9"),
        );
        assert_eq!(
            client_ip(&headers, peer, false),
            Some("10.0.0.5".parse().unwrap())
        );
        assert_eq!(
            client_ip(&headers, peer, true),
            Some("203.0.113.9".parse().unwrap())
        );
        let mut junk = HeaderMap::new();
        junk.append(
            "x-forwarded-for",
            HeaderValue::from_static("not an address"),
        );
        assert_eq!(
            client_ip(&junk, peer, true),
            Some("10.0.0.5".parse().unwrap())
        );
        assert_eq!(client_ip(&HeaderMap::new(), None, true), None);
    }
}
