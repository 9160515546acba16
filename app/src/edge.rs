//! What the server functions need from the server (storage lives in the `server` crate,
//! which implements [`ShopBackend`] and provides it as context), and the cart cookie.

use std::sync::Arc;

use leptos::prelude::*;

use crate::shop::{CartView, OrderStatus, OrderView, PaymentStart, Product, ShopError};

#[async_trait::async_trait]
pub trait ShopBackend: Send + Sync + 'static {
    async fn products(&self) -> Result<Vec<Product>, ShopError>;
    async fn cart(&self, cart_id: &str) -> Result<CartView, ShopError>;
    /// Adds `quantity` to the product's line (creating cart and line as needed).
    async fn add_to_cart(
        &self,
        cart_id: &str,
        sku: &str,
        quantity: u32,
    ) -> Result<CartView, ShopError>;
    async fn set_quantity(
        &self,
        cart_id: &str,
        sku: &str,
        quantity: u32,
    ) -> Result<CartView, ShopError>;
    async fn remove_from_cart(&self, cart_id: &str, sku: &str) -> Result<CartView, ShopError>;
    /// Creates a `pending` order from the cart and empties the cart, atomically.
    async fn checkout(&self, cart_id: &str, expected_total_minor: i64)
        -> Result<String, ShopError>;
    async fn order(&self, order_id: &str) -> Result<OrderView, ShopError>;
}

/// Payments of orders (the server implements it with its Stripe client and storage).
#[async_trait::async_trait]
pub trait PaymentBackend: Send + Sync + 'static {
    /// The order's PaymentIntent (created on first call, reused after), for the browser
    /// to confirm. The amount is the order's, from the database.
    async fn start_payment(&self, order_id: &str) -> Result<PaymentStart, ShopError>;
    /// The browser's confirmation went through: show `processing` until Stripe confirms.
    async fn payment_submitted(&self, order_id: &str) -> Result<OrderStatus, ShopError>;
    /// The order, reconciled with Stripe (a server-side retrieve) when a payment has been
    /// awaited for a while without a webhook.
    async fn order(&self, order_id: &str) -> Result<OrderView, ShopError>;
}

/// The backends provided by the server as context.
pub type Shop = Arc<dyn ShopBackend>;
pub type Payments = Arc<dyn PaymentBackend>;

pub fn shop() -> Result<Shop, ShopError> {
    use_context::<Shop>().ok_or_else(|| {
        tracing::error!("no ShopBackend in context");
        ShopError::Internal
    })
}

pub fn payments() -> Result<Payments, ShopError> {
    use_context::<Payments>().ok_or_else(|| {
        tracing::error!("no PaymentBackend in context");
        ShopError::Internal
    })
}

/// Sets the response status for an error (400 for bad input, 404 for unknown things, 409
/// for a changed total), then passes the result through.
pub fn respond<T>(result: Result<T, ShopError>) -> Result<T, ShopError> {
    if let Err(error) = &result {
        set_error_status(error);
    }
    result
}

/// Sets the status of the response being built (if any) to the error's.
pub fn set_error_status(error: &ShopError) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let status = http::StatusCode::from_u16(error.http_status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
    }
}

const CART_COOKIE: &str = "cart";
const CART_COOKIE_MAX_AGE: u32 = 60 * 60 * 24 * 30;

/// The shopper's cart id from the `cart` cookie. With `create`, a missing or malformed
/// cookie is replaced by a new random id, set on the response.
pub async fn cart_id(create: bool) -> Result<Option<String>, ShopError> {
    let headers: http::HeaderMap = leptos_axum::extract().await.map_err(|e| {
        tracing::error!(error = %e, "cannot read request headers");
        ShopError::Internal
    })?;
    if let Some(id) = cart_id_from_headers(&headers) {
        return Ok(Some(id));
    }
    if !create {
        return Ok(None);
    }
    let id = new_cart_id();
    let cookie = format!(
        "{CART_COOKIE}={id}; Path=/; Max-Age={CART_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax"
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(&cookie).map_err(|_| ShopError::Internal)?,
    );
    Ok(Some(id))
}

fn cart_id_from_headers(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CART_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| is_cart_id(value))
}

fn is_cart_id(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

fn new_cart_id() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::thread_rng().gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_well_formed_cart_cookie_among_others() {
        let mut headers = http::HeaderMap::new();
        let id = new_cart_id();
        headers.insert(
            http::header::COOKIE,
            format!("theme=dark; cart={id}; x=y").parse().unwrap(),
        );
        assert_eq!(cart_id_from_headers(&headers), Some(id));
    }

    #[test]
    fn ignores_malformed_cart_cookies() {
        for bad in [
            "cart=",
            "cart=abc",
            "cart=../../etc",
            "carts=0123456789abcdef0123456789abcdef",
        ] {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::COOKIE, bad.parse().unwrap());
            assert_eq!(cart_id_from_headers(&headers), None, "{bad}");
        }
    }

    #[test]
    fn new_ids_are_random_and_well_formed() {
        let (a, b) = (new_cart_id(), new_cart_id());
        assert!(is_cart_id(&a) && is_cart_id(&b));
        assert_ne!(a, b);
    }
}
