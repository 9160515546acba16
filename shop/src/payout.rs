//! Payouts as the merchant console sees them, pure.

use serde::{Deserialize, Serialize};
use stripe_types::Money;

/// A payout (`po_…`) as the shop mirrors it from Stripe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutView {
    pub id: String,
    pub amount: Money,
    /// Stripe's `status`: `pending`, `in_transit`, `paid`, `failed`, `canceled`.
    pub status: String,
    /// Unix seconds: when the money is expected in the bank.
    pub arrival_date: i64,
    pub automatic: bool,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// Unix milliseconds: when the shop first heard of it.
    pub created_at: i64,
}

impl PayoutView {
    /// Flagged on the dashboard: the money never reached the bank.
    pub fn failed(&self) -> bool {
        self.status == "failed"
    }

    /// Still moving: the reconciliation fetches it again.
    pub fn in_flight(&self) -> bool {
        !is_final(&self.status)
    }
}

/// A payout's status' place in its lifecycle (`pending` → `in_transit` → `paid`, and
/// `failed` / `canceled` last: a paid payout can still fail days later, a failed one never
/// becomes paid). Unknown statuses rank lowest: they never replace a known one.
pub fn status_rank(status: &str) -> i64 {
    match status {
        "pending" => 1,
        "in_transit" => 2,
        "paid" => 3,
        "failed" | "canceled" => 4,
        _ => 0,
    }
}

/// `failed` and `canceled` never change again. (`paid` still can: to `failed`.)
pub fn is_final(status: &str) -> bool {
    matches!(status, "failed" | "canceled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paid_payout_can_still_fail_but_never_moves_back() {
        assert!(status_rank("failed") > status_rank("paid"));
        assert!(status_rank("paid") > status_rank("in_transit"));
        assert!(status_rank("in_transit") > status_rank("pending"));
        assert!(status_rank("something_new") < status_rank("pending"));
        assert!(!is_final("paid"));
        assert!(is_final("canceled"));
    }
}
