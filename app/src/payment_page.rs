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

use shop::{OrderView, PaymentFormSetup, PaymentOptions, PaymentsConfig};
use stripe_types::messages;

use crate::api::{get_order, get_payment_options, get_payments_config};
use crate::pages::OrderLines;

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

/// The card form, rendered whole on the server; in the browser the `pay` module (no
/// Leptos) takes it over: `data-wasm="pay_form"` marks it and `data-props` carries what
/// it starts from. What it renders here is the form's first state: the pay button
/// disabled until the card form is ready, `notice` (why the order's last attempt failed)
/// as the payment error. `total` is the order's total as shown; the amount charged is the
/// server's. Signed-in shoppers also get their saved `cards` (`selected` first) and "Save
/// this card for next time".
#[component]
fn PaymentForm(
    order_id: String,
    total: String,
    notice: Option<String>,
    config: PaymentsConfig,
    signed_in: bool,
    cards: Vec<(String, String, String)>,
    selected: Option<String>,
) -> impl IntoView {
    let new_card = selected.is_none();
    let props = PaymentFormSetup {
        order_id,
        total: total.clone(),
        config,
        signed_in,
        selected: selected.clone(),
        notice: notice.clone(),
    };
    let props = serde_json::to_string(&props).unwrap_or_default();
    let saved_cards = (!cards.is_empty()).then(|| {
        view! {
            <fieldset class="saved-cards">
                <legend>"Pay with"</legend>
                {cards.into_iter().map(|(pm, last4, label)| {
                    let on = selected.as_deref() == Some(pm.as_str());
                    view! {
                        <button type="button" class="saved-card" data-testid="saved-card"
                            data-pm=pm data-last4=last4 aria-pressed=on.to_string()>
                            {label}
                        </button>
                    }
                }).collect_view()}
                <button type="button" class="saved-card" data-testid="use-new-card"
                    aria-pressed=new_card.to_string()>
                    "Use a new card"
                </button>
            </fieldset>
        }
    });
    view! {
        <form class="payment" novalidate=true data-wasm="pay_form" data-props=props>
            {saved_cards}
            <div class="new-card" data-testid="new-card" hidden=!new_card>
                <label for="card-element">"Card"</label>
                <div id="card-element" class="card-element" data-testid="card-element"></div>
                <p class="card-loading" data-testid="card-loading">
                    "Loading the secure card form…"
                </p>
                <p class="field-error" role="alert" aria-live="polite" data-testid="card-error"></p>
                {signed_in.then(|| view! {
                    <label class="save-card">
                        <input type="checkbox" name="save" data-testid="save-card"/>
                        " Save this card for next time"
                    </label>
                })}
            </div>
            <p class="card-loading" data-testid="stripe-connecting" hidden=new_card>
                "Connecting to Stripe…"
            </p>
            <p class="error" role="alert" aria-live="assertive" data-testid="payment-error">
                {notice}
            </p>
            <button type="submit" class="primary pay" data-testid="pay" disabled=true
                aria-busy="false">
                {format!("Pay {total}")}
            </button>
            <p class="fine-print">"Card details go straight to Stripe; this shop never sees them."</p>
        </form>
    }
}
