use serde::{Deserialize, Serialize};
use stripe_types::{CaptureMethod, Currency, ErrorBody, Money, PaymentIntentStatus};

use super::{Charge, Customer, Page, PaymentMethod};
use crate::secret::ClientSecret;
use crate::wire::{Expandable, Metadata, Tolerant};

stripe_types::wire_enum!(
    /// `setup_future_usage`: save the card for later while paying.
    open SetupFutureUsage {
        OffSession = "off_session",
        OnSession = "on_session",
    }
);

stripe_types::wire_enum!(
    /// `cancellation_reason` of a PaymentIntent.
    open CancellationReason {
        Abandoned = "abandoned",
        Automatic = "automatic",
        Duplicate = "duplicate",
        FailedInvoice = "failed_invoice",
        Fraudulent = "fraudulent",
        RequestedByCustomer = "requested_by_customer",
        VoidInvoice = "void_invoice",
    }
);

stripe_object! {
    /// A PaymentIntent (API version 2022-11-15 and later: `latest_charge`, no `charges`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct PaymentIntent {
        pub amount: i64,
        #[serde(default)]
        pub amount_capturable: i64,
        #[serde(default)]
        pub amount_received: i64,
        pub currency: Currency,
        pub status: Tolerant<PaymentIntentStatus>,
        /// Only for the browser; redacted from `Debug`.
        pub client_secret: Option<ClientSecret>,
        pub customer: Option<Expandable<Customer>>,
        pub payment_method: Option<Expandable<PaymentMethod>>,
        pub latest_charge: Option<Expandable<Charge>>,
        /// Set when the last confirmation failed (the intent is back in
        /// `requires_payment_method`).
        pub last_payment_error: Option<ErrorBody>,
        pub next_action: Option<NextAction>,
        pub capture_method: Option<Tolerant<CaptureMethod>>,
        pub cancellation_reason: Option<CancellationReason>,
        pub canceled_at: Option<i64>,
        pub setup_future_usage: Option<SetupFutureUsage>,
        #[serde(default)]
        pub payment_method_types: Vec<String>,
        pub description: Option<String>,
        pub receipt_email: Option<String>,
        pub statement_descriptor_suffix: Option<String>,
    }
}

impl PaymentIntent {
    /// `amount` with `currency`.
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }

    /// `amount_received` with `currency`.
    pub fn received(&self) -> Money {
        Money::new(self.amount_received, self.currency)
    }

    pub fn status(&self) -> Option<PaymentIntentStatus> {
        self.status.get()
    }

    pub fn customer_id(&self) -> Option<&str> {
        self.customer.as_ref().map(Expandable::id)
    }

    pub fn payment_method_id(&self) -> Option<&str> {
        self.payment_method.as_ref().map(Expandable::id)
    }

    pub fn latest_charge_id(&self) -> Option<&str> {
        self.latest_charge.as_ref().map(Expandable::id)
    }
}

/// `next_action` (for a card checkout: `use_stripe_sdk` for 3-D Secure, which Stripe.js
/// handles, or `redirect_to_url`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextAction {
    #[serde(rename = "type")]
    pub kind: String,
    pub redirect_to_url: Option<RedirectToUrl>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectToUrl {
    pub url: Option<String>,
    pub return_url: Option<String>,
}

/// `POST /v1/payment_intents`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreatePaymentIntent {
    pub amount: i64,
    pub currency: Currency,
    /// `["card"]` by default: since 2023-08-16 Stripe otherwise turns on automatic
    /// payment methods, which may need redirects this card checkout does not handle.
    pub payment_method_types: Vec<String>,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    pub confirm: Option<bool>,
    /// The customer is not present (charging a saved card later).
    pub off_session: Option<bool>,
    pub setup_future_usage: Option<SetupFutureUsage>,
    pub capture_method: Option<CaptureMethod>,
    pub description: Option<String>,
    pub receipt_email: Option<String>,
    pub statement_descriptor_suffix: Option<String>,
    pub return_url: Option<String>,
    pub metadata: Metadata,
    pub expand: Vec<String>,
}

impl CreatePaymentIntent {
    pub fn new(amount: Money) -> Self {
        CreatePaymentIntent {
            amount: amount.minor,
            currency: amount.currency,
            payment_method_types: vec!["card".to_owned()],
            customer: None,
            payment_method: None,
            confirm: None,
            off_session: None,
            setup_future_usage: None,
            capture_method: None,
            description: None,
            receipt_email: None,
            statement_descriptor_suffix: None,
            return_url: None,
            metadata: Metadata::new(),
            expand: Vec::new(),
        }
    }

    pub fn customer(mut self, id: impl Into<String>) -> Self {
        self.customer = Some(id.into());
        self
    }

    pub fn payment_method(mut self, id: impl Into<String>) -> Self {
        self.payment_method = Some(id.into());
        self
    }

    /// Confirm at creation (`confirm=true`).
    pub fn confirm(mut self) -> Self {
        self.confirm = Some(true);
        self
    }

    /// Charge a saved card with the customer absent: `confirm=true&off_session=true`.
    pub fn off_session(mut self) -> Self {
        self.confirm = Some(true);
        self.off_session = Some(true);
        self
    }

    pub fn setup_future_usage(mut self, usage: SetupFutureUsage) -> Self {
        self.setup_future_usage = Some(usage);
        self
    }

    pub fn capture_method(mut self, method: CaptureMethod) -> Self {
        self.capture_method = Some(method);
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

/// `POST /v1/payment_intents/{id}`. Empty fields are left out of the body. Stripe takes
/// these changes only while the intent is unconfirmed or awaiting a payment method
/// (`requires_payment_method`, `requires_confirmation`, `requires_action`), except
/// `metadata`, `description` and `receipt_email`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdatePaymentIntent {
    pub amount: Option<i64>,
    pub currency: Option<Currency>,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    pub description: Option<String>,
    pub receipt_email: Option<String>,
    /// `None`: unchanged; `Some(Some(usage))`: save the card for later when the payment
    /// succeeds; `Some(None)`: stop saving it (sent as `setup_future_usage=`, Stripe's
    /// empty string that unsets a field). See [`UpdatePaymentIntent::setup_future_usage`].
    #[serde(serialize_with = "crate::form::clearable")]
    pub setup_future_usage: Option<Option<SetupFutureUsage>>,
    /// Merged into the existing metadata; a key with an empty value is removed.
    pub metadata: Metadata,
    pub expand: Vec<String>,
}

impl UpdatePaymentIntent {
    /// Change the amount (and currency) of an unconfirmed PaymentIntent.
    pub fn amount(money: Money) -> Self {
        UpdatePaymentIntent {
            amount: Some(money.minor),
            currency: Some(money.currency),
            ..Default::default()
        }
    }

    /// Pay with this PaymentMethod (a saved `pm_…` of the intent's customer); the intent
    /// moves to `requires_confirmation`.
    pub fn payment_method(mut self, id: impl Into<String>) -> Self {
        self.payment_method = Some(id.into());
        self
    }

    /// The Customer the intent is for (and a saved card is attached to).
    pub fn customer(mut self, id: impl Into<String>) -> Self {
        self.customer = Some(id.into());
        self
    }

    /// `Some(usage)` saves the card to the intent's customer once the payment succeeds;
    /// `None` unsets `setup_future_usage` (the shopper unticked "save my card").
    pub fn setup_future_usage(mut self, usage: Option<SetupFutureUsage>) -> Self {
        self.setup_future_usage = Some(usage);
        self
    }

    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// `POST /v1/payment_intents/{id}/confirm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfirmPaymentIntent {
    pub payment_method: Option<String>,
    pub off_session: Option<bool>,
    pub setup_future_usage: Option<SetupFutureUsage>,
    pub return_url: Option<String>,
    pub expand: Vec<String>,
}

/// `POST /v1/payment_intents/{id}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CancelPaymentIntent {
    /// Stripe accepts `duplicate`, `fraudulent`, `requested_by_customer`, `abandoned`.
    pub cancellation_reason: Option<CancellationReason>,
}

/// `POST /v1/payment_intents/{id}/capture`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CapturePaymentIntent {
    /// Capture less than authorised; the rest is released.
    pub amount_to_capture: Option<i64>,
    pub metadata: Metadata,
    pub expand: Vec<String>,
}

/// `GET /v1/payment_intents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListPaymentIntents {
    pub customer: Option<String>,
    #[serde(flatten)]
    pub page: Page,
    pub expand: Vec<String>,
}

impl ListPaymentIntents {
    pub fn for_customer(customer: impl Into<String>) -> Self {
        ListPaymentIntents {
            customer: Some(customer.into()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form;

    pub(crate) const PI_JSON: &str = r#"{
        "id": "pi_3Abc",
        "object": "payment_intent",
        "amount": 1999,
        "amount_capturable": 0,
        "amount_received": 1999,
        "currency": "usd",
        "status": "succeeded",
        "client_secret": "pi_3Abc_secret_xyz",
        "customer": "cus_1",
        "payment_method": "pm_1",
        "latest_charge": {"id": "ch_1", "object": "charge", "amount": 1999,
                          "currency": "usd", "status": "succeeded", "paid": true,
                          "brand_new_field": {"nested": 1}},
        "last_payment_error": null,
        "capture_method": "automatic_async",
        "setup_future_usage": null,
        "payment_method_types": ["card"],
        "metadata": {"order_id": "42"},
        "created": 1700000000,
        "livemode": false,
        "some_future_field": [1, 2, 3]
    }"#;

    #[test]
    fn parses_a_payment_intent_with_an_expanded_charge() {
        let pi: PaymentIntent = serde_json::from_str(PI_JSON).unwrap();
        assert_eq!(pi.id, "pi_3Abc");
        assert_eq!(pi.money(), Money::new(1999, Currency::USD));
        assert_eq!(pi.status(), Some(PaymentIntentStatus::Succeeded));
        assert_eq!(pi.customer_id(), Some("cus_1"));
        assert_eq!(pi.payment_method_id(), Some("pm_1"));
        assert_eq!(pi.latest_charge_id(), Some("ch_1"));
        let charge = pi.latest_charge.as_ref().unwrap().as_object().unwrap();
        assert!(charge.paid);
        assert_eq!(
            pi.capture_method,
            Some(Tolerant::Known(CaptureMethod::AutomaticAsync))
        );
        assert_eq!(pi.metadata["order_id"], "42");
        assert_eq!(
            pi.client_secret.as_ref().unwrap().expose(),
            "pi_3Abc_secret_xyz"
        );
        assert!(!format!("{pi:?}").contains("secret_xyz"));
    }

    #[test]
    fn unknown_status_and_failed_attempt() {
        let json = r#"{"id":"pi_1","amount":500,"currency":"jpy","status":"requires_teleport",
            "last_payment_error":{"type":"card_error","code":"card_declined",
              "decline_code":"insufficient_funds","message":"Your card has insufficient funds.",
              "payment_method":{"id":"pm_x"}},
            "cancellation_reason":"something_new"}"#;
        let pi: PaymentIntent = serde_json::from_str(json).unwrap();
        assert_eq!(pi.status, Tolerant::Unknown("requires_teleport".into()));
        assert_eq!(pi.status(), None);
        assert_eq!(pi.money().to_string(), "¥500");
        let err = pi.last_payment_error.unwrap();
        assert_eq!(err.decline_code.as_deref(), Some("insufficient_funds"));
        assert_eq!(
            pi.cancellation_reason,
            Some(CancellationReason::Other("something_new".into()))
        );
    }

    #[test]
    fn create_params_form_body() {
        let params = CreatePaymentIntent::new(Money::new(1999, Currency::USD))
            .customer("cus_1")
            .payment_method("pm_card_visa")
            .off_session()
            .setup_future_usage(SetupFutureUsage::OffSession)
            .capture_method(CaptureMethod::Manual)
            .metadata("order_id", "ord_42")
            .metadata("cart_id", "c_7")
            .expand("latest_charge");
        assert_eq!(
            form::to_string(&params).unwrap(),
            "amount=1999&currency=usd&payment_method_types[]=card&customer=cus_1\
             &payment_method=pm_card_visa&confirm=true&off_session=true\
             &setup_future_usage=off_session&capture_method=manual\
             &metadata[cart_id]=c_7&metadata[order_id]=ord_42&expand[]=latest_charge"
        );
    }

    #[test]
    fn update_cancel_capture_list_bodies() {
        let update =
            UpdatePaymentIntent::amount(Money::new(2500, Currency::EUR)).metadata("coupon", "");
        assert_eq!(
            form::to_string(&update).unwrap(),
            "amount=2500&currency=eur&metadata[coupon]="
        );
        let cancel = CancelPaymentIntent {
            cancellation_reason: Some(CancellationReason::RequestedByCustomer),
        };
        assert_eq!(
            form::to_string(&cancel).unwrap(),
            "cancellation_reason=requested_by_customer"
        );
        let capture = CapturePaymentIntent {
            amount_to_capture: Some(1000),
            ..Default::default()
        };
        assert_eq!(form::to_string(&capture).unwrap(), "amount_to_capture=1000");
        let mut list = ListPaymentIntents::for_customer("cus_9");
        list.page = Page::limit(20).after("pi_last");
        assert_eq!(
            form::to_string(&list).unwrap(),
            "customer=cus_9&limit=20&starting_after=pi_last"
        );
        assert_eq!(
            form::to_string(&ConfirmPaymentIntent::default()).unwrap(),
            ""
        );
    }

    #[test]
    fn update_sets_and_unsets_the_saved_card_fields() {
        let save = UpdatePaymentIntent::default()
            .customer("cus_1")
            .payment_method("pm_1")
            .setup_future_usage(Some(SetupFutureUsage::OffSession));
        assert_eq!(
            form::to_string(&save).unwrap(),
            "customer=cus_1&payment_method=pm_1&setup_future_usage=off_session"
        );
        let unset = UpdatePaymentIntent::default().setup_future_usage(None);
        assert_eq!(unset.setup_future_usage, Some(None));
        assert_eq!(form::to_string(&unset).unwrap(), "setup_future_usage=");
        // Left alone unless asked.
        assert_eq!(
            form::to_string(&UpdatePaymentIntent::default()).unwrap(),
            ""
        );
    }
}
