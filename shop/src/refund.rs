//! Refunds as the merchant console sees them, pure: the state of one refund, the order's
//! money ledger, and the amount a merchant types.
//!
//! A refund only moves forward ([`RefundState::rank`]): `requested` (written by the shop
//! before Stripe is asked) → `pending`/`requires_action` → `succeeded` → `failed` or
//! `canceled` (a card refund can fail after succeeding: the money is refundable again).
//! `rejected` means Stripe refused the create call: no refund exists.

use serde::{Deserialize, Serialize};
use stripe_types::{Currency, Money, RefundReason, RefundStatus};

use crate::error::ShopError;
use crate::order::OrderStatus;

stripe_types::wire_enum!(
    /// Where a refund stands (`refunds.status`).
    RefundState {
        Requested = "requested",
        Pending = "pending",
        RequiresAction = "requires_action",
        Succeeded = "succeeded",
        Failed = "failed",
        Canceled = "canceled",
        Rejected = "rejected",
    }
);

impl RefundState {
    /// Order of states: a refund never moves to a lower rank.
    pub fn rank(&self) -> u8 {
        match self {
            RefundState::Requested => 0,
            RefundState::Pending | RefundState::RequiresAction => 1,
            RefundState::Succeeded => 2,
            RefundState::Failed | RefundState::Canceled | RefundState::Rejected => 3,
        }
    }

    /// The refund holds money back from what can still be refunded (asked for, on its
    /// way or done); a failed, canceled or rejected one gives it back.
    pub fn holds_money(&self) -> bool {
        self.rank() < 3
    }

    pub fn from_stripe(status: RefundStatus) -> RefundState {
        match status {
            RefundStatus::Pending => RefundState::Pending,
            RefundStatus::RequiresAction => RefundState::RequiresAction,
            RefundStatus::Succeeded => RefundState::Succeeded,
            RefundStatus::Failed => RefundState::Failed,
            RefundStatus::Canceled => RefundState::Canceled,
        }
    }
}

stripe_types::wire_enum!(
    /// Who made a refund: the console, or someone elsewhere (Stripe's Dashboard).
    RefundOrigin {
        Shop = "shop",
        Outside = "outside",
    }
);

/// One refund of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundView {
    /// The shop's id of the row (`rf_…`).
    pub id: String,
    /// Stripe's `re_…` (none while the create call has not been answered, or when it
    /// was refused).
    pub stripe_id: Option<String>,
    pub amount: Money,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub status: RefundState,
    pub failure_reason: Option<String>,
    /// Stripe's refusal of the create call (status `rejected`).
    pub error: Option<String>,
    pub origin: RefundOrigin,
    /// The merchant who asked (email), for refunds made in the console.
    pub requested_by: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// A failed refund the merchant has dealt with (retried or dismissed): out of the queue.
    pub dismissed: bool,
}

impl RefundView {
    /// Waits in the failed-refunds queue.
    pub fn needs_attention(&self) -> bool {
        !self.status.holds_money() && !self.dismissed
    }
}

/// A refund in the failed-refunds queue, with its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedRefund {
    pub order_id: crate::ids::OrderId,
    pub refund: RefundView,
}

/// An order's money: what was charged and where each refund stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub status: OrderStatus,
    pub charged: Money,
    /// Succeeded refunds.
    pub refunded: Money,
    /// Refunds asked for or on their way (not yet succeeded).
    pub pending: Money,
    /// What can still be refunded now: charged − succeeded − pending.
    pub refundable: Money,
    pub refunds: Vec<RefundView>,
}

impl Ledger {
    /// The ledger of an order that charged `charged` (nothing when it was never paid).
    pub fn new(status: OrderStatus, charged: Money, refunds: Vec<RefundView>) -> Ledger {
        let sum = |keep: &dyn Fn(&RefundState) -> bool| {
            refunds
                .iter()
                .filter(|r| keep(&r.status) && r.amount.currency == charged.currency)
                .map(|r| r.amount.minor)
                .sum::<i64>()
        };
        let refunded = sum(&|s| *s == RefundState::Succeeded);
        let pending = sum(&|s| s.holds_money() && *s != RefundState::Succeeded);
        let charged_minor = if status.was_paid() { charged.minor } else { 0 };
        Ledger {
            status,
            charged: Money::new(charged_minor, charged.currency),
            refunded: Money::new(refunded, charged.currency),
            pending: Money::new(pending, charged.currency),
            refundable: Money::new(
                (charged_minor - refunded - pending).max(0),
                charged.currency,
            ),
            refunds,
        }
    }
}

/// One row of the console's order list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantOrderRow {
    pub id: String,
    pub status: OrderStatus,
    pub total: Money,
    /// Unix milliseconds.
    pub created_at: i64,
    /// The account's email (none for a guest's order).
    pub email: Option<String>,
    pub payment_intent_id: Option<String>,
    /// A dispute was opened on its payment (whatever its outcome).
    pub disputed: bool,
}

/// Which orders the console's list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderFilter {
    All,
    Status(OrderStatus),
    /// Orders with a dispute (whatever its outcome).
    Disputed,
}

impl OrderFilter {
    /// `""` (all), an order status, or `disputed`; `None` for anything else.
    pub fn parse(raw: &str) -> Option<OrderFilter> {
        match raw.trim() {
            "" => Some(OrderFilter::All),
            "disputed" => Some(OrderFilter::Disputed),
            s => OrderStatus::parse(s).map(OrderFilter::Status),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderFilter::All => "",
            OrderFilter::Status(s) => s.as_str(),
            OrderFilter::Disputed => "disputed",
        }
    }

    /// Every choice the filter offers after "all".
    pub fn choices() -> impl Iterator<Item = OrderFilter> {
        OrderStatus::ALL
            .iter()
            .map(|s| OrderFilter::Status(*s))
            .chain([OrderFilter::Disputed])
    }
}

/// What a search in the order list means, from its shape: an order id, a PaymentIntent,
/// a charge, or an account's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderSearch {
    Order(String),
    PaymentIntent(String),
    Charge(String),
    Email(String),
}

impl OrderSearch {
    pub fn parse(raw: &str) -> Option<OrderSearch> {
        let q = raw.trim();
        if q.is_empty() {
            return None;
        }
        Some(if q.starts_with("pi_") {
            OrderSearch::PaymentIntent(q.to_owned())
        } else if q.starts_with("ch_") || q.starts_with("py_") {
            OrderSearch::Charge(q.to_owned())
        } else if q.contains('@') {
            OrderSearch::Email(q.to_lowercase())
        } else {
            OrderSearch::Order(q.to_owned())
        })
    }
}

/// A page of the console's order list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantOrders {
    pub orders: Vec<MerchantOrderRow>,
    /// 1-based.
    pub page: u32,
    pub has_more: bool,
}

/// One merchant action on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Unix milliseconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// The console's page of one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantOrder {
    pub order: crate::order::OrderView,
    pub email: Option<String>,
    pub payment_intent_id: Option<String>,
    pub ledger: Ledger,
    pub disputes: Vec<crate::dispute::DisputeView>,
    /// Every stored Stripe event of the order's payment, oldest first.
    pub events: Vec<crate::console::EventRow>,
    pub audit: Vec<AuditEntry>,
    /// Why the order needs the merchant's review (status `needs_review`, or a second
    /// payment on a paid order).
    #[serde(default)]
    pub review_reason: Option<String>,
}

/// The status a paid order takes from what its succeeded refunds add up to.
pub fn refunded_status(total: Money, succeeded_minor: i64) -> OrderStatus {
    if succeeded_minor >= total.minor {
        OrderStatus::Refunded
    } else if succeeded_minor > 0 {
        OrderStatus::PartiallyRefunded
    } else {
        OrderStatus::Paid
    }
}

/// An amount typed in major units ("5", "5.00", "12.5") in `currency`'s minor units.
/// Refuses signs, separators other than one `.`, more decimals than the currency has,
/// zero and absurd sizes.
pub fn parse_amount(input: &str, currency: Currency) -> Result<Money, ShopError> {
    let bad = || ShopError::InvalidAmount {
        input: input.chars().take(32).collect(),
    };
    let text = input.trim();
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let exponent = currency.exponent() as usize;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 12
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > exponent
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let mut minor = whole
        .checked_mul(10i64.pow(exponent as u32))
        .ok_or_else(bad)?;
    if !fraction.is_empty() {
        let padded = format!("{fraction:0<exponent$}");
        minor += padded.parse::<i64>().map_err(|_| bad())?;
    }
    if minor <= 0 {
        return Err(bad());
    }
    Ok(Money::new(minor, currency))
}

/// A reason from the refund form: one of Stripe's three, or none.
pub fn parse_reason(input: &str) -> Result<Option<RefundReason>, ShopError> {
    match input.trim() {
        "" => Ok(None),
        other => RefundReason::parse(other)
            .map(Some)
            .ok_or_else(|| ShopError::BadRequest(format!("unknown refund reason {other:?}"))),
    }
}

#[cfg(test)]
mod filter_tests {
    use super::*;

    #[test]
    fn filters_and_searches_read_their_shape() {
        assert_eq!(OrderFilter::parse(""), Some(OrderFilter::All));
        assert_eq!(OrderFilter::parse("disputed"), Some(OrderFilter::Disputed));
        assert_eq!(
            OrderFilter::parse("partially_refunded"),
            Some(OrderFilter::Status(OrderStatus::PartiallyRefunded))
        );
        assert_eq!(OrderFilter::parse("lost"), None);
        assert_eq!(
            OrderSearch::parse(" pi_1 "),
            Some(OrderSearch::PaymentIntent("pi_1".into()))
        );
        assert_eq!(
            OrderSearch::parse("ch_9"),
            Some(OrderSearch::Charge("ch_9".into()))
        );
        assert_eq!(
            OrderSearch::parse("Ann@Example.com"),
            Some(OrderSearch::Email("ann@example.com".into()))
        );
        assert_eq!(OrderSearch::parse("  "), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    fn refund(minor: i64, status: RefundState) -> RefundView {
        RefundView {
            id: "rf_1".into(),
            stripe_id: None,
            amount: usd(minor),
            reason: None,
            note: None,
            status,
            failure_reason: None,
            error: None,
            origin: RefundOrigin::Shop,
            requested_by: None,
            created_at: 0,
            dismissed: false,
        }
    }

    #[test]
    fn amounts_in_major_units() {
        assert_eq!(parse_amount("5", Currency::USD), Ok(usd(500)));
        assert_eq!(parse_amount("5.00", Currency::USD), Ok(usd(500)));
        assert_eq!(parse_amount(" 12.5 ", Currency::USD), Ok(usd(1250)));
        assert_eq!(parse_amount("0.01", Currency::USD), Ok(usd(1)));
        let jpy = "jpy".parse::<Currency>().unwrap();
        assert_eq!(parse_amount("500", jpy), Ok(Money::new(500, jpy)));
        for bad in [
            "",
            "0",
            "0.00",
            "-5",
            "+5",
            "5.",
            ".5",
            "5.001",
            "5,00",
            "1e3",
            "five",
            "5 00",
            "9999999999999",
        ] {
            assert!(parse_amount(bad, Currency::USD).is_err(), "{bad:?}");
        }
        assert!(parse_amount("5.5", jpy).is_err());
    }

    #[test]
    fn reasons_are_stripes_three() {
        assert_eq!(parse_reason(""), Ok(None));
        assert_eq!(
            parse_reason("fraudulent"),
            Ok(Some(RefundReason::Fraudulent))
        );
        assert!(parse_reason("because").is_err());
    }

    #[test]
    fn states_only_move_forward_and_failures_give_money_back() {
        use RefundState as R;
        assert!(R::Requested.rank() < R::Pending.rank());
        assert!(R::Pending.rank() < R::Succeeded.rank());
        assert!(R::Succeeded.rank() < R::Failed.rank());
        assert!(R::Succeeded.holds_money() && R::Requested.holds_money());
        assert!(!R::Failed.holds_money() && !R::Rejected.holds_money());
        for s in RefundStatus::ALL {
            assert_eq!(R::from_stripe(*s).as_str(), s.as_str());
        }
    }

    #[test]
    fn the_ledger_counts_each_refund_by_its_state() {
        let ledger = Ledger::new(
            OrderStatus::PartiallyRefunded,
            usd(2500),
            vec![
                refund(500, RefundState::Succeeded),
                refund(300, RefundState::Pending),
                refund(200, RefundState::Requested),
                refund(1000, RefundState::Failed),
                refund(700, RefundState::Rejected),
            ],
        );
        assert_eq!(ledger.refunded, usd(500));
        assert_eq!(ledger.pending, usd(500));
        assert_eq!(ledger.refundable, usd(1500));
        // Never paid: nothing to refund.
        let unpaid = Ledger::new(OrderStatus::Pending, usd(2500), vec![]);
        assert_eq!(unpaid.refundable, usd(0));
    }

    #[test]
    fn status_from_succeeded_refunds() {
        assert_eq!(refunded_status(usd(2500), 0), OrderStatus::Paid);
        assert_eq!(
            refunded_status(usd(2500), 500),
            OrderStatus::PartiallyRefunded
        );
        assert_eq!(refunded_status(usd(2500), 2500), OrderStatus::Refunded);
    }
}
