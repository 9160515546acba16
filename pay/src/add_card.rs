//! "Add a card" on the shopper's cards page (`/account/cards`), without Leptos.
//!
//! The server renders the form whole (`app::account_pages::AddCard`), hidden until this
//! module shows its button: a card Element needs Stripe.js. A click opens the form and
//! loads the card Element; "Save card" asks the server for a SetupIntent of the shopper's
//! Customer, confirms it with `confirmCardSetup` (3-D Secure included), and tells the
//! server, which asks Stripe and records the card; then the page reloads with it.
//!
//! Guarantees: "Save card" is disabled until the card is complete and while a card is
//! being saved, and a second click is ignored before anything awaits; a failed setup
//! says why, in the shopper's words.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::JSON;
use shop::{PaymentsConfig, SetupStart};
use stripe_js::SetupIntentStatus;
use stripe_types::messages;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlElement;

use crate::{button, mount_card_element, on, part, post, set_hidden, show_card_state, Card};

/// Takes over the server-rendered "Add a card" block `root` (`<div data-wasm="add_card"
/// data-props=…>`, the props being the [`PaymentsConfig`]). Called once by the page's
/// module script.
#[wasm_bindgen]
pub fn add_card(root: HtmlElement) {
    let config = root
        .get_attribute("data-props")
        .and_then(|text| JSON::parse(&text).ok())
        .and_then(|value| serde_wasm_bindgen::from_value::<PaymentsConfig>(value).ok());
    let Some(config) = config else {
        // The server always renders them: a page that lacks them is not ours to run.
        return;
    };
    let form = Rc::new(AddCard {
        root,
        config,
        state: RefCell::new(State::default()),
        card: RefCell::new(None),
    });
    if let Some(open) = form.part("add-card") {
        let opened = form.clone();
        on(&open, "click", move |_| {
            if !opened.state.borrow().open {
                opened.update(|s| s.open = true);
                spawn_local(start(opened.clone()));
            }
        });
    }
    if let Some(element) = form.root.query_selector("form").ok().flatten() {
        let saving = form.clone();
        on(&element, "submit", move |event| {
            event.prevent_default();
            save(saving.clone());
        });
    }
    form.render();
}

/// What the block shows; [`AddCard::render`] writes it into the page.
#[derive(Default)]
struct State {
    /// The shopper asked for the form.
    open: bool,
    ready: bool,
    complete: bool,
    card_error: Option<String>,
    error: Option<String>,
    saving: bool,
}

impl State {
    fn can_save(&self) -> bool {
        self.ready && self.complete && !self.saving && self.card_error.is_none()
    }
}

struct AddCard {
    root: HtmlElement,
    config: PaymentsConfig,
    state: RefCell<State>,
    card: RefCell<Option<Rc<Card>>>,
}

impl AddCard {
    fn part(&self, testid: &str) -> Option<web_sys::Element> {
        part(&self.root, testid)
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.borrow_mut());
        self.render();
    }

    fn render(&self) {
        let state = self.state.borrow();
        set_hidden(self.part("add-card"), state.open);
        set_hidden(self.root.query_selector("form").ok().flatten(), !state.open);
        show_card_state(
            &self.root,
            state.ready,
            state.card_error.as_deref(),
            state.error.as_deref(),
        );
        if let Some(button) = button(&self.root, "save-new-card") {
            button.set_disabled(!state.can_save());
            let label = if state.saving {
                "Saving…"
            } else {
                "Save card"
            };
            if button.text_content().as_deref() != Some(label) {
                button.set_text_content(Some(label));
            }
        }
    }
}

/// The card Element, loaded when the shopper opens the form.
async fn start(form: Rc<AddCard>) {
    let Some(node) = form.part("card-element") else {
        form.update(|s| s.error = Some(messages::FORM_NOT_STARTED.to_owned()));
        return;
    };
    let (on_change, on_ready) = (form.clone(), form.clone());
    let mounted = mount_card_element(
        &form.config,
        &node,
        move |change| {
            on_change.update(|s| {
                s.complete = change.complete;
                s.card_error = change.error.map(|e| e.message);
            })
        },
        move || on_ready.update(|s| s.ready = true),
    )
    .await;
    match mounted {
        Ok(card) => *form.card.borrow_mut() = Some(Rc::new(card)),
        Err(message) => form.update(|s| s.error = Some(message.to_owned())),
    }
}

fn save(form: Rc<AddCard>) {
    // Checked and set before anything awaits: a double click saves one card.
    if !form.state.borrow().can_save() {
        return;
    }
    let Some(card) = form.card.borrow().clone() else {
        return;
    };
    form.update(|s| {
        s.saving = true;
        s.error = None;
    });
    spawn_local(async move {
        match setup(&card).await {
            Ok(()) => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().reload();
                }
            }
            Err(message) => form.update(|s| {
                s.error = Some(message);
                s.saving = false;
            }),
        }
    });
}

/// A SetupIntent from the server, confirmed in the browser, then recorded by the server
/// (which asks Stripe: the browser's word is not enough).
async fn setup(card: &Card) -> Result<(), String> {
    let value = post("/api/start_card_setup", &[]).await?;
    let setup: SetupStart =
        serde_wasm_bindgen::from_value(value).map_err(|_| messages::SHOP_INTERNAL.to_owned())?;
    let si = card
        .stripe
        .confirm_card_setup(&setup.client_secret, &card.card)
        .await
        .map_err(|e| e.customer_message().to_owned())?;
    if si.status != SetupIntentStatus::Succeeded {
        return Err(messages::PAYMENT_NOT_COMPLETED.to_owned());
    }
    post("/api/card_setup_done", &[("setup_intent", &si.id)]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_card_waits_for_a_ready_complete_card_and_runs_once() {
        let mut state = State::default();
        assert!(!state.can_save(), "not before the card form is ready");
        state.ready = true;
        assert!(!state.can_save(), "not with an incomplete card");
        state.complete = true;
        assert!(state.can_save());
        state.card_error = Some("Your card number is invalid.".into());
        assert!(!state.can_save(), "not while the card form shows an error");
        state.card_error = None;
        state.saving = true;
        assert!(!state.can_save(), "not while a card is being saved");
    }
}
