//! Operations around the API: idempotency, fault injection, webhooks (signatures, retries
//! on the clock, delivery controls) and persistence.

#[path = "../common/mod.rs"]
mod common;

mod faults;
mod idempotency;
mod persistence;
mod webhooks;
