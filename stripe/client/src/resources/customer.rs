use serde::{Deserialize, Serialize};

use super::{Page, PaymentMethod};
use crate::wire::{Expandable, Metadata};

stripe_object! {
    /// A Customer (`cus_…`). A deleted customer retrieves as `{"id", "deleted": true}`,
    /// every other field then being empty.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Customer {
        #[serde(default)]
        pub deleted: bool,
        pub email: Option<String>,
        pub name: Option<String>,
        pub phone: Option<String>,
        pub description: Option<String>,
        pub invoice_settings: Option<InvoiceSettings>,
    }
}

impl Customer {
    /// `invoice_settings.default_payment_method`.
    pub fn default_payment_method_id(&self) -> Option<&str> {
        self.invoice_settings
            .as_ref()?
            .default_payment_method
            .as_ref()
            .map(Expandable::id)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvoiceSettings {
    pub default_payment_method: Option<Expandable<PaymentMethod>>,
}

/// `POST /v1/customers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateCustomer {
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    /// A PaymentMethod to attach at creation.
    pub payment_method: Option<String>,
    pub invoice_settings: Option<InvoiceSettingsParams>,
    pub metadata: Metadata,
}

/// `POST /v1/customers/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateCustomer {
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub invoice_settings: Option<InvoiceSettingsParams>,
    pub metadata: Metadata,
}

impl UpdateCustomer {
    /// Make a saved card the customer's default:
    /// `invoice_settings[default_payment_method]=pm_…`. Stripe refuses a PaymentMethod that
    /// is not attached to this customer (`invalid_request_error`, that param).
    pub fn default_payment_method(payment_method: impl Into<String>) -> UpdateCustomer {
        UpdateCustomer {
            invoice_settings: Some(InvoiceSettingsParams {
                default_payment_method: Some(payment_method.into()),
            }),
            ..UpdateCustomer::default()
        }
    }
}

/// `invoice_settings[default_payment_method]=pm_…`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvoiceSettingsParams {
    pub default_payment_method: Option<String>,
}

list_params! {
    /// `GET /v1/customers/{id}/payment_methods`.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    pub struct ListPaymentMethods {
        /// `card` for this checkout.
        #[serde(rename = "type")]
        pub kind: String,
    }
}

impl Default for ListPaymentMethods {
    fn default() -> Self {
        ListPaymentMethods {
            kind: "card".to_owned(),
            page: Page::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form;

    #[test]
    fn parses_live_and_deleted_customers() {
        let c: Customer = serde_json::from_str(
            r#"{"id":"cus_1","object":"customer","email":"a@example.com","name":"Ada",
                "invoice_settings":{"default_payment_method":"pm_9","custom_fields":null},
                "metadata":{"user_id":"u1"},"created":1,"livemode":false,"balance":0}"#,
        )
        .unwrap();
        assert!(!c.deleted);
        assert_eq!(c.email.as_deref(), Some("a@example.com"));
        assert_eq!(c.default_payment_method_id(), Some("pm_9"));
        let d: Customer =
            serde_json::from_str(r#"{"id":"cus_1","object":"customer","deleted":true}"#).unwrap();
        assert!(d.deleted);
        assert_eq!(d.default_payment_method_id(), None);
    }

    #[test]
    fn customer_params_bodies() {
        let mut create = CreateCustomer {
            email: Some("a+b@example.com".into()),
            name: Some("Ada Lovelace".into()),
            invoice_settings: Some(InvoiceSettingsParams {
                default_payment_method: Some("pm_1".into()),
            }),
            ..Default::default()
        };
        create.metadata.insert("user_id".into(), "u1".into());
        assert_eq!(
            form::to_string(&create).unwrap(),
            "email=a%2Bb%40example.com&name=Ada+Lovelace\
             &invoice_settings[default_payment_method]=pm_1&metadata[user_id]=u1"
        );
        assert_eq!(
            form::to_string(&ListPaymentMethods::default()).unwrap(),
            "type=card"
        );
        assert_eq!(form::to_string(&UpdateCustomer::default()).unwrap(), "");
        assert_eq!(
            form::to_string(&UpdateCustomer::default_payment_method("pm_9")).unwrap(),
            "invoice_settings[default_payment_method]=pm_9"
        );
    }
}
