//! The checkout's payment form in the browser (`/checkout/{order_id}`, the module
//! `pay.js`). The server renders the whole form (`app::payment_page`); [`pay_form`]
//! takes it over: it mounts Stripe's card Element, asks for the order's PaymentIntent
//! once the card form is ready, and confirms it with `confirmCardPayment` (3-D Secure
//! included) through the `stripe-js` bindings. Every sentence the shopper reads comes
//! from `stripe_types::messages`, as on the server.
//!
//! Guarantees, as before: the pay button is disabled until the card is complete and
//! while a payment runs, and a second click is ignored before anything awaits; one order
//! has one PaymentIntent (the server's), so a retry after a decline confirms the same one;
//! a resolved `{error}` is shown as its specific reason, never taken for success.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::JSON;
use shop::{PaymentFormSetup, PaymentStart};
use stripe_js::{ErrorType, PaymentError, PaymentIntentInfo, PaymentIntentStatus};
use stripe_types::messages;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlElement, HtmlInputElement};

use crate::{
    bool_text, button, mount_card_element, on, part, post, set_hidden, set_text, show_card_state,
    Card,
};

/// How long a paid shopper waits for the "submitted" hint before the order page.
const SUBMITTED_WAIT_MS: u32 = 3_000;

/// Takes over the server-rendered payment form `root` (`<form data-wasm="pay_form"
/// data-props=…>`): its buttons, the card element, the payment. Called once per form by
/// the page's module script.
#[wasm_bindgen]
pub fn pay_form(root: HtmlElement) {
    let props = root
        .get_attribute("data-props")
        .and_then(|text| JSON::parse(&text).ok())
        .and_then(|value| serde_wasm_bindgen::from_value::<PaymentFormSetup>(value).ok());
    let Some(props) = props else {
        // The server always renders them: a page that lacks them is not ours to run.
        set_text(&root, "payment-error", Some(messages::FORM_NOT_STARTED));
        return;
    };
    let form = Rc::new(Form {
        root,
        state: RefCell::new(State {
            selected: props.selected.clone(),
            payment_error: props.notice.clone(),
            ..State::default()
        }),
        card: RefCell::new(None),
        asked: Cell::new(false),
        props,
    });
    form.listen();
    form.render();
    spawn_local(start(form));
}

/// What the form shows; [`Form::render`] writes it into the page.
#[derive(Default)]
struct State {
    payment: Option<PaymentStart>,
    /// The card element fired `ready`.
    ready: bool,
    /// The card details are complete (per the element's `change` events).
    complete: bool,
    /// The element's own validation message, shown next to the field.
    card_error: Option<String>,
    /// Why the last payment attempt (or loading the form) failed.
    payment_error: Option<String>,
    paying: bool,
    /// The saved card to pay with (`pm_…`), or `None` for the card typed in.
    selected: Option<String>,
}

impl State {
    fn new_card(&self) -> bool {
        self.selected.is_none()
    }

    /// Stripe.js confirms every payment, a saved card's too: until it has loaded (the
    /// card element's `ready`), a click would have nothing to pay with.
    fn can_pay(&self) -> bool {
        !self.paying
            && self.ready
            && (!self.new_card() || (self.complete && self.card_error.is_none()))
    }
}

struct Form {
    root: HtmlElement,
    props: PaymentFormSetup,
    state: RefCell<State>,
    card: RefCell<Option<Rc<Card>>>,
    /// The PaymentIntent was asked for once the form was ready.
    asked: Cell<bool>,
}

impl Form {
    fn part(&self, testid: &str) -> Option<Element> {
        part(&self.root, testid)
    }

    /// The saved cards' buttons (`data-pm` = `pm_…`).
    fn saved_cards(&self) -> Vec<Element> {
        let Ok(list) = self.root.query_selector_all("[data-testid=saved-card]") else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
            .collect()
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.state.borrow_mut());
        self.render();
    }

    /// Writes the state into the server-rendered form (the same attributes and texts the
    /// server renders for its first state).
    fn render(&self) {
        let state = self.state.borrow();
        let new_card = state.new_card();
        if let Some(payment) = &state.payment {
            let _ = self
                .root
                .set_attribute("data-payment-intent", &payment.payment_intent_id);
        }
        for button in self.saved_cards() {
            let on = button.get_attribute("data-pm") == state.selected;
            let _ = button.set_attribute("aria-pressed", bool_text(on));
        }
        if let Some(button) = self.part("use-new-card") {
            let _ = button.set_attribute("aria-pressed", bool_text(new_card));
        }
        set_hidden(self.part("new-card"), !new_card);
        set_hidden(self.part("card-loading"), state.ready);
        set_hidden(self.part("stripe-connecting"), state.ready || new_card);
        show_card_state(
            &self.root,
            state.ready,
            state.card_error.as_deref(),
            state.payment_error.as_deref(),
        );
        if let Some(button) = button(&self.root, "pay") {
            button.set_disabled(!state.can_pay());
            let _ = button.set_attribute("aria-busy", bool_text(state.paying));
            let was_paying = button.query_selector(".spinner").ok().flatten().is_some();
            if state.paying && !was_paying {
                button.set_inner_html(r#"<span class="spinner" aria-hidden="true"></span>Paying…"#);
            } else if !state.paying && (was_paying || button.text_content().is_none()) {
                button.set_text_content(Some(&format!("Pay {}", self.props.total)));
            }
        }
    }

    /// "Save this card for next time", as the box shows it now: read at the click, never
    /// tracked, so a tick made before this module ran (or put back by the browser on a
    /// reload) counts too.
    fn save_card(&self) -> bool {
        self.part("save-card")
            .and_then(|input| input.dyn_into::<HtmlInputElement>().ok())
            .is_some_and(|input| input.checked())
    }

    /// The saved cards' buttons, "Use a new card", and the submit.
    fn listen(self: &Rc<Self>) {
        for button in self.saved_cards() {
            let pm = button.get_attribute("data-pm");
            let form = self.clone();
            on(&button, "click", move |_| {
                form.update(|s| s.selected = pm.clone());
            });
        }
        if let Some(button) = self.part("use-new-card") {
            let form = self.clone();
            on(&button, "click", move |_| {
                form.update(|s| s.selected = None)
            });
        }
        let form = self.clone();
        on(&self.root, "submit", move |event| {
            event.prevent_default();
            pay(form.clone());
        });
    }
}

/// The card form first: its frame's load is what the shopper waits for. Then the
/// PaymentIntent, once the card form is ready (or at once if the form cannot start, so
/// that the order's own errors still show). A click before it arrived asks for it itself.
async fn start(form: Rc<Form>) {
    match mount_card(&form).await {
        Ok(card) => *form.card.borrow_mut() = Some(Rc::new(card)),
        Err(message) => {
            form.update(|s| s.payment_error = Some(message.to_owned()));
            fetch_payment(&form).await;
        }
    }
}

async fn mount_card(form: &Rc<Form>) -> Result<Card, &'static str> {
    let node = form
        .part("card-element")
        .ok_or(messages::FORM_NOT_STARTED)?;
    let on_change = form.clone();
    let on_ready = form.clone();
    mount_card_element(
        &form.props.config,
        &node,
        move |change| {
            on_change.update(|s| {
                s.complete = change.complete;
                s.card_error = change.error.map(|e| e.message);
            });
        },
        move || {
            on_ready.update(|s| s.ready = true);
            if !on_ready.asked.replace(true) {
                let form = on_ready.clone();
                spawn_local(async move { fetch_payment(&form).await });
            }
        },
    )
    .await
}

/// Asks the server for the order's PaymentIntent (the same one every time).
async fn fetch_payment(form: &Form) {
    let order_id = form.props.order_id.clone();
    match start_payment(&order_id, "", "").await {
        Ok(payment) => form.update(|s| s.payment = Some(payment)),
        Err(message) => form.update(|s| s.payment_error = Some(message)),
    }
}

fn pay(form: Rc<Form>) {
    // Checked and set before anything awaits: a double click starts one payment.
    let selected = {
        let state = form.state.borrow();
        if state.paying || (state.new_card() && !state.complete) {
            return;
        }
        state.selected.clone()
    };
    let Some(card) = form.card.borrow().clone() else {
        return;
    };
    form.update(|s| {
        s.paying = true;
        s.payment_error = None;
    });
    spawn_local(async move {
        if form.props.signed_in {
            // The shopper's choice goes to the server first: it checks that a saved card
            // is theirs, and marks a new one to be saved (or not).
            let save = if form.save_card() { "on" } else { "" };
            let pm = selected.as_deref().unwrap_or("");
            match start_payment(&form.props.order_id, pm, save).await {
                Ok(payment) => form.update(|s| s.payment = Some(payment)),
                Err(message) => {
                    form.update(|s| {
                        s.payment_error = Some(message);
                        s.paying = false;
                    });
                    return;
                }
            }
        } else if form.state.borrow().payment.is_none() {
            fetch_payment(&form).await;
        }
        let Some(payment) = form.state.borrow().payment.clone() else {
            form.update(|s| s.paying = false);
            return;
        };
        let result = match &selected {
            Some(pm) => {
                card.stripe
                    .confirm_card_payment_with_method(&payment.client_secret, pm)
                    .await
            }
            None => {
                card.stripe
                    .confirm_card_payment(&payment.client_secret, &card.card, None)
                    .await
            }
        };
        let outcome = match outcome(result) {
            Outcome::AskStripe(message) => {
                match card
                    .stripe
                    .retrieve_payment_intent(&payment.client_secret)
                    .await
                {
                    Ok(pi) if money_on_its_way(pi.status) => Ok(()),
                    Ok(_) => Err(message),
                    Err(_) => Err(messages::CONFIRMATION_LOST),
                }
            }
            Outcome::Paid => Ok(()),
            Outcome::Failed(message) => Err(message),
        };
        match outcome {
            Ok(()) => leave_for_order(payment.order_id.to_string()).await,
            Err(message) => form.update(|s| {
                s.payment_error = Some(message.to_owned());
                s.paying = false;
            }),
        }
    });
}

/// Only a display hint: the order is paid when Stripe says so. The money is on its way,
/// so the shopper moves on to the order page when the hint is recorded or after a few
/// seconds, whichever is first (the order page asks Stripe itself).
async fn leave_for_order(order_id: String) {
    let page = format!("/orders/{order_id}");
    let gone = Rc::new(Cell::new(false));
    let leave = {
        let gone = gone.clone();
        move || {
            if !gone.replace(true) {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().set_href(&page);
                }
            }
        }
    };
    let after_hint = leave.clone();
    spawn_local(async move {
        let _ = post("/api/payment_submitted", &[("order_id", &order_id)]).await;
        after_hint();
    });
    stripe_js::delay(SUBMITTED_WAIT_MS).await;
    leave();
}

/// What a confirmation means for the shopper.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The money is on its way (Stripe's word comes later, by webhook).
    Paid,
    /// The message to show.
    Failed(&'static str),
    /// The answer was lost: the payment may have gone through. Ask Stripe before saying
    /// anything; this message if it says no.
    AskStripe(&'static str),
}

fn money_on_its_way(status: PaymentIntentStatus) -> bool {
    matches!(
        status,
        PaymentIntentStatus::Succeeded | PaymentIntentStatus::Processing
    )
}

fn outcome(result: Result<PaymentIntentInfo, PaymentError>) -> Outcome {
    match result {
        Ok(pi) if money_on_its_way(pi.status) => Outcome::Paid,
        Ok(_) => Outcome::Failed(messages::PAYMENT_NOT_COMPLETED),
        // Confirmed already (a second tab, or a retry after a lost answer).
        Err(e) if e.payment_intent_status.is_some_and(money_on_its_way) => Outcome::Paid,
        Err(e) if e.kind == ErrorType::ApiConnectionError => {
            Outcome::AskStripe(e.customer_message())
        }
        Err(e) => Outcome::Failed(e.customer_message()),
    }
}

/// `POST /api/pay` (the `start_payment` server function), as the Leptos client sends it.
async fn start_payment(order_id: &str, pm: &str, save: &str) -> Result<PaymentStart, String> {
    let value = post(
        "/api/pay",
        &[
            ("order_id", order_id),
            ("payment_method", pm),
            ("save", save),
        ],
    )
    .await?;
    serde_wasm_bindgen::from_value(value).map_err(|_| messages::SHOP_INTERNAL.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(status: PaymentIntentStatus) -> PaymentIntentInfo {
        PaymentIntentInfo {
            id: "pi_1".into(),
            status,
            amount: 2500,
            currency: "usd".into(),
        }
    }

    fn error(
        kind: ErrorType,
        code: Option<&str>,
        status: Option<PaymentIntentStatus>,
    ) -> PaymentError {
        PaymentError {
            kind,
            code: code.map(str::to_owned),
            decline_code: None,
            message: Some("Stripe's own words, never shown".into()),
            payment_intent_status: status,
        }
    }

    #[test]
    fn money_on_its_way_is_paid_and_anything_else_says_why() {
        assert_eq!(
            outcome(Ok(info(PaymentIntentStatus::Succeeded))),
            Outcome::Paid
        );
        assert_eq!(
            outcome(Ok(info(PaymentIntentStatus::Processing))),
            Outcome::Paid
        );
        assert_eq!(
            outcome(Ok(info(PaymentIntentStatus::RequiresPaymentMethod))),
            Outcome::Failed(messages::PAYMENT_NOT_COMPLETED)
        );
        let declined = error(ErrorType::CardError, Some("card_declined"), None);
        assert_eq!(
            outcome(Err(declined.clone())),
            Outcome::Failed(declined.customer_message())
        );
    }

    #[test]
    fn an_intent_confirmed_already_is_paid() {
        let again = error(
            ErrorType::InvalidRequestError,
            Some("payment_intent_unexpected_state"),
            Some(PaymentIntentStatus::Succeeded),
        );
        assert_eq!(outcome(Err(again)), Outcome::Paid);
    }

    #[test]
    fn a_lost_answer_is_asked_about_before_anything_is_said() {
        let lost = error(ErrorType::ApiConnectionError, None, None);
        assert_eq!(
            outcome(Err(lost.clone())),
            Outcome::AskStripe(lost.customer_message())
        );
    }

    #[test]
    fn the_pay_button_waits_for_the_card_form_and_a_complete_card() {
        let mut state = State::default();
        assert!(!state.can_pay(), "not before the card form is ready");
        state.ready = true;
        assert!(!state.can_pay(), "not with an incomplete new card");
        state.complete = true;
        assert!(state.can_pay());
        state.card_error = Some("Your card number is invalid.".into());
        assert!(!state.can_pay(), "not while the card form shows an error");
        state.selected = Some("pm_1".into());
        assert!(state.can_pay(), "a saved card needs no typing");
        state.paying = true;
        assert!(!state.can_pay(), "not while a payment runs");
    }
}
