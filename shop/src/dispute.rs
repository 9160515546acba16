//! Disputes as the merchant console sees them, pure.

use serde::{Deserialize, Serialize};
use stripe_types::Money;

/// A dispute (`dp_…`) as the shop mirrors it from Stripe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeView {
    pub id: String,
    pub order_id: Option<crate::ids::OrderId>,
    pub payment_intent_id: Option<String>,
    pub amount: Money,
    /// Stripe's `reason` (`fraudulent`, `product_not_received`…).
    pub reason: String,
    /// Stripe's `status` (`needs_response`, `under_review`, `won`…).
    pub status: String,
    /// `evidence_details.due_by`, Unix seconds.
    pub due_by: Option<i64>,
    pub has_evidence: bool,
    pub past_due: bool,
    pub submission_count: i64,
    /// The free text staged or submitted (`evidence[uncategorized_text]`).
    pub evidence_text: Option<String>,
    pub withdrawn: Money,
    pub reinstated: Money,
}

impl DisputeView {
    /// Evidence can still be sent (or the dispute accepted).
    pub fn needs_response(&self) -> bool {
        needs_response(&self.status)
    }

    /// Not decided yet.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status.as_str(),
            "needs_response" | "warning_needs_response" | "under_review" | "warning_under_review"
        )
    }

    /// What the inbox says about the deadline at `now` (Unix seconds).
    pub fn countdown(&self, now: i64) -> String {
        match self.due_by {
            _ if !self.needs_response() => String::new(),
            Some(due) if due <= now || self.past_due => "past due".into(),
            Some(due) => {
                let hours = (due - now) / 3600;
                if hours >= 48 {
                    format!("{} days left", hours / 24)
                } else {
                    format!("{hours} h left")
                }
            }
            None => String::new(),
        }
    }
}

pub fn needs_response(status: &str) -> bool {
    matches!(status, "needs_response" | "warning_needs_response")
}

#[cfg(test)]
mod tests {
    use super::*;
    use stripe_types::Currency;

    fn dispute(status: &str, due_by: Option<i64>) -> DisputeView {
        DisputeView {
            id: "dp_1".into(),
            order_id: None,
            payment_intent_id: None,
            amount: Money::new(1250, Currency::USD),
            reason: "fraudulent".into(),
            status: status.into(),
            due_by,
            has_evidence: false,
            past_due: false,
            submission_count: 0,
            evidence_text: None,
            withdrawn: Money::new(0, Currency::USD),
            reinstated: Money::new(0, Currency::USD),
        }
    }

    #[test]
    fn the_deadline_counts_down_while_a_response_is_needed() {
        let now = 1_000_000;
        assert_eq!(
            dispute("needs_response", Some(now + 7 * 86400)).countdown(now),
            "7 days left"
        );
        assert_eq!(
            dispute("needs_response", Some(now + 5 * 3600)).countdown(now),
            "5 h left"
        );
        assert_eq!(
            dispute("needs_response", Some(now - 1)).countdown(now),
            "past due"
        );
        assert_eq!(dispute("under_review", Some(now + 100)).countdown(now), "");
        assert!(dispute("warning_needs_response", None).needs_response());
        assert!(dispute("under_review", None).is_open());
        assert!(!dispute("won", None).is_open());
    }
}
