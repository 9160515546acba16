//! The cart in the browser, without Leptos: the shop's and the cart page's forms.
//!
//! The server renders the cart whole (`app::pages::CartPanel`) with plain forms marked
//! `data-cart`, which work without JavaScript (each post comes back to the page). [`cart`]
//! takes them over: it posts a form's fields to its server function itself, and writes
//! the priced cart it gets back into the panel and the header's count, so the page stays
//! where it is. A line the page did not show is a copy of the panel's `<template>`, the
//! row the server renders, filled in here ([`fill_row`]) with the texts the server
//! renders (`CartLine::field_text`).
//!
//! Guarantees, as the Leptos islands gave them: answers to quick clicks can arrive in
//! either order, and an older one never replaces a newer cart on screen
//! ([`CartView::supersedes`]); an error is shown in `cart-error` and changes nothing;
//! "Checkout" is disabled while the order is placed, so a double click places one order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use shop::{CartLine, CartView, CART_ROW_SKU_PLACEHOLDER};
use stripe_types::messages;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    Element, HtmlButtonElement, HtmlElement, HtmlFormElement, HtmlInputElement, HtmlTemplateElement,
};

use crate::{form_body, on, part, post_body, set_hidden, set_text};

/// Takes over the server-rendered cart panel `root` (`<section data-wasm="cart"
/// data-revision=…>`) and every cart form of the page. Called once by the page's module
/// script.
#[wasm_bindgen]
pub fn cart(root: HtmlElement) {
    let revision = root
        .get_attribute("data-revision")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let cart = Rc::new(Cart {
        root,
        shown: Cell::new(revision),
        placing: Cell::new(false),
        held: RefCell::new(None),
    });
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    // One listener for the page: the add buttons are outside the panel, and the panel's
    // rows are replaced as the cart changes.
    on(&document, "submit", move |event| {
        let Some(form) = event
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        let (Some(kind), Some(path)) = (
            form.get_attribute("data-cart"),
            form.get_attribute("action"),
        ) else {
            return;
        };
        event.prevent_default();
        let Some(body) = form_body(&form) else {
            cart.show_error(Some(messages::SHOP_INTERNAL));
            return;
        };
        if kind == "checkout" {
            place_order(cart.clone(), form, path, body);
        } else {
            change(cart.clone(), path, body);
        }
    });
}

struct Cart {
    root: HtmlElement,
    /// The revision of the cart on screen.
    shown: Cell<u64>,
    /// An order is being placed.
    placing: Cell<bool>,
    /// The changes clicked while the first change of a page without a cart runs (see
    /// [`change`]), sent once it is answered; `None` when nothing waits for it.
    held: RefCell<Option<Vec<(String, String)>>>,
}

impl Cart {
    fn show_error(&self, message: Option<&str>) {
        set_text(&self.root, "cart-error", message);
    }

    /// Writes a priced cart into the page, unless it is older than the one shown.
    fn show(&self, view: &CartView) {
        self.show_error(None);
        let shown = CartView {
            revision: self.shown.get(),
            ..CartView::default()
        };
        if !view.supersedes(&shown) {
            return;
        }
        self.shown.set(view.revision);
        if let Some(badge) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("[data-testid=cart-count]").ok().flatten())
        {
            badge.set_text_content(Some(&view.item_count().to_string()));
        }
        let empty = view.total.is_none();
        set_hidden(part(&self.root, "cart-empty"), !empty);
        set_hidden(part(&self.root, "cart-filled"), empty);
        let (total, expected) = view.total_texts();
        set_text(&self.root, "cart-total", Some(&total));
        if let Some(input) = self
            .root
            .query_selector("[data-field=expected_total]")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        {
            input.set_value(&expected);
        }
        let Some(list) = self.root.query_selector(".cart-lines").ok().flatten() else {
            return;
        };
        list.set_inner_html("");
        for line in &view.lines {
            if let Some(row) = self.new_row(line) {
                let _ = list.append_child(&row);
            }
        }
    }

    /// A copy of the row template, filled in with `line`.
    fn new_row(&self, line: &CartLine) -> Option<Element> {
        let template = part(&self.root, "cart-line-template")?
            .dyn_into::<HtmlTemplateElement>()
            .ok()?;
        let row = template
            .content()
            .first_element_child()?
            .clone_node_with_deep(true)
            .ok()?
            .dyn_into::<Element>()
            .ok()?;
        fill_row(&row, line);
        Some(row)
    }
}

/// Puts `line` into a copy of the row template: its sku into every attribute that holds
/// [`CART_ROW_SKU_PLACEHOLDER`] (test ids, the forms' hidden `sku`), its texts into the elements
/// marked `data-field` (an input's value for the quantity).
fn fill_row(row: &Element, line: &CartLine) {
    let mut elements = vec![row.clone()];
    if let Ok(list) = row.query_selector_all("*") {
        elements.extend((0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()));
    }
    for element in elements {
        for name in element.get_attribute_names().iter() {
            let Some(name) = name.as_string() else {
                continue;
            };
            let value = element.get_attribute(&name).unwrap_or_default();
            if let Some(value) = with_sku(&value, line.sku.as_str()) {
                let _ = element.set_attribute(&name, &value);
            }
        }
        let Some(text) = element
            .get_attribute("data-field")
            .and_then(|field| line.field_text(&field))
        else {
            continue;
        };
        match element.dyn_ref::<HtmlInputElement>() {
            Some(input) => {
                let _ = input.set_attribute("value", &text);
                input.set_value(&text);
            }
            None => element.set_text_content(Some(&text)),
        }
    }
}

/// An attribute of the row template with the line's sku in place of the placeholder, or
/// `None` when it holds none.
fn with_sku(value: &str, sku: &str) -> Option<String> {
    value
        .contains(CART_ROW_SKU_PLACEHOLDER)
        .then(|| value.replace(CART_ROW_SKU_PLACEHOLDER, sku))
}

/// Add, change a quantity, remove: the server answers with the priced cart.
///
/// A shopper without a cart yet gets one (and its cookie) with the first change's
/// answer: a second click sent before that answer would carry no cookie and start a
/// second cart, and the cookie that came last would lose the other cart's line. So on a
/// page that showed no cart, the changes clicked while the first one runs are held until
/// it is answered.
fn change(cart: Rc<Cart>, path: String, body: String) {
    if let Some(held) = cart.held.borrow_mut().as_mut() {
        held.push((path, body));
        return;
    }
    let first = cart.shown.get() == 0;
    if first {
        *cart.held.borrow_mut() = Some(Vec::new());
    }
    spawn_local(async move {
        send_change(&cart, &path, body).await;
        if first {
            // Sent now, at once if the answer brought a cart, else the first of them
            // alone again (the first change was refused: still no cart).
            let held = cart.held.borrow_mut().take().unwrap_or_default();
            for (path, body) in held {
                change(cart.clone(), path, body);
            }
        }
    });
}

async fn send_change(cart: &Cart, path: &str, body: String) {
    let answer = post_body(path, body).await.and_then(|value| {
        serde_wasm_bindgen::from_value::<CartView>(value)
            .map_err(|_| messages::SHOP_INTERNAL.to_owned())
    });
    match answer {
        Ok(view) => cart.show(&view),
        Err(message) => cart.show_error(Some(&message)),
    }
}

/// "Checkout": the server places the order and answers with its id; the checkout page
/// follows. The button says so and is disabled meanwhile; a second click is ignored
/// before anything awaits.
fn place_order(cart: Rc<Cart>, form: HtmlFormElement, path: String, body: String) {
    if cart.placing.replace(true) {
        return;
    }
    let button = form
        .query_selector("button[type=submit]")
        .ok()
        .flatten()
        .and_then(|b| b.dyn_into::<HtmlButtonElement>().ok());
    let label = button.as_ref().and_then(|b| b.text_content());
    if let Some(button) = &button {
        button.set_disabled(true);
        button.set_text_content(Some("Placing order…"));
    }
    cart.show_error(None);
    spawn_local(async move {
        let answer = post_body(&path, body).await.and_then(|value| {
            value
                .as_string()
                .ok_or_else(|| messages::SHOP_INTERNAL.to_owned())
        });
        match answer {
            Ok(order_id) => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().set_href(&format!("/checkout/{order_id}"));
                }
            }
            Err(message) => {
                cart.show_error(Some(&message));
                if let Some(button) = &button {
                    button.set_disabled(false);
                    button.set_text_content(label.as_deref());
                }
                cart.placing.set(false);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_row_gets_the_lines_sku_in_its_attributes_and_only_there() {
        assert_eq!(
            with_sku("quantity-{sku}", "ferris-mug").as_deref(),
            Some("quantity-ferris-mug")
        );
        assert_eq!(
            with_sku("{sku}", "ferris-mug").as_deref(),
            Some("ferris-mug")
        );
        assert_eq!(with_sku("/api/set_quantity", "ferris-mug"), None);
    }
}
