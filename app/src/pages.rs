//! Pages and components: shop, cart, order.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::{
    get_cart, get_order, get_payments_config, list_products, AddToCart, Checkout, RemoveFromCart,
    SetQuantity,
};
use crate::shop::{CartLine, CartView, OrderStatus, OrderView, Product, ShopError};

/// Cart actions and the cart itself, shared by every page (the header shows the count).
#[derive(Clone, Copy)]
pub struct CartState {
    add: ServerAction<AddToCart>,
    set_quantity: ServerAction<SetQuantity>,
    remove: ServerAction<RemoveFromCart>,
    checkout: ServerAction<Checkout>,
    cart: Resource<Result<CartView, ShopError>>,
    /// The last error any cart action returned, cleared by the next success.
    error: RwSignal<Option<String>>,
}

pub fn provide_cart_state() {
    let add = ServerAction::<AddToCart>::new();
    let set_quantity = ServerAction::<SetQuantity>::new();
    let remove = ServerAction::<RemoveFromCart>::new();
    let checkout = ServerAction::<Checkout>::new();
    let cart = Resource::new(
        move || {
            (
                add.version().get(),
                set_quantity.version().get(),
                remove.version().get(),
                checkout.version().get(),
            )
        },
        |_| get_cart(),
    );
    let error = RwSignal::new(None);
    track_errors(move || outcome(add.value().get()), error);
    track_errors(move || outcome(set_quantity.value().get()), error);
    track_errors(move || outcome(remove.value().get()), error);
    track_errors(move || outcome(checkout.value().get()), error);
    provide_context(CartState {
        add,
        set_quantity,
        remove,
        checkout,
        cart,
        error,
    });
}

fn outcome<T>(value: Option<Result<T, ShopError>>) -> Option<Result<(), String>> {
    value.map(|r| r.map(|_| ()).map_err(|e| e.to_string()))
}

fn track_errors(
    outcome: impl Fn() -> Option<Result<(), String>> + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) {
    Effect::new(move |_| match outcome() {
        Some(Err(e)) => error.set(Some(e)),
        Some(Ok(())) => error.set(None),
        None => {}
    });
}

fn cart_state() -> CartState {
    expect_context::<CartState>()
}

/// A banner on every page while payments go to the offline sandbox.
#[component]
pub fn SandboxBanner() -> impl IntoView {
    let config = OnceResource::new(get_payments_config());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                config.await.ok().filter(|c| c.sandbox).map(|_| view! {
                    <div class="sandbox-banner" role="status" data-testid="sandbox-banner">
                        "Offline sandbox – no real payments"
                    </div>
                })
            })}
        </Suspense>
    }
}

#[component]
pub fn CartLink() -> impl IntoView {
    let state = cart_state();
    let count = move || {
        state
            .cart
            .get()
            .and_then(Result::ok)
            .map(|c| c.item_count())
            .unwrap_or(0)
    };
    view! {
        <A href="/cart" attr:class="cart-link" attr:data-testid="cart-link">
            "Cart "
            <Transition fallback=|| "">
                <span class="badge" data-testid="cart-count">{count}</span>
            </Transition>
        </A>
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
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
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
    let state = cart_state();
    let Product {
        sku,
        name,
        description,
        price,
        swatch,
    } = product;
    let (card_id, price_id, add_id) = (
        format!("product-{sku}"),
        format!("price-{sku}"),
        format!("add-to-cart-{sku}"),
    );
    view! {
        <li class="product" data-testid=card_id>
            <div class="swatch" style=format!("background:{swatch}") aria-hidden="true"></div>
            <h2>{name}</h2>
            <p class="description">{description}</p>
            <p class="price" data-testid=price_id>{price.to_string()}</p>
            <ActionForm action=state.add>
                <input type="hidden" name="sku" value=sku/>
                <input type="hidden" name="quantity" value="1"/>
                <button type="submit" data-testid=add_id>"Add to cart"</button>
            </ActionForm>
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

#[component]
fn CartPanel() -> impl IntoView {
    let state = cart_state();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(order_id)) = state.checkout.value().get() {
            state.checkout.clear();
            navigate(&format!("/checkout/{order_id}"), Default::default());
        }
    });

    view! {
        <section class="cart" aria-labelledby="cart-heading">
            <h2 id="cart-heading">"Your cart"</h2>
            <p class="error" role="alert" aria-live="polite" data-testid="cart-error">
                {move || state.error.get()}
            </p>
            <Transition fallback=|| view! { <p>"Loading your cart…"</p> }>
                {move || Suspend::new(async move {
                    match state.cart.await {
                        Ok(cart) => view! { <CartContents cart/> }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CartContents(cart: CartView) -> impl IntoView {
    let state = cart_state();
    let Some(total) = cart.total else {
        return view! { <p data-testid="cart-empty">"Your cart is empty."</p> }.into_any();
    };
    let busy = move || state.checkout.pending().get();
    view! {
        <ul class="cart-lines">
            {cart.lines.into_iter().map(|line| view! { <CartLineRow line/> }).collect_view()}
        </ul>
        <p class="cart-total">"Total " <strong data-testid="cart-total">{total.to_string()}</strong></p>
        <ActionForm action=state.checkout>
            <input type="hidden" name="expected_total" value=total.minor.to_string()/>
            <button type="submit" class="primary" data-testid="checkout" disabled=busy>
                {move || if busy() { "Placing order…" } else { "Checkout" }}
            </button>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn CartLineRow(line: CartLine) -> impl IntoView {
    let state = cart_state();
    let CartLine {
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
    let remove_sku = sku.clone();
    view! {
        <li class="cart-line" data-testid=line_id>
            <span class="name">{name}</span>
            <span class="unit">{unit_price.to_string()}</span>
            <ActionForm action=state.set_quantity attr:class="quantity">
                <input type="hidden" name="sku" value=sku/>
                <label>
                    <span class="visually-hidden">"Quantity"</span>
                    <input
                        type="number"
                        name="quantity"
                        min="1"
                        max="99"
                        value=quantity.to_string()
                        data-testid=quantity_id
                    />
                </label>
                <button type="submit" data-testid=update_id>"Update"</button>
            </ActionForm>
            <span class="line-total" data-testid=total_id>{line_total.to_string()}</span>
            <ActionForm action=state.remove>
                <input type="hidden" name="sku" value=remove_sku/>
                <button type="submit" class="link" data-testid=remove_id>"Remove"</button>
            </ActionForm>
        </li>
    }
}

/// How often the order page asks again while a payment awaits Stripe's confirmation.
const ORDER_POLL: std::time::Duration = std::time::Duration::from_millis(1000);
/// How many times a `pending` order is asked about before the page stops polling.
const PENDING_POLLS: u32 = 5;

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let order = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_order,
    );
    // While `processing`, ask again until the webhook (or a server-side retrieve) settles
    // it: the page turns to `paid` without a reload. A `pending` order is asked about a
    // few times too (the shopper may just have paid and the "submitted" hint been lost).
    // Browser only (effects never run on the server); the timer is cleared when the page
    // goes.
    let pending_polls = StoredValue::new(0u32);
    Effect::new(move |_| {
        let status = order.get().and_then(Result::ok).map(|o| o.status);
        let again = match status {
            Some(OrderStatus::Processing) => true,
            Some(OrderStatus::Pending) => {
                let n = pending_polls.get_value();
                pending_polls.set_value(n + 1);
                n < PENDING_POLLS
            }
            _ => false,
        };
        if again {
            if let Ok(handle) = set_timeout_with_handle(move || order.refetch(), ORDER_POLL) {
                on_cleanup(move || handle.clear());
            }
        }
    });
    view! {
        <section class="order">
            <Transition fallback=|| view! { <p>"Loading your order…"</p> }>
                {move || Suspend::new(async move {
                    match order.await {
                        Ok(order) => view! { <OrderDetails order/> }.into_any(),
                        Err(e) => view! {
                            <h1>"Order not found"</h1>
                            <p class="error" data-testid="order-error">{e.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn OrderDetails(order: OrderView) -> impl IntoView {
    let status = order.status.as_str();
    let pay_link = order.status.is_payable().then(|| {
        let href = format!("/checkout/{}", order.id);
        view! { <A href=href attr:class="button primary" attr:data-testid="pay-now">"Pay now"</A> }
    });
    view! {
        <h1>"Order " <code data-testid="order-id">{order.id}</code></h1>
        <p>
            "Status: "
            <span class=format!("status status-{status}") data-testid="order-status" aria-live="polite">{status}</span>
        </p>
        <p class="status-note">{order.status.describe()}</p>
        {pay_link}
        <ul class="order-lines">
            {order.lines.into_iter().map(|l| view! {
                <li>
                    <span class="name">{l.name}</span>
                    " × " {l.quantity}
                    <span class="line-total">{l.line_total.to_string()}</span>
                </li>
            }).collect_view()}
        </ul>
        <p class="order-total">"Total " <strong data-testid="order-total">{order.total.to_string()}</strong></p>
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
