//! When to retry a request, and how long to wait: pure functions, following stripe-node.
//!
//! - Retry network failures (no HTTP answer), `409 Conflict`, `429 Too Many Requests`
//!   (backing off; can be turned off) and every status `>= 500`.
//! - A `Stripe-Should-Retry: true|false` header overrides all of the above.
//! - Never retry other 4xx (a `402` card decline is final).
//! - At most `max_retries` retries (2 by default), except that a connection closed on the
//!   very first attempt (a stale keep-alive connection) is always retried once, as
//!   stripe-node does.
//! - Wait `initial · 2^(n-1)` capped at `max_delay`, times a jitter factor in
//!   `[0.5, 1.0]`, never less than `initial` (stripe-node's floor); a `Retry-After` of at
//!   most `max_retry_after` lengthens the wait.
//! - Stop when the wait would take the call past its total budget.
//!
//! The same `Idempotency-Key` is sent on every attempt; that is the client's job.

use std::time::Duration;

/// Retry settings. `RetryPolicy::default()` is stripe-node's behaviour with 2 retries.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff, and the floor of every backoff.
    pub initial_delay: Duration,
    /// The cap of the exponential backoff (before jitter).
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is ignored (stripe-node: 60 s).
    pub max_retry_after: Duration,
    /// No retry starts once the call (attempts plus waits) would exceed this.
    pub total_budget: Duration,
    /// Retry `429 Too Many Requests` with backoff (no header needed).
    pub retry_rate_limited: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
            total_budget: Duration::from_secs(120),
            retry_rate_limited: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all (still subject to the stale-connection rule).
    pub fn never() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }
}

/// How a request failed without an HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkFailure {
    /// The connection could not be opened: the request was certainly not sent.
    Connect,
    /// No complete answer in time: Stripe may have executed the request.
    Timeout,
    /// The connection was closed or reset before a complete answer: Stripe may have
    /// executed the request.
    ConnectionClosed,
    /// Any other transport failure.
    Other,
}

impl NetworkFailure {
    /// Whether the request might have reached Stripe (and been executed).
    pub fn may_have_been_sent(self) -> bool {
        !matches!(self, NetworkFailure::Connect)
    }
}

/// What one attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptOutcome {
    /// No HTTP answer.
    Network(NetworkFailure),
    /// An HTTP answer.
    Response {
        status: u16,
        /// `Stripe-Should-Retry`, when present and `true`/`false`.
        should_retry: Option<bool>,
        /// `Retry-After` in seconds, when present.
        retry_after: Option<Duration>,
    },
}

impl AttemptOutcome {
    /// A response with no retry headers.
    pub fn status(status: u16) -> Self {
        AttemptOutcome::Response {
            status,
            should_retry: None,
            retry_after: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The attempt succeeded (2xx/3xx).
    Success,
    /// The failure is final (e.g. 400, 402, 404).
    NotRetryable,
    /// Stripe said `Stripe-Should-Retry: false`.
    ShouldRetryFalse,
    /// `max_retries` retries were made already.
    RetriesExhausted,
    /// The next wait would exceed the total budget.
    BudgetExhausted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait `delay`, then send the same request again with the same idempotency key.
    Retry {
        delay: Duration,
    },
    Stop(StopReason),
}

/// Decides whether to retry after attempt number `attempt` (1 for the first request)
/// ended with `outcome`. `elapsed` is the time since the call started; `jitter` is a
/// random number in `[0, 1]` (values outside are clamped).
pub fn retry_decision(
    attempt: u32,
    outcome: &AttemptOutcome,
    policy: &RetryPolicy,
    elapsed: Duration,
    jitter: f64,
) -> RetryDecision {
    let mut retry_after = None;
    let stale_connection = matches!(
        outcome,
        AttemptOutcome::Network(NetworkFailure::ConnectionClosed)
    ) && attempt <= 1;

    match outcome {
        AttemptOutcome::Network(_) => {}
        AttemptOutcome::Response {
            status,
            should_retry,
            retry_after: after,
        } => {
            if *status < 400 {
                return RetryDecision::Stop(StopReason::Success);
            }
            retry_after = *after;
            match should_retry {
                Some(false) => return RetryDecision::Stop(StopReason::ShouldRetryFalse),
                Some(true) => {}
                None => {
                    let retryable = *status == 409
                        || *status >= 500
                        || (*status == 429 && policy.retry_rate_limited);
                    if !retryable {
                        return RetryDecision::Stop(StopReason::NotRetryable);
                    }
                }
            }
        }
    }

    if attempt > policy.max_retries && !stale_connection {
        return RetryDecision::Stop(StopReason::RetriesExhausted);
    }

    let mut delay = backoff(attempt.max(1), jitter, policy);
    if let Some(after) = retry_after {
        if after <= policy.max_retry_after {
            delay = delay.max(after);
        }
    }
    if elapsed.saturating_add(delay) > policy.total_budget {
        return RetryDecision::Stop(StopReason::BudgetExhausted);
    }
    RetryDecision::Retry { delay }
}

/// The wait before retry number `retry` (1 for the first retry):
/// `max(initial, min(initial · 2^(retry-1), max_delay) · (0.5 + 0.5 · jitter))`.
pub fn backoff(retry: u32, jitter: f64, policy: &RetryPolicy) -> Duration {
    let initial = policy.initial_delay.as_secs_f64();
    let exponent = retry.saturating_sub(1).min(62) as i32;
    let base = (initial * 2f64.powi(exponent)).min(policy.max_delay.as_secs_f64());
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        1.0
    };
    let seconds = (base * (0.5 + 0.5 * jitter)).max(initial);
    Duration::from_secs_f64(seconds)
}

/// Parses `Stripe-Should-Retry`.
pub fn parse_should_retry(value: &str) -> Option<bool> {
    match value.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Parses `Retry-After` given in whole seconds (HTTP dates are ignored).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: Duration = Duration::ZERO;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    fn with_header(status: u16, should_retry: bool) -> AttemptOutcome {
        AttemptOutcome::Response {
            status,
            should_retry: Some(should_retry),
            retry_after: None,
        }
    }

    fn retries(d: RetryDecision) -> bool {
        matches!(d, RetryDecision::Retry { .. })
    }

    #[test]
    fn retries_5xx_409_and_network_errors() {
        for status in [500, 502, 503, 504, 409] {
            assert!(
                retries(retry_decision(
                    1,
                    &AttemptOutcome::status(status),
                    &policy(),
                    ZERO,
                    0.5
                )),
                "{status}"
            );
        }
        for failure in [
            NetworkFailure::Connect,
            NetworkFailure::Timeout,
            NetworkFailure::ConnectionClosed,
            NetworkFailure::Other,
        ] {
            assert!(retries(retry_decision(
                1,
                &AttemptOutcome::Network(failure),
                &policy(),
                ZERO,
                0.5
            )));
        }
    }

    #[test]
    fn never_retries_other_4xx() {
        for status in [400, 401, 402, 403, 404] {
            assert_eq!(
                retry_decision(1, &AttemptOutcome::status(status), &policy(), ZERO, 0.5),
                RetryDecision::Stop(StopReason::NotRetryable),
                "{status}"
            );
        }
    }

    #[test]
    fn success_is_never_retried() {
        assert_eq!(
            retry_decision(1, &AttemptOutcome::status(200), &policy(), ZERO, 0.5),
            RetryDecision::Stop(StopReason::Success)
        );
        assert_eq!(
            retry_decision(1, &with_header(200, true), &policy(), ZERO, 0.5),
            RetryDecision::Stop(StopReason::Success)
        );
    }

    #[test]
    fn should_retry_header_wins() {
        // `true` makes a 400 retryable…
        assert!(retries(retry_decision(
            1,
            &with_header(400, true),
            &policy(),
            ZERO,
            0.5
        )));
        assert!(retries(retry_decision(
            1,
            &with_header(402, true),
            &policy(),
            ZERO,
            0.5
        )));
        // …and `false` stops a 503, a 409 and a 429.
        for status in [503, 500, 409, 429] {
            assert_eq!(
                retry_decision(1, &with_header(status, false), &policy(), ZERO, 0.5),
                RetryDecision::Stop(StopReason::ShouldRetryFalse),
                "{status}"
            );
        }
    }

    #[test]
    fn rate_limits_back_off_unless_disabled() {
        let d = retry_decision(1, &AttemptOutcome::status(429), &policy(), ZERO, 0.0);
        assert_eq!(
            d,
            RetryDecision::Retry {
                delay: Duration::from_millis(500)
            }
        );
        let strict = RetryPolicy {
            retry_rate_limited: false,
            ..policy()
        };
        assert_eq!(
            retry_decision(1, &AttemptOutcome::status(429), &strict, ZERO, 0.0),
            RetryDecision::Stop(StopReason::NotRetryable)
        );
        // The header still wins over the setting.
        assert!(retries(retry_decision(
            1,
            &with_header(429, true),
            &strict,
            ZERO,
            0.0
        )));
    }

    #[test]
    fn max_retries_reached_stops() {
        let p = policy(); // 2 retries: attempts 1 and 2 may be retried, attempt 3 not.
        let outcome = AttemptOutcome::status(503);
        assert!(retries(retry_decision(1, &outcome, &p, ZERO, 0.5)));
        assert!(retries(retry_decision(2, &outcome, &p, ZERO, 0.5)));
        assert_eq!(
            retry_decision(3, &outcome, &p, ZERO, 0.5),
            RetryDecision::Stop(StopReason::RetriesExhausted)
        );
        assert_eq!(
            retry_decision(3, &with_header(400, true), &p, ZERO, 0.5),
            RetryDecision::Stop(StopReason::RetriesExhausted)
        );
        assert_eq!(
            retry_decision(1, &outcome, &RetryPolicy::never(), ZERO, 0.5),
            RetryDecision::Stop(StopReason::RetriesExhausted)
        );
    }

    #[test]
    fn stale_connection_on_first_attempt_is_retried_even_without_retries() {
        let closed = AttemptOutcome::Network(NetworkFailure::ConnectionClosed);
        let never = RetryPolicy::never();
        assert!(retries(retry_decision(1, &closed, &never, ZERO, 0.5)));
        assert_eq!(
            retry_decision(2, &closed, &never, ZERO, 0.5),
            RetryDecision::Stop(StopReason::RetriesExhausted)
        );
        assert_eq!(
            retry_decision(
                1,
                &AttemptOutcome::Network(NetworkFailure::Timeout),
                &never,
                ZERO,
                0.5
            ),
            RetryDecision::Stop(StopReason::RetriesExhausted)
        );
    }

    #[test]
    fn backoff_doubles_with_cap_jitter_and_floor() {
        let p = policy();
        let ms = |retry, jitter| backoff(retry, jitter, &p).as_millis();
        // Retry 1: 0.5 s · [0.5, 1] floored at 0.5 s.
        assert_eq!(ms(1, 0.0), 500);
        assert_eq!(ms(1, 1.0), 500);
        // Retry 2: 1 s · [0.5, 1].
        assert_eq!(ms(2, 0.0), 500);
        assert_eq!(ms(2, 0.5), 750);
        assert_eq!(ms(2, 1.0), 1000);
        // Retry 3: 2 s · [0.5, 1].
        assert_eq!(ms(3, 0.0), 1000);
        assert_eq!(ms(3, 1.0), 2000);
        // Retry 4: 4 s; retry 5: 8 s capped at 5 s.
        assert_eq!(ms(4, 1.0), 4000);
        assert_eq!(ms(5, 0.0), 2500);
        assert_eq!(ms(5, 1.0), 5000);
        assert_eq!(ms(40, 1.0), 5000);
        assert_eq!(ms(u32::MAX, 1.0), 5000);
        // Out-of-range jitter is clamped.
        assert_eq!(ms(3, -4.0), 1000);
        assert_eq!(ms(3, 9.0), 2000);
        assert_eq!(ms(3, f64::NAN), 2000);
    }

    #[test]
    fn backoff_bounds_hold_for_all_retries_and_jitters() {
        let p = policy();
        for retry in 1..=20 {
            for step in 0..=20 {
                let jitter = step as f64 / 20.0;
                let d = backoff(retry, jitter, &p);
                assert!(d >= p.initial_delay, "{retry} {jitter} {d:?}");
                assert!(d <= p.max_delay, "{retry} {jitter} {d:?}");
                let full = (p.initial_delay.as_secs_f64() * 2f64.powi(retry as i32 - 1))
                    .min(p.max_delay.as_secs_f64());
                assert!(d.as_secs_f64() >= (full * 0.5).max(0.5) - 1e-9);
                assert!(d.as_secs_f64() <= full.max(0.5) + 1e-9);
            }
        }
    }

    #[test]
    fn retry_after_lengthens_the_wait_up_to_a_limit() {
        let with_after = |secs| AttemptOutcome::Response {
            status: 503,
            should_retry: None,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(
            retry_decision(1, &with_after(3), &policy(), ZERO, 0.0),
            RetryDecision::Retry {
                delay: Duration::from_secs(3)
            }
        );
        // Shorter than the backoff: the backoff wins.
        assert_eq!(
            retry_decision(2, &with_after(0), &policy(), ZERO, 1.0),
            RetryDecision::Retry {
                delay: Duration::from_secs(1)
            }
        );
        // Beyond 60 s it is ignored.
        assert_eq!(
            retry_decision(1, &with_after(3600), &policy(), ZERO, 0.0),
            RetryDecision::Retry {
                delay: Duration::from_millis(500)
            }
        );
    }

    #[test]
    fn total_budget_bounds_the_call() {
        let p = RetryPolicy {
            total_budget: Duration::from_secs(10),
            ..policy()
        };
        let outcome = AttemptOutcome::status(500);
        assert!(retries(retry_decision(
            1,
            &outcome,
            &p,
            Duration::from_secs(9),
            0.0
        )));
        assert_eq!(
            retry_decision(1, &outcome, &p, Duration::from_millis(9_600), 0.0),
            RetryDecision::Stop(StopReason::BudgetExhausted)
        );
        let slow = AttemptOutcome::Response {
            status: 503,
            should_retry: None,
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(
            retry_decision(1, &slow, &p, ZERO, 0.0),
            RetryDecision::Stop(StopReason::BudgetExhausted)
        );
    }

    #[test]
    fn header_parsing() {
        assert_eq!(parse_should_retry("true"), Some(true));
        assert_eq!(parse_should_retry(" false "), Some(false));
        assert_eq!(parse_should_retry("yes"), None);
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn may_have_been_sent() {
        assert!(!NetworkFailure::Connect.may_have_been_sent());
        assert!(NetworkFailure::Timeout.may_have_been_sent());
        assert!(NetworkFailure::ConnectionClosed.may_have_been_sent());
    }
}
