//! Every failure a shopper can meet.
//!
//! One rule at the browser edge: `Display` says what happened, for logs and developers;
//! [`ShopError::customer_message`] is what the shopper reads, taken from
//! [`stripe_types::messages`] (where every shopper-facing sentence lives).

use serde::{Deserialize, Serialize};
use stripe_types::messages;

use crate::catalogue::{MAX_LINES, MAX_QUANTITY};

/// On the wire: `{"kind": "unknown_product", "detail": {"sku": "x"}}` (`detail` absent for
/// unit variants, a string for `bad_request`). `Deserialize` is written by hand: the
/// derived one for an adjacently tagged enum is one of the largest functions in the WASM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ShopError {
    #[error("invalid quantity {input:?}")]
    InvalidQuantity { input: String },
    #[error("quantity over the limit of {MAX_QUANTITY}")]
    QuantityLimit,
    #[error("cart over the limit of {MAX_LINES} lines")]
    TooManyLines,
    #[error("unknown product {sku:?}")]
    UnknownProduct { sku: String },
    #[error("product {sku:?} not in the cart")]
    NotInCart { sku: String },
    #[error("empty cart")]
    EmptyCart,
    #[error("cart with mixed currencies")]
    MixedCurrencies,
    #[error("total changed: the shopper saw {expected}, the server has {current}")]
    TotalChanged { expected: String, current: String },
    #[error("amount overflow")]
    AmountOverflow,
    #[error("unknown order {id:?}")]
    UnknownOrder { id: String },
    #[error("order already paid")]
    AlreadyPaid,
    #[error("order not payable (status {status})")]
    NotPayable { status: String },
    /// The payment provider refused or could not be reached; `message` is already the
    /// shopper's sentence (the details are in the server's log).
    #[error("payment provider: {message}")]
    Payment { message: String },
    #[error("email address not shaped like one")]
    InvalidEmail,
    #[error("password outside the policy")]
    PasswordPolicy,
    #[error("an account with this email exists")]
    EmailTaken,
    #[error("wrong email or password")]
    SignInFailed,
    #[error("sign-in throttled for {minutes} more minute(s)")]
    Throttled { minutes: String },
    #[error("not signed in")]
    SignInRequired,
    #[error("payment method not saved on the caller's account")]
    UnknownCard,
    #[error("no saved card to charge")]
    NoSavedCard,
    /// A merchant page or action asked by someone who is not a merchant, or a merchant
    /// record that does not exist (404: nothing says which).
    #[error("not found")]
    NotFound,
    #[error("refund of {requested} over the refundable {refundable}")]
    RefundTooLarge {
        requested: String,
        refundable: String,
    },
    #[error("order not refundable (status {status})")]
    NotRefundable { status: String },
    #[error("invalid amount {input:?}")]
    InvalidAmount { input: String },
    /// Too many requests of this kind from the client's address (the rate limits).
    #[error("rate limited for {seconds} more second(s)")]
    RateLimited { seconds: String },
    /// The card-testing guard closed the order: too many failed payment attempts.
    #[error("order closed after too many failed payment attempts")]
    OrderAttemptsExhausted,
    /// The card-testing guard: too many failed payments from this client's address in
    /// the last hour.
    #[error("too many failed payment attempts from this client")]
    ClientAttemptsExhausted,
    #[error("internal error (see the server log)")]
    Internal,
    #[error("the server could not be reached")]
    Unreachable,
    #[error("bad request: {0}")]
    BadRequest(String),
}

impl ShopError {
    /// What the shopper reads.
    pub fn customer_message(&self) -> String {
        match self {
            ShopError::InvalidQuantity { input } => messages::invalid_quantity(MAX_QUANTITY, input),
            ShopError::QuantityLimit => messages::quantity_limit(MAX_QUANTITY),
            ShopError::TooManyLines => messages::too_many_lines(MAX_LINES),
            ShopError::UnknownProduct { sku } => messages::unknown_product(sku),
            ShopError::NotInCart { sku } => messages::not_in_cart(sku),
            ShopError::EmptyCart => messages::EMPTY_CART.into(),
            ShopError::MixedCurrencies => messages::MIXED_CURRENCIES.into(),
            ShopError::TotalChanged { expected, current } => {
                messages::total_changed(expected, current)
            }
            ShopError::AmountOverflow => messages::AMOUNT_TOO_LARGE.into(),
            ShopError::UnknownOrder { id } => messages::unknown_order(id),
            ShopError::AlreadyPaid => messages::ALREADY_PAID.into(),
            ShopError::NotPayable { status } => messages::not_payable(status),
            ShopError::Payment { message } => message.clone(),
            ShopError::InvalidEmail => messages::INVALID_EMAIL.into(),
            ShopError::PasswordPolicy => messages::password_policy(
                crate::account::MIN_PASSWORD_CHARS,
                crate::account::MAX_PASSWORD_CHARS,
            ),
            ShopError::EmailTaken => messages::EMAIL_TAKEN.into(),
            ShopError::SignInFailed => messages::SIGN_IN_FAILED.into(),
            ShopError::Throttled { minutes } => messages::sign_in_throttled(minutes),
            ShopError::SignInRequired => messages::SIGN_IN_REQUIRED.into(),
            ShopError::UnknownCard => messages::UNKNOWN_CARD.into(),
            ShopError::NoSavedCard => messages::NO_SAVED_CARD.into(),
            ShopError::NotFound => messages::NOT_FOUND.into(),
            ShopError::RefundTooLarge {
                requested,
                refundable,
            } => messages::refund_too_large(requested, refundable),
            ShopError::NotRefundable { status } => messages::not_refundable(status),
            ShopError::InvalidAmount { input } => messages::invalid_amount(input),
            ShopError::RateLimited { seconds } => messages::rate_limited(seconds),
            ShopError::OrderAttemptsExhausted => messages::ORDER_ATTEMPTS_EXHAUSTED.into(),
            ShopError::ClientAttemptsExhausted => messages::CLIENT_ATTEMPTS_EXHAUSTED.into(),
            ShopError::Internal => messages::SHOP_INTERNAL.into(),
            ShopError::Unreachable => messages::SHOP_UNREACHABLE.into(),
            ShopError::BadRequest(detail) => messages::bad_request(detail),
        }
    }

    /// The HTTP status a server function answers with for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            ShopError::InvalidQuantity { .. }
            | ShopError::QuantityLimit
            | ShopError::TooManyLines
            | ShopError::EmptyCart
            | ShopError::MixedCurrencies
            | ShopError::AmountOverflow
            | ShopError::InvalidEmail
            | ShopError::PasswordPolicy
            | ShopError::RefundTooLarge { .. }
            | ShopError::InvalidAmount { .. }
            | ShopError::BadRequest(_) => 400,
            ShopError::SignInFailed | ShopError::SignInRequired => 401,
            ShopError::Throttled { .. }
            | ShopError::RateLimited { .. }
            | ShopError::ClientAttemptsExhausted => 429,
            ShopError::UnknownProduct { .. }
            | ShopError::NotInCart { .. }
            | ShopError::UnknownOrder { .. }
            | ShopError::UnknownCard
            | ShopError::NotFound => 404,
            ShopError::TotalChanged { .. }
            | ShopError::AlreadyPaid
            | ShopError::NotPayable { .. }
            | ShopError::EmailTaken
            | ShopError::NoSavedCard
            | ShopError::NotRefundable { .. }
            | ShopError::OrderAttemptsExhausted => 409,
            ShopError::Payment { .. } | ShopError::Unreachable => 502,
            ShopError::Internal => 500,
        }
    }
}

impl<'de> Deserialize<'de> for ShopError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use std::collections::BTreeMap;

        /// `detail`: a string, or an object of strings.
        #[derive(Default)]
        struct Detail {
            text: Option<String>,
            fields: BTreeMap<String, String>,
        }
        impl<'de> Deserialize<'de> for Detail {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Detail;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a string or an object of strings")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Detail, E> {
                        Ok(Detail {
                            text: Some(v.to_owned()),
                            ..Detail::default()
                        })
                    }
                    fn visit_unit<E: serde::de::Error>(self) -> Result<Detail, E> {
                        Ok(Detail::default())
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Detail, A::Error> {
                        let mut fields = BTreeMap::new();
                        while let Some((k, v)) = map.next_entry::<String, String>()? {
                            fields.insert(k, v);
                        }
                        Ok(Detail { text: None, fields })
                    }
                }
                d.deserialize_any(V)
            }
        }
        #[derive(Deserialize)]
        struct Wire {
            kind: String,
            #[serde(default)]
            detail: Option<Detail>,
        }

        let Wire { kind, detail } = Wire::deserialize(deserializer)?;
        let mut detail = detail.unwrap_or_default();
        let mut field = |name: &str| detail.fields.remove(name).unwrap_or_default();
        Ok(match kind.as_str() {
            "invalid_quantity" => ShopError::InvalidQuantity {
                input: field("input"),
            },
            "quantity_limit" => ShopError::QuantityLimit,
            "too_many_lines" => ShopError::TooManyLines,
            "unknown_product" => ShopError::UnknownProduct { sku: field("sku") },
            "not_in_cart" => ShopError::NotInCart { sku: field("sku") },
            "empty_cart" => ShopError::EmptyCart,
            "mixed_currencies" => ShopError::MixedCurrencies,
            "total_changed" => ShopError::TotalChanged {
                expected: field("expected"),
                current: field("current"),
            },
            "amount_overflow" => ShopError::AmountOverflow,
            "unknown_order" => ShopError::UnknownOrder { id: field("id") },
            "already_paid" => ShopError::AlreadyPaid,
            "not_payable" => ShopError::NotPayable {
                status: field("status"),
            },
            "payment" => ShopError::Payment {
                message: field("message"),
            },
            "invalid_email" => ShopError::InvalidEmail,
            "password_policy" => ShopError::PasswordPolicy,
            "email_taken" => ShopError::EmailTaken,
            "sign_in_failed" => ShopError::SignInFailed,
            "throttled" => ShopError::Throttled {
                minutes: field("minutes"),
            },
            "sign_in_required" => ShopError::SignInRequired,
            "unknown_card" => ShopError::UnknownCard,
            "no_saved_card" => ShopError::NoSavedCard,
            "not_found" => ShopError::NotFound,
            "refund_too_large" => ShopError::RefundTooLarge {
                requested: field("requested"),
                refundable: field("refundable"),
            },
            "not_refundable" => ShopError::NotRefundable {
                status: field("status"),
            },
            "invalid_amount" => ShopError::InvalidAmount {
                input: field("input"),
            },
            "rate_limited" => ShopError::RateLimited {
                seconds: field("seconds"),
            },
            "order_attempts_exhausted" => ShopError::OrderAttemptsExhausted,
            "client_attempts_exhausted" => ShopError::ClientAttemptsExhausted,
            "internal" => ShopError::Internal,
            "unreachable" => ShopError::Unreachable,
            _ => ShopError::BadRequest(detail.text.unwrap_or(kind)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<ShopError> {
        vec![
            ShopError::InvalidQuantity { input: "x".into() },
            ShopError::QuantityLimit,
            ShopError::TooManyLines,
            ShopError::UnknownProduct { sku: "s".into() },
            ShopError::NotInCart { sku: "s".into() },
            ShopError::EmptyCart,
            ShopError::MixedCurrencies,
            ShopError::TotalChanged {
                expected: "$1.00".into(),
                current: "$2.00".into(),
            },
            ShopError::AmountOverflow,
            ShopError::UnknownOrder { id: "ord_x".into() },
            ShopError::AlreadyPaid,
            ShopError::NotPayable {
                status: "canceled".into(),
            },
            ShopError::Payment {
                message: "declined".into(),
            },
            ShopError::InvalidEmail,
            ShopError::PasswordPolicy,
            ShopError::EmailTaken,
            ShopError::SignInFailed,
            ShopError::Throttled {
                minutes: "15".into(),
            },
            ShopError::SignInRequired,
            ShopError::UnknownCard,
            ShopError::NoSavedCard,
            ShopError::NotFound,
            ShopError::RefundTooLarge {
                requested: "$20.00".into(),
                refundable: "$7.50".into(),
            },
            ShopError::NotRefundable {
                status: "pending".into(),
            },
            ShopError::InvalidAmount {
                input: "5,00".into(),
            },
            ShopError::RateLimited {
                seconds: "12".into(),
            },
            ShopError::OrderAttemptsExhausted,
            ShopError::ClientAttemptsExhausted,
            ShopError::Internal,
            ShopError::Unreachable,
            ShopError::BadRequest("missing field".into()),
        ]
    }

    #[test]
    fn errors_serialise_with_a_kind() {
        let json = serde_json::to_string(&ShopError::UnknownProduct { sku: "x".into() }).unwrap();
        assert_eq!(json, r#"{"kind":"unknown_product","detail":{"sku":"x"}}"#);
    }

    #[test]
    fn every_error_survives_the_round_trip() {
        for error in all() {
            let json = serde_json::to_string(&error).unwrap();
            let back: ShopError = serde_json::from_str(&json).unwrap();
            assert_eq!(back, error, "{json}");
        }
    }

    #[test]
    fn shoppers_read_sentences_and_logs_read_facts() {
        assert_eq!(
            ShopError::TotalChanged {
                expected: "$1.00".into(),
                current: "$2.00".into()
            }
            .customer_message(),
            "Prices or your cart changed: the total is now $2.00, not $1.00. Please review your cart."
        );
        assert_eq!(
            ShopError::Internal.customer_message(),
            "Something went wrong on our side; nothing was changed. Please try again."
        );
        for error in all() {
            let (shopper, log) = (error.customer_message(), error.to_string());
            assert!(!shopper.is_empty() && !log.is_empty());
            assert_ne!(shopper, log, "Display must not be the shopper's sentence");
        }
    }
}
