//! The console's reading queries: the dashboard's money per day and payment outcomes,
//! the events page and an order's event timeline. Each is one indexed query (no query per
//! row): the console stays fast over hundreds of thousands of orders and events.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{currency, Store, StoreError};
use crate::console::{CurrencySeries, DayFigures, EventRow, EventsPage, DAY_MS};
use crate::order::OrderStatus;
use crate::refund::RefundState;
use crate::stripe_events::MAX_ATTEMPTS;

const EVENT_COLUMNS: &str = "e.id, e.type, e.object_id, e.created, e.received_at, \
                             e.processed_at, e.attempts, e.last_error, o.id AS order_id";

fn row_to_event(row: &AnyRow) -> Result<EventRow, StoreError> {
    let processed_at: Option<i64> = row.try_get("processed_at")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(EventRow {
        id: row.try_get("id")?,
        kind: row.try_get("type")?,
        object_id: row.try_get("object_id")?,
        order_id: row
            .try_get::<Option<String>, _>("order_id")?
            .map(|id| super::order_id(&id))
            .transpose()?,
        created: row.try_get("created")?,
        received_at: row.try_get("received_at")?,
        processed_at,
        attempts,
        last_error: row.try_get("last_error")?,
        parked: processed_at.is_none() && attempts >= MAX_ATTEMPTS,
    })
}

/// Money per (currency, day) from one grouped query.
type Sums = BTreeMap<(String, i64), i64>;

impl Store {
    /// A page of stored events, newest received first; `parked_only`: those that failed
    /// [`MAX_ATTEMPTS`] times and wait for a human.
    pub async fn events_page(
        &self,
        parked_only: bool,
        page: u32,
        per_page: u32,
    ) -> Result<EventsPage, StoreError> {
        let page = page.max(1);
        let filter = if parked_only {
            "WHERE e.processed_at IS NULL AND e.attempts >= $3"
        } else {
            "WHERE $3 = $3"
        };
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM stripe_events e \
             LEFT JOIN orders o ON o.payment_intent_id = e.payment_intent_id {filter} \
             ORDER BY e.received_at DESC, e.id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(i64::from(per_page) + 1)
        .bind(i64::from(page - 1) * i64::from(per_page))
        .bind(MAX_ATTEMPTS)
        .fetch_all(self.pool())
        .await?;
        let has_more = rows.len() > per_page as usize;
        let events = rows
            .iter()
            .take(per_page as usize)
            .map(row_to_event)
            .collect::<Result<_, _>>()?;
        Ok(EventsPage {
            events,
            page,
            has_more,
            parked_only,
        })
    }

    /// Every stored event of a PaymentIntent's objects, oldest first (an order's timeline).
    pub async fn payment_events(
        &self,
        payment_intent_id: &str,
    ) -> Result<Vec<EventRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM stripe_events e \
             LEFT JOIN orders o ON o.payment_intent_id = e.payment_intent_id \
             WHERE e.payment_intent_id = $1 ORDER BY e.created, e.received_at, e.id LIMIT 500"
        ))
        .bind(payment_intent_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row_to_event)
        .collect()
    }

    /// How many events are parked.
    pub async fn parked_event_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM stripe_events WHERE processed_at IS NULL AND attempts >= $1",
        )
        .bind(MAX_ATTEMPTS)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?)
    }

    /// A parked (or otherwise unprocessed) event's payload, its attempts reset so that
    /// processing it again counts afresh; `None` when it is processed or unknown.
    pub async fn requeue_event(&self, id: &str) -> Result<Option<String>, StoreError> {
        let reset = sqlx::query(
            "UPDATE stripe_events SET attempts = 0, last_error = NULL \
             WHERE id = $1 AND processed_at IS NULL",
        )
        .bind(id)
        .execute(self.pool())
        .await?;
        if reset.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(
            sqlx::query("SELECT payload FROM stripe_events WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get("payload"))
                .transpose()?,
        )
    }

    /// Gross, refunded and disputed money per currency and UTC day from `since_ms` (the
    /// start of a day) for `days` days; every day present, currencies kept apart.
    pub async fn money_by_day(
        &self,
        since_ms: i64,
        days: i64,
    ) -> Result<Vec<CurrencySeries>, StoreError> {
        let paid = [
            OrderStatus::Paid,
            OrderStatus::PartiallyRefunded,
            OrderStatus::Refunded,
        ];
        let mut gross = sqlx::query(
            "SELECT currency, paid_at / $1 AS day, CAST(SUM(total_minor) AS BIGINT) AS minor \
             FROM orders WHERE paid_at >= $2 AND status IN ($3, $4, $5) GROUP BY 1, 2",
        )
        .bind(DAY_MS)
        .bind(since_ms);
        for status in &paid {
            gross = gross.bind(status.as_str());
        }
        let gross = sums(gross.fetch_all(self.pool()).await?)?;
        let refunded = sums(
            sqlx::query(
                "SELECT currency, created_at / $1 AS day, CAST(SUM(amount_minor) AS BIGINT) AS minor \
                 FROM refunds WHERE created_at >= $2 AND status = $3 \
                 GROUP BY 1, 2",
            )
            .bind(DAY_MS)
            .bind(since_ms)
            .bind(RefundState::Succeeded.as_str())
            .fetch_all(self.pool())
            .await?,
        )?;
        let disputed = sums(
            sqlx::query(
                "SELECT currency, created_at / $1 AS day, \
                 CAST(SUM(withdrawn_minor - reinstated_minor) AS BIGINT) AS minor \
                 FROM disputes WHERE created_at >= $2 GROUP BY 1, 2",
            )
            .bind(DAY_MS)
            .bind(since_ms)
            .fetch_all(self.pool())
            .await?,
        )?;
        let mut codes: Vec<&String> = gross
            .keys()
            .chain(refunded.keys())
            .chain(disputed.keys())
            .map(|(code, _)| code)
            .collect();
        codes.sort();
        codes.dedup();
        let first = since_ms / DAY_MS;
        codes
            .into_iter()
            .map(|code| {
                let figures = (first..first + days)
                    .map(|day| {
                        let key = (code.clone(), day);
                        DayFigures {
                            day: day * DAY_MS,
                            gross: gross.get(&key).copied().unwrap_or(0),
                            refunded: refunded.get(&key).copied().unwrap_or(0),
                            disputed: disputed.get(&key).copied().unwrap_or(0),
                        }
                    })
                    .collect();
                Ok(CurrencySeries {
                    currency: currency(code)?,
                    days: figures,
                })
            })
            .collect()
    }

    /// Orders created since `since_ms` that reached Stripe (have a PaymentIntent), those of
    /// them paid, and their last decline codes by frequency.
    pub async fn payment_outcomes(
        &self,
        since_ms: i64,
    ) -> Result<(i64, i64, Vec<(String, i64)>), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS attempted, \
             CAST(COALESCE(SUM(CASE WHEN status IN ($2, $3, $4) THEN 1 ELSE 0 END), 0) AS BIGINT) AS paid \
             FROM orders WHERE created_at >= $1 AND payment_intent_id IS NOT NULL",
        )
        .bind(since_ms)
        .bind(OrderStatus::Paid.as_str())
        .bind(OrderStatus::PartiallyRefunded.as_str())
        .bind(OrderStatus::Refunded.as_str())
        .fetch_one(self.pool())
        .await?;
        let declines = sqlx::query(
            "SELECT failure_code, COUNT(*) AS n FROM orders \
             WHERE created_at >= $1 AND failure_code IS NOT NULL \
             GROUP BY failure_code ORDER BY COUNT(*) DESC, failure_code LIMIT 10",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("failure_code")?, r.try_get("n")?)))
        .collect::<Result<_, StoreError>>()?;
        Ok((row.try_get("attempted")?, row.try_get("paid")?, declines))
    }
}

fn sums(rows: Vec<AnyRow>) -> Result<Sums, StoreError> {
    rows.iter()
        .map(|r| {
            Ok((
                (
                    r.try_get::<String, _>("currency")?,
                    r.try_get::<i64, _>("day")?,
                ),
                r.try_get::<i64, _>("minor")?,
            ))
        })
        .collect()
}
