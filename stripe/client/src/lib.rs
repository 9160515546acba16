//! The checkout server's Stripe client: typed REST calls with pinned API version,
//! idempotency keys, stripe-node-style retries and one error type with shopper-safe
//! messages; plus webhook signature verification.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use stripe_client::{Client, CreatePaymentIntent, IdempotencyKey, SecretKey};
//! use stripe_types::{Currency, Money};
//!
//! let client = Client::builder(SecretKey::new("sk_test_example")?)
//!     .base_url(stripe_client::SANDBOX_BASE_URL)
//!     .build()?;
//! let key = IdempotencyKey::for_operation("order", "ord_abc", "pi", 1)?;
//! let params = CreatePaymentIntent::new(Money::new(1999, Currency::USD)).metadata("order_id", "ord_abc");
//! match client.create_payment_intent(&params, &key).await {
//!     Ok(pi) => println!("{} {:?}", pi.id, pi.status()),
//!     Err(e) => println!("{}", e.customer_message()),
//! }
//! # Ok(()) }
//! ```

mod client;
pub mod error;
pub mod form;
mod idempotency;
pub mod resources;
pub mod retry;
mod secret;
pub mod webhook;
mod wire;

pub use client::{
    BuildError, Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    SANDBOX_BASE_URL,
};
pub use error::{ErrorMeta, StripeError};
pub use idempotency::{IdempotencyKey, IdempotencyKeyError};
pub use resources::*;
pub use retry::{NetworkFailure, RetryPolicy};
pub use secret::{ClientSecret, KeyMode, Secret, SecretError, SecretKey, WebhookSecret};
pub use webhook::{Verifier, WebhookError};
pub use wire::{Deleted, Expandable, HasId, List, Metadata, Tolerant};

pub use stripe_types;
