//! Wire types: the Stripe objects the checkout reads and the parameters it sends.
//!
//! Responses ignore fields they do not name, and every enum tolerates values Stripe
//! may add later ([`Tolerant`](crate::Tolerant) around the `stripe-types` enums, or an
//! open enum with an `Other(String)` variant). Parameters serialize to Stripe's
//! bracket-nested form bodies through [`crate::form`]; `None`, empty lists and empty
//! maps are left out of the body.

mod charge;
mod customer;
mod dispute;
mod event;
mod payment_intent;
mod payment_method;
mod payout;
mod refund;

pub use charge::*;
pub use customer::*;
pub use dispute::*;
pub use event::*;
pub use payment_intent::*;
pub use payment_method::*;
pub use payout::*;
pub use refund::*;

use serde::Serialize;

/// Cursor pagination shared by every list endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Page {
    /// 1 to 100; Stripe's default is 10.
    pub limit: Option<u8>,
    /// An object id: the page starts after it (the `next_cursor` of the previous page).
    pub starting_after: Option<String>,
    pub ending_before: Option<String>,
}

impl Page {
    pub fn limit(limit: u8) -> Self {
        Page {
            limit: Some(limit),
            ..Page::default()
        }
    }

    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.starting_after = Some(cursor.into());
        self
    }
}

/// A range filter on a Unix timestamp: `created[gte]=…&created[lt]=…`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Range {
    pub gt: Option<i64>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
    pub lte: Option<i64>,
}
