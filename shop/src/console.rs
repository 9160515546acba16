//! The merchant console's dashboard, events page and reconciliation report as both
//! sides see them, pure: the figures, and the geometry of the dashboard's SVG chart.

use serde::{Deserialize, Serialize};
use stripe_types::{Currency, Money};

use crate::dispute::DisputeView;
use crate::ids::OrderId;
use crate::payout::PayoutView;

/// Days the dashboard covers.
pub const DASHBOARD_DAYS: i64 = 30;
pub const DAY_MS: i64 = 86_400_000;

/// One stored Stripe event as the events page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub kind: String,
    pub object_id: Option<String>,
    pub order_id: Option<OrderId>,
    /// Unix seconds (Stripe's `created`).
    pub created: i64,
    /// Unix milliseconds.
    pub received_at: i64,
    pub processed_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Failed too often: waits for a human ("process again").
    pub parked: bool,
}

/// A page of the events list, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<EventRow>,
    /// 1-based.
    pub page: u32,
    pub has_more: bool,
    /// Only parked events are listed.
    pub parked_only: bool,
}

/// One day's money in one currency (minor units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// Unix milliseconds of the day's start (UTC).
    pub day: i64,
    /// Paid orders, by the day they were paid.
    pub gross: i64,
    /// Succeeded refunds, by the day they were asked for.
    pub refunded: i64,
    /// Taken back by disputes (withdrawn − reinstated), by the dispute's day.
    pub disputed: i64,
}

impl DayFigures {
    pub fn net(&self) -> i64 {
        self.gross - self.refunded - self.disputed
    }
}

/// One currency's days (never summed with another currency's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencySeries {
    pub currency: Currency,
    /// Every day of the period, oldest first (days without money are zeros).
    pub days: Vec<DayFigures>,
}

impl CurrencySeries {
    pub fn total(&self) -> DayFigures {
        self.days
            .iter()
            .fold(DayFigures::default(), |t, d| DayFigures {
                day: t.day,
                gross: t.gross + d.gross,
                refunded: t.refunded + d.refunded,
                disputed: t.disputed + d.disputed,
            })
    }

    pub fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.currency)
    }
}

/// What the dashboard shows: the last [`DASHBOARD_DAYS`] days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Unix milliseconds of the first day's start.
    pub since: i64,
    pub series: Vec<CurrencySeries>,
    /// Orders of the period that reached Stripe (have a PaymentIntent)…
    pub attempted: i64,
    /// …and those of them that were paid.
    pub paid: i64,
    /// Decline codes of the period's orders (the last one each order saw), most frequent
    /// first.
    pub declines: Vec<(String, i64)>,
    pub open_disputes: i64,
    /// The open dispute whose evidence is due first.
    pub nearest_dispute: Option<DisputeView>,
    pub actionable_warnings: i64,
    pub failed_refunds: i64,
    pub parked_events: i64,
    /// Orders Stripe said something unfulfillable about (`orders.review_reason`).
    pub needs_review: i64,
    pub failed_payouts: Vec<PayoutView>,
}

impl Dashboard {
    /// Paid ÷ attempted, as a whole percentage (`None` with no attempt).
    pub fn success_percent(&self) -> Option<i64> {
        (self.attempted > 0).then(|| (self.paid * 100 + self.attempted / 2) / self.attempted)
    }
}

/// The series a chart line draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Gross,
    Refunded,
    Disputed,
    Net,
}

impl Measure {
    pub const ALL: [Measure; 4] = [
        Measure::Gross,
        Measure::Refunded,
        Measure::Disputed,
        Measure::Net,
    ];

    pub fn label(&self) -> &'static str {
        match self {
            Measure::Gross => "gross",
            Measure::Refunded => "refunded",
            Measure::Disputed => "disputed",
            Measure::Net => "net",
        }
    }

    pub fn of(&self, day: &DayFigures) -> i64 {
        match self {
            Measure::Gross => day.gross,
            Measure::Refunded => day.refunded,
            Measure::Disputed => day.disputed,
            Measure::Net => day.net(),
        }
    }
}

/// The chart's drawing area, in SVG user units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub width: i64,
    pub height: i64,
    /// Space left of the plot for the axis labels, above it, and below it.
    pub left: i64,
    pub top: i64,
    pub bottom: i64,
}

impl Frame {
    pub const CHART: Frame = Frame {
        width: 640,
        height: 220,
        left: 56,
        top: 12,
        bottom: 24,
    };

    /// The values' scale: from the lowest (0 or below) to the highest (at least 1).
    pub fn range(series: &CurrencySeries) -> (i64, i64) {
        let values = series
            .days
            .iter()
            .flat_map(|d| Measure::ALL.map(|m| m.of(d)));
        let (low, high) = values.fold((0, 1), |(lo, hi), v| (lo.min(v), hi.max(v)));
        (low, high)
    }

    /// The y of a value, between the plot's top (highest) and bottom (lowest).
    pub fn y(&self, value: i64, (low, high): (i64, i64)) -> i64 {
        let plot = self.height - self.bottom - self.top;
        let span = (high - low).max(1);
        self.top + plot - (value - low) * plot / span
    }

    /// The x of the `i`th of `n` days.
    pub fn x(&self, i: usize, n: usize) -> i64 {
        let plot = self.width - self.left - 8;
        let steps = (n.max(2) - 1) as i64;
        self.left + i as i64 * plot / steps
    }

    /// An SVG `points` attribute: one measure of every day.
    pub fn points(&self, series: &CurrencySeries, measure: Measure) -> String {
        let range = Frame::range(series);
        let n = series.days.len();
        series
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| format!("{},{}", self.x(i, n), self.y(measure.of(d), range)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One reconciliation run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationRun {
    pub id: String,
    pub started_by: String,
    /// Unix milliseconds.
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub events_read: i64,
    /// Events the webhook never delivered, applied by this run.
    pub events_missed: i64,
    pub objects_checked: i64,
    pub drifts: i64,
    pub error: Option<String>,
}

/// One difference a run found between the shop's record and Stripe's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub run_id: String,
    pub object_id: String,
    /// `payment`, `refund`, `dispute` or `payout`.
    pub kind: String,
    pub order_id: Option<OrderId>,
    /// What the shop had before the run (`unknown`: it had nothing).
    pub shop_state: String,
    /// What Stripe says.
    pub stripe_state: String,
    /// The shop matches Stripe after the run.
    pub resolved: bool,
}

/// The reconciliation page: the latest runs and what they found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationReport {
    pub runs: Vec<ReconciliationRun>,
    pub drift: Vec<Drift>,
}

/// The console's server side: the dashboard's figures and "process again".
#[cfg(feature = "server")]
pub mod service {
    use stripe_client::Event;

    use super::{Dashboard, DASHBOARD_DAYS, DAY_MS};
    use crate::error::ShopError;
    use crate::refunds::Merchant;
    use crate::store::Store;
    use crate::stripe_events::{self, EventHandlers};

    /// The last [`DASHBOARD_DAYS`] days (UTC, today included) at `now_ms`.
    pub async fn dashboard(store: &Store, now_ms: i64) -> Result<Dashboard, ShopError> {
        let since = (now_ms.div_euclid(DAY_MS) - (DASHBOARD_DAYS - 1)) * DAY_MS;
        let series = store.money_by_day(since, DASHBOARD_DAYS).await?;
        let (attempted, paid, declines) = store.payment_outcomes(since).await?;
        let (open_disputes, nearest_dispute) = store.open_disputes().await?;
        Ok(Dashboard {
            since,
            series,
            attempted,
            paid,
            declines,
            open_disputes,
            nearest_dispute,
            actionable_warnings: store.actionable_warning_count().await?,
            failed_refunds: store.refund_queue_len().await?,
            parked_events: store.parked_event_count().await?,
            needs_review: store.review_count().await?,
            failed_payouts: store.failed_payouts(since).await?,
        })
    }

    /// Processes a parked (or unprocessed) event again, from its stored payload, with its
    /// attempts counted afresh; recorded in the audit trail. `true` when it is processed
    /// now; [`ShopError::NotFound`] when there is no such unprocessed event.
    pub async fn process_again(
        store: &Store,
        handlers: &EventHandlers,
        merchant: &Merchant,
        event_id: &str,
    ) -> Result<bool, ShopError> {
        let payload = store
            .requeue_event(event_id)
            .await?
            .ok_or(ShopError::NotFound)?;
        store
            .audit(None, &merchant.email, "event processed again", event_id)
            .await?;
        match serde_json::from_str::<Event>(&payload) {
            Ok(event) => stripe_events::process(store, handlers, &event).await,
            Err(error) => {
                tracing::error!(%error, event_id, "stored event does not parse; marked processed");
                store.mark_event_processed(event_id).await?;
            }
        }
        Ok(!store.event_unprocessed(event_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[(i64, i64, i64)]) -> CurrencySeries {
        CurrencySeries {
            currency: Currency::USD,
            days: values
                .iter()
                .enumerate()
                .map(|(i, &(gross, refunded, disputed))| DayFigures {
                    day: i as i64 * DAY_MS,
                    gross,
                    refunded,
                    disputed,
                })
                .collect(),
        }
    }

    #[test]
    fn net_is_what_stays_after_refunds_and_disputes() {
        let s = series(&[(5000, 500, 0), (1000, 0, 2000)]);
        assert_eq!(s.days[0].net(), 4500);
        assert_eq!(s.days[1].net(), -1000);
        let t = s.total();
        assert_eq!(
            (t.gross, t.refunded, t.disputed, t.net()),
            (6000, 500, 2000, 3500)
        );
    }

    #[test]
    fn the_chart_spans_the_frame_and_shows_losses_below_zero() {
        let s = series(&[(0, 0, 0), (4000, 0, 0), (0, 0, 1000)]);
        let f = Frame::CHART;
        let range = Frame::range(&s);
        assert_eq!(range, (-1000, 4000));
        // The highest value at the top, the lowest at the plot's bottom.
        assert_eq!(f.y(4000, range), f.top);
        assert_eq!(f.y(-1000, range), f.height - f.bottom);
        assert!(f.y(0, range) < f.height - f.bottom);
        let gross = f.points(&s, Measure::Gross);
        assert_eq!(gross.split(' ').count(), 3);
        assert!(gross.starts_with(&format!("{},", f.left)));
        assert!(gross.contains(&format!("{},{}", f.x(1, 3), f.top)));
    }

    #[test]
    fn an_empty_period_draws_flat_lines_and_has_no_rate() {
        let s = series(&[(0, 0, 0), (0, 0, 0)]);
        let f = Frame::CHART;
        let bottom = f.height - f.bottom;
        assert_eq!(
            f.points(&s, Measure::Net),
            format!("{},{bottom} {},{bottom}", f.x(0, 2), f.x(1, 2))
        );
        let d = Dashboard {
            since: 0,
            series: vec![],
            attempted: 0,
            paid: 0,
            declines: vec![],
            open_disputes: 0,
            nearest_dispute: None,
            actionable_warnings: 0,
            failed_refunds: 0,
            parked_events: 0,
            needs_review: 0,
            failed_payouts: vec![],
        };
        assert_eq!(d.success_percent(), None);
        assert_eq!(
            Dashboard {
                attempted: 3,
                paid: 2,
                ..d
            }
            .success_percent(),
            Some(67)
        );
    }
}
