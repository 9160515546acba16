//! Accounts, sessions (stored as token hashes), sign-in failures, the account's cart and
//! orders, and the Stripe Customer an account is mirrored by.

use sqlx::any::AnyRow;
use sqlx::Row;
use stripe_types::Money;

use super::{currency, now_ms, order_id, order_status, Store, StoreError};
use crate::account::{AccountId, Caller, Email, OrderSummary};
use crate::catalogue::{MAX_LINES, MAX_QUANTITY};
use crate::error::ShopError;
use crate::ids::{CartId, OrderId};

/// An account as stored. `Debug` leaves the password hash out.
#[derive(Clone)]
pub struct AccountRow {
    pub id: AccountId,
    pub email: String,
    pub password_hash: String,
    pub cart_id: CartId,
    pub stripe_customer_id: Option<String>,
    pub customer_attempt: i64,
    /// A merchant (console pages and actions); a shopper otherwise.
    pub is_merchant: bool,
}

impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .field("cart_id", &self.cart_id)
            .field("stripe_customer_id", &self.stripe_customer_id)
            .field("is_merchant", &self.is_merchant)
            .finish()
    }
}

const COLUMNS: &str =
    "a.id, a.email, a.password_hash, a.cart_id, a.stripe_customer_id, a.customer_attempt, a.role";

/// `accounts.role` of a merchant (anything else is a shopper).
const MERCHANT: &str = "merchant";

fn row_to_account(row: &AnyRow) -> Result<AccountRow, StoreError> {
    let id: String = row.try_get("id")?;
    let cart: String = row.try_get("cart_id")?;
    Ok(AccountRow {
        id: AccountId::from_stored(id.clone())
            .ok_or_else(|| StoreError::Corrupt(format!("account id {id:?}")))?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        cart_id: CartId::parse(&cart)
            .ok_or_else(|| StoreError::Corrupt(format!("account cart {cart:?}")))?,
        stripe_customer_id: row.try_get("stripe_customer_id")?,
        customer_attempt: row.try_get("customer_attempt")?,
        is_merchant: row.try_get::<String, _>("role")? == MERCHANT,
    })
}

impl Store {
    /// Makes the account a merchant with this password hash (the start-up merchant, or
    /// the `merchant add` command): role and password set in one statement.
    pub async fn make_merchant(
        &self,
        id: &AccountId,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET role = $1, password_hash = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(MERCHANT)
        .bind(password_hash)
        .bind(now_ms())
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A new account; [`ShopError::EmailTaken`] when the address has one already.
    pub async fn create_account(
        &self,
        id: &AccountId,
        email: &Email,
        password_hash: &str,
    ) -> Result<AccountRow, StoreError> {
        let now = now_ms();
        let cart = CartId::generate();
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, email, password_hash, cart_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(email.as_str())
        .bind(password_hash)
        .bind(cart.as_str())
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(ShopError::EmailTaken.into());
        }
        self.account(id)
            .await?
            .ok_or(StoreError::Corrupt("account vanished after insert".into()))
    }

    pub async fn account(&self, id: &AccountId) -> Result<Option<AccountRow>, StoreError> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM accounts a WHERE a.id = $1"))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(row_to_account)
            .transpose()
    }

    pub async fn account_by_email(&self, email: &Email) -> Result<Option<AccountRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM accounts a WHERE a.email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(row_to_account)
        .transpose()
    }

    pub async fn account_by_customer(
        &self,
        customer_id: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM accounts a WHERE a.stripe_customer_id = $1"
        ))
        .bind(customer_id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(row_to_account)
        .transpose()
    }

    /// Records the account's Customer unless it has one; returns the one it now has.
    pub async fn set_customer(
        &self,
        account: &AccountId,
        customer_id: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query(
            "UPDATE accounts SET stripe_customer_id = $1, updated_at = $2 \
             WHERE id = $3 AND stripe_customer_id IS NULL",
        )
        .bind(customer_id)
        .bind(now_ms())
        .bind(account.as_str())
        .execute(self.pool())
        .await?;
        Ok(self
            .account(account)
            .await?
            .and_then(|a| a.stripe_customer_id))
    }

    /// Stripe deleted the Customer: the account forgets it (and its default card), the
    /// next one is created under a new idempotency key, and its cards are detached (Stripe
    /// detaches a deleted Customer's PaymentMethods).
    pub async fn customer_deleted(&self, customer_id: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE accounts SET stripe_customer_id = NULL, default_payment_method = NULL, \
             customer_attempt = customer_attempt + 1, updated_at = $1 \
             WHERE stripe_customer_id = $2",
        )
        .bind(now)
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE saved_cards SET status = 'detached', updated_at = $1 WHERE customer_id = $2",
        )
        .bind(now)
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    // --- Sessions -------------------------------------------------------------------

    pub async fn create_session(
        &self,
        token_hash: &str,
        account: &AccountId,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(account.as_str())
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The session's account if the session exists, was seen after `idle_since` and was
    /// created after `created_since` (Unix ms); also returns when it was last seen.
    pub async fn session_account(
        &self,
        token_hash: &str,
        idle_since: i64,
        created_since: i64,
    ) -> Result<Option<(AccountRow, i64)>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, s.last_seen_at FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = $1 AND s.last_seen_at > $2 AND s.created_at > $3"
        ))
        .bind(token_hash)
        .bind(idle_since)
        .bind(created_since)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some((row_to_account(&row)?, row.try_get("last_seen_at")?))),
            None => Ok(None),
        }
    }

    pub async fn touch_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now_ms())
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes sessions idle since `idle_since` or created before `created_since`, and
    /// sign-in failures older than `failures_since` (Unix ms).
    pub async fn purge_sessions(
        &self,
        idle_since: i64,
        created_since: i64,
        failures_since: i64,
    ) -> Result<u64, StoreError> {
        let gone = sqlx::query("DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2")
            .bind(idle_since)
            .bind(created_since)
            .execute(self.pool())
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM sign_in_failures WHERE failed_at <= $1")
            .bind(failures_since)
            .execute(self.pool())
            .await?;
        Ok(gone)
    }

    // --- Sign-in failures -----------------------------------------------------------

    /// Records an attempt for each scope at `now` (Unix ms).
    pub async fn record_sign_in_failure(
        &self,
        scopes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        for scope in scopes {
            sqlx::query("INSERT INTO sign_in_failures (scope, failed_at) VALUES ($1, $2)")
                .bind(scope)
                .bind(now)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    /// The scope's failures since `since` (Unix ms), newest first, at most `limit`.
    pub async fn sign_in_failures(
        &self,
        scope: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT failed_at FROM sign_in_failures WHERE scope = $1 AND failed_at > $2 \
             ORDER BY failed_at DESC LIMIT $3",
        )
        .bind(scope)
        .bind(since)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("failed_at").map_err(StoreError::from))
            .collect()
    }

    /// Takes back one recorded attempt (`scope` at `at_ms`): it was not a failure.
    pub async fn forget_sign_in_attempt(&self, scope: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE scope = $1 AND failed_at = $2")
            .bind(scope)
            .bind(at_ms)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn clear_sign_in_failures(&self, scope: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sign_in_failures WHERE scope = $1")
            .bind(scope)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    // --- The account's cart and orders ----------------------------------------------

    /// Moves a guest cart's lines into the account's cart (quantities added, capped at
    /// the per-line limit; lines beyond the cart's line limit are left out) and empties
    /// the guest cart, in one transaction. Prices are never copied: carts are always
    /// priced from the catalogue.
    pub async fn merge_cart(&self, guest: &CartId, into: &CartId) -> Result<(), StoreError> {
        if guest == into {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        Store::change_cart(&mut tx, into, now, true).await?;
        let guest_lines = sqlx::query(
            "SELECT product_id, quantity FROM cart_items WHERE cart_id = $1 ORDER BY added_at",
        )
        .bind(guest.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for line in &guest_lines {
            let product: i64 = line.try_get("product_id")?;
            let quantity: i64 = line.try_get("quantity")?;
            let merged = sqlx::query(
                "UPDATE cart_items SET quantity = CASE WHEN quantity + $1 > $2 THEN $2 \
                 ELSE quantity + $1 END WHERE cart_id = $3 AND product_id = $4",
            )
            .bind(quantity)
            .bind(i64::from(MAX_QUANTITY))
            .bind(into.as_str())
            .bind(product)
            .execute(&mut *tx)
            .await?;
            if merged.rows_affected() > 0 {
                continue;
            }
            let lines: i64 = sqlx::query("SELECT COUNT(*) AS n FROM cart_items WHERE cart_id = $1")
                .bind(into.as_str())
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            if lines >= MAX_LINES as i64 {
                continue;
            }
            sqlx::query(
                "INSERT INTO cart_items (cart_id, product_id, quantity, added_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(into.as_str())
            .bind(product)
            .bind(quantity)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM cart_items WHERE cart_id = $1")
            .bind(guest.as_str())
            .execute(&mut *tx)
            .await?;
        Store::change_cart(&mut tx, guest, now, false).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's orders, newest first (at most `limit`).
    pub async fn account_orders(
        &self,
        account: &AccountId,
        limit: i64,
    ) -> Result<Vec<OrderSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, status, currency, total_minor, created_at FROM orders \
             WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(account.as_str())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut orders = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = order_id(&row.try_get::<String, _>("id")?)?;
            let lines = sqlx::query(
                "SELECT name, quantity FROM order_lines WHERE order_id = $1 ORDER BY line_no",
            )
            .bind(id.as_str())
            .fetch_all(self.pool())
            .await?;
            let items = lines
                .iter()
                .map(|l| {
                    Ok(format!(
                        "{} × {}",
                        l.try_get::<i64, _>("quantity")?,
                        l.try_get::<String, _>("name")?
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?
                .join(", ");
            orders.push(OrderSummary {
                id,
                status: order_status(&row.try_get::<String, _>("status")?)?,
                total: Money::new(
                    row.try_get("total_minor")?,
                    currency(&row.try_get::<String, _>("currency")?)?,
                ),
                created_at: row.try_get("created_at")?,
                items,
            });
        }
        Ok(orders)
    }

    /// Refuses (as an unknown order: 404) unless the caller owns the order: an account's
    /// order belongs to that account only, a guest's to the cart cookie that placed it.
    pub async fn check_owner(&self, order: &OrderId, caller: &Caller) -> Result<(), StoreError> {
        let row = sqlx::query("SELECT account_id, cart_id FROM orders WHERE id = $1")
            .bind(order.as_str())
            .fetch_optional(self.pool())
            .await?;
        let owned = match row {
            Some(row) => caller.owns(
                row.try_get::<Option<String>, _>("account_id")?.as_deref(),
                &row.try_get::<String, _>("cart_id")?,
            ),
            None => false,
        };
        if owned {
            Ok(())
        } else {
            Err(ShopError::UnknownOrder {
                id: order.to_string(),
            }
            .into())
        }
    }
}
