//! Wire types: the Stripe objects the checkout reads and the parameters it sends.
//!
//! Responses ignore fields they do not name, and every enum tolerates values Stripe
//! may add later ([`Tolerant`](crate::Tolerant) around the `stripe-types` enums, or an
//! open enum with an `Other(String)` variant). Parameters serialize to Stripe's
//! bracket-nested form bodies through [`crate::form`]; `None`, empty lists and empty
//! maps are left out of the body.

/// Declares a Stripe object: the struct with `pub id: String` first, then its own
/// fields, then the fields every Stripe object has (`metadata`, `created`, `livemode`,
/// all `#[serde(default)]`), plus its [`HasId`](crate::HasId) impl.
///
/// `stripe_object!(id_only ...)` adds only `id` and `HasId`, for the few objects that
/// lack some of the common fields and declare the ones they have themselves.
macro_rules! stripe_object {
    ($(#[$attr:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        stripe_object! {
            id_only
            $(#[$attr])*
            pub struct $name {
                $($fields)*
                #[serde(default)]
                pub metadata: $crate::wire::Metadata,
                #[serde(default)]
                pub created: i64,
                #[serde(default)]
                pub livemode: bool,
            }
        }
    };
    (id_only $(#[$attr:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$attr])*
        pub struct $name {
            pub id: String,
            $($fields)*
        }

        impl $crate::wire::HasId for $name {
            fn id(&self) -> &str {
                &self.id
            }
        }
    };
}

/// Declares the query of a list endpoint: its own filters, then the cursor [`Page`]
/// flattened into the query (`…&limit=20&starting_after=…`).
macro_rules! list_params {
    ($(#[$attr:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$attr])*
        pub struct $name {
            $($fields)*
            #[serde(flatten)]
            pub page: $crate::resources::Page,
        }
    };
}

mod charge;
mod customer;
mod dispute;
mod event;
mod payment_intent;
mod payment_method;
mod payout;
mod refund;
mod setup_intent;

pub use charge::*;
pub use customer::*;
pub use dispute::*;
pub use event::*;
pub use payment_intent::*;
pub use payment_method::*;
pub use payout::*;
pub use refund::*;
pub use setup_intent::*;

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
