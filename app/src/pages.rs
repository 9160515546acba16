//! Pages and components: shop, cart, order.
//!
//! Server-rendered with no island: the cart is plain HTML forms and the order page's
//! status plain HTML, which the `pay` crate's `shop` module (a small WASM module without
//! Leptos) takes over in the browser. These pages load no Leptos at all; islands live on
//! the account's orders page and in the merchant console.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::de::DeserializeOwned;

use shop::{CartLine, OrderStatus, OrderView, Product, ShopError};
use stripe_types::messages;

use crate::api::{
    get_order, get_payments_config, list_products, AddToCart, ApiError, PlaceOrder, RemoveFromCart,
    SetQuantity,
};

/// A `<form>` posting to a server function. Without JavaScript the browser posts it
/// (URL-encoded, [`crate::codec::Form`]) and the server answers with a redirect back;
/// hydrated, submitting reads the same fields and dispatches the action instead.
#[component]
pub(crate) fn PostForm<A>(
    action: ServerAction<A>,
    #[prop(optional)] class: &'static str,
    children: Children,
) -> impl IntoView
where
    A: ServerFn<Error = ApiError> + DeserializeOwned + Clone + Send + Sync + 'static,
    A::Output: Send + Sync + 'static,
{
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match form_args::<A>(&ev) {
            Ok(args) => {
                action.dispatch(args);
            }
            Err(e) => action
                .value()
                .set(Some(Err(ShopError::BadRequest(e).into()))),
        }
    };
    view! {
        <form method="post" action=A::url() class=class on:submit=submit>
            {children()}
        </form>
    }
}

/// The submitted form's fields as the server function's arguments.
fn form_args<A: DeserializeOwned>(ev: &SubmitEvent) -> Result<A, String> {
    use leptos::wasm_bindgen::JsCast;
    use leptos::web_sys::{FormData, HtmlFormElement, UrlSearchParams};
    let form = ev
        .target()
        .and_then(|target| target.dyn_into::<HtmlFormElement>().ok())
        .ok_or("the form could not be read")?;
    let body = FormData::new_with_form(&form)
        .and_then(|data| UrlSearchParams::new_with_str_sequence_sequence(&data))
        .map_err(|_| "the form could not be read")?
        .to_string();
    crate::codec::from_form(&String::from(body)).map_err(|e| e.to_string())
}

/// Every page: the header (the cart's count rendered on the server; on the pages with
/// cart forms the `pay` module keeps it current) and the page.
#[component]
pub fn Layout(children: ChildrenFn) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let count = crate::edge::loaded_page_caller().cart.item_count();
    #[cfg(not(feature = "ssr"))]
    let count = 0;
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">"Rust Supply Co."</A>
            <crate::account_pages::AccountNav/>
            <a href="/cart" class="cart-link" data-testid="cart-link">
                "Cart " <span class="badge" data-testid="cart-count">{count}</span>
            </a>
        </header>
        <main><FormPostError/>{children()}</main>
    }
}

/// [`Layout`] around the matched route.
#[component]
pub fn LayoutWithOutlet() -> impl IntoView {
    view! { <Layout><leptos_router::components::Outlet/></Layout> }
}

/// Why a form posted without JavaScript was refused (the server sent the shopper back to
/// this page with it). Server-rendered only: with JavaScript the page's module or island
/// shows its own.
#[component]
fn FormPostError() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let message = crate::edge::form_post_error();
    #[cfg(not(feature = "ssr"))]
    let message: Option<String> = None;
    message.map(|message| {
        view! { <p class="error" role="alert" data-testid="form-error">{message}</p> }
    })
}

/// Asks the browser (a `<link rel="preload">` where the island is) for the WASM modules
/// of the lazy island `island` (its function name in snake case) as soon as the page
/// arrives: otherwise they are requested only when the island starts to hydrate. Plain
/// elements where the island is (browsers honour a preload in the body; the page is sent
/// whole, so they are found in the same parse). Server only.
#[component]
pub(crate) fn PreloadIsland(island: &'static str) -> impl IntoView {
    // Not deduplicated across islands: a page's render state is no place for it (inside a
    // `Suspense` the content renders twice and the second pass found every module "seen"
    // and sent none). Call it once per island kind, before a list of them; a module two
    // kinds share is listed twice and fetched once.
    #[cfg(feature = "ssr")]
    let modules = crate::edge::island_modules(island);
    #[cfg(not(feature = "ssr"))]
    let modules: Vec<String> = {
        let _ = island;
        Vec::new()
    };
    modules
        .into_iter()
        .map(|href| {
            view! {
                <link rel="preload" href=href r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
            }
        })
        .collect_view()
}

/// A one-time request id for a form rendered on the server (a double click or a resent
/// form sends the same id: the server does the thing once). Empty in the browser, where
/// islands only receive it as a prop.
pub(crate) fn one_time_request_id() -> String {
    #[cfg(feature = "ssr")]
    let id = shop::RequestId::generate().as_str().to_owned();
    #[cfg(not(feature = "ssr"))]
    let id = String::new();
    id
}

/// Every island calls this: once all the islands of the page have hydrated (lazy islands
/// hydrate one by one, as their WASM arrives), `<body data-hydrated="true">`. Tests wait
/// for it before clicking; before it, buttons are plain form posts.
pub(crate) fn island_hydrated() {
    Effect::new(|_| {
        let document = document();
        let Some(body) = document.body() else { return };
        let done = body
            .get_attribute("data-islands")
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
            + 1;
        let _ = body.set_attribute("data-islands", &done.to_string());
        let total = document
            .query_selector_all("leptos-island")
            .map(|islands| islands.length())
            .unwrap_or(0);
        if done >= total {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

/// The demo merchant's sign-in of development on the offline sandbox (never in PROD),
/// shown in the sandbox banner's tooltip; provided by the server only when it made one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoMerchant(pub String);

/// A banner on every page while payments go to the offline sandbox.
#[component]
pub fn SandboxBanner() -> impl IntoView {
    let config = OnceResource::new(get_payments_config());
    let demo = use_context::<DemoMerchant>().map(|d| d.0);
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let demo = demo.clone();
                Suspend::new(async move {
                config.await.ok().filter(|c| c.sandbox).map(|_| view! {
                    <div class="sandbox-banner" role="status" data-testid="sandbox-banner" title=demo>
                        "Offline sandbox – no real payments"
                    </div>
                })
            })
            }}
        </Suspense>
    }
}

#[component]
pub fn ShopPage() -> impl IntoView {
    let products = Resource::new(|| (), |_| list_products());
    view! {
        <div class="shop">
            <section class="catalogue" aria-labelledby="shop-heading">
                <h1 id="shop-heading">"Shop"</h1>
                <Suspense fallback=|| view! { <p>"Loading the catalogue…"</p> }>
                    {move || Suspend::new(async move {
                        match products.await {
                            Ok(list) => view! {
                                <ul class="products">
                                    {list.into_iter().map(|p| view! { <ProductCard product=p/> }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.customer_message()}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <CartPanel/>
        </div>
    }
}

#[component]
fn ProductCard(product: Product) -> impl IntoView {
    let Product {
        sku,
        name,
        description,
        price,
        swatch,
    } = product;
    let (card_id, price_id) = (format!("product-{sku}"), format!("price-{sku}"));
    let add_id = format!("add-to-cart-{sku}");
    view! {
        <li class="product" data-testid=card_id>
            <div class="swatch" style=format!("background:{swatch}") aria-hidden="true"></div>
            <h2>{name}</h2>
            <p class="description">{description}</p>
            <p class="price" data-testid=price_id>{price.to_string()}</p>
            <form method="post" action=AddToCart::url() data-cart="change">
                <input type="hidden" name="sku" value=String::from(sku)/>
                <input type="hidden" name="quantity" value="1"/>
                <button type="submit" data-testid=add_id>"Add to cart"</button>
            </form>
        </li>
    }
}

#[component]
pub fn CartPage() -> impl IntoView {
    view! {
        <div class="cart-page">
            <CartPanel/>
            <p><A href="/">"← Continue shopping"</A></p>
        </div>
    }
}

/// The cart, rendered whole on the server with plain forms: without JavaScript each form
/// posts and the server sends the shopper back to this page (or on to the checkout). In
/// the browser the `pay` module (no Leptos; `pay/src/cart.rs`) takes the page's cart
/// forms over (`data-cart`): it posts them itself, writes the priced cart it gets back
/// into this panel and the header's count, and shows an error in `cart-error`. New lines
/// are copies of the `<template>` below, the same row the server renders.
#[component]
fn CartPanel() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let cart = crate::edge::loaded_page_caller().cart;
    #[cfg(not(feature = "ssr"))]
    let cart = shop::CartView::default();
    let empty = cart.total.is_none();
    let (total, expected) = cart.total_texts();
    view! {
        <section class="cart" aria-labelledby="cart-heading" data-wasm="cart" data-revision=cart.revision.to_string()>
            <h2 id="cart-heading">"Your cart"</h2>
            <p class="error" role="alert" aria-live="polite" data-testid="cart-error"></p>
            <p data-testid="cart-empty" hidden=!empty>{messages::EMPTY_CART}</p>
            <div class="cart-filled" data-testid="cart-filled" hidden=empty>
                <ul class="cart-lines">
                    {cart.lines.into_iter().map(|line| view! { <CartLineRow line=line.into()/> }).collect_view()}
                </ul>
                <p class="cart-total">"Total " <strong data-testid="cart-total">{total}</strong></p>
                <form method="post" action=PlaceOrder::url() data-cart="checkout">
                    <input type="hidden" name="expected_total" value=expected data-field="expected_total"/>
                    <input type="hidden" name="request_id" value=one_time_request_id()/>
                    <button type="submit" class="primary" data-testid="checkout">"Checkout"</button>
                </form>
            </div>
            <template data-testid="cart-line-template">
                <CartLineRow line=RowFields::template()/>
            </template>
        </section>
    }
}

/// What one cart row shows, as text: `CartLine::field_text` for each element marked
/// `data-field`, which the `pay` module also uses for a row it adds.
/// [`RowFields::template`] is the row it copies for that: `{sku}` in its attributes
/// stands for the line's sku, and its texts are empty.
struct RowFields {
    sku: String,
    name: String,
    unit_price: String,
    quantity: String,
    line_total: String,
}

impl RowFields {
    fn template() -> RowFields {
        RowFields {
            sku: shop::CART_ROW_SKU_PLACEHOLDER.into(),
            name: String::new(),
            unit_price: String::new(),
            quantity: "1".into(),
            line_total: String::new(),
        }
    }
}

impl From<CartLine> for RowFields {
    fn from(line: CartLine) -> RowFields {
        let text = |field| line.field_text(field).unwrap_or_default();
        RowFields {
            name: text("name"),
            unit_price: text("unit_price"),
            quantity: text("quantity"),
            line_total: text("line_total"),
            sku: line.sku.into(),
        }
    }
}

#[component]
fn CartLineRow(line: RowFields) -> impl IntoView {
    let RowFields {
        sku,
        name,
        unit_price,
        quantity,
        line_total,
    } = line;
    let testid = |prefix: &str| format!("{prefix}-{sku}");
    let (line_id, quantity_id, update_id, total_id, remove_id) = (
        testid("cart-line"),
        testid("quantity"),
        testid("update"),
        testid("line-total"),
        testid("remove"),
    );
    let quantity_sku = sku.clone();
    view! {
        <li class="cart-line" data-testid=line_id>
            <span class="name" data-field="name">{name}</span>
            <span class="unit" data-field="unit_price">{unit_price}</span>
            <form method="post" action=SetQuantity::url() class="quantity" data-cart="change">
                <input type="hidden" name="sku" value=quantity_sku/>
                <label>
                    <span class="visually-hidden">"Quantity"</span>
                    <input
                        type="number"
                        name="quantity"
                        min="1"
                        max="99"
                        value=quantity
                        data-field="quantity"
                        data-testid=quantity_id
                    />
                </label>
                <button type="submit" data-testid=update_id>"Update"</button>
            </form>
            <span class="line-total" data-testid=total_id data-field="line_total">{line_total}</span>
            <form method="post" action=RemoveFromCart::url() data-cart="change">
                <input type="hidden" name="sku" value=sku/>
                <button type="submit" class="link" data-testid=remove_id>"Remove"</button>
            </form>
        </li>
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let order = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_order,
    );
    view! {
        <section class="order">
            <Suspense fallback=|| view! { <p>"Loading your order…"</p> }>
                {move || Suspend::new(async move {
                    match order.await {
                        Ok(order) => view! { <OrderDetails order/> }.into_any(),
                        Err(e) => view! {
                            <h1>"Order not found"</h1>
                            <p class="error" data-testid="order-error">{e.customer_message()}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn OrderDetails(order: OrderView) -> impl IntoView {
    view! {
        <h1>"Order " <code data-testid="order-id">{order.id.to_string()}</code></h1>
        <OrderStatusLive id=order.id.into() status=order.status/>
        <OrderLines lines=order.lines total=order.total.to_string()/>
    }
}

/// An order's lines and total, as the order page and the checkout summary show them.
#[component]
pub(crate) fn OrderLines(lines: Vec<CartLine>, total: String) -> impl IntoView {
    view! {
        <ul class="order-lines">
            {lines.into_iter().map(|l| view! {
                <li>
                    <span class="name">{l.name}</span>
                    " × " {l.quantity}
                    <span class="line-total">{l.line_total.to_string()}</span>
                </li>
            }).collect_view()}
        </ul>
        <p class="order-total">"Total " <strong data-testid="order-total">{total}</strong></p>
    }
}

/// The order's status, its note and "Pay now" (while the order takes a payment), as the
/// server read them. In the browser the `pay` crate's `shop` module (no Leptos;
/// `pay/src/order_status.rs`) keeps them current: while `processing` (and a few times
/// while `pending`, in case the shopper just paid) it asks the server again, until the
/// webhook (or a server-side retrieve) settles it; the page turns to `paid` without a
/// reload.
#[component]
fn OrderStatusLive(id: String, status: OrderStatus) -> impl IntoView {
    let label = status.as_str();
    let pay_href = format!("/checkout/{id}");
    view! {
        <div class="order-status" data-wasm="order_status" data-order=id data-status=label>
            <p>
                "Status: "
                <span class=format!("status status-{label}") data-testid="order-status" aria-live="polite">
                    {label}
                </span>
            </p>
            <p class="status-note" data-testid="status-note">{status.describe()}</p>
            <a href=pay_href class="button primary" data-testid="pay-now" hidden=!status.is_payable()>"Pay now"</a>
        </div>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <h1>"Page not found"</h1>
        <p><A href="/">"Back to the shop"</A></p>
    }
}
