//! Types shared by the server, the browser (WASM) and the Stripe sandbox.
//!
//! Kept dependency-light (serde + thiserror) so it compiles to `wasm32` cheaply.

mod currency;
pub mod error;
pub mod messages;
mod money;
pub mod status;

pub use currency::{Currency, CurrencyError};
pub use error::{ErrorBody, ErrorEnvelope, ErrorType};
pub use money::{Money, MoneyError};
pub use status::{
    CaptureMethod, ChargeStatus, DisputeReason, DisputeStatus, PaymentIntentStatus, PayoutStatus,
    RefundReason, RefundStatus, SetupIntentStatus,
};

/// The Stripe API version the client pins and the sandbox emulates.
pub const API_VERSION: &str = "2024-06-20";
