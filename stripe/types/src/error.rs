//! Stripe's error vocabulary: the `type` of an error body, card error `code`s and
//! `decline_code`s, and the body itself.

use serde::{Deserialize, Serialize};

use crate::wire_enum;

wire_enum!(
    /// `error.type` in a Stripe error body. `api_connection_error` is never in a body:
    /// it is what clients call a request that got no HTTP answer. `validation_error` comes
    /// only from Stripe.js (card details incomplete or invalid in the card Element).
    ErrorType {
        ApiError = "api_error",
        CardError = "card_error",
        IdempotencyError = "idempotency_error",
        InvalidRequestError = "invalid_request_error",
        ApiConnectionError = "api_connection_error",
        RateLimitError = "rate_limit_error",
        AuthenticationError = "authentication_error",
        ValidationError = "validation_error",
    }
);

/// `error.code` values the checkout handles specifically.
pub mod code {
    pub const CARD_DECLINED: &str = "card_declined";
    pub const INCORRECT_CVC: &str = "incorrect_cvc";
    pub const INCORRECT_NUMBER: &str = "incorrect_number";
    pub const INVALID_EXPIRY_YEAR: &str = "invalid_expiry_year";
    pub const INVALID_EXPIRY_MONTH: &str = "invalid_expiry_month";
    pub const EXPIRED_CARD: &str = "expired_card";
    pub const PROCESSING_ERROR: &str = "processing_error";
    pub const AUTHENTICATION_REQUIRED: &str = "authentication_required";
    pub const PAYMENT_INTENT_AUTHENTICATION_FAILURE: &str = "payment_intent_authentication_failure";
    pub const PAYMENT_INTENT_UNEXPECTED_STATE: &str = "payment_intent_unexpected_state";
    pub const RESOURCE_MISSING: &str = "resource_missing";
    pub const PARAMETER_MISSING: &str = "parameter_missing";
    pub const PARAMETER_INVALID_INTEGER: &str = "parameter_invalid_integer";
    pub const PARAMETER_UNKNOWN: &str = "parameter_unknown";
    pub const AMOUNT_TOO_LARGE: &str = "amount_too_large";
    pub const CHARGE_ALREADY_REFUNDED: &str = "charge_already_refunded";
    pub const IDEMPOTENCY_KEY_IN_USE: &str = "idempotency_key_in_use";
    pub const RATE_LIMIT: &str = "rate_limit";
}

/// `error.decline_code` values of Stripe's test cards.
pub mod decline_code {
    pub const GENERIC_DECLINE: &str = "generic_decline";
    pub const INSUFFICIENT_FUNDS: &str = "insufficient_funds";
    pub const LOST_CARD: &str = "lost_card";
    pub const STOLEN_CARD: &str = "stolen_card";
    pub const EXPIRED_CARD: &str = "expired_card";
    pub const INCORRECT_CVC: &str = "incorrect_cvc";
    pub const PROCESSING_ERROR: &str = "processing_error";
}

/// The `error` object of a Stripe error response (`{"error": {...}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge: Option<String>,
    /// The PaymentIntent as it is after the failure, when the error concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<serde_json::Value>,
}

/// `{"error": ErrorBody}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}
