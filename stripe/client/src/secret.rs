//! Secrets that must never reach a log line, an error message or a `Debug` dump:
//! the API secret key, webhook endpoint secrets and PaymentIntent client secrets.
//!
//! Every type here prints `[REDACTED]` from `Debug` and `Display`; the value itself is
//! only reachable through an explicit `expose()` call at the one place that sends it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const REDACTED: &str = "[REDACTED]";

/// A string secret with redacted `Debug`/`Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Whether a key belongs to Stripe's test or live mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    Test,
    Live,
}

/// A key was rejected. The message names the expected shape, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SecretError(&'static str);

/// A server-side API key: `sk_test_…`, `sk_live_…` or a restricted `rk_test_…`/`rk_live_…`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    secret: Secret,
    mode: KeyMode,
}

impl SecretKey {
    /// Validates the prefix. Publishable keys (`pk_…`) and webhook secrets are refused,
    /// and so is anything with whitespace or control characters (a header-injection risk).
    pub fn new(value: impl Into<String>) -> Result<Self, SecretError> {
        let value = value.into();
        let mode = if value.starts_with("sk_test_") || value.starts_with("rk_test_") {
            KeyMode::Test
        } else if value.starts_with("sk_live_") || value.starts_with("rk_live_") {
            KeyMode::Live
        } else if value.starts_with("pk_") {
            return Err(SecretError(
                "a publishable key (pk_…) cannot be used on the server: use the secret key (sk_…)",
            ));
        } else {
            return Err(SecretError(
                "a Stripe secret key starts with sk_test_, sk_live_, rk_test_ or rk_live_",
            ));
        };
        if value.len() <= "sk_test_".len() {
            return Err(SecretError("the Stripe secret key is too short"));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SecretError(
                "the Stripe secret key contains whitespace or non-ASCII characters",
            ));
        }
        Ok(SecretKey {
            secret: Secret(value),
            mode,
        })
    }

    pub fn mode(&self) -> KeyMode {
        self.mode
    }

    /// The key itself, only for the `Authorization` header.
    pub fn expose(&self) -> &str {
        self.secret.expose()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            KeyMode::Test => "test",
            KeyMode::Live => "live",
        };
        write!(f, "SecretKey({mode}, {REDACTED})")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A webhook endpoint signing secret, `whsec_…`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Secret);

impl WebhookSecret {
    pub fn new(value: impl Into<String>) -> Result<Self, SecretError> {
        let value = value.into();
        if !value.starts_with("whsec_") || value.len() <= "whsec_".len() {
            return Err(SecretError(
                "a webhook signing secret starts with whsec_ (the endpoint's secret, not an API key)",
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SecretError(
                "the webhook signing secret contains whitespace or non-ASCII characters",
            ));
        }
        Ok(WebhookSecret(Secret(value)))
    }

    /// The secret itself: the HMAC key is the whole string, `whsec_` included.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret({REDACTED})")
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A PaymentIntent's `client_secret` (`pi_…_secret_…`). Only the browser gets it; it is
/// never logged. `Serialize` writes the real value (that is how it reaches the browser),
/// `Debug`/`Display` do not.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(Secret);

impl ClientSecret {
    pub fn new(value: impl Into<String>) -> Self {
        ClientSecret(Secret::new(value))
    }

    /// The value to hand to Stripe.js.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientSecret({REDACTED})")
    }
}

impl fmt::Display for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for ClientSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for ClientSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(ClientSecret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk_test_51NqVerySecretValue0123456789";

    #[test]
    fn secret_key_is_redacted_everywhere() {
        let key = SecretKey::new(KEY).unwrap();
        for shown in [format!("{key:?}"), format!("{key}"), format!("{key:#?}")] {
            assert!(!shown.contains(KEY), "{shown}");
            assert!(!shown.contains("VerySecret"), "{shown}");
            assert!(shown.contains("REDACTED"), "{shown}");
        }
        assert_eq!(key.expose(), KEY);
        assert_eq!(key.mode(), KeyMode::Test);
    }

    #[test]
    fn secret_key_prefixes_and_modes() {
        assert_eq!(SecretKey::new("sk_live_abc").unwrap().mode(), KeyMode::Live);
        assert_eq!(SecretKey::new("rk_live_abc").unwrap().mode(), KeyMode::Live);
        assert_eq!(SecretKey::new("rk_test_abc").unwrap().mode(), KeyMode::Test);
        for bad in [
            "",
            "sk_test_",
            "pk_test_abc",
            "whsec_abc",
            "sk_prod_abc",
            "sk_test_a b",
            "sk_test_a\n",
        ] {
            let err = SecretKey::new(bad).unwrap_err();
            if bad.len() > 8 {
                assert!(!err.to_string().contains(bad), "{err}");
            }
        }
    }

    #[test]
    fn webhook_secret_is_redacted_and_validated() {
        let value = "whsec_Zm9vYmFyYmF6cXV4";
        let secret = WebhookSecret::new(value).unwrap();
        assert!(!format!("{secret:?}").contains("Zm9v"));
        assert!(!format!("{secret}").contains("Zm9v"));
        assert_eq!(secret.expose(), value);
        assert!(WebhookSecret::new("whsec_").is_err());
        assert!(WebhookSecret::new("sk_test_abc").is_err());
    }

    #[test]
    fn client_secret_debug_is_redacted_but_serializes() {
        let cs = ClientSecret::new("pi_123_secret_456");
        assert!(!format!("{cs:?}").contains("secret_456"));
        assert!(!format!("{cs}").contains("secret_456"));
        assert_eq!(serde_json::to_string(&cs).unwrap(), "\"pi_123_secret_456\"");
        let back: ClientSecret = serde_json::from_str("\"pi_1_secret_2\"").unwrap();
        assert_eq!(back.expose(), "pi_1_secret_2");
    }
}
