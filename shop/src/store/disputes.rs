//! Disputes by `dp_` id: Stripe's word (events, retrieves, the answers to the console's
//! own calls) stored through one upsert that never moves a row back.

use sqlx::any::AnyRow;
use sqlx::Row;
use stripe_client::Dispute;
use stripe_types::{DisputeStatus, Money};

use super::{currency, now_ms, Store, StoreError};
use crate::dispute::DisputeView;
use crate::error::ShopError;
use crate::ids::OrderId;

/// Money the bank moved with the fact (the `funds_withdrawn` / `funds_reinstated` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funds {
    None,
    Withdrawn,
    Reinstated,
}

const COLUMNS: &str = "id, order_id, payment_intent_id, amount_minor, currency, reason, status, \
                       due_by, has_evidence, past_due, submission_count, evidence_text, \
                       withdrawn_minor, reinstated_minor";

fn row_to_dispute(row: &AnyRow) -> Result<DisputeView, StoreError> {
    let code: String = row.try_get("currency")?;
    let currency = currency(&code)?;
    Ok(DisputeView {
        id: row.try_get("id")?,
        order_id: row
            .try_get::<Option<String>, _>("order_id")?
            .map(|id| super::order_id(&id))
            .transpose()?,
        payment_intent_id: row.try_get("payment_intent_id")?,
        amount: Money::new(row.try_get("amount_minor")?, currency),
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        due_by: row.try_get("due_by")?,
        has_evidence: row.try_get::<i64, _>("has_evidence")? != 0,
        past_due: row.try_get::<i64, _>("past_due")? != 0,
        submission_count: row.try_get("submission_count")?,
        evidence_text: row.try_get("evidence_text")?,
        withdrawn: Money::new(row.try_get("withdrawn_minor")?, currency),
        reinstated: Money::new(row.try_get("reinstated_minor")?, currency),
    })
}

impl Store {
    /// Stores Stripe's dispute as of `at` (Unix seconds: the event's `created`, or now for
    /// an API answer): new, or newer than what is stored; an older fact changes nothing
    /// (but the money it reports moving is kept). Returns whether the row changed.
    pub async fn apply_dispute(
        &self,
        dispute: &Dispute,
        at: i64,
        funds: Funds,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let order_id = self
            .order_of_payment_intent(dispute.payment_intent_id())
            .await?;
        let details = dispute.evidence_details.clone().unwrap_or_default();
        let text = dispute
            .evidence
            .as_ref()
            .and_then(|e| e.uncategorized_text.clone());
        let changed = sqlx::query(
            "INSERT INTO disputes (id, order_id, payment_intent_id, charge_id, amount_minor, \
             currency, reason, status, due_by, has_evidence, past_due, submission_count, \
             evidence_text, fact_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             reason = excluded.reason, amount_minor = excluded.amount_minor, \
             due_by = excluded.due_by, has_evidence = excluded.has_evidence, \
             past_due = excluded.past_due, submission_count = excluded.submission_count, \
             evidence_text = COALESCE(excluded.evidence_text, disputes.evidence_text), \
             order_id = COALESCE(disputes.order_id, excluded.order_id), \
             fact_at = excluded.fact_at, updated_at = excluded.updated_at \
             WHERE disputes.fact_at < excluded.fact_at OR (disputes.fact_at = excluded.fact_at \
             AND (CASE disputes.status WHEN 'won' THEN 2 WHEN 'lost' THEN 2 \
                  WHEN 'warning_closed' THEN 2 WHEN 'under_review' THEN 1 \
                  WHEN 'warning_under_review' THEN 1 ELSE 0 END) <= $16)",
        )
        .bind(&dispute.id)
        .bind(&order_id)
        .bind(dispute.payment_intent_id())
        .bind(dispute.charge_id())
        .bind(dispute.amount)
        .bind(dispute.currency.code())
        .bind(dispute.reason.to_string())
        .bind(dispute.status.to_string())
        .bind(details.due_by)
        .bind(i64::from(details.has_evidence))
        .bind(i64::from(details.past_due))
        .bind(i64::from(details.submission_count))
        .bind(&text)
        .bind(at)
        .bind(now)
        // Within one second (a save's echo arriving after the submission's answer), the
        // lifecycle decides: a status never moves back.
        .bind(status_rank(&dispute.status.to_string()))
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1;
        let column = match funds {
            Funds::None => None,
            Funds::Withdrawn => Some("withdrawn_minor"),
            Funds::Reinstated => Some("reinstated_minor"),
        };
        if let Some(column) = column {
            // The amount the event reports, set (not added): a duplicate changes nothing.
            sqlx::query(&format!(
                "UPDATE disputes SET {column} = $1, updated_at = $2 WHERE id = $3"
            ))
            .bind(dispute.amount)
            .bind(now)
            .bind(&dispute.id)
            .execute(self.pool())
            .await?;
        }
        Ok(changed)
    }

    /// Every dispute, those needing a response first (nearest deadline first), then the
    /// others, newest first.
    /// How many disputes are undecided, and the one whose evidence is due first.
    pub async fn open_disputes(&self) -> Result<(i64, Option<DisputeView>), StoreError> {
        let open = [
            DisputeStatus::NeedsResponse,
            DisputeStatus::WarningNeedsResponse,
            DisputeStatus::UnderReview,
            DisputeStatus::WarningUnderReview,
        ];
        let mut count =
            sqlx::query("SELECT COUNT(*) AS n FROM disputes WHERE status IN ($1, $2, $3, $4)");
        for status in &open {
            count = count.bind(status.as_str());
        }
        let n: i64 = count.fetch_one(self.pool()).await?.try_get("n")?;
        let nearest = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM disputes WHERE status IN ($1, $2) AND due_by IS NOT NULL \
             ORDER BY due_by, id LIMIT 1"
        ))
        .bind(open[0].as_str())
        .bind(open[1].as_str())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(row_to_dispute)
        .transpose()?;
        Ok((n, nearest))
    }

    /// Undecided disputes' ids (the reconciliation fetches them again).
    pub async fn disputes_in_flight(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query("SELECT id FROM disputes WHERE status NOT IN ($1, $2, $3) ORDER BY created_at")
            .bind(DisputeStatus::Won.as_str())
            .bind(DisputeStatus::Lost.as_str())
            .bind(DisputeStatus::WarningClosed.as_str())
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok(r.try_get("id")?))
            .collect()
    }

    /// One dispute's stored status, if the shop knows it.
    pub async fn dispute_status(&self, id: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query("SELECT status FROM disputes WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.try_get("status"))
            .transpose()?)
    }

    pub async fn disputes(&self) -> Result<Vec<DisputeView>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM disputes ORDER BY \
             CASE WHEN status IN ($1, $2) THEN 0 ELSE 1 END, \
             CASE WHEN status IN ($1, $2) THEN due_by ELSE -created_at END, id"
        ))
        .bind(DisputeStatus::NeedsResponse.as_str())
        .bind(DisputeStatus::WarningNeedsResponse.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row_to_dispute)
        .collect()
    }

    pub async fn dispute(&self, id: &str) -> Result<DisputeView, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM disputes WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(row_to_dispute)
            .transpose()?
            .ok_or(StoreError::Refused(ShopError::NotFound))
    }

    pub async fn order_disputes(&self, order_id: &OrderId) -> Result<Vec<DisputeView>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM disputes WHERE order_id = $1 ORDER BY created_at, id"
        ))
        .bind(order_id.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row_to_dispute)
        .collect()
    }
}

/// Where a dispute status stands in its lifecycle (the same as the upsert's `CASE`):
/// waiting for evidence, under review, decided.
pub fn status_rank(status: &str) -> i64 {
    match status {
        "won" | "lost" | "warning_closed" => 2,
        "under_review" | "warning_under_review" => 1,
        _ => 0,
    }
}
