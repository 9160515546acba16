//! Typed bindings to Stripe.js v3 for the browser: loading the script, the card
//! Element, confirming a PaymentIntent (with a typed or a saved card) and saving a card
//! with a SetupIntent, with every JS result turned into Rust types.
//!
//! ```ignore
//! stripe_js::load("https://js.stripe.com/v3/", 10_000).await?;
//! let stripe = stripe_js::Stripe::new("pk_test_…")?;
//! let card = stripe.elements()?.create_card(&stripe_js::CardOptions::default())?;
//! card.mount(&container)?;
//! card.on_change(|change| set_complete(change.complete));
//! match stripe.confirm_card_payment(&client_secret, &card, None).await {
//!     Ok(intent) => { /* ask the server about intent.id */ }
//!     Err(e) => show(e.customer_message()),
//! }
//! // Saving a card without paying (a SetupIntent's client secret from the server):
//! let saved = stripe.confirm_card_setup(&setup_secret, &card).await?;
//! // Paying with a saved card (also the way back after an off-session
//! // `authentication_required`): Stripe.js runs 3-D Secure when needed.
//! let paid = stripe.confirm_card_payment_with_method(&client_secret, "pm_…").await?;
//! ```
//!
//! Everything compiles natively too (the JS calls then panic if used); the parsing of
//! Stripe.js's answers is pure and unit-tested natively. No callback is ever leaked
//! (`Closure::forget` is not used): [`CardElement`] owns its callbacks.

mod card;
mod load;
mod options;
mod result;
mod sys;

use std::fmt;

use js_sys::{Object, Promise, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use stripe_types::messages;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub use card::{CardChange, CardElement, ValidationError};
pub use load::{delay, load, LoadError, SCRIPT_ID};
pub use options::{BillingDetails, CardOptions, CardStyle, StyleRules};
pub use result::{PaymentError, PaymentIntentInfo, SetupIntentInfo};
pub use stripe_types::{ErrorType, PaymentIntentStatus, SetupIntentStatus};

use result::{confirm_outcome, outcome, setup_outcome};

/// Stripe.js is missing or threw while setting up the form (an integration error: a
/// bad publishable key, bad options, a second card Element…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeJsError {
    /// `window.Stripe` is not there: call [`load`] first.
    NotLoaded,
    /// Stripe.js threw this error.
    Thrown {
        /// The exception's `name` (`IntegrationError`, `TypeError`, …).
        name: Option<String>,
        message: String,
    },
}

impl StripeJsError {
    pub(crate) fn thrown(value: JsValue) -> StripeJsError {
        let (name, message) = error_parts(&value);
        StripeJsError::Thrown {
            name,
            message: message.unwrap_or_else(|| "Stripe.js threw a non-Error value".to_owned()),
        }
    }

    /// A fixed sentence for the shopper.
    pub fn customer_message(&self) -> &'static str {
        match self {
            StripeJsError::NotLoaded => messages::FORM_NOT_LOADED,
            StripeJsError::Thrown { .. } => messages::FORM_FAILED,
        }
    }
}

impl fmt::Display for StripeJsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StripeJsError::NotLoaded => f.write_str("Stripe.js is not loaded (window.Stripe)"),
            StripeJsError::Thrown {
                name: Some(name),
                message,
            } => write!(f, "Stripe.js: {name}: {message}"),
            StripeJsError::Thrown {
                name: None,
                message,
            } => write!(f, "Stripe.js: {message}"),
        }
    }
}

impl std::error::Error for StripeJsError {}

/// `name` and `message` of a thrown value (an `Error`, possibly from another realm, or
/// a plain string).
fn error_parts(value: &JsValue) -> (Option<String>, Option<String>) {
    if value.is_object() {
        let get = |key: &str| {
            Reflect::get(value, &JsValue::from_str(key))
                .ok()
                .and_then(|v| v.as_string())
        };
        (get("name"), get("message"))
    } else {
        (None, value.as_string())
    }
}

fn payment_exception(value: JsValue) -> PaymentError {
    let (name, message) = error_parts(&value);
    PaymentError::from_exception(name.as_deref(), message.as_deref())
}

/// Serialises options to plain JS objects (maps as objects, no `Map`s).
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, serde_wasm_bindgen::Error> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
}

/// Awaits what a payment or setup method of Stripe.js returned, decodes the resolved
/// object as `R` and reads the outcome with `read` (one of `result`'s functions).
async fn settle<R: DeserializeOwned, T>(
    returned: Result<JsValue, JsValue>,
    read: fn(R) -> Result<T, PaymentError>,
) -> Result<T, PaymentError> {
    let returned = returned.map_err(payment_exception)?;
    let resolved = JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(payment_exception)?;
    let result: R = serde_wasm_bindgen::from_value(resolved)
        .map_err(|e| PaymentError::unexpected(&format!("unreadable answer from Stripe.js: {e}")))?;
    read(result)
}

/// `{payment_method: {card, billing_details?}}`, the data of confirmCardPayment and
/// confirmCardSetup with a card typed into the Element.
fn card_data(card: &CardElement, billing: Option<&BillingDetails>) -> Result<Object, PaymentError> {
    let payment_method = Object::new();
    set(&payment_method, "card", card.js())?;
    if let Some(billing) = billing {
        let details = to_js(billing).map_err(|e| {
            PaymentError::from_exception(Some("SerializationError"), Some(&e.to_string()))
        })?;
        set(&payment_method, "billing_details", &details)?;
    }
    let data = Object::new();
    set(&data, "payment_method", &payment_method)?;
    Ok(data)
}

fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), PaymentError> {
    Reflect::set(target, &JsValue::from_str(key), value)
        .map(drop)
        .map_err(payment_exception)
}

/// A Stripe.js instance for one publishable key (the object `Stripe(key)` returns).
#[derive(Debug, Clone)]
pub struct Stripe {
    js: sys::StripeJs,
}

impl Stripe {
    /// Calls the global `Stripe(publishable_key)`. Needs [`load`] to have succeeded;
    /// a key that is not `pk_…` makes Stripe.js throw ([`StripeJsError::Thrown`]).
    pub fn new(publishable_key: &str) -> Result<Stripe, StripeJsError> {
        let constructor = load::stripe_function().ok_or(StripeJsError::NotLoaded)?;
        let js = constructor
            .call1(&JsValue::UNDEFINED, &JsValue::from_str(publishable_key))
            .map_err(StripeJsError::thrown)?;
        if !js.is_object() {
            return Err(StripeJsError::Thrown {
                name: None,
                message: "Stripe() did not return an object".to_owned(),
            });
        }
        Ok(Stripe {
            js: js.unchecked_into(),
        })
    }

    /// `stripe.elements()`.
    pub fn elements(&self) -> Result<Elements, StripeJsError> {
        self.js
            .elements()
            .map(|js| Elements { js })
            .map_err(StripeJsError::thrown)
    }

    /// `stripe.confirmCardPayment(clientSecret, {payment_method: {card, billing_details}})`:
    /// pays with the card typed into `card`, running 3-D Secure when the bank asks for
    /// it. `Ok` carries the PaymentIntent as Stripe.js last saw it (usually `succeeded`,
    /// or `processing`/`requires_capture`); a decline, a failed 3-D Secure or incomplete
    /// card details are `Err`.
    pub async fn confirm_card_payment(
        &self,
        client_secret: &str,
        card: &CardElement,
        billing: Option<&BillingDetails>,
    ) -> Result<PaymentIntentInfo, PaymentError> {
        let data = card_data(card, billing)?;
        settle(
            self.js.confirm_card_payment(client_secret, &data),
            confirm_outcome,
        )
        .await
    }

    /// `stripe.confirmCardPayment(clientSecret, {payment_method: "pm_…"})`: pays with a
    /// saved card (one attached to the PaymentIntent's `customer`), running 3-D Secure
    /// when the bank asks for it: the way back on-session after an off-session payment
    /// failed with `authentication_required`.
    pub async fn confirm_card_payment_with_method(
        &self,
        client_secret: &str,
        payment_method_id: &str,
    ) -> Result<PaymentIntentInfo, PaymentError> {
        let data = Object::new();
        set(
            &data,
            "payment_method",
            &JsValue::from_str(payment_method_id),
        )?;
        settle(
            self.js.confirm_card_payment(client_secret, &data),
            confirm_outcome,
        )
        .await
    }

    /// `stripe.confirmCardSetup(clientSecret, {payment_method: {card}})`: saves the card
    /// typed into `card` to the SetupIntent's customer, without a payment, running 3-D
    /// Secure when the bank asks for it. `Ok` carries the SetupIntent as Stripe.js last
    /// saw it (usually `succeeded`); a decline, a failed 3-D Secure or incomplete card
    /// details are `Err`.
    pub async fn confirm_card_setup(
        &self,
        client_secret: &str,
        card: &CardElement,
    ) -> Result<SetupIntentInfo, PaymentError> {
        let data = card_data(card, None)?;
        settle(
            self.js.confirm_card_setup(client_secret, &data),
            setup_outcome,
        )
        .await
    }

    /// `stripe.handleCardAction(clientSecret)`: runs the 3-D Secure step of a
    /// PaymentIntent in `requires_action` (confirmed on the server).
    pub async fn handle_card_action(
        &self,
        client_secret: &str,
    ) -> Result<PaymentIntentInfo, PaymentError> {
        settle(self.js.handle_card_action(client_secret), confirm_outcome).await
    }

    /// `stripe.retrievePaymentIntent(clientSecret)`: the PaymentIntent's current state,
    /// whatever it is (`requires_payment_method` after a decline is `Ok`).
    pub async fn retrieve_payment_intent(
        &self,
        client_secret: &str,
    ) -> Result<PaymentIntentInfo, PaymentError> {
        settle(self.js.retrieve_payment_intent(client_secret), outcome).await
    }
}

/// A Stripe.js `Elements` group (from [`Stripe::elements`]).
#[derive(Debug, Clone)]
pub struct Elements {
    js: sys::ElementsJs,
}

impl Elements {
    /// `elements.create('card', options)`. Stripe.js allows one card Element per
    /// `Elements` at a time: drop the previous [`CardElement`] before creating another.
    pub fn create_card(&self, options: &CardOptions) -> Result<CardElement, StripeJsError> {
        let options = to_js(options).map_err(|e| StripeJsError::Thrown {
            name: Some("SerializationError".to_owned()),
            message: e.to_string(),
        })?;
        self.js
            .create("card", &options)
            .map(CardElement::new)
            .map_err(StripeJsError::thrown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_js_errors_have_shopper_sentences() {
        assert_eq!(
            StripeJsError::NotLoaded.customer_message(),
            messages::FORM_NOT_LOADED
        );
        let thrown = StripeJsError::Thrown {
            name: Some("IntegrationError".into()),
            message: "Invalid value for Stripe(): apiKey should be a publishable key".into(),
        };
        assert_eq!(thrown.customer_message(), messages::FORM_FAILED);
        assert_eq!(
            thrown.to_string(),
            "Stripe.js: IntegrationError: Invalid value for Stripe(): apiKey should be a publishable key"
        );
    }
}
