//! One error type for every Stripe call, built from Stripe's error bodies and status
//! codes the way stripe-node classifies them, with a shopper-safe sentence for each
//! case and a detailed log line for the operator.

use std::fmt;

use stripe_types::error::code;
use stripe_types::{ErrorBody, ErrorEnvelope, ErrorType};

use crate::resources::PaymentIntent;
use crate::retry::NetworkFailure;

/// What is known about the HTTP exchange that produced an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorMeta {
    pub status: u16,
    /// Stripe's `Request-Id` header (`req_…`): quote it to Stripe support.
    pub request_id: Option<String>,
    /// `error.type` exactly as sent (`None` when the body was not a Stripe error).
    pub error_type: Option<String>,
    pub doc_url: Option<String>,
    /// `error.charge`: the failed Charge of a card error.
    pub charge: Option<String>,
    /// `error.payment_method.id`: the card of a card error (the saved card an off-session
    /// `authentication_required` needs the shopper back for).
    pub payment_method: Option<String>,
    /// The `Idempotency-Key` the request carried, if any (not a secret).
    pub idempotency_key: Option<String>,
    /// How many attempts were made (1 = no retry).
    pub attempts: u32,
}

/// A failed Stripe call. `Display` is for developers and logs (Stripe's message, the
/// code, the request id); [`StripeError::customer_message`] is for the shopper. Neither
/// ever contains the API key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StripeError {
    /// `card_error` (HTTP 402): the card was declined or its details are wrong.
    #[error("card error{}: {message}{}", codes(code, decline_code), meta)]
    Card {
        code: Option<String>,
        decline_code: Option<String>,
        message: String,
        param: Option<String>,
        /// The PaymentIntent after the failure, when the error concerns one.
        payment_intent: Option<Box<PaymentIntent>>,
        meta: Box<ErrorMeta>,
    },
    /// `invalid_request_error` (HTTP 400/404…): wrong parameters or state.
    #[error("invalid request{}{}: {message}{}", codes(code, &None), param_suffix(param), meta)]
    InvalidRequest {
        code: Option<String>,
        message: String,
        param: Option<String>,
        meta: Box<ErrorMeta>,
    },
    /// `idempotency_error`: the key was reused with different parameters.
    #[error("idempotency error{}: {message}{}", codes(code, &None), meta)]
    Idempotency {
        code: Option<String>,
        message: String,
        meta: Box<ErrorMeta>,
    },
    /// HTTP 429: too many requests (after the retries the policy allows).
    #[error("rate limited{}: {message}{}", codes(code, &None), meta)]
    RateLimit {
        code: Option<String>,
        message: String,
        meta: Box<ErrorMeta>,
    },
    /// HTTP 401: the API key is missing, wrong, revoked or expired.
    #[error("authentication failed: {message}{}", meta)]
    Authentication {
        message: String,
        meta: Box<ErrorMeta>,
    },
    /// HTTP 403: a restricted key lacks the permission.
    #[error("permission denied: {message}{}", meta)]
    Permission {
        message: String,
        meta: Box<ErrorMeta>,
    },
    /// `api_error` or HTTP 5xx: a problem on Stripe's side (after retries).
    #[error("Stripe API error{}: {message}{}", codes(code, &None), meta)]
    Api {
        code: Option<String>,
        message: String,
        meta: Box<ErrorMeta>,
    },
    /// `api_connection_error`: no HTTP answer at all (after retries).
    #[error("could not reach Stripe ({failure:?}) after {attempts} attempt(s): {message}")]
    Connection {
        failure: NetworkFailure,
        message: String,
        attempts: u32,
    },
    /// An answer that could not be understood (not JSON, or not the expected shape).
    #[error("could not decode Stripe's answer: {message}{}", meta)]
    Decode {
        message: String,
        meta: Box<ErrorMeta>,
    },
    /// Refused locally, before anything was sent (e.g. an empty object id).
    #[error("invalid argument: {message}")]
    InvalidArgument { message: String },
}

fn codes(code: &Option<String>, decline: &Option<String>) -> String {
    match (code, decline) {
        (Some(c), Some(d)) => format!(" ({c}/{d})"),
        (Some(c), None) => format!(" ({c})"),
        (None, Some(d)) => format!(" (/{d})"),
        (None, None) => String::new(),
    }
}

fn param_suffix(param: &Option<String>) -> String {
    param
        .as_ref()
        .map(|p| format!(" [param {p}]"))
        .unwrap_or_default()
}

impl fmt::Display for ErrorMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " [HTTP {}", self.status)?;
        if let Some(id) = &self.request_id {
            write!(f, ", request {id}")?;
        }
        f.write_str("]")
    }
}

/// Shopper-facing sentences: the table lives in `stripe-types` so the browser
/// (`stripe-js`) shows the same words; re-exported here for existing callers.
pub use stripe_types::messages;

/// `Some($some)` with `$meta` bound to the [`ErrorMeta`] of the variants that carry one
/// (Stripe answered), `None` for the others: the one list of those variants.
macro_rules! with_meta {
    ($error:expr, $meta:ident => $some:expr) => {
        match $error {
            StripeError::Card { $meta, .. }
            | StripeError::InvalidRequest { $meta, .. }
            | StripeError::Idempotency { $meta, .. }
            | StripeError::RateLimit { $meta, .. }
            | StripeError::Authentication { $meta, .. }
            | StripeError::Permission { $meta, .. }
            | StripeError::Api { $meta, .. }
            | StripeError::Decode { $meta, .. } => Some($some),
            StripeError::Connection { .. } | StripeError::InvalidArgument { .. } => None,
        }
    };
}

impl StripeError {
    /// Classifies an error answer from its HTTP status and body (stripe-node's rules):
    /// `card_error` → Card, `idempotency_error` → Idempotency, 401 → Authentication,
    /// 403 → Permission, 429 → RateLimit, `invalid_request_error` → InvalidRequest,
    /// `api_error` or 5xx → Api; an unreadable body is Api for 5xx, Decode otherwise.
    pub fn from_response(status: u16, request_id: Option<String>, body: &[u8]) -> StripeError {
        let mut meta = Box::new(ErrorMeta {
            status,
            request_id,
            attempts: 1,
            ..ErrorMeta::default()
        });
        let Ok(ErrorEnvelope { error }) = serde_json::from_slice::<ErrorEnvelope>(body) else {
            let message = format!("HTTP {status} without a Stripe error body");
            return match status {
                401 => StripeError::Authentication { message, meta },
                403 => StripeError::Permission { message, meta },
                429 => StripeError::RateLimit {
                    code: None,
                    message,
                    meta,
                },
                s if s >= 500 => StripeError::Api {
                    code: None,
                    message,
                    meta,
                },
                _ => StripeError::Decode { message, meta },
            };
        };
        meta.payment_method = error.payment_method_id().map(str::to_owned);
        let ErrorBody {
            kind,
            code,
            decline_code,
            message,
            param,
            doc_url,
            charge,
            payment_intent,
            payment_method: _,
            setup_intent: _,
        } = error;
        meta.doc_url = doc_url;
        meta.charge = charge;
        let message = redact_keys(message.as_deref().unwrap_or("(no message)"));
        let parsed_type = ErrorType::parse(&kind);
        meta.error_type = Some(kind);

        match parsed_type {
            Some(ErrorType::CardError) => StripeError::Card {
                code,
                decline_code,
                message,
                param,
                payment_intent: payment_intent
                    .and_then(|v| serde_json::from_value::<PaymentIntent>(v).ok())
                    .map(Box::new),
                meta,
            },
            Some(ErrorType::IdempotencyError) => StripeError::Idempotency {
                code,
                message,
                meta,
            },
            _ if status == 401 => StripeError::Authentication { message, meta },
            Some(ErrorType::AuthenticationError) => StripeError::Authentication { message, meta },
            _ if status == 403 => StripeError::Permission { message, meta },
            _ if status == 429 => StripeError::RateLimit {
                code,
                message,
                meta,
            },
            Some(ErrorType::RateLimitError) => StripeError::RateLimit {
                code,
                message,
                meta,
            },
            Some(ErrorType::ApiError) => StripeError::Api {
                code,
                message,
                meta,
            },
            _ if status >= 500 => StripeError::Api {
                code,
                message,
                meta,
            },
            _ => StripeError::InvalidRequest {
                code,
                message,
                param,
                meta,
            },
        }
    }

    /// A safe, specific sentence for the shopper. Never includes Stripe's raw message,
    /// ids or anything about the shop's configuration.
    pub fn customer_message(&self) -> &'static str {
        use messages::*;
        match self {
            StripeError::Card {
                code, decline_code, ..
            } => card_message(code.as_deref(), decline_code.as_deref()),
            StripeError::InvalidRequest { code, .. } => match code.as_deref() {
                Some(
                    code::PAYMENT_INTENT_AUTHENTICATION_FAILURE
                    | code::SETUP_INTENT_AUTHENTICATION_FAILURE,
                ) => AUTHENTICATION_FAILED,
                Some(code::AMOUNT_TOO_LARGE) | Some("amount_too_small") => AMOUNT_NOT_SUPPORTED,
                _ => GENERIC,
            },
            StripeError::Idempotency { .. } => GENERIC,
            StripeError::RateLimit { .. } => BUSY,
            StripeError::Authentication { .. } | StripeError::Permission { .. } => UNAVAILABLE,
            StripeError::Api { .. } => PROVIDER_ERROR,
            StripeError::Connection { failure, .. } => {
                if failure.may_have_been_sent() {
                    UNCONFIRMED
                } else {
                    UNREACHABLE
                }
            }
            // A 2xx that could not be read: the operation may well have happened.
            StripeError::Decode { meta, .. } if meta.status < 300 => UNCONFIRMED,
            StripeError::Decode { .. } | StripeError::InvalidArgument { .. } => GENERIC,
        }
    }

    pub fn meta(&self) -> Option<&ErrorMeta> {
        with_meta!(self, meta => &**meta)
    }

    pub(crate) fn meta_mut(&mut self) -> Option<&mut ErrorMeta> {
        with_meta!(self, meta => &mut **meta)
    }

    /// The HTTP status, when Stripe answered.
    pub fn status(&self) -> Option<u16> {
        self.meta().map(|m| m.status)
    }

    /// Stripe's request id (`req_…`), when Stripe answered.
    pub fn request_id(&self) -> Option<&str> {
        self.meta()?.request_id.as_deref()
    }

    /// `error.code` (e.g. `card_declined`, `resource_missing`).
    pub fn code(&self) -> Option<&str> {
        match self {
            StripeError::Card { code, .. }
            | StripeError::InvalidRequest { code, .. }
            | StripeError::Idempotency { code, .. }
            | StripeError::RateLimit { code, .. }
            | StripeError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// `error.decline_code` of a card error (e.g. `insufficient_funds`).
    pub fn decline_code(&self) -> Option<&str> {
        match self {
            StripeError::Card { decline_code, .. } => decline_code.as_deref(),
            _ => None,
        }
    }

    /// `error.charge`: the failed Charge of a card error.
    pub fn charge(&self) -> Option<&str> {
        self.meta()?.charge.as_deref()
    }

    /// `error.payment_method.id`: the card a card error is about. After an off-session
    /// payment fails with `authentication_required`, confirm the returned
    /// [`payment_intent`](StripeError::payment_intent) on-session with this saved card
    /// (`stripe.confirmCardPayment(client_secret, {payment_method: id})`).
    pub fn payment_method_id(&self) -> Option<&str> {
        self.meta()?.payment_method.as_deref()
    }

    /// `error.param`, the parameter at fault.
    pub fn param(&self) -> Option<&str> {
        match self {
            StripeError::Card { param, .. } | StripeError::InvalidRequest { param, .. } => {
                param.as_deref()
            }
            _ => None,
        }
    }

    /// The PaymentIntent attached to a card error.
    pub fn payment_intent(&self) -> Option<&PaymentIntent> {
        match self {
            StripeError::Card { payment_intent, .. } => payment_intent.as_deref(),
            _ => None,
        }
    }

    /// The error's kind in Stripe's vocabulary (`api_connection_error` for network
    /// failures).
    pub fn error_type(&self) -> ErrorType {
        match self {
            StripeError::Card { .. } => ErrorType::CardError,
            StripeError::InvalidRequest { .. }
            | StripeError::Permission { .. }
            | StripeError::InvalidArgument { .. } => ErrorType::InvalidRequestError,
            StripeError::Idempotency { .. } => ErrorType::IdempotencyError,
            StripeError::RateLimit { .. } => ErrorType::RateLimitError,
            StripeError::Authentication { .. } => ErrorType::AuthenticationError,
            StripeError::Api { .. } | StripeError::Decode { .. } => ErrorType::ApiError,
            StripeError::Connection { .. } => ErrorType::ApiConnectionError,
        }
    }

    /// `true` for `resource_missing` (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        self.code() == Some(code::RESOURCE_MISSING) || self.status() == Some(404)
    }

    /// Whether the operation may have been carried out by Stripe despite the error (so
    /// the caller must re-read the object, or retry with the same idempotency key,
    /// before telling the shopper anything final).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            StripeError::Connection { failure, .. } => failure.may_have_been_sent(),
            StripeError::Api { .. } => true,
            StripeError::Decode { meta, .. } => meta.status < 300,
            _ => false,
        }
    }

    /// Emits one detailed `tracing` event: operation, status, request id, type, code,
    /// decline code, param, idempotency key, attempts and Stripe's message. Declines are
    /// logged at `info` (business as usual), Stripe/network trouble at `error`, the rest
    /// at `warn`. The API key is never part of an error.
    pub fn log(&self, operation: &str) {
        let meta = self.meta();
        let status = meta.map(|m| m.status);
        let request_id = meta.and_then(|m| m.request_id.as_deref());
        let idempotency_key = meta.and_then(|m| m.idempotency_key.as_deref());
        let attempts = match self {
            StripeError::Connection { attempts, .. } => Some(*attempts),
            _ => meta.map(|m| m.attempts),
        };
        let error_type = self.error_type();
        let error_type = error_type.as_str();
        let code = self.code();
        let decline_code = self.decline_code();
        let param = self.param();
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    operation,
                    status,
                    request_id,
                    error_type,
                    code,
                    decline_code,
                    param,
                    idempotency_key,
                    attempts,
                    error = %self,
                    "Stripe request failed"
                )
            };
        }
        match self {
            StripeError::Card { .. } => emit!(tracing::Level::INFO),
            StripeError::Api { .. }
            | StripeError::Connection { .. }
            | StripeError::Decode { .. } => {
                emit!(tracing::Level::ERROR)
            }
            _ => emit!(tracing::Level::WARN),
        }
    }
}

/// Masks anything shaped like a Stripe secret or webhook key (`sk_live_…`, `rk_test_…`,
/// `whsec_…`) in text that came from elsewhere (Stripe's messages, transport errors).
pub(crate) fn redact_keys(text: &str) -> String {
    const PREFIXES: [&str; 5] = ["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for prefix in PREFIXES {
            if rest.starts_with(prefix) {
                let tail = &rest[prefix.len()..];
                let len = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '*' || c == '_'))
                    .unwrap_or(tail.len());
                out.push_str(prefix);
                out.push_str("[REDACTED]");
                rest = &tail[len..];
                continue 'outer;
            }
        }
        let ch = rest.chars().next().expect("non-empty");
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, body: &str) -> StripeError {
        StripeError::from_response(status, Some("req_abc".into()), body.as_bytes())
    }

    fn card(code: &str, decline: Option<&str>) -> StripeError {
        let decline = decline
            .map(|d| format!(r#","decline_code":"{d}""#))
            .unwrap_or_default();
        err(
            402,
            &format!(
                r#"{{"error":{{"type":"card_error","code":"{code}"{decline},"message":"msg"}}}}"#
            ),
        )
    }

    #[test]
    fn card_decline_with_payment_intent() {
        let e = err(
            402,
            r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
                "message":"Your card has insufficient funds.","param":null,"charge":"ch_1",
                "doc_url":"https://stripe.com/docs/error-codes/card-declined",
                "payment_intent":{"id":"pi_1","object":"payment_intent","amount":1000,
                   "currency":"usd","status":"requires_payment_method",
                   "client_secret":"pi_1_secret_zzz",
                   "last_payment_error":{"type":"card_error","code":"card_declined"}}}}"#,
        );
        match &e {
            StripeError::Card {
                code,
                decline_code,
                payment_intent,
                meta,
                ..
            } => {
                assert_eq!(code.as_deref(), Some("card_declined"));
                assert_eq!(decline_code.as_deref(), Some("insufficient_funds"));
                assert_eq!(meta.charge.as_deref(), Some("ch_1"));
                assert_eq!(payment_intent.as_ref().unwrap().id, "pi_1");
                assert_eq!(meta.status, 402);
                assert_eq!(meta.request_id.as_deref(), Some("req_abc"));
                assert_eq!(meta.error_type.as_deref(), Some("card_error"));
                assert!(meta.doc_url.is_some());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(e.customer_message(), messages::INSUFFICIENT_FUNDS);
        assert_eq!(e.error_type(), ErrorType::CardError);
        assert_eq!(e.payment_intent().unwrap().id, "pi_1");
        assert_eq!(e.charge(), Some("ch_1"));
        let shown = e.to_string();
        assert!(
            shown.contains("card_declined/insufficient_funds"),
            "{shown}"
        );
        assert!(shown.contains("req_abc"), "{shown}");
        assert!(!format!("{e:?}").contains("secret_zzz"));
        assert!(!e.outcome_unknown());
    }

    #[test]
    fn off_session_authentication_required_names_the_intent_and_the_card() {
        let e = err(
            402,
            r#"{"error":{"type":"card_error","code":"authentication_required",
                "decline_code":"authentication_required","charge":"ch_2",
                "message":"Your card was declined. This transaction requires authentication.",
                "payment_intent":{"id":"pi_2","object":"payment_intent","amount":2000,
                   "currency":"usd","status":"requires_payment_method","customer":"cus_1",
                   "last_payment_error":{"type":"card_error","code":"authentication_required",
                      "payment_method":{"id":"pm_saved","object":"payment_method"}}},
                "payment_method":{"id":"pm_saved","object":"payment_method","type":"card",
                   "customer":"cus_1"}}}"#,
        );
        assert!(matches!(e, StripeError::Card { .. }), "{e:?}");
        assert_eq!(e.code(), Some(code::AUTHENTICATION_REQUIRED));
        assert_eq!(e.payment_method_id(), Some("pm_saved"));
        let pi = e.payment_intent().expect("the intent");
        assert_eq!(
            pi.status(),
            Some(stripe_types::PaymentIntentStatus::RequiresPaymentMethod)
        );
        assert_eq!(
            pi.last_payment_error
                .as_ref()
                .and_then(ErrorBody::payment_method_id),
            Some("pm_saved")
        );
        assert_eq!(e.customer_message(), messages::AUTHENTICATION_REQUIRED);
        // Errors about no card have none.
        let plain = err(
            400,
            r#"{"error":{"type":"invalid_request_error","message":"x"}}"#,
        );
        assert_eq!(plain.payment_method_id(), None);
        let setup_3ds = err(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"setup_intent_authentication_failure","message":"x"}}"#,
        );
        assert_eq!(
            setup_3ds.customer_message(),
            messages::AUTHENTICATION_FAILED
        );
    }

    #[test]
    fn card_messages_for_each_test_card_outcome() {
        use messages::*;
        let cases = [
            (card("card_declined", Some("generic_decline")), DECLINED),
            (
                card("card_declined", Some("insufficient_funds")),
                INSUFFICIENT_FUNDS,
            ),
            (card("card_declined", Some("lost_card")), CARD_REFUSED),
            (card("card_declined", Some("stolen_card")), CARD_REFUSED),
            (card("card_declined", Some("fraudulent")), DECLINED),
            (card("card_declined", None), DECLINED),
            (card("expired_card", None), EXPIRED_CARD),
            (card("card_declined", Some("expired_card")), EXPIRED_CARD),
            (card("incorrect_cvc", None), INCORRECT_CVC),
            (card("processing_error", None), PROCESSING_ERROR),
            (card("incorrect_number", None), INCORRECT_NUMBER),
            (card("invalid_number", None), INCORRECT_NUMBER),
            (card("invalid_expiry_year", None), INVALID_EXPIRY_YEAR),
            (
                card("authentication_required", None),
                AUTHENTICATION_REQUIRED,
            ),
            (
                card("card_declined", Some("authentication_required")),
                AUTHENTICATION_REQUIRED,
            ),
            (
                card("card_declined", Some("card_velocity_exceeded")),
                LIMIT_EXCEEDED,
            ),
            (card("card_declined", Some("do_not_honor")), DECLINED),
            (
                card("some_future_code", Some("some_future_decline")),
                DECLINED,
            ),
        ];
        for (e, expected) in cases {
            assert_eq!(e.customer_message(), expected, "{e}");
        }
    }

    #[test]
    fn status_and_type_mapping() {
        let invalid = err(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"amount_too_large",
                "param":"amount","message":"Refund amount ($60.00) is greater than charge amount ($50.00)"}}"#,
        );
        assert!(matches!(invalid, StripeError::InvalidRequest { .. }));
        assert_eq!(invalid.param(), Some("amount"));
        assert_eq!(invalid.customer_message(), messages::AMOUNT_NOT_SUPPORTED);
        assert!(invalid.to_string().contains("[param amount]"));

        let missing = err(
            404,
            r#"{"error":{"type":"invalid_request_error","code":"resource_missing",
                "param":"intent","message":"No such payment_intent: 'pi_x'"}}"#,
        );
        assert!(missing.is_not_found());
        assert_eq!(missing.customer_message(), messages::GENERIC);

        let idem = err(
            400,
            r#"{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}"#,
        );
        assert!(matches!(idem, StripeError::Idempotency { .. }));
        assert_eq!(idem.error_type(), ErrorType::IdempotencyError);

        let conflict = err(
            409,
            r#"{"error":{"type":"idempotency_error","code":"idempotency_key_in_use","message":"in use"}}"#,
        );
        assert!(matches!(conflict, StripeError::Idempotency { .. }));
        assert_eq!(conflict.code(), Some("idempotency_key_in_use"));

        let auth = err(
            401,
            r#"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_********************1234"}}"#,
        );
        assert!(matches!(auth, StripeError::Authentication { .. }));
        assert_eq!(auth.customer_message(), messages::UNAVAILABLE);
        assert!(!auth.to_string().contains("1234"), "{auth}");

        let perm = err(
            403,
            r#"{"error":{"type":"invalid_request_error","message":"no"}}"#,
        );
        assert!(matches!(perm, StripeError::Permission { .. }));

        let rate = err(
            429,
            r#"{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}"#,
        );
        assert!(matches!(rate, StripeError::RateLimit { .. }));
        assert_eq!(rate.customer_message(), messages::BUSY);

        let api = err(
            500,
            r#"{"error":{"type":"api_error","message":"Something went wrong"}}"#,
        );
        assert!(matches!(api, StripeError::Api { .. }));
        assert_eq!(api.customer_message(), messages::PROVIDER_ERROR);
        assert!(api.outcome_unknown());

        let api_type_on_400 = err(400, r#"{"error":{"type":"api_error","message":"x"}}"#);
        assert!(matches!(api_type_on_400, StripeError::Api { .. }));

        let unknown_type = err(400, r#"{"error":{"type":"brand_new_error","message":"x"}}"#);
        assert!(matches!(unknown_type, StripeError::InvalidRequest { .. }));
        assert_eq!(
            unknown_type.meta().unwrap().error_type.as_deref(),
            Some("brand_new_error")
        );

        let auth_failure = err(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"payment_intent_authentication_failure","message":"x"}}"#,
        );
        assert_eq!(
            auth_failure.customer_message(),
            messages::AUTHENTICATION_FAILED
        );
    }

    #[test]
    fn unreadable_bodies() {
        let gateway = err(502, "<html>Bad Gateway</html>");
        assert!(matches!(gateway, StripeError::Api { .. }));
        assert_eq!(gateway.status(), Some(502));
        let odd = err(418, "I'm a teapot");
        assert!(matches!(odd, StripeError::Decode { .. }));
        assert_eq!(odd.customer_message(), messages::GENERIC);
        assert!(matches!(err(401, ""), StripeError::Authentication { .. }));
        assert!(matches!(err(429, ""), StripeError::RateLimit { .. }));
        assert!(matches!(err(404, "{}"), StripeError::Decode { .. }));
        // A 2xx whose body could not be read: the charge may have happened.
        let ok_but_garbled = StripeError::Decode {
            message: "x".into(),
            meta: Box::new(ErrorMeta {
                status: 200,
                ..ErrorMeta::default()
            }),
        };
        assert_eq!(ok_but_garbled.customer_message(), messages::UNCONFIRMED);
        assert!(ok_but_garbled.outcome_unknown());
    }

    #[test]
    fn connection_messages_depend_on_whether_the_request_left() {
        let refused = StripeError::Connection {
            failure: NetworkFailure::Connect,
            message: "connection refused".into(),
            attempts: 3,
        };
        assert_eq!(refused.customer_message(), messages::UNREACHABLE);
        assert_eq!(
            refused.customer_message(),
            "We could not reach our payment provider. Your card was not charged; please try again."
        );
        assert_eq!(refused.error_type(), ErrorType::ApiConnectionError);
        assert!(!refused.outcome_unknown());
        let timeout = StripeError::Connection {
            failure: NetworkFailure::Timeout,
            message: "timed out".into(),
            attempts: 3,
        };
        assert_eq!(timeout.customer_message(), messages::UNCONFIRMED);
        assert!(timeout.outcome_unknown());
        assert!(timeout.to_string().contains("3 attempt"));
    }

    #[test]
    fn customer_messages_never_echo_stripe_text() {
        let e = err(
            400,
            r#"{"error":{"type":"invalid_request_error","message":"No such customer: 'cus_internal_42'"}}"#,
        );
        assert!(!e.customer_message().contains("cus_internal_42"));
    }

    #[test]
    fn key_shaped_text_is_redacted() {
        assert_eq!(
            redact_keys("Invalid API Key provided: sk_live_abc123**xyz. Use rk_test_Q."),
            "Invalid API Key provided: sk_live_[REDACTED]. Use rk_test_[REDACTED]."
        );
        assert_eq!(redact_keys("whsec_abc/ä"), "whsec_[REDACTED]/ä");
        assert_eq!(redact_keys("nothing here"), "nothing here");
    }
}
