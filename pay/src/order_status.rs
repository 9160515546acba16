//! The order page's status (`/orders/{order_id}`), kept current without Leptos.
//!
//! The server renders the status, its note and the "Pay now" link for the status it read
//! (`app::pages::OrderStatusLive`). While the order is `processing` (and a few times
//! while `pending`, in case the shopper just paid) [`order_status`] asks the server again
//! every second, until the webhook (or a server-side retrieve) settles it; the page turns
//! to `paid` without a reload. A failed ask changes nothing; the next tick asks again.

use std::rc::Rc;

use shop::{OrderStatus, OrderView};
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

use crate::{part, post, set_hidden, set_text};

/// How often the page asks again, in milliseconds.
const POLL_MS: u32 = 1_000;
/// How many times a `pending` order is asked about before the page stops asking.
const PENDING_POLLS: u32 = 5;

/// Takes over the server-rendered status `root` (`<div data-wasm="order_status"
/// data-order=… data-status=…>`). Called once by the page's module script.
#[wasm_bindgen]
pub fn order_status(root: HtmlElement) {
    let (Some(order_id), Some(status)) = (
        root.get_attribute("data-order"),
        root.get_attribute("data-status")
            .and_then(|s| OrderStatus::parse(&s)),
    ) else {
        return;
    };
    wasm_bindgen_futures::spawn_local(watch(Rc::new(root), order_id, status));
}

async fn watch(root: Rc<HtmlElement>, order_id: String, mut status: OrderStatus) {
    let mut polls = 0;
    while ask_again(&status, polls) {
        polls += 1;
        stripe_js::delay(POLL_MS).await;
        let answer = post("/api/order", &[("id", &order_id)]).await;
        let Ok(order) = answer.and_then(|value| {
            serde_wasm_bindgen::from_value::<OrderView>(value).map_err(|e| e.to_string())
        }) else {
            continue;
        };
        if order.status != status {
            status = order.status;
            show(&root, &status);
        }
    }
}

/// Whether the page asks again after `polls` asks: always while `processing` (the money
/// is on its way), at most [`PENDING_POLLS`] times while `pending`, never once settled.
fn ask_again(status: &OrderStatus, polls: u32) -> bool {
    match status {
        OrderStatus::Processing => true,
        OrderStatus::Pending => polls < PENDING_POLLS,
        _ => false,
    }
}

/// Writes `status` as the server renders it.
fn show(root: &HtmlElement, status: &OrderStatus) {
    let label = status.as_str();
    set_text(root, "order-status", Some(label));
    if let Some(span) = part(root, "order-status") {
        span.set_class_name(&format!("status status-{label}"));
    }
    set_text(root, "status-note", Some(status.describe()));
    set_hidden(part(root, "pay-now"), !status.is_payable());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_asks_while_the_money_moves_and_a_few_times_while_pending() {
        assert!(ask_again(&OrderStatus::Processing, 1_000));
        assert!(ask_again(&OrderStatus::Pending, 0));
        assert!(ask_again(&OrderStatus::Pending, PENDING_POLLS - 1));
        assert!(!ask_again(&OrderStatus::Pending, PENDING_POLLS));
        for settled in [
            OrderStatus::Paid,
            OrderStatus::Failed,
            OrderStatus::Canceled,
            OrderStatus::Refunded,
            OrderStatus::NeedsReview,
        ] {
            assert!(!ask_again(&settled, 0), "{settled:?}");
        }
    }
}
