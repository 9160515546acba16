//! The catalogue and carts priced from it. Pure: the pricing rules live here once and
//! are unit-tested natively. Amounts are only ever computed from catalogue prices held
//! by the server; the browser sends SKUs and quantities, never a price.

use serde::{Deserialize, Serialize};
use stripe_types::{Currency, Money, MoneyError};

use crate::error::ShopError;
use crate::ids::Sku;

/// Largest quantity of one product in a cart.
pub const MAX_QUANTITY: u32 = 99;
/// Most distinct products in one cart.
pub const MAX_LINES: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub price: Money,
    /// A CSS colour used as the product's swatch.
    pub swatch: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
    pub line_total: Money,
}

/// What a cart row's attributes say in place of its sku in the row template the cart page
/// carries (`app::pages::CartPanel`), which the browser's `pay` module copies for a line the
/// page did not show.
pub const CART_ROW_SKU_PLACEHOLDER: &str = "{sku}";

impl CartLine {
    /// What the cart row's element marked `data-field="{field}"` shows: the server renders
    /// these texts, and the browser's `pay` module writes them into a row it adds, so both
    /// show the same. `None` for a field the row does not have.
    pub fn field_text(&self, field: &str) -> Option<String> {
        Some(match field {
            "name" => self.name.clone(),
            "unit_price" => self.unit_price.to_string(),
            "quantity" => self.quantity.to_string(),
            "line_total" => self.line_total.to_string(),
            _ => return None,
        })
    }
}

/// A cart as the server priced it. `total` is `None` only for an empty cart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartView {
    pub lines: Vec<CartLine>,
    pub total: Option<Money>,
    /// The cart's revision when it was read: one more for every change, counted by the
    /// store in the change's transaction (0: a cart never changed, or none at all).
    #[serde(default)]
    pub revision: u64,
}

impl CartView {
    /// Whether this answer may replace `current` on screen: not if it was read before a
    /// change `current` already shows. Two quick clicks are two requests whose answers
    /// can arrive in either order; the older one, arriving last, must not undo the newer.
    pub fn supersedes(&self, current: &CartView) -> bool {
        self.revision >= current.revision
    }

    pub fn item_count(&self) -> u32 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    /// The total as the cart shows it, and in minor units as the checkout form sends it
    /// back (`expected_total`); both empty for an empty cart.
    pub fn total_texts(&self) -> (String, String) {
        self.total
            .map(|t| (t.to_string(), t.minor.to_string()))
            .unwrap_or_default()
    }

    /// The currency the cart is in, if it has any lines.
    pub fn currency(&self) -> Option<Currency> {
        self.total.map(|t| t.currency)
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
                MoneyError::CurrencyMismatch(..) => ShopError::MixedCurrencies,
                MoneyError::Overflow => ShopError::AmountOverflow,
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
    Ok(CartView {
        lines,
        total,
        revision: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str, minor: i64, currency: Currency) -> Product {
        Product {
            sku: Sku::parse(sku).unwrap(),
            name: sku.to_uppercase(),
            description: String::new(),
            price: Money::new(minor, currency),
            swatch: "#000".into(),
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
        assert_eq!(cart.currency(), Some(Currency::USD));
    }

    #[test]
    fn a_cart_row_shows_its_fields_and_the_total_as_the_page_and_the_form_want_them() {
        let cart = price_cart(&[(product("mug", 1250, Currency::USD), 3)]).unwrap();
        let line = &cart.lines[0];
        assert_eq!(line.field_text("name").as_deref(), Some("MUG"));
        assert_eq!(
            line.field_text("unit_price"),
            Some(line.unit_price.to_string())
        );
        assert_eq!(line.field_text("quantity").as_deref(), Some("3"));
        assert_eq!(
            line.field_text("line_total"),
            Some(line.line_total.to_string())
        );
        assert_eq!(line.field_text("sku"), None);
        let total = Money::new(3750, Currency::USD).to_string();
        assert_eq!(cart.total_texts(), (total, "3750".to_owned()));
        assert_eq!(
            CartView::default().total_texts(),
            (String::new(), String::new())
        );
    }

    #[test]
    fn an_older_answer_never_replaces_a_newer_cart() {
        let mug = price_cart(&[(product("mug", 1250, Currency::USD), 1)]).unwrap();
        let both = price_cart(&[
            (product("mug", 1250, Currency::USD), 1),
            (product("tee", 2400, Currency::USD), 1),
        ])
        .unwrap();
        let (first, second) = (
            CartView { revision: 1, ..mug },
            CartView {
                revision: 2,
                ..both
            },
        );
        // In order: each answer replaces the one before.
        assert!(first.supersedes(&CartView::default()));
        assert!(second.supersedes(&first));
        // Crossed: the first click's answer arrives after the second's and is dropped.
        assert!(!first.supersedes(&second));
        // The same revision again (a refetch) is shown.
        assert!(second.supersedes(&second.clone()));
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
}
