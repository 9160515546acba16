//! Every sentence a shopper reads in answer to something (a refused card, a changed
//! cart, an order's status), in one place: used by the server (`stripe-client`, the
//! `shop` crate) and the browser (`stripe-js`, the app's islands) so that a failure reads
//! the same wherever it is detected. Errors everywhere follow one rule: `Display` is for
//! logs and developers, `customer_message()` returns one of these.
//!
//! None of them repeats Stripe's raw message, a Stripe id or anything about the shop's
//! configuration (the shop's own sentences may quote what the shopper sent: an order id,
//! a SKU). Lost, stolen and "pick up" declines get [`CARD_REFUSED`], which tells
//! the shopper to use another card without saying why (Stripe asks not to reveal those
//! reasons).

use crate::error::{code, decline_code};

pub const INSUFFICIENT_FUNDS: &str = "Your card has insufficient funds. Try another card.";
pub const INCORRECT_CVC: &str = "Your card's security code is incorrect.";
pub const EXPIRED_CARD: &str = "Your card has expired.";
pub const PROCESSING_ERROR: &str =
    "An error occurred while processing your card. Try again in a little bit.";
pub const INCORRECT_NUMBER: &str = "Your card number is incorrect.";
pub const INVALID_EXPIRY_MONTH: &str = "Your card's expiration month is invalid.";
pub const INVALID_EXPIRY_YEAR: &str = "Your card's expiration year is invalid.";
pub const INCORRECT_ZIP: &str = "Your card's postal code is incorrect.";
pub const AUTHENTICATION_REQUIRED: &str =
    "Your bank needs you to confirm this payment. Please try again and complete the verification step.";
/// 3-D Secure failed or was cancelled (`payment_intent_authentication_failure`).
pub const AUTHENTICATION_FAILED: &str =
    "We couldn't verify your card (3-D Secure was not completed). Try again or use another card.";
pub const LIMIT_EXCEEDED: &str = "Your card has reached its spending limit. Try another card.";
pub const CARD_NOT_SUPPORTED: &str = "Your card does not support this type of purchase.";
pub const CURRENCY_NOT_SUPPORTED: &str = "Your card does not support this currency.";
pub const TRY_AGAIN_LATER: &str =
    "Your bank could not process the payment right now. Try again in a little bit.";
/// Lost, stolen, "pick up" and restricted cards: another card is needed, and the reason
/// is deliberately not given.
pub const CARD_REFUSED: &str = "Your card was declined. Please use a different card.";
/// Any other decline (`generic_decline`, `do_not_honor`, `fraudulent`, unknown codes).
pub const DECLINED: &str = "Your card was declined.";
/// The server got no connection to Stripe at all, so nothing was sent.
pub const UNREACHABLE: &str =
    "We could not reach our payment provider. Your card was not charged; please try again.";
/// The browser could not reach Stripe (`api_connection_error` from Stripe.js).
pub const CONNECTION_FAILED: &str =
    "We couldn't reach the payment service. Check your connection and try again; you have not been charged.";
pub const UNCONFIRMED: &str =
    "We could not confirm your payment with our payment provider. Please wait a moment and check your order before trying again.";
/// Rate limited (HTTP 429 / `rate_limit_error`).
pub const BUSY: &str = "Our payment provider is busy right now. Please try again in a moment.";
/// `api_error` / HTTP 5xx.
pub const PROVIDER_ERROR: &str =
    "Our payment provider had a problem processing this request. Please try again in a little bit.";
pub const AMOUNT_NOT_SUPPORTED: &str =
    "This amount cannot be charged to a card. Please contact us.";
pub const UNAVAILABLE: &str = "Card payments are temporarily unavailable. Please try again later.";
pub const GENERIC: &str =
    "Something went wrong while processing your payment. Please try again or contact us.";
/// Stripe.js (the payment form) could not be loaded.
pub const FORM_NOT_LOADED: &str =
    "The payment form could not be loaded. Check your connection and reload the page.";
/// Stripe.js loaded but the payment form could not be set up.
pub const FORM_FAILED: &str =
    "The payment form could not be started. Reload the page and try again.";
/// A `validation_error` whose code is not in [`validation_message`]'s table.
pub const CARD_DETAILS_INVALID: &str = "Check your card details and try again.";

// --- The shop: carts, orders and the checkout page -------------------------------------

pub fn invalid_quantity(max: u32, input: &str) -> String {
    format!("Quantity must be a whole number from 1 to {max}; got “{input}”.")
}
pub fn quantity_limit(max: u32) -> String {
    format!("At most {max} of one product fit in a cart.")
}
pub fn too_many_lines(max: usize) -> String {
    format!("A cart holds at most {max} different products.")
}
pub fn unknown_product(sku: &str) -> String {
    format!("There is no product “{sku}” in the catalogue.")
}
pub fn not_in_cart(sku: &str) -> String {
    format!("“{sku}” is not in your cart.")
}
pub const EMPTY_CART: &str = "Your cart is empty.";
pub const MIXED_CURRENCIES: &str = "A cart can only hold items priced in one currency.";
pub fn total_changed(expected: &str, current: &str) -> String {
    format!("Prices or your cart changed: the total is now {current}, not {expected}. Please review your cart.")
}
pub const AMOUNT_TOO_LARGE: &str = "That amount is too large.";
pub fn unknown_order(id: &str) -> String {
    format!("There is no order “{id}”.")
}
pub const ALREADY_PAID: &str = "This order is already paid.";
pub fn not_payable(status: &str) -> String {
    format!("This order can no longer be paid (it is {status}).")
}
/// The shop's own failure (database, a bug): nothing was changed.
pub const SHOP_INTERNAL: &str =
    "Something went wrong on our side; nothing was changed. Please try again.";
/// The browser could not reach the shop's server.
pub const SHOP_UNREACHABLE: &str =
    "We couldn't reach the shop. Check your connection and try again; you have not been charged.";
/// A form posted without JavaScript was refused, for a reason the page cannot repeat.
pub const FORM_REFUSED: &str = "That form could not be accepted. Please check it and try again.";
pub fn bad_request(detail: &str) -> String {
    format!("The request could not be understood: {detail}")
}

/// Accounts and saved cards.
pub const INVALID_EMAIL: &str = "Enter an email address such as name@example.com.";
pub fn password_policy(min: usize, max: usize) -> String {
    format!("Use a password of {min} to {max} characters.")
}
pub const EMAIL_TAKEN: &str = "An account with this email already exists. Sign in instead.";
/// Deliberately silent about which of the two was wrong.
pub const SIGN_IN_FAILED: &str = "That email or password is wrong.";
pub fn sign_in_throttled(minutes: &str) -> String {
    let unit = if minutes == "1" { "minute" } else { "minutes" };
    format!("Too many sign-in attempts. Try again in {minutes} {unit}.")
}
/// A rate limit (per client address) was reached.
pub fn rate_limited(seconds: &str) -> String {
    let unit = if seconds == "1" { "second" } else { "seconds" };
    format!("Too many requests from your connection. Please wait {seconds} {unit} and try again.")
}
pub const ORDER_ATTEMPTS_EXHAUSTED: &str =
    "This order had too many declined payment attempts, so for \
your security it can no longer be paid. Please start a new order, or contact us if you need help.";
pub const CLIENT_ATTEMPTS_EXHAUSTED: &str =
    "Too many declined payments came from your connection in \
the last hour. Please try again later, or contact us if you need help.";
pub const SIGN_IN_REQUIRED: &str = "Please sign in first.";
pub const UNKNOWN_CARD: &str = "That card is not saved on your account.";
pub const NO_SAVED_CARD: &str = "You have no saved card to pay with. Choose a card at checkout.";

// ---- Merchant console -------------------------------------------------------------------

pub const NOT_FOUND: &str = "Not found.";
pub const REFUND_OUTCOME_UNKNOWN: &str =
    "Stripe did not answer in time. The refund is held and will be checked again; do not refund it twice.";
pub const REFUND_REFUSED: &str = "Stripe refused the refund:";

pub fn refund_too_large(requested: &str, refundable: &str) -> String {
    format!("A refund of {requested} is more than the {refundable} that can still be refunded. Nothing was sent.")
}

pub fn not_refundable(status: &str) -> String {
    format!("This order cannot be refunded: it is {status}.")
}

pub fn invalid_amount(input: &str) -> String {
    format!("{input:?} is not an amount. Give it like 5.00.")
}
/// The bank asks the shopper to confirm an off-session ("buy again") payment.
pub const CONFIRM_WITH_BANK: &str =
    "Your bank asks you to confirm this payment. Press Pay to authenticate your card.";
/// A new card was confirmed; Stripe has not told the shop yet.
pub const CARD_SAVING: &str = "Saving your card…";

/// What the order page says under each order status.
pub const ORDER_PENDING: &str = "Awaiting payment.";
pub const ORDER_PROCESSING: &str =
    "Payment received by the card network; waiting for confirmation.";
pub const ORDER_PAID: &str = "Paid. Thank you! Your order is on its way.";
pub const ORDER_FAILED: &str = "The last payment attempt failed. You can try again.";
pub const ORDER_CANCELED: &str = "This order was canceled.";
pub const ORDER_NEEDS_REVIEW: &str =
    "We are checking this payment by hand before we ship. We will be in touch; there is nothing you need to do.";
pub const ORDER_REFUNDED: &str = "This order was refunded.";
pub const ORDER_PARTIALLY_REFUNDED: &str = "Part of this order was refunded.";

/// The checkout page, opened again after a declined attempt.
pub const LAST_ATTEMPT_FAILED: &str =
    "Your last payment attempt did not go through. Please try again.";
/// Stripe.js threw while the card form was being set up.
pub const FORM_NOT_STARTED: &str = "The payment form could not be started. Please reload the page.";
/// `confirmCardPayment` resolved with an intent that is neither paid nor processing.
pub const PAYMENT_NOT_COMPLETED: &str = "The payment was not completed. Please try again.";
/// The confirmation's answer was lost and asking Stripe again failed too.
pub const CONFIRMATION_LOST: &str = "We lost the connection while confirming your payment. \
     Check your connection, then reload this page to see whether it went through before \
     trying again.";

/// The shopper's sentence for a card error (`code`, `decline_code` of a `card_error`;
/// also understands `payment_intent_authentication_failure`). The decline code wins
/// over the code when both are known; anything unknown is [`DECLINED`].
pub fn card_message(code: Option<&str>, decline_code: Option<&str>) -> &'static str {
    decline_code
        .and_then(specific_card_message)
        .or_else(|| code.and_then(specific_card_message))
        .unwrap_or(DECLINED)
}

fn specific_card_message(c: &str) -> Option<&'static str> {
    Some(match c {
        decline_code::INSUFFICIENT_FUNDS => INSUFFICIENT_FUNDS,
        decline_code::LOST_CARD | decline_code::STOLEN_CARD | "pickup_card" | "restricted_card" => {
            CARD_REFUSED
        }
        code::INCORRECT_CVC | "invalid_cvc" => INCORRECT_CVC,
        code::EXPIRED_CARD => EXPIRED_CARD,
        code::PROCESSING_ERROR => PROCESSING_ERROR,
        code::INCORRECT_NUMBER | "invalid_number" => INCORRECT_NUMBER,
        code::INVALID_EXPIRY_MONTH => INVALID_EXPIRY_MONTH,
        code::INVALID_EXPIRY_YEAR => INVALID_EXPIRY_YEAR,
        "incorrect_zip" => INCORRECT_ZIP,
        code::AUTHENTICATION_REQUIRED => AUTHENTICATION_REQUIRED,
        code::PAYMENT_INTENT_AUTHENTICATION_FAILURE => AUTHENTICATION_FAILED,
        "card_velocity_exceeded" | "withdrawal_count_limit_exceeded" => LIMIT_EXCEEDED,
        "card_not_supported" => CARD_NOT_SUPPORTED,
        "currency_not_supported" => CURRENCY_NOT_SUPPORTED,
        "try_again_later" | "reenter_transaction" | "issuer_not_available" => TRY_AGAIN_LATER,
        _ => return None,
    })
}

/// The sentence for a `validation_error` code of the card Element (the same English
/// wording Stripe.js uses). Stripe.js's own `message` is preferable where one is at
/// hand (it is localised); this is for when only the code is known.
pub fn validation_message(code: Option<&str>) -> &'static str {
    match code.unwrap_or("") {
        "incomplete_number" => "Your card number is incomplete.",
        "invalid_number" => "Your card number is invalid.",
        "incomplete_expiry" => "Your card's expiration date is incomplete.",
        "invalid_expiry_month" => "Your card's expiration date is invalid.",
        "invalid_expiry_month_past" => "Your card's expiration date is in the past.",
        "invalid_expiry_year" => "Your card's expiration year is invalid.",
        "invalid_expiry_year_past" => "Your card's expiration year is in the past.",
        "incomplete_cvc" => "Your card's security code is incomplete.",
        "invalid_cvc" => "Your card's security code is invalid.",
        "incomplete_zip" => "Your postal code is incomplete.",
        _ => CARD_DETAILS_INVALID,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_test_card_outcome_has_its_own_sentence() {
        let cases = [
            (Some("card_declined"), Some("generic_decline")),
            (Some("card_declined"), Some("insufficient_funds")),
            (Some("card_declined"), Some("lost_card")),
            (Some("incorrect_cvc"), None),
            (Some("expired_card"), None),
            (Some("processing_error"), None),
            (Some("incorrect_number"), None),
            (Some("payment_intent_authentication_failure"), None),
            (Some("authentication_required"), None),
        ];
        let mut seen: Vec<&str> = cases.iter().map(|(c, d)| card_message(*c, *d)).collect();
        seen.extend([CONNECTION_FAILED, BUSY, PROVIDER_ERROR]);
        for (i, a) in seen.iter().enumerate() {
            for b in &seen[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn decline_code_wins_and_unknowns_are_generic() {
        assert_eq!(
            card_message(Some("card_declined"), Some("expired_card")),
            EXPIRED_CARD
        );
        assert_eq!(
            card_message(Some("card_declined"), Some("stolen_card")),
            CARD_REFUSED
        );
        assert_eq!(
            card_message(Some("card_declined"), Some("fraudulent")),
            DECLINED
        );
        assert_eq!(card_message(Some("brand_new"), Some("whatever")), DECLINED);
        assert_eq!(card_message(None, None), DECLINED);
        assert_eq!(
            card_message(Some("card_declined"), Some("authentication_required")),
            AUTHENTICATION_REQUIRED
        );
    }

    #[test]
    fn validation_codes_keep_stripe_wording() {
        assert_eq!(
            validation_message(Some("incomplete_number")),
            "Your card number is incomplete."
        );
        assert_eq!(
            validation_message(Some("invalid_expiry_year_past")),
            "Your card's expiration year is in the past."
        );
        assert_eq!(validation_message(Some("nope")), CARD_DETAILS_INVALID);
        assert_eq!(validation_message(None), CARD_DETAILS_INVALID);
    }

    #[test]
    fn specific_sentences_from_the_brief() {
        assert_eq!(
            card_message(Some("payment_intent_authentication_failure"), None),
            "We couldn't verify your card (3-D Secure was not completed). Try again or use another card."
        );
        assert_eq!(
            CONNECTION_FAILED,
            "We couldn't reach the payment service. Check your connection and try again; you have not been charged."
        );
    }
}
