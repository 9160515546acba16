//! Webhook signature verification (`Stripe-Signature`), done on the raw body bytes
//! before any JSON parsing.
//!
//! `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=<hex>]` where
//! `v1 = hex(HMAC-SHA256(key = endpoint secret, msg = "{t}.{raw body}"))`. The event is
//! accepted when ANY `v1` matches ANY configured secret (several appear while a secret is
//! rolled), compared in constant time, and `|now − t|` is within the tolerance.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stripe_types::webhook_signature;
use subtle::ConstantTimeEq;

use crate::resources::Event;
use crate::secret::WebhookSecret;

/// Stripe's default tolerance between the signature's timestamp and now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The name of the signature header.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

/// Why a webhook was refused. Answer it with 400; never log the secret (these messages
/// do not contain it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the Stripe-Signature header is missing or empty")]
    MissingHeader,
    #[error("the Stripe-Signature header has no timestamp (t=…)")]
    MissingTimestamp,
    #[error("the Stripe-Signature header has no v1 signature")]
    MissingSignature,
    #[error("malformed Stripe-Signature header: {0}")]
    MalformedHeader(&'static str),
    #[error("no webhook secret is configured")]
    NoSecret,
    #[error("no v1 signature matches the payload")]
    SignatureMismatch,
    /// The timestamp is `age_secs` old (negative: in the future) and the tolerance is
    /// `tolerance_secs`.
    #[error(
        "the signature timestamp is outside the tolerance ({age_secs} s from now, allowed {tolerance_secs} s): a replay, or a clock problem"
    )]
    TimestampOutsideTolerance { age_secs: i64, tolerance_secs: u64 },
    /// The signature is valid but the body is not a Stripe event.
    #[error("the signed payload is not a valid event: {0}")]
    InvalidPayload(String),
}

/// A parsed `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    /// `t` exactly as sent (the signed message uses this text).
    pub timestamp_raw: &'a str,
    pub timestamp: i64,
    /// Every `v1` value, decoded (32 bytes each).
    pub v1: Vec<[u8; 32]>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses `t=…,v1=…[,v1=…][,v0=…]`. Unknown schemes (`v0`, future ones) are ignored;
    /// a `v1` that is not 64 hex digits makes the header malformed; `t` must appear once.
    pub fn parse(header: &'a str) -> Result<Self, WebhookError> {
        let header = header.trim();
        if header.is_empty() {
            return Err(WebhookError::MissingHeader);
        }
        let mut timestamp_raw: Option<&str> = None;
        let mut v1 = Vec::new();
        for item in header.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (key, value) = item
                .split_once('=')
                .ok_or(WebhookError::MalformedHeader("an item without `=`"))?;
            match key.trim() {
                "t" => {
                    if timestamp_raw.is_some() {
                        return Err(WebhookError::MalformedHeader("more than one timestamp"));
                    }
                    timestamp_raw = Some(value.trim());
                }
                "v1" => {
                    let mut sig = [0u8; 32];
                    hex::decode_to_slice(value.trim(), &mut sig).map_err(|_| {
                        WebhookError::MalformedHeader("a v1 signature is not 64 hex digits")
                    })?;
                    v1.push(sig);
                }
                _ => {}
            }
        }
        let timestamp_raw = timestamp_raw.ok_or(WebhookError::MissingTimestamp)?;
        if timestamp_raw.is_empty() || !timestamp_raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WebhookError::MalformedHeader(
                "the timestamp is not a number of seconds",
            ));
        }
        let timestamp = timestamp_raw
            .parse::<i64>()
            .map_err(|_| WebhookError::MalformedHeader("the timestamp is out of range"))?;
        if v1.is_empty() {
            return Err(WebhookError::MissingSignature);
        }
        Ok(SignatureHeader {
            timestamp_raw,
            timestamp,
            v1,
        })
    }
}

/// Checks the signature and the timestamp only (no JSON parsing). Returns the signed
/// timestamp.
pub fn verify_signature(
    payload: &[u8],
    signature_header: &str,
    secrets: &[WebhookSecret],
    tolerance: Duration,
    now: SystemTime,
) -> Result<i64, WebhookError> {
    if secrets.is_empty() {
        return Err(WebhookError::NoSecret);
    }
    let header = SignatureHeader::parse(signature_header)?;

    let mut matched = subtle::Choice::from(0u8);
    for secret in secrets {
        // Over `t` exactly as sent.
        let expected = webhook_signature::v1_mac(secret.expose(), header.timestamp_raw, payload);
        for candidate in &header.v1 {
            matched |= expected.ct_eq(candidate);
        }
    }
    if !bool::from(matched) {
        return Err(WebhookError::SignatureMismatch);
    }

    let now_secs = unix_seconds(now);
    let age = now_secs.saturating_sub(header.timestamp);
    if age.unsigned_abs() > tolerance.as_secs() {
        return Err(WebhookError::TimestampOutsideTolerance {
            age_secs: age,
            tolerance_secs: tolerance.as_secs(),
        });
    }
    Ok(header.timestamp)
}

/// Verifies `signature_header` against the raw `payload` with any of `secrets`, then
/// parses the event envelope. Pass `SystemTime::now()` as `now` (tests pass a fixed
/// time) and [`DEFAULT_TOLERANCE`] unless there is a reason not to.
pub fn verify(
    payload: &[u8],
    signature_header: &str,
    secrets: &[WebhookSecret],
    tolerance: Duration,
    now: SystemTime,
) -> Result<Event, WebhookError> {
    verify_signature(payload, signature_header, secrets, tolerance, now)?;
    serde_json::from_slice::<Event>(payload)
        .map_err(|e| WebhookError::InvalidPayload(e.to_string()))
}

/// The header Stripe would send for `payload` signed with `secret` at `timestamp`
/// (`t=…,v1=…`), for tests and local tools.
///
/// The computation is `stripe_types::webhook_signature::header`, shared with the sandbox.
pub fn sign(payload: &[u8], secret: &WebhookSecret, timestamp: i64) -> String {
    webhook_signature::header(secret.expose(), timestamp, payload)
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The secrets and tolerance of one webhook endpoint, verifying against the clock.
#[derive(Debug, Clone)]
pub struct Verifier {
    secrets: Vec<WebhookSecret>,
    tolerance: Duration,
}

impl Verifier {
    /// One secret, or several while rolling one (the old and the new).
    pub fn new(secrets: Vec<WebhookSecret>) -> Self {
        Verifier {
            secrets,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// [`verify`] with the current time.
    pub fn verify(&self, payload: &[u8], signature_header: &str) -> Result<Event, WebhookError> {
        verify(
            payload,
            signature_header,
            &self.secrets,
            self.tolerance,
            SystemTime::now(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::EventType;

    const SECRET: &str = "whsec_test_secret_abcdef0123456789";
    const OTHER: &str = "whsec_another_secret_9876543210";
    const T: i64 = 1_700_000_000;
    const PAYLOAD: &[u8] = br#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1700000000,"api_version":"2024-06-20","livemode":false,"data":{"object":{"id":"pi_1","object":"payment_intent","amount":1999,"currency":"usd","status":"succeeded"}},"request":{"id":"req_1","idempotency_key":"k1"}}"#;

    fn secret(s: &str) -> WebhookSecret {
        WebhookSecret::new(s).unwrap()
    }

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    }

    fn check(
        payload: &[u8],
        header: &str,
        secrets: &[&str],
        now: i64,
    ) -> Result<Event, WebhookError> {
        let secrets: Vec<_> = secrets.iter().map(|s| secret(s)).collect();
        verify(payload, header, &secrets, DEFAULT_TOLERANCE, at(now))
    }

    #[test]
    fn known_answer_matches_an_independent_hmac() {
        // Computed independently: printf '%s' '1700000000.{"a":1}' |
        //   openssl dgst -sha256 -hmac 'whsec_test_secret_abcdef0123456789'
        let header = sign(br#"{"a":1}"#, &secret(SECRET), T);
        assert_eq!(
            header,
            "t=1700000000,v1=ab7536cd27729ba07746b381743daba55984200c54d0a581d4189c0587a0b8c0"
        );
    }

    #[test]
    fn accepts_a_valid_signature() {
        let header = sign(PAYLOAD, &secret(SECRET), T);
        let event = check(PAYLOAD, &header, &[SECRET], T + 10).unwrap();
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.kind, EventType::PaymentIntentSucceeded);
        assert_eq!(event.object_id(), Some("pi_1"));
        assert_eq!(event.api_version.as_deref(), Some("2024-06-20"));
    }

    #[test]
    fn rejects_a_tampered_body() {
        let header = sign(PAYLOAD, &secret(SECRET), T);
        let tampered = String::from_utf8(PAYLOAD.to_vec())
            .unwrap()
            .replace("1999", "1");
        assert_eq!(
            check(tampered.as_bytes(), &header, &[SECRET], T),
            Err(WebhookError::SignatureMismatch)
        );
        // Even one extra byte (e.g. a re-serialized body with a newline).
        let mut extra = PAYLOAD.to_vec();
        extra.push(b'\n');
        assert_eq!(
            check(&extra, &header, &[SECRET], T),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_a_wrong_secret_and_a_changed_timestamp() {
        let header = sign(PAYLOAD, &secret(OTHER), T);
        assert_eq!(
            check(PAYLOAD, &header, &[SECRET], T),
            Err(WebhookError::SignatureMismatch)
        );
        let good = sign(PAYLOAD, &secret(SECRET), T);
        let shifted = good.replace("t=1700000000", "t=1700000001");
        assert_eq!(
            check(PAYLOAD, &shifted, &[SECRET], T),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn any_v1_may_match_during_rotation() {
        let ours = sign(PAYLOAD, &secret(SECRET), T);
        let theirs = sign(PAYLOAD, &secret(OTHER), T);
        let sig_ours = ours.split_once(",v1=").unwrap().1;
        let sig_theirs = theirs.split_once(",v1=").unwrap().1;
        let fake = "0".repeat(64);
        // Header with two v1s: ours second, then first.
        for header in [
            format!("t={T},v1={sig_theirs},v1={sig_ours}"),
            format!("t={T},v1={sig_ours},v1={fake}"),
            format!("t={T},v1={fake},v1={sig_ours},v0={fake}"),
        ] {
            assert!(check(PAYLOAD, &header, &[SECRET], T).is_ok(), "{header}");
        }
        // Several configured secrets: the old one still verifies.
        assert!(check(PAYLOAD, &theirs, &[SECRET, OTHER], T).is_ok());
        assert!(check(PAYLOAD, &ours, &[OTHER, SECRET], T).is_ok());
        // Only fakes: refused.
        assert_eq!(
            check(PAYLOAD, &format!("t={T},v1={fake},v1={fake}"), &[SECRET], T),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn v0_alone_is_not_enough() {
        let ours = sign(PAYLOAD, &secret(SECRET), T);
        let sig = ours.split_once(",v1=").unwrap().1;
        assert_eq!(
            check(PAYLOAD, &format!("t={T},v0={sig}"), &[SECRET], T),
            Err(WebhookError::MissingSignature)
        );
    }

    #[test]
    fn timestamp_tolerance_both_ways() {
        let header = sign(PAYLOAD, &secret(SECRET), T);
        assert!(check(PAYLOAD, &header, &[SECRET], T + 300).is_ok());
        assert!(check(PAYLOAD, &header, &[SECRET], T - 300).is_ok());
        assert_eq!(
            check(PAYLOAD, &header, &[SECRET], T + 301),
            Err(WebhookError::TimestampOutsideTolerance {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            check(PAYLOAD, &header, &[SECRET], T - 301),
            Err(WebhookError::TimestampOutsideTolerance {
                age_secs: -301,
                tolerance_secs: 300
            })
        );
        let secrets = [secret(SECRET)];
        assert!(verify(
            PAYLOAD,
            &header,
            &secrets,
            Duration::from_secs(3600),
            at(T + 3000)
        )
        .is_ok());
    }

    #[test]
    fn malformed_headers() {
        let sig = "a".repeat(64);
        let cases: [(String, WebhookError); 9] = [
            (String::new(), WebhookError::MissingHeader),
            ("   ".into(), WebhookError::MissingHeader),
            (format!("v1={sig}"), WebhookError::MissingTimestamp),
            (format!("t={T}"), WebhookError::MissingSignature),
            (
                format!("t={T},v1=zz{}", &sig[2..]),
                WebhookError::MalformedHeader("a v1 signature is not 64 hex digits"),
            ),
            (
                format!("t={T},v1=abcd"),
                WebhookError::MalformedHeader("a v1 signature is not 64 hex digits"),
            ),
            (
                format!("t=yesterday,v1={sig}"),
                WebhookError::MalformedHeader("the timestamp is not a number of seconds"),
            ),
            (
                format!("t={T},t={T},v1={sig}"),
                WebhookError::MalformedHeader("more than one timestamp"),
            ),
            (
                format!("t={T};v1={sig}"),
                WebhookError::MalformedHeader("the timestamp is not a number of seconds"),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(
                check(PAYLOAD, &header, &[SECRET], T),
                Err(expected),
                "{header:?}"
            );
        }
        assert_eq!(
            check(PAYLOAD, "garbage", &[SECRET], T),
            Err(WebhookError::MalformedHeader("an item without `=`"))
        );
        assert_eq!(
            verify(
                PAYLOAD,
                &sign(PAYLOAD, &secret(SECRET), T),
                &[],
                DEFAULT_TOLERANCE,
                at(T)
            ),
            Err(WebhookError::NoSecret)
        );
    }

    #[test]
    fn tolerates_spaces_and_unknown_schemes() {
        let header = sign(PAYLOAD, &secret(SECRET), T);
        let sig = header.split_once(",v1=").unwrap().1;
        let spaced = format!(" t={T} , v1={sig} , v2=whatever, ");
        assert!(check(PAYLOAD, &spaced, &[SECRET], T).is_ok());
    }

    #[test]
    fn signature_is_checked_before_json_parsing() {
        // A non-JSON body with a bad signature is a signature error, not a parse error…
        let bad = format!("t={T},v1={}", "0".repeat(64));
        assert_eq!(
            check(b"not json", &bad, &[SECRET], T),
            Err(WebhookError::SignatureMismatch)
        );
        // …and with a valid signature it is refused as an invalid payload.
        let header = sign(b"not json", &secret(SECRET), T);
        assert!(matches!(
            check(b"not json", &header, &[SECRET], T),
            Err(WebhookError::InvalidPayload(_))
        ));
        let header = sign(b"{\"id\":\"evt_1\"}", &secret(SECRET), T);
        assert!(matches!(
            check(b"{\"id\":\"evt_1\"}", &header, &[SECRET], T),
            Err(WebhookError::InvalidPayload(_))
        ));
        assert_eq!(
            verify_signature(
                b"not json",
                &sign(b"not json", &secret(SECRET), T),
                &[secret(SECRET)],
                DEFAULT_TOLERANCE,
                at(T)
            ),
            Ok(T)
        );
    }

    #[test]
    fn errors_and_debug_never_contain_the_secret() {
        let s = secret(SECRET);
        let verifier = Verifier::new(vec![s.clone()]);
        assert!(!format!("{verifier:?}").contains("abcdef0123"));
        let header = sign(PAYLOAD, &secret(OTHER), T);
        for result in [
            check(PAYLOAD, &header, &[SECRET], T),
            check(PAYLOAD, "t=1", &[SECRET], T),
            check(b"x", &sign(b"x", &s, T), &[SECRET], T),
        ] {
            let e = result.unwrap_err();
            assert!(!e.to_string().contains("abcdef0123"), "{e}");
            assert!(!format!("{e:?}").contains("abcdef0123"), "{e:?}");
        }
    }

    #[test]
    fn verifier_uses_the_clock() {
        let s = secret(SECRET);
        let now = unix_seconds(SystemTime::now());
        let header = sign(PAYLOAD, &s, now);
        assert!(Verifier::new(vec![s.clone()])
            .verify(PAYLOAD, &header)
            .is_ok());
        let old = sign(PAYLOAD, &s, now - 1000);
        assert!(matches!(
            Verifier::new(vec![s.clone()]).verify(PAYLOAD, &old),
            Err(WebhookError::TimestampOutsideTolerance { .. })
        ));
        assert!(Verifier::new(vec![s])
            .with_tolerance(Duration::from_secs(2000))
            .verify(PAYLOAD, &old)
            .is_ok());
    }
}
