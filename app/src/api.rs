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
use shop::{
    CartView, OrderStatus, OrderSummary, OrderView, PaymentOptions, PaymentStart, PaymentsConfig,
    Product, SavedCard, SetupStart, ShopError, SignedIn,
};

use crate::codec::{FormPost, JsonPost, JsonText};
#[cfg(feature = "ssr")]
use {
    crate::edge::{self, respond},
    shop::payments::PayWith,
    shop::{OrderId, PaymentMethodId, Quantity, Sku},
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
            match edge::shopping_cart(false).await? {
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
            let cart = edge::shopping_cart(true)
                .await?
                .ok_or(ShopError::Internal)?;
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
            let cart = edge::shopping_cart(false)
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
            let cart = edge::shopping_cart(false)
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
/// differs, nothing is created. `request_id` is the form's one-time id: the same form
/// posted twice places one order, and both posts get it.
#[server(endpoint = "checkout", input = FormPost, output = JsonPost)]
pub async fn place_order(
    expected_total: String,
    #[server(default)] request_id: String,
) -> Result<String, ApiError> {
    respond(
        async move {
            let expected: i64 = expected_total.trim().parse().map_err(|_| {
                ShopError::BadRequest("expected_total must be a whole number of minor units".into())
            })?;
            let request = match request_id.as_str() {
                "" => None,
                id => Some(shop::RequestId::parse(id)?),
            };
            let (caller, _) = edge::caller().await?;
            let cart = caller.cart().ok_or(ShopError::EmptyCart)?;
            let order: String = edge::store()?
                .place_order(cart, caller.account.as_ref(), expected, request.as_ref())
                .await?
                .into();
            // A form posted without JavaScript goes on to the checkout (a 302); a script's
            // call gets the id, and only a header it ignores.
            leptos_axum::redirect(&format!("/checkout/{order}"));
            Ok(order)
        }
        .await,
    )
}

#[server(endpoint = "order", input = FormPost, output = JsonPost)]
pub async fn get_order(id: String) -> Result<OrderView, ApiError> {
    respond(
        async move {
            let order_id = OrderId::parse(&id)?;
            let (caller, _) = edge::caller().await?;
            edge::payments()?.order(&order_id, &caller).await
        }
        .await,
    )
}

/// The order's PaymentIntent for the browser to confirm: created on the first call (with
/// the order's amount from the database, an idempotency key and `metadata[order_id]`),
/// the same one on every later call (reload, second click). Only the order's owner gets
/// it. A signed-in shopper may name a saved card (`payment_method=pm_…`, checked to be
/// theirs) or ask to save the new one (`save=on`).
#[server(endpoint = "pay", input = FormPost, output = JsonPost)]
pub async fn start_payment(
    order_id: String,
    #[server(default)] payment_method: String,
    #[server(default)] save: String,
) -> Result<PaymentStart, ApiError> {
    respond(
        async move {
            let order_id = OrderId::parse(&order_id)?;
            let with = PayWith {
                payment_method: match payment_method.as_str() {
                    "" => None,
                    pm => Some(PaymentMethodId::parse(pm)?),
                },
                save: matches!(save.as_str(), "on" | "true" | "1"),
                client_ip: Some(edge::client_address().await).filter(|ip| ip != "unknown"),
            };
            let (caller, account) = edge::caller().await?;
            edge::payments()?
                .start_payment(&order_id, &caller, account.as_ref(), &with)
                .await
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
            let (caller, _) = edge::caller().await?;
            edge::payments()?
                .payment_submitted(&order_id, &caller)
                .await
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

// --- Accounts ---------------------------------------------------------------------------

/// Creates an account and signs it in (the guest cart moves into it).
#[server(endpoint = "sign_up", input = FormPost, output = JsonPost)]
pub async fn sign_up(email: String, password: String) -> Result<(), ApiError> {
    respond(edge::sign_up(&email, &password).await)
}

/// Signs in: a new session (any previous one revoked), the guest cart merged into the
/// account's. Failures say only that the email or password is wrong, or when to retry.
#[server(endpoint = "sign_in", input = FormPost, output = JsonPost)]
pub async fn sign_in(email: String, password: String) -> Result<(), ApiError> {
    respond(edge::sign_in(&email, &password).await)
}

/// The sign-up and sign-in forms' one server function (`mode` = `sign_up` or `sign_in`):
/// one client stub instead of two. A form posted without JavaScript goes on to `next` (a
/// local path, else the shop).
#[server(endpoint = "authenticate", input = FormPost, output = JsonPost)]
pub async fn authenticate(
    mode: String,
    email: String,
    password: String,
    #[server(default)] next: String,
) -> Result<(), ApiError> {
    let done = match mode.as_str() {
        "sign_up" => edge::sign_up(&email, &password).await,
        "sign_in" => edge::sign_in(&email, &password).await,
        _ => Err(ShopError::BadRequest(
            "mode must be sign_up or sign_in".into(),
        )),
    };
    if done.is_ok() {
        leptos_axum::redirect(&crate::account_pages::next_path(Some(next)));
    }
    respond(done)
}

/// Signs out: the session is revoked on the server and the cookie cleared.
#[server(endpoint = "sign_out", input = FormPost, output = JsonPost)]
pub async fn sign_out() -> Result<(), ApiError> {
    respond(
        async move {
            if let Some(token) = edge::current_session_token().await? {
                edge::accounts()?.sign_out(&token).await?;
            }
            edge::clear_session_cookie()?;
            // The sign-out button is a plain form: the browser goes to the shop.
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Who is signed in (`None` for a guest).
#[server(endpoint = "whoami", input = FormPost, output = JsonPost)]
pub async fn whoami() -> Result<Option<SignedIn>, ApiError> {
    respond(
        async move {
            Ok(edge::signed_in_account()
                .await?
                .map(|a| SignedIn { email: a.email }))
        }
        .await,
    )
}

/// The signed-in shopper's orders, newest first.
#[server(endpoint = "account_orders", input = FormPost, output = JsonPost)]
pub async fn account_orders() -> Result<Vec<OrderSummary>, ApiError> {
    respond(
        async move {
            let account = edge::require_account().await?;
            Ok(edge::store()?.account_orders(&account.id, 100).await?)
        }
        .await,
    )
}

/// "Buy again": a new order with the same lines at today's prices, charged off-session
/// with the default card. `request_id`: the button's one-time id (the same id again is
/// the same order and one charge). Answers the page to go to next: the order's, or its
/// checkout (to authenticate, or to choose another card).
#[server(endpoint = "buy_again", input = FormPost, output = JsonPost)]
pub async fn buy_again_order(order_id: String, request_id: String) -> Result<String, ApiError> {
    respond(
        async move {
            let order_id = OrderId::parse(&order_id)?;
            let request = shop::RequestId::parse(&request_id)?;
            let account = edge::require_account().await?;
            let outcome = edge::payments()?
                .buy_again(&account, &order_id, &request)
                .await?;
            Ok(outcome.next_page())
        }
        .await,
    )
}

// --- Saved cards ------------------------------------------------------------------------

/// What the checkout offers: the account's saved cards (none for a guest).
#[server(endpoint = "payment_options", input = FormPost, output = JsonPost)]
pub async fn get_payment_options() -> Result<PaymentOptions, ApiError> {
    respond(
        async move {
            match edge::signed_in_account().await? {
                Some(account) => Ok(PaymentOptions {
                    signed_in: true,
                    cards: edge::payments()?.cards().cards(&account.id).await?,
                }),
                None => Ok(PaymentOptions::default()),
            }
        }
        .await,
    )
}

#[server(endpoint = "cards", input = FormPost, output = JsonPost)]
pub async fn list_cards() -> Result<Vec<SavedCard>, ApiError> {
    respond(
        async move {
            let account = edge::require_account().await?;
            edge::payments()?.cards().cards(&account.id).await
        }
        .await,
    )
}

/// A SetupIntent for "Add a card" (confirmed in the browser with `confirmCardSetup`).
#[server(endpoint = "start_card_setup", input = FormPost, output = JsonPost)]
pub async fn start_card_setup() -> Result<SetupStart, ApiError> {
    respond(
        async move {
            let account = edge::require_account().await?;
            edge::payments()?.cards().start_setup(&account).await
        }
        .await,
    )
}

/// The browser's `confirmCardSetup` went through: the server asks Stripe and records
/// the card if the SetupIntent succeeded. Returns the cards.
#[server(endpoint = "card_setup_done", input = FormPost, output = JsonPost)]
pub async fn card_setup_done(setup_intent: String) -> Result<(), ApiError> {
    respond(
        async move {
            let account = edge::require_account().await?;
            edge::payments()?
                .cards()
                .setup_confirmed(&account, &setup_intent)
                .await
                .map(drop)
        }
        .await,
    )
}

#[server(endpoint = "remove_card", input = FormPost, output = JsonPost)]
pub async fn remove_card(payment_method: String) -> Result<(), ApiError> {
    respond(
        async move {
            let pm = PaymentMethodId::parse(&payment_method)?;
            let account = edge::require_account().await?;
            edge::payments()?.cards().remove(&account.id, &pm).await
        }
        .await,
    )
}

#[server(endpoint = "make_default_card", input = FormPost, output = JsonPost)]
pub async fn make_default_card(payment_method: String) -> Result<(), ApiError> {
    respond(
        async move {
            let pm = PaymentMethodId::parse(&payment_method)?;
            let account = edge::require_account().await?;
            edge::payments()?
                .cards()
                .make_default(&account.id, &pm)
                .await
        }
        .await,
    )
}
