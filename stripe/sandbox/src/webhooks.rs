//! Webhook delivery: signing, the dispatcher, retries with exponential backoff on the
//! sandbox clock, and the delivery controls (pause, duplicate, delay, reverse order).

use std::collections::BTreeMap;
use std::time::Duration;

use stripe_types::webhook_signature;

use crate::api::{disputes, refunds};
use crate::state::{Attempt, Ctx, DeliveryStatus, Endpoint, State};
use crate::util::{new_id, real_now};
use crate::Sandbox;

/// Deliveries are retried for up to three days, like Stripe.
pub const GIVE_UP_AFTER: i64 = 3 * 24 * 3600;

/// `hex(HMAC-SHA256(secret, "{t}.{body}"))`, the `v1` of a `Stripe-Signature` header
/// (computed by `stripe_types::webhook_signature`, shared with the client).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    webhook_signature::v1(secret, timestamp, body)
}

/// `t=<timestamp>,v1=<signature>`.
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    webhook_signature::header(secret, timestamp, body)
}

/// Delay before retry number `n` (1 = first retry): 1 min, 2, 4, … capped at 12 h.
pub fn backoff(n: usize) -> i64 {
    let exp = n.saturating_sub(1).min(20) as u32;
    (60i64 << exp).min(12 * 3600)
}

pub fn upsert_endpoint(
    st: &mut State,
    url: &str,
    secret: &str,
    events: Option<Vec<String>>,
) -> String {
    if let Some(e) = st.endpoints.iter_mut().find(|e| e.url == url) {
        e.secret = secret.to_owned();
        if let Some(ev) = events {
            e.enabled_events = ev;
        }
        return e.id.clone();
    }
    let id = new_id("we");
    st.endpoints.push(Endpoint {
        id: id.clone(),
        url: url.to_owned(),
        secret: secret.to_owned(),
        enabled_events: events.unwrap_or_else(|| vec!["*".to_owned()]),
        created: st.now(),
    });
    st.dirty = true;
    id
}

struct Job {
    delivery: String,
    url: String,
    secret: String,
    body: Vec<u8>,
}

/// Sends every due delivery (unless paused) and waits for the attempts. Deliveries of one
/// endpoint go out one after another, oldest first (newest first when `reverse` is set),
/// or in `parallel` lanes at once.
pub async fn dispatch_due(sb: &Sandbox) {
    let gate = sb.shared.dispatch_lock.lock().await;
    let (jobs, controls) = {
        let mut st = sb.shared.state.lock();
        if st.webhook_controls.paused {
            return;
        }
        let now = st.now();
        let controls = st.webhook_controls.clone();
        let due = st.due_deliveries(now);
        let mut jobs = Vec::with_capacity(due.len());
        for id in due {
            let d = st.deliveries.get(&id).expect("listed");
            let next = d.next_attempt_at;
            let endpoint = st.endpoints.iter().find(|e| e.id == d.endpoint_id).cloned();
            let event = st
                .events
                .get(&d.event_id)
                .and_then(|e| serde_json::to_vec(e).ok());
            match (endpoint, event) {
                (Some(ep), Some(body)) => {
                    // The time stays: a snapshot taken now reloads it as pending, due.
                    st.set_delivery(&id, DeliveryStatus::Delivering, next);
                    jobs.push(Job {
                        delivery: id,
                        url: ep.url,
                        secret: ep.secret,
                        body,
                    });
                }
                _ => {
                    // Endpoint removed (or event gone after a reset): nothing to deliver to.
                    st.set_delivery(&id, DeliveryStatus::Failed, None);
                }
            }
        }
        if controls.reverse {
            jobs.reverse();
        }
        (jobs, controls)
    };
    let (duplicate, delay) = (controls.duplicate, controls.delay_ms);
    if jobs.is_empty() {
        return;
    }
    let mut by_endpoint: BTreeMap<String, Vec<Job>> = BTreeMap::new();
    for j in jobs {
        by_endpoint.entry(j.url.clone()).or_default().push(j);
    }
    // Each endpoint's deliveries in `parallel` lanes, dealt in turn: one lane keeps them
    // in order.
    let lanes = controls.parallel.max(1) as usize;
    let mut handles = Vec::new();
    for (_, jobs) in by_endpoint {
        let mut lane_jobs: Vec<Vec<Job>> = (0..lanes.min(jobs.len())).map(|_| Vec::new()).collect();
        for (i, job) in jobs.into_iter().enumerate() {
            let n = lane_jobs.len();
            lane_jobs[i % n].push(job);
        }
        for jobs in lane_jobs {
            let sb = sb.clone();
            handles.push(tokio::spawn(async move {
                for job in jobs {
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                    }
                    let first = send(&sb, &job, false).await;
                    if duplicate {
                        let _ = send(&sb, &job, true).await;
                    }
                    record(&sb, &job.delivery, first);
                }
            }));
        }
    }
    for h in handles {
        let _ = h.await;
    }
    drop(gate);
    sb.changed(false);
    // Events queued while this batch went out: the dispatcher looks again now rather
    // than at its next tick.
    if due_now(sb) {
        sb.shared.dispatch_notify.notify_one();
    }
}

/// One HTTP attempt; records it and returns the outcome.
async fn send(sb: &Sandbox, job: &Job, duplicate: bool) -> Result<u16, String> {
    let t = real_now();
    let sig = signature_header(&job.secret, t, &job.body);
    let res = sb
        .shared
        .http
        .post(&job.url)
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", sig)
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("cache-control", "no-cache")
        .header("accept", "*/*; q=0.5, application/xml")
        .body(job.body.clone())
        .send()
        .await;
    let outcome = match res {
        Ok(r) => {
            let status = r.status().as_u16();
            // Read (and discard) the answer so the connection can be reused.
            let _ = r.bytes().await;
            Ok(status)
        }
        Err(e) => Err(if e.is_timeout() {
            "timed out".to_owned()
        } else if e.is_connect() {
            format!("connection failed: {e}")
        } else {
            e.to_string()
        }),
    };
    let mut st = sb.shared.state.lock();
    let at = st.now();
    if let Some(d) = st.deliveries.get_mut(&job.delivery) {
        d.attempts.push(Attempt {
            at,
            signature_timestamp: t,
            http_status: outcome.as_ref().ok().copied(),
            error: outcome.as_ref().err().cloned(),
            duplicate,
        });
    }
    outcome
}

fn record(sb: &Sandbox, delivery: &str, outcome: Result<u16, String>) {
    let mut st = sb.shared.state.lock();
    let now = st.now();
    let Some(d) = st.deliveries.get(delivery) else {
        return;
    };
    let ok = matches!(outcome, Ok(s) if (200..300).contains(&s));
    let event_id = d.event_id.clone();
    let (status, next) = if ok {
        (DeliveryStatus::Succeeded, None)
    } else {
        let tries = d.attempts.iter().filter(|a| !a.duplicate).count();
        let next = now + backoff(tries);
        if next - d.created > GIVE_UP_AFTER {
            (DeliveryStatus::Failed, None)
        } else {
            (DeliveryStatus::Pending, Some(next))
        }
    };
    st.set_delivery(delivery, status, next);
    let finished = status != DeliveryStatus::Pending;
    if finished {
        if let Some(e) = st.events.get_mut(&event_id) {
            e.pending_webhooks = e.pending_webhooks.saturating_sub(1);
        }
    }
    st.dirty = true;
}

/// Earliest time a dispute or refund timer is due.
fn next_timer(st: &State) -> Option<i64> {
    match (disputes::next_timer(st), refunds::next_timer(st)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Earliest time something scheduled happens (a delivery attempt, a dispute or refund timer).
/// A delivery (unless paused) or a timer is due now.
fn due_now(sb: &Sandbox) -> bool {
    let st = sb.shared.state.lock();
    next_due(&st).is_some_and(|t| t <= st.now())
}

fn next_due(st: &State) -> Option<i64> {
    let deliveries = if st.webhook_controls.paused {
        None
    } else {
        st.next_delivery_at()
    };
    match (deliveries, next_timer(st)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn run_timers(sb: &Sandbox) {
    let mut st = sb.shared.state.lock();
    if next_timer(&st).is_none_or(|t| t > st.now()) {
        return;
    }
    let now = st.now();
    let base = sb
        .shared
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:12111".to_owned());
    let ctx = Ctx {
        now,
        request_id: None,
        idempotency_key: None,
        base_url: &base,
    };
    disputes::run_timers(&mut st, &ctx);
    refunds::run_timers(&mut st, &ctx);
    let queued = std::mem::take(&mut st.deliveries_queued);
    drop(st);
    sb.changed(queued);
}

/// Moves the clock forward by `seconds`, stopping at every scheduled time on the way so
/// that retries and deadlines fire in order, as if the time had really passed.
pub async fn advance_clock(sb: &Sandbox, seconds: i64) {
    let target = sb.shared.state.lock().now() + seconds.max(0);
    for _ in 0..10_000 {
        let step = {
            let mut st = sb.shared.state.lock();
            match next_due(&st).filter(|t| *t <= target) {
                None => None,
                Some(t) => {
                    let now = st.now();
                    if t > now {
                        st.clock_offset += t - now;
                    }
                    st.dirty = true;
                    Some(t)
                }
            }
        };
        if step.is_none() {
            break;
        }
        run_timers(sb);
        dispatch_due(sb).await;
    }
    {
        let mut st = sb.shared.state.lock();
        let now = st.now();
        if target > now {
            st.clock_offset += target - now;
        }
        st.prune_idempotency(target);
        st.dirty = true;
    }
    run_timers(sb);
    dispatch_due(sb).await;
    sb.changed(false);
}

/// The background loop: wakes on new deliveries or every 250 ms, runs timers and sends
/// what is due.
pub async fn run_dispatcher(sb: Sandbox) {
    let mut stop = sb.shared.stop.subscribe();
    loop {
        tokio::select! {
            _ = sb.shared.dispatch_notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        run_timers(&sb);
        let due = due_now(&sb);
        // A batch already under way picks up nothing new; look again at the next tick.
        let busy = sb.shared.dispatch_lock.try_lock().is_err();
        if due && !busy {
            let sb2 = sb.clone();
            tokio::spawn(async move { dispatch_due(&sb2).await });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // HMAC-SHA256(key="whsec_test", msg="1700000000.{}"), computed independently
        // (Python's hmac module).
        let sig = sign("whsec_test", 1_700_000_000, b"{}");
        assert_eq!(
            sig,
            "35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
        assert_eq!(
            signature_header("whsec_test", 1_700_000_000, b"{}"),
            format!("t=1700000000,v1={sig}")
        );
        assert_ne!(sig, sign("whsec_other", 1_700_000_000, b"{}"));
        assert_ne!(sig, sign("whsec_test", 1_700_000_001, b"{}"));
    }

    #[test]
    fn backoff_grows_and_gives_up_after_three_days() {
        assert_eq!(backoff(1), 60);
        assert_eq!(backoff(2), 120);
        assert_eq!(backoff(3), 240);
        assert_eq!(backoff(30), 12 * 3600);
        let mut t = 0;
        let mut attempts = 1;
        while t + backoff(attempts) <= GIVE_UP_AFTER {
            t += backoff(attempts);
            attempts += 1;
        }
        assert!((10..30).contains(&attempts), "{attempts}");
    }
}
