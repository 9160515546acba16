use serde::{Deserialize, Serialize};

use super::Customer;
use crate::wire::Expandable;

stripe_types::wire_enum!(
    /// A card network brand as Stripe names it.
    open CardBrand {
        Amex = "amex",
        Diners = "diners",
        Discover = "discover",
        EftposAu = "eftpos_au",
        Jcb = "jcb",
        Mastercard = "mastercard",
        UnionPay = "unionpay",
        Visa = "visa",
        Unknown = "unknown",
    }
);

stripe_object! {
    /// A PaymentMethod (`pm_…`), saved cards included.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct PaymentMethod {
        /// `card` for this checkout.
        #[serde(rename = "type")]
        pub kind: String,
        pub card: Option<Card>,
        pub billing_details: Option<BillingDetails>,
        pub customer: Option<Expandable<Customer>>,
    }
}

impl PaymentMethod {
    pub fn customer_id(&self) -> Option<&str> {
        self.customer.as_ref().map(Expandable::id)
    }
}

/// The card of a PaymentMethod, or of a Charge's `payment_method_details.card`.
/// Never the number: only brand, last four digits and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub brand: CardBrand,
    #[serde(default)]
    pub last4: String,
    #[serde(default)]
    pub exp_month: u32,
    #[serde(default)]
    pub exp_year: i32,
    /// `credit`, `debit`, `prepaid` or `unknown`.
    pub funding: Option<String>,
    pub country: Option<String>,
    pub fingerprint: Option<String>,
    pub checks: Option<CardChecks>,
}

/// `pass`, `fail`, `unavailable` or `unchecked` for each check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardChecks {
    pub cvc_check: Option<String>,
    pub address_line1_check: Option<String>,
    pub address_postal_code_check: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Address>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// `POST /v1/payment_methods/{id}/attach`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachPaymentMethod {
    pub customer: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_card_payment_method() {
        let pm: PaymentMethod = serde_json::from_str(
            r#"{"id":"pm_1","object":"payment_method","type":"card",
                "card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034,
                        "funding":"credit","country":"US","checks":{"cvc_check":"pass"},
                        "networks":{"available":["visa"]},"wallet":null},
                "billing_details":{"name":"Ada","email":null,"phone":null,
                        "address":{"postal_code":"42424","country":null}},
                "customer":"cus_1","created":1,"livemode":false}"#,
        )
        .unwrap();
        let card = pm.card.as_ref().unwrap();
        assert_eq!(card.brand, CardBrand::Visa);
        assert_eq!(card.last4, "4242");
        assert_eq!(
            card.checks.as_ref().unwrap().cvc_check.as_deref(),
            Some("pass")
        );
        assert_eq!(pm.customer_id(), Some("cus_1"));
        assert_eq!(
            pm.billing_details
                .unwrap()
                .address
                .unwrap()
                .postal_code
                .as_deref(),
            Some("42424")
        );
    }

    #[test]
    fn unknown_brand_is_kept() {
        let card: Card = serde_json::from_str(r#"{"brand":"newnet","last4":"0000"}"#).unwrap();
        assert_eq!(card.brand, CardBrand::Other("newnet".into()));
    }
}
