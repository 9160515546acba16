//! Reconciliation runs and their drift report, and the states a run compares (the shop's
//! record of a PaymentIntent, refund, dispute or payout, read by Stripe id).

use std::collections::HashSet;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_ms, placeholders, Store, StoreError};
use crate::console::{Drift, ReconciliationReport, ReconciliationRun};
use crate::ids::OrderId;
use crate::order::OrderStatus;
use crate::refund::RefundState;

/// What a finished run found.
#[derive(Debug, Clone, Default)]
pub struct RunTotals {
    pub events_read: i64,
    pub events_missed: i64,
    pub objects_checked: i64,
    pub drifts: i64,
    /// The newest event read, and its `created`.
    pub cursor: Option<(String, i64)>,
}

const RUN_COLUMNS: &str = "id, started_by, started_at, finished_at, events_read, \
                           events_missed, objects_checked, drifts, error";

fn row_to_run(row: &AnyRow) -> Result<ReconciliationRun, StoreError> {
    Ok(ReconciliationRun {
        id: row.try_get("id")?,
        started_by: row.try_get("started_by")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        events_read: row.try_get("events_read")?,
        events_missed: row.try_get("events_missed")?,
        objects_checked: row.try_get("objects_checked")?,
        drifts: row.try_get("drifts")?,
        error: row.try_get("error")?,
    })
}

impl Store {
    pub async fn start_reconciliation(&self, id: &str, started_by: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO reconciliations (id, started_by, started_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(started_by)
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends a run: its totals, and either its cursor (the next run reads after it) or
    /// the error that stopped it (the next run starts from the previous cursor).
    pub async fn finish_reconciliation(
        &self,
        id: &str,
        totals: &RunTotals,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let (cursor, created) = match (&totals.cursor, error) {
            (Some((id, created)), None) => (Some(id.as_str()), Some(*created)),
            _ => (None, None),
        };
        sqlx::query(
            "UPDATE reconciliations SET finished_at = $1, events_read = $2, events_missed = $3, \
             objects_checked = $4, drifts = $5, cursor_event = $6, cursor_created = $7, \
             error = $8 WHERE id = $9",
        )
        .bind(now_ms())
        .bind(totals.events_read)
        .bind(totals.events_missed)
        .bind(totals.objects_checked)
        .bind(totals.drifts)
        .bind(cursor)
        .bind(created)
        .bind(error)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The newest event a successful run read (its id and `created`).
    pub async fn reconciliation_cursor(&self) -> Result<Option<(String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT cursor_event, cursor_created FROM reconciliations \
             WHERE cursor_event IS NOT NULL ORDER BY cursor_created DESC, finished_at DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((r.try_get("cursor_event")?, r.try_get("cursor_created")?)))
            .transpose()
    }

    pub async fn record_drift(&self, drift: &Drift) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO reconciliation_drift (run_id, object_id, kind, order_id, shop_state, \
             stripe_state, resolved, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (run_id, object_id) DO NOTHING",
        )
        .bind(&drift.run_id)
        .bind(&drift.object_id)
        .bind(&drift.kind)
        .bind(drift.order_id.as_ref().map(OrderId::as_str))
        .bind(&drift.shop_state)
        .bind(&drift.stripe_state)
        .bind(i64::from(drift.resolved))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One run, as it stands.
    pub async fn reconciliation_run(&self, id: &str) -> Result<ReconciliationRun, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM reconciliations WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        row_to_run(&row)
    }

    /// The latest runs and the differences the latest of them found.
    pub async fn reconciliation_report(
        &self,
        runs: i64,
    ) -> Result<ReconciliationReport, StoreError> {
        let runs = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM reconciliations ORDER BY started_at DESC, id DESC LIMIT $1"
        ))
        .bind(runs)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row_to_run)
        .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        let drift = if ids.is_empty() {
            Vec::new()
        } else {
            let sql = format!(
                "SELECT run_id, object_id, kind, order_id, shop_state, stripe_state, resolved \
                 FROM reconciliation_drift WHERE run_id IN ({}) ORDER BY at DESC, object_id LIMIT 500",
                placeholders(1, ids.len())
            );
            let mut query = sqlx::query(&sql);
            for id in &ids {
                query = query.bind(*id);
            }
            query
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| {
                    Ok(Drift {
                        run_id: r.try_get("run_id")?,
                        object_id: r.try_get("object_id")?,
                        kind: r.try_get("kind")?,
                        order_id: r
                            .try_get::<Option<String>, _>("order_id")?
                            .map(|id| super::order_id(&id))
                            .transpose()?,
                        shop_state: r.try_get("shop_state")?,
                        stripe_state: r.try_get("stripe_state")?,
                        resolved: r.try_get::<i64, _>("resolved")? != 0,
                    })
                })
                .collect::<Result<_, StoreError>>()?
        };
        Ok(ReconciliationReport { runs, drift })
    }

    /// Which of these event ids are already stored.
    pub async fn known_events(&self, ids: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut known = HashSet::new();
        for chunk in ids.chunks(100) {
            let sql = format!(
                "SELECT id FROM stripe_events WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(self.pool()).await? {
                known.insert(row.try_get("id")?);
            }
        }
        Ok(known)
    }

    /// PaymentIntents of orders created since `since_ms` whose payment can still change
    /// (pending, processing, failed).
    pub async fn payments_in_flight(&self, since_ms: i64) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT payment_intent_id FROM orders WHERE payment_intent_id IS NOT NULL \
             AND created_at >= $1 AND status IN ($2, $3, $4) ORDER BY created_at",
        )
        .bind(since_ms)
        .bind(OrderStatus::Pending.as_str())
        .bind(OrderStatus::Processing.as_str())
        .bind(OrderStatus::Failed.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok(r.try_get("payment_intent_id")?))
        .collect()
    }

    /// Refunds Stripe has not decided yet (`pending`, `requires_action`), by `re_` id.
    pub async fn refunds_in_flight(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT stripe_id FROM refunds WHERE stripe_id IS NOT NULL AND status IN ($1, $2) \
             ORDER BY created_at",
        )
        .bind(RefundState::Pending.as_str())
        .bind(RefundState::RequiresAction.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok(r.try_get("stripe_id")?))
        .collect()
    }

    /// The order paid by a PaymentIntent, and its status.
    pub async fn order_state_by_payment(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<(OrderId, OrderStatus)>, StoreError> {
        let row = sqlx::query("SELECT id, status FROM orders WHERE payment_intent_id = $1")
            .bind(payment_intent_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok((
                super::order_id(&r.try_get::<String, _>("id")?)?,
                super::order_status(&r.try_get::<String, _>("status")?)?,
            ))
        })
        .transpose()
    }

    /// A refund's stored status by its `re_` id, and its order.
    pub async fn refund_state(
        &self,
        stripe_id: &str,
    ) -> Result<Option<(OrderId, String)>, StoreError> {
        let row = sqlx::query("SELECT order_id, status FROM refunds WHERE stripe_id = $1")
            .bind(stripe_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok((
                super::order_id(&r.try_get::<String, _>("order_id")?)?,
                r.try_get("status")?,
            ))
        })
        .transpose()
    }
}
