//! Refunds (kept by Stripe's `re_` id), the refundable amount checked where a request is
//! written, the order's status from its refunds, and the merchant audit trail.

use sqlx::any::AnyRow;
use sqlx::Row;
use stripe_client::Refund;
use stripe_types::Money;

use super::{currency, now_ms, order_status, placeholders, Store, StoreError};
use crate::error::ShopError;
use crate::ids::{random_tail, OrderId};
use crate::order::OrderStatus;
use crate::refund::{
    refunded_status, AuditEntry, MerchantOrderRow, MerchantOrders, OrderFilter, OrderSearch,
    QueuedRefund, RefundOrigin, RefundState, RefundView,
};

/// What a merchant asked for.
#[derive(Debug, Clone)]
pub struct RefundRequest<'a> {
    pub order_id: &'a OrderId,
    /// `None`: everything still refundable.
    pub amount: Option<Money>,
    pub reason: Option<&'a str>,
    pub note: Option<&'a str>,
    /// From the form's one-time request id: the same request is the same refund.
    pub request_key: &'a str,
    pub requested_by: &'a str,
}

/// The refund row a request stands for.
#[derive(Debug, Clone)]
pub struct Reserved {
    pub refund: RefundView,
    pub payment_intent_id: String,
    /// Written by this call (`false`: the same request was made before).
    pub new: bool,
}

/// A refund request Stripe never answered, and what asking again needs.
#[derive(Debug, Clone)]
pub struct Unanswered {
    pub order_id: OrderId,
    pub refund: RefundView,
    pub request_key: String,
    pub payment_intent_id: String,
}

/// What applying Stripe's word about a refund did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundApplied {
    /// The row (new, or moved forward); the order's status after it.
    Changed {
        order_id: OrderId,
        status: OrderStatus,
    },
    /// Already known (a duplicate, or older than what is stored).
    Unchanged { order_id: OrderId },
    /// A refund of no order of this shop.
    UnknownOrder,
}

const COLUMNS: &str = "id, order_id, stripe_id, amount_minor, currency, reason, note, status, \
                       failure_reason, error, origin, requested_by, created_at, dismissed_at";

fn row_to_refund(row: &AnyRow) -> Result<RefundView, StoreError> {
    let status: String = row.try_get("status")?;
    let origin: String = row.try_get("origin")?;
    let code: String = row.try_get("currency")?;
    Ok(RefundView {
        id: row.try_get("id")?,
        stripe_id: row.try_get("stripe_id")?,
        amount: Money::new(row.try_get("amount_minor")?, currency(&code)?),
        reason: row.try_get("reason")?,
        note: row.try_get("note")?,
        status: RefundState::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("refund status {status:?}")))?,
        failure_reason: row.try_get("failure_reason")?,
        error: row.try_get("error")?,
        origin: RefundOrigin::parse(&origin)
            .ok_or_else(|| StoreError::Corrupt(format!("refund origin {origin:?}")))?,
        requested_by: row.try_get("requested_by")?,
        created_at: row.try_get("created_at")?,
        dismissed: row.try_get::<Option<i64>, _>("dismissed_at")?.is_some(),
    })
}

/// The states that hold money back (`true`) or give it back (`false`).
fn states_holding(money: bool) -> Vec<&'static str> {
    RefundState::ALL
        .iter()
        .filter(|s| s.holds_money() == money)
        .map(RefundState::as_str)
        .collect()
}

impl Store {
    /// Writes a refund request after checking it against what is still refundable, in
    /// one transaction that first locks the order's row: two merchants refunding the
    /// remainder at once are serialised, and the second finds nothing left. The same
    /// `request_key` again returns the row written the first time.
    pub async fn reserve_refund(
        &self,
        request: &RefundRequest<'_>,
    ) -> Result<Reserved, StoreError> {
        let mut tx = self.pool().begin().await?;
        let now = now_ms();
        if !lock_order(&mut tx, request.order_id).await? {
            return Err(ShopError::NotFound.into());
        }
        let order = sqlx::query(
            "SELECT status, currency, total_minor, payment_intent_id FROM orders WHERE id = $1",
        )
        .bind(request.order_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let status = order_status(&order.try_get::<String, _>("status")?)?;
        let total = Money::new(
            order.try_get("total_minor")?,
            currency(&order.try_get::<String, _>("currency")?)?,
        );
        let payment_intent_id: Option<String> = order.try_get("payment_intent_id")?;
        if let Some(existing) = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE request_key = $1"
        ))
        .bind(request.request_key)
        .fetch_optional(&mut *tx)
        .await?
        {
            let refund = row_to_refund(&existing)?;
            tx.rollback().await?;
            return Ok(Reserved {
                refund,
                payment_intent_id: payment_intent_id.unwrap_or_default(),
                new: false,
            });
        }
        let payment_intent_id = match payment_intent_id {
            Some(pi) if status.was_paid() => pi,
            _ => {
                return Err(ShopError::NotRefundable {
                    status: status.as_str().into(),
                }
                .into())
            }
        };
        let held = states_holding(true);
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS held FROM refunds \
             WHERE order_id = $1 AND status IN ({})",
            placeholders(2, held.len())
        );
        let mut query = sqlx::query(&sql).bind(request.order_id.as_str());
        for state in &held {
            query = query.bind(*state);
        }
        let held_minor: i64 = query.fetch_one(&mut *tx).await?.try_get("held")?;
        let refundable = Money::new((total.minor - held_minor).max(0), total.currency);
        let amount = request.amount.unwrap_or(refundable);
        if amount.currency != total.currency || amount.minor <= 0 || amount.minor > refundable.minor
        {
            return Err(ShopError::RefundTooLarge {
                requested: amount.to_string(),
                refundable: refundable.to_string(),
            }
            .into());
        }
        let refund = RefundView {
            id: format!("rf_{}", random_tail(20)),
            stripe_id: None,
            amount,
            reason: request.reason.map(str::to_owned),
            note: request.note.map(str::to_owned),
            status: RefundState::Requested,
            failure_reason: None,
            error: None,
            origin: RefundOrigin::Shop,
            requested_by: Some(request.requested_by.to_owned()),
            created_at: now,
            dismissed: false,
        };
        sqlx::query(
            "INSERT INTO refunds (id, order_id, request_key, amount_minor, currency, reason, \
             note, status, origin, requested_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(&refund.id)
        .bind(request.order_id.as_str())
        .bind(request.request_key)
        .bind(amount.minor)
        .bind(amount.currency.code())
        .bind(&refund.reason)
        .bind(&refund.note)
        .bind(refund.status.as_str())
        .bind(refund.origin.as_str())
        .bind(&refund.requested_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Reserved {
            refund,
            payment_intent_id,
            new: true,
        })
    }

    /// Stripe refused to create the refund (a definite answer): the request gives its
    /// money back and says why. Only a row still `requested` changes.
    pub async fn refund_rejected(&self, refund_id: &str, error: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE refunds SET status = $1, error = $2, updated_at = $3 \
             WHERE id = $4 AND status = $5",
        )
        .bind(RefundState::Rejected.as_str())
        .bind(error)
        .bind(now_ms())
        .bind(refund_id)
        .bind(RefundState::Requested.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stripe's word about one refund (the create call's answer, a webhook, a list or a
    /// retrieve), through one path: found by its `re_` id, else by the shop's row named
    /// in `metadata[refund_id]` (our own refund, whichever of the answer and the echo
    /// comes first), else recorded as made outside the shop for the order whose
    /// PaymentIntent it refunds. A state only moves forward; then the order's status
    /// follows its succeeded refunds.
    pub async fn apply_stripe_refund(&self, refund: &Refund) -> Result<RefundApplied, StoreError> {
        let Some(state) = refund.status().map(RefundState::from_stripe) else {
            return Err(StoreError::Corrupt(format!(
                "refund {} has no status",
                refund.id
            )));
        };
        let now = now_ms();
        // Which order: the row's (a known refund, or ours named in the metadata), else
        // the PaymentIntent's. Read before the transaction: on SQLite a transaction that
        // reads first cannot wait for the write lock (it fails at once when busy).
        let row_id = refund.metadata.get("refund_id").cloned();
        let by_row = sqlx::query(
            "SELECT order_id FROM refunds WHERE stripe_id = $1 OR (id = $2 AND stripe_id IS NULL)",
        )
        .bind(&refund.id)
        .bind(row_id.as_deref().unwrap_or_default())
        .fetch_optional(self.pool())
        .await?;
        let order_id: String = match by_row {
            Some(row) => row.try_get("order_id")?,
            None => match self
                .order_of_payment_intent(refund.payment_intent_id())
                .await?
            {
                Some(id) => id,
                None => return Ok(RefundApplied::UnknownOrder),
            },
        };
        let order_id = super::order_id(&order_id)?;
        let mut tx = self.pool().begin().await?;
        // Everything is read again under the order's lock.
        lock_order(&mut tx, &order_id).await?;
        let known = sqlx::query("SELECT status FROM refunds WHERE stripe_id = $1")
            .bind(&refund.id)
            .fetch_optional(&mut *tx)
            .await?;
        let ours = match (&known, &row_id) {
            (None, Some(row_id)) => sqlx::query(
                "SELECT id FROM refunds WHERE id = $1 AND stripe_id IS NULL AND order_id = $2",
            )
            .bind(row_id)
            .bind(order_id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .map(|_| (row_id.clone(), ())),
            _ => None,
        };
        let changed = if let Some((row_id, _)) = ours {
            // Our own refund: its `re_` id arrives (answer or echo, whichever is first).
            sqlx::query(
                "UPDATE refunds SET stripe_id = $1, status = $2, failure_reason = $3, \
                 status_fact_at = $4, updated_at = $5 WHERE id = $6 AND stripe_id IS NULL",
            )
            .bind(&refund.id)
            .bind(state.as_str())
            .bind(&refund.failure_reason)
            .bind(refund.created)
            .bind(now)
            .bind(&row_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        } else if let Some(known) = &known {
            let current: String = known.try_get("status")?;
            let current = RefundState::parse(&current)
                .ok_or_else(|| StoreError::Corrupt(format!("refund status {current:?}")))?;
            if state.rank() > current.rank() {
                sqlx::query(
                    "UPDATE refunds SET status = $1, failure_reason = $2, updated_at = $3 \
                     WHERE stripe_id = $4 AND status = $5",
                )
                .bind(state.as_str())
                .bind(&refund.failure_reason)
                .bind(now)
                .bind(&refund.id)
                .bind(current.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1
            } else {
                false
            }
        } else {
            let money = refund.money();
            sqlx::query(
                "INSERT INTO refunds (id, order_id, stripe_id, amount_minor, currency, reason, \
                 status, failure_reason, origin, status_fact_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                 ON CONFLICT (stripe_id) DO NOTHING",
            )
            .bind(format!("rf_{}", random_tail(20)))
            .bind(order_id.as_str())
            .bind(&refund.id)
            .bind(money.minor)
            .bind(money.currency.code())
            .bind(refund.reason.as_ref().map(|r| r.to_string()))
            .bind(state.as_str())
            .bind(&refund.failure_reason)
            .bind(RefundOrigin::Outside.as_str())
            .bind(refund.created)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        };
        if !changed {
            tx.rollback().await?;
            return Ok(RefundApplied::Unchanged { order_id });
        }
        let status = follow_refunds(&mut tx, &order_id, now).await?;
        tx.commit().await?;
        Ok(RefundApplied::Changed { order_id, status })
    }

    /// The order's refunds, oldest first.
    pub async fn refunds(&self, order_id: &OrderId) -> Result<Vec<RefundView>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at, id"
        ))
        .bind(order_id.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(row_to_refund)
        .collect()
    }

    /// The failed-refunds queue: failed, canceled or rejected refunds not yet retried or
    /// dismissed, newest first.
    pub async fn refund_queue(&self) -> Result<Vec<QueuedRefund>, StoreError> {
        let given_back = states_holding(false);
        let sql = format!(
            "SELECT {COLUMNS} FROM refunds WHERE status IN ({}) AND dismissed_at IS NULL \
             ORDER BY updated_at DESC, id LIMIT 500",
            placeholders(1, given_back.len())
        );
        let mut query = sqlx::query(&sql);
        for state in &given_back {
            query = query.bind(*state);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(QueuedRefund {
                    order_id: super::order_id(&row.try_get::<String, _>("order_id")?)?,
                    refund: row_to_refund(row)?,
                })
            })
            .collect()
    }

    /// How many refunds wait in the failed-refunds queue (the dashboard).
    pub async fn refund_queue_len(&self) -> Result<i64, StoreError> {
        let given_back = states_holding(false);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM refunds WHERE status IN ({}) AND dismissed_at IS NULL",
            placeholders(1, given_back.len())
        );
        let mut query = sqlx::query(&sql);
        for state in &given_back {
            query = query.bind(*state);
        }
        Ok(query.fetch_one(self.pool()).await?.try_get("n")?)
    }

    /// One refund row and its order ([`ShopError::NotFound`] if there is none).
    pub async fn refund_row(&self, refund_id: &str) -> Result<QueuedRefund, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM refunds WHERE id = $1"))
            .bind(refund_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(ShopError::NotFound)?;
        Ok(QueuedRefund {
            order_id: super::order_id(&row.try_get::<String, _>("order_id")?)?,
            refund: row_to_refund(&row)?,
        })
    }

    /// Takes a failed refund out of the queue; `false` if it was not waiting there.
    pub async fn dismiss_refund(&self, refund_id: &str) -> Result<bool, StoreError> {
        let given_back = states_holding(false);
        let sql = format!(
            "UPDATE refunds SET dismissed_at = $1 WHERE id = $2 AND dismissed_at IS NULL \
             AND status IN ({})",
            placeholders(3, given_back.len())
        );
        let mut query = sqlx::query(&sql).bind(now_ms()).bind(refund_id);
        for state in &given_back {
            query = query.bind(*state);
        }
        let done = query.execute(self.pool()).await?;
        Ok(done.rows_affected() == 1)
    }

    /// The refund a request key made, if any.
    pub async fn refund_by_request_key(&self, key: &str) -> Result<Option<RefundView>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM refunds WHERE request_key = $1"
        ))
        .bind(key)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(row_to_refund)
        .transpose()
    }

    /// Refunds asked for whose outcome is unknown (no answer from Stripe), oldest first,
    /// with what asking again needs: the order, its PaymentIntent and the request key.
    pub async fn unanswered_refunds(
        &self,
        older_than_ms: i64,
        limit: i64,
    ) -> Result<Vec<Unanswered>, StoreError> {
        let columns = COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns}, r.request_key, o.payment_intent_id FROM refunds r \
             JOIN orders o ON o.id = r.order_id \
             WHERE r.status = $1 AND r.created_at < $2 AND r.request_key IS NOT NULL \
             AND o.payment_intent_id IS NOT NULL ORDER BY r.created_at LIMIT $3"
        ))
        .bind(RefundState::Requested.as_str())
        .bind(older_than_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Unanswered {
                    order_id: super::order_id(&row.try_get::<String, _>("order_id")?)?,
                    refund: row_to_refund(row)?,
                    request_key: row.try_get("request_key")?,
                    payment_intent_id: row.try_get("payment_intent_id")?,
                })
            })
            .collect()
    }

    /// Records a merchant action on an order.
    pub async fn audit(
        &self,
        order_id: Option<&OrderId>,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO merchant_audit (id, order_id, actor, action, detail, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(format!("au_{}", random_tail(20)))
        .bind(order_id.map(OrderId::as_str))
        .bind(actor)
        .bind(action)
        .bind(detail)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The order's audit trail, oldest first.
    pub async fn audit_trail(&self, order_id: &OrderId) -> Result<Vec<AuditEntry>, StoreError> {
        sqlx::query(
            "SELECT at, actor, action, detail FROM merchant_audit WHERE order_id = $1 \
             ORDER BY at, id",
        )
        .bind(order_id.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
    }

    /// The console's order list, newest first: all orders, those with a status or a
    /// dispute, or the one a search finds (by order id, PaymentIntent, charge or the
    /// account's email). Each filter is its own indexed query (no `$1 = '' OR …`).
    pub async fn merchant_orders(
        &self,
        filter: OrderFilter,
        search: Option<&OrderSearch>,
        page: u32,
        per_page: u32,
    ) -> Result<MerchantOrders, StoreError> {
        let page = page.max(1);
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        match filter {
            OrderFilter::All => {}
            OrderFilter::Status(status) => {
                binds.push(status.as_str().to_owned());
                conditions.push(format!("o.status = ${}", binds.len()));
            }
            OrderFilter::Disputed => conditions
                .push("EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = o.id)".to_owned()),
        }
        if let Some(search) = search {
            let (condition, value) = match search {
                OrderSearch::Order(id) => ("o.id = $", id),
                OrderSearch::PaymentIntent(id) => ("o.payment_intent_id = $", id),
                OrderSearch::Charge(id) => ("o.charge_id = $", id),
                OrderSearch::Email(email) => ("a.email = $", email),
            };
            binds.push(value.clone());
            conditions.push(format!("{condition}{}", binds.len()));
        }
        let filter_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT o.id, o.status, o.total_minor, o.currency, o.created_at, \
             o.payment_intent_id, a.email, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.order_id = o.id) \
             THEN 1 ELSE 0 END AS BIGINT) AS disputed FROM orders o \
             LEFT JOIN accounts a ON a.id = o.account_id {filter_sql} \
             ORDER BY o.created_at DESC, o.id DESC LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let mut query = sqlx::query(&sql);
        for value in &binds {
            query = query.bind(value);
        }
        let rows = query
            .bind(i64::from(per_page) + 1)
            .bind(i64::from(page - 1) * i64::from(per_page))
            .fetch_all(self.pool())
            .await?;
        let has_more = rows.len() > per_page as usize;
        let orders = rows
            .iter()
            .take(per_page as usize)
            .map(|r| {
                let code: String = r.try_get("currency")?;
                Ok(MerchantOrderRow {
                    id: r.try_get("id")?,
                    status: order_status(&r.try_get::<String, _>("status")?)?,
                    total: Money::new(r.try_get("total_minor")?, currency(&code)?),
                    created_at: r.try_get("created_at")?,
                    email: r.try_get("email")?,
                    payment_intent_id: r.try_get("payment_intent_id")?,
                    disputed: r.try_get::<i64, _>("disputed")? != 0,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(MerchantOrders {
            orders,
            page,
            has_more,
        })
    }

    /// Remembers the charge of a paid order (searchable in the console).
    pub async fn set_order_charge(
        &self,
        payment_intent_id: &str,
        charge_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE orders SET charge_id = $1 WHERE payment_intent_id = $2 AND charge_id IS NULL",
        )
        .bind(charge_id)
        .bind(payment_intent_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The order's account email and PaymentIntent (the console's order page).
    pub async fn order_owner(
        &self,
        order_id: &OrderId,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let row = sqlx::query(
            "SELECT a.email, o.payment_intent_id FROM orders o \
             LEFT JOIN accounts a ON a.id = o.account_id WHERE o.id = $1",
        )
        .bind(order_id.as_str())
        .fetch_optional(self.pool())
        .await?
        .ok_or(ShopError::NotFound)?;
        Ok((row.try_get("email")?, row.try_get("payment_intent_id")?))
    }
}

/// Locks the order's row inside the transaction (SQLite's write lock, PostgreSQL's row
/// lock), first, so that refund requests and Stripe's refunds of one order are
/// serialised; `false` when there is no such order.
async fn lock_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    order_id: &OrderId,
) -> Result<bool, StoreError> {
    let locked = sqlx::query("UPDATE orders SET revision = revision + 1 WHERE id = $1")
        .bind(order_id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// Sets a paid order's status (and `refunded_minor`) from its succeeded refunds, inside
/// the caller's transaction. An order never paid keeps its status.
async fn follow_refunds(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    order_id: &OrderId,
    now: i64,
) -> Result<OrderStatus, StoreError> {
    let order = sqlx::query("SELECT status, total_minor, currency FROM orders WHERE id = $1")
        .bind(order_id.as_str())
        .fetch_one(&mut **tx)
        .await?;
    let status = order_status(&order.try_get::<String, _>("status")?)?;
    if !status.was_paid() {
        return Ok(status);
    }
    let total = Money::new(
        order.try_get("total_minor")?,
        currency(&order.try_get::<String, _>("currency")?)?,
    );
    let succeeded: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS done FROM refunds \
         WHERE order_id = $1 AND status = $2 AND currency = $3",
    )
    .bind(order_id.as_str())
    .bind(RefundState::Succeeded.as_str())
    .bind(total.currency.code())
    .fetch_one(&mut **tx)
    .await?
    .try_get("done")?;
    let next = refunded_status(total, succeeded);
    sqlx::query(
        "UPDATE orders SET status = $1, refunded_minor = $2, updated_at = $3, \
         revision = revision + 1 WHERE id = $4",
    )
    .bind(next.as_str())
    .bind(succeeded.min(total.minor))
    .bind(now)
    .bind(order_id.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(next)
}
