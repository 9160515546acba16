use serde::{Deserialize, Serialize};
use stripe_types::{Currency, Money, RefundReason, RefundStatus};

use super::{Charge, PaymentIntent};
use crate::wire::{Expandable, Metadata, Tolerant};

stripe_object! {
    id_only
    /// A Refund (`re_…`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Refund {
        pub amount: i64,
        pub currency: Currency,
        pub status: Option<Tolerant<RefundStatus>>,
        pub reason: Option<Tolerant<RefundReason>>,
        pub charge: Option<Expandable<Charge>>,
        pub payment_intent: Option<Expandable<PaymentIntent>>,
        /// Why a refund `failed` (e.g. `expired_or_canceled_card`).
        pub failure_reason: Option<String>,
        pub receipt_number: Option<String>,
        #[serde(default)]
        pub metadata: Metadata,
        #[serde(default)]
        pub created: i64,
    }
}

impl Refund {
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }

    pub fn status(&self) -> Option<RefundStatus> {
        self.status.as_ref().and_then(Tolerant::get)
    }

    pub fn payment_intent_id(&self) -> Option<&str> {
        self.payment_intent.as_ref().map(Expandable::id)
    }

    pub fn charge_id(&self) -> Option<&str> {
        self.charge.as_ref().map(Expandable::id)
    }
}

/// `POST /v1/refunds`. Full when `amount` is `None`; never more in total than the
/// charge (Stripe answers 400 `invalid_request_error`, `param: amount`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateRefund {
    pub payment_intent: Option<String>,
    pub charge: Option<String>,
    pub amount: Option<i64>,
    pub reason: Option<RefundReason>,
    pub metadata: Metadata,
    pub expand: Vec<String>,
}

impl CreateRefund {
    /// Refund everything not yet refunded on a PaymentIntent.
    pub fn full(payment_intent: impl Into<String>) -> Self {
        CreateRefund {
            payment_intent: Some(payment_intent.into()),
            ..Default::default()
        }
    }

    /// Refund `amount` minor units of a PaymentIntent.
    pub fn partial(payment_intent: impl Into<String>, amount: i64) -> Self {
        CreateRefund {
            payment_intent: Some(payment_intent.into()),
            amount: Some(amount),
            ..Default::default()
        }
    }

    pub fn reason(mut self, reason: RefundReason) -> Self {
        self.reason = Some(reason);
        self
    }

    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

list_params! {
    /// `GET /v1/refunds`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
    pub struct ListRefunds {
        pub payment_intent: Option<String>,
        pub charge: Option<String>,
    }
}

impl ListRefunds {
    pub fn for_payment_intent(payment_intent: impl Into<String>) -> Self {
        ListRefunds {
            payment_intent: Some(payment_intent.into()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form;

    #[test]
    fn refund_bodies() {
        assert_eq!(
            form::to_string(&CreateRefund::full("pi_1")).unwrap(),
            "payment_intent=pi_1"
        );
        let partial = CreateRefund::partial("pi_1", 500)
            .reason(RefundReason::RequestedByCustomer)
            .metadata("order_id", "ord_1")
            .metadata("by", "admin@example.com");
        assert_eq!(
            form::to_string(&partial).unwrap(),
            "payment_intent=pi_1&amount=500&reason=requested_by_customer\
             &metadata[by]=admin%40example.com&metadata[order_id]=ord_1"
        );
        assert_eq!(
            form::to_string(&ListRefunds::for_payment_intent("pi_1")).unwrap(),
            "payment_intent=pi_1"
        );
    }

    #[test]
    fn parses_refunds_with_new_values() {
        let r: Refund = serde_json::from_str(
            r#"{"id":"re_1","object":"refund","amount":500,"currency":"usd",
                "status":"pending","reason":"expired_uncaptured_charge",
                "charge":"ch_1","payment_intent":"pi_1","metadata":{}}"#,
        )
        .unwrap();
        assert_eq!(r.status(), Some(RefundStatus::Pending));
        assert_eq!(
            r.reason,
            Some(Tolerant::Unknown("expired_uncaptured_charge".into()))
        );
        assert_eq!(r.charge_id(), Some("ch_1"));
        assert_eq!(r.money().to_string(), "$5.00");
    }
}
