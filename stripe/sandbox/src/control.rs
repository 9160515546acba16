//! The test-control API under `/_sandbox/...` (JSON in, JSON out). Not part of Stripe's
//! surface and not authenticated: the sandbox is meant for loopback use only.

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use stripe_types::{Currency, DisputeReason, DisputeStatus};

use crate::api::{disputes, payments, payouts, refunds};
use crate::error::{ApiError, ApiResult};
use crate::http::{error_response, json_response, new_request_id};
use crate::state::{Ctx, Fault, FaultKind, State};
use crate::util::new_id;
use crate::{webhooks, Sandbox};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/reset", post(reset))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/webhooks", get(get_controls).post(set_controls))
        .route("/webhooks/pause", post(pause))
        .route("/webhooks/resume", post(resume))
        .route("/webhooks/flush", post(flush))
        .route("/webhook_endpoints", get(list_endpoints).post(add_endpoint))
        .route("/webhook_endpoints/{id}", delete(remove_endpoint))
        .route("/deliveries", get(list_deliveries))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/charges/{id}/dispute", post(trigger_dispute))
        .route("/charges/{id}/early_fraud_warning", post(trigger_efw))
        .route("/disputes/{id}/{outcome}", post(decide_dispute))
        .route("/payouts", post(create_payout))
        .route("/payouts/{id}/{outcome}", post(settle_payout))
        .route("/refunds/{id}/fail", post(fail_refund))
        .route("/persist", post(persist))
}

fn ok(v: Value) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(&v).expect("json"),
        &new_request_id(),
    )
}

fn err(e: ApiError) -> Response {
    error_response(&e, &new_request_id(), None)
}

fn parse<T: DeserializeOwned + Default>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("Invalid JSON body: {e}")))
}

/// Runs a trigger under the lock with a context, then wakes the dispatcher.
fn trigger<T>(sb: &Sandbox, f: impl FnOnce(&mut State, &Ctx) -> ApiResult<T>) -> ApiResult<T> {
    let base = sb
        .shared
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:12111".to_owned());
    let mut st = sb.shared.state.lock();
    let ctx = Ctx {
        now: st.now(),
        request_id: None,
        idempotency_key: None,
        base_url: &base,
    };
    let r = f(&mut st, &ctx);
    let queued = std::mem::take(&mut st.deliveries_queued);
    st.dirty = true;
    drop(st);
    sb.changed(queued);
    r
}

#[derive(Deserialize)]
#[serde(default)]
struct ResetBody {
    keep_endpoints: bool,
}

impl Default for ResetBody {
    fn default() -> Self {
        ResetBody {
            keep_endpoints: true,
        }
    }
}

async fn reset(AxState(sb): AxState<Sandbox>, body: Bytes) -> Response {
    let b: ResetBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    sb.shared.state.lock().reset(b.keep_endpoints);
    sb.changed(false);
    ok(json!({"reset": true}))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FaultBody {
    kind: Option<FaultKind>,
    count: Option<u32>,
    delay_ms: Option<u64>,
    path_prefix: Option<String>,
    method: Option<String>,
}

fn faults_json(st: &State) -> Value {
    json!({"object": "list", "data": st.faults})
}

async fn list_faults(AxState(sb): AxState<Sandbox>) -> Response {
    ok(faults_json(&sb.shared.state.lock()))
}

async fn add_fault(AxState(sb): AxState<Sandbox>, body: Bytes) -> Response {
    let b: FaultBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let Some(kind) = b.kind else {
        return err(ApiError::missing_param("kind").with_param("kind"));
    };
    if kind == FaultKind::Delay && b.delay_ms.is_none() {
        return err(ApiError::missing_param("delay_ms"));
    }
    let fault = Fault {
        id: new_id("fault"),
        kind,
        remaining: b.count.unwrap_or(1).max(1),
        delay_ms: b.delay_ms.unwrap_or(0),
        path_prefix: b.path_prefix,
        method: b.method,
    };
    let v = serde_json::to_value(&fault).expect("json");
    sb.shared.state.lock().faults.push(fault);
    ok(v)
}

async fn clear_faults(AxState(sb): AxState<Sandbox>) -> Response {
    let mut st = sb.shared.state.lock();
    st.faults.clear();
    ok(faults_json(&st))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ControlsBody {
    paused: Option<bool>,
    duplicate: Option<bool>,
    delay_ms: Option<u64>,
    reverse: Option<bool>,
    parallel: Option<u32>,
}

async fn get_controls(AxState(sb): AxState<Sandbox>) -> Response {
    ok(serde_json::to_value(&sb.shared.state.lock().webhook_controls).expect("json"))
}

async fn set_controls(AxState(sb): AxState<Sandbox>, body: Bytes) -> Response {
    let b: ControlsBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let v = {
        let mut st = sb.shared.state.lock();
        let c = &mut st.webhook_controls;
        if let Some(x) = b.paused {
            c.paused = x;
        }
        if let Some(x) = b.duplicate {
            c.duplicate = x;
        }
        if let Some(x) = b.delay_ms {
            c.delay_ms = x;
        }
        if let Some(x) = b.reverse {
            c.reverse = x;
        }
        if let Some(x) = b.parallel {
            c.parallel = x.clamp(1, 256);
        }
        st.dirty = true;
        serde_json::to_value(&st.webhook_controls).expect("json")
    };
    sb.changed(true);
    ok(v)
}

async fn pause(AxState(sb): AxState<Sandbox>) -> Response {
    sb.shared.state.lock().webhook_controls.paused = true;
    sb.changed(false);
    ok(json!({"paused": true}))
}

async fn resume(AxState(sb): AxState<Sandbox>) -> Response {
    sb.shared.state.lock().webhook_controls.paused = false;
    sb.changed(true);
    ok(json!({"paused": false}))
}

async fn flush(AxState(sb): AxState<Sandbox>) -> Response {
    webhooks::dispatch_due(&sb).await;
    list_deliveries(AxState(sb), Query(DeliveryQuery::default())).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EndpointBody {
    url: Option<String>,
    secret: Option<String>,
    enabled_events: Option<Vec<String>>,
}

async fn list_endpoints(AxState(sb): AxState<Sandbox>) -> Response {
    let st = sb.shared.state.lock();
    let data: Vec<Value> = st
        .endpoints
        .iter()
        .map(|e| json!({"id": e.id, "object": "webhook_endpoint", "url": e.url, "enabled_events": e.enabled_events, "created": e.created}))
        .collect();
    ok(json!({"object": "list", "data": data}))
}

async fn add_endpoint(AxState(sb): AxState<Sandbox>, body: Bytes) -> Response {
    let b: EndpointBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let Some(url) = b
        .url
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    else {
        return err(ApiError::invalid_param(
            "url",
            "`url` must be an http(s) URL.",
        ));
    };
    let secret = b.secret.unwrap_or_else(|| new_id("whsec"));
    let id = {
        let mut st = sb.shared.state.lock();
        webhooks::upsert_endpoint(&mut st, &url, &secret, b.enabled_events)
    };
    sb.changed(false);
    ok(json!({"id": id, "object": "webhook_endpoint", "url": url, "secret": secret}))
}

async fn remove_endpoint(AxState(sb): AxState<Sandbox>, Path(id): Path<String>) -> Response {
    let removed = {
        let mut st = sb.shared.state.lock();
        let before = st.endpoints.len();
        st.endpoints.retain(|e| e.id != id);
        st.dirty = true;
        before != st.endpoints.len()
    };
    sb.changed(false);
    if removed {
        ok(json!({"id": id, "object": "webhook_endpoint", "deleted": true}))
    } else {
        err(ApiError::not_found("webhook_endpoint", &id))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeliveryQuery {
    event: Option<String>,
    event_type: Option<String>,
    endpoint: Option<String>,
    status: Option<String>,
}

async fn list_deliveries(
    AxState(sb): AxState<Sandbox>,
    Query(q): Query<DeliveryQuery>,
) -> Response {
    let st = sb.shared.state.lock();
    let data: Vec<&crate::state::Delivery> = st
        .deliveries
        .iter()
        .filter(|d| q.event.as_deref().is_none_or(|e| d.event_id == e))
        .filter(|d| q.event_type.as_deref().is_none_or(|e| d.event_type == e))
        .filter(|d| {
            q.endpoint
                .as_deref()
                .is_none_or(|e| d.endpoint_id == e || d.url == e)
        })
        .filter(|d| {
            q.status.as_deref().is_none_or(|s| {
                serde_json::to_value(d.status)
                    .ok()
                    .and_then(|v| v.as_str().map(|x| x == s))
                    == Some(true)
            })
        })
        .collect();
    ok(json!({"object": "list", "data": data}))
}

async fn clock(AxState(sb): AxState<Sandbox>) -> Response {
    let st = sb.shared.state.lock();
    ok(json!({"now": st.now(), "offset": st.clock_offset}))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AdvanceBody {
    seconds: i64,
}

async fn advance(AxState(sb): AxState<Sandbox>, body: Bytes) -> Response {
    let b: AdvanceBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    if b.seconds < 0 {
        return err(ApiError::invalid_param(
            "seconds",
            "The clock only moves forward.",
        ));
    }
    webhooks::advance_clock(&sb, b.seconds).await;
    clock(AxState(sb)).await
}

/// A charge id, or a PaymentIntent id standing for its latest charge.
fn charge_of(st: &State, id: &str) -> ApiResult<String> {
    if id.starts_with("pi_") {
        let pi = st
            .payment_intents
            .get(id)
            .ok_or_else(|| ApiError::not_found("payment_intent", id))?;
        return pi
            .latest_charge
            .clone()
            .ok_or_else(|| ApiError::invalid(format!("PaymentIntent {id} has no charge.")));
    }
    Ok(id.to_owned())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DisputeBody {
    reason: Option<String>,
    /// `needs_response` (default) or `warning_needs_response` (an inquiry).
    status: Option<String>,
    amount: Option<i64>,
}

async fn trigger_dispute(
    AxState(sb): AxState<Sandbox>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let b: DisputeBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let reason = match b.reason.as_deref() {
        None => DisputeReason::Fraudulent,
        Some(r) => match DisputeReason::parse(r) {
            Some(r) => r,
            None => {
                return err(ApiError::invalid_param(
                    "reason",
                    format!("Unknown dispute reason `{r}`."),
                ))
            }
        },
    };
    let status = match b.status.as_deref() {
        None | Some("needs_response") => DisputeStatus::NeedsResponse,
        Some("warning_needs_response") => DisputeStatus::WarningNeedsResponse,
        Some(s) => {
            return err(ApiError::invalid_param(
                "status",
                format!(
                    "A new dispute is `needs_response` or `warning_needs_response`, not `{s}`."
                ),
            ))
        }
    };
    let r = trigger(&sb, |st, ctx| {
        let charge = charge_of(st, &id)?;
        let dp = payments::open_dispute(st, ctx, &charge, reason, status, b.amount)?;
        Ok(st.object_json(&dp).unwrap_or_default())
    });
    match r {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EfwBody {
    fraud_type: Option<String>,
}

async fn trigger_efw(
    AxState(sb): AxState<Sandbox>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let b: EfwBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let r = trigger(&sb, |st, ctx| {
        let charge = charge_of(st, &id)?;
        let fraud_type = b.fraud_type.as_deref().unwrap_or("made_with_stolen_card");
        let efw = payments::create_efw(st, ctx, &charge, fraud_type)?;
        Ok(st.object_json(&efw).unwrap_or_default())
    });
    match r {
        Ok(v) => ok(v),
        Err(e) => err(e),
    }
}

async fn decide_dispute(
    AxState(sb): AxState<Sandbox>,
    Path((id, outcome)): Path<(String, String)>,
) -> Response {
    let won = match outcome.as_str() {
        "win" | "won" => true,
        "lose" | "lost" => false,
        _ => {
            return err(ApiError::unrecognized_url(
                "POST",
                &format!("/_sandbox/disputes/{id}/{outcome}"),
            ))
        }
    };
    match trigger(&sb, |st, ctx| disputes::decide(st, ctx, &id, won)) {
        Ok(d) => ok(serde_json::to_value(d).expect("json")),
        Err(e) => err(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PayoutBody {
    amount: Option<i64>,
    currency: Option<String>,
    failure_code: Option<String>,
}

async fn create_payout(AxState(sb): AxState<Sandbox>, body: Bytes) -> Response {
    let b: PayoutBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let currency: Currency = match b.currency.as_deref().unwrap_or("usd").parse() {
        Ok(c) => c,
        Err(_) => return err(ApiError::invalid_param("currency", "Invalid currency.")),
    };
    match trigger(&sb, |st, ctx| payouts::create(st, ctx, b.amount, currency)) {
        Ok(p) => ok(serde_json::to_value(p).expect("json")),
        Err(e) => err(e),
    }
}

async fn settle_payout(
    AxState(sb): AxState<Sandbox>,
    Path((id, outcome)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let b: PayoutBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let outcome = match outcome.as_str() {
        "in_transit" => payouts::PayoutOutcome::InTransit,
        "paid" => payouts::PayoutOutcome::Paid,
        "failed" => payouts::PayoutOutcome::Failed(
            b.failure_code
                .unwrap_or_else(|| "account_closed".to_owned()),
        ),
        "canceled" | "cancel" => payouts::PayoutOutcome::Canceled,
        _ => {
            return err(ApiError::unrecognized_url(
                "POST",
                &format!("/_sandbox/payouts/{id}/{outcome}"),
            ))
        }
    };
    match trigger(&sb, |st, ctx| payouts::settle(st, ctx, &id, outcome)) {
        Ok(p) => ok(serde_json::to_value(p).expect("json")),
        Err(e) => err(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RefundFailBody {
    failure_reason: Option<String>,
}

async fn fail_refund(
    AxState(sb): AxState<Sandbox>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let b: RefundFailBody = match parse(&body) {
        Ok(b) => b,
        Err(e) => return err(e),
    };
    let reason = b
        .failure_reason
        .unwrap_or_else(|| "expired_or_canceled_card".to_owned());
    if !refunds::FAILURE_REASONS.contains(&reason.as_str()) {
        return err(ApiError::invalid_param(
            "failure_reason",
            format!(
                "Invalid failure_reason `{reason}`: must be one of {}.",
                refunds::FAILURE_REASONS.join(", ")
            ),
        ));
    }
    match trigger(&sb, |st, ctx| refunds::fail(st, ctx, &id, &reason)) {
        Ok(r) => ok(serde_json::to_value(r).expect("json")),
        Err(e) => err(e),
    }
}

async fn persist(AxState(sb): AxState<Sandbox>) -> Response {
    match sb.persist().await {
        Ok(()) => ok(json!({"persisted": sb.shared.config.state_file.is_some()})),
        Err(e) => err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            stripe_types::ErrorType::ApiError,
            format!("Writing the state file failed: {e}"),
        )),
    }
}
