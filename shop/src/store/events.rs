//! Verified Stripe events, stored once by id before they are acknowledged, and the
//! bookkeeping of turning them into order state (processed, attempts, the backlog).

use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

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
        self.event_writer
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
        self.event_writer
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

/// An event row to insert.
#[derive(Debug)]
struct NewEvent {
    id: String,
    kind: String,
    created: i64,
    payload: String,
    received_at: i64,
    processed_at: Option<i64>,
    object_id: Option<String>,
    payment_intent_id: Option<String>,
}

/// A write the group commit makes.
#[derive(Debug)]
enum Write {
    /// `true` when the row is new (not a duplicate delivery).
    Insert(Box<NewEvent>),
    Processed {
        id: String,
        at: i64,
    },
}

/// Writes per transaction, at most.
const GROUP: usize = 64;

/// Group commit: one task writes the events table's inserts and "processed" marks,
/// taking every write that arrived while the previous transaction committed into the
/// next one. Under load, many webhook deliveries share one commit (one fsync with
/// `synchronous=FULL`) instead of paying one each; alone, a write commits at once.
/// Each caller gets its own answer once the transaction holding its write committed.
///
/// Written here rather than taken from a library: no crate does group commit over
/// sqlx, and the loop is a dozen lines.
#[derive(Clone, Debug)]
pub(crate) struct EventWriter {
    queue: mpsc::Sender<(Write, Reply)>,
}

type Reply = oneshot::Sender<Result<bool, StoreError>>;

impl EventWriter {
    /// Starts the writer task (it ends when the last [`Store`] is dropped).
    pub(crate) fn start(pool: AnyPool) -> EventWriter {
        let (queue, mut incoming) = mpsc::channel::<(Write, Reply)>(1024);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(GROUP);
            while incoming.recv_many(&mut batch, GROUP).await > 0 {
                let writes: Vec<_> = std::mem::take(&mut batch);
                let (ops, replies): (Vec<Write>, Vec<Reply>) = writes.into_iter().unzip();
                match commit(&pool, &ops).await {
                    Ok(results) => {
                        for (reply, result) in replies.into_iter().zip(results) {
                            let _ = reply.send(Ok(result));
                        }
                    }
                    Err(error) => {
                        let text = error.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Batch(text.clone())));
                        }
                    }
                }
            }
        });
        EventWriter { queue }
    }

    async fn write(&self, op: Write) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError::Batch("the event writer has stopped".into());
        self.queue.send((op, reply)).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// One transaction for a batch of writes; for each, whether it changed a row.
async fn commit(pool: &AnyPool, ops: &[Write]) -> Result<Vec<bool>, StoreError> {
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        let done = match op {
            Write::Insert(e) => {
                sqlx::query(
                    "INSERT INTO stripe_events (id, type, created, payload, received_at, \
                     processed_at, object_id, payment_intent_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&e.id)
                .bind(&e.kind)
                .bind(e.created)
                .bind(&e.payload)
                .bind(e.received_at)
                .bind(e.processed_at)
                .bind(&e.object_id)
                .bind(&e.payment_intent_id)
                .execute(&mut *tx)
                .await?
            }
            Write::Processed { id, at } => {
                sqlx::query("UPDATE stripe_events SET processed_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
            }
        };
        results.push(done.rows_affected() == 1);
    }
    tx.commit().await?;
    Ok(results)
}
