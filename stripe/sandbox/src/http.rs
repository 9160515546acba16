//! The HTTP layer of the Stripe surface: authentication, fault injection, idempotency,
//! dispatch to [`crate::api`], Stripe-shaped responses and headers.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxState};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use base64::Engine;
use stripe_types::ErrorType;

use crate::api::{self, KeyKind};
use crate::error::ApiError;
use crate::form::{fingerprint, Params};
use crate::state::{Ctx, FaultKind, IdemRecord, StoredResponse};
use crate::util::random_with_prefix;
use crate::Sandbox;

/// Largest request body accepted.
const BODY_LIMIT: usize = 1 << 20;

/// Marker on a response whose connection must be dropped without an answer
/// (fault injection). The sandbox's own server honours it; under another server the body
/// fails mid-stream, which also breaks the connection.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

static REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
static STRIPE_VERSION: HeaderName = HeaderName::from_static("stripe-version");
static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
static ORIGINAL_REQUEST: HeaderName = HeaderName::from_static("original-request");
static SHOULD_RETRY: HeaderName = HeaderName::from_static("stripe-should-retry");

pub fn router(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/v1/{*rest}", any(stripe_api))
        .route("/3ds/{id}", get(crate::three_ds::page))
        .route(
            "/3ds/{id}/{action}",
            post(crate::three_ds::act).options(preflight),
        )
        .nest("/_sandbox", crate::control::router())
        .merge(crate::stripejs::routes())
        .fallback(not_found)
        .with_state(sandbox)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Response {
    let rid = new_request_id();
    error_response(
        &ApiError::unrecognized_url(method.as_str(), uri.path()),
        &rid,
        None,
    )
}

pub fn new_request_id() -> String {
    random_with_prefix("req", '_', 14)
}

pub async fn preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "Authorization, Content-Type, Stripe-Version, Idempotency-Key, Stripe-Account, Accept",
        ),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("300"),
    );
    r
}

fn common_headers(h: &mut HeaderMap, request_id: &str) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(REQUEST_ID.clone(), v);
    }
    h.insert(
        STRIPE_VERSION.clone(),
        HeaderValue::from_static(stripe_types::API_VERSION),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(
            "Request-Id, Stripe-Should-Retry, Idempotent-Replayed, Original-Request, Stripe-Version",
        ),
    );
}

pub fn json_response(status: StatusCode, body: impl Into<Bytes>, request_id: &str) -> Response {
    let body: Bytes = body.into();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    common_headers(r.headers_mut(), request_id);
    r
}

pub fn error_response(e: &ApiError, request_id: &str, idem_key: Option<&str>) -> Response {
    let mut r = json_response(e.status, e.to_json(request_id), request_id);
    if let Some(retry) = e.should_retry {
        r.headers_mut().insert(
            SHOULD_RETRY.clone(),
            HeaderValue::from_static(if retry { "true" } else { "false" }),
        );
    }
    if let Some(k) = idem_key.and_then(|k| HeaderValue::from_str(k).ok()) {
        r.headers_mut().insert(IDEMPOTENCY_KEY.clone(), k);
    }
    r
}

fn dropped() -> Response {
    let mut r = Response::new(Body::new(FailingBody));
    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    r.extensions_mut().insert(DropConnection);
    r
}

/// A body that fails as soon as it is polled, so that any server aborts the connection.
struct FailingBody;

impl http_body::Body for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection dropped by the sandbox (fault injection)",
        ))))
    }
}

/// Result of authenticating a request.
struct Auth {
    key: String,
    kind: KeyKind,
}

fn redact(key: &str) -> String {
    let n = key.chars().count();
    if n <= 12 {
        return format!("{}****", key.chars().take(3).collect::<String>());
    }
    let head: String = key.chars().take(8).collect();
    let tail: String = key.chars().skip(n - 4).collect();
    format!("{head}****{tail}")
}

fn unauthorized(message: String) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorType::InvalidRequestError,
        message,
    )
}

fn classify(key: &str) -> Result<KeyKind, ApiError> {
    let (kind, rest) = if let Some(r) = key.strip_prefix("sk_test_") {
        (KeyKind::Secret, r)
    } else if let Some(r) = key.strip_prefix("rk_test_") {
        (KeyKind::Secret, r)
    } else if let Some(r) = key.strip_prefix("pk_test_") {
        (KeyKind::Publishable, r)
    } else {
        return Err(unauthorized(format!(
            "Invalid API Key provided: {}",
            redact(key)
        )));
    };
    if rest.is_empty()
        || rest.len() > 247
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(unauthorized(format!(
            "Invalid API Key provided: {}",
            redact(key)
        )));
    }
    Ok(kind)
}

fn authenticate(headers: &HeaderMap, body_key: Option<String>) -> Result<Auth, ApiError> {
    let key = match headers.get(header::AUTHORIZATION) {
        Some(v) => {
            let v = v.to_str().map_err(|_| unauthorized("Invalid API Key provided.".into()))?;
            let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
            if scheme.eq_ignore_ascii_case("bearer") {
                rest.trim().to_owned()
            } else if scheme.eq_ignore_ascii_case("basic") {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(rest.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| unauthorized("Invalid API Key provided.".into()))?;
                decoded.split(':').next().unwrap_or("").to_owned()
            } else {
                return Err(unauthorized(format!(
                    "Invalid authorization header: expected `Bearer <key>` or HTTP Basic auth with the key as user, got `{scheme}`."
                )));
            }
        }
        // Stripe.js sends its publishable key as a `key` form field.
        None => match body_key {
            Some(k) if k.starts_with("pk_") => k,
            _ => {
                return Err(unauthorized(
                    "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.".into(),
                ))
            }
        },
    };
    let kind = classify(&key)?;
    Ok(Auth { key, kind })
}

fn base_url(sandbox: &Sandbox, headers: &HeaderMap) -> String {
    if let Some(u) = &sandbox.shared.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:12111");
    format!("http://{host}")
}

/// `/v1/...`: the Stripe API.
async fn stripe_api(AxState(sb): AxState<Sandbox>, req: Request) -> Response {
    let request_id = new_request_id();
    let (parts, body) = req.into_parts();
    if parts.method == Method::OPTIONS {
        return preflight().await;
    }
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorType::InvalidRequestError,
                "The request body is too large or could not be read.",
            );
            return error_response(&e, &request_id, None);
        }
    };
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or("");
    let mut params = if parts.method == Method::GET {
        Params::default()
    } else {
        Params::parse(&body)
    };
    if !query.is_empty() {
        params.merge(Params::parse(query.as_bytes()));
    }
    let body_key = if parts.headers.contains_key(header::AUTHORIZATION) {
        None
    } else {
        params.str("key").ok().flatten()
    };
    let auth = match authenticate(&parts.headers, body_key) {
        Ok(a) => a,
        Err(e) => return error_response(&e, &request_id, None),
    };
    let idem_key = if parts.method == Method::POST {
        match parts.headers.get("idempotency-key").map(|v| v.to_str()) {
            None => None,
            Some(Ok(k)) if !k.is_empty() && k.len() <= 255 => Some(k.to_owned()),
            Some(_) => {
                let e = ApiError::invalid(
                    "Invalid Idempotency-Key header: it must be a non-empty string of at most 255 characters.",
                )
                .with_param("Idempotency-Key");
                return error_response(&e, &request_id, None);
            }
        }
    } else {
        None
    };
    // Validation: parameters → an executable operation, without the lock.
    let prepared = match api::prepare(&parts.method, path, params, auth.kind) {
        Some(p) => p,
        None => {
            let e = ApiError::unrecognized_url(parts.method.as_str(), path);
            return error_response(&e, &request_id, idem_key.as_deref());
        }
    };
    let base = base_url(&sb, &parts.headers);
    let fingerprint = idem_key
        .as_ref()
        .map(|_| fingerprint(parts.method.as_str(), path, &body, query.as_bytes()));
    let scoped_key = idem_key.as_ref().map(|k| {
        let mut s = String::with_capacity(auth.key.len() + k.len() + 1);
        s.push_str(&auth.key);
        s.push('\n');
        s.push_str(k);
        s
    });

    let (exec, fault) = match begin(
        &sb,
        &parts.method,
        path,
        idem_key.as_deref(),
        scoped_key.as_deref(),
        fingerprint.as_ref(),
        prepared,
        &request_id,
    ) {
        Ok(x) => x,
        Err(response) => return *response,
    };
    let api_error = fault
        .as_ref()
        .is_some_and(|f| f.kind == FaultKind::ApiError);
    let (status, body, should_retry) = match fault.as_ref().filter(|f| f.kind == FaultKind::Delay) {
        // A slow request runs to its end even when the client gives up and closes the
        // connection, as at Stripe: its idempotency key is then answered, never left "in
        // flight" for good (a dropped handler would leave it so).
        Some(f) => {
            let delay = Duration::from_millis(f.delay_ms);
            let (sb, request_id, base) = (sb.clone(), request_id.clone(), base.clone());
            let (idem_key, scoped_key) = (idem_key.clone(), scoped_key.clone());
            let run = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                execute(
                    &sb,
                    exec,
                    api_error,
                    &request_id,
                    idem_key.as_deref(),
                    scoped_key.as_deref(),
                    &base,
                )
            });
            match run.await {
                Ok(answer) => answer,
                Err(_) => return dropped(),
            }
        }
        None => execute(
            &sb,
            exec,
            api_error,
            &request_id,
            idem_key.as_deref(),
            scoped_key.as_deref(),
            &base,
        ),
    };
    if fault
        .as_ref()
        .is_some_and(|f| f.kind == FaultKind::DropAfter)
    {
        return dropped();
    }
    let mut r = json_response(status, body, &request_id);
    if let Some(v) = idem_key
        .as_deref()
        .and_then(|k| HeaderValue::from_str(k).ok())
    {
        r.headers_mut().insert(IDEMPOTENCY_KEY.clone(), v);
    }
    if let Some(retry) = should_retry {
        r.headers_mut().insert(
            SHOULD_RETRY.clone(),
            HeaderValue::from_static(if retry { "true" } else { "false" }),
        );
    }
    r
}

/// Under the lock: faults that answer at once, the idempotency check (replay, mismatch,
/// in flight), validation failures; otherwise marks the key in flight.
#[allow(clippy::too_many_arguments)]
fn begin(
    sb: &Sandbox,
    method: &Method,
    path: &str,
    idem_key: Option<&str>,
    scoped_key: Option<&str>,
    fingerprint: Option<&[u8; 32]>,
    prepared: Result<api::Exec, ApiError>,
    request_id: &str,
) -> Result<(api::Exec, Option<crate::state::Fault>), Box<Response>> {
    let mut st = sb.shared.state.lock();
    let fault = if st.faults.is_empty() {
        None
    } else {
        st.take_fault(method.as_str(), path)
    };
    match fault.as_ref().map(|f| f.kind) {
        Some(FaultKind::RateLimit) => {
            return Err(Box::new(error_response(
                &ApiError::rate_limited(),
                request_id,
                idem_key,
            )));
        }
        Some(FaultKind::DropBefore) => return Err(Box::new(dropped())),
        _ => {}
    }
    if let (Some(sk), Some(fp), Some(k)) = (scoped_key, fingerprint, idem_key) {
        let now = st.now();
        if let Some(rec) = st.idempotency.get(sk) {
            let expired =
                rec.response.is_some() && now - rec.created >= crate::state::IDEMPOTENCY_TTL;
            if !expired {
                if rec.fingerprint != *fp {
                    let e = ApiError::new(
                        StatusCode::BAD_REQUEST,
                        ErrorType::IdempotencyError,
                        format!("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{k}' if you meant to execute a different request."),
                    );
                    return Err(Box::new(error_response(&e, request_id, idem_key)));
                }
                match &rec.response {
                    None => {
                        let mut e = ApiError::new(
                            StatusCode::CONFLICT,
                            ErrorType::InvalidRequestError,
                            format!("There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): {k}. Please try again later."),
                        )
                        .with_code(stripe_types::error::code::IDEMPOTENCY_KEY_IN_USE);
                        e.should_retry = Some(true);
                        return Err(Box::new(error_response(&e, request_id, idem_key)));
                    }
                    // A replay is an effect-free answer: a drop-after fault still loses it.
                    Some(_)
                        if matches!(fault.as_ref().map(|f| f.kind), Some(FaultKind::DropAfter)) =>
                    {
                        return Err(Box::new(dropped()));
                    }
                    Some(stored) => {
                        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
                        let mut r = json_response(status, stored.body.0.clone(), request_id);
                        let h = r.headers_mut();
                        h.insert(
                            IDEMPOTENT_REPLAYED.clone(),
                            HeaderValue::from_static("true"),
                        );
                        if let Ok(v) = HeaderValue::from_str(&stored.request_id) {
                            h.insert(ORIGINAL_REQUEST.clone(), v);
                        }
                        if let Ok(v) = HeaderValue::from_str(k) {
                            h.insert(IDEMPOTENCY_KEY.clone(), v);
                        }
                        if status.is_server_error() {
                            h.insert(SHOULD_RETRY.clone(), HeaderValue::from_static("false"));
                        }
                        return Err(Box::new(r));
                    }
                }
            }
        }
    }
    // Requests failing validation store nothing.
    let exec = prepared.map_err(|e| Box::new(error_response(&e, request_id, idem_key)))?;
    if let (Some(sk), Some(fp)) = (scoped_key, fingerprint) {
        let now = st.now();
        st.idempotency.insert(
            sk.to_owned(),
            IdemRecord {
                fingerprint: *fp,
                created: now,
                response: None,
            },
        );
    }
    Ok((exec, fault))
}

/// Under the lock: runs the operation and stores its result for the idempotency key.
fn execute(
    sb: &Sandbox,
    exec: api::Exec,
    api_error: bool,
    request_id: &str,
    idem_key: Option<&str>,
    scoped_key: Option<&str>,
    base: &str,
) -> (StatusCode, Bytes, Option<bool>) {
    let mut st = sb.shared.state.lock();
    let result = if api_error {
        Err(ApiError::internal())
    } else {
        let ctx = Ctx {
            now: st.now(),
            request_id: Some(request_id),
            idempotency_key: idem_key,
            base_url: base,
        };
        exec(&mut st, &ctx)
    };
    let (status, body, should_retry) = match result {
        Ok(body) => (StatusCode::OK, body, None),
        Err(e) => (e.status, e.to_json(request_id), e.should_retry),
    };
    if let Some(sk) = scoped_key {
        if let Some(rec) = st.idempotency.get_mut(sk) {
            rec.response = Some(StoredResponse {
                status: status.as_u16(),
                body: crate::util::JsonBytes(body.clone()),
                request_id: request_id.to_owned(),
            });
        }
        st.dirty = true;
    }
    let queued = std::mem::take(&mut st.deliveries_queued);
    let dirty = st.dirty;
    drop(st);
    if queued || dirty {
        sb.changed(queued);
    }
    (status, body, should_retry)
}
