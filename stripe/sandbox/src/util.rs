//! Small helpers: ids, time, wire constants.

use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A Stripe-looking id: `prefix_` followed by 24 random alphanumerics.
pub fn new_id(prefix: &str) -> String {
    random_with_prefix(prefix, '_', 24)
}

/// Appends `len` random alphanumerics (8 per random `u64`).
fn push_random(s: &mut String, len: usize) {
    let mut rng = rand::thread_rng();
    let mut left = len;
    while left > 0 {
        let mut x: u64 = rng.gen();
        for _ in 0..left.min(8) {
            s.push(ALPHABET[(x % 62) as usize] as char);
            x /= 62;
        }
        left -= left.min(8);
    }
}

/// `prefix` + `sep` + `len` random alphanumerics.
pub fn random_with_prefix(prefix: &str, sep: char, len: usize) -> String {
    let mut s = String::with_capacity(prefix.len() + 1 + len);
    s.push_str(prefix);
    s.push(sep);
    push_random(&mut s, len);
    s
}

/// `pi_…_secret_…` / `seti_…_secret_…`.
pub fn client_secret(id: &str) -> String {
    let mut s = String::with_capacity(id.len() + 33);
    s.push_str(id);
    s.push_str("_secret_");
    push_random(&mut s, 25);
    s
}

/// A string that is usually a constant (`"card"`, `"automatic"`…): no allocation then.
pub type Str = std::borrow::Cow<'static, str>;

/// Serializes to JSON into a buffer sized for a typical Stripe object.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> bytes::Bytes {
    let mut buf = Vec::with_capacity(3072);
    serde_json::to_writer(&mut buf, value).expect("objects serialize");
    bytes::Bytes::from(buf)
}

/// Serialized JSON shared without copies (event snapshots, stored idempotent answers).
/// Serializes as the raw JSON it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonBytes(pub bytes::Bytes);

impl Serialize for JsonBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &serde_json::value::RawValue =
            serde_json::from_slice(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        let s: Box<str> = raw.into();
        Ok(JsonBytes(bytes::Bytes::from(s.into_string().into_bytes())))
    }
}

/// Wall-clock unix seconds.
pub fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// (year, month 1..=12) of a unix timestamp, UTC.
pub fn year_month(ts: i64) -> (i64, u32) {
    // Howard Hinnant's civil_from_days.
    let z = ts.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (y, m as u32)
}

/// A field that is always `null` on the wire (Connect, invoices… which the sandbox does not model).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Null;

impl Serialize for Null {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

impl<'de> Deserialize<'de> for Null {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Null)
    }
}

/// An always-empty JSON object `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Empty;

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Empty)
    }
}

/// Formats an amount for messages, e.g. `$10.00` (via stripe-types' Money).
pub fn fmt_amount(amount: i64, currency: stripe_types::Currency) -> String {
    stripe_types::Money::new(amount, currency).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_month_matches_known_dates() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(1_709_251_200), (2024, 3)); // 2024-03-01T00:00:00Z
        assert_eq!(year_month(1_709_251_199), (2024, 2));
        assert_eq!(year_month(1_735_689_599), (2024, 12));
        assert_eq!(year_month(1_735_689_600), (2025, 1));
    }

    #[test]
    fn ids_look_like_stripe_ids() {
        let id = new_id("pi");
        assert!(id.starts_with("pi_") && id.len() == 27, "{id}");
        assert!(id[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
        let secret = client_secret(&id);
        assert!(secret.starts_with(&format!("{id}_secret_")));
        assert_ne!(new_id("pi"), new_id("pi"));
    }
}
