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
    /// 3-D Secure failed or was cancelled while setting up a card (SetupIntent).
    pub const SETUP_INTENT_AUTHENTICATION_FAILURE: &str = "setup_intent_authentication_failure";
    pub const SETUP_INTENT_UNEXPECTED_STATE: &str = "setup_intent_unexpected_state";
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
    /// The PaymentMethod of a card error (the card that was declined or needs
    /// authentication): after an off-session `authentication_required` it is the saved
    /// card to bring the shopper back on-session with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<serde_json::Value>,
    /// The SetupIntent as it is after the failure, when the error concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_intent: Option<serde_json::Value>,
}

impl ErrorBody {
    /// `payment_method.id` (Stripe sends the object; a bare id string is accepted too).
    pub fn payment_method_id(&self) -> Option<&str> {
        match self.payment_method.as_ref()? {
            serde_json::Value::String(id) => Some(id),
            object => object.get("id")?.as_str(),
        }
    }
}

/// `{"error": ErrorBody}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_off_session_authentication_error_carries_its_intent_and_card() {
        let body = r#"{"error": {"type": "card_error", "code": "authentication_required",
            "decline_code": "authentication_required", "charge": "ch_1",
            "payment_intent": {"id": "pi_1", "status": "requires_payment_method"},
            "payment_method": {"id": "pm_1", "object": "payment_method", "customer": "cus_1"},
            "request_log_url": "https://dashboard.stripe.com/test/logs/req_1"}}"#;
        let ErrorEnvelope { error } = serde_json::from_str(body).unwrap();
        assert_eq!(error.code.as_deref(), Some(code::AUTHENTICATION_REQUIRED));
        assert_eq!(error.payment_method_id(), Some("pm_1"));
        assert_eq!(
            error.payment_intent.as_ref().unwrap()["status"],
            "requires_payment_method"
        );
        assert_eq!(error.setup_intent, None);
        // An id string works too; no payment_method at all is `None`.
        let bare = ErrorBody {
            payment_method: Some(serde_json::json!("pm_2")),
            ..ErrorBody::default()
        };
        assert_eq!(bare.payment_method_id(), Some("pm_2"));
        assert_eq!(ErrorBody::default().payment_method_id(), None);
        // Absent fields stay absent when the body is written back.
        let written = serde_json::to_value(ErrorBody {
            kind: "card_error".into(),
            ..ErrorBody::default()
        })
        .unwrap();
        assert_eq!(written, serde_json::json!({"type": "card_error"}));
    }

    #[test]
    fn a_setup_failure_carries_the_setup_intent() {
        let body = r#"{"error": {"type": "invalid_request_error",
            "code": "setup_intent_authentication_failure",
            "setup_intent": {"id": "seti_1", "status": "requires_payment_method"}}}"#;
        let ErrorEnvelope { error } = serde_json::from_str(body).unwrap();
        assert_eq!(error.setup_intent.as_ref().unwrap()["id"], "seti_1");
        assert_eq!(error.payment_method_id(), None);
    }
}
