//! Options passed to Stripe.js, as serde types (serialised to plain JS objects).

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Options of `elements.create('card', …)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardOptions {
    /// Hide the postal code field (collect it yourself, or not at all).
    pub hide_postal_code: bool,
    /// Hide the card brand icon.
    pub hide_icon: bool,
    /// Show the Element disabled.
    pub disabled: bool,
    /// `"default"` or `"solid"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_style: Option<String>,
    /// Styles applied inside Stripe's iframe (the page's CSS does not reach it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<CardStyle>,
}

/// The card Element's `style`: rules for each state of the input.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CardStyle {
    /// Applied in every state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<StyleRules>,
    /// Once every field is complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<StyleRules>,
    /// While empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty: Option<StyleRules>,
    /// While a field is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid: Option<StyleRules>,
}

/// CSS properties in Stripe's camelCase form (`color`, `fontFamily`, `fontSize`,
/// `iconColor`, …) and nested rules for pseudo-classes and -elements (`::placeholder`,
/// `:focus`, `:hover`, `:-webkit-autofill`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StyleRules {
    /// Property → value, e.g. `("fontSize", "16px")`.
    pub properties: BTreeMap<String, String>,
    /// Selector → its properties, e.g. `("::placeholder", {"color": "#8a8f98"})`.
    pub nested: BTreeMap<String, BTreeMap<String, String>>,
}

impl StyleRules {
    /// No rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) one property.
    pub fn set(mut self, property: &str, value: &str) -> Self {
        self.properties
            .insert(property.to_owned(), value.to_owned());
        self
    }

    /// Adds one property under a pseudo-class/-element such as `::placeholder`.
    pub fn nested(mut self, selector: &str, property: &str, value: &str) -> Self {
        self.nested
            .entry(selector.to_owned())
            .or_default()
            .insert(property.to_owned(), value.to_owned());
        self
    }
}

impl Serialize for StyleRules {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.properties.len() + self.nested.len()))?;
        for (k, v) in &self.properties {
            map.serialize_entry(k, v)?;
        }
        for (k, v) in &self.nested {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// `billing_details` sent with the card when confirming. Absent fields are left out
/// (Stripe.js refuses `null`s there); `postal_code` and `country` go to
/// `address.postal_code` / `address.country`, where Stripe expects them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BillingDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub postal_code: Option<String>,
    /// Two-letter country code (`"US"`).
    pub country: Option<String>,
}

#[derive(Serialize)]
struct BillingWire<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<AddressWire<'a>>,
}

#[derive(Serialize)]
struct AddressWire<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    postal_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
}

impl Serialize for BillingDetails {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let postal_code = self.postal_code.as_deref();
        let country = self.country.as_deref();
        let address = (postal_code.is_some() || country.is_some()).then_some(AddressWire {
            postal_code,
            country,
        });
        BillingWire {
            name: self.name.as_deref(),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            address,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn card_options_use_stripe_names() {
        let options = CardOptions {
            hide_postal_code: true,
            style: Some(CardStyle {
                base: Some(
                    StyleRules::new()
                        .set("color", "#32325d")
                        .set("fontSize", "16px")
                        .nested("::placeholder", "color", "#aab7c4"),
                ),
                invalid: Some(StyleRules::new().set("color", "#fa755a")),
                ..CardStyle::default()
            }),
            ..CardOptions::default()
        };
        assert_eq!(
            serde_json::to_value(&options).unwrap(),
            json!({
                "hidePostalCode": true,
                "hideIcon": false,
                "disabled": false,
                "style": {
                    "base": {"color": "#32325d", "fontSize": "16px",
                             "::placeholder": {"color": "#aab7c4"}},
                    "invalid": {"color": "#fa755a"}
                }
            })
        );
        assert_eq!(
            serde_json::to_value(CardOptions::default()).unwrap(),
            json!({"hidePostalCode": false, "hideIcon": false, "disabled": false})
        );
    }

    #[test]
    fn billing_details_skip_absent_fields_and_nest_the_address() {
        let full = BillingDetails {
            name: Some("Jenny Rosen".into()),
            email: Some("jenny@example.com".into()),
            phone: None,
            postal_code: Some("94103".into()),
            country: None,
        };
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            json!({"name": "Jenny Rosen", "email": "jenny@example.com",
                   "address": {"postal_code": "94103"}})
        );
        assert_eq!(
            serde_json::to_value(BillingDetails::default()).unwrap(),
            json!({})
        );
    }
}
