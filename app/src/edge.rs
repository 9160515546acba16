//! The server side of the server functions' edge (ssr only): the shop's services from
//! context (concrete types, provided by the server's router), the response status of an
//! error, the cookies (cart and session) and who the caller is.

use std::sync::Arc;

use leptos::prelude::*;
use shop::accounts::{Accounts, Session, SessionToken};
use shop::payments::Payments;
use shop::store::accounts::AccountRow;
use shop::store::Store;
use shop::{Caller, CartId, ShopError};

use crate::api::ApiError;

/// The shop's services, built once by the server and shared by every request: the
/// router provides one `Arc` of them. (Providing each service by value cloned, and then
/// dropped, some thirty `Store`s and Stripe clients per request: 5–7 % of the pay path's
/// profile.)
pub struct Services {
    pub store: Store,
    pub payments: Payments,
    pub accounts: Accounts,
    pub refunds: shop::refunds::Refunds,
    pub disputes: shop::disputes::Disputes,
    pub fraud_warnings: shop::fraud::FraudWarnings,
    pub payouts: shop::payouts::Payouts,
    pub handlers: shop::stripe_events::EventHandlers,
    pub reconciler: shop::reconcile::Reconciler,
}

/// One of the shared [`Services`], borrowed for the request (it derefs to the service).
pub struct Service<T: 'static> {
    all: Arc<Services>,
    pick: fn(&Services) -> &T,
}

impl<T> std::ops::Deref for Service<T> {
    type Target = T;

    fn deref(&self) -> &T {
        (self.pick)(&self.all)
    }
}

fn service<T>(pick: fn(&Services) -> &T) -> Result<Service<T>, ShopError> {
    let all = use_context::<Arc<Services>>().ok_or_else(|| missing("Services"))?;
    Ok(Service { all, pick })
}

/// The shop's storage, as provided by the server.
pub fn store() -> Result<Service<Store>, ShopError> {
    service(|s| &s.store)
}

/// The payments service (order → PaymentIntent), as provided by the server.
pub fn payments() -> Result<Service<Payments>, ShopError> {
    service(|s| &s.payments)
}

/// Accounts and sessions, as provided by the server.
pub fn accounts() -> Result<Service<Accounts>, ShopError> {
    service(|s| &s.accounts)
}

/// Refunds and the console's order pages, as provided by the server.
pub fn refunds() -> Result<Service<shop::refunds::Refunds>, ShopError> {
    service(|s| &s.refunds)
}

/// Disputes (evidence, accept), as provided by the server.
pub fn disputes() -> Result<Service<shop::disputes::Disputes>, ShopError> {
    service(|s| &s.disputes)
}

/// Early fraud warnings, as provided by the server.
pub fn fraud_warnings() -> Result<Service<shop::fraud::FraudWarnings>, ShopError> {
    service(|s| &s.fraud_warnings)
}

/// Payouts, as provided by the server.
pub fn payouts() -> Result<Service<shop::payouts::Payouts>, ShopError> {
    service(|s| &s.payouts)
}

/// What turns Stripe events into state (the console's "process again").
pub fn event_handlers() -> Result<Service<shop::stripe_events::EventHandlers>, ShopError> {
    service(|s| &s.handlers)
}

/// The reconciliation ("Reconcile now"), as provided by the server.
pub fn reconciler() -> Result<Service<shop::reconcile::Reconciler>, ShopError> {
    service(|s| &s.reconciler)
}

/// The signed-in merchant; [`ShopError::NotFound`] for anyone else (a shopper or a guest
/// learns nothing, not even that the page exists).
pub async fn require_merchant() -> Result<shop::refunds::Merchant, ShopError> {
    match signed_in_account().await? {
        Some(account) if account.is_merchant => Ok(shop::refunds::Merchant {
            email: account.email,
        }),
        _ => Err(ShopError::NotFound),
    }
}

/// How cookies are set: `Secure` and `__Host-` prefixed when the site is served over
/// HTTPS (provided by the server from its public URL; plain HTTP otherwise).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CookiePolicy {
    pub secure: bool,
}

fn cookie_policy() -> CookiePolicy {
    use_context::<CookiePolicy>().unwrap_or_default()
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
///
/// Except for a form the browser posted itself (JavaScript off) from one of this site's
/// pages: `server_fn` answers it with a redirect back to that page carrying the error
/// (`?__path=…&__err=…`), which the page shows ([`form_post_error`]). An error status
/// there would keep the browser from following the redirect and show it the JSON.
pub fn set_error_status(error: &ShopError) {
    let parts = use_context::<http::request::Parts>();
    if parts.as_ref().is_some_and(is_form_post_from_our_page) {
        return;
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let status = http::StatusCode::from_u16(error.http_status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
    }
}

/// A server function posted by the browser as a plain form (it accepts `text/html`), from
/// a page of this site: its Referer is an absolute URL on the request's own host.
/// `server_fn` puts the error only into such a URL; a refused post from anywhere else
/// keeps its error status (nothing follows it).
fn is_form_post_from_our_page(parts: &http::request::Parts) -> bool {
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
    };
    let accepts_html = header(http::header::ACCEPT).is_some_and(|a| a.contains("text/html"));
    let (Some(referer), Some(host)) = (header(http::header::REFERER), header(http::header::HOST))
    else {
        return false;
    };
    let referer_host = crate::security::origin(referer).and_then(|origin| {
        origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
    });
    parts.method == http::Method::POST
        && parts.uri.path().starts_with("/api/")
        && accepts_html
        && referer_host.is_some_and(|h| h.eq_ignore_ascii_case(host))
}

/// The error a form posted without JavaScript was refused with, in the shopper's words:
/// `server_fn` redirected back here with it in the URL (`__err`; see
/// [`set_error_status`]: base64 of the error's JSON). One that does not decode shows
/// nothing.
///
/// Anyone can write such a URL and send a shopper to it, so it must not put words of
/// theirs on the shop's page: an error carrying free text (a payment's message, a
/// request's detail), or quoting a value that is not a short token (an input, a sku),
/// is shown as the shop's general refusal instead.
pub fn form_post_error() -> Option<String> {
    use base64::Engine;
    let parts = use_context::<http::request::Parts>()?;
    let encoded = form_urlencoded::parse(parts.uri.query()?.as_bytes())
        .find(|(key, _)| key == "__err")?
        .1;
    let json = base64::engine::general_purpose::URL_SAFE
        .decode(encoded.as_bytes())
        .ok()?;
    let error: ShopError = serde_json::from_slice(&json).ok()?;
    Some(url_safe_message(&error))
}

/// What [`form_post_error`] shows for `error`: its message, unless a URL could have
/// written words into it.
fn url_safe_message(error: &ShopError) -> String {
    fn tokens_only(value: &serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                s.len() <= 40
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            }
            Value::Array(items) => items.iter().all(tokens_only),
            Value::Object(fields) => fields.values().all(tokens_only),
            Value::Null | Value::Bool(_) | Value::Number(_) => true,
        }
    }
    let free_text = matches!(error, ShopError::Payment { .. } | ShopError::BadRequest(_));
    match serde_json::to_value(error) {
        Ok(value) if !free_text && tokens_only(&value) => error.customer_message(),
        _ => stripe_types::messages::FORM_REFUSED.to_owned(),
    }
}

const CART_COOKIE: &str = "cart";
const SECURE_CART_COOKIE: &str = "__Host-cart";
const CART_COOKIE_MAX_AGE: u32 = 60 * 60 * 24 * 30;
const SESSION_COOKIE: &str = "session";
const SECURE_SESSION_COOKIE: &str = "__Host-session";

async fn request_headers() -> Result<http::HeaderMap, ShopError> {
    leptos_axum::extract().await.map_err(|e| {
        tracing::error!(error = %e, "cannot read request headers");
        ShopError::Internal
    })
}

/// The guest's cart from the `cart` cookie. With `create`, a missing or malformed
/// cookie is replaced by a new random id, set on the response.
pub async fn cart_id(create: bool) -> Result<Option<CartId>, ShopError> {
    let headers = request_headers().await?;
    if let Some(id) = cookie(&headers, cart_cookie_name()).and_then(CartId::parse) {
        return Ok(Some(id));
    }
    if !create {
        return Ok(None);
    }
    let id = CartId::generate();
    set_cookie(&format!(
        "{}={id}; Path=/; Max-Age={CART_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{}",
        cart_cookie_name(),
        secure_attr()
    ))?;
    Ok(Some(id))
}

/// The cart the caller shops with: the account's when signed in, else the guest cart
/// (created when `create`).
pub async fn shopping_cart(create: bool) -> Result<Option<CartId>, ShopError> {
    match signed_in_account().await? {
        Some(account) => Ok(Some(account.cart_id)),
        None => cart_id(create).await,
    }
}

/// Who is asking (the session's account and the guest cart cookie), and the account.
pub async fn caller() -> Result<(Caller, Option<AccountRow>), ShopError> {
    let headers = request_headers().await?;
    caller_from(&headers, &*accounts()?, cookie_policy()).await
}

/// Who sent these headers (their session and cart cookies).
async fn caller_from(
    headers: &http::HeaderMap,
    accounts: &Accounts,
    policy: CookiePolicy,
) -> Result<(Caller, Option<AccountRow>), ShopError> {
    let guest_cart = cookie(headers, cart_cookie_name_for(policy)).and_then(CartId::parse);
    let token = cookie(headers, session_cookie_name_for(policy)).and_then(SessionToken::parse);
    accounts.caller(token.as_ref(), guest_cart).await
}

/// The signed-in account, if the session cookie is alive.
pub async fn signed_in_account() -> Result<Option<AccountRow>, ShopError> {
    let headers = request_headers().await?;
    match session_token(&headers) {
        Some(token) => accounts()?.session(&token).await,
        None => Ok(None),
    }
}

/// The signed-in account, or [`ShopError::SignInRequired`].
pub async fn require_account() -> Result<AccountRow, ShopError> {
    signed_in_account().await?.ok_or(ShopError::SignInRequired)
}

/// The session token from the request's cookie, if well-formed.
pub async fn current_session_token() -> Result<Option<SessionToken>, ShopError> {
    Ok(session_token(&request_headers().await?))
}

fn session_token(headers: &http::HeaderMap) -> Option<SessionToken> {
    let name = session_cookie_name();
    cookie(headers, name).and_then(SessionToken::parse)
}

/// The guest cart grants access to its orders: `__Host-` (host-only, Secure) over HTTPS,
/// so a sibling subdomain cannot plant one.
fn cart_cookie_name() -> &'static str {
    cart_cookie_name_for(cookie_policy())
}

fn cart_cookie_name_for(policy: CookiePolicy) -> &'static str {
    if policy.secure {
        SECURE_CART_COOKIE
    } else {
        CART_COOKIE
    }
}

fn session_cookie_name() -> &'static str {
    session_cookie_name_for(cookie_policy())
}

fn session_cookie_name_for(policy: CookiePolicy) -> &'static str {
    if policy.secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

fn secure_attr() -> &'static str {
    if cookie_policy().secure {
        "; Secure"
    } else {
        ""
    }
}

/// Creates an account and signs it in: the guest cart moves in, any previous session is
/// revoked, the session cookie set.
pub async fn sign_up(email: &str, password: &str) -> Result<(), ShopError> {
    let guest = cart_id(false).await?;
    let previous = current_session_token().await?;
    let accounts = accounts()?;
    let session = accounts.sign_up(email, password, guest.as_ref()).await?;
    if let Some(previous) = previous {
        accounts.sign_out(&previous).await?;
    }
    set_session_cookie(&session)
}

/// Signs in (throttled per email and per client address): a new session, the previous
/// one revoked, the guest cart merged.
pub async fn sign_in(email: &str, password: &str) -> Result<(), ShopError> {
    let guest = cart_id(false).await?;
    let previous = current_session_token().await?;
    let client = client_address().await;
    let session = accounts()?
        .sign_in(email, password, &client, guest.as_ref(), previous.as_ref())
        .await?;
    set_session_cookie(&session)
}

/// Sets the session cookie: HttpOnly, SameSite=Lax, host-only, no Max-Age (the server
/// expires the session; the browser forgets the cookie when it closes at the latest).
pub fn set_session_cookie(session: &Session) -> Result<(), ShopError> {
    set_cookie(&format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax{}",
        session_cookie_name(),
        session.token.expose(),
        secure_attr()
    ))
}

/// Tells the browser to forget the session cookie.
pub fn clear_session_cookie() -> Result<(), ShopError> {
    set_cookie(&format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        session_cookie_name(),
        secure_attr()
    ))
}

fn set_cookie(cookie: &str) -> Result<(), ShopError> {
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(
        http::header::SET_COOKIE,
        http::HeaderValue::from_str(cookie).map_err(|_| ShopError::Internal)?,
    );
    Ok(())
}

/// The client's address, as the server's edge worked it out (the TCP peer, or the
/// proxy's `X-Forwarded-For` entry when `TRUST_FORWARDED_FOR=1`): rate limits, sign-in
/// throttling and the card-testing guard count per client with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// [`ClientIp`] as text (`"unknown"` when the server did not set it: a test calling a
/// server function without the router).
pub async fn client_address() -> String {
    match leptos_axum::extract::<axum::Extension<ClientIp>>().await {
        Ok(axum::Extension(ClientIp(ip))) => ip.to_string(),
        Err(_) => {
            match leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>().await {
                Ok(axum::extract::ConnectInfo(addr)) => addr.ip().to_string(),
                Err(_) => "unknown".to_owned(),
            }
        }
    }
}

/// What every page shows of the caller — the priced cart and who is signed in — loaded
/// before the page renders (by the server's middleware) and read synchronously by the
/// layout: no Suspense or resource around the whole page for it.
#[derive(Debug, Clone, Default)]
pub struct PageCaller {
    pub cart: shop::CartView,
    /// The signed-in account's email.
    pub signed_in: Option<String>,
    /// The signed-in account is a merchant (the header links to the console).
    pub merchant: bool,
}

/// The request's caller: the account (when the session is alive) and its cart, else the
/// guest cart cookie's cart; empty when neither.
pub async fn page_caller(
    headers: &http::HeaderMap,
    accounts: &Accounts,
    policy: CookiePolicy,
) -> Result<PageCaller, ShopError> {
    let (caller, account) = caller_from(headers, accounts, policy).await?;
    Ok(PageCaller {
        cart: match caller.cart() {
            Some(cart) => accounts.store().cart(cart).await?,
            None => shop::CartView::default(),
        },
        merchant: account.as_ref().is_some_and(|a| a.is_merchant),
        signed_in: account.map(|a| a.email),
    })
}

/// What the server loaded for this page ([`page_caller`]); empty if nothing was.
pub fn loaded_page_caller() -> PageCaller {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageCaller>().cloned())
        .unwrap_or_default()
}

fn cookie<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The WASM modules of a lazy island (`cargo leptos --split`), as `/pkg/…` paths: those
/// of the island whose function is `island` in snake case (`payment_form`), from the
/// split manifest the build writes beside the bundle (read once). Empty when the site
/// was built without splitting or the island is unknown.
pub fn island_modules(island: &str) -> Vec<String> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static MANIFEST: OnceLock<(String, HashMap<String, Vec<String>>)> = OnceLock::new();
    let Some(options) = use_context::<LeptosOptions>() else {
        return Vec::new();
    };
    let (pkg, manifest) = MANIFEST.get_or_init(|| {
        let pkg = format!("/{}", options.site_pkg_dir);
        let path = std::path::Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join("__wasm_split_manifest.json");
        let manifest = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        (pkg, manifest)
    });
    // Keys are `{island}_loader_{hash of the source location}`.
    let prefix = format!("{island}_loader_");
    manifest
        .iter()
        .filter(|(key, _)| key.starts_with(&prefix))
        .flat_map(|(_, modules)| modules.iter().map(|m| format!("{pkg}/{m}.wasm")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_can_show_the_shops_refusals_but_not_words_of_its_own() {
        use stripe_types::messages::FORM_REFUSED;
        let quantity = ShopError::InvalidQuantity { input: "0".into() };
        assert_eq!(url_safe_message(&quantity), quantity.customer_message());
        assert_eq!(
            url_safe_message(&ShopError::EmptyCart),
            ShopError::EmptyCart.customer_message()
        );
        let refused = [
            ShopError::Payment {
                message: "Your card is blocked: call +1 555 0100".into(),
            },
            ShopError::BadRequest("x".into()),
            ShopError::UnknownProduct {
                sku: "call us at 555".into(),
            },
            ShopError::InvalidQuantity {
                input: "9".repeat(41),
            },
            ShopError::NotInCart {
                sku: "<b>mug</b>".into(),
            },
        ];
        for error in refused {
            assert_eq!(url_safe_message(&error), FORM_REFUSED, "{error:?}");
        }
    }

    /// How `cart_id` reads the guest cart from plain-HTTP requests.
    fn cart_id_from_headers(headers: &http::HeaderMap) -> Option<CartId> {
        cookie(headers, cart_cookie_name_for(CookiePolicy::default())).and_then(CartId::parse)
    }

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
