//! The payment page (`/checkout/{order_id}`): the order's summary and Stripe's card
//! Element, confirmed with `confirmCardPayment` (3-D Secure included) through the
//! `stripe-js` bindings. The amount is the order's, on the server; the page only ever
//! holds the PaymentIntent's client secret.
//!
//! Guarantees: the pay button is disabled until the card is complete and while a payment
//! runs (and a second click is ignored even before the re-render); one order has one
//! PaymentIntent, so a retry after a decline, a reload or a second tab confirms the same
//! one; a resolved `{error}` is shown as the specific reason, never taken for success.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use shop::{OrderView, PaymentOptions, PaymentStart, PaymentsConfig};
use stripe_types::messages;

use crate::api::{get_order, get_payment_options, get_payments_config};
use crate::pages::OrderLines;

/// Everything the form shows, as signals (cheap to copy into callbacks).
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct FormState {
    order_id: StoredValue<String>,
    payment: RwSignal<Option<PaymentStart>>,
    /// The card element fired `ready`.
    ready: RwSignal<bool>,
    /// The card details are complete (per the element's `change` events).
    complete: RwSignal<bool>,
    /// The element's own validation message, shown next to the field.
    card_error: RwSignal<Option<String>>,
    /// Why the last payment attempt (or loading the form) failed.
    payment_error: RwSignal<Option<String>>,
    paying: RwSignal<bool>,
    /// The saved card to pay with (`pm_…`), or `None` for the card typed in.
    selected: RwSignal<Option<String>>,
    /// "Save this card for next time" (signed-in shoppers, new card).
    save: RwSignal<bool>,
    signed_in: bool,
}

#[component]
pub fn PaymentPage() -> impl IntoView {
    let params = use_params_map();
    let order = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_order,
    );
    let config = OnceResource::new(get_payments_config());
    let options = OnceResource::new(get_payment_options());
    // `?card=pm_…`: the card to preselect (buy again that needs the bank's confirmation).
    let query = use_query_map();
    let preselect = move || query.read().get("card");
    view! {
        <section class="checkout-page">
            <Suspense fallback=|| view! { <p>"Loading your order…"</p> }>
                {move || Suspend::new(async move {
                    let order = order.await;
                    let config = config.await;
                    // Saved cards are an extra: a failure to list them leaves the new card.
                    let options = options.await.unwrap_or_default();
                    let preselect = preselect();
                    match (order, config) {
                        (Ok(order), Ok(config)) if order.status.is_payable() => {
                            view! { <CheckoutForm order config options preselect/> }.into_any()
                        }
                        (Ok(order), Ok(_)) => {
                            let href = format!("/orders/{}", order.id);
                            view! {
                                <h1>"Checkout"</h1>
                                <p data-testid="checkout-closed">
                                    {order.status.describe()} " "
                                    <A href=href>"See the order"</A>
                                </p>
                            }
                            .into_any()
                        }
                        (Err(e), _) | (Ok(_), Err(e)) => view! {
                            <h1>"Checkout"</h1>
                            <p class="error" role="alert" data-testid="payment-error">{e.customer_message()}</p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The order's summary (server-rendered) beside the payment form (an island).
#[component]
fn CheckoutForm(
    order: OrderView,
    config: PaymentsConfig,
    options: PaymentOptions,
    preselect: Option<String>,
) -> impl IntoView {
    let total = order.total.to_string();
    // Why the last attempt failed, in the shopper's words (a declined "buy again", or the
    // bank asking to authenticate).
    let notice = order.failure_code.as_deref().map(|code| {
        if code == "authentication_required" {
            messages::CONFIRM_WITH_BANK.to_owned()
        } else {
            format!(
                "{} {}",
                messages::LAST_ATTEMPT_FAILED,
                messages::card_message(Some(code), None)
            )
        }
    });
    let PaymentOptions { signed_in, cards } = options;
    // The card to start with: the one asked for (if saved), else the default.
    let selected = preselect
        .filter(|pm| cards.iter().any(|c| c.id.as_str() == pm))
        .or_else(|| cards.first().map(|c| c.id.to_string()));
    // The island gets plain strings (`pm_…`, last 4, label): no card type to decode in the
    // WASM.
    let choices: Vec<(String, String, String)> = cards
        .iter()
        .map(|c| {
            let label = format!(
                "{} · {}{}",
                c.label(),
                c.expiry(),
                if c.is_default { " · default" } else { "" }
            );
            (c.id.to_string(), c.last4.clone(), label)
        })
        .collect();
    view! {
        // Stripe.js starts downloading now, beside the WASM, not after it hydrated.
        <crate::hydration::StartStripeJs url=config.js_url.clone()/>
        <h1>"Checkout"</h1>
        <div class="checkout">
            <section class="summary" aria-labelledby="summary-heading">
                <h2 id="summary-heading">"Order " <code>{order.id.to_string()}</code></h2>
                <OrderLines lines=order.lines total=total.clone()/>
            </section>
            <PaymentForm order_id=order.id.into() total notice config signed_in cards=choices selected/>
        </div>
    }
}

/// The card form. `total` is the order's total as shown; the amount charged is the
/// server's. `notice`: why the order's last attempt failed. Signed-in shoppers also get
/// their saved `cards` (`selected` first) and "Save this card for next time".
// Not lazy: the payment form is in the main WASM module, so the checkout (the page
// that must be quick) fetches one module instead of waiting for the island's split
// modules after the main one; the other islands are lazy.
#[island]
fn PaymentForm(
    order_id: String,
    total: String,
    notice: Option<String>,
    config: PaymentsConfig,
    signed_in: bool,
    cards: Vec<(String, String, String)>,
    selected: Option<String>,
) -> impl IntoView {
    crate::pages::island_hydrated();
    let state = FormState {
        order_id: StoredValue::new(order_id),
        payment: RwSignal::new(None),
        ready: RwSignal::new(false),
        complete: RwSignal::new(false),
        card_error: RwSignal::new(None),
        payment_error: RwSignal::new(notice),
        paying: RwSignal::new(false),
        selected: RwSignal::new(selected),
        save: RwSignal::new(false),
        signed_in,
    };
    let card_node = NodeRef::<leptos::html::Div>::new();
    let pay = browser::mount_card(card_node, config, state);

    let pay_label = format!("Pay {total}");
    let new_card = move || state.selected.get().is_none();
    // Stripe.js confirms every payment, a saved card's too: until it has loaded (the card
    // element's `ready`), a click would have nothing to pay with.
    let can_pay = move || {
        !state.paying.get()
            && state.ready.get()
            && (!new_card() || (state.complete.get() && state.card_error.get().is_none()))
    };
    let saved_cards = (!cards.is_empty()).then(|| {
        view! {
            <fieldset class="saved-cards">
                <legend>"Pay with"</legend>
                {cards.into_iter().map(|(pm, last4, label)| {
                    let pick = pm.clone();
                    let this = pm.clone();
                    let is_on = move || state.selected.get().as_deref() == Some(this.as_str());
                    view! {
                        <button type="button" class="saved-card" data-testid="saved-card"
                            data-pm=pm data-last4=last4
                            aria-pressed=move || is_on().to_string()
                            on:click=move |_| state.selected.set(Some(pick.clone()))>
                            {label}
                        </button>
                    }
                }).collect_view()}
                <button type="button" class="saved-card" data-testid="use-new-card"
                    aria-pressed=move || new_card().to_string()
                    on:click=move |_| state.selected.set(None)>
                    "Use a new card"
                </button>
            </fieldset>
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        pay();
    };
    view! {
        <form class="payment" on:submit=on_submit novalidate=true
            data-payment-intent=move || state.payment.get().map(|p| p.payment_intent_id)>
            {saved_cards}
            <div class="new-card" hidden=move || !new_card()>
                <label for="card-element">"Card"</label>
                <div
                    id="card-element"
                    class="card-element"
                    data-testid="card-element"
                    data-ready=move || state.ready.get().then_some("true")
                    node_ref=card_node
                ></div>
                <p class="card-loading" hidden=move || state.ready.get()>
                    "Loading the secure card form…"
                </p>
                <p class="field-error" role="alert" aria-live="polite" data-testid="card-error">
                    {move || state.card_error.get()}
                </p>
                {signed_in.then(|| view! {
                    <label class="save-card">
                        <input type="checkbox" name="save" data-testid="save-card"
                            prop:checked=move || state.save.get()
                            on:change=move |ev| state.save.set(event_target_checked(&ev))/>
                        " Save this card for next time"
                    </label>
                })}
            </div>
            <p class="card-loading" hidden=move || state.ready.get() || new_card()>
                "Connecting to Stripe…"
            </p>
            <p class="error" role="alert" aria-live="assertive" data-testid="payment-error">
                {move || state.payment_error.get()}
            </p>
            <button type="submit" class="primary pay" data-testid="pay"
                disabled=move || !can_pay()
                aria-busy=move || state.paying.get().to_string()>
                {move || if state.paying.get() {
                    view! { <span class="spinner" aria-hidden="true"></span> "Paying…" }.into_any()
                } else {
                    pay_label.clone().into_any()
                }}
            </button>
            <p class="fine-print">"Card details go straight to Stripe; this shop never sees them."</p>
        </form>
    }
}

/// The browser side: Stripe.js, the card element, and the payment itself.
#[cfg(feature = "hydrate")]
pub(crate) mod browser {
    use std::rc::Rc;

    use leptos::prelude::*;
    use leptos::task::spawn_local;
    use stripe_js::{
        CardElement, CardOptions, Elements, ErrorType, PaymentError, PaymentIntentInfo, Stripe,
    };
    use stripe_types::PaymentIntentStatus;

    use shop::PaymentsConfig;
    use stripe_types::messages;

    use super::FormState;
    use crate::api::{payment_submitted, start_payment};

    /// How long Stripe.js may take to load before the shopper is told.
    const LOAD_TIMEOUT_MS: u32 = 15_000;
    /// How long a paid shopper waits for the "submitted" hint before the order page.
    const SUBMITTED_WAIT_MS: u32 = 3_000;

    /// Stripe.js objects of the mounted form. Dropping it destroys the element (and
    /// frees its event callbacks).
    pub(crate) struct Card {
        pub(crate) stripe: Stripe,
        pub(crate) card: CardElement,
        _elements: Elements,
    }

    /// Mounts the card element once its node exists; returns the pay action.
    pub(super) fn mount_card(
        node: NodeRef<leptos::html::Div>,
        config: PaymentsConfig,
        state: FormState,
    ) -> impl Fn() + Clone + 'static {
        let mounted: StoredValue<Option<Rc<Card>>, LocalStorage> = StoredValue::new_local(None);
        // A full page load: islands have no client-side router.
        let navigate = |path: &str| {
            let _ = window().location().set_href(path);
        };
        // Navigating away destroys the element.
        on_cleanup(move || {
            let _ = mounted.try_update_value(|card| card.take());
        });
        let started = StoredValue::new(false);
        Effect::new(move |_| {
            let Some(node) = node.get() else { return };
            if started.get_value() {
                return;
            }
            started.set_value(true);
            let config = config.clone();
            // The card form first: its frame's load is what the shopper waits for, and
            // the page's main thread is busiest now. With Stripe.js already loaded (it
            // started from `<head>`), the frame is created before anything else runs.
            spawn_local(async move {
                match setup(&node, &config, state).await {
                    Ok(card) => {
                        // If the page was left meanwhile, the card is dropped (destroyed) here.
                        let _ = mounted.try_set_value(Some(Rc::new(card)));
                    }
                    Err(message) => {
                        let _ = state.payment_error.try_set(Some(message));
                        // The form cannot start: the PaymentIntent now, so that the
                        // order's own errors still show.
                        fetch_payment(state).await;
                    }
                }
            });
        });
        // Then the PaymentIntent, needed only at the click: once the card form is ready
        // (the setup above asks for it when the form cannot start). A click before it
        // arrived fetches it itself (`pay`).
        let asked = StoredValue::new(false);
        Effect::new(move |_| {
            if !state.ready.get() || asked.get_value() {
                return;
            }
            asked.set_value(true);
            spawn_local(fetch_payment(state));
        });
        move || pay(state, mounted, navigate)
    }

    /// Signals are written with `try_`: the shopper may have left the page while this
    /// awaited (a disposed signal must not trap the whole app).
    async fn fetch_payment(state: FormState) {
        let Some(order_id) = state.order_id.try_get_value() else {
            return;
        };
        match start_payment(order_id, String::new(), String::new()).await {
            Ok(payment) => {
                let _ = state.payment.try_set(Some(payment));
            }
            Err(e) => {
                let _ = state.payment_error.try_set(Some(e.customer_message()));
            }
        }
    }

    async fn setup(
        node: &web_sys::HtmlDivElement,
        config: &PaymentsConfig,
        state: FormState,
    ) -> Result<Card, String> {
        mount_card_element(node, config, state.ready, state.complete, state.card_error).await
    }

    /// Loads Stripe.js and mounts a card Element in `node`; its `ready`, completeness and
    /// validation message go to the signals. Also used by "Add a card".
    pub(crate) async fn mount_card_element(
        node: &web_sys::HtmlDivElement,
        config: &PaymentsConfig,
        ready: RwSignal<bool>,
        complete: RwSignal<bool>,
        card_error: RwSignal<Option<String>>,
    ) -> Result<Card, String> {
        stripe_js::load(&config.js_url, LOAD_TIMEOUT_MS)
            .await
            .map_err(|e| e.customer_message().to_owned())?;
        let unavailable = |_| messages::FORM_NOT_STARTED.to_owned();
        let stripe = Stripe::new(&config.publishable_key).map_err(unavailable)?;
        let elements = stripe.elements().map_err(unavailable)?;
        let card = elements
            .create_card(&CardOptions::default())
            .map_err(unavailable)?;
        card.on_change(move |change| {
            let _ = complete.try_set(change.complete);
            let _ = card_error.try_set(change.error.map(|e| e.message));
        });
        card.on_ready(move || {
            let _ = ready.try_set(true);
            if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
                let _ = performance.mark("card-ready");
            }
        });
        card.mount(node).map_err(unavailable)?;
        Ok(Card {
            stripe,
            card,
            _elements: elements,
        })
    }

    fn pay(
        state: FormState,
        mounted: StoredValue<Option<Rc<Card>>, LocalStorage>,
        navigate: impl Fn(&str) + Clone + 'static,
    ) {
        // Checked and set before anything awaits: a double click starts one payment.
        let selected = state.selected.get_untracked();
        if state.paying.get_untracked() || (selected.is_none() && !state.complete.get_untracked()) {
            return;
        }
        let Some(card) = mounted.try_get_value().flatten() else {
            return;
        };
        state.paying.set(true);
        state.payment_error.set(None);
        spawn_local(async move {
            if state.signed_in {
                // The shopper's choice goes to the server first: it checks that a saved
                // card is theirs, and marks a new one to be saved (or not).
                let Some(order_id) = state.order_id.try_get_value() else {
                    return;
                };
                let save = if state.save.get_untracked() { "on" } else { "" };
                match start_payment(order_id, selected.clone().unwrap_or_default(), save.into())
                    .await
                {
                    Ok(payment) => {
                        let _ = state.payment.try_set(Some(payment));
                    }
                    Err(e) => {
                        let _ = state.payment_error.try_set(Some(e.customer_message()));
                        let _ = state.paying.try_set(false);
                        return;
                    }
                }
            } else if state.payment.try_get_untracked().flatten().is_none() {
                fetch_payment(state).await;
            }
            let Some(payment) = state.payment.try_get_untracked().flatten() else {
                let _ = state.paying.try_set(false);
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
            match settle(&card.stripe, &payment.client_secret, result).await {
                Ok(()) => {
                    // Only a display hint: the order is paid when Stripe says so. The
                    // money is on its way, so the shopper moves on to the order page
                    // when the hint is recorded or after a few seconds, whichever is
                    // first (the order page asks Stripe itself).
                    let page = format!("/orders/{}", payment.order_id);
                    let gone = Rc::new(std::cell::Cell::new(false));
                    let leave = {
                        let gone = gone.clone();
                        move || {
                            if !gone.replace(true) {
                                navigate(&page);
                            }
                        }
                    };
                    let order_id = payment.order_id.to_string();
                    let after_hint = leave.clone();
                    spawn_local(async move {
                        let _ = payment_submitted(order_id).await;
                        after_hint();
                    });
                    stripe_js::delay(SUBMITTED_WAIT_MS).await;
                    leave();
                }
                Err(message) => {
                    let _ = state.payment_error.try_set(Some(message));
                    let _ = state.paying.try_set(false);
                }
            }
        });
    }

    /// What the confirmation means for the shopper: `Ok` when the money is on its way
    /// (Stripe's word comes later, by webhook), else the message to show.
    async fn settle(
        stripe: &Stripe,
        client_secret: &str,
        result: Result<PaymentIntentInfo, PaymentError>,
    ) -> Result<(), String> {
        let done = |status: PaymentIntentStatus| {
            matches!(
                status,
                PaymentIntentStatus::Succeeded | PaymentIntentStatus::Processing
            )
        };
        match result {
            Ok(pi) if done(pi.status) => Ok(()),
            Ok(_) => Err(messages::PAYMENT_NOT_COMPLETED.to_owned()),
            // Confirmed already (a second tab, or a retry after a lost answer).
            Err(e) if e.payment_intent_status.is_some_and(done) => Ok(()),
            // The answer was lost: the payment may have gone through. Ask before saying.
            Err(e) if e.kind == ErrorType::ApiConnectionError => {
                match stripe.retrieve_payment_intent(client_secret).await {
                    Ok(pi) if done(pi.status) => Ok(()),
                    Ok(_) => Err(e.customer_message().to_owned()),
                    Err(_) => Err(messages::CONFIRMATION_LOST.to_owned()),
                }
            }
            Err(e) => Err(e.customer_message().to_owned()),
        }
    }
}

/// On the server the form renders without a card element: it is mounted in the browser.
#[cfg(not(feature = "hydrate"))]
mod browser {
    use leptos::prelude::*;

    use shop::PaymentsConfig;

    use super::FormState;

    pub(super) fn mount_card(
        _node: NodeRef<leptos::html::Div>,
        _config: PaymentsConfig,
        _state: FormState,
    ) -> impl Fn() + Clone + 'static {
        || {}
    }
}
