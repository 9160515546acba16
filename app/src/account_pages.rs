//! Account pages: sign up, sign in, the shopper's orders ("Buy again") and saved cards
//! ("Add a card", remove, make default), and the account links in the header.
//!
//! Server-rendered; an island only where a click needs Leptos in the browser (buy again).
//! The sign-in, sign-up and cards pages have none: their forms are plain forms, which the
//! `pay` crate's `shop` module (no Leptos) posts in place, and it runs "Add a card" as the
//! checkout's module runs its card form. Every `/account/*` page other than sign-up and
//! sign-in sends a guest to the sign-in page.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use shop::{OrderSummary, SavedCard, ShopError};

use crate::api::{
    account_orders, get_payments_config, list_cards, Authenticate, BuyAgainOrder, MakeDefaultCard,
    RemoveCard, SignOut,
};
use crate::pages::{PostForm, PreloadIsland};

/// Sends the browser to the sign-in page (then back to `from`): a redirect while the page
/// renders on the server.
fn to_sign_in(from: &str) -> impl IntoView {
    let target = format!("/account/sign-in?next={from}");
    #[cfg(feature = "ssr")]
    leptos_axum::redirect(&target);
    view! { <p>"Please " <a href=target>"sign in"</a> " first."</p> }
}

/// Where to go after signing in: a local path from `?next=`, else the shop. Only
/// visible ASCII: a browser drops tabs and newlines from a URL, so `/\t/evil.example`
/// would become `//evil.example`, another site (and a newline cannot be a header).
pub(crate) fn next_path(next: Option<String>) -> String {
    next.filter(|p| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.contains('\\')
            && p.chars().all(|c| c.is_ascii_graphic())
    })
    .unwrap_or_else(|| "/".to_owned())
}

/// The other auth page (`page`), still going on to `next` afterwards.
fn with_next(page: &str, next: &str) -> String {
    if next == "/" {
        return page.to_owned();
    }
    let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("{page}?next={next}")
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let query = use_query_map();
    let next = next_path(query.read_untracked().get("next"));
    let other = with_next("/account/sign-in", &next);
    view! {
        <section class="auth">
            <h1>"Create an account"</h1>
            <AuthForm sign_up=true next/>
            <p>"Already have one? " <a href=other>"Sign in"</a></p>
        </section>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = next_path(query.read_untracked().get("next"));
    let other = with_next("/account/sign-up", &next);
    view! {
        <section class="auth">
            <h1>"Sign in"</h1>
            <AuthForm sign_up=false next/>
            <p>"New here? " <a href=other>"Create an account"</a></p>
        </section>
    }
}

/// The email and password form: a plain form posting to `authenticate` (one server
/// function for both modes), rendered whole here. Without JavaScript the server sends
/// the shopper on to `next`, or back here with the reason it refused. In the browser the
/// `pay` crate's `shop` module (no Leptos; `pay/src/auth.rs`) posts it itself and, on
/// success, loads `next` (the header and cart change with the session).
#[component]
fn AuthForm(sign_up: bool, next: String) -> impl IntoView {
    let (mode, testid, label, autocomplete) = if sign_up {
        ("sign_up", "sign-up", "Create account", "new-password")
    } else {
        ("sign_in", "sign-in", "Sign in", "current-password")
    };
    let go_to = next.clone();
    view! {
        <form method="post" action=Authenticate::url() class="auth-form" data-wasm="auth_form" data-next=go_to>
            <input type="hidden" name="mode" value=mode/>
            <input type="hidden" name="next" value=next/>
            <label>"Email"
                <input type="email" name="email" autocomplete="email" required=true/>
            </label>
            <label>"Password"
                <input type="password" name="password" required=true minlength="10" maxlength="128"
                    autocomplete=autocomplete/>
            </label>
            {sign_up.then_some(view! { <p class="hint">"10 to 128 characters."</p> })}
            <p class="error" role="alert" aria-live="polite" data-testid="auth-error"></p>
            <button type="submit" class="primary" data-testid=testid>{label}</button>
        </form>
    }
}

/// The header's account links: "Sign in" for guests; orders, cards and "Sign out" for a
/// signed-in shopper.
#[component]
pub fn AccountNav() -> impl IntoView {
    // Loaded before the page rendered (no resource: the header never waits).
    #[cfg(feature = "ssr")]
    let (signed_in, merchant) = {
        let caller = crate::edge::loaded_page_caller();
        (caller.signed_in, caller.merchant)
    };
    #[cfg(not(feature = "ssr"))]
    let (signed_in, merchant): (Option<String>, bool) = (None, false);
    let console = merchant.then(|| {
        view! { <a href="/merchant" data-testid="console-link">"Console"</a> }
    });
    match signed_in {
        Some(email) => view! {
            <nav class="account-nav" aria-label="Account">
                <span class="who" data-testid="signed-in-as">{email}</span>
                {console}
                <a href="/account/orders">"Orders"</a>
                <a href="/account/cards">"Cards"</a>
                <SignOutButton/>
            </nav>
        }
        .into_any(),
        None => view! {
            <nav class="account-nav" aria-label="Account">
                <a href="/account/sign-in" data-testid="sign-in-link">"Sign in"</a>
            </nav>
        }
        .into_any(),
    }
}

/// A plain form: the server signs out and redirects to the shop (no WASM for this).
#[component]
fn SignOutButton() -> impl IntoView {
    let action = <SignOut as leptos::server_fn::ServerFn>::url();
    view! {
        <form method="post" action=action class="sign-out">
            <button type="submit" class="link" data-testid="sign-out">"Sign out"</button>
        </form>
    }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let orders = Resource::new(|| (), |_| account_orders());
    view! {
        <section class="account-orders">
            <h1>"Your orders"</h1>
            <Suspense fallback=|| view! { <p>"Loading your orders…"</p> }>
                {move || Suspend::new(async move {
                    match orders.await {
                        Err(e) if *e == ShopError::SignInRequired => to_sign_in("/account/orders").into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.customer_message()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p data-testid="no-orders">"No orders yet. " <a href="/">"Visit the shop"</a></p>
                        }.into_any(),
                        Ok(list) => view! {
                            // Once for every paid order's "Buy again".
                            {list.iter().any(|o| o.status == shop::OrderStatus::Paid).then(|| view! {
                                <PreloadIsland island="buy_again_button"/>
                            })}
                            <ul class="order-list">
                                {list.into_iter().map(|o| view! { <OrderRow order=o/> }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn OrderRow(order: OrderSummary) -> impl IntoView {
    let id = order.id.to_string();
    let href = format!("/orders/{id}");
    let paid = order.status == shop::OrderStatus::Paid;
    // One id per rendering of the button: a double click or a resent form is one order.
    let request_id = crate::pages::one_time_request_id();
    let buy_again = paid.then(|| view! { <BuyAgainButton order_id=id.clone() request_id/> });
    view! {
        <li class="order-row" data-testid="order-row" data-order=id.clone()>
            <a href=href><code>{id.clone()}</code></a>
            <span class="date">{shop::account::date(order.created_at)}</span>
            <span class=format!("status status-{}", order.status.as_str()) data-testid="order-row-status">
                {order.status.as_str()}
            </span>
            <span class="items">{order.items}</span>
            <strong class="total">{order.total.to_string()}</strong>
            {buy_again}
        </li>
    }
}

/// "Buy again": the new order is charged with the default card; then its page, or its
/// checkout when the bank wants the shopper or the card was declined.
#[island(lazy)]
fn BuyAgainButton(order_id: String, request_id: String) -> impl IntoView {
    crate::pages::island_hydrated();
    let action = ServerAction::<BuyAgainOrder>::new();
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(href)) => {
            let _ = window().location().set_href(&href);
        }
        Some(Err(e)) => error.set(Some(e.customer_message())),
        None => {}
    });
    let busy = move || action.pending().get();
    view! {
        <PostForm action class="buy-again">
            <input type="hidden" name="order_id" value=order_id/>
            <input type="hidden" name="request_id" value=request_id/>
            <button type="submit" data-testid="buy-again" disabled=busy>
                {move || if busy() { "Ordering…" } else { "Buy again" }}
            </button>
            <span class="error" role="alert">{move || error.get()}</span>
        </PostForm>
    }
}

#[component]
pub fn CardsPage() -> impl IntoView {
    let cards = Resource::new(|| (), |_| list_cards());
    let config = OnceResource::new(get_payments_config());
    view! {
        <section class="account-cards">
            <h1>"Your cards"</h1>
            <Suspense fallback=|| view! { <p>"Loading your cards…"</p> }>
                {move || Suspend::new(async move {
                    let config = config.await;
                    match (cards.await, config) {
                        (Err(e), _) if *e == ShopError::SignInRequired => to_sign_in("/account/cards").into_any(),
                        (Err(e), _) | (_, Err(e)) => view! { <p class="error" role="alert">{e.customer_message()}</p> }.into_any(),
                        (Ok(list), Ok(config)) => view! {
                            {list.is_empty().then(|| view! { <p data-testid="no-cards">"No saved cards yet."</p> })}
                            <ul class="card-list">
                                {list.into_iter().map(|c| view! { <CardRow card=c/> }).collect_view()}
                            </ul>
                            <AddCard config/>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn CardRow(card: SavedCard) -> impl IntoView {
    view! {
        <li class="saved-card-row" data-testid="saved-card" data-pm=card.id.to_string()
            data-last4=card.last4.clone() data-default=card.is_default.then_some("true")>
            <span class="label">{card.label()}</span>
            <span class="expiry">"Expires " {card.expiry()}</span>
            {card.expiring.then_some(view! { <span class="badge warn" data-testid="expiring">"Expires soon"</span> })}
            {card.is_default.then_some(view! { <span class="badge">"Default"</span> })}
            <CardActions payment_method=card.id.to_string() is_default=card.is_default/>
        </li>
    }
}

/// Remove and make-default for one card: plain forms. The server sends the shopper back
/// to this page with Stripe's answer (or the reason it refused, shown at the top).
#[component]
fn CardActions(payment_method: String, is_default: bool) -> impl IntoView {
    let pm = payment_method.clone();
    view! {
        {(!is_default).then(|| view! {
            <form method="post" action=MakeDefaultCard::url() class="inline">
                <input type="hidden" name="payment_method" value=pm.clone()/>
                <button type="submit" class="link" data-testid="make-default">"Make default"</button>
            </form>
        })}
        <form method="post" action=RemoveCard::url() class="inline">
            <input type="hidden" name="payment_method" value=payment_method/>
            <button type="submit" class="link danger" data-testid="remove-card">"Remove"</button>
        </form>
    }
}

/// "Add a card": Stripe's card Element, confirmed with `confirmCardSetup` (3-D Secure
/// included) on a SetupIntent of the shopper's Customer; the server then asks Stripe
/// and records the card. Rendered whole here; in the browser the `pay` module (no
/// Leptos; `pay/src/add_card.rs`) shows the button and runs the form. Without
/// JavaScript there is no card form to type into, and the page says so.
#[component]
fn AddCard(config: shop::PaymentsConfig) -> impl IntoView {
    let props = serde_json::to_string(&config).unwrap_or_default();
    view! {
        <div class="add-card" data-wasm="add_card" data-props=props>
            <noscript><p>"Adding a card needs JavaScript: Stripe's card form runs in the browser."</p></noscript>
            <button type="button" data-testid="add-card" hidden=true>"Add a card"</button>
            <form class="payment" hidden=true novalidate=true>
                <label for="card-element">"Card"</label>
                <div id="card-element" class="card-element" data-testid="card-element"></div>
                <p class="field-error" role="alert" data-testid="card-error"></p>
                <p class="error" role="alert" data-testid="payment-error"></p>
                <button type="submit" class="primary" data-testid="save-new-card" disabled=true>"Save card"</button>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_auth_page_keeps_where_to_go_next() {
        assert_eq!(with_next("/account/sign-up", "/"), "/account/sign-up");
        assert_eq!(
            with_next("/account/sign-up", "/account/cards"),
            "/account/sign-up?next=%2Faccount%2Fcards"
        );
        assert_eq!(
            with_next("/account/sign-in", "/a?b=1&c"),
            "/account/sign-in?next=%2Fa%3Fb%3D1%26c"
        );
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(next_path(Some("/account/cards".into())), "/account/cards");
        for outside in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "cards",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/caf\u{e9}",
        ] {
            assert_eq!(next_path(Some(outside.into())), "/", "{outside}");
        }
        assert_eq!(next_path(None), "/");
    }
}
