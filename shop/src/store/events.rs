//! Verified Stripe events, stored once by id before they are acknowledged, and the
//! bookkeeping of turning them into order state (processed, attempts, the backlog).

use sqlx::Row;

use super::{now_ms, Store, StoreError};

/// What the events table keeps of an event besides its payload.
#[derive(Debug, Clone, Copy)]
pub struct EventRecord<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    /// Unix seconds.
    pub created: i64,
    /// `data.object.id`.
    pub object_id: Option<&'a str>,
    /// The PaymentIntent the object belongs to (its own id for a PaymentIntent).
    pub payment_intent_id: Option<&'a str>,
}

impl Store {
    /// Stores a verified Stripe event unless its id is already stored; `true` if new.
    /// `processed`: nothing more is to be done with it (a type the shop does not use).
    pub async fn record_event(
        &self,
        event: &EventRecord<'_>,
        payload: &str,
        processed: bool,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO stripe_events (id, type, created, payload, received_at, processed_at, \
             object_id, payment_intent_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(event.id)
        .bind(event.kind)
        .bind(event.created)
        .bind(payload)
        .bind(now)
        .bind(processed.then_some(now))
        .bind(event.object_id)
        .bind(event.payment_intent_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a stored event as turned into order state.
    pub async fn mark_event_processed(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE stripe_events SET processed_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Whether a stored event still waits to be processed.
    pub async fn event_unprocessed(&self, id: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query(
                "SELECT 1 AS one FROM stripe_events WHERE id = $1 AND processed_at IS NULL",
            )
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .is_some(),
        )
    }

    /// Counts a failed processing attempt of a stored event, and why it failed; returns
    /// the attempts so far.
    pub async fn event_attempt_failed(&self, id: &str, error: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE stripe_events SET attempts = attempts + 1, last_error = $1 WHERE id = $2 \
             RETURNING attempts",
        )
        .bind(error)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("attempts")).transpose()?.unwrap_or(0))
    }

    /// Stored events not yet processed that arrived before `before_ms` and failed fewer
    /// than `max_attempts` times, oldest first (one that keeps failing is parked, for a
    /// human, instead of holding up the others).
    pub async fn unprocessed_events(
        &self,
        before_ms: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, payload FROM stripe_events WHERE processed_at IS NULL AND received_at < $1 \
             AND attempts < $2 ORDER BY received_at LIMIT $3",
        )
        .bind(before_ms)
        .bind(max_attempts)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("payload")?)))
            .collect()
    }
}
