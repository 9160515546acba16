//! Payouts by `po_` id: Stripe's word (events and retrieves) stored through one upsert
//! that never moves a row back.

use sqlx::any::AnyRow;
use sqlx::Row;
use stripe_client::Payout;
use stripe_types::Money;

use super::{currency, now_ms, Store, StoreError};
use crate::payout::{status_rank, PayoutView};

const COLUMNS: &str = "id, amount_minor, currency, status, arrival_date, automatic, \
                       failure_code, failure_message, created_at";

fn row_to_payout(row: &AnyRow) -> Result<PayoutView, StoreError> {
    let code: String = row.try_get("currency")?;
    Ok(PayoutView {
        id: row.try_get("id")?,
        amount: Money::new(row.try_get("amount_minor")?, currency(&code)?),
        status: row.try_get("status")?,
        arrival_date: row.try_get("arrival_date")?,
        automatic: row.try_get::<i64, _>("automatic")? != 0,
        failure_code: row.try_get("failure_code")?,
        failure_message: row.try_get("failure_message")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Stores Stripe's payout as of `at` (Unix seconds: the event's `created`, or now for
    /// a retrieve): new, or newer than what is stored — and, from the same second, never
    /// an earlier step of the lifecycle. Returns whether the row changed.
    pub async fn apply_payout(&self, payout: &Payout, at: i64) -> Result<bool, StoreError> {
        let status = payout.status.as_wire();
        let changed = sqlx::query(
            "INSERT INTO payouts (id, amount_minor, currency, status, status_rank, arrival_date, \
             automatic, failure_code, failure_message, fact_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             status_rank = excluded.status_rank, amount_minor = excluded.amount_minor, \
             arrival_date = excluded.arrival_date, failure_code = excluded.failure_code, \
             failure_message = excluded.failure_message, fact_at = excluded.fact_at, \
             updated_at = excluded.updated_at \
             WHERE payouts.fact_at < excluded.fact_at \
             OR (payouts.fact_at = excluded.fact_at AND payouts.status_rank < excluded.status_rank)",
        )
        .bind(&payout.id)
        .bind(payout.amount)
        .bind(payout.currency.code())
        .bind(&status)
        .bind(status_rank(&status))
        .bind(payout.arrival_date)
        .bind(i64::from(payout.automatic))
        .bind(&payout.failure_code)
        .bind(&payout.failure_message)
        .bind(at)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(changed.rows_affected() == 1)
    }

    /// Payouts, newest first (one page).
    pub async fn payouts(&self, limit: i64) -> Result<Vec<PayoutView>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payouts ORDER BY created_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row_to_payout)
        .collect()
    }

    /// Failed payouts of the last `since_ms` (the dashboard flags them).
    pub async fn failed_payouts(&self, since_ms: i64) -> Result<Vec<PayoutView>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM payouts WHERE status = $1 AND updated_at >= $2 \
             ORDER BY updated_at DESC LIMIT 20"
        ))
        .bind("failed")
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row_to_payout)
        .collect()
    }

    /// One payout's stored status, if the shop knows it.
    pub async fn payout_status(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query("SELECT status FROM payouts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get("status"))
            .transpose()?)
    }

    /// Payouts whose status can still change (`pending`, `in_transit`, `paid`), for the
    /// reconciliation.
    pub async fn payouts_in_flight(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query("SELECT id FROM payouts WHERE status NOT IN ($1, $2) ORDER BY created_at")
            .bind("failed")
            .bind("canceled")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok(r.try_get("id")?))
            .collect()
    }
}
