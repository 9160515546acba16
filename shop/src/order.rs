//! Orders as the shopper sees them, and what the browser needs to pay one.

use serde::{Deserialize, Serialize};
use stripe_types::{messages, Money};

use crate::catalogue::CartLine;
use crate::ids::OrderId;

stripe_types::wire_enum!(
    /// Where an order stands. The same names are stored in `orders.status` (bound as
    /// parameters: no SQL spells a status) and sent to the browser.
    OrderStatus {
        Pending = "pending",
        Processing = "processing",
        Paid = "paid",
        Failed = "failed",
        Canceled = "canceled",
        /// Paid, and part of the money refunded (succeeded refunds, per the ledger).
        PartiallyRefunded = "partially_refunded",
        Refunded = "refunded",
        /// Stripe says something the shop will not fulfil on (an amount or currency that
        /// is not the order's): the merchant looks at it (`orders.review_reason`).
        NeedsReview = "needs_review",
    }
);

impl OrderStatus {
    /// The order still takes a payment (a failed attempt can be retried).
    pub fn is_payable(&self) -> bool {
        matches!(self, OrderStatus::Pending | OrderStatus::Failed)
    }

    /// The money was taken at some point (paid, whatever was refunded since).
    pub fn was_paid(&self) -> bool {
        matches!(
            self,
            OrderStatus::Paid | OrderStatus::PartiallyRefunded | OrderStatus::Refunded
        )
    }

    /// What the shopper reads on the order page.
    pub fn describe(&self) -> &'static str {
        match self {
            OrderStatus::Pending => messages::ORDER_PENDING,
            OrderStatus::Processing => messages::ORDER_PROCESSING,
            OrderStatus::Paid => messages::ORDER_PAID,
            OrderStatus::Failed => messages::ORDER_FAILED,
            OrderStatus::Canceled => messages::ORDER_CANCELED,
            OrderStatus::PartiallyRefunded => messages::ORDER_PARTIALLY_REFUNDED,
            OrderStatus::Refunded => messages::ORDER_REFUNDED,
            OrderStatus::NeedsReview => messages::ORDER_NEEDS_REVIEW,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: OrderId,
    pub status: OrderStatus,
    pub lines: Vec<CartLine>,
    pub total: Money,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Why the last payment attempt failed (a Stripe code such as `card_declined`).
    pub failure_code: Option<String>,
}

/// What the checkout page needs to confirm an order's PaymentIntent in the browser.
/// The client secret goes to this shopper's browser only; it is never logged or stored
/// (`Debug` redacts it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentStart {
    pub order_id: OrderId,
    pub payment_intent_id: String,
    pub client_secret: String,
    pub amount: Money,
}

impl std::fmt::Debug for PaymentStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentStart")
            .field("order_id", &self.order_id)
            .field("payment_intent_id", &self.payment_intent_id)
            .field("client_secret", &"[redacted]")
            .field("amount", &self.amount)
            .finish()
    }
}

/// What the browser needs to talk to Stripe (or the offline sandbox). Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentsConfig {
    pub publishable_key: String,
    pub js_url: String,
    /// Payments go to the built-in offline emulator: nothing is really charged.
    pub sandbox: bool,
}

/// What the checkout's payment form starts from: the server renders it as JSON into the
/// form's `data-props`, and the browser's `pay` module reads it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFormSetup {
    /// The order to pay (`ord_…`).
    pub order_id: String,
    /// The order's total as the page shows it ("$25.00"); the amount charged is the
    /// server's.
    pub total: String,
    pub config: PaymentsConfig,
    /// Signed-in shoppers may pay with a saved card, or save the new one.
    pub signed_in: bool,
    /// The saved card (`pm_…`) selected at first, or `None` for a new card.
    pub selected: Option<String>,
    /// Why the order's last attempt failed, shown until the next attempt.
    pub notice: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_status_round_trips() {
        for s in [
            OrderStatus::Pending,
            OrderStatus::Processing,
            OrderStatus::Paid,
            OrderStatus::Failed,
            OrderStatus::Canceled,
            OrderStatus::PartiallyRefunded,
            OrderStatus::Refunded,
            OrderStatus::NeedsReview,
        ] {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(OrderStatus::parse("PAID"), None);
        assert_eq!(OrderStatus::ALL.len(), 8);
    }

    #[test]
    fn the_client_secret_never_appears_in_debug() {
        let start = PaymentStart {
            order_id: OrderId::parse("ord_0123456789abcdefghij").unwrap(),
            payment_intent_id: "pi_1".into(),
            client_secret: "pi_1_secret_abc".into(),
            amount: Money::new(100, stripe_types::Currency::USD),
        };
        assert!(!format!("{start:?}").contains("secret_abc"));
    }
}
