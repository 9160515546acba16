use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Currency;

/// An amount in a currency's smallest unit (cents, or yen for zero-decimal currencies),
/// exactly as Stripe takes it. No floating point anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflow")]
    Overflow,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        let minor = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// The amount for display, e.g. `$1,234.50`, `¥1,500`, `12.00 CHF`, `-€3.10`.
    pub fn display(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        let divisor = 10u64.pow(exponent);
        let abs = self.minor.unsigned_abs();
        let (major, minor) = (abs / divisor, abs % divisor);

        let digits = major.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let number = if exponent == 0 {
            grouped
        } else {
            format!("{grouped}.{minor:0width$}", width = exponent as usize)
        };
        let sign = if self.minor < 0 { "-" } else { "" };
        match self.currency.symbol() {
            Some(symbol) => write!(f, "{sign}{symbol}{number}"),
            None => write!(
                f,
                "{sign}{number} {}",
                self.currency.code().to_ascii_uppercase()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minor: i64, code: &str) -> Money {
        Money::new(minor, code.parse().unwrap())
    }

    #[test]
    fn formats_two_decimal_currencies() {
        assert_eq!(m(0, "usd").to_string(), "$0.00");
        assert_eq!(m(5, "usd").to_string(), "$0.05");
        assert_eq!(m(1999, "usd").to_string(), "$19.99");
        assert_eq!(m(123_456_789, "eur").to_string(), "€1,234,567.89");
        assert_eq!(m(100_000, "gbp").to_string(), "£1,000.00");
    }

    #[test]
    fn formats_zero_decimal_currencies_without_dividing() {
        assert_eq!(m(500, "jpy").to_string(), "¥500");
        assert_eq!(m(1_500, "jpy").to_string(), "¥1,500");
        assert_eq!(m(25_000, "krw").to_string(), "₩25,000");
        assert_eq!(m(990, "clp").to_string(), "990 CLP");
    }

    #[test]
    fn formats_unknown_symbol_and_negative_amounts() {
        assert_eq!(m(1200, "chf").to_string(), "12.00 CHF");
        assert_eq!(m(-310, "eur").to_string(), "-€3.10");
        assert_eq!(
            m(i64::MIN, "usd").to_string(),
            "-$92,233,720,368,547,758.08"
        );
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(m(250, "usd").checked_mul(3).unwrap(), m(750, "usd"));
        assert_eq!(
            m(250, "usd").checked_add(m(5, "usd")).unwrap(),
            m(255, "usd")
        );
        assert_eq!(
            m(1, "usd").checked_add(m(1, "eur")),
            Err(MoneyError::CurrencyMismatch(Currency::USD, Currency::EUR))
        );
        assert_eq!(m(i64::MAX, "usd").checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(
            m(i64::MAX, "usd").checked_add(m(1, "usd")),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn serialises_as_minor_units_and_code() {
        let json = serde_json::to_string(&m(1999, "usd")).unwrap();
        assert_eq!(json, r#"{"minor":1999,"currency":"usd"}"#);
    }
}
