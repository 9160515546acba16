//! Property tests (issue 12, drill 5) of the client's two codecs:
//!
//! - the `Stripe-Signature` header parser and the webhook verifier: never panic on any
//!   input, accept what [`webhook::sign`] makes (inside the tolerance, with any other
//!   secrets configured beside it), and refuse any one-byte change of the body, the
//!   secret or the signed timestamp;
//! - the form encoder: never panics (errors only where the top level is not an object),
//!   `encode_pairs` is undone by a form decoder for any text, and nested parameters come
//!   back from the sandbox's parser (`stripe_sandbox::form`, the independent
//!   implementation the contract tests use) as the tree they were.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use stripe_client::form;
use stripe_client::webhook::{self, SignatureHeader, WebhookError, DEFAULT_TOLERANCE};
use stripe_client::WebhookSecret;
use stripe_sandbox::form::{Node, Params};

// --- Webhook signatures -----------------------------------------------------------------

/// Unix seconds as a `SystemTime` (before the epoch too).
fn at(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn secret() -> impl Strategy<Value = WebhookSecret> {
    "whsec_[!-~]{1,48}".prop_map(|s| WebhookSecret::new(s).unwrap())
}

/// Header-like text: the pieces a `Stripe-Signature` is made of, in any order, and any
/// text between them.
fn header_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("t=".to_owned()),
        Just("v1=".to_owned()),
        Just("v0=".to_owned()),
        Just(",".to_owned()),
        Just("=".to_owned()),
        Just(" ".to_owned()),
        "[0-9]{0,25}",
        "-?[0-9]{1,20}",
        "[0-9a-fA-F]{60,68}",
        "[0-9a-f]{64}",
        any::<String>(),
    ];
    prop_oneof![
        prop::collection::vec(piece, 0..12).prop_map(|p| p.concat()),
        any::<String>(),
    ]
}

/// A timestamp a real header could carry (0 to year 2096).
fn timestamp() -> impl Strategy<Value = i64> {
    0i64..4_000_000_000
}

fn verify(
    payload: &[u8],
    header: &str,
    secrets: &[WebhookSecret],
    now: i64,
) -> Result<i64, WebhookError> {
    webhook::verify_signature(payload, header, secrets, DEFAULT_TOLERANCE, at(now))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_header_parser_never_panics(header in header_text()) {
        if let Ok(parsed) = SignatureHeader::parse(&header) {
            // What it accepts is what it promises: a decimal `t` that is the number,
            // and at least one 32-byte `v1`.
            prop_assert!(!parsed.timestamp_raw.is_empty());
            prop_assert!(parsed.timestamp_raw.bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(parsed.timestamp_raw.parse::<i64>().ok(), Some(parsed.timestamp));
            prop_assert!(!parsed.v1.is_empty());
        }
    }

    #[test]
    fn the_verifier_never_panics(
        payload in prop::collection::vec(any::<u8>(), 0..256),
        header in header_text(),
        secrets in prop::collection::vec(secret(), 0..3),
        now in -100_000_000_000i64..100_000_000_000,
        tolerance in any::<u64>(),
    ) {
        let tolerance = Duration::from_secs(tolerance);
        let _ = webhook::verify_signature(&payload, &header, &secrets, tolerance, at(now));
        let _ = webhook::verify(&payload, &header, &secrets, tolerance, at(now));
    }

    #[test]
    fn a_signature_it_made_round_trips(
        payload in prop::collection::vec(any::<u8>(), 0..512),
        ours in secret(),
        others in prop::collection::vec(secret(), 0..3),
        position in any::<prop::sample::Index>(),
        t in timestamp(),
        skew in -300i64..=300,
    ) {
        let header = webhook::sign(&payload, &ours, t);
        let parsed = SignatureHeader::parse(&header).unwrap();
        prop_assert_eq!(parsed.timestamp, t);
        prop_assert_eq!(parsed.v1.len(), 1);
        prop_assert_eq!(
            parsed.v1[0],
            stripe_client::stripe_types::webhook_signature::v1_mac(ours.expose(), &t.to_string(), &payload)
        );
        // Ours among other configured secrets (a secret being rolled), anywhere.
        let mut secrets = others.clone();
        secrets.insert(position.index(secrets.len() + 1), ours.clone());
        prop_assert_eq!(verify(&payload, &header, &secrets, t + skew), Ok(t));
        // Outside the tolerance, both ways: refused for that reason.
        let late = verify(&payload, &header, &secrets, t + 301 + skew.abs());
        let early = verify(&payload, &header, &secrets, t - 301 - skew.abs());
        let late_is_stale = matches!(late, Err(WebhookError::TimestampOutsideTolerance { .. }));
        let early_is_stale = matches!(early, Err(WebhookError::TimestampOutsideTolerance { .. }));
        prop_assert!(late_is_stale, "{:?}", late);
        prop_assert!(early_is_stale, "{:?}", early);
        // Without our secret, nothing verifies.
        if !others.contains(&ours) {
            prop_assert_eq!(verify(&payload, &header, &others, t), Err(if others.is_empty() {
                WebhookError::NoSecret
            } else {
                WebhookError::SignatureMismatch
            }));
        }
    }

    #[test]
    fn any_one_byte_change_of_the_body_is_refused(
        payload in prop::collection::vec(any::<u8>(), 1..512),
        ours in secret(),
        t in timestamp(),
        index in any::<prop::sample::Index>(),
        delta in 1u8..=255,
        byte in any::<u8>(),
        how in 0..3,
    ) {
        let header = webhook::sign(&payload, &ours, t);
        let i = index.index(payload.len());
        let mut changed = payload.clone();
        match how {
            // One byte replaced by another…
            0 => changed[i] = changed[i].wrapping_add(delta),
            // …one added…
            1 => changed.insert(i, byte),
            // …one removed.
            _ => {
                changed.remove(i);
            }
        }
        prop_assert_eq!(
            verify(&changed, &header, std::slice::from_ref(&ours), t),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn any_one_byte_change_of_the_secret_is_refused(
        payload in prop::collection::vec(any::<u8>(), 0..256),
        ours in secret(),
        t in timestamp(),
        index in any::<prop::sample::Index>(),
        replacement in b'!'..=b'~',
    ) {
        let header = webhook::sign(&payload, &ours, t);
        // A byte after `whsec_` (the prefix makes it a secret at all) replaced by
        // another printable one.
        let mut bytes = ours.expose().as_bytes().to_vec();
        let i = 6 + index.index(bytes.len() - 6);
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let theirs = WebhookSecret::new(String::from_utf8(bytes).unwrap()).unwrap();
        // Verified with the changed secret, or signed with it: refused either way.
        prop_assert_eq!(
            verify(&payload, &header, std::slice::from_ref(&theirs), t),
            Err(WebhookError::SignatureMismatch)
        );
        let forged = webhook::sign(&payload, &theirs, t);
        prop_assert_eq!(
            verify(&payload, &forged, std::slice::from_ref(&ours), t),
            Err(WebhookError::SignatureMismatch)
        );
    }

    #[test]
    fn any_one_byte_change_of_the_timestamp_is_refused(
        payload in prop::collection::vec(any::<u8>(), 0..256),
        ours in secret(),
        t in timestamp(),
        index in any::<prop::sample::Index>(),
        replacement in prop_oneof![b'0'..=b'9', any::<u8>()],
        how in 0..3,
    ) {
        let header = webhook::sign(&payload, &ours, t);
        let digits = t.to_string();
        let rest = header.strip_prefix(&format!("t={digits}")).unwrap();
        // The same number spelled with a leading zero is another signed text.
        prop_assert_eq!(
            verify(&payload, &format!("t=0{digits}{rest}"), std::slice::from_ref(&ours), t),
            Err(WebhookError::SignatureMismatch)
        );
        let i = index.index(digits.len());
        let mut changed = digits.clone().into_bytes();
        match how {
            0 => {
                prop_assume!(changed[i] != replacement);
                changed[i] = replacement;
            }
            1 => changed.insert(i, replacement),
            _ => {
                changed.remove(i);
            }
        }
        // Not always text (the header is a &str): a byte that breaks UTF-8 is a header
        // that cannot arrive at all.
        let Ok(changed) = String::from_utf8(changed) else {
            return Ok(());
        };
        let forged = format!("t={changed}{rest}");
        if changed.trim() == digits {
            // Whitespace around a value is the header's formatting (the parser trims
            // items and values): the signed text is still the same `t`.
            prop_assert_eq!(verify(&payload, &forged, std::slice::from_ref(&ours), t), Ok(t));
            return Ok(());
        }
        // The v1 still covers the old `t`: whatever the new one says (a number 1 s or
        // years away, the same number spelled with a leading zero, not a number), the
        // verifier refuses it, checked at the moment the new `t` names when it is one.
        let now = changed.trim().parse::<i64>().unwrap_or(t);
        let result = verify(&payload, &forged, std::slice::from_ref(&ours), now);
        prop_assert!(result.is_err(), "t={} verified as {:?}", changed, result);
        if changed.bytes().all(|b| b.is_ascii_digit()) && changed.parse::<i64>().is_ok() {
            prop_assert_eq!(result, Err(WebhookError::SignatureMismatch));
        }
        // And the same for a timestamp moved by any amount, with the v1 left as it was.
        let moved = format!("t={}{rest}", t + 1 + i as i64);
        prop_assert_eq!(
            verify(&payload, &moved, std::slice::from_ref(&ours), t),
            Err(WebhookError::SignatureMismatch)
        );
    }
}

// --- The form encoder -------------------------------------------------------------------

/// Any JSON value (a stand-in for any `Serialize` value: maps, lists, scalars, nulls).
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Nested parameters as Stripe takes them.
#[derive(Debug, Clone)]
enum Param {
    Str(String),
    Map(BTreeMap<String, Param>),
    /// `key[]=a&key[]=b`
    Strs(Vec<String>),
    /// `key[0][a]=…&key[1][a]=…`
    Maps(Vec<BTreeMap<String, Param>>),
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Str(v) => s.serialize_str(v),
            Param::Map(m) => m.serialize(s),
            Param::Strs(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for x in v {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Param::Maps(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for m in v {
                    seq.serialize_element(&Wrapper(m))?;
                }
                seq.end()
            }
        }
    }
}

struct Wrapper<'a>(&'a BTreeMap<String, Param>);

impl Serialize for Wrapper<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Parameter names: any text without brackets (the format's own delimiters, which
/// neither Stripe's format nor the encoder escape), never empty.
fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z_][a-z0-9_]{0,10}", "[^\\[\\]]{1,8}", "[0-9]{1,3}",]
}

fn param() -> impl Strategy<Value = Param> {
    let leaf = prop_oneof![
        any::<String>().prop_map(Param::Str),
        prop::collection::vec(any::<String>(), 0..4).prop_map(Param::Strs),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        let map = prop::collection::btree_map(name(), inner, 0..5).boxed();
        prop_oneof![
            map.clone().prop_map(Param::Map),
            prop::collection::vec(map, 0..4).prop_map(Param::Maps),
        ]
    })
}

/// What the sandbox's parser should make of `p`, per the encoding rules: empty maps and
/// lists send nothing, scalar lists are lists, lists of objects are maps by index.
fn expected(p: &Param) -> Option<Node> {
    match p {
        Param::Str(s) => Some(Node::Str(s.clone())),
        Param::Map(m) => expected_map(m),
        Param::Strs(v) if v.is_empty() => None,
        Param::Strs(v) => Some(Node::List(v.iter().cloned().map(Node::Str).collect())),
        Param::Maps(v) => {
            let entries: Vec<(String, Node)> = v
                .iter()
                .enumerate()
                .filter_map(|(i, m)| expected_map(m).map(|n| (i.to_string(), n)))
                .collect();
            (!entries.is_empty()).then_some(Node::Map(entries))
        }
    }
}

fn expected_map(m: &BTreeMap<String, Param>) -> Option<Node> {
    let entries: Vec<(String, Node)> = m
        .iter()
        .filter_map(|(k, v)| expected(v).map(|n| (k.clone(), n)))
        .collect();
    (!entries.is_empty()).then_some(Node::Map(entries))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_encoder_never_panics_and_refuses_only_non_objects(value in json()) {
        let pairs = form::to_pairs(&value);
        let body = form::to_string(&value);
        let object = matches!(value, serde_json::Value::Object(_) | serde_json::Value::Null);
        prop_assert_eq!(pairs.is_ok(), object, "{:?}", pairs);
        prop_assert_eq!(body.is_ok(), object);
        if let (Ok(pairs), Ok(body)) = (pairs, body) {
            prop_assert_eq!(form::encode_pairs(&pairs), body);
        }
    }

    #[test]
    fn encoded_pairs_decode_to_themselves(
        pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..8)
    ) {
        let body = form::encode_pairs(&pairs);
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // A key or value that is empty still leaves its pair (`=` or `k=`), and nothing
        // but `&` separates pairs.
        prop_assert_eq!(decoded, pairs);
    }

    #[test]
    fn nested_params_round_trip_through_the_sandbox_parser(
        params in prop::collection::btree_map(name(), param(), 0..6)
    ) {
        let body = form::to_string(&params).unwrap();
        let mut parsed = Params::parse(body.as_bytes());
        for (key, value) in &params {
            prop_assert_eq!(parsed.take(key), expected(value), "{} in {}", key, body);
        }
        prop_assert!(parsed.is_empty(), "left over in {}: {:?}", body, parsed);
    }
}
