//! The shop's domain: catalogue entries, carts priced from the catalogue, orders.
//!
//! Pure and shared by both sides; the pricing rules live here once and are unit-tested
//! natively. Amounts are only ever computed from catalogue prices held by the server.

use serde::{Deserialize, Serialize};
use stripe_types::{Currency, Money};

/// Largest quantity of one product in a cart.
pub const MAX_QUANTITY: u32 = 99;
/// Most distinct products in one cart.
pub const MAX_LINES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    /// A CSS colour used as the product's swatch.
    pub swatch: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: String,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
    pub line_total: Money,
}

/// A cart as the server priced it. `total` is `None` only for an empty cart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartView {
    pub lines: Vec<CartLine>,
    pub total: Option<Money>,
}

impl CartView {
    pub fn item_count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Processing,
    Paid,
    Failed,
    Canceled,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Processing => "processing",
            OrderStatus::Paid => "paid",
            OrderStatus::Failed => "failed",
            OrderStatus::Canceled => "canceled",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        Some(match s {
            "pending" => OrderStatus::Pending,
            "processing" => OrderStatus::Processing,
            "paid" => OrderStatus::Paid,
            "failed" => OrderStatus::Failed,
            "canceled" => OrderStatus::Canceled,
            "refunded" => OrderStatus::Refunded,
            _ => return None,
        })
    }
}

impl OrderStatus {
    /// The order still takes a payment (a failed attempt can be retried).
    pub fn is_payable(&self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Failed)
    }

    /// What the shopper reads on the order page.
    pub fn describe(&self) -> &'static str {
        match self {
            OrderStatus::Pending => "Awaiting payment.",
            OrderStatus::Processing => {
                "Payment received by the card network; waiting for confirmation."
            }
            OrderStatus::Paid => "Paid. Thank you! Your order is on its way.",
            OrderStatus::Failed => "The last payment attempt failed. You can try again.",
            OrderStatus::Canceled => "This order was canceled.",
            OrderStatus::Refunded => "This order was refunded.",
        }
    }
}

/// What the checkout page needs to confirm an order's PaymentIntent in the browser.
/// The client secret goes to this shopper's browser only; it is never logged or stored
/// (`Debug` redacts it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentStart {
    pub order_id: String,
    pub payment_intent_id: String,
    pub client_secret: String,
    pub amount: Money,
}

impl std::fmt::Debug for PaymentStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentStart")
            .field("order_id", &self.order_id)
            .field("payment_intent_id", &self.payment_intent_id)
            .field("client_secret", &"[redacted]")
            .field("amount", &self.amount)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub status: OrderStatus,
    pub lines: Vec<CartLine>,
    pub total: Money,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Why the last payment attempt failed (a Stripe code such as `card_declined`).
    pub failure_code: Option<String>,
}

/// What the browser needs to talk to Stripe (or the offline sandbox). Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentsConfig {
    pub publishable_key: String,
    pub js_url: String,
    /// Payments go to the built-in offline emulator: nothing is really charged.
    pub sandbox: bool,
}

/// Every failure a shopper can meet, with a message fit to show them.
///
/// On the wire: `{"kind": "unknown_product", "detail": {"sku": "x"}}` (`detail` absent for
/// unit variants, a string for `bad_request`). `Deserialize` is written by hand: the
/// derived one for an adjacently tagged enum is one of the largest functions in the WASM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ShopError {
    #[error("Quantity must be a whole number from 1 to {max}; got “{input}”.", max = MAX_QUANTITY)]
    InvalidQuantity { input: String },
    #[error("At most {max} of one product fit in a cart.", max = MAX_QUANTITY)]
    QuantityLimit,
    #[error("A cart holds at most {max} different products.", max = MAX_LINES)]
    TooManyLines,
    #[error("There is no product “{sku}” in the catalogue.")]
    UnknownProduct { sku: String },
    #[error("“{sku}” is not in your cart.")]
    NotInCart { sku: String },
    #[error("Your cart is empty.")]
    EmptyCart,
    #[error("A cart can only hold items priced in one currency.")]
    MixedCurrencies,
    #[error("Prices or your cart changed: the total is now {current}, not {expected}. Please review your cart.")]
    TotalChanged { expected: String, current: String },
    #[error("That amount is too large.")]
    AmountOverflow,
    #[error("There is no order “{id}”.")]
    UnknownOrder { id: String },
    #[error("This order is already paid.")]
    AlreadyPaid,
    #[error("This order can no longer be paid (it is {status}).")]
    NotPayable { status: String },
    /// The payment provider refused or could not be reached; `message` is safe for the
    /// shopper (the details are in the server's log).
    #[error("{message}")]
    Payment { message: String },
    #[error("Something went wrong on our side; nothing was changed. Please try again.")]
    Internal,
    #[error("We couldn't reach the shop. Check your connection and try again; you have not been charged.")]
    Unreachable,
    #[error("The request could not be understood: {0}")]
    BadRequest(String),
}

impl ShopError {
    /// The HTTP status a server function answers with for this error.
    pub fn http_status(&self) -> u16 {
        match self {
            ShopError::InvalidQuantity { .. }
            | ShopError::QuantityLimit
            | ShopError::TooManyLines
            | ShopError::EmptyCart
            | ShopError::MixedCurrencies
            | ShopError::AmountOverflow
            | ShopError::BadRequest(_) => 400,
            ShopError::UnknownProduct { .. }
            | ShopError::NotInCart { .. }
            | ShopError::UnknownOrder { .. } => 404,
            ShopError::TotalChanged { .. }
            | ShopError::AlreadyPaid
            | ShopError::NotPayable { .. } => 409,
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
            "internal" => ShopError::Internal,
            "unreachable" => ShopError::Unreachable,
            _ => ShopError::BadRequest(detail.text.unwrap_or(kind)),
        })
    }
}

/// Parses a quantity typed by a shopper (or sent by anyone): 1 to [`MAX_QUANTITY`].
pub fn parse_quantity(input: &str) -> Result<u32, ShopError> {
    let invalid = || ShopError::InvalidQuantity {
        input: input.chars().take(32).collect(),
    };
    let trimmed = input.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match trimmed.parse::<u32>() {
        Ok(q) if (1..=MAX_QUANTITY).contains(&q) => Ok(q),
        _ => Err(invalid()),
    }
}

/// Validates a SKU's shape before it goes near the database.
pub fn check_sku(sku: &str) -> Result<(), ShopError> {
    let ok = !sku.is_empty()
        && sku.len() <= 64
        && sku
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ShopError::UnknownProduct {
            sku: sku.chars().take(64).collect(),
        })
    }
}

/// Prices a cart from catalogue products and quantities. All lines must share one
/// currency; every sum is checked.
pub fn price_cart(items: &[(Product, u32)]) -> Result<CartView, ShopError> {
    let mut lines = Vec::with_capacity(items.len());
    let mut total: Option<Money> = None;
    for (product, quantity) in items {
        if !(1..=MAX_QUANTITY).contains(quantity) {
            return Err(ShopError::InvalidQuantity {
                input: quantity.to_string(),
            });
        }
        let line_total = product
            .price
            .checked_mul(i64::from(*quantity))
            .map_err(|_| ShopError::AmountOverflow)?;
        total = Some(match total {
            None => line_total,
            Some(sum) => sum.checked_add(line_total).map_err(|e| match e {
                stripe_types::MoneyError::CurrencyMismatch(..) => ShopError::MixedCurrencies,
                stripe_types::MoneyError::Overflow => ShopError::AmountOverflow,
            })?,
        });
        lines.push(CartLine {
            sku: product.sku.clone(),
            name: product.name.clone(),
            unit_price: product.price,
            quantity: *quantity,
            line_total,
        });
    }
    Ok(CartView { lines, total })
}

/// The currency a cart is in, if it has any lines.
pub fn cart_currency(cart: &CartView) -> Option<Currency> {
    cart.total.map(|t| t.currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str, minor: i64, currency: Currency) -> Product {
        Product {
            sku: sku.into(),
            name: sku.to_uppercase(),
            description: String::new(),
            price: Money::new(minor, currency),
            swatch: "#000".into(),
        }
    }

    #[test]
    fn quantities_are_whole_numbers_in_range() {
        assert_eq!(parse_quantity("1"), Ok(1));
        assert_eq!(parse_quantity(" 99 "), Ok(99));
        for bad in [
            "0",
            "-1",
            "100",
            "1000000000",
            "abc",
            "",
            "1.5",
            "2e3",
            "+3",
            "٣",
        ] {
            assert!(
                matches!(parse_quantity(bad), Err(ShopError::InvalidQuantity { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn invalid_quantity_message_is_clear_and_bounded() {
        let err = parse_quantity(&"9".repeat(500)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("Quantity must be a whole number from 1 to 99"),
            "{msg}"
        );
        assert!(msg.len() < 120, "message echoes too much input: {msg}");
    }

    #[test]
    fn skus_are_checked_for_shape() {
        assert!(check_sku("mug-01").is_ok());
        for bad in ["", "a b", "x'; DROP TABLE products;--", &"a".repeat(65)] {
            assert!(check_sku(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn prices_lines_and_total_from_catalogue() {
        let cart = price_cart(&[
            (product("mug", 1250, Currency::USD), 2),
            (product("tee", 2400, Currency::USD), 1),
        ])
        .unwrap();
        assert_eq!(cart.lines[0].line_total, Money::new(2500, Currency::USD));
        assert_eq!(cart.total, Some(Money::new(4900, Currency::USD)));
        assert_eq!(cart.item_count(), 3);
        assert_eq!(cart_currency(&cart), Some(Currency::USD));
    }

    #[test]
    fn empty_cart_has_no_total() {
        let cart = price_cart(&[]).unwrap();
        assert!(cart.lines.is_empty());
        assert_eq!(cart.total, None);
    }

    #[test]
    fn zero_decimal_prices_are_not_scaled() {
        let cart = price_cart(&[(product("tea", 500, Currency::JPY), 3)]).unwrap();
        assert_eq!(cart.total.unwrap().to_string(), "¥1,500");
    }

    #[test]
    fn rejects_mixed_currencies_and_overflow() {
        let mixed = price_cart(&[
            (product("a", 100, Currency::USD), 1),
            (product("b", 100, Currency::EUR), 1),
        ]);
        assert_eq!(mixed, Err(ShopError::MixedCurrencies));
        let huge = price_cart(&[(product("a", i64::MAX / 2, Currency::USD), 3)]);
        assert_eq!(huge, Err(ShopError::AmountOverflow));
        let zero = price_cart(&[(product("a", 100, Currency::USD), 0)]);
        assert!(matches!(zero, Err(ShopError::InvalidQuantity { .. })));
    }

    #[test]
    fn order_status_round_trips() {
        for s in [
            OrderStatus::Pending,
            OrderStatus::Processing,
            OrderStatus::Paid,
            OrderStatus::Failed,
            OrderStatus::Canceled,
            OrderStatus::Refunded,
        ] {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("PAID"), None);
    }

    #[test]
    fn errors_serialise_with_a_kind() {
        let json = serde_json::to_string(&ShopError::UnknownProduct { sku: "x".into() }).unwrap();
        assert_eq!(json, r#"{"kind":"unknown_product","detail":{"sku":"x"}}"#);
    }

    #[test]
    fn every_error_survives_the_round_trip() {
        let all = [
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
            ShopError::Internal,
            ShopError::Unreachable,
            ShopError::BadRequest("missing field".into()),
        ];
        for error in all {
            let json = serde_json::to_string(&error).unwrap();
            let back: ShopError = serde_json::from_str(&json).unwrap();
            assert_eq!(back, error, "{json}");
        }
    }
}
