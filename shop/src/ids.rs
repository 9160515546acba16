//! Ids and quantities as they enter the shop: parsed once at the edge (a server
//! function's argument, a cookie, a row), valid everywhere after. Each refusal is the
//! error a shopper would get for that input (an unknown order is a 404, not a 400).
//!
//! On the wire every id is its plain string; deserialising checks it again.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalogue::MAX_QUANTITY;
use crate::error::ShopError;

/// An order's id: `ord_` and 20 lowercase letters or digits (random, unguessable).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct OrderId(String);

impl OrderId {
    const PREFIX: &'static str = "ord_";
    const TAIL: usize = 20;

    /// An order id from untrusted input; anything else is an order that does not exist.
    pub fn parse(input: &str) -> Result<OrderId, ShopError> {
        if is_random_id(input, Self::PREFIX, Self::TAIL) {
            Ok(OrderId(input.to_owned()))
        } else {
            Err(ShopError::UnknownOrder {
                id: input.chars().take(40).collect(),
            })
        }
    }

    /// A new random order id.
    #[cfg(feature = "server")]
    pub fn generate() -> OrderId {
        OrderId(format!("{}{}", Self::PREFIX, random_tail(Self::TAIL)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `input` is `prefix` and `tail_len` lowercase letters or digits: the shape of
/// the ids [`random_tail`] makes.
pub(crate) fn is_random_id(input: &str, prefix: &str, tail_len: usize) -> bool {
    input.strip_prefix(prefix).is_some_and(|tail| {
        tail.len() == tail_len
            && tail
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// `len` random lowercase letters or digits (the tail of an id).
#[cfg(feature = "server")]
pub(crate) fn random_tail(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A shopper's cart: 32 hex digits, the value of the HttpOnly `cart` cookie.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CartId(String);

impl CartId {
    /// A cart id from a cookie; `None` for anything malformed (the cookie is ignored).
    pub fn parse(input: &str) -> Option<CartId> {
        (input.len() == 32 && input.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| CartId(input.to_owned()))
    }

    /// A new random cart id (128 bits).
    #[cfg(feature = "server")]
    pub fn generate() -> CartId {
        use rand::Rng;
        let bytes: [u8; 16] = rand::thread_rng().gen();
        CartId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A product's SKU: 1–64 ASCII letters, digits, `-` or `_` (checked before it goes near
/// the database).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Sku(String);

impl Sku {
    /// A SKU from untrusted input; a malformed one is a product that does not exist.
    pub fn parse(input: &str) -> Result<Sku, ShopError> {
        let ok = !input.is_empty()
            && input.len() <= 64
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Sku(input.to_owned()))
        } else {
            Err(ShopError::UnknownProduct {
                sku: input.chars().take(64).collect(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many of one product: a whole number from 1 to [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(u32);

impl Quantity {
    /// A quantity typed by a shopper (or sent by anyone): ASCII digits only, 1 to
    /// [`MAX_QUANTITY`], surrounding spaces allowed.
    pub fn parse(input: &str) -> Result<Quantity, ShopError> {
        let invalid = || ShopError::InvalidQuantity {
            input: input.chars().take(32).collect(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        trimmed
            .parse::<u32>()
            .ok()
            .and_then(Quantity::new)
            .ok_or_else(invalid)
    }

    pub fn new(n: u32) -> Option<Quantity> {
        (1..=MAX_QUANTITY).contains(&n).then_some(Quantity(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

macro_rules! string_id {
    ($($name:ident),+) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    )+};
}
string_id!(OrderId, CartId, Sku);

impl TryFrom<String> for OrderId {
    type Error = ShopError;
    fn try_from(s: String) -> Result<Self, ShopError> {
        OrderId::parse(&s)
    }
}

impl TryFrom<String> for Sku {
    type Error = ShopError;
    fn try_from(s: String) -> Result<Self, ShopError> {
        Sku::parse(&s)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_whole_numbers_in_range() {
        assert_eq!(Quantity::parse("1").map(Quantity::get), Ok(1));
        assert_eq!(Quantity::parse(" 99 ").map(Quantity::get), Ok(99));
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
                matches!(Quantity::parse(bad), Err(ShopError::InvalidQuantity { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn invalid_quantity_message_is_clear_and_bounded() {
        let err = Quantity::parse(&"9".repeat(500)).unwrap_err();
        let msg = err.customer_message();
        assert!(
            msg.starts_with("Quantity must be a whole number from 1 to 99"),
            "{msg}"
        );
        assert!(msg.len() < 120, "message echoes too much input: {msg}");
    }

    #[test]
    fn skus_are_checked_for_shape() {
        assert!(Sku::parse("mug-01").is_ok());
        for bad in ["", "a b", "x'; DROP TABLE products;--", &"a".repeat(65)] {
            assert!(Sku::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[cfg(feature = "server")]
    #[test]
    fn order_ids_are_random_and_validated() {
        let a = OrderId::generate();
        assert!(OrderId::parse(a.as_str()).is_ok(), "{a}");
        assert_ne!(a, OrderId::generate());
        for bad in [
            "",
            "ord_",
            "ord_ABCDEFGHIJKLMNOPQRST",
            "1",
            "ord_../../etc/passwd0000",
        ] {
            assert!(
                matches!(OrderId::parse(bad), Err(ShopError::UnknownOrder { .. })),
                "{bad}"
            );
        }
    }

    #[cfg(feature = "server")]
    #[test]
    fn new_cart_ids_are_random_and_well_formed() {
        let (a, b) = (CartId::generate(), CartId::generate());
        assert!(CartId::parse(a.as_str()).is_some() && CartId::parse(b.as_str()).is_some());
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_cart_ids_are_ignored() {
        for bad in ["", "abc", "../../etc", &"g".repeat(32), &"a".repeat(33)] {
            assert_eq!(CartId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_are_plain_strings_on_the_wire_and_checked_when_read() {
        let sku = Sku::parse("ferris-mug").unwrap();
        assert_eq!(serde_json::to_string(&sku).unwrap(), r#""ferris-mug""#);
        assert_eq!(serde_json::from_str::<Sku>(r#""ferris-mug""#).unwrap(), sku);
        assert!(serde_json::from_str::<Sku>(r#""no such sku""#).is_err());
        assert!(serde_json::from_str::<OrderId>(r#""ord_x""#).is_err());
    }
}
