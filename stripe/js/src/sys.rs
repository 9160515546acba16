//! Raw imports of the Stripe.js objects. Every method that can throw is `catch`; the
//! safe wrappers in the rest of the crate are the only users.

use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The object returned by the global `Stripe(key)`.
    #[derive(Debug, Clone)]
    pub type StripeJs;

    #[wasm_bindgen(method, catch)]
    pub fn elements(this: &StripeJs) -> Result<ElementsJs, JsValue>;

    /// `stripe.confirmCardPayment(clientSecret, data)`: a Promise (typed loosely, it is
    /// normalised with `Promise.resolve`).
    #[wasm_bindgen(method, catch, js_name = confirmCardPayment)]
    pub fn confirm_card_payment(
        this: &StripeJs,
        client_secret: &str,
        data: &JsValue,
    ) -> Result<JsValue, JsValue>;

    /// `stripe.confirmCardSetup(clientSecret, data)`: a Promise, like confirmCardPayment.
    #[wasm_bindgen(method, catch, js_name = confirmCardSetup)]
    pub fn confirm_card_setup(
        this: &StripeJs,
        client_secret: &str,
        data: &JsValue,
    ) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, js_name = handleCardAction)]
    pub fn handle_card_action(this: &StripeJs, client_secret: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, js_name = retrievePaymentIntent)]
    pub fn retrieve_payment_intent(
        this: &StripeJs,
        client_secret: &str,
    ) -> Result<JsValue, JsValue>;

    /// The object returned by `stripe.elements()`.
    #[derive(Debug, Clone)]
    pub type ElementsJs;

    #[wasm_bindgen(method, catch)]
    pub fn create(this: &ElementsJs, kind: &str, options: &JsValue) -> Result<ElementJs, JsValue>;

    /// A Stripe Element (here always the `card` one).
    #[derive(Debug, Clone)]
    pub type ElementJs;

    #[wasm_bindgen(method, catch)]
    pub fn mount(this: &ElementJs, node: &web_sys::Element) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn on(this: &ElementJs, event: &str, handler: &Function) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn off(this: &ElementJs, event: &str, handler: &Function) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn focus(this: &ElementJs) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn clear(this: &ElementJs) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    pub fn destroy(this: &ElementJs) -> Result<(), JsValue>;
}
