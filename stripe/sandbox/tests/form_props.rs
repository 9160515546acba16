//! Property tests (issue 12, drill 5) of the sandbox's form parser (`form.rs`): whatever
//! the body — bytes, bad escapes, unbalanced or empty brackets, deep nesting, a key
//! that is a scalar in one pair and a list or a hash in the next — parsing it and then
//! reading it the way the API handlers do never panics, and the idempotency fingerprint
//! does not either. (Encode → parse round trips are the client's: its
//! `tests/proptests.rs` runs the client's encoder into this parser.)

use proptest::prelude::*;
use stripe_sandbox::form::{fingerprint, Node, Params};

/// Bodies made of the format's own pieces (names, brackets, indices, `&`, `=`, escapes)
/// in any order, or any bytes at all.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just("&".to_owned()),
        Just("=".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("[]".to_owned()),
        Just("%".to_owned()),
        Just("%5B".to_owned()),
        Just("%5D".to_owned()),
        Just("%FF".to_owned()),
        Just("+".to_owned()),
        Just("metadata".to_owned()),
        Just("expand".to_owned()),
        Just("created".to_owned()),
        Just("gte".to_owned()),
        Just("card".to_owned()),
        "[0-9]{1,22}",
        "-?[0-9]{1,20}",
        "[a-z_]{1,6}",
        any::<String>(),
    ];
    // `name[seg][seg]=value` pairs over the names the reads below ask for.
    let pair = (
        name(),
        prop::collection::vec(prop_oneof![Just(String::new()), name(), "[0-9]{1,3}"], 0..2),
        prop_oneof![
            "[0-9]{1,4}",
            "[0-9]{1,22}",
            "-?[0-9]{1,20}",
            Just("true".to_owned()),
            Just(String::new()),
            any::<String>(),
        ],
    )
        .prop_map(|(name, segments, value)| {
            let segments: String = segments.iter().map(|s| format!("[{s}]")).collect();
            format!("{name}{segments}={}", urlencode(&value))
        });
    prop_oneof![
        3 => prop::collection::vec(pair, 0..10).prop_map(|p| p.join("&").into_bytes()),
        3 => prop::collection::vec(piece, 0..24).prop_map(|p| p.concat().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ]
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The parameter names bodies use and reads ask for, mostly.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("amount".to_owned()),
        Just("metadata".to_owned()),
        Just("expand".to_owned()),
        Just("created".to_owned()),
        Just("card".to_owned()),
        Just("gte".to_owned()),
        Just("a".to_owned()),
        "[a-z_]{1,3}",
    ]
}

/// One way an API handler reads a parameter.
#[derive(Debug, Clone)]
enum Read {
    Str,
    NonEmpty,
    Required,
    Int,
    Positive,
    Bool,
    Range,
    OneOf,
    List,
    Metadata,
    Expand,
    Has,
    /// A nested hash, read in turn.
    Map(Vec<(String, Read)>),
}

fn read() -> impl Strategy<Value = Read> {
    // Mostly a plain read; now and then a hash read in turn.
    let nested = read_leaf().prop_recursive(3, 24, 4, |inner| {
        prop::collection::vec((key(), inner), 0..4).prop_map(Read::Map)
    });
    prop_oneof![3 => read_leaf(), 1 => nested]
}

fn read_leaf() -> impl Strategy<Value = Read> {
    prop_oneof![
        Just(Read::Str),
        Just(Read::NonEmpty),
        Just(Read::Required),
        Just(Read::Int),
        Just(Read::Positive),
        Just(Read::Bool),
        Just(Read::Range),
        Just(Read::OneOf),
        Just(Read::List),
        Just(Read::Metadata),
        Just(Read::Expand),
        Just(Read::Has),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => name(),
        1 => Just(String::new()),
        1 => Just("0".to_owned()),
        1 => any::<String>(),
    ]
}

/// Reads `key` from `params` as `how` says; errors are answers, not failures.
fn apply(params: &mut Params, key: &str, how: &Read) {
    match how {
        Read::Str => {
            let _ = params.str(key);
        }
        Read::NonEmpty => {
            let _ = params.non_empty(key);
        }
        Read::Required => {
            let _ = params.required_str(key);
        }
        Read::Int => {
            let _ = params.int(key);
        }
        Read::Positive => {
            let _ = params.positive_int(key);
        }
        Read::Bool => {
            let _ = params.bool(key);
        }
        Read::Range => {
            if let Ok(Some(range)) = params.int_range(key) {
                for v in [i64::MIN, -1, 0, 1, i64::MAX] {
                    let _ = range.contains(v);
                }
            }
        }
        Read::OneOf => {
            let _ = params.one_of(key, &["a", "b", ""]);
        }
        Read::List => {
            let _ = params.str_list(key);
        }
        Read::Metadata => {
            if let Ok(Some(update)) = params.metadata() {
                let _ = update.into_map();
            }
        }
        Read::Expand => {
            let _ = params.expand();
        }
        Read::Has => {
            let _ = params.has(key);
            let _ = params.path(key);
        }
        Read::Map(reads) => {
            if let Ok(Some(mut inner)) = params.map(key) {
                for (k, r) in reads {
                    apply(&mut inner, k, r);
                }
                let _ = inner.finish();
            }
        }
    }
}

/// How deep a parsed tree is (walking all of it).
fn depth(node: &Node) -> usize {
    match node {
        Node::Str(_) => 1,
        Node::List(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Node::Map(entries) => 1 + entries.iter().map(|(_, n)| depth(n)).max().unwrap_or(0),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn parsing_and_reading_any_body_never_panics(
        body in body(),
        query in body(),
        reads in prop::collection::vec((key(), any::<prop::sample::Index>(), read()), 0..8),
        take in prop::collection::vec(key(), 0..4),
    ) {
        let mut params = Params::parse(&body);
        params.merge(Params::parse(&query));
        // Reads mostly ask for names the body has (as `name` or `name[…]`).
        let names: Vec<String> = form_urlencoded::parse(&body)
            .chain(form_urlencoded::parse(&query))
            .map(|(k, _)| k.split('[').next().unwrap_or_default().to_owned())
            .collect();
        let reads: Vec<(String, Read)> = reads
            .into_iter()
            .enumerate()
            .map(|(i, (key, index, how))| match (i % 4, names.is_empty()) {
                (0, _) | (_, true) => (key, how),
                _ => (names[index.index(names.len())].clone(), how),
            })
            .collect();
        for k in &take {
            if let Some(node) = params.take(k) {
                prop_assert!(depth(&node) >= 1);
            }
        }
        for (k, how) in &reads {
            apply(&mut params, k, how);
        }
        let _ = params.is_empty();
        let _ = params.finish();
        let _ = fingerprint("POST", "/v1/payment_intents", &body, &query);
    }

    #[test]
    fn the_fingerprint_ignores_the_order_of_different_keys(
        pairs in prop::collection::btree_map("[a-z]{1,6}", "[a-z0-9]{0,6}", 0..6),
        seed in any::<u64>(),
    ) {
        let encode = |pairs: &[(&String, &String)]| {
            pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
        };
        let sorted: Vec<_> = pairs.iter().collect();
        let mut shuffled = sorted.clone();
        // A deterministic shuffle from the seed.
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.rotate_left(i as u32) as usize) % (i + 1);
            shuffled.swap(i, j);
        }
        prop_assert_eq!(
            fingerprint("POST", "/v1/x", encode(&sorted).as_bytes(), b""),
            fingerprint("POST", "/v1/x", encode(&shuffled).as_bytes(), b"")
        );
    }
}
