use serde::{Deserialize, Serialize};
use stripe_types::{Currency, Money, PayoutStatus};

use super::Range;
use crate::wire::Tolerant;

stripe_object! {
    /// A Payout (`po_…`) from the Stripe balance to the bank account.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Payout {
        pub amount: i64,
        pub currency: Currency,
        pub status: Tolerant<PayoutStatus>,
        /// Unix seconds when the payout is expected in the bank.
        #[serde(default)]
        pub arrival_date: i64,
        #[serde(default)]
        pub automatic: bool,
        /// `standard` or `instant`.
        pub method: Option<String>,
        /// `bank_account` or `card`.
        #[serde(rename = "type", default)]
        pub kind: Option<String>,
        /// An id, or the expanded destination kept as raw JSON.
        pub destination: Option<serde_json::Value>,
        pub description: Option<String>,
        pub statement_descriptor: Option<String>,
        pub failure_code: Option<String>,
        pub failure_message: Option<String>,
    }
}

impl Payout {
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }

    pub fn status(&self) -> Option<PayoutStatus> {
        self.status.get()
    }
}

list_params! {
    /// `GET /v1/payouts`.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
    pub struct ListPayouts {
        pub status: Option<PayoutStatus>,
        pub arrival_date: Option<Range>,
        pub created: Option<Range>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{form, Page};

    #[test]
    fn parses_payouts_and_builds_list_query() {
        let po: Payout = serde_json::from_str(
            r#"{"id":"po_1","object":"payout","amount":12345,"currency":"gbp",
                "status":"in_transit","arrival_date":1700000000,"automatic":true,
                "method":"standard","type":"bank_account","destination":"ba_1"}"#,
        )
        .unwrap();
        assert_eq!(po.status(), Some(PayoutStatus::InTransit));
        assert_eq!(po.money().to_string(), "£123.45");
        let list = ListPayouts {
            status: Some(PayoutStatus::Paid),
            page: Page::limit(100),
            ..Default::default()
        };
        assert_eq!(form::to_string(&list).unwrap(), "status=paid&limit=100");
    }
}
