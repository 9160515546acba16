//! The server side of the server functions' edge (ssr only): the shop's services from
//! context (concrete types, provided by the server's router), the response status of an
//! error, and the cart cookie.

use leptos::prelude::*;
use shop::payments::Payments;
use shop::store::Store;
use shop::{CartId, ShopError};

use crate::api::ApiError;

/// The shop's storage, as provided by the server.
pub fn store() -> Result<Store, ShopError> {
    use_context::<Store>().ok_or_else(|| missing("Store"))
}

/// The payments service (order → PaymentIntent), as provided by the server.
pub fn payments() -> Result<Payments, ShopError> {
    use_context::<Payments>().ok_or_else(|| missing("Payments"))
}

fn missing(what: &str) -> ShopError {
    tracing::error!(what, "not provided as context by the server");
    ShopError::Internal
}

/// Sets the response status for an error (400 for bad input, 404 for unknown things, 409
/// for a changed total), then passes the result through as the server function's.
pub fn respond<T>(result: Result<T, ShopError>) -> Result<T, ApiError> {
    result.map_err(|error| {
        set_error_status(&error);
        ApiError(error)
    })
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

/// The shopper's cart from the `cart` cookie. With `create`, a missing or malformed
/// cookie is replaced by a new random id, set on the response.
pub async fn cart_id(create: bool) -> Result<Option<CartId>, ShopError> {
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
    let id = CartId::generate();
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

fn cart_id_from_headers(headers: &http::HeaderMap) -> Option<CartId> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == CART_COOKIE)
        .and_then(|(_, value)| CartId::parse(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_well_formed_cart_cookie_among_others() {
        let mut headers = http::HeaderMap::new();
        let id = CartId::generate();
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
}
