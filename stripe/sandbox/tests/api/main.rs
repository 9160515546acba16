//! The Stripe REST surface (`/v1`), one module per resource family.

#[path = "../common/mod.rs"]
mod common;

mod after_payment;
mod customers;
mod events;
mod intents;
mod saved_cards;
mod surface;
