//! Types shared by the server, the browser (WASM) and the Stripe sandbox.
//!
//! Kept dependency-light (serde + thiserror) so it compiles to `wasm32` cheaply. The
//! `signature` feature adds [`webhook_signature`] (HMAC-SHA256) for the native crates.

// Lets `wire_enum!`'s derives name `stripe_types::…` inside this crate as well.
extern crate self as stripe_types;

mod macros;

mod currency;
pub mod error;
pub mod messages;
mod money;
pub mod status;
#[cfg(feature = "signature")]
pub mod webhook_signature;

pub use currency::{Currency, CurrencyError};
pub use error::{ErrorBody, ErrorEnvelope, ErrorType};
pub use money::{Money, MoneyError};
pub use status::{
    CaptureMethod, ChargeStatus, DisputeReason, DisputeStatus, PaymentIntentStatus, PayoutStatus,
    RefundReason, RefundStatus, SetupIntentStatus,
};

/// The Stripe API version the client pins and the sandbox emulates.
pub const API_VERSION: &str = "2024-06-20";

/// What [`wire_enum!`]'s expansions use; not an API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}
