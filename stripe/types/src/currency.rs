use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Currencies whose smallest unit is the whole unit (Stripe's list): ¥500 is `500`.
const ZERO_DECIMAL: [&str; 16] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// An ISO 4217 currency code, stored lower-case as Stripe sends and expects it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a currency code: expected three letters such as `usd`")]
pub struct CurrencyError(pub String);

impl Currency {
    pub const USD: Currency = Currency(*b"usd");
    pub const EUR: Currency = Currency(*b"eur");
    pub const GBP: Currency = Currency(*b"gbp");
    pub const JPY: Currency = Currency(*b"jpy");

    /// The lower-case code, e.g. `"usd"`.
    pub fn code(&self) -> &str {
        // Only ASCII letters are ever stored (see `FromStr`).
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }

    /// Number of decimal places of the minor unit: 0 for JPY and friends, 2 otherwise.
    pub fn exponent(&self) -> u32 {
        if ZERO_DECIMAL.contains(&self.code()) {
            0
        } else {
            2
        }
    }

    pub fn is_zero_decimal(&self) -> bool {
        self.exponent() == 0
    }

    /// The symbol put in front of an amount, when the currency has a well-known one.
    pub fn symbol(&self) -> Option<&'static str> {
        Some(match self.code() {
            "usd" => "$",
            "eur" => "€",
            "gbp" => "£",
            "jpy" => "¥",
            "krw" => "₩",
            "inr" => "₹",
            _ => return None,
        })
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(CurrencyError(s.to_owned()));
        }
        let mut code = [0u8; 3];
        for (dst, src) in code.iter_mut().zip(bytes) {
            *dst = src.to_ascii_lowercase();
        }
        Ok(Currency(code))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_lowercases() {
        assert_eq!("USD".parse::<Currency>().unwrap(), Currency::USD);
        assert_eq!("jpy".parse::<Currency>().unwrap().code(), "jpy");
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in ["", "us", "usdd", "u$d", "12a", "€€€"] {
            assert!(bad.parse::<Currency>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn zero_decimal_currencies_follow_stripe() {
        for code in ZERO_DECIMAL {
            assert_eq!(code.parse::<Currency>().unwrap().exponent(), 0, "{code}");
        }
        for code in ["usd", "eur", "gbp", "chf"] {
            assert_eq!(code.parse::<Currency>().unwrap().exponent(), 2, "{code}");
        }
    }

    #[test]
    fn serde_round_trip_is_lower_case_string() {
        let json = serde_json::to_string(&Currency::EUR).unwrap();
        assert_eq!(json, "\"eur\"");
        assert_eq!(
            serde_json::from_str::<Currency>("\"EUR\"").unwrap(),
            Currency::EUR
        );
        assert!(serde_json::from_str::<Currency>("\"euro\"").is_err());
    }
}
