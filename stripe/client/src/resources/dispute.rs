use serde::{Deserialize, Serialize};
use stripe_types::{Currency, DisputeReason, DisputeStatus, Money};

use super::{Charge, PaymentIntent, Range};
use crate::wire::{Expandable, Metadata, Tolerant};

stripe_object! {
    /// A Dispute (`dp_…`): the disputed amount is withdrawn until it is decided.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Dispute {
        pub amount: i64,
        pub currency: Currency,
        pub charge: Expandable<Charge>,
        pub payment_intent: Option<Expandable<PaymentIntent>>,
        pub reason: Tolerant<DisputeReason>,
        pub status: Tolerant<DisputeStatus>,
        pub evidence: Option<DisputeEvidence>,
        pub evidence_details: Option<EvidenceDetails>,
        #[serde(default)]
        pub is_charge_refundable: bool,
    }
}

impl Dispute {
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }

    pub fn status(&self) -> Option<DisputeStatus> {
        self.status.get()
    }

    pub fn charge_id(&self) -> &str {
        self.charge.id()
    }

    pub fn payment_intent_id(&self) -> Option<&str> {
        self.payment_intent.as_ref().map(Expandable::id)
    }

    /// `evidence_details.due_by` (Unix seconds).
    pub fn due_by(&self) -> Option<i64> {
        self.evidence_details.as_ref()?.due_by
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceDetails {
    pub due_by: Option<i64>,
    #[serde(default)]
    pub has_evidence: bool,
    #[serde(default)]
    pub past_due: bool,
    #[serde(default)]
    pub submission_count: u32,
}

/// Dispute evidence: text fields, and file ids (`file_…`) for the document fields.
/// The same shape is read from a Dispute and sent in `evidence[…]` when updating it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisputeEvidence {
    pub access_activity_log: Option<String>,
    pub billing_address: Option<String>,
    pub cancellation_policy: Option<String>,
    pub cancellation_policy_disclosure: Option<String>,
    pub cancellation_rebuttal: Option<String>,
    pub customer_communication: Option<String>,
    pub customer_email_address: Option<String>,
    pub customer_name: Option<String>,
    pub customer_purchase_ip: Option<String>,
    pub customer_signature: Option<String>,
    pub duplicate_charge_documentation: Option<String>,
    pub duplicate_charge_explanation: Option<String>,
    pub duplicate_charge_id: Option<String>,
    pub product_description: Option<String>,
    pub receipt: Option<String>,
    pub refund_policy: Option<String>,
    pub refund_policy_disclosure: Option<String>,
    pub refund_refusal_explanation: Option<String>,
    pub service_date: Option<String>,
    pub service_documentation: Option<String>,
    pub shipping_address: Option<String>,
    pub shipping_carrier: Option<String>,
    pub shipping_date: Option<String>,
    pub shipping_documentation: Option<String>,
    pub shipping_tracking_number: Option<String>,
    pub uncategorized_file: Option<String>,
    pub uncategorized_text: Option<String>,
}

/// `POST /v1/disputes/{id}`. Evidence is staged until `submit=true` (Stripe's default
/// when `submit` is absent is to submit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateDispute {
    pub evidence: Option<DisputeEvidence>,
    pub submit: Option<bool>,
    pub metadata: Metadata,
}

list_params! {
    /// `GET /v1/disputes`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
    pub struct ListDisputes {
        pub charge: Option<String>,
        pub payment_intent: Option<String>,
        pub created: Option<Range>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{form, Page};

    #[test]
    fn parses_a_dispute() {
        let dp: Dispute = serde_json::from_str(
            r#"{"id":"dp_1","object":"dispute","amount":1000,"currency":"usd",
                "charge":"ch_1","payment_intent":"pi_1","reason":"fraudulent",
                "status":"needs_response","is_charge_refundable":false,
                "evidence":{"customer_name":null,"uncategorized_text":null,"product_description":null},
                "evidence_details":{"due_by":1700600000,"has_evidence":false,"past_due":false,
                                    "submission_count":0},
                "balance_transactions":[],"metadata":{},"created":1700000000,"livemode":false}"#,
        )
        .unwrap();
        assert_eq!(dp.status(), Some(DisputeStatus::NeedsResponse));
        assert_eq!(dp.reason, DisputeReason::Fraudulent);
        assert_eq!(dp.charge_id(), "ch_1");
        assert_eq!(dp.due_by(), Some(1_700_600_000));
        assert_eq!(dp.evidence.unwrap(), DisputeEvidence::default());
    }

    #[test]
    fn evidence_update_body() {
        let update = UpdateDispute {
            evidence: Some(DisputeEvidence {
                customer_name: Some("Ada Lovelace".into()),
                product_description: Some("Blue mug".into()),
                shipping_tracking_number: Some("1Z999".into()),
                ..Default::default()
            }),
            submit: Some(false),
            ..Default::default()
        };
        assert_eq!(
            form::to_string(&update).unwrap(),
            "evidence[customer_name]=Ada+Lovelace&evidence[product_description]=Blue+mug\
             &evidence[shipping_tracking_number]=1Z999&submit=false"
        );
        let list = ListDisputes {
            payment_intent: Some("pi_1".into()),
            created: Some(Range {
                gte: Some(100),
                lt: Some(200),
                ..Default::default()
            }),
            page: Page::limit(5),
            ..Default::default()
        };
        assert_eq!(
            form::to_string(&list).unwrap(),
            "payment_intent=pi_1&created[gte]=100&created[lt]=200&limit=5"
        );
    }
}
