use serde::{Deserialize, Serialize};
use stripe_types::{ErrorBody, SetupIntentStatus};

use super::{Customer, NextAction, PaymentMethod, SetupFutureUsage};
use crate::secret::ClientSecret;
use crate::wire::{Expandable, Metadata, Tolerant};

stripe_object! {
    /// A SetupIntent (`seti_…`): saves a card to a Customer without a payment. The server
    /// creates it; the browser confirms it with `stripe.confirmCardSetup(client_secret, …)`
    /// (3-D Secure included). Once `succeeded`, `payment_method` is attached to `customer`
    /// and may be charged off-session. Trust the server's view (webhook
    /// `setup_intent.succeeded` or a retrieve), not what the browser reports.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct SetupIntent {
        pub status: Tolerant<SetupIntentStatus>,
        /// Only for the browser (`seti_…_secret_…`); redacted from `Debug`.
        pub client_secret: Option<ClientSecret>,
        pub customer: Option<Expandable<Customer>>,
        /// The card being set up; the saved card once `succeeded`.
        pub payment_method: Option<Expandable<PaymentMethod>>,
        /// `off_session` or `on_session`.
        pub usage: Option<String>,
        /// Set when the last confirmation failed (a decline, or 3-D Secure failed with
        /// `setup_intent_authentication_failure`); the intent is back in
        /// `requires_payment_method`.
        pub last_setup_error: Option<ErrorBody>,
        pub next_action: Option<NextAction>,
        pub cancellation_reason: Option<String>,
        pub description: Option<String>,
        #[serde(default)]
        pub payment_method_types: Vec<String>,
    }
}

impl SetupIntent {
    pub fn status(&self) -> Option<SetupIntentStatus> {
        self.status.get()
    }

    pub fn customer_id(&self) -> Option<&str> {
        self.customer.as_ref().map(Expandable::id)
    }

    pub fn payment_method_id(&self) -> Option<&str> {
        self.payment_method.as_ref().map(Expandable::id)
    }
}

/// `POST /v1/setup_intents`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateSetupIntent {
    pub customer: String,
    /// `["card"]` by default: since 2023-08-16 Stripe otherwise turns on automatic
    /// payment methods, which may need redirects this card checkout does not handle.
    pub payment_method_types: Vec<String>,
    /// `off_session` by default: the card is saved to be charged with the shopper absent
    /// ("buy again"), which is what makes the bank skip 3-D Secure later when it can.
    pub usage: SetupFutureUsage,
    pub description: Option<String>,
    pub metadata: Metadata,
    pub expand: Vec<String>,
}

impl CreateSetupIntent {
    /// A card SetupIntent for this Customer (`cus_…`), for off-session use.
    pub fn new(customer: impl Into<String>) -> Self {
        CreateSetupIntent {
            customer: customer.into(),
            payment_method_types: vec!["card".to_owned()],
            usage: SetupFutureUsage::OffSession,
            description: None,
            metadata: Metadata::new(),
            expand: Vec::new(),
        }
    }

    /// `on_session` saves the card only for payments the shopper is present for.
    pub fn usage(mut self, usage: SetupFutureUsage) -> Self {
        self.usage = usage;
        self
    }

    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    pub fn expand(mut self, path: impl Into<String>) -> Self {
        self.expand.push(path.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form;

    #[test]
    fn parses_a_setup_intent() {
        let si: SetupIntent = serde_json::from_str(
            r#"{"id": "seti_1", "object": "setup_intent", "status": "succeeded",
                "client_secret": "seti_1_secret_abc", "customer": "cus_1",
                "payment_method": {"id": "pm_1", "object": "payment_method", "type": "card",
                                   "customer": "cus_1"},
                "usage": "off_session", "last_setup_error": null, "next_action": null,
                "payment_method_types": ["card"], "metadata": {"account": "7"},
                "created": 1700000000, "livemode": false, "mandate": null,
                "some_future_field": {"x": 1}}"#,
        )
        .unwrap();
        assert_eq!(si.id, "seti_1");
        assert_eq!(si.status(), Some(SetupIntentStatus::Succeeded));
        assert_eq!(si.customer_id(), Some("cus_1"));
        assert_eq!(si.payment_method_id(), Some("pm_1"));
        let pm = si.payment_method.as_ref().unwrap().as_object().unwrap();
        assert_eq!(pm.customer_id(), Some("cus_1"));
        assert_eq!(si.usage.as_deref(), Some("off_session"));
        assert_eq!(si.metadata["account"], "7");
        assert_eq!(si.created, 1700000000);
        assert_eq!(
            si.client_secret.as_ref().unwrap().expose(),
            "seti_1_secret_abc"
        );
        assert!(!format!("{si:?}").contains("secret_abc"));
    }

    #[test]
    fn a_failed_setup_and_an_unknown_status() {
        let si: SetupIntent = serde_json::from_str(
            r#"{"id": "seti_2", "status": "requires_payment_method",
                "last_setup_error": {"type": "invalid_request_error",
                    "code": "setup_intent_authentication_failure",
                    "payment_method": {"id": "pm_2"}}}"#,
        )
        .unwrap();
        assert_eq!(si.status(), Some(SetupIntentStatus::RequiresPaymentMethod));
        assert_eq!(si.payment_method_id(), None);
        let error = si.last_setup_error.as_ref().unwrap();
        assert_eq!(
            error.code.as_deref(),
            Some(stripe_types::error::code::SETUP_INTENT_AUTHENTICATION_FAILURE)
        );
        assert_eq!(error.payment_method_id(), Some("pm_2"));
        let odd: SetupIntent =
            serde_json::from_str(r#"{"id": "seti_3", "status": "requires_teleport"}"#).unwrap();
        assert_eq!(odd.status, Tolerant::Unknown("requires_teleport".into()));
        assert_eq!(odd.status(), None);
    }

    #[test]
    fn create_params_form_body() {
        let params = CreateSetupIntent::new("cus_1").metadata("account_id", "7");
        assert_eq!(
            form::to_string(&params).unwrap(),
            "customer=cus_1&payment_method_types[]=card&usage=off_session&metadata[account_id]=7"
        );
        let on_session = CreateSetupIntent::new("cus_2")
            .usage(SetupFutureUsage::OnSession)
            .description("Card for account 8")
            .expand("payment_method");
        assert_eq!(
            form::to_string(&on_session).unwrap(),
            "customer=cus_2&payment_method_types[]=card&usage=on_session\
             &description=Card+for+account+8&expand[]=payment_method"
        );
    }
}
