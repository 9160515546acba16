//! Early fraud warnings by `issfr_` id (newest fact wins).

use sqlx::any::AnyRow;
use sqlx::Row;
use stripe_client::EarlyFraudWarning;

use super::{now_ms, Store, StoreError};
use crate::error::ShopError;
use crate::fraud::FraudWarningView;

const SELECT: &str = "SELECT w.id, w.order_id, w.payment_intent_id, w.charge_id, w.fraud_type, \
                      w.actionable, w.created_at, \
                      (SELECT MIN(d.id) FROM disputes d WHERE d.charge_id = w.charge_id) AS dispute_id \
                      FROM fraud_warnings w";

fn row_to_warning(row: &AnyRow) -> Result<FraudWarningView, StoreError> {
    Ok(FraudWarningView {
        id: row.try_get("id")?,
        order_id: row
            .try_get::<Option<String>, _>("order_id")?
            .map(|id| super::order_id(&id))
            .transpose()?,
        payment_intent_id: row.try_get("payment_intent_id")?,
        charge_id: row.try_get("charge_id")?,
        fraud_type: row.try_get("fraud_type")?,
        actionable: row.try_get::<i64, _>("actionable")? != 0,
        dispute_id: row.try_get("dispute_id")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Stores Stripe's warning as of `at` (Unix seconds); an older fact changes nothing.
    pub async fn apply_fraud_warning(
        &self,
        warning: &EarlyFraudWarning,
        at: i64,
    ) -> Result<bool, StoreError> {
        let pi = warning.payment_intent.as_ref().map(|p| p.id().to_owned());
        let order_id = self.order_of_payment_intent(pi.as_deref()).await?;
        let now = now_ms();
        Ok(sqlx::query(
            "INSERT INTO fraud_warnings (id, order_id, payment_intent_id, charge_id, fraud_type, \
             actionable, fact_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (id) DO UPDATE SET actionable = excluded.actionable, \
             fraud_type = excluded.fraud_type, \
             order_id = COALESCE(fraud_warnings.order_id, excluded.order_id), \
             fact_at = excluded.fact_at, updated_at = excluded.updated_at \
             WHERE fraud_warnings.fact_at <= excluded.fact_at",
        )
        .bind(&warning.id)
        .bind(&order_id)
        .bind(&pi)
        .bind(warning.charge.id())
        .bind(warning.fraud_type.clone().unwrap_or_else(|| "misc".into()))
        .bind(i64::from(warning.actionable))
        .bind(at)
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Every warning: actionable first, newest first.
    /// How many fraud warnings can still be answered (the dashboard).
    pub async fn actionable_warning_count(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM fraud_warnings WHERE actionable = 1")
                .fetch_one(self.pool())
                .await?
                .try_get("n")?,
        )
    }

    pub async fn fraud_warnings(&self) -> Result<Vec<FraudWarningView>, StoreError> {
        sqlx::query(&format!(
            "{SELECT} ORDER BY w.actionable DESC, w.created_at DESC, w.id LIMIT 500"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row_to_warning)
        .collect()
    }

    pub async fn fraud_warning(&self, id: &str) -> Result<FraudWarningView, StoreError> {
        sqlx::query(&format!("{SELECT} WHERE w.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(row_to_warning)
            .transpose()?
            .ok_or(StoreError::Refused(ShopError::NotFound))
    }
}
