//! `Idempotency-Key`s: Stripe replays the stored answer of the first request made with a
//! key for at least 24 hours, so a POST retried with the same key cannot run twice.

use std::fmt;

use rand::RngCore;

/// Stripe's limit on the length of an idempotency key.
pub const MAX_LEN: usize = 255;

/// A validated idempotency key: 1 to 255 printable ASCII characters (it travels in an
/// HTTP header, so no spaces or control characters).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    #[error("an idempotency key cannot be empty")]
    Empty,
    #[error("an idempotency key is at most {MAX_LEN} characters (got {0})")]
    TooLong(usize),
    #[error("an idempotency key may only contain printable ASCII characters without spaces")]
    InvalidCharacter,
    #[error(
        "the `{0}` part of an operation key is empty or contains spaces or non-ASCII characters"
    )]
    InvalidPart(&'static str),
}

impl IdempotencyKey {
    /// Wraps an existing key after validating it.
    pub fn new(key: impl Into<String>) -> Result<Self, IdempotencyKeyError> {
        let key = key.into();
        if key.is_empty() {
            return Err(IdempotencyKeyError::Empty);
        }
        if key.len() > MAX_LEN {
            return Err(IdempotencyKeyError::TooLong(key.len()));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IdempotencyKeyError::InvalidCharacter);
        }
        Ok(IdempotencyKey(key))
    }

    /// A deterministic business key, `{scope}-{id}-{operation}-v{version}`:
    /// `for_operation("order", "ord_abc", "pi", 1)` is `order-ord_abc-pi-v1`.
    ///
    /// The same business action (e.g. "create the PaymentIntent of order ord_abc")
    /// always yields the same key, so a crash-and-retry of the whole handler is as safe
    /// as a network retry. Bump `version` when the action is deliberately repeated
    /// with different parameters (Stripe answers 400 `idempotency_error` when a key is
    /// reused with other parameters).
    pub fn for_operation(
        scope: &str,
        id: &str,
        operation: &str,
        version: u32,
    ) -> Result<Self, IdempotencyKeyError> {
        for (name, part) in [("scope", scope), ("id", id), ("operation", operation)] {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(IdempotencyKeyError::InvalidPart(name));
            }
        }
        IdempotencyKey::new(format!("{scope}-{id}-{operation}-v{version}"))
    }

    /// A random key in the UUIDv4 format, for calls with no natural business key.
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        IdempotencyKey(uuid_v4_string(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Formats 16 random bytes as a version-4, RFC 4122 variant UUID.
fn uuid_v4_string(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for IdempotencyKey {
    type Err = IdempotencyKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdempotencyKey::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_keys_are_deterministic() {
        let k = IdempotencyKey::for_operation("order", "ord_abc", "pi", 1).unwrap();
        assert_eq!(k.as_str(), "order-ord_abc-pi-v1");
        assert_eq!(
            k,
            IdempotencyKey::for_operation("order", "ord_abc", "pi", 1).unwrap()
        );
        assert_ne!(
            k,
            IdempotencyKey::for_operation("order", "ord_abc", "pi", 2).unwrap()
        );
        assert_eq!(
            IdempotencyKey::for_operation("refund", "ord_9", "full", 3)
                .unwrap()
                .to_string(),
            "refund-ord_9-full-v3"
        );
    }

    #[test]
    fn operation_parts_are_validated() {
        assert_eq!(
            IdempotencyKey::for_operation("", "x", "pi", 1),
            Err(IdempotencyKeyError::InvalidPart("scope"))
        );
        assert_eq!(
            IdempotencyKey::for_operation("order", "a b", "pi", 1),
            Err(IdempotencyKeyError::InvalidPart("id"))
        );
        assert_eq!(
            IdempotencyKey::for_operation("order", "x", "", 1),
            Err(IdempotencyKeyError::InvalidPart("operation"))
        );
        let long_id = "x".repeat(250);
        assert_eq!(
            IdempotencyKey::for_operation("order", &long_id, "pi", 1),
            Err(IdempotencyKeyError::TooLong(250 + "order--pi-v1".len()))
        );
    }

    #[test]
    fn length_and_characters_are_validated() {
        assert!(IdempotencyKey::new("a".repeat(MAX_LEN)).is_ok());
        assert_eq!(
            IdempotencyKey::new("a".repeat(MAX_LEN + 1)),
            Err(IdempotencyKeyError::TooLong(MAX_LEN + 1))
        );
        assert_eq!(IdempotencyKey::new(""), Err(IdempotencyKeyError::Empty));
        for bad in ["a b", "a\r\nX-Injected: 1", "tab\there", "é"] {
            assert_eq!(
                IdempotencyKey::new(bad),
                Err(IdempotencyKeyError::InvalidCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn random_keys_are_uuid_v4_and_distinct() {
        let a = IdempotencyKey::random();
        let b = IdempotencyKey::random();
        assert_ne!(a, b);
        for k in [&a, &b] {
            let s = k.as_str();
            assert_eq!(s.len(), 36, "{s}");
            let groups: Vec<&str> = s.split('-').collect();
            assert_eq!(
                groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12]
            );
            assert!(s.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
            assert_eq!(&groups[2][..1], "4", "version nibble: {s}");
            assert!("89ab".contains(&groups[3][..1]), "variant nibble: {s}");
        }
    }

    #[test]
    fn uuid_bits_are_forced() {
        assert_eq!(
            uuid_v4_string([0xff; 16]),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(
            uuid_v4_string([0; 16]),
            "00000000-0000-4000-8000-000000000000"
        );
    }
}
