//! The buying pages in the browser, without Leptos: small WASM modules over the forms the
//! server rendered, each page loading one of them and no Leptos at all.
//!
//! - `pay.js` (the `checkout` feature, [`checkout`]): the checkout's payment form. The
//!   checkout is the page a shopper waits on, so its module carries that form only.
//! - `shop.js` (the `shop` feature): the cart's forms on the shop and cart pages
//!   ([`cart`]), "Add a card" on the cards page ([`add_card`]), the sign-in and sign-up
//!   forms ([`auth`]), the order page's status ([`order_status`]).
//!
//! `scripts/pay.sh` builds the crate once per feature; both are on by default, so that
//! `cargo test` and clippy see all of it. What they share is here: the server function
//! call, the card Element's mounting, and a few DOM helpers.

#[cfg(feature = "shop")]
mod add_card;
#[cfg(feature = "shop")]
mod auth;
#[cfg(feature = "shop")]
mod cart;
#[cfg(feature = "checkout")]
mod checkout;
#[cfg(feature = "shop")]
mod order_status;

use js_sys::{Reflect, JSON};
use shop::error::ShopError;
use shop::PaymentsConfig;
use stripe_js::{CardChange, CardElement, CardOptions, Elements, Stripe};
use stripe_types::messages;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Element;

/// How long Stripe.js may take to load before the shopper is told.
const LOAD_TIMEOUT_MS: u32 = 15_000;

/// Stripe.js objects of the mounted form (kept for the page's life).
pub(crate) struct Card {
    pub(crate) stripe: Stripe,
    pub(crate) card: CardElement,
    _elements: Elements,
}

/// Loads Stripe.js (started from `<head>` already) and mounts a card Element in `node`:
/// its changes go to `on_change`, and `on_ready` runs once the shopper can type (marked
/// `card-ready` for the card-ready benchmark).
pub(crate) async fn mount_card_element(
    config: &PaymentsConfig,
    node: &Element,
    on_change: impl FnMut(CardChange) + 'static,
    mut on_ready: impl FnMut() + 'static,
) -> Result<Card, &'static str> {
    stripe_js::load(&config.js_url, LOAD_TIMEOUT_MS)
        .await
        .map_err(|e| e.customer_message())?;
    let unavailable = |_| messages::FORM_NOT_STARTED;
    let stripe = Stripe::new(&config.publishable_key).map_err(unavailable)?;
    let elements = stripe.elements().map_err(unavailable)?;
    let card = elements
        .create_card(&CardOptions::default())
        .map_err(unavailable)?;
    card.on_change(on_change);
    card.on_ready(move || {
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark("card-ready");
        }
        on_ready();
    });
    card.mount(node).map_err(unavailable)?;
    Ok(Card {
        stripe,
        card,
        _elements: elements,
    })
}

/// The form's fields, URL-encoded as the browser would post them.
#[cfg(feature = "shop")]
pub(crate) fn form_body(form: &web_sys::HtmlFormElement) -> Option<String> {
    let data = web_sys::FormData::new_with_form(form).ok()?;
    let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
    Some(params.to_string().into())
}

/// A server function call: the arguments URL-encoded (`app::codec::Form`), the answer
/// JSON; an error answer is the shop's error, in the shopper's words.
pub(crate) async fn post(path: &str, args: &[(&str, &str)]) -> Result<JsValue, String> {
    let params = web_sys::UrlSearchParams::new().map_err(|_| messages::SHOP_INTERNAL.to_owned())?;
    for (name, value) in args {
        params.append(name, value);
    }
    post_body(path, params.to_string().into()).await
}

/// [`post`] with the arguments URL-encoded already (a form's fields).
pub(crate) async fn post_body(path: &str, body: String) -> Result<JsValue, String> {
    let unreachable = |_| messages::SHOP_UNREACHABLE.to_owned();
    let internal = |_| messages::SHOP_INTERNAL.to_owned();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from(body));
    let headers = web_sys::Headers::new().map_err(internal)?;
    headers
        .set("content-type", "application/x-www-form-urlencoded")
        .map_err(internal)?;
    headers
        .set("accept", "application/json")
        .map_err(internal)?;
    init.set_headers(&headers);
    let window = web_sys::window().ok_or(messages::SHOP_INTERNAL.to_owned())?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(unreachable)?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(unreachable)?)
        .await
        .map_err(unreachable)?
        .as_string()
        .unwrap_or_default();
    let value = JSON::parse(&text).map_err(internal)?;
    if response.ok() {
        Ok(value)
    } else {
        Err(serde_wasm_bindgen::from_value::<ShopError>(value)
            .map(|e| e.customer_message())
            .unwrap_or_else(|_| messages::SHOP_INTERNAL.to_owned()))
    }
}

pub(crate) fn part(root: &Element, testid: &str) -> Option<Element> {
    root.query_selector(&format!("[data-testid=\"{testid}\"]"))
        .ok()
        .flatten()
}

/// Writes a card form's state into the server-rendered form `root` (the checkout's and
/// "Add a card"'s share these parts): `data-ready` on the card element once it fired
/// `ready`, the element's own validation message, and why the last attempt failed.
pub(crate) fn show_card_state(
    root: &Element,
    ready: bool,
    card_error: Option<&str>,
    error: Option<&str>,
) {
    if let Some(element) = part(root, "card-element") {
        let _ = if ready {
            element.set_attribute("data-ready", "true")
        } else {
            element.remove_attribute("data-ready")
        };
    }
    set_text(root, "card-error", card_error);
    set_text(root, "payment-error", error);
}

/// The button with test id `testid` inside `root`.
pub(crate) fn button(root: &Element, testid: &str) -> Option<web_sys::HtmlButtonElement> {
    part(root, testid).and_then(|b| b.dyn_into().ok())
}

pub(crate) fn set_text(root: &Element, testid: &str, text: Option<&str>) {
    if let Some(element) = part(root, testid) {
        if element.text_content().as_deref().unwrap_or("") != text.unwrap_or("") {
            element.set_text_content(text);
        }
    }
}

pub(crate) fn set_hidden(element: Option<Element>, hidden: bool) {
    if let Some(element) = element {
        let _ = Reflect::set(&element, &"hidden".into(), &hidden.into());
    }
}

#[cfg_attr(not(feature = "checkout"), allow(dead_code))]
pub(crate) fn bool_text(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

pub(crate) fn on(
    target: &web_sys::EventTarget,
    event: &str,
    handler: impl FnMut(web_sys::Event) + 'static,
) {
    let handler = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    // The forms live as long as the page.
    handler.forget();
}
