//! Stripe's form encoding: `metadata[order_id]=42`, `expand[]=latest_charge`,
//! `payment_method_data[card][number]=…`, `items[0][price]=…`.
//!
//! The body is parsed into a tree; handlers *take* the parameters they know and
//! [`Params::finish`] turns whatever is left into `parameter_unknown`.

use std::collections::BTreeMap;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Str(String),
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
}

/// One level of parameters, with the bracket path leading to it (for error messages).
#[derive(Debug, Default)]
pub struct Params {
    entries: Vec<(String, Node)>,
    prefix: String,
}

fn split_key(key: &str) -> (&str, Vec<&str>) {
    match key.find('[') {
        None => (key, Vec::new()),
        Some(i) => {
            let head = &key[..i];
            let mut rest = &key[i..];
            let mut segs = Vec::new();
            while let Some(stripped) = rest.strip_prefix('[') {
                match stripped.find(']') {
                    Some(j) => {
                        segs.push(&stripped[..j]);
                        rest = &stripped[j + 1..];
                    }
                    None => {
                        // Unbalanced bracket: keep the remainder as a literal segment.
                        segs.push(stripped);
                        rest = "";
                    }
                }
            }
            (head, segs)
        }
    }
}

fn insert(entries: &mut Vec<(String, Node)>, key: &str, path: &[&str], value: String) {
    let idx = match entries.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            let node = if path.is_empty() {
                Node::Str(String::new())
            } else if path[0].is_empty() {
                Node::List(Vec::new())
            } else {
                Node::Map(Vec::new())
            };
            entries.push((key.to_owned(), node));
            entries.len() - 1
        }
    };
    let slot = &mut entries[idx].1;
    insert_into(slot, path, value);
}

fn insert_into(slot: &mut Node, path: &[&str], value: String) {
    if path.is_empty() {
        *slot = Node::Str(value);
        return;
    }
    let seg = path[0];
    if seg.is_empty() {
        if !matches!(slot, Node::List(_)) {
            *slot = Node::List(Vec::new());
        }
        if let Node::List(items) = slot {
            if path.len() == 1 {
                items.push(Node::Str(value));
            } else {
                // `a[][b]=…`: each new key starts a new element unless the last one lacks it.
                let mut node = Node::Map(Vec::new());
                insert_into(&mut node, &path[1..], value);
                items.push(node);
            }
        }
        return;
    }
    if !matches!(slot, Node::Map(_)) {
        *slot = Node::Map(Vec::new());
    }
    if let Node::Map(entries) = slot {
        insert(entries, seg, &path[1..], value);
    }
}

impl Params {
    /// Parses an `application/x-www-form-urlencoded` body or query string.
    pub fn parse(input: &[u8]) -> Params {
        let mut entries: Vec<(String, Node)> = Vec::new();
        for (k, v) in form_urlencoded::parse(input) {
            let (head, path) = split_key(&k);
            if head.is_empty() {
                continue;
            }
            insert(&mut entries, head, &path, v.into_owned());
        }
        Params {
            entries,
            prefix: String::new(),
        }
    }

    /// Adds the parameters of `other` that are not already present (query string + body).
    pub fn merge(&mut self, other: Params) {
        for (k, v) in other.entries {
            if !self.entries.iter().any(|(key, _)| *key == k) {
                self.entries.push((k, v));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The full bracketed name of `key` at this level, e.g. `payment_method_data[card][cvc]`.
    pub fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}[{}]", self.prefix, key)
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }

    pub fn take(&mut self, key: &str) -> Option<Node> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.swap_remove(i).1)
    }

    /// A string parameter. An empty string is returned as `Some("")` (meaning "unset" on updates).
    pub fn str(&mut self, key: &str) -> ApiResult<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Node::Str(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::invalid_param(
                &self.path(key),
                format!("Invalid string: {{...}} for {}", self.path(key)),
            )),
        }
    }

    /// A string parameter where `""` means absent.
    pub fn non_empty(&mut self, key: &str) -> ApiResult<Option<String>> {
        Ok(self.str(key)?.filter(|s| !s.is_empty()))
    }

    pub fn required_str(&mut self, key: &str) -> ApiResult<String> {
        match self.non_empty(key)? {
            Some(s) => Ok(s),
            None => Err(ApiError::missing_param(&self.path(key))),
        }
    }

    pub fn int(&mut self, key: &str) -> ApiResult<Option<i64>> {
        match self.non_empty(key)? {
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::invalid_integer(&self.path(key), &s)),
        }
    }

    /// A positive integer (amounts).
    pub fn positive_int(&mut self, key: &str) -> ApiResult<Option<i64>> {
        match self.int(key)? {
            Some(n) if n < 1 => Err(ApiError::invalid_param(
                &self.path(key),
                "This value must be greater than or equal to 1.",
            )
            .with_code(stripe_types::error::code::PARAMETER_INVALID_INTEGER)),
            other => Ok(other),
        }
    }

    pub fn bool(&mut self, key: &str) -> ApiResult<Option<bool>> {
        match self.non_empty(key)? {
            None => Ok(None),
            Some(s) => match s.as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(ApiError::invalid_param(
                    &self.path(key),
                    format!("Invalid boolean: {s}"),
                )),
            },
        }
    }

    /// An integer filter on a timestamp: `key=N` (exactly `N`) or any of
    /// `key[gt]`, `key[gte]`, `key[lt]`, `key[lte]` (other keys are `parameter_unknown`).
    pub fn int_range(&mut self, key: &str) -> ApiResult<Option<IntRange>> {
        let path = self.path(key);
        match self.take(key) {
            None => Ok(None),
            Some(Node::Str(s)) if s.is_empty() => Ok(None),
            Some(Node::Str(s)) => {
                let n = s
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| ApiError::invalid_integer(&path, &s))?;
                Ok(Some(IntRange {
                    gte: Some(n),
                    lte: Some(n),
                    ..IntRange::default()
                }))
            }
            Some(Node::Map(entries)) => {
                let mut p = Params {
                    entries,
                    prefix: path,
                };
                let range = IntRange {
                    gt: p.int("gt")?,
                    gte: p.int("gte")?,
                    lt: p.int("lt")?,
                    lte: p.int("lte")?,
                };
                p.finish()?;
                Ok(Some(range))
            }
            Some(Node::List(_)) => Err(ApiError::invalid_integer(&path, "[...]")),
        }
    }

    /// A string restricted to `allowed` values.
    pub fn one_of(&mut self, key: &str, allowed: &[&str]) -> ApiResult<Option<String>> {
        match self.non_empty(key)? {
            None => Ok(None),
            Some(s) if allowed.contains(&s.as_str()) => Ok(Some(s)),
            Some(_) => Err(ApiError::invalid_param(
                &self.path(key),
                format!(
                    "Invalid {}: must be one of {}",
                    self.path(key),
                    join_or(allowed)
                ),
            )),
        }
    }

    /// A nested hash, e.g. `card[...]`. `""` (explicit unset) is returned as `None`.
    pub fn map(&mut self, key: &str) -> ApiResult<Option<Params>> {
        let path = self.path(key);
        match self.take(key) {
            None => Ok(None),
            Some(Node::Map(entries)) => Ok(Some(Params {
                entries,
                prefix: path,
            })),
            Some(Node::Str(s)) if s.is_empty() => Ok(None),
            Some(_) => Err(ApiError::invalid_param(
                &path,
                format!("Invalid object: {path} must be a hash"),
            )),
        }
    }

    /// An array of strings: `key[]=a&key[]=b`, `key[0]=a&key[1]=b`, or a single `key=a`.
    pub fn str_list(&mut self, key: &str) -> ApiResult<Option<Vec<String>>> {
        let path = self.path(key);
        let bad = || ApiError::invalid_param(&path, format!("Invalid array: {path}"));
        match self.take(key) {
            None => Ok(None),
            Some(Node::Str(s)) if s.is_empty() => Ok(Some(Vec::new())),
            Some(Node::Str(s)) => Ok(Some(vec![s])),
            Some(Node::List(items)) => items
                .into_iter()
                .map(|n| match n {
                    Node::Str(s) => Ok(s),
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(Node::Map(entries)) => {
                let mut indexed = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let i: usize = k.parse().map_err(|_| bad())?;
                    match v {
                        Node::Str(s) => indexed.push((i, s)),
                        _ => return Err(bad()),
                    }
                }
                indexed.sort_by_key(|(i, _)| *i);
                Ok(Some(indexed.into_iter().map(|(_, s)| s).collect()))
            }
        }
    }

    /// `metadata[k]=v` → an update: `Some(map)` where an empty value removes a key;
    /// `metadata=` (empty) clears everything (returned as `MetadataUpdate::Clear`).
    pub fn metadata(&mut self) -> ApiResult<Option<MetadataUpdate>> {
        match self.take("metadata") {
            None => Ok(None),
            Some(Node::Str(s)) if s.is_empty() => Ok(Some(MetadataUpdate::Clear)),
            Some(Node::Map(entries)) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let Node::Str(v) = v else {
                        return Err(ApiError::invalid_param(
                            &format!("metadata[{k}]"),
                            "Invalid value for metadata: values must be strings.",
                        ));
                    };
                    if k.chars().count() > 40 {
                        return Err(ApiError::invalid_param(
                            &format!("metadata[{k}]"),
                            "Metadata keys can have a maximum length of 40 characters.",
                        ));
                    }
                    if v.chars().count() > 500 {
                        return Err(ApiError::invalid_param(
                            &format!("metadata[{k}]"),
                            "Metadata values can have a maximum length of 500 characters.",
                        ));
                    }
                    out.push((k, v));
                }
                if out.len() > 50 {
                    return Err(ApiError::invalid_param(
                        "metadata",
                        "You can specify up to 50 keys in metadata.",
                    ));
                }
                Ok(Some(MetadataUpdate::Set(out)))
            }
            Some(_) => Err(ApiError::invalid_param(
                "metadata",
                "Invalid object: metadata must be a hash",
            )),
        }
    }

    /// `expand[]=…` (accepted on every endpoint).
    pub fn expand(&mut self) -> ApiResult<Vec<String>> {
        Ok(self.str_list("expand")?.unwrap_or_default())
    }

    /// Drops keys that are accepted and ignored (Stripe.js telemetry and the like).
    pub fn ignore(&mut self, keys: &[&str]) {
        self.entries.retain(|(k, _)| !keys.contains(&k.as_str()));
    }

    /// Fails with `parameter_unknown` when anything was not taken.
    pub fn finish(self) -> ApiResult<()> {
        match self.entries.into_iter().next() {
            None => Ok(()),
            Some((k, node)) => {
                let mut path = if self.prefix.is_empty() {
                    k
                } else {
                    format!("{}[{}]", self.prefix, k)
                };
                // Point at the first leaf, as Stripe does (`card[foo]`).
                let mut node = node;
                loop {
                    match node {
                        Node::Map(mut entries) if !entries.is_empty() => {
                            let (k, n) = entries.swap_remove(0);
                            path = format!("{path}[{k}]");
                            node = n;
                        }
                        _ => break,
                    }
                }
                Err(ApiError::unknown_param(&path))
            }
        }
    }
}

/// The bounds of an [`Params::int_range`] filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntRange {
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
}

impl IntRange {
    pub fn contains(&self, v: i64) -> bool {
        self.gt.is_none_or(|b| v > b)
            && self.gte.is_none_or(|b| v >= b)
            && self.lt.is_none_or(|b| v < b)
            && self.lte.is_none_or(|b| v <= b)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MetadataUpdate {
    Clear,
    Set(Vec<(String, String)>),
}

impl MetadataUpdate {
    pub fn apply(self, meta: &mut BTreeMap<String, String>) {
        match self {
            MetadataUpdate::Clear => meta.clear(),
            MetadataUpdate::Set(pairs) => {
                for (k, v) in pairs {
                    if v.is_empty() {
                        meta.remove(&k);
                    } else {
                        meta.insert(k, v);
                    }
                }
            }
        }
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        self.apply(&mut m);
        m
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{}, or {}", init.join(", "), last),
    }
}

/// SHA-256 of a request's method, path and parameters, insensitive to the order of
/// different parameters (the idempotency comparison).
pub fn fingerprint(method: &str, path: &str, body: &[u8], query: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut pairs: Vec<_> = form_urlencoded::parse(body)
        .chain(form_urlencoded::parse(query))
        .collect();
    // Arrays (`expand[]`) keep their relative order: sort stably by key only.
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    for (k, v) in &pairs {
        h.update(b"\x01");
        h.update(k.as_bytes());
        h.update(b"\x02");
        h.update(v.as_bytes());
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_brackets_and_lists() {
        let mut p = Params::parse(
            b"amount=2000&metadata[order_id]=42&expand[]=latest_charge&expand[]=customer&payment_method_data[card][number]=4242&payment_method_types[0]=card",
        );
        assert_eq!(p.int("amount").unwrap(), Some(2000));
        assert_eq!(
            p.metadata().unwrap(),
            Some(MetadataUpdate::Set(vec![("order_id".into(), "42".into())]))
        );
        assert_eq!(p.expand().unwrap(), vec!["latest_charge", "customer"]);
        let mut pmd = p.map("payment_method_data").unwrap().unwrap();
        let mut card = pmd.map("card").unwrap().unwrap();
        assert_eq!(card.str("number").unwrap().as_deref(), Some("4242"));
        card.finish().unwrap();
        pmd.finish().unwrap();
        assert_eq!(
            p.str_list("payment_method_types").unwrap(),
            Some(vec!["card".to_owned()])
        );
        p.finish().unwrap();
    }

    #[test]
    fn unknown_parameters_are_named_with_their_path() {
        let mut p = Params::parse(b"amount=1&payment_method_data[card][colour]=red");
        p.int("amount").unwrap();
        let mut pmd = p.map("payment_method_data").unwrap().unwrap();
        let err = pmd.clone_for_test().finish().unwrap_err();
        assert_eq!(
            err.body.param.as_deref(),
            Some("payment_method_data[card][colour]")
        );
        let card = pmd.map("card").unwrap().unwrap();
        let err = card.finish().unwrap_err();
        assert_eq!(err.body.code.as_deref(), Some("parameter_unknown"));
        assert_eq!(
            err.body.param.as_deref(),
            Some("payment_method_data[card][colour]")
        );
    }

    #[test]
    fn bad_integers_and_booleans() {
        let mut p = Params::parse(b"amount=12x&confirm=yes");
        let e = p.int("amount").unwrap_err();
        assert_eq!(e.body.code.as_deref(), Some("parameter_invalid_integer"));
        assert_eq!(e.body.param.as_deref(), Some("amount"));
        assert!(p.bool("confirm").is_err());
    }

    #[test]
    fn int_ranges() {
        let mut p = Params::parse(b"created[gte]=10&created[lt]=20&exact=15&none=");
        let r = p.int_range("created").unwrap().unwrap();
        assert!(!r.contains(9) && r.contains(10) && r.contains(19) && !r.contains(20));
        let exact = p.int_range("exact").unwrap().unwrap();
        assert!(exact.contains(15) && !exact.contains(14) && !exact.contains(16));
        assert_eq!(p.int_range("none").unwrap(), None);
        assert_eq!(p.int_range("absent").unwrap(), None);
        p.finish().unwrap();
        let mut p = Params::parse(b"created[gt]=x");
        let e = p.int_range("created").unwrap_err();
        assert_eq!(e.body.param.as_deref(), Some("created[gt]"));
        let mut p = Params::parse(b"created[after]=1");
        let e = p.int_range("created").unwrap_err();
        assert_eq!(e.body.code.as_deref(), Some("parameter_unknown"));
        assert_eq!(e.body.param.as_deref(), Some("created[after]"));
    }

    #[test]
    fn fingerprint_ignores_order_of_different_keys() {
        let f = |b: &[u8]| fingerprint("POST", "/v1/x", b, b"");
        assert_eq!(f(b"a=1&b=2"), f(b"b=2&a=1"));
        assert_ne!(f(b"a=1&b=2"), f(b"a=1&b=3"));
        assert_ne!(f(b"expand[]=a&expand[]=b"), f(b"expand[]=b&expand[]=a"));
        assert_ne!(f(b"a=1"), fingerprint("POST", "/v1/y", b"a=1", b""));
        assert_eq!(f(b"a=1&b=2"), fingerprint("POST", "/v1/x", b"a=1", b"b=2"));
    }

    impl Params {
        fn clone_for_test(&self) -> Params {
            Params {
                entries: self.entries.clone(),
                prefix: self.prefix.clone(),
            }
        }
    }
}
