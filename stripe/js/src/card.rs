//! The card Element: mounting, events, and its teardown.

use std::cell::RefCell;

use serde::Deserialize;
use stripe_types::messages;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::sys::ElementJs;
use crate::StripeJsError;

/// What a `change` event of the card Element says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardChange {
    /// No field has any input.
    pub empty: bool,
    /// Every field is filled in and valid: the form may be submitted.
    pub complete: bool,
    /// `visa`, `mastercard`, `amex`, … (`None` while unknown).
    pub brand: Option<String>,
    /// The first invalid field's problem, to show next to the Element.
    pub error: Option<ValidationError>,
}

/// A `validation_error` of the card Element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// `incomplete_number`, `invalid_number`, `incomplete_expiry`,
    /// `invalid_expiry_year_past`, `incomplete_cvc`, `incomplete_zip`, …
    pub code: String,
    /// Stripe.js's own (localised) sentence, meant for the shopper.
    pub message: String,
}

/// The payload of a `change` event as Stripe.js sends it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChangeEventJs {
    pub empty: Option<bool>,
    pub complete: Option<bool>,
    pub brand: Option<String>,
    pub error: Option<ChangeErrorJs>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChangeErrorJs {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl From<ChangeEventJs> for CardChange {
    fn from(ev: ChangeEventJs) -> CardChange {
        CardChange {
            empty: ev.empty.unwrap_or(false),
            complete: ev.complete.unwrap_or(false),
            brand: ev.brand.filter(|b| !b.is_empty() && b != "unknown"),
            error: ev.error.map(|e| {
                let code = e.code.unwrap_or_default();
                let message = e
                    .message
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| messages::validation_message(Some(&code)).to_owned());
                ValidationError { code, message }
            }),
        }
    }
}

/// Reads a `change` event object (a malformed one reads as "not complete").
fn parse_change(event: JsValue) -> CardChange {
    serde_wasm_bindgen::from_value::<ChangeEventJs>(event)
        .map(CardChange::from)
        .unwrap_or_default()
}

type Handler = Closure<dyn FnMut(JsValue)>;

/// The card Element. Owns the JS element and every callback registered on it: dropping
/// it removes the handlers, destroys the Element (its iframe leaves the page) and frees
/// the callbacks. Keep it alive as long as the form is shown and while a payment using
/// it is being confirmed.
pub struct CardElement {
    element: ElementJs,
    handlers: RefCell<Vec<(&'static str, Handler)>>,
}

impl std::fmt::Debug for CardElement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardElement")
            .field("handlers", &self.handlers.borrow().len())
            .finish()
    }
}

impl CardElement {
    pub(crate) fn new(element: ElementJs) -> CardElement {
        CardElement {
            element,
            handlers: RefCell::new(Vec::new()),
        }
    }

    /// The JS element, for `payment_method: {card: element}`.
    pub(crate) fn js(&self) -> &JsValue {
        &self.element
    }

    /// Puts the Element's iframe into `node` (which should be empty).
    pub fn mount(&self, node: &web_sys::Element) -> Result<(), StripeJsError> {
        self.element.mount(node).map_err(StripeJsError::thrown)
    }

    /// Calls `f` on every `change` event (input, validation, brand detection).
    pub fn on_change(&self, mut f: impl FnMut(CardChange) + 'static) {
        self.listen("change", move |event| f(parse_change(event)));
    }

    /// Calls `f` once the Element is fully rendered and can take focus. (Stripe.js calls
    /// it at once when the Element is already ready.)
    pub fn on_ready(&self, mut f: impl FnMut() + 'static) {
        self.listen("ready", move |_| f());
    }

    /// Calls `f` when a field of the Element gains focus.
    pub fn on_focus(&self, mut f: impl FnMut() + 'static) {
        self.listen("focus", move |_| f());
    }

    /// Calls `f` when the Element loses focus.
    pub fn on_blur(&self, mut f: impl FnMut() + 'static) {
        self.listen("blur", move |_| f());
    }

    fn listen(&self, event: &'static str, f: impl FnMut(JsValue) + 'static) {
        let handler: Handler = Closure::own_aborting(f);
        // Stripe.js may call the handler synchronously inside `on` (`ready` on an Element
        // that is already ready): no borrow of `handlers` may be held here.
        let registered = self.element.on(event, handler.as_ref().unchecked_ref());
        if registered.is_ok() {
            self.handlers.borrow_mut().push((event, handler));
        }
    }

    /// Moves the focus into the card number field.
    pub fn focus(&self) {
        let _ = self.element.focus();
    }

    /// Empties every field.
    pub fn clear(&self) {
        let _ = self.element.clear();
    }
}

impl Drop for CardElement {
    fn drop(&mut self) {
        // First make sure Stripe.js cannot call into the callbacks any more, then destroy
        // the Element; the callbacks themselves are freed when `handlers` drops after
        // this. Exceptions (an Element already destroyed) are ignored.
        for (event, handler) in self.handlers.get_mut().iter() {
            let _ = self.element.off(event, handler.as_ref().unchecked_ref());
        }
        let _ = self.element.destroy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        empty: bool,
        complete: bool,
        brand: Option<&str>,
        error: Option<(&str, &str)>,
    ) -> CardChange {
        CardChange::from(ChangeEventJs {
            empty: Some(empty),
            complete: Some(complete),
            brand: brand.map(Into::into),
            error: error.map(|(code, message)| ChangeErrorJs {
                code: Some(code.into()),
                message: Some(message.into()),
            }),
        })
    }

    #[test]
    fn complete_card() {
        assert_eq!(
            change(false, true, Some("visa"), None),
            CardChange {
                empty: false,
                complete: true,
                brand: Some("visa".into()),
                error: None
            }
        );
    }

    #[test]
    fn unknown_brand_is_none() {
        assert_eq!(change(true, false, Some("unknown"), None).brand, None);
        assert_eq!(change(true, false, None, None).brand, None);
    }

    #[test]
    fn validation_errors_keep_stripe_js_message() {
        let c = change(
            false,
            false,
            Some("visa"),
            Some((
                "invalid_expiry_year_past",
                "Votre année d'expiration est passée.",
            )),
        );
        let e = c.error.unwrap();
        assert_eq!(e.code, "invalid_expiry_year_past");
        assert_eq!(e.message, "Votre année d'expiration est passée.");
    }

    #[test]
    fn validation_error_without_message_gets_the_table_sentence() {
        let c = CardChange::from(ChangeEventJs {
            error: Some(ChangeErrorJs {
                code: Some("incomplete_cvc".into()),
                message: None,
            }),
            ..ChangeEventJs::default()
        });
        assert_eq!(
            c.error.unwrap().message,
            "Your card's security code is incomplete."
        );
        assert!(!c.complete && !c.empty);
    }
}
