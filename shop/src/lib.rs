//! The shop: its domain and, with the `server` feature, its storage and services.
//!
//! Always compiled (server and browser WASM alike), pure and dependency-light:
//! - [`ids`]: `OrderId`, `CartId`, `Sku`, `Quantity`, parsed once where input enters;
//! - [`catalogue`]: products, carts priced from the catalogue ([`catalogue::price_cart`]);
//! - [`order`]: `OrderStatus`, what an order and its payment look like to the browser;
//! - [`error`]: `ShopError` (`Display` for logs, `customer_message()` for shoppers);
//! - [`account`]: `Email`, `Password`, `Caller` (who owns what), saved cards, buy again;
//! - [`refund`]: refund states, the order's money ledger, amounts typed by a merchant;
//! - [`dispute`], [`fraud`], [`payout`]: disputes, early fraud warnings and payouts as the
//!   console shows them; [`console`]: the console's dashboard and events page.
//!
//! With `server` (the app's `ssr` side and the server binary):
//! - [`store`]: sqlx storage on SQLite or PostgreSQL, one module per concept;
//! - [`accounts`]: sign-up, sign-in (Argon2id, throttled), sessions, the guest cart's merge;
//! - [`cards`]: the account's Stripe Customer and saved cards (Stripe is the truth);
//! - [`payments`]: the payments service, order → PaymentIntent;
//! - [`refunds`]: refunds from the console, and Stripe's word about every refund;
//! - [`disputes`], [`payouts`]: dispute and payout events, evidence, accept;
//! - [`reconcile`]: catching up from Stripe's Events API, and the drift report;
//! - [`payment_state`]: the pure state machine from Stripe's facts to an order's status;
//! - [`stripe_events`]: verified webhook events stored once and applied.

pub mod account;
pub mod catalogue;
pub mod console;
pub mod dispute;
pub mod error;
pub mod fraud;
pub mod ids;
pub mod order;
pub mod payout;
pub mod refund;

#[cfg(feature = "server")]
pub mod accounts;
#[cfg(feature = "server")]
pub mod cards;
#[cfg(feature = "server")]
pub mod disputes;
#[cfg(feature = "server")]
pub mod guard;
#[cfg(feature = "server")]
pub mod payment_state;
#[cfg(feature = "server")]
pub mod payments;
#[cfg(feature = "server")]
pub mod payouts;
#[cfg(feature = "server")]
pub mod reconcile;
#[cfg(feature = "server")]
pub mod refunds;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod stripe_events;

pub use account::{
    AccountId, BuyAgain, Caller, Email, OrderSummary, Password, PaymentMethodId, PaymentOptions,
    RequestId, SavedCard, SetupStart, SignedIn,
};
pub use catalogue::{
    CartLine, CartView, Product, CART_ROW_SKU_PLACEHOLDER, MAX_LINES, MAX_QUANTITY,
};
pub use error::ShopError;
pub use ids::{CartId, OrderId, Quantity, Sku};
pub use order::{OrderStatus, OrderView, PaymentFormSetup, PaymentStart, PaymentsConfig};
