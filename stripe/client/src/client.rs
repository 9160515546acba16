//! The connector: HTTP, authentication, the pinned API version, idempotency keys,
//! retries and error mapping. The wire types live in [`crate::resources`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use stripe_types::API_VERSION;
use url::Url;

use crate::error::{redact_keys, StripeError};
use crate::form;
use crate::idempotency::IdempotencyKey;
use crate::resources::*;
use crate::retry::{
    parse_retry_after, parse_should_retry, retry_decision, AttemptOutcome, NetworkFailure,
    RetryDecision, RetryPolicy,
};
use crate::secret::SecretKey;
use crate::wire::{Deleted, List};

/// Stripe's API.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";
/// The offline sandbox (stripe-mock's usual address).
pub const SANDBOX_BASE_URL: &str = "http://127.0.0.1:12111";
/// Time allowed to open a connection (TCP + TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for one attempt, from sending to the end of the answer's body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(40);

const USER_AGENT: &str = concat!("checkout-stripe-client/", env!("CARGO_PKG_VERSION"));

/// The client could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("invalid Stripe base URL `{0}`: expected http(s)://host[:port]")]
    InvalidBaseUrl(String),
    #[error(
        "refusing plain-http Stripe base URL `{0}`: the secret key would travel unencrypted \
         (http is only allowed for localhost/127.0.0.1/::1)"
    )]
    InsecureBaseUrl(String),
    #[error("could not build the HTTP client: {0}")]
    Http(String),
}

/// Settings of a [`Client`].
pub struct ClientBuilder {
    key: SecretKey,
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
}

impl ClientBuilder {
    pub fn new(key: SecretKey) -> Self {
        ClientBuilder {
            key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    /// `https://api.stripe.com` by default; `http://` only for loopback hosts (the
    /// sandbox, tests). A path prefix is kept (`http://host/stripe` → `/stripe/v1/…`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Per attempt, including reading the answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    pub fn build(self) -> Result<Client, BuildError> {
        let base = parse_base_url(&self.base_url)?;
        let loopback = is_loopback(&base);
        let mut http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(self.connect_timeout)
            .user_agent(USER_AGENT)
            // Never follow a redirect with the key in the Authorization header.
            .redirect(reqwest::redirect::Policy::none());
        if loopback {
            // A proxy from the environment must not capture the local sandbox.
            http = http.no_proxy();
        }
        let http = http.build().map_err(|e| BuildError::Http(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                key: self.key,
                base,
                timeout: self.timeout,
                retry: self.retry,
            }),
        })
    }
}

fn parse_base_url(raw: &str) -> Result<Url, BuildError> {
    let url = Url::parse(raw.trim()).map_err(|_| BuildError::InvalidBaseUrl(raw.to_owned()))?;
    let ok_shape = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !url.cannot_be_a_base();
    if !ok_shape {
        return Err(BuildError::InvalidBaseUrl(raw.to_owned()));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(BuildError::InsecureBaseUrl(raw.to_owned()));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A Stripe API client. Cheap to clone (shared connection pool).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    key: SecretKey,
    base: Url,
    timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("api_version", &API_VERSION)
            .field("key", &self.inner.key)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

/// `expand[]=…` on a GET.
#[derive(Serialize)]
struct Expand<'a> {
    expand: &'a [&'a str],
}

/// An empty form body.
#[derive(Serialize)]
struct NoParams {}

/// What one attempt left behind when it did not succeed.
enum Failure {
    Network(NetworkFailure, String),
    Answer(Box<StripeError>),
}

impl Client {
    /// A client for `https://api.stripe.com` with default timeouts and retries.
    pub fn new(key: SecretKey) -> Result<Client, BuildError> {
        ClientBuilder::new(key).build()
    }

    /// The same client (connection pool, key, base URL) for requests a person waits on:
    /// each attempt limited to `timeout`, at most `max_retries` retries, and the whole
    /// call (attempts and backoff) to what those allow. Background work keeps the patient
    /// default (40 s attempts, 2 retries, 120 s).
    pub fn interactive(&self, timeout: Duration, max_retries: u32) -> Client {
        let inner = &*self.inner;
        let mut retry = inner.retry.clone();
        retry.max_retries = max_retries;
        retry.max_delay = retry.max_delay.min(Duration::from_secs(1));
        retry.max_retry_after = retry.max_retry_after.min(Duration::from_secs(1));
        retry.total_budget = timeout * (max_retries + 1) + Duration::from_secs(1);
        Client {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                key: inner.key.clone(),
                base: inner.base.clone(),
                timeout,
                retry,
            }),
        }
    }

    pub fn builder(key: SecretKey) -> ClientBuilder {
        ClientBuilder::new(key)
    }

    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    pub fn key_mode(&self) -> crate::KeyMode {
        self.inner.key.mode()
    }

    // ---- PaymentIntents -------------------------------------------------------------

    /// `POST /v1/payment_intents`.
    pub async fn create_payment_intent(
        &self,
        params: &CreatePaymentIntent,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        self.post("payment_intents.create", &["payment_intents"], params, key)
            .await
    }

    /// `GET /v1/payment_intents/{id}`, with `expand[]` paths such as `latest_charge`.
    pub async fn retrieve_payment_intent(
        &self,
        id: &str,
        expand: &[&str],
    ) -> Result<PaymentIntent, StripeError> {
        self.get(
            "payment_intents.retrieve",
            &["payment_intents", id],
            &Expand { expand },
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}` (amount, metadata, …).
    pub async fn update_payment_intent(
        &self,
        id: &str,
        params: &UpdatePaymentIntent,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        self.post(
            "payment_intents.update",
            &["payment_intents", id],
            params,
            key,
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}/confirm`. A decline is `StripeError::Card`
    /// carrying the updated PaymentIntent.
    pub async fn confirm_payment_intent(
        &self,
        id: &str,
        params: &ConfirmPaymentIntent,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        self.post(
            "payment_intents.confirm",
            &["payment_intents", id, "confirm"],
            params,
            key,
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}/cancel`.
    pub async fn cancel_payment_intent(
        &self,
        id: &str,
        params: &CancelPaymentIntent,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        self.post(
            "payment_intents.cancel",
            &["payment_intents", id, "cancel"],
            params,
            key,
        )
        .await
    }

    /// `POST /v1/payment_intents/{id}/capture` (manual capture).
    pub async fn capture_payment_intent(
        &self,
        id: &str,
        params: &CapturePaymentIntent,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent, StripeError> {
        self.post(
            "payment_intents.capture",
            &["payment_intents", id, "capture"],
            params,
            key,
        )
        .await
    }

    /// `GET /v1/payment_intents?customer=…`.
    pub async fn list_payment_intents(
        &self,
        params: &ListPaymentIntents,
    ) -> Result<List<PaymentIntent>, StripeError> {
        self.get("payment_intents.list", &["payment_intents"], params)
            .await
    }

    // ---- SetupIntents ---------------------------------------------------------------

    /// `POST /v1/setup_intents`: save a card without a payment. Hand the `client_secret`
    /// to the browser (`stripe.confirmCardSetup`).
    pub async fn create_setup_intent(
        &self,
        params: &CreateSetupIntent,
        key: &IdempotencyKey,
    ) -> Result<SetupIntent, StripeError> {
        self.post("setup_intents.create", &["setup_intents"], params, key)
            .await
    }

    /// `GET /v1/setup_intents/{id}`: the server's view of a card being saved.
    pub async fn retrieve_setup_intent(&self, id: &str) -> Result<SetupIntent, StripeError> {
        self.get(
            "setup_intents.retrieve",
            &["setup_intents", id],
            &NoParams {},
        )
        .await
    }

    // ---- Customers ------------------------------------------------------------------

    /// `POST /v1/customers`.
    pub async fn create_customer(
        &self,
        params: &CreateCustomer,
        key: &IdempotencyKey,
    ) -> Result<Customer, StripeError> {
        self.post("customers.create", &["customers"], params, key)
            .await
    }

    /// `GET /v1/customers/{id}`. A deleted customer comes back with `deleted: true`.
    pub async fn retrieve_customer(&self, id: &str) -> Result<Customer, StripeError> {
        self.get("customers.retrieve", &["customers", id], &NoParams {})
            .await
    }

    /// `POST /v1/customers/{id}`.
    pub async fn update_customer(
        &self,
        id: &str,
        params: &UpdateCustomer,
        key: &IdempotencyKey,
    ) -> Result<Customer, StripeError> {
        self.post("customers.update", &["customers", id], params, key)
            .await
    }

    /// `DELETE /v1/customers/{id}` (no idempotency key: DELETE is idempotent).
    pub async fn delete_customer(&self, id: &str) -> Result<Deleted, StripeError> {
        self.execute(
            "customers.delete",
            Method::DELETE,
            &["customers", id],
            Vec::new(),
            None,
        )
        .await
    }

    // ---- PaymentMethods -------------------------------------------------------------

    /// `GET /v1/payment_methods/{id}`.
    pub async fn retrieve_payment_method(&self, id: &str) -> Result<PaymentMethod, StripeError> {
        self.get(
            "payment_methods.retrieve",
            &["payment_methods", id],
            &NoParams {},
        )
        .await
    }

    /// `POST /v1/payment_methods/{id}/attach` with `customer=cus_…`.
    pub async fn attach_payment_method(
        &self,
        id: &str,
        customer: &str,
        key: &IdempotencyKey,
    ) -> Result<PaymentMethod, StripeError> {
        check_id("customer", customer)?;
        self.post(
            "payment_methods.attach",
            &["payment_methods", id, "attach"],
            &AttachPaymentMethod {
                customer: customer.to_owned(),
            },
            key,
        )
        .await
    }

    /// `POST /v1/payment_methods/{id}/detach`.
    pub async fn detach_payment_method(
        &self,
        id: &str,
        key: &IdempotencyKey,
    ) -> Result<PaymentMethod, StripeError> {
        self.post(
            "payment_methods.detach",
            &["payment_methods", id, "detach"],
            &NoParams {},
            key,
        )
        .await
    }

    /// `GET /v1/customers/{id}/payment_methods?type=card`.
    pub async fn list_customer_payment_methods(
        &self,
        customer: &str,
        params: &ListPaymentMethods,
    ) -> Result<List<PaymentMethod>, StripeError> {
        self.get(
            "customers.payment_methods.list",
            &["customers", customer, "payment_methods"],
            params,
        )
        .await
    }

    // ---- Refunds --------------------------------------------------------------------

    /// `POST /v1/refunds` (full or partial).
    pub async fn create_refund(
        &self,
        params: &CreateRefund,
        key: &IdempotencyKey,
    ) -> Result<Refund, StripeError> {
        self.post("refunds.create", &["refunds"], params, key).await
    }

    /// `GET /v1/refunds/{id}`.
    pub async fn retrieve_refund(&self, id: &str) -> Result<Refund, StripeError> {
        self.get("refunds.retrieve", &["refunds", id], &NoParams {})
            .await
    }

    /// `GET /v1/refunds?payment_intent=…`.
    pub async fn list_refunds(&self, params: &ListRefunds) -> Result<List<Refund>, StripeError> {
        self.get("refunds.list", &["refunds"], params).await
    }

    // ---- Disputes -------------------------------------------------------------------

    /// `GET /v1/disputes/{id}`.
    pub async fn retrieve_dispute(&self, id: &str) -> Result<Dispute, StripeError> {
        self.get("disputes.retrieve", &["disputes", id], &NoParams {})
            .await
    }

    /// `GET /v1/disputes`.
    pub async fn list_disputes(&self, params: &ListDisputes) -> Result<List<Dispute>, StripeError> {
        self.get("disputes.list", &["disputes"], params).await
    }

    /// `POST /v1/disputes/{id}` (evidence, `submit`).
    pub async fn update_dispute(
        &self,
        id: &str,
        params: &UpdateDispute,
        key: &IdempotencyKey,
    ) -> Result<Dispute, StripeError> {
        self.post("disputes.update", &["disputes", id], params, key)
            .await
    }

    /// `POST /v1/disputes/{id}/close`: accept the dispute (it is lost).
    pub async fn close_dispute(
        &self,
        id: &str,
        key: &IdempotencyKey,
    ) -> Result<Dispute, StripeError> {
        self.post(
            "disputes.close",
            &["disputes", id, "close"],
            &NoParams {},
            key,
        )
        .await
    }

    // ---- Payouts, Events, Charges ---------------------------------------------------

    /// `GET /v1/payouts`.
    pub async fn list_payouts(&self, params: &ListPayouts) -> Result<List<Payout>, StripeError> {
        self.get("payouts.list", &["payouts"], params).await
    }

    /// `GET /v1/payouts/{id}`.
    pub async fn retrieve_payout(&self, id: &str) -> Result<Payout, StripeError> {
        self.get("payouts.retrieve", &["payouts", id], &NoParams {})
            .await
    }

    /// `GET /v1/events/{id}` (e.g. to re-read an event instead of trusting a payload).
    pub async fn retrieve_event(&self, id: &str) -> Result<Event, StripeError> {
        self.get("events.retrieve", &["events", id], &NoParams {})
            .await
    }

    /// `GET /v1/events` (the last 30 days).
    pub async fn list_events(&self, params: &ListEvents) -> Result<List<Event>, StripeError> {
        self.get("events.list", &["events"], params).await
    }

    /// `GET /v1/charges/{id}`, with optional `expand[]` paths.
    pub async fn retrieve_charge(&self, id: &str, expand: &[&str]) -> Result<Charge, StripeError> {
        self.get("charges.retrieve", &["charges", id], &Expand { expand })
            .await
    }

    // ---- Generic requests -----------------------------------------------------------

    /// `GET /v1/{path…}` with `query` form-encoded, for endpoints not wrapped above.
    /// Path segments are percent-encoded; ids must look like Stripe ids.
    pub async fn get<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        path: &[&str],
        query: &Q,
    ) -> Result<T, StripeError> {
        let query = form::to_pairs(query).map_err(|e| StripeError::InvalidArgument {
            message: e.to_string(),
        })?;
        self.execute(operation, Method::GET, path, query, None)
            .await
    }

    /// `POST /v1/{path…}` with `params` as the form body and `key` as the
    /// `Idempotency-Key` of every attempt.
    pub async fn post<T: DeserializeOwned, P: Serialize + ?Sized>(
        &self,
        operation: &'static str,
        path: &[&str],
        params: &P,
        key: &IdempotencyKey,
    ) -> Result<T, StripeError> {
        let body = form::to_string(params).map_err(|e| StripeError::InvalidArgument {
            message: e.to_string(),
        })?;
        self.execute(operation, Method::POST, path, Vec::new(), Some((body, key)))
            .await
    }

    fn url(&self, path: &[&str], query: &[(String, String)]) -> Result<Url, StripeError> {
        let (resource, ids) = path
            .split_first()
            .ok_or_else(|| StripeError::InvalidArgument {
                message: "empty API path".into(),
            })?;
        check_segment(resource)?;
        for id in ids {
            check_segment(id)?;
        }
        let mut url = self.inner.base.clone();
        {
            let mut segments =
                url.path_segments_mut()
                    .map_err(|_| StripeError::InvalidArgument {
                        message: "the base URL cannot take a path".into(),
                    })?;
            segments.pop_if_empty().push("v1");
            for segment in path {
                segments.push(segment);
            }
        }
        if !query.is_empty() {
            url.set_query(Some(&form::encode_pairs(query)));
        }
        Ok(url)
    }

    /// Sends a request, retrying per the policy with the same idempotency key, and
    /// decodes a 2xx answer as `T`. The debug span `stripe` times the whole call
    /// (`LOG_SPAN_CLOSE=1` prints how long it ran and how long it waited).
    #[tracing::instrument(level = "debug", name = "stripe", skip_all, fields(operation = operation))]
    async fn execute<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        path: &[&str],
        query: Vec<(String, String)>,
        body: Option<(String, &IdempotencyKey)>,
    ) -> Result<T, StripeError> {
        let url = self.url(path, &query)?;
        let inner = &*self.inner;
        let policy = &inner.retry;
        let idempotency_key = body.as_ref().map(|(_, k)| k.as_str().to_owned());
        let started = Instant::now();
        let mut attempt: u32 = 0;

        loop {
            attempt += 1;
            let remaining = policy.total_budget.saturating_sub(started.elapsed());
            let timeout = inner.timeout.min(remaining).max(Duration::from_millis(1));

            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(inner.key.expose())
                .header("Stripe-Version", API_VERSION)
                .timeout(timeout);
            if let Some((form_body, key)) = &body {
                request = request
                    .header("Idempotency-Key", key.as_str())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form_body.clone());
            }
            tracing::debug!(operation, %method, path = url.path(), attempt, "Stripe request");

            let (outcome, failure) = match request.send().await {
                Err(e) => {
                    let kind = classify(&e);
                    (
                        AttemptOutcome::Network(kind),
                        Failure::Network(kind, describe(&e)),
                    )
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    let request_id = header(&headers, "request-id").map(str::to_owned);
                    match response.bytes().await {
                        Err(e) => {
                            // The answer started but its body did not arrive in full.
                            let kind = if e.is_timeout() {
                                NetworkFailure::Timeout
                            } else {
                                NetworkFailure::ConnectionClosed
                            };
                            (
                                AttemptOutcome::Network(kind),
                                Failure::Network(kind, describe(&e)),
                            )
                        }
                        Ok(bytes) if (200..300).contains(&status) => {
                            tracing::debug!(
                                operation,
                                status,
                                request_id = request_id.as_deref(),
                                idempotent_replayed =
                                    header(&headers, "idempotent-replayed") == Some("true"),
                                attempt,
                                "Stripe answered"
                            );
                            return serde_json::from_slice::<T>(&bytes).map_err(|e| {
                                let mut err = StripeError::Decode {
                                    message: format!("{e} (HTTP {status})"),
                                    meta: Default::default(),
                                };
                                fill_meta(&mut err, status, request_id, &idempotency_key, attempt);
                                err.log(operation);
                                err
                            });
                        }
                        Ok(bytes) => {
                            let outcome = AttemptOutcome::Response {
                                status,
                                should_retry: header(&headers, "stripe-should-retry")
                                    .and_then(parse_should_retry),
                                retry_after: header(&headers, "retry-after")
                                    .and_then(parse_retry_after),
                            };
                            let err = StripeError::from_response(status, request_id, &bytes);
                            (outcome, Failure::Answer(Box::new(err)))
                        }
                    }
                }
            };

            let jitter: f64 = rand::random();
            match retry_decision(attempt, &outcome, policy, started.elapsed(), jitter) {
                RetryDecision::Retry { delay } => {
                    match &failure {
                        Failure::Network(kind, message) => tracing::warn!(
                            operation,
                            attempt,
                            failure = ?kind,
                            error = %message,
                            delay_ms = delay.as_millis() as u64,
                            "Stripe request failed without an answer; retrying"
                        ),
                        Failure::Answer(err) => tracing::warn!(
                            operation,
                            attempt,
                            status = err.status(),
                            request_id = err.request_id(),
                            code = err.code(),
                            delay_ms = delay.as_millis() as u64,
                            "Stripe request failed; retrying"
                        ),
                    }
                    tokio::time::sleep(delay).await;
                }
                RetryDecision::Stop(reason) => {
                    let err = match failure {
                        Failure::Network(failure, message) => StripeError::Connection {
                            failure,
                            message,
                            attempts: attempt,
                        },
                        Failure::Answer(err) => {
                            let mut err = *err;
                            if let Some(meta) = err.meta_mut() {
                                meta.attempts = attempt;
                                meta.idempotency_key = idempotency_key.clone();
                            }
                            err
                        }
                    };
                    tracing::debug!(operation, ?reason, attempt, "not retrying");
                    err.log(operation);
                    return Err(err);
                }
            }
        }
    }
}

fn fill_meta(
    err: &mut StripeError,
    status: u16,
    request_id: Option<String>,
    idempotency_key: &Option<String>,
    attempts: u32,
) {
    if let Some(meta) = err.meta_mut() {
        meta.status = status;
        meta.request_id = request_id;
        meta.idempotency_key = idempotency_key.clone();
        meta.attempts = attempts;
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok()
}

/// The resource names and ids of a path: Stripe ids are made of letters, digits, `_`
/// and `-`; anything else (`/`, `..`, `?`, empty) is refused before sending.
fn check_segment(segment: &str) -> Result<(), StripeError> {
    check_id("path segment", segment)
}

fn check_id(what: &str, id: &str) -> Result<(), StripeError> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok && id != "." && id != ".." {
        Ok(())
    } else {
        Err(StripeError::InvalidArgument {
            message: format!("{what} {id:?} is not a Stripe id"),
        })
    }
}

/// Sorts a transport error into the retry module's categories.
fn classify(e: &reqwest::Error) -> NetworkFailure {
    if e.is_connect() {
        return NetworkFailure::Connect;
    }
    if e.is_timeout() {
        return NetworkFailure::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
                return NetworkFailure::ConnectionClosed;
            }
            if h.is_timeout() {
                return NetworkFailure::Timeout;
            }
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    return NetworkFailure::ConnectionClosed
                }
                TimedOut => return NetworkFailure::Timeout,
                ConnectionRefused => return NetworkFailure::Connect,
                _ => {}
            }
        }
        source = err.source();
    }
    NetworkFailure::Other
}

/// The error and its causes on one line, with anything key-shaped masked.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    redact_keys(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::new("sk_test_TopSecret123").unwrap()
    }

    #[test]
    fn base_urls_are_validated() {
        assert!(parse_base_url("https://api.stripe.com").is_ok());
        assert!(parse_base_url(SANDBOX_BASE_URL).is_ok());
        assert!(parse_base_url("http://localhost:12111").is_ok());
        assert!(parse_base_url("http://[::1]:12111").is_ok());
        assert_eq!(
            parse_base_url("http://api.stripe.com"),
            Err(BuildError::InsecureBaseUrl("http://api.stripe.com".into()))
        );
        for bad in [
            "",
            "api.stripe.com",
            "ftp://api.stripe.com",
            "https://api.stripe.com/?x=1",
            "https://user:pw@api.stripe.com",
            "mailto:a@b.c",
        ] {
            assert!(
                matches!(parse_base_url(bad), Err(BuildError::InvalidBaseUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn urls_are_built_under_v1_with_encoded_queries() {
        let client = Client::builder(key())
            .base_url("http://127.0.0.1:12111")
            .build()
            .unwrap();
        let url = client
            .url(
                &["payment_intents", "pi_123"],
                &form::to_pairs(&Expand {
                    expand: &["latest_charge", "customer"],
                })
                .unwrap(),
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:12111/v1/payment_intents/pi_123?expand[]=latest_charge&expand[]=customer"
        );
        let prefixed = Client::builder(key())
            .base_url("https://proxy.example.com/stripe/")
            .build()
            .unwrap();
        assert_eq!(
            prefixed.url(&["customers"], &[]).unwrap().as_str(),
            "https://proxy.example.com/stripe/v1/customers"
        );
    }

    #[test]
    fn ids_that_could_change_the_path_are_refused() {
        let client = Client::new(key()).unwrap();
        for bad in [
            "",
            "..",
            ".",
            "pi_1/../customers",
            "pi_1?expand[]=x",
            "pi 1",
            "pi_1#x",
        ] {
            let err = client.url(&["payment_intents", bad], &[]).unwrap_err();
            assert!(
                matches!(err, StripeError::InvalidArgument { .. }),
                "{bad:?}"
            );
        }
        assert!(client.url(&["payment_intents", "pi_3AbC-9.x"], &[]).is_ok());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let client = Client::new(key()).unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("TopSecret"), "{shown}");
        assert!(shown.contains("api.stripe.com"));
        assert!(shown.contains(API_VERSION));
    }
}
