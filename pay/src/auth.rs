//! The sign-in and sign-up forms (`/account/sign-in`, `/account/sign-up`), without
//! Leptos.
//!
//! The server renders each as a plain form posting to `authenticate`, which works
//! without JavaScript (the server then sends the shopper on to `next`). [`auth_form`]
//! posts it itself: on success the page loads `data-next` (a local path the server
//! checked), so the header and the cart change with the session; an error is shown in
//! `auth-error`. The button is disabled while the form is sent, and a second click is
//! ignored before anything awaits.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlButtonElement, HtmlFormElement};

use crate::{form_body, on, post_body, set_text};

/// Takes over the server-rendered form `form` (`<form data-wasm="auth_form"
/// data-next=…>`). Called once by the page's module script.
#[wasm_bindgen]
pub fn auth_form(form: HtmlFormElement) {
    let busy = Rc::new(Cell::new(false));
    let button = form
        .query_selector("button[type=submit]")
        .ok()
        .flatten()
        .and_then(|b| b.dyn_into::<HtmlButtonElement>().ok());
    let target = form.clone();
    on(&form, "submit", move |event| {
        event.prevent_default();
        // The browser checked the fields first (`required`, `minlength`).
        let (Some(path), Some(body)) = (target.get_attribute("action"), form_body(&target)) else {
            return;
        };
        if busy.replace(true) {
            return;
        }
        let next = target
            .get_attribute("data-next")
            .unwrap_or_else(|| "/".to_owned());
        set_text(&target, "auth-error", None);
        if let Some(button) = &button {
            button.set_disabled(true);
        }
        let (form, button, busy) = (target.clone(), button.clone(), busy.clone());
        spawn_local(async move {
            match post_body(&path, body).await {
                Ok(_) => {
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href(&next);
                    }
                }
                Err(message) => {
                    set_text(&form, "auth-error", Some(&message));
                    if let Some(button) = &button {
                        button.set_disabled(false);
                    }
                    busy.set(false);
                }
            }
        });
    });
}
