//! The Stripe REST surface (`/v1`), one module per resource or concern.

#[path = "../common/mod.rs"]
mod common;

mod api_keys;
mod customers;
mod disputes;
mod errors;
mod events;
mod expand;
mod lists;
mod payment_intents;
mod payment_methods;
mod payouts;
mod refunds;
mod sandbox;
mod setup_intents;
mod test_cards;
mod three_d_secure;
