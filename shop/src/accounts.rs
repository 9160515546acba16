//! Accounts: sign-up, sign-in, sign-out and sessions.
//!
//! - Passwords: Argon2id (RustCrypto's `argon2`) with OWASP's parameters (19 MiB, 2
//!   passes, 1 lane: the crate's defaults, asserted in a test), hashed on tokio's blocking
//!   pool, on at most half the cores at a time, so sign-ins never stall payments.
//! - Sessions: a random 256-bit token in the cookie; only its SHA-256 is stored. A new
//!   token at every sign-in (the old one revoked), deleted at sign-out, expired after
//!   [`SessionPolicy::idle`] without use or [`SessionPolicy::absolute`] after sign-in.
//!   Hand-written (≈60 lines) rather than `tower-sessions`: its stores keep the session id
//!   itself (not a hash) and come per database (no `sqlx::Any` store), while this needs
//!   one table on both backends and nothing but an account id in the session.
//! - Throttling ([`ThrottlePolicy`]): failed sign-ins counted per email and per client
//!   address over a window; past a first threshold answers are slowed, past a second the
//!   sign-in is refused with "try again in N minutes" (without checking the password).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::account::{AccountId, Caller, Email, Password};
use crate::error::ShopError;
use crate::ids::CartId;
use crate::store::accounts::AccountRow;
use crate::store::{now_ms, Store, StoreError};

/// A session token as it travels in the cookie: 64 hex digits (256 random bits). Never
/// printed (`Debug` redacts it); stored only as [`SessionToken::hash`].
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> SessionToken {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SessionToken(hex(&bytes))
    }

    /// From a cookie; `None` when malformed (the cookie is ignored).
    pub fn parse(cookie: &str) -> Option<SessionToken> {
        (cookie.len() == 64
            && cookie
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| SessionToken(cookie.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database keeps: SHA-256 of the token, hex. (A fast hash is right here:
    /// the token has 256 bits of entropy, nothing to brute-force.)
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Unused this long, a session is over.
    pub idle: Duration,
    /// Whatever the use, a session ends this long after sign-in.
    pub absolute: Duration,
    /// `last_seen_at` is written at most this often (not on every request).
    pub touch_every: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::from_secs(60 * 60 * 24 * 7),
            absolute: Duration::from_secs(60 * 60 * 24 * 30),
            touch_every: Duration::from_secs(60),
        }
    }
}

/// Sign-in throttling.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures older than this are forgotten.
    pub window: Duration,
    /// Per email: answers slow down after this many failures…
    pub email_slow_after: usize,
    /// …and sign-in is refused after this many.
    pub email_lock_after: usize,
    /// Per client address (password spraying across emails).
    pub client_slow_after: usize,
    pub client_lock_after: usize,
    /// Added per failure beyond the slow threshold, capped at `max_delay`.
    pub delay_step: Duration,
    pub max_delay: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            window: Duration::from_secs(15 * 60),
            email_slow_after: 3,
            email_lock_after: 10,
            client_slow_after: 20,
            client_lock_after: 50,
            delay_step: Duration::from_millis(500),
            max_delay: Duration::from_secs(3),
        }
    }
}

/// What the throttle says about one scope's recent failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Answer no sooner than this.
    Slow(Duration),
    /// Refused until then (Unix ms).
    Locked {
        until_ms: i64,
    },
}

/// The throttle's decision for failures `newest_first` (Unix ms, all inside the window).
pub fn verdict(
    newest_first: &[i64],
    slow_after: usize,
    lock_after: usize,
    policy: &ThrottlePolicy,
) -> Verdict {
    let n = newest_first.len();
    if n >= lock_after && lock_after > 0 {
        // Free again when the lock_after-th newest failure leaves the window.
        let until_ms = newest_first[lock_after - 1] + policy.window.as_millis() as i64;
        return Verdict::Locked { until_ms };
    }
    if n >= slow_after && slow_after > 0 {
        let extra = (n - slow_after + 1) as u32;
        return Verdict::Slow(
            policy
                .delay_step
                .saturating_mul(extra)
                .min(policy.max_delay),
        );
    }
    Verdict::Go
}

/// A signed-in session: its token (for the cookie) and the account.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: SessionToken,
    pub account: AccountRow,
}

/// Accounts and sessions.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
    sessions: SessionPolicy,
    throttle: ThrottlePolicy,
    /// Argon2 hashes running at once (half the cores): each takes 19 MiB and a core for
    /// tens of ms.
    hashing: Arc<Semaphore>,
}

impl Accounts {
    pub fn new(store: Store) -> Accounts {
        Accounts::with_policies(store, SessionPolicy::default(), ThrottlePolicy::default())
    }

    pub fn with_policies(
        store: Store,
        sessions: SessionPolicy,
        throttle: ThrottlePolicy,
    ) -> Accounts {
        // Half the cores at most (at least one): a burst of sign-ins queues here instead
        // of taking every core from payments.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Accounts {
            store,
            sessions,
            throttle,
            hashing: Arc::new(Semaphore::new((cores / 2).max(1))),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Creates an account and signs it in; the guest cart (if any) moves into it.
    #[tracing::instrument(level = "error", skip_all)]
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        guest_cart: Option<&CartId>,
    ) -> Result<Session, ShopError> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        if self.store.account_by_email(&email).await?.is_some() {
            return Err(ShopError::EmailTaken);
        }
        let hash = self.hash(password).await?;
        let account = self
            .store
            .create_account(&AccountId::generate(), &email, &hash)
            .await?;
        tracing::info!(account = %account.id, "account created");
        self.start_session(account, guest_cart).await
    }

    /// Makes `email` a merchant with `password` (created if it has no account yet, its
    /// password replaced otherwise): the start-up merchant and `server merchant add`.
    #[tracing::instrument(level = "error", skip_all)]
    pub async fn ensure_merchant(
        &self,
        email: &str,
        password: &str,
    ) -> Result<AccountId, ShopError> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        let hash = self.hash(password).await?;
        let account = match self.store.account_by_email(&email).await? {
            Some(account) => account,
            None => match self
                .store
                .create_account(&AccountId::generate(), &email, &hash)
                .await
            {
                Ok(account) => account,
                // Created by another instance starting at the same moment.
                Err(StoreError::Refused(ShopError::EmailTaken)) => self
                    .store
                    .account_by_email(&email)
                    .await?
                    .ok_or(ShopError::Internal)?,
                Err(e) => return Err(e.into()),
            },
        };
        self.store.make_merchant(&account.id, &hash).await?;
        tracing::info!(account = %account.id, "merchant account ready");
        Ok(account.id)
    }

    /// Signs in (a new session; `previous` is revoked). Every failure is the same
    /// [`ShopError::SignInFailed`] (unknown email and wrong password alike, in about the
    /// same time), or [`ShopError::Throttled`].
    #[tracing::instrument(level = "error", skip_all)]
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
        guest_cart: Option<&CartId>,
        previous: Option<&SessionToken>,
    ) -> Result<Session, ShopError> {
        // Malformed input is a failed sign-in like any other (and counts as one).
        let email = Email::parse(email).map_err(|_| ShopError::SignInFailed)?;
        let scopes = [format!("email:{email}"), format!("client:{client}")];
        // The attempt is recorded before anything is checked, so that attempts running
        // at the same moment count each other (a burst cannot all pass the check); a
        // refused or successful one is taken back.
        let attempt_at = now_ms();
        self.store
            .record_sign_in_failure(&scopes, attempt_at)
            .await?;
        let delay = match self.check_throttle(&scopes).await {
            Ok(delay) => delay,
            Err(refused) => {
                for scope in &scopes {
                    self.store.forget_sign_in_attempt(scope, attempt_at).await?;
                }
                return Err(refused);
            }
        };
        let account = self.store.account_by_email(&email).await?;
        let password = Password::parse(password).ok();
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let ok = match password {
            Some(password) => self.verify(password, stored).await?,
            None => false,
        };
        match (ok, account) {
            (true, Some(account)) => {
                self.store.clear_sign_in_failures(&scopes[0]).await?;
                self.store
                    .forget_sign_in_attempt(&scopes[1], attempt_at)
                    .await?;
                if let Some(previous) = previous {
                    self.store.delete_session(&previous.hash()).await?;
                }
                tracing::info!(account = %account.id, "signed in");
                self.start_session(account, guest_cart).await
            }
            _ => {
                tokio::time::sleep(delay).await;
                tracing::info!("sign-in failed");
                Err(ShopError::SignInFailed)
            }
        }
    }

    /// Ends the session (revoked on the server: the cookie is worthless afterwards).
    pub async fn sign_out(&self, token: &SessionToken) -> Result<(), ShopError> {
        Ok(self.store.delete_session(&token.hash()).await?)
    }

    /// The account signed in with this token, if the session is alive.
    pub async fn session(&self, token: &SessionToken) -> Result<Option<AccountRow>, ShopError> {
        let now = now_ms();
        let hash = token.hash();
        let found = self
            .store
            .session_account(
                &hash,
                now - self.sessions.idle.as_millis() as i64,
                now - self.sessions.absolute.as_millis() as i64,
            )
            .await?;
        let Some((account, last_seen)) = found else {
            return Ok(None);
        };
        if now - last_seen >= self.sessions.touch_every.as_millis() as i64 {
            self.store.touch_session(&hash).await?;
        }
        Ok(Some(account))
    }

    /// Who is asking: the session's account (if the token is alive) and the guest cart.
    pub async fn caller(
        &self,
        token: Option<&SessionToken>,
        guest_cart: Option<CartId>,
    ) -> Result<(Caller, Option<AccountRow>), ShopError> {
        let account = match token {
            Some(token) => self.session(token).await?,
            None => None,
        };
        let caller = Caller {
            account: account.as_ref().map(|a| a.id.clone()),
            account_cart: account.as_ref().map(|a| a.cart_id.clone()),
            guest_cart,
        };
        Ok((caller, account))
    }

    /// Sessions idle or too old, and failures out of the window, are deleted.
    pub async fn purge(&self) -> Result<u64, ShopError> {
        let now = now_ms();
        Ok(self
            .store
            .purge_sessions(
                now - self.sessions.idle.as_millis() as i64,
                now - self.sessions.absolute.as_millis() as i64,
                now - self.throttle.window.as_millis() as i64,
            )
            .await?)
    }

    async fn start_session(
        &self,
        account: AccountRow,
        guest_cart: Option<&CartId>,
    ) -> Result<Session, ShopError> {
        if let Some(guest) = guest_cart {
            self.store.merge_cart(guest, &account.cart_id).await?;
        }
        let token = SessionToken::generate();
        self.store
            .create_session(&token.hash(), &account.id)
            .await?;
        Ok(Session { token, account })
    }

    /// `Err(Throttled)` when a scope is locked; otherwise how long to hold a failure's
    /// answer. Called with this attempt already recorded: it is left out of the count.
    async fn check_throttle(&self, scopes: &[String; 2]) -> Result<Duration, ShopError> {
        let p = &self.throttle;
        let since = now_ms() - p.window.as_millis() as i64;
        let limits = [
            (p.email_slow_after, p.email_lock_after),
            (p.client_slow_after, p.client_lock_after),
        ];
        let mut delay = Duration::ZERO;
        for (scope, (slow, lock)) in scopes.iter().zip(limits) {
            let failures = self
                .store
                .sign_in_failures(scope, since, lock.max(slow) as i64 + 1)
                .await?;
            let before_this = failures.get(1..).unwrap_or_default();
            match verdict(before_this, slow, lock, p) {
                Verdict::Go => {}
                Verdict::Slow(d) => delay = delay.max(d),
                Verdict::Locked { until_ms } => {
                    let minutes = ((until_ms - now_ms()).max(1) + 59_999) / 60_000;
                    tracing::warn!(
                        scope = scope.split(':').next(),
                        minutes,
                        "sign-in throttled"
                    );
                    return Err(ShopError::Throttled {
                        minutes: minutes.to_string(),
                    });
                }
            }
        }
        Ok(delay)
    }

    async fn hash(&self, password: Password) -> Result<String, ShopError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| ShopError::Internal)?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .map_err(|_| ShopError::Internal)?
        .map_err(|error| {
            tracing::error!(%error, "password hashing failed");
            ShopError::Internal
        })
    }

    /// Checks the password against the stored hash; with no account, against a dummy
    /// hash, so an unknown email takes as long as a wrong password.
    async fn verify(&self, password: Password, stored: Option<String>) -> Result<bool, ShopError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| ShopError::Internal)?;
        tokio::task::spawn_blocking(move || {
            let known = stored.is_some();
            let phc = stored.unwrap_or_else(|| dummy_hash().to_owned());
            let Ok(parsed) = PasswordHash::new(&phc) else {
                tracing::error!("stored password hash does not parse");
                return false;
            };
            let matches = Argon2::default()
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            known && matches
        })
        .await
        .map_err(|_| ShopError::Internal)
    }
}

/// A hash of a random password, for timing-equal failures on unknown emails.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(SessionToken::generate().expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_defaults_are_argon2id_with_at_least_owasp_parameters() {
        let salt = SaltString::generate(&mut OsRng);
        let phc = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let param = |name: &str| parsed.params.get_decimal(name).unwrap();
        // OWASP: m = 19 MiB, t = 2, p = 1 (or stronger).
        assert!(param("m") >= 19 * 1024, "{phc}");
        assert!(param("t") >= 2, "{phc}");
        assert_eq!(param("p"), 1, "{phc}");
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"correct horse batterY", &parsed)
            .is_err());
    }

    #[test]
    fn session_tokens_are_256_random_bits_stored_only_hashed() {
        let a = SessionToken::generate();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, SessionToken::generate());
        assert_eq!(SessionToken::parse(a.expose()), Some(a.clone()));
        assert_ne!(a.hash(), a.expose());
        assert_eq!(a.hash().len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
        for bad in ["", "abc", &"G".repeat(64), &"A".repeat(64), &"a".repeat(65)] {
            assert_eq!(SessionToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_throttle_slows_then_locks_until_failures_leave_the_window() {
        let p = ThrottlePolicy::default();
        let now = 1_000_000_000i64;
        let failures = |n: usize| (0..n).map(|i| now - i as i64 * 1000).collect::<Vec<_>>();
        assert_eq!(verdict(&failures(0), 3, 10, &p), Verdict::Go);
        assert_eq!(verdict(&failures(2), 3, 10, &p), Verdict::Go);
        assert_eq!(
            verdict(&failures(3), 3, 10, &p),
            Verdict::Slow(p.delay_step)
        );
        assert_eq!(
            verdict(&failures(4), 3, 10, &p),
            Verdict::Slow(p.delay_step * 2)
        );
        assert_eq!(verdict(&failures(9), 3, 10, &p), Verdict::Slow(p.max_delay));
        // The 10th newest failure was 9 s before the newest: free 15 min after it.
        assert_eq!(
            verdict(&failures(10), 3, 10, &p),
            Verdict::Locked {
                until_ms: now - 9_000 + 15 * 60 * 1000
            }
        );
    }
}
