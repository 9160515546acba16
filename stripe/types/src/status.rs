//! Object statuses exactly as Stripe spells them on the wire (API version pinned in
//! [`crate::API_VERSION`]).

use crate::wire_enum;

wire_enum!(
    /// `payment_intent.status`.
    PaymentIntentStatus {
        RequiresPaymentMethod = "requires_payment_method",
        RequiresConfirmation = "requires_confirmation",
        RequiresAction = "requires_action",
        Processing = "processing",
        RequiresCapture = "requires_capture",
        Canceled = "canceled",
        Succeeded = "succeeded",
    }
);

impl PaymentIntentStatus {
    /// No further change can happen to a PaymentIntent in this status.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            PaymentIntentStatus::Succeeded | PaymentIntentStatus::Canceled
        )
    }
}

wire_enum!(
    /// `setup_intent.status`.
    SetupIntentStatus {
        RequiresPaymentMethod = "requires_payment_method",
        RequiresConfirmation = "requires_confirmation",
        RequiresAction = "requires_action",
        Processing = "processing",
        Canceled = "canceled",
        Succeeded = "succeeded",
    }
);

impl SetupIntentStatus {
    /// No further change can happen to a SetupIntent in this status (`succeeded`: the
    /// card is saved; `canceled`).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            SetupIntentStatus::Succeeded | SetupIntentStatus::Canceled
        )
    }
}

wire_enum!(
    /// `charge.status`.
    ChargeStatus {
        Succeeded = "succeeded",
        Pending = "pending",
        Failed = "failed",
    }
);

wire_enum!(
    /// `refund.status`.
    RefundStatus {
        Pending = "pending",
        RequiresAction = "requires_action",
        Succeeded = "succeeded",
        Failed = "failed",
        Canceled = "canceled",
    }
);

wire_enum!(
    /// `refund.reason`.
    RefundReason {
        Duplicate = "duplicate",
        Fraudulent = "fraudulent",
        RequestedByCustomer = "requested_by_customer",
    }
);

wire_enum!(
    /// `dispute.status`.
    DisputeStatus {
        WarningNeedsResponse = "warning_needs_response",
        WarningUnderReview = "warning_under_review",
        WarningClosed = "warning_closed",
        NeedsResponse = "needs_response",
        UnderReview = "under_review",
        Won = "won",
        Lost = "lost",
    }
);

wire_enum!(
    /// `dispute.reason` (the ones the sandbox raises; Stripe has more).
    DisputeReason {
        BankCannotProcess = "bank_cannot_process",
        CreditNotProcessed = "credit_not_processed",
        CustomerInitiated = "customer_initiated",
        Duplicate = "duplicate",
        Fraudulent = "fraudulent",
        General = "general",
        ProductNotReceived = "product_not_received",
        ProductUnacceptable = "product_unacceptable",
        SubscriptionCanceled = "subscription_canceled",
        Unrecognized = "unrecognized",
    }
);

wire_enum!(
    /// `payout.status`.
    PayoutStatus {
        Paid = "paid",
        Pending = "pending",
        InTransit = "in_transit",
        Canceled = "canceled",
        Failed = "failed",
    }
);

wire_enum!(
    /// `capture_method` of a PaymentIntent.
    CaptureMethod {
        Automatic = "automatic",
        AutomaticAsync = "automatic_async",
        Manual = "manual",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for s in PaymentIntentStatus::ALL {
            assert_eq!(PaymentIntentStatus::parse(s.as_str()), Some(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(
            serde_json::from_str::<DisputeStatus>("\"warning_needs_response\"").unwrap(),
            DisputeStatus::WarningNeedsResponse
        );
        assert!(RefundStatus::parse("done").is_none());
    }

    #[test]
    fn terminal_payment_intent_statuses() {
        assert!(PaymentIntentStatus::Succeeded.is_terminal());
        assert!(PaymentIntentStatus::Canceled.is_terminal());
        assert!(!PaymentIntentStatus::Processing.is_terminal());
    }

    #[test]
    fn setup_intent_statuses() {
        for s in SetupIntentStatus::ALL {
            assert_eq!(SetupIntentStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(SetupIntentStatus::ALL.len(), 6);
        assert_eq!(SetupIntentStatus::parse("requires_capture"), None);
        let terminal: Vec<_> = SetupIntentStatus::ALL
            .iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [&SetupIntentStatus::Canceled, &SetupIntentStatus::Succeeded]
        );
    }
}
