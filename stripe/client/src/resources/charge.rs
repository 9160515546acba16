use serde::{Deserialize, Serialize};
use stripe_types::{ChargeStatus, Currency, Money};

use super::{Card, Customer, PaymentIntent};
use crate::wire::{Expandable, Tolerant};

stripe_object! {
    /// A Charge (`ch_…`): one attempt to move money, created by confirming a PaymentIntent.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Charge {
        pub amount: i64,
        #[serde(default)]
        pub amount_captured: i64,
        #[serde(default)]
        pub amount_refunded: i64,
        pub currency: Currency,
        pub status: Tolerant<ChargeStatus>,
        #[serde(default)]
        pub paid: bool,
        #[serde(default)]
        pub captured: bool,
        /// Fully refunded.
        #[serde(default)]
        pub refunded: bool,
        #[serde(default)]
        pub disputed: bool,
        pub failure_code: Option<String>,
        pub failure_message: Option<String>,
        pub outcome: Option<ChargeOutcome>,
        pub payment_intent: Option<Expandable<PaymentIntent>>,
        pub payment_method: Option<String>,
        pub payment_method_details: Option<PaymentMethodDetails>,
        pub customer: Option<Expandable<Customer>>,
        /// An id, or the expanded balance transaction kept as raw JSON.
        pub balance_transaction: Option<serde_json::Value>,
        pub receipt_url: Option<String>,
        pub description: Option<String>,
    }
}

impl Charge {
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }

    /// What can still be refunded: captured minus refunded.
    pub fn refundable(&self) -> Money {
        let captured = if self.captured {
            self.amount_captured.max(0)
        } else {
            0
        };
        Money::new((captured - self.amount_refunded).max(0), self.currency)
    }

    pub fn payment_intent_id(&self) -> Option<&str> {
        self.payment_intent.as_ref().map(Expandable::id)
    }

    pub fn card(&self) -> Option<&Card> {
        self.payment_method_details.as_ref()?.card.as_ref()
    }
}

/// `charge.outcome`: the network's and Radar's verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeOutcome {
    /// `authorized`, `manual_review`, `issuer_declined`, `blocked`, `invalid`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub network_status: Option<String>,
    pub reason: Option<String>,
    pub risk_level: Option<String>,
    pub risk_score: Option<i64>,
    pub seller_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethodDetails {
    #[serde(rename = "type")]
    pub kind: String,
    pub card: Option<Card>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_partially_refunded_charge() {
        let ch: Charge = serde_json::from_str(
            r#"{"id":"ch_1","object":"charge","amount":5000,"amount_captured":5000,
                "amount_refunded":1500,"currency":"usd","status":"succeeded","paid":true,
                "captured":true,"refunded":false,"disputed":false,
                "outcome":{"type":"authorized","network_status":"approved_by_network",
                           "risk_level":"normal","risk_score":12,"seller_message":"Payment complete."},
                "payment_intent":"pi_1","payment_method":"pm_1",
                "payment_method_details":{"type":"card","card":{"brand":"mastercard",
                    "last4":"4444","exp_month":1,"exp_year":2030,"three_d_secure":null}},
                "balance_transaction":"txn_1","receipt_url":"https://pay.stripe.com/r/1"}"#,
        )
        .unwrap();
        assert_eq!(ch.refundable(), Money::new(3500, Currency::USD));
        assert_eq!(ch.payment_intent_id(), Some("pi_1"));
        assert_eq!(ch.card().unwrap().last4, "4444");
        assert_eq!(ch.outcome.unwrap().risk_score, Some(12));
        assert_eq!(ch.status, ChargeStatus::Succeeded);
    }

    #[test]
    fn failed_charge_has_nothing_refundable() {
        let ch: Charge = serde_json::from_str(
            r#"{"id":"ch_2","amount":5000,"currency":"eur","status":"failed","paid":false,
                "captured":false,"failure_code":"card_declined",
                "failure_message":"Your card was declined."}"#,
        )
        .unwrap();
        assert_eq!(ch.refundable().minor, 0);
        assert_eq!(ch.failure_code.as_deref(), Some("card_declined"));
    }
}
