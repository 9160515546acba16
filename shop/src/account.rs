//! Shopper accounts as both sides see them: the credentials' newtypes (parsed once where
//! input enters), a saved card, an order in the account's list, and what the
//! "buy again" button leads to.

use std::fmt;

use serde::{Deserialize, Serialize};
use stripe_types::Money;

use crate::error::ShopError;
use crate::ids::{CartId, OrderId};
use crate::order::OrderStatus;

/// Passwords shorter than this are refused (OWASP: at least 8; we ask 10).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer ones are refused too (hashing cost, and nobody types more).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// An email address, trimmed and lower-cased (one account per address, whatever its
/// case). Checked for shape only: `local@domain.tld`, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, ShopError> {
        let email = input.trim().to_lowercase();
        let shaped = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            });
        if shaped {
            Ok(Email(email))
        } else {
            Err(ShopError::InvalidEmail)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl TryFrom<String> for Email {
    type Error = ShopError;
    fn try_from(s: String) -> Result<Self, ShopError> {
        Email::parse(&s)
    }
}

/// A password as typed: 10 to 128 characters (counted as characters, not bytes; any
/// character allowed, nothing trimmed). Never printed: `Debug` redacts it and there is no
/// `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(input: &str) -> Result<Password, ShopError> {
        let chars = input.chars().count();
        if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            Ok(Password(input.to_owned()))
        } else {
            Err(ShopError::PasswordPolicy)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// An account's id: `acc_` and 20 lowercase letters or digits (random).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountId(String);

impl AccountId {
    const PREFIX: &'static str = "acc_";
    const TAIL: usize = 20;

    /// From a stored row (ids never come from the browser).
    pub fn from_stored(id: String) -> Option<AccountId> {
        crate::ids::is_random_id(&id, Self::PREFIX, Self::TAIL).then_some(AccountId(id))
    }

    #[cfg(feature = "server")]
    pub fn generate() -> AccountId {
        AccountId(format!(
            "{}{}",
            Self::PREFIX,
            crate::ids::random_tail(Self::TAIL)
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Stripe PaymentMethod id as the browser sends it (`pm_` and letters, digits or `_`);
/// anything else is a card the shopper does not have (404).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct PaymentMethodId(String);

impl PaymentMethodId {
    pub fn parse(input: &str) -> Result<PaymentMethodId, ShopError> {
        let ok = input.strip_prefix("pm_").is_some_and(|tail| {
            !tail.is_empty()
                && tail.len() <= 250
                && tail.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        if ok {
            Ok(PaymentMethodId(input.to_owned()))
        } else {
            Err(ShopError::UnknownCard)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PaymentMethodId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<PaymentMethodId> for String {
    fn from(id: PaymentMethodId) -> String {
        id.0
    }
}

impl TryFrom<String> for PaymentMethodId {
    type Error = ShopError;
    fn try_from(s: String) -> Result<Self, ShopError> {
        PaymentMethodId::parse(&s)
    }
}

/// Who is asking, as the server resolved it from the request's cookies: the signed-in
/// account (if the session cookie is valid) and the guest cart (if the cart cookie is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub account: Option<AccountId>,
    /// The account's own cart when signed in (carts follow the account).
    pub account_cart: Option<CartId>,
    pub guest_cart: Option<CartId>,
}

impl Caller {
    /// The cart this caller shops with: the account's when signed in, else the guest's.
    pub fn cart(&self) -> Option<&CartId> {
        self.account_cart.as_ref().or(self.guest_cart.as_ref())
    }

    /// Whether an order placed by `account_id` (or by a guest, `None`) with `cart_id` is
    /// this caller's: an account's order only for that account, a guest's order only for
    /// the cart cookie that placed it.
    pub fn owns(&self, account_id: Option<&str>, cart_id: &str) -> bool {
        match account_id {
            Some(owner) => self.account.as_ref().is_some_and(|a| a.as_str() == owner),
            None => self
                .guest_cart
                .as_ref()
                .is_some_and(|c| c.as_str() == cart_id),
        }
    }
}

/// A one-time id a form carries (16–64 letters, digits or `-`), so that the same
/// submission twice (a double click, a resent form) is recognised as one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(input: &str) -> Result<RequestId, ShopError> {
        let ok = (16..=64).contains(&input.len())
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(RequestId(input.to_owned()))
        } else {
            Err(ShopError::BadRequest(
                "request_id must be 16 to 64 letters, digits or dashes".into(),
            ))
        }
    }

    /// A new random one (128 bits), for a form the server renders.
    #[cfg(feature = "server")]
    pub fn generate() -> RequestId {
        RequestId(crate::ids::random_tail(26))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who is signed in, as pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub email: String,
}

/// What the checkout offers the caller: saved cards (and "save this card") only when
/// signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOptions {
    pub signed_in: bool,
    /// The default card first.
    pub cards: Vec<SavedCard>,
}

/// A card saved on the shopper's account (a PaymentMethod attached to their Customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCard {
    pub id: PaymentMethodId,
    /// `visa`, `mastercard`, `amex`…
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    pub is_default: bool,
    /// The card expires within 30 days (or has).
    pub expiring: bool,
}

impl SavedCard {
    /// "Visa ending 4242".
    pub fn label(&self) -> String {
        let brand = match self.brand.as_str() {
            "visa" => "Visa",
            "mastercard" => "Mastercard",
            "amex" => "American Express",
            "discover" => "Discover",
            "diners" => "Diners Club",
            "jcb" => "JCB",
            "unionpay" => "UnionPay",
            _ => "Card",
        };
        format!("{brand} ending {}", self.last4)
    }

    /// "12/34".
    pub fn expiry(&self) -> String {
        format!("{:02}/{:02}", self.exp_month, self.exp_year.rem_euclid(100))
    }
}

/// Whether a card valid through `exp_month/exp_year` (the end of that month) runs out
/// within 30 days of `now_secs` (Unix seconds).
pub fn expires_within_30_days(exp_month: u32, exp_year: i32, now_secs: i64) -> bool {
    // First day of the month after expiry, as days since 1970-01-01.
    let (y, m) = if exp_month >= 12 {
        (i64::from(exp_year) + 1, 1)
    } else {
        (i64::from(exp_year), i64::from(exp_month) + 1)
    };
    let end_days = days_from_civil(y, m, 1);
    let now_days = now_secs.div_euclid(86_400);
    end_days - now_days <= 30
}

/// `2026-12-02` for a Unix-milliseconds timestamp (UTC).
pub fn date(unix_ms: i64) -> String {
    let (y, m, d) = civil_from_days(unix_ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One order in the account's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: OrderId,
    pub status: OrderStatus,
    pub total: Money,
    /// Unix milliseconds.
    pub created_at: i64,
    /// "2 × Ferris mug, 1 × Async socks".
    pub items: String,
}

/// What the browser needs to confirm a new card with `confirmCardSetup`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStart {
    pub setup_intent_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for SetupStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupStart")
            .field("setup_intent_id", &self.setup_intent_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// What "buy again" did: the new order, and where the shopper goes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuyAgain {
    /// Charged off-session with the default card (paid, or processing): the order page.
    Charged { order_id: OrderId },
    /// The bank wants the shopper: the order's checkout, with the same card selected.
    NeedsAuthentication {
        order_id: OrderId,
        payment_method: PaymentMethodId,
    },
    /// Declined (or no usable default card): the order's checkout, with the reason, to
    /// pay with another card.
    ChooseAnotherCard { order_id: OrderId, message: String },
}

impl BuyAgain {
    /// The page the shopper goes to next.
    pub fn next_page(&self) -> String {
        match self {
            BuyAgain::Charged { order_id } => format!("/orders/{order_id}"),
            BuyAgain::NeedsAuthentication {
                order_id,
                payment_method,
            } => format!("/checkout/{order_id}?card={payment_method}"),
            BuyAgain::ChooseAnotherCard { order_id, .. } => format!("/checkout/{order_id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_shaped() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@@example.com",
            "an n@example.com",
            "ann@.example.com",
            "ann@example..com",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert_eq!(Email::parse(bad), Err(ShopError::InvalidEmail), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_10_to_128_characters_and_never_printed() {
        assert!(Password::parse("correct horse").is_ok());
        assert_eq!(Password::parse("short"), Err(ShopError::PasswordPolicy));
        assert_eq!(
            Password::parse(&"x".repeat(9)),
            Err(ShopError::PasswordPolicy)
        );
        assert!(Password::parse(&"x".repeat(10)).is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129)),
            Err(ShopError::PasswordPolicy)
        );
        // Characters, not bytes: ten 4-byte characters are ten characters.
        assert!(Password::parse(&"🦀".repeat(10)).is_ok());
        assert_eq!(
            Password::parse(&"🦀".repeat(129)),
            Err(ShopError::PasswordPolicy)
        );
        let p = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn request_ids_are_shaped() {
        assert!(RequestId::parse("0123456789abcdef").is_ok());
        assert!(RequestId::parse(&"a".repeat(64)).is_ok());
        for bad in [
            "",
            "short",
            &"a".repeat(65),
            "0123456789abcdef'",
            "0123456789 abcdef",
        ] {
            assert!(RequestId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn payment_method_ids_are_shaped_or_unknown() {
        assert!(PaymentMethodId::parse("pm_1AbC_d").is_ok());
        for bad in ["", "pm_", "card_1", "pm_1'--", "pm_1 2", "cus_1"] {
            assert_eq!(
                PaymentMethodId::parse(bad),
                Err(ShopError::UnknownCard),
                "{bad}"
            );
        }
    }

    #[test]
    fn account_ids_are_only_read_from_storage_when_well_formed() {
        assert!(AccountId::from_stored("acc_0123456789abcdefghij".into()).is_some());
        assert!(AccountId::from_stored("acc_x".into()).is_none());
        assert!(AccountId::from_stored("ord_0123456789abcdefghij".into()).is_none());
    }

    #[test]
    fn orders_belong_to_their_account_or_to_the_cart_that_placed_them() {
        let account = AccountId::from_stored("acc_0123456789abcdefghij".into()).unwrap();
        let cart = CartId::parse(&"a".repeat(32)).unwrap();
        let other_cart = CartId::parse(&"b".repeat(32)).unwrap();
        let signed_in = Caller {
            account: Some(account.clone()),
            account_cart: Some(other_cart.clone()),
            guest_cart: Some(cart.clone()),
        };
        let guest = Caller {
            guest_cart: Some(cart.clone()),
            ..Caller::default()
        };
        let stranger = Caller::default();
        // An account's order: that account only (not the cart cookie, not a stranger).
        assert!(signed_in.owns(Some(account.as_str()), other_cart.as_str()));
        assert!(!guest.owns(Some(account.as_str()), cart.as_str()));
        assert!(!signed_in.owns(Some("acc_zzzzzzzzzzzzzzzzzzzz"), other_cart.as_str()));
        // A guest's order: the cart cookie that placed it, signed in or not.
        assert!(guest.owns(None, cart.as_str()));
        assert!(signed_in.owns(None, cart.as_str()));
        assert!(!guest.owns(None, other_cart.as_str()));
        assert!(!stranger.owns(None, cart.as_str()));
        assert_eq!(signed_in.cart(), Some(&other_cart));
        assert_eq!(guest.cart(), Some(&cart));
    }

    #[test]
    fn cards_expiring_within_30_days_are_flagged() {
        // 2026-12-02T00:00:00Z
        let now = 1_796_169_600;
        assert!(
            expires_within_30_days(12, 2026, now),
            "ends 2027-01-01, 30 days away"
        );
        assert!(expires_within_30_days(11, 2026, now), "already expired");
        assert!(!expires_within_30_days(1, 2027, now), "ends 2027-02-01");
        assert!(!expires_within_30_days(12, 2034, now));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(date(now * 1000), "2026-12-02");
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400_000), "2000-02-29");
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn cards_read_as_brand_and_last_four() {
        let card = SavedCard {
            id: PaymentMethodId::parse("pm_1").unwrap(),
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: 4,
            exp_year: 2031,
            is_default: true,
            expiring: false,
        };
        assert_eq!(card.label(), "Visa ending 4242");
        assert_eq!(card.expiry(), "04/31");
    }
}
