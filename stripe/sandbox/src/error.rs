//! Stripe-shaped errors: `{"error": {type, code, decline_code, message, param, ...}}`.

use axum::http::StatusCode;
use serde::Serialize;
use stripe_types::error::code;
use stripe_types::{ErrorBody, ErrorType};

/// An error response of the Stripe API (boxed: errors are the cold path).
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorDetail>);

/// What an [`ApiError`] holds; reached through `Deref`.
#[derive(Debug, Clone)]
pub struct ErrorDetail {
    pub status: StatusCode,
    /// Including `payment_intent`, `payment_method` (card errors) and `setup_intent`
    /// (SetupIntent failures).
    pub body: ErrorBody,
    /// Value of the `Stripe-Should-Retry` header, when Stripe sends one.
    pub should_retry: Option<bool>,
}

#[derive(Serialize)]
struct Inner<'a> {
    #[serde(flatten)]
    body: &'a ErrorBody,
    request_log_url: String,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Inner<'a>,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.0
    }
}

pub fn doc_url(code: &str) -> String {
    format!(
        "https://stripe.com/docs/error-codes/{}",
        code.replace('_', "-")
    )
}

impl ApiError {
    pub fn new(status: StatusCode, kind: ErrorType, message: impl Into<String>) -> Self {
        ApiError(Box::new(ErrorDetail {
            status,
            body: ErrorBody {
                kind: kind.as_str().to_owned(),
                message: Some(message.into()),
                ..ErrorBody::default()
            },
            should_retry: None,
        }))
    }

    pub fn with_code(mut self, c: &str) -> Self {
        self.body.doc_url = Some(doc_url(c));
        self.body.code = Some(c.to_owned());
        self
    }

    pub fn with_param(mut self, p: impl Into<String>) -> Self {
        self.body.param = Some(p.into());
        self
    }

    /// 400 `invalid_request_error`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequestError,
            message,
        )
    }

    pub fn invalid_param(param: &str, message: impl Into<String>) -> Self {
        ApiError::invalid(message).with_param(param)
    }

    pub fn unknown_param(param: &str) -> Self {
        ApiError::invalid(format!("Received unknown parameter: {param}"))
            .with_code(code::PARAMETER_UNKNOWN)
            .with_param(param)
    }

    pub fn missing_param(param: &str) -> Self {
        ApiError::invalid(format!("Missing required param: {param}."))
            .with_code(code::PARAMETER_MISSING)
            .with_param(param)
    }

    pub fn invalid_integer(param: &str, value: &str) -> Self {
        ApiError::invalid(format!("Invalid integer: {value}"))
            .with_code(code::PARAMETER_INVALID_INTEGER)
            .with_param(param)
    }

    /// A referenced object does not exist. `status` is 404 for ids in the URL path,
    /// 400 for ids passed as parameters (as Stripe does).
    pub fn no_such(status: StatusCode, kind: &str, id: &str, param: &str) -> Self {
        ApiError::new(
            status,
            ErrorType::InvalidRequestError,
            format!("No such {kind}: '{id}'"),
        )
        .with_code(code::RESOURCE_MISSING)
        .with_param(param)
    }

    pub fn not_found(kind: &str, id: &str) -> Self {
        ApiError::no_such(StatusCode::NOT_FOUND, kind, id, "id")
    }

    pub fn unexpected_state(message: impl Into<String>) -> Self {
        ApiError::invalid(message).with_code(code::PAYMENT_INTENT_UNEXPECTED_STATE)
    }

    /// HTTP 402 `card_error`.
    pub fn card(
        code: &str,
        decline_code: Option<&str>,
        message: &str,
        param: Option<&str>,
    ) -> Self {
        let mut e = ApiError::new(StatusCode::PAYMENT_REQUIRED, ErrorType::CardError, message)
            .with_code(code);
        e.body.decline_code = decline_code.map(str::to_owned);
        e.body.param = param.map(str::to_owned);
        e
    }

    pub fn unrecognized_url(method: &str, path: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorType::InvalidRequestError,
            format!(
                "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
            ),
        )
    }

    pub fn internal() -> Self {
        let mut e = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::ApiError,
            "An unknown error occurred while processing your request (injected by the sandbox).",
        );
        e.should_retry = Some(true);
        e
    }

    pub fn rate_limited() -> Self {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorType::InvalidRequestError,
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        )
        .with_code(code::RATE_LIMIT);
        e.should_retry = Some(true);
        e
    }

    /// The JSON body, `{"error": {...}}`.
    pub fn to_json(&self, request_id: &str) -> bytes::Bytes {
        let env = Envelope {
            error: Inner {
                body: &self.body,
                request_log_url: format!("https://dashboard.stripe.com/test/logs/{request_id}"),
            },
        };
        serde_json::to_vec(&env)
            .unwrap_or_else(|_| b"{\"error\":{\"type\":\"api_error\"}}".to_vec())
            .into()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
