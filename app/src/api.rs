//! The server functions the browser calls. Each body runs on the server against the
//! [`crate::backend::ShopBackend`] in context; on the client each is an HTTP call to
//! `/api/{endpoint}` (stable paths so tests and tools can call them too).
//!
//! No request carries a price: amounts come from the catalogue. Checkout carries the
//! total the shopper was shown, and fails if the server's total differs.

use leptos::prelude::*;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::codec::{FormPost, JsonPost, JsonText};
use crate::shop::{
    CartView, OrderStatus, OrderView, PaymentStart, PaymentsConfig, Product, ShopError,
};
#[cfg(feature = "ssr")]
use crate::{backend, shop};

impl FromServerFnError for ShopError {
    type Encoder = JsonText;

    /// Framework errors: on the server these are requests whose arguments could not be
    /// read (a 400); in the browser, failures to reach the server.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // In the browser a request error means the server could not be reached.
        #[cfg(not(feature = "ssr"))]
        if let ServerFnErrorErr::Request(_) = value {
            return ShopError::Unreachable;
        }
        let error = ShopError::BadRequest(value.to_string());
        #[cfg(feature = "ssr")]
        backend::set_error_status(&error);
        error
    }
}

#[server(endpoint = "products", input = FormPost, output = JsonPost)]
pub async fn list_products() -> Result<Vec<Product>, ShopError> {
    backend::respond(async move { backend::shop()?.products().await }.await)
}

#[server(endpoint = "cart", input = FormPost, output = JsonPost)]
pub async fn get_cart() -> Result<CartView, ShopError> {
    backend::respond(
        async move {
            match backend::cart_id(false).await? {
                Some(cart) => backend::shop()?.cart(&cart).await,
                None => Ok(CartView::default()),
            }
        }
        .await,
    )
}

#[server(endpoint = "add_to_cart", input = FormPost, output = JsonPost)]
pub async fn add_to_cart(sku: String, quantity: String) -> Result<CartView, ShopError> {
    backend::respond(
        async move {
            shop::check_sku(&sku)?;
            let quantity = shop::parse_quantity(&quantity)?;
            let cart = backend::cart_id(true).await?.ok_or(ShopError::Internal)?;
            backend::shop()?.add_to_cart(&cart, &sku, quantity).await
        }
        .await,
    )
}

#[server(endpoint = "set_quantity", input = FormPost, output = JsonPost)]
pub async fn set_quantity(sku: String, quantity: String) -> Result<CartView, ShopError> {
    backend::respond(
        async move {
            shop::check_sku(&sku)?;
            let quantity = shop::parse_quantity(&quantity)?;
            let cart = backend::cart_id(false)
                .await?
                .ok_or(ShopError::NotInCart { sku: sku.clone() })?;
            backend::shop()?.set_quantity(&cart, &sku, quantity).await
        }
        .await,
    )
}

#[server(endpoint = "remove_from_cart", input = FormPost, output = JsonPost)]
pub async fn remove_from_cart(sku: String) -> Result<CartView, ShopError> {
    backend::respond(
        async move {
            shop::check_sku(&sku)?;
            let cart = backend::cart_id(false)
                .await?
                .ok_or(ShopError::NotInCart { sku: sku.clone() })?;
            backend::shop()?.remove_from_cart(&cart, &sku).await
        }
        .await,
    )
}

/// Turns the cart into a `pending` order and returns its id. `expected_total` is the
/// total (in minor units) the shopper saw; if the server's total differs, nothing is
/// created.
#[server(endpoint = "checkout", input = FormPost, output = JsonPost)]
pub async fn checkout(expected_total: String) -> Result<String, ShopError> {
    backend::respond(
        async move {
            let expected: i64 = expected_total.trim().parse().map_err(|_| {
                ShopError::BadRequest("expected_total must be a whole number of minor units".into())
            })?;
            let cart = backend::cart_id(false).await?.ok_or(ShopError::EmptyCart)?;
            backend::shop()?.checkout(&cart, expected).await
        }
        .await,
    )
}

#[server(endpoint = "order", input = FormPost, output = JsonPost)]
pub async fn get_order(id: String) -> Result<OrderView, ShopError> {
    backend::respond(async move { backend::payments()?.order(&id).await }.await)
}

/// The order's PaymentIntent for the browser to confirm: created on the first call (with
/// the order's amount from the database, an idempotency key and `metadata[order_id]`),
/// the same one on every later call (reload, second click).
#[server(endpoint = "pay", input = FormPost, output = JsonPost)]
pub async fn start_payment(order_id: String) -> Result<PaymentStart, ShopError> {
    backend::respond(async move { backend::payments()?.start_payment(&order_id).await }.await)
}

/// The browser's `confirmCardPayment` resolved with a PaymentIntent: the order shows
/// `processing` until Stripe itself confirms (webhook or server-side retrieve).
#[server(endpoint = "payment_submitted", input = FormPost, output = JsonPost)]
pub async fn payment_submitted(order_id: String) -> Result<OrderStatus, ShopError> {
    backend::respond(async move { backend::payments()?.payment_submitted(&order_id).await }.await)
}

/// The publishable key and Stripe.js URL for the browser, and whether this is the
/// offline sandbox.
#[server(endpoint = "payments_config", input = FormPost, output = JsonPost)]
pub async fn get_payments_config() -> Result<PaymentsConfig, ShopError> {
    backend::respond(use_context::<PaymentsConfig>().ok_or(ShopError::Internal))
}
