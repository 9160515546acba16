//! What a Stripe.js payment or card-setup call ends in, turned into Rust types: pure
//! functions over plain serde structs, so they are unit-tested natively.

use std::fmt;

use serde::Deserialize;
use stripe_types::error::code;
use stripe_types::messages;
use stripe_types::{ErrorType, PaymentIntentStatus, SetupIntentStatus};

/// The PaymentIntent as Stripe.js reported it. Only a hint for the UI: fulfil orders
/// from the server's view of the PaymentIntent (webhook or retrieve), never from this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentIntentInfo {
    /// `pi_…`.
    pub id: String,
    /// A status this crate does not know (a newer Stripe) is reported as
    /// [`PaymentIntentStatus::Processing`]: not final, ask the server.
    pub status: PaymentIntentStatus,
    /// In the currency's smallest unit.
    pub amount: i64,
    /// Lower-case ISO code, as Stripe sends it (`"usd"`).
    pub currency: String,
}

/// The SetupIntent as Stripe.js reported it after `confirmCardSetup`. Only a hint for
/// the UI: the card counts as saved once the server sees it (webhook
/// `setup_intent.succeeded` / `payment_method.attached`, or a retrieve).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupIntentInfo {
    /// `seti_…`.
    pub id: String,
    /// A status this crate does not know (a newer Stripe) is reported as
    /// [`SetupIntentStatus::Processing`]: not final, ask the server.
    pub status: SetupIntentStatus,
    /// The card being saved (`pm_…`), when Stripe.js said.
    pub payment_method: Option<String>,
}

/// A payment call that did not end in a PaymentIntent: a decline, a failed 3-D Secure,
/// incomplete card details, a network failure, or a misuse of Stripe.js.
///
/// `Display` is for developers and logs; [`PaymentError::customer_message`] is for the
/// shopper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentError {
    /// `error.type`; `ApiConnectionError` for a network failure, `InvalidRequestError` for
    /// an exception thrown by Stripe.js (an integration error).
    pub kind: ErrorType,
    /// `error.code` (`card_declined`, `incorrect_cvc`, `incomplete_number`, …).
    pub code: Option<String>,
    /// `error.decline_code` of a `card_declined` (`insufficient_funds`, …).
    pub decline_code: Option<String>,
    /// Stripe's (or the exception's) own message: for logs, not for the shopper.
    pub message: Option<String>,
    /// The status of the PaymentIntent after the failure, when Stripe.js included it
    /// (`requires_payment_method` after a decline).
    pub payment_intent_status: Option<PaymentIntentStatus>,
}

impl PaymentError {
    /// A fixed sentence for the shopper (the table in [`stripe_types::messages`], the
    /// same the server uses). Never Stripe's raw message.
    pub fn customer_message(&self) -> &'static str {
        let code = self.code.as_deref();
        match self.kind {
            ErrorType::CardError => messages::card_message(code, self.decline_code.as_deref()),
            ErrorType::ValidationError => messages::validation_message(code),
            ErrorType::ApiConnectionError => messages::CONNECTION_FAILED,
            ErrorType::RateLimitError => messages::BUSY,
            ErrorType::ApiError => messages::PROVIDER_ERROR,
            ErrorType::AuthenticationError => messages::UNAVAILABLE,
            ErrorType::InvalidRequestError | ErrorType::IdempotencyError => match code {
                Some(
                    code::PAYMENT_INTENT_AUTHENTICATION_FAILURE
                    | code::SETUP_INTENT_AUTHENTICATION_FAILURE,
                ) => messages::AUTHENTICATION_FAILED,
                Some(code::AUTHENTICATION_REQUIRED) => messages::AUTHENTICATION_REQUIRED,
                _ => messages::GENERIC,
            },
        }
    }

    /// `true` for a `card_error` (a decline or wrong card details checked by the bank).
    pub fn is_card_error(&self) -> bool {
        self.kind == ErrorType::CardError
    }

    /// `true` when the card Element's details are incomplete or invalid
    /// (`validation_error`): the Element already shows the reason next to the field.
    pub fn is_validation_error(&self) -> bool {
        self.kind == ErrorType::ValidationError
    }

    /// An exception thrown (or a promise rejected) by Stripe.js, classified from the
    /// error's `name` and `message`: network failures become `ApiConnectionError`,
    /// anything else an integration error (`InvalidRequestError`).
    pub(crate) fn from_exception(name: Option<&str>, message: Option<&str>) -> PaymentError {
        let kind = if is_network_failure(name, message) {
            ErrorType::ApiConnectionError
        } else {
            ErrorType::InvalidRequestError
        };
        let message = match (name, message) {
            (Some(n), Some(m)) if !n.is_empty() && n != "Error" => Some(format!("{n}: {m}")),
            (_, Some(m)) => Some(m.to_owned()),
            (Some(n), None) => Some(n.to_owned()),
            (None, None) => Some("Stripe.js threw a value that is not an Error".to_owned()),
        };
        PaymentError {
            kind,
            code: None,
            decline_code: None,
            message,
            payment_intent_status: None,
        }
    }

    /// Stripe.js answered something this crate cannot read.
    pub(crate) fn unexpected(what: &str) -> PaymentError {
        PaymentError {
            kind: ErrorType::ApiError,
            code: None,
            decline_code: None,
            message: Some(what.to_owned()),
            payment_intent_status: None,
        }
    }
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        match (&self.code, &self.decline_code) {
            (Some(c), Some(d)) => write!(f, " ({c}/{d})")?,
            (Some(c), None) => write!(f, " ({c})")?,
            (None, Some(d)) => write!(f, " (/{d})")?,
            (None, None) => {}
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(s) = &self.payment_intent_status {
            write!(f, " [payment intent {s}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for PaymentError {}

fn is_network_failure(name: Option<&str>, message: Option<&str>) -> bool {
    if matches!(name, Some("NetworkError" | "TimeoutError" | "AbortError")) {
        return true;
    }
    let Some(message) = message else {
        return false;
    };
    let lower = message.to_ascii_lowercase();
    // Chrome "Failed to fetch", Firefox "NetworkError when attempting to fetch resource.",
    // Safari "Load failed", and Stripe's own "A network error occurred …".
    lower.contains("network")
        || (name == Some("TypeError")
            && (lower.contains("failed to fetch") || lower.contains("load failed")))
}

/// What `confirmCardPayment`, `handleCardAction` and `retrievePaymentIntent` resolve to:
/// `{paymentIntent}` or `{error}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ConfirmResult {
    #[serde(rename = "paymentIntent")]
    pub payment_intent: Option<PaymentIntentJs>,
    pub error: Option<ErrorBodyJs>,
}

/// The fields of a PaymentIntent this crate reads. Everything optional so that an odd
/// value in one field never hides the rest.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PaymentIntentJs {
    pub id: Option<String>,
    pub status: Option<String>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub last_payment_error: Option<ErrorBodyJs>,
}

/// Stripe.js's `error` object.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBodyJs {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
    pub payment_intent: Option<PaymentIntentStatusJs>,
}

/// What `confirmCardSetup` resolves to: `{setupIntent}` or `{error}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SetupResult {
    #[serde(rename = "setupIntent")]
    pub setup_intent: Option<SetupIntentJs>,
    pub error: Option<ErrorBodyJs>,
}

/// The fields of a SetupIntent this crate reads, all optional (see [`PaymentIntentJs`]).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SetupIntentJs {
    pub id: Option<String>,
    pub status: Option<String>,
    pub payment_method: Option<IdOrObject>,
    pub last_setup_error: Option<ErrorBodyJs>,
}

/// A reference Stripe sends as an id, or as the object when expanded.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum IdOrObject {
    Id(String),
    Object { id: Option<String> },
}

impl IdOrObject {
    fn into_id(self) -> Option<String> {
        match self {
            IdOrObject::Id(id) => Some(id),
            IdOrObject::Object { id } => id,
        }
    }
}

/// `error.payment_intent`, of which only the status is used.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PaymentIntentStatusJs {
    pub status: Option<String>,
}

impl ErrorBodyJs {
    fn into_error(self, fallback_status: Option<PaymentIntentStatus>) -> PaymentError {
        // A missing or unknown type is Stripe's problem, not the shopper's card.
        let kind = self
            .kind
            .as_deref()
            .and_then(ErrorType::parse)
            .unwrap_or(ErrorType::ApiError);
        PaymentError {
            kind,
            code: self.code,
            decline_code: self.decline_code,
            message: self.message,
            payment_intent_status: self
                .payment_intent
                .and_then(|pi| pi.status)
                .and_then(|s| PaymentIntentStatus::parse(&s))
                .or(fallback_status),
        }
    }
}

/// Turns a resolved Stripe.js result into the outcome: `{error}` is always an `Err`
/// (even if a `paymentIntent` came along), `{paymentIntent}` is `Ok`, anything else is
/// an `Err`.
pub(crate) fn outcome(result: ConfirmResult) -> Result<PaymentIntentInfo, PaymentError> {
    if let Some(error) = result.error {
        return Err(error.into_error(None));
    }
    let Some(pi) = result.payment_intent else {
        return Err(PaymentError::unexpected(
            "Stripe.js resolved with neither paymentIntent nor error",
        ));
    };
    let Some(id) = pi.id.filter(|id| !id.is_empty()) else {
        return Err(PaymentError::unexpected(
            "Stripe.js returned a paymentIntent without an id",
        ));
    };
    Ok(PaymentIntentInfo {
        id,
        status: pi
            .status
            .as_deref()
            .and_then(PaymentIntentStatus::parse)
            .unwrap_or(PaymentIntentStatus::Processing),
        amount: pi.amount.unwrap_or(0),
        currency: pi.currency.unwrap_or_default(),
    })
}

/// [`outcome`] for a confirmation (`confirmCardPayment`, `handleCardAction`): a
/// PaymentIntent sent back to `requires_payment_method` with a `last_payment_error` is
/// that error, not a success. (Stripe.js already answers `{error}` there; this guards
/// against an answer that does not.)
pub(crate) fn confirm_outcome(result: ConfirmResult) -> Result<PaymentIntentInfo, PaymentError> {
    if result.error.is_none() {
        if let Some(pi) = &result.payment_intent {
            if pi.status.as_deref() == Some(PaymentIntentStatus::RequiresPaymentMethod.as_str())
                && pi.last_payment_error.is_some()
            {
                let lpe = result
                    .payment_intent
                    .and_then(|pi| pi.last_payment_error)
                    .unwrap_or_default();
                return Err(lpe.into_error(Some(PaymentIntentStatus::RequiresPaymentMethod)));
            }
        }
    }
    outcome(result)
}

/// Turns what `confirmCardSetup` resolved to into the outcome, with the rules of
/// [`confirm_outcome`]: `{error}` is an `Err`, and so is a SetupIntent sent back to
/// `requires_payment_method` with a `last_setup_error` (failed 3-D Secure); any other
/// `{setupIntent}` is `Ok`.
pub(crate) fn setup_outcome(result: SetupResult) -> Result<SetupIntentInfo, PaymentError> {
    if let Some(error) = result.error {
        return Err(error.into_error(None));
    }
    let Some(si) = result.setup_intent else {
        return Err(PaymentError::unexpected(
            "Stripe.js resolved with neither setupIntent nor error",
        ));
    };
    let status = si.status.as_deref().and_then(SetupIntentStatus::parse);
    if status == Some(SetupIntentStatus::RequiresPaymentMethod) {
        if let Some(error) = si.last_setup_error {
            return Err(error.into_error(None));
        }
    }
    let Some(id) = si.id.filter(|id| !id.is_empty()) else {
        return Err(PaymentError::unexpected(
            "Stripe.js returned a setupIntent without an id",
        ));
    };
    Ok(SetupIntentInfo {
        id,
        status: status.unwrap_or(SetupIntentStatus::Processing),
        payment_method: si.payment_method.and_then(IdOrObject::into_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pi(status: &str) -> PaymentIntentJs {
        PaymentIntentJs {
            id: Some("pi_123".into()),
            status: Some(status.into()),
            amount: Some(1999),
            currency: Some("usd".into()),
            last_payment_error: None,
        }
    }

    fn error(kind: &str, code: Option<&str>, decline: Option<&str>) -> ErrorBodyJs {
        ErrorBodyJs {
            kind: Some(kind.into()),
            code: code.map(Into::into),
            decline_code: decline.map(Into::into),
            message: Some("Stripe says no.".into()),
            payment_intent: Some(PaymentIntentStatusJs {
                status: Some("requires_payment_method".into()),
            }),
        }
    }

    fn failed(kind: &str, code: Option<&str>, decline: Option<&str>) -> PaymentError {
        outcome(ConfirmResult {
            payment_intent: None,
            error: Some(error(kind, code, decline)),
        })
        .unwrap_err()
    }

    #[test]
    fn success_statuses() {
        for (wire, status) in [
            ("succeeded", PaymentIntentStatus::Succeeded),
            ("processing", PaymentIntentStatus::Processing),
            ("requires_action", PaymentIntentStatus::RequiresAction),
            ("requires_capture", PaymentIntentStatus::RequiresCapture),
        ] {
            let info = outcome(ConfirmResult {
                payment_intent: Some(pi(wire)),
                error: None,
            })
            .unwrap();
            assert_eq!(
                info,
                PaymentIntentInfo {
                    id: "pi_123".into(),
                    status,
                    amount: 1999,
                    currency: "usd".into(),
                }
            );
        }
    }

    #[test]
    fn unknown_status_is_tolerated_as_not_final() {
        let info = outcome(ConfirmResult {
            payment_intent: Some(pi("requires_quantum_entanglement")),
            error: None,
        })
        .unwrap();
        assert_eq!(info.status, PaymentIntentStatus::Processing);
        assert!(!info.status.is_terminal());
    }

    #[test]
    fn a_resolved_error_is_never_ok() {
        // Even with a paymentIntent alongside.
        let e = outcome(ConfirmResult {
            payment_intent: Some(pi("succeeded")),
            error: Some(error("card_error", Some("card_declined"), None)),
        })
        .unwrap_err();
        assert!(e.is_card_error());
    }

    #[test]
    fn empty_result_is_an_error() {
        let e = outcome(ConfirmResult::default()).unwrap_err();
        assert_eq!(e.kind, ErrorType::ApiError);
        assert_eq!(e.customer_message(), messages::PROVIDER_ERROR);
        let no_id = outcome(ConfirmResult {
            payment_intent: Some(PaymentIntentJs::default()),
            error: None,
        });
        assert!(no_id.is_err());
    }

    #[test]
    fn declines() {
        let e = failed(
            "card_error",
            Some("card_declined"),
            Some("insufficient_funds"),
        );
        assert!(e.is_card_error());
        assert_eq!(e.code.as_deref(), Some("card_declined"));
        assert_eq!(e.decline_code.as_deref(), Some("insufficient_funds"));
        assert_eq!(e.message.as_deref(), Some("Stripe says no."));
        assert_eq!(
            e.payment_intent_status,
            Some(PaymentIntentStatus::RequiresPaymentMethod)
        );
        assert_eq!(e.customer_message(), messages::INSUFFICIENT_FUNDS);
        assert_eq!(
            failed("card_error", Some("card_declined"), Some("generic_decline")).customer_message(),
            messages::DECLINED
        );
        assert_eq!(
            failed("card_error", Some("incorrect_cvc"), None).customer_message(),
            messages::INCORRECT_CVC
        );
        assert_eq!(
            failed("card_error", Some("expired_card"), None).customer_message(),
            messages::EXPIRED_CARD
        );
        assert_eq!(
            failed("card_error", Some("processing_error"), None).customer_message(),
            messages::PROCESSING_ERROR
        );
        let shown = e.to_string();
        assert!(
            shown.starts_with("card_error (card_declined/insufficient_funds): Stripe says no."),
            "{shown}"
        );
    }

    #[test]
    fn authentication_failure() {
        let e = failed(
            "invalid_request_error",
            Some("payment_intent_authentication_failure"),
            None,
        );
        assert!(!e.is_card_error());
        assert_eq!(e.customer_message(), messages::AUTHENTICATION_FAILED);
        // Some paths report it as a card_error: same sentence.
        assert_eq!(
            failed(
                "card_error",
                Some("payment_intent_authentication_failure"),
                None
            )
            .customer_message(),
            messages::AUTHENTICATION_FAILED
        );
    }

    #[test]
    fn confirm_treats_a_returned_failed_intent_as_its_error() {
        let mut intent = pi("requires_payment_method");
        intent.last_payment_error = Some(ErrorBodyJs {
            payment_intent: None,
            ..error(
                "invalid_request_error",
                Some("payment_intent_authentication_failure"),
                None,
            )
        });
        let e = confirm_outcome(ConfirmResult {
            payment_intent: Some(intent),
            error: None,
        })
        .unwrap_err();
        assert_eq!(
            e.code.as_deref(),
            Some("payment_intent_authentication_failure")
        );
        assert_eq!(
            e.payment_intent_status,
            Some(PaymentIntentStatus::RequiresPaymentMethod)
        );
        // Without last_payment_error (a fresh intent) it stays a plain result.
        let info = confirm_outcome(ConfirmResult {
            payment_intent: Some(pi("requires_payment_method")),
            error: None,
        })
        .unwrap();
        assert_eq!(info.status, PaymentIntentStatus::RequiresPaymentMethod);
        assert!(confirm_outcome(ConfirmResult {
            payment_intent: Some(pi("succeeded")),
            error: None,
        })
        .is_ok());
    }

    #[test]
    fn odd_error_bodies() {
        let e = outcome(ConfirmResult {
            payment_intent: None,
            error: Some(ErrorBodyJs::default()),
        })
        .unwrap_err();
        assert_eq!(e.kind, ErrorType::ApiError);
        let e = failed("validation_error", Some("incomplete_number"), None);
        assert!(e.is_validation_error());
        assert_eq!(e.customer_message(), "Your card number is incomplete.");
        assert_eq!(
            failed("api_connection_error", None, None).customer_message(),
            messages::CONNECTION_FAILED
        );
        assert_eq!(
            failed("rate_limit_error", None, None).customer_message(),
            messages::BUSY
        );
    }

    #[test]
    fn exceptions_are_classified() {
        for (name, message) in [
            ("TypeError", "Failed to fetch"),
            (
                "TypeError",
                "NetworkError when attempting to fetch resource.",
            ),
            ("TypeError", "Load failed"),
            ("Error", "A network error occurred while contacting Stripe."),
            ("NetworkError", "offline"),
        ] {
            let e = PaymentError::from_exception(Some(name), Some(message));
            assert_eq!(e.kind, ErrorType::ApiConnectionError, "{name}: {message}");
            assert_eq!(e.customer_message(), messages::CONNECTION_FAILED);
        }
        let e = PaymentError::from_exception(
            Some("IntegrationError"),
            Some("Invalid value for confirm: the client secret must be a payment_intent client secret."),
        );
        assert_eq!(e.kind, ErrorType::InvalidRequestError);
        assert!(e
            .message
            .as_deref()
            .unwrap()
            .starts_with("IntegrationError: Invalid value"));
        assert_eq!(e.customer_message(), messages::GENERIC);
        let e = PaymentError::from_exception(None, None);
        assert_eq!(e.kind, ErrorType::InvalidRequestError);
        assert!(e.message.is_some());
        let e = PaymentError::from_exception(Some("TypeError"), Some("x is not a function"));
        assert_eq!(e.kind, ErrorType::InvalidRequestError);
    }

    /// Every outcome the checkout tells apart gets its own sentence.
    #[test]
    fn customer_messages_are_distinct() {
        let errors = [
            failed("card_error", Some("card_declined"), Some("generic_decline")),
            failed(
                "card_error",
                Some("card_declined"),
                Some("insufficient_funds"),
            ),
            failed("card_error", Some("card_declined"), Some("lost_card")),
            failed("card_error", Some("incorrect_cvc"), None),
            failed("card_error", Some("expired_card"), None),
            failed("card_error", Some("processing_error"), None),
            failed("card_error", Some("incorrect_number"), None),
            failed(
                "invalid_request_error",
                Some("payment_intent_authentication_failure"),
                None,
            ),
            failed("card_error", Some("authentication_required"), None),
            PaymentError::from_exception(Some("TypeError"), Some("Failed to fetch")),
            failed("rate_limit_error", Some("rate_limit"), None),
            failed("api_error", None, None),
        ];
        let shown: Vec<&str> = errors.iter().map(PaymentError::customer_message).collect();
        for (i, a) in shown.iter().enumerate() {
            for (j, b) in shown.iter().enumerate() {
                if i != j {
                    assert_ne!(a, b, "{} and {}", errors[i], errors[j]);
                }
            }
        }
        assert_eq!(
            failed("card_error", Some("card_declined"), Some("stolen_card")).customer_message(),
            messages::CARD_REFUSED
        );
    }

    /// What Stripe.js resolves to, read from JSON as `serde-wasm-bindgen` reads the JS
    /// object (same field names and shapes).
    fn setup(json: &str) -> Result<SetupIntentInfo, PaymentError> {
        setup_outcome(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn setup_statuses_and_the_saved_card() {
        let info = setup(
            r#"{"setupIntent": {"id": "seti_1", "object": "setup_intent",
                "status": "succeeded", "payment_method": "pm_1", "usage": "off_session"}}"#,
        )
        .unwrap();
        assert_eq!(
            info,
            SetupIntentInfo {
                id: "seti_1".into(),
                status: SetupIntentStatus::Succeeded,
                payment_method: Some("pm_1".into()),
            }
        );
        // An expanded payment_method, a pending status, no payment method yet.
        let expanded = setup(
            r#"{"setupIntent": {"id": "seti_2", "status": "processing",
                "payment_method": {"id": "pm_2", "object": "payment_method"}}}"#,
        )
        .unwrap();
        assert_eq!(expanded.payment_method.as_deref(), Some("pm_2"));
        assert_eq!(expanded.status, SetupIntentStatus::Processing);
        let fresh = setup(
            r#"{"setupIntent": {"id": "seti_3", "status": "requires_payment_method",
                "payment_method": null, "last_setup_error": null}}"#,
        )
        .unwrap();
        assert_eq!(fresh.status, SetupIntentStatus::RequiresPaymentMethod);
        assert_eq!(fresh.payment_method, None);
        // A status from a newer Stripe: not final.
        let odd = setup(r#"{"setupIntent": {"id": "seti_4", "status": "requires_magic"}}"#);
        assert_eq!(odd.unwrap().status, SetupIntentStatus::Processing);
    }

    #[test]
    fn setup_failures() {
        // A declined card: {error} with the setup_intent attached.
        let declined = setup(
            r#"{"error": {"type": "card_error", "code": "card_declined",
                "decline_code": "insufficient_funds", "message": "Your card has insufficient funds.",
                "setup_intent": {"id": "seti_1", "status": "requires_payment_method"}}}"#,
        )
        .unwrap_err();
        assert!(declined.is_card_error());
        assert_eq!(declined.customer_message(), messages::INSUFFICIENT_FUNDS);
        assert_eq!(declined.payment_intent_status, None);
        // Failed 3-D Secure, as {error} or as an intent sent back with last_setup_error.
        let failed = setup(
            r#"{"error": {"type": "invalid_request_error",
                "code": "setup_intent_authentication_failure", "message": "x"}}"#,
        )
        .unwrap_err();
        assert_eq!(failed.customer_message(), messages::AUTHENTICATION_FAILED);
        let returned = setup(
            r#"{"setupIntent": {"id": "seti_5", "status": "requires_payment_method",
                "last_setup_error": {"type": "invalid_request_error",
                   "code": "setup_intent_authentication_failure"}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            returned.code.as_deref(),
            Some("setup_intent_authentication_failure")
        );
        assert_eq!(returned.customer_message(), messages::AUTHENTICATION_FAILED);
        // An incomplete card form, and answers that make no sense.
        let incomplete = setup(
            r#"{"error": {"type": "validation_error", "code": "incomplete_number",
                "message": "Your card number is incomplete."}}"#,
        )
        .unwrap_err();
        assert!(incomplete.is_validation_error());
        assert_eq!(setup("{}").unwrap_err().kind, ErrorType::ApiError);
        let no_id = setup(r#"{"setupIntent": {"status": "succeeded"}}"#).unwrap_err();
        assert_eq!(no_id.customer_message(), messages::PROVIDER_ERROR);
        // {error} wins over a setupIntent alongside.
        let both = setup(
            r#"{"setupIntent": {"id": "seti_6", "status": "succeeded"},
                "error": {"type": "card_error", "code": "card_declined"}}"#,
        );
        assert!(both.unwrap_err().is_card_error());
    }
}
