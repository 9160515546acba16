//! Saved cards: the PaymentMethods attached to an account's Customer, mirrored from
//! Stripe by id (`pm_…`). A card is written only from Stripe's word (an event or a
//! retrieve), through [`Store::record_card`] / [`Store::card_detached`]; a detached card
//! stays detached (detach is final at Stripe), and an older fact never overwrites a newer.

use sqlx::Row;

use super::{now_ms, Store, StoreError};
use crate::account::{expires_within_30_days, AccountId, PaymentMethodId, SavedCard};

/// A card as Stripe describes it (from a PaymentMethod object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFact {
    pub payment_method: String,
    pub customer: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    pub fingerprint: Option<String>,
    /// The PaymentMethod's `created` (Unix seconds).
    pub stripe_created: i64,
    /// When Stripe said so (the event's `created`, or the retrieve's time; Unix seconds).
    pub fact_at: i64,
}

/// What [`Store::record_card`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardRecorded {
    /// Now saved (new, or its details updated).
    Saved { account: AccountId },
    /// The same card (fingerprint) is already saved as `keep`: this newer copy must be
    /// detached at Stripe, then recorded as detached ([`Store::card_detached`]).
    Duplicate { account: AccountId, keep: String },
    /// Detached already, or an older fact than the one stored: nothing changed.
    Ignored,
    /// The Customer is no account's.
    UnknownCustomer,
}

const ATTACHED: &str = "attached";
const DETACHED: &str = "detached";

impl Store {
    /// Records a card Stripe says is attached to `fact.customer`.
    pub async fn record_card(&self, fact: &CardFact) -> Result<CardRecorded, StoreError> {
        let Some(account) = self.account_by_customer(&fact.customer).await? else {
            return Ok(CardRecorded::UnknownCustomer);
        };
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        // The account's row first: SQLite's write lock, and on PostgreSQL a lock that
        // makes two copies of one card recorded at once see each other (the second waits,
        // then reads the first's committed row).
        sqlx::query("UPDATE accounts SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account.id.as_str())
            .execute(&mut *tx)
            .await?;
        // Detached rows and older facts are left alone.
        let written = sqlx::query(
            "INSERT INTO saved_cards (id, account_id, customer_id, brand, last4, exp_month, \
             exp_year, fingerprint, status, stripe_created, last_fact_at, created_at, updated_at, \
             seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM saved_cards)) \
             ON CONFLICT (id) DO UPDATE SET brand = excluded.brand, last4 = excluded.last4, \
             exp_month = excluded.exp_month, exp_year = excluded.exp_year, \
             fingerprint = excluded.fingerprint, last_fact_at = excluded.last_fact_at, \
             updated_at = excluded.updated_at \
             WHERE saved_cards.status = $9 AND saved_cards.last_fact_at <= excluded.last_fact_at \
             AND saved_cards.account_id = excluded.account_id",
        )
        .bind(&fact.payment_method)
        .bind(account.id.as_str())
        .bind(&fact.customer)
        .bind(&fact.brand)
        .bind(&fact.last4)
        .bind(i64::from(fact.exp_month))
        .bind(i64::from(fact.exp_year))
        .bind(&fact.fingerprint)
        .bind(ATTACHED)
        .bind(fact.stripe_created)
        .bind(fact.fact_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if written.rows_affected() == 0 {
            return Ok(CardRecorded::Ignored);
        }
        // One card, one entry: the oldest attached copy of a fingerprint stays.
        if let Some(fingerprint) = &fact.fingerprint {
            // Older: created earlier at Stripe; within the same second, recorded here first.
            let older = sqlx::query(
                "SELECT o.id FROM saved_cards o JOIN saved_cards n ON n.id = $4 \
                 WHERE o.account_id = $1 AND o.fingerprint = $2 AND o.status = $3 \
                 AND o.id <> n.id AND (o.stripe_created < n.stripe_created \
                   OR (o.stripe_created = n.stripe_created AND (o.seq < n.seq \
                     OR (o.seq = n.seq AND o.id < n.id)))) \
                 ORDER BY o.stripe_created, o.seq, o.id LIMIT 1",
            )
            .bind(account.id.as_str())
            .bind(fingerprint)
            .bind(ATTACHED)
            .bind(&fact.payment_method)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(older) = older {
                // Left attached here until Stripe has detached it (the caller does): if that
                // fails, the event is retried and finds the duplicate again.
                let keep: String = older.try_get("id")?;
                tx.commit().await?;
                return Ok(CardRecorded::Duplicate {
                    account: account.id,
                    keep,
                });
            }
            // This copy is the older one: any newer attached copy is the duplicate.
            // (Found by the caller through `duplicates_of` when it records those.)
        }
        tx.commit().await?;
        Ok(CardRecorded::Saved {
            account: account.id,
        })
    }

    /// Newer attached copies (same fingerprint) of `keep` on its account.
    pub async fn newer_duplicates(&self, keep: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id FROM saved_cards d JOIN saved_cards k ON k.id = $1 \
             WHERE d.account_id = k.account_id AND d.fingerprint = k.fingerprint \
             AND d.id <> k.id AND d.status = $2 AND k.status = $2 \
             AND (d.stripe_created > k.stripe_created \
                  OR (d.stripe_created = k.stripe_created AND (d.seq > k.seq \
                    OR (d.seq = k.seq AND d.id > k.id))))",
        )
        .bind(keep)
        .bind(ATTACHED)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(StoreError::from))
            .collect()
    }

    /// Stripe detached the card (or the shop did): it is never offered or charged again.
    /// `card`: what the detached PaymentMethod looked like (its former Customer), so that
    /// a detach that arrives before the attach still leaves a tombstone the late attach
    /// cannot revive. Returns whether a saved card changed.
    pub async fn card_detached(
        &self,
        payment_method: &str,
        card: Option<&CardFact>,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE saved_cards SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1",
        )
        .bind(DETACHED)
        .bind(now)
        .bind(payment_method)
        .execute(&mut *tx)
        .await?;
        if let Some(card) = card {
            sqlx::query(
                "INSERT INTO saved_cards (id, account_id, customer_id, brand, last4, exp_month, \
                 exp_year, fingerprint, status, stripe_created, last_fact_at, created_at, \
                 updated_at) \
                 SELECT $1, a.id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11 FROM accounts a \
                 WHERE a.stripe_customer_id = $2 ON CONFLICT (id) DO NOTHING",
            )
            .bind(payment_method)
            .bind(&card.customer)
            .bind(&card.brand)
            .bind(&card.last4)
            .bind(i64::from(card.exp_month))
            .bind(i64::from(card.exp_year))
            .bind(&card.fingerprint)
            .bind(DETACHED)
            .bind(card.stripe_created)
            .bind(card.fact_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // A default card that is gone is no default.
        sqlx::query(
            "UPDATE accounts SET default_payment_method = NULL, updated_at = $1 \
             WHERE default_payment_method = $2",
        )
        .bind(now)
        .bind(payment_method)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The account's saved cards: the default first, then newest first.
    pub async fn cards(&self, account: &AccountId) -> Result<Vec<SavedCard>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.brand, c.last4, c.exp_month, c.exp_year, \
             CASE WHEN a.default_payment_method = c.id THEN 1 ELSE 0 END AS is_default \
             FROM saved_cards c JOIN accounts a ON a.id = c.account_id \
             WHERE c.account_id = $1 AND c.status = $2 \
             ORDER BY is_default DESC, c.stripe_created DESC, c.id DESC",
        )
        .bind(account.as_str())
        .bind(ATTACHED)
        .fetch_all(self.pool())
        .await?;
        let now_secs = now_ms() / 1000;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let exp_month = u32::try_from(r.try_get::<i64, _>("exp_month")?)
                    .map_err(|_| StoreError::Corrupt("card exp_month".into()))?;
                let exp_year = i32::try_from(r.try_get::<i64, _>("exp_year")?)
                    .map_err(|_| StoreError::Corrupt("card exp_year".into()))?;
                Ok(SavedCard {
                    id: PaymentMethodId::parse(&id)
                        .map_err(|_| StoreError::Corrupt(format!("card id {id:?}")))?,
                    brand: r.try_get("brand")?,
                    last4: r.try_get("last4")?,
                    exp_month,
                    exp_year,
                    is_default: r.try_get::<i64, _>("is_default")? == 1,
                    expiring: expires_within_30_days(exp_month, exp_year, now_secs),
                })
            })
            .collect()
    }

    /// The Customer a saved, attached card of this account belongs to; `None` when the
    /// account has no such card (another account's, detached, or unknown).
    pub async fn owned_card_customer(
        &self,
        account: &AccountId,
        payment_method: &PaymentMethodId,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT c.customer_id FROM saved_cards c JOIN accounts a ON a.id = c.account_id \
             WHERE c.id = $1 AND c.account_id = $2 AND c.status = $3 \
             AND a.stripe_customer_id = c.customer_id",
        )
        .bind(payment_method.as_str())
        .bind(account.as_str())
        .bind(ATTACHED)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| r.try_get("customer_id").map_err(StoreError::from))
            .transpose()
    }

    /// Mirrors the Customer's default card (`invoice_settings.default_payment_method`)
    /// unless a newer fact was applied. `fact_at`: Unix seconds.
    pub async fn set_default_card(
        &self,
        customer_id: &str,
        payment_method: Option<&str>,
        fact_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET default_payment_method = $1, customer_fact_at = $2, \
             updated_at = $3 WHERE stripe_customer_id = $4 AND customer_fact_at <= $2",
        )
        .bind(payment_method)
        .bind(fact_at)
        .bind(now_ms())
        .bind(customer_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The account's default card, if it is still saved.
    pub async fn default_card(
        &self,
        account: &AccountId,
    ) -> Result<Option<PaymentMethodId>, StoreError> {
        Ok(self
            .cards(account)
            .await?
            .into_iter()
            .find(|c| c.is_default)
            .map(|c| c.id))
    }
}
