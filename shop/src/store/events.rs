//! Verified Stripe events, stored once by id before they are acknowledged, and the
//! bookkeeping of turning them into order state (processed, attempts, the backlog).

use sqlx::Row;

use super::writer::{NewEvent, Write};
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
    /// Durable when it returns (the webhook's 2xx may follow): written through the group
    /// commit, one transaction — one fsync — for every delivery arriving meanwhile.
    pub async fn record_event(
        &self,
        event: &EventRecord<'_>,
        payload: &str,
        processed: bool,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        self.writer
            .write(Write::Insert(Box::new(NewEvent {
                id: event.id.to_owned(),
                kind: event.kind.to_owned(),
                created: event.created,
                payload: payload.to_owned(),
                received_at: now,
                processed_at: processed.then_some(now),
                object_id: event.object_id.map(str::to_owned),
                payment_intent_id: event.payment_intent_id.map(str::to_owned),
            })))
            .await
    }

    /// Marks a stored event as turned into order state (through the group commit).
    pub async fn mark_event_processed(&self, id: &str) -> Result<(), StoreError> {
        self.writer
            .write(Write::Processed {
                id: id.to_owned(),
                at: now_ms(),
            })
            .await
            .map(|_| ())
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
