//! The server functions the browser calls. Each body parses its arguments into the
//! shop's types (once, here) and calls the shop directly: go-to-definition on the call
//! lands on the code that does the work. On the client each is an HTTP call to
//! `/api/{endpoint}` (stable paths so tests and tools can call them too).
//!
//! No request carries a price: amounts come from the catalogue. Placing an order carries
//! the total the shopper was shown, and fails if the server's total differs.

use leptos::prelude::*;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use shop::{CartView, OrderStatus, OrderView, PaymentStart, PaymentsConfig, Product, ShopError};

use crate::codec::{FormPost, JsonPost, JsonText};
#[cfg(feature = "ssr")]
use {
    crate::edge::{self, respond},
    shop::{OrderId, Quantity, Sku},
};

/// A server function's failure: the shop's [`ShopError`], wrapped only because Leptos'
/// error trait and the error type live in other crates (the orphan rule). The same JSON
/// on the wire; it derefs to the `ShopError` (`e.customer_message()` for the shopper).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiError(pub ShopError);

impl From<ShopError> for ApiError {
    fn from(error: ShopError) -> Self {
        ApiError(error)
    }
}

impl std::ops::Deref for ApiError {
    type Target = ShopError;
    fn deref(&self) -> &ShopError {
        &self.0
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ApiError {}

impl FromServerFnError for ApiError {
    type Encoder = JsonText;

    /// Framework errors: on the server these are requests whose arguments could not be
    /// read (a 400); in the browser, failures to reach the server.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // In the browser a request error means the server could not be reached.
        #[cfg(not(feature = "ssr"))]
        if let ServerFnErrorErr::Request(_) = value {
            return ApiError(ShopError::Unreachable);
        }
        let error = ShopError::BadRequest(value.to_string());
        #[cfg(feature = "ssr")]
        edge::set_error_status(&error);
        ApiError(error)
    }
}

#[server(endpoint = "products", input = FormPost, output = JsonPost)]
pub async fn list_products() -> Result<Vec<Product>, ApiError> {
    respond(async move { Ok(edge::store()?.products().await?) }.await)
}

#[server(endpoint = "cart", input = FormPost, output = JsonPost)]
pub async fn get_cart() -> Result<CartView, ApiError> {
    respond(
        async move {
            match edge::cart_id(false).await? {
                Some(cart) => Ok(edge::store()?.cart(&cart).await?),
                None => Ok(CartView::default()),
            }
        }
        .await,
    )
}

#[server(endpoint = "add_to_cart", input = FormPost, output = JsonPost)]
pub async fn add_to_cart(sku: String, quantity: String) -> Result<CartView, ApiError> {
    respond(
        async move {
            let sku = Sku::parse(&sku)?;
            let quantity = Quantity::parse(&quantity)?;
            let cart = edge::cart_id(true).await?.ok_or(ShopError::Internal)?;
            Ok(edge::store()?.add_to_cart(&cart, &sku, quantity).await?)
        }
        .await,
    )
}

#[server(endpoint = "set_quantity", input = FormPost, output = JsonPost)]
pub async fn set_quantity(sku: String, quantity: String) -> Result<CartView, ApiError> {
    respond(
        async move {
            let sku = Sku::parse(&sku)?;
            let quantity = Quantity::parse(&quantity)?;
            let cart = edge::cart_id(false)
                .await?
                .ok_or_else(|| ShopError::NotInCart {
                    sku: sku.to_string(),
                })?;
            Ok(edge::store()?.set_quantity(&cart, &sku, quantity).await?)
        }
        .await,
    )
}

#[server(endpoint = "remove_from_cart", input = FormPost, output = JsonPost)]
pub async fn remove_from_cart(sku: String) -> Result<CartView, ApiError> {
    respond(
        async move {
            let sku = Sku::parse(&sku)?;
            let cart = edge::cart_id(false)
                .await?
                .ok_or_else(|| ShopError::NotInCart {
                    sku: sku.to_string(),
                })?;
            Ok(edge::store()?.remove_from_cart(&cart, &sku).await?)
        }
        .await,
    )
}

/// Places an order: the cart becomes a `pending` order, and its id is returned.
/// `expected_total` is the total (in minor units) the shopper saw; if the server's total
/// differs, nothing is created.
#[server(endpoint = "checkout", input = FormPost, output = JsonPost)]
pub async fn place_order(expected_total: String) -> Result<String, ApiError> {
    respond(
        async move {
            let expected: i64 = expected_total.trim().parse().map_err(|_| {
                ShopError::BadRequest("expected_total must be a whole number of minor units".into())
            })?;
            let cart = edge::cart_id(false).await?.ok_or(ShopError::EmptyCart)?;
            let order = edge::store()?.place_order(&cart, expected).await?;
            Ok(order.into())
        }
        .await,
    )
}

#[server(endpoint = "order", input = FormPost, output = JsonPost)]
pub async fn get_order(id: String) -> Result<OrderView, ApiError> {
    respond(async move { edge::payments()?.order(&OrderId::parse(&id)?).await }.await)
}

/// The order's PaymentIntent for the browser to confirm: created on the first call (with
/// the order's amount from the database, an idempotency key and `metadata[order_id]`),
/// the same one on every later call (reload, second click).
#[server(endpoint = "pay", input = FormPost, output = JsonPost)]
pub async fn start_payment(order_id: String) -> Result<PaymentStart, ApiError> {
    respond(
        async move {
            let order_id = OrderId::parse(&order_id)?;
            edge::payments()?.start_payment(&order_id).await
        }
        .await,
    )
}

/// The browser's `confirmCardPayment` resolved with a PaymentIntent: the order shows
/// `processing` until Stripe itself confirms (webhook or server-side retrieve).
#[server(endpoint = "payment_submitted", input = FormPost, output = JsonPost)]
pub async fn payment_submitted(order_id: String) -> Result<OrderStatus, ApiError> {
    respond(
        async move {
            let order_id = OrderId::parse(&order_id)?;
            edge::payments()?.payment_submitted(&order_id).await
        }
        .await,
    )
}

/// The publishable key and Stripe.js URL for the browser, and whether this is the
/// offline sandbox.
#[server(endpoint = "payments_config", input = FormPost, output = JsonPost)]
pub async fn get_payments_config() -> Result<PaymentsConfig, ApiError> {
    respond(use_context::<PaymentsConfig>().ok_or(ShopError::Internal))
}
