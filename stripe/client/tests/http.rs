//! The client against a tiny local test server: headers, bodies, retries with one
//! idempotency key, network failures, error mapping and secrets in logs.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stripe_client::error::messages;
use stripe_client::retry::RetryPolicy;
use stripe_client::{
    Client, CreatePaymentIntent, CreateRefund, IdempotencyKey, ListPaymentMethods, NetworkFailure,
    Page, SecretKey, StripeError,
};
use stripe_types::{Currency, Money, PaymentIntentStatus, RefundReason, API_VERSION};
use support::{payment_intent_json, Reply, TestServer};

const KEY: &str = "sk_test_51SuperSecretKeyValue987";

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        ..RetryPolicy::default()
    }
}

fn client(server: &TestServer) -> Client {
    Client::builder(SecretKey::new(KEY).unwrap())
        .base_url(&server.base_url)
        .retry_policy(fast_policy())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn api_error(status: u16) -> Reply {
    Reply::json(
        status,
        r#"{"error":{"type":"api_error","message":"An unknown error occurred"}}"#,
    )
}

fn create_params() -> CreatePaymentIntent {
    CreatePaymentIntent::new(Money::new(1999, Currency::USD))
        .metadata("order_id", "ord_abc")
        .expand("latest_charge")
}

/// Asserts `count` attempts were made, every one with the idempotency key `key`.
fn assert_attempts_with_key(server: &TestServer, count: usize, key: &str) {
    let requests = server.requests();
    assert_eq!(requests.len(), count);
    assert!(requests
        .iter()
        .all(|r| r.header("idempotency-key") == Some(key)));
}

/// Asserts a connection error: which failure, after how many attempts.
fn assert_connection_error(err: &StripeError, expected: NetworkFailure, expected_attempts: u32) {
    match err {
        StripeError::Connection {
            failure, attempts, ..
        } => {
            assert_eq!(*failure, expected);
            assert_eq!(*attempts, expected_attempts);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn two_500s_then_success_reuse_one_idempotency_key() {
    let server = TestServer::start(vec![
        api_error(500),
        api_error(500),
        Reply::json(200, payment_intent_json("pi_1", "requires_payment_method")),
    ])
    .await;
    let key = IdempotencyKey::for_operation("order", "ord_abc", "pi", 1).unwrap();
    let pi = client(&server)
        .create_payment_intent(&create_params(), &key)
        .await
        .unwrap();
    assert_eq!(pi.id, "pi_1");
    assert_eq!(
        pi.status(),
        Some(PaymentIntentStatus::RequiresPaymentMethod)
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.target, "/v1/payment_intents");
        assert_eq!(r.header("idempotency-key"), Some("order-ord_abc-pi-v1"));
        assert_eq!(r.header("authorization"), Some(&*format!("Bearer {KEY}")));
        assert_eq!(r.header("stripe-version"), Some(API_VERSION));
        assert_eq!(
            r.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(
            r.body,
            "amount=1999&currency=usd&payment_method_types[]=card\
             &metadata[order_id]=ord_abc&expand[]=latest_charge"
        );
    }
}

#[tokio::test]
async fn random_keys_are_also_constant_across_retries() {
    let server = TestServer::start(vec![
        api_error(503),
        Reply::json(200, payment_intent_json("pi_2", "succeeded")),
    ])
    .await;
    let key = IdempotencyKey::random();
    client(&server)
        .create_payment_intent(&create_params(), &key)
        .await
        .unwrap();
    assert_attempts_with_key(&server, 2, key.as_str());
}

#[tokio::test]
async fn a_dropped_connection_is_retried_with_the_same_key() {
    let server = TestServer::start(vec![
        Reply::Drop,
        Reply::json(200, payment_intent_json("pi_3", "succeeded")),
    ])
    .await;
    let key = IdempotencyKey::for_operation("order", "ord_3", "confirm", 1).unwrap();
    let pi = client(&server)
        .confirm_payment_intent("pi_3", &Default::default(), &key)
        .await
        .unwrap();
    assert_eq!(pi.status(), Some(PaymentIntentStatus::Succeeded));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.target, "/v1/payment_intents/pi_3/confirm");
        assert_eq!(r.header("idempotency-key"), Some("order-ord_3-confirm-v1"));
    }
}

#[tokio::test]
async fn dropped_every_time_is_a_connection_error_after_three_attempts() {
    let server = TestServer::start(vec![Reply::Drop, Reply::Drop, Reply::Drop, Reply::Drop]).await;
    let key = IdempotencyKey::random();
    let err = client(&server)
        .create_payment_intent(&create_params(), &key)
        .await
        .unwrap_err();
    assert_connection_error(&err, NetworkFailure::ConnectionClosed, 3);
    assert_eq!(server.requests().len(), 3);
    // The request may have reached Stripe: the shopper is not told "not charged".
    assert_eq!(err.customer_message(), messages::UNCONFIRMED);
    assert!(err.outcome_unknown());
}

#[tokio::test]
async fn connection_refused_is_an_unreachable_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder(SecretKey::new(KEY).unwrap())
        .base_url(format!("http://{addr}"))
        .retry_policy(fast_policy())
        .build()
        .unwrap();
    let err = client
        .retrieve_payment_intent("pi_1", &[])
        .await
        .unwrap_err();
    assert_connection_error(&err, NetworkFailure::Connect, 3);
    assert_eq!(
        err.customer_message(),
        "We could not reach our payment provider. Your card was not charged; please try again."
    );
    assert!(!err.to_string().contains(KEY));
}

#[tokio::test]
async fn a_card_decline_is_not_retried_and_carries_the_payment_intent() {
    let body = format!(
        r#"{{"error":{{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
            "message":"Your card has insufficient funds.","charge":"ch_9",
            "payment_intent":{}}}}}"#,
        payment_intent_json("pi_9", "requires_payment_method")
    );
    let server = TestServer::start(vec![Reply::json(402, body)]).await;
    let key = IdempotencyKey::for_operation("order", "ord_9", "pi", 1).unwrap();
    let err = client(&server)
        .create_payment_intent(
            &create_params().payment_method("pm_card_visa").confirm(),
            &key,
        )
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert!(matches!(err, StripeError::Card { .. }));
    assert_eq!(err.decline_code(), Some("insufficient_funds"));
    assert_eq!(err.status(), Some(402));
    assert_eq!(err.request_id(), Some("req_test_0"));
    assert_eq!(err.payment_intent().unwrap().id, "pi_9");
    let meta = err.meta().unwrap();
    assert_eq!(meta.attempts, 1);
    assert_eq!(meta.idempotency_key.as_deref(), Some("order-ord_9-pi-v1"));
    assert_eq!(
        err.customer_message(),
        "Your card has insufficient funds. Try another card."
    );
}

#[tokio::test]
async fn should_retry_false_stops_a_503() {
    let server = TestServer::start(vec![
        api_error(503).with_header("Stripe-Should-Retry", "false"),
        Reply::json(200, payment_intent_json("pi_x", "succeeded")),
    ])
    .await;
    let err = client(&server)
        .create_payment_intent(&create_params(), &IdempotencyKey::random())
        .await
        .unwrap_err();
    assert!(matches!(err, StripeError::Api { .. }));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn should_retry_true_retries_a_400_and_409_is_retried() {
    let server = TestServer::start(vec![
        Reply::json(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"lock_timeout","message":"busy"}}"#,
        )
        .with_header("Stripe-Should-Retry", "true"),
        Reply::json(
            409,
            r#"{"error":{"type":"idempotency_error","code":"idempotency_key_in_use","message":"in use"}}"#,
        ),
        Reply::json(200, payment_intent_json("pi_y", "succeeded")),
    ])
    .await;
    let pi = client(&server)
        .create_payment_intent(&create_params(), &IdempotencyKey::random())
        .await
        .unwrap();
    assert_eq!(pi.id, "pi_y");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn rate_limits_back_off_then_give_up_as_rate_limit_errors() {
    let limited = || {
        Reply::json(
            429,
            r#"{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}"#,
        )
        .with_header("Retry-After", "0")
    };
    let server = TestServer::start(vec![limited(), limited(), limited()]).await;
    let err = client(&server)
        .retrieve_customer("cus_1")
        .await
        .unwrap_err();
    assert!(matches!(err, StripeError::RateLimit { .. }), "{err:?}");
    assert_eq!(err.meta().unwrap().attempts, 3);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn an_attempt_that_times_out_is_retried() {
    let server = TestServer::start(vec![
        Reply::Delay(
            Duration::from_secs(3),
            Box::new(Reply::json(
                200,
                payment_intent_json("pi_slow", "succeeded"),
            )),
        ),
        Reply::json(200, payment_intent_json("pi_fast", "succeeded")),
    ])
    .await;
    let client = Client::builder(SecretKey::new(KEY).unwrap())
        .base_url(&server.base_url)
        .retry_policy(fast_policy())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let key = IdempotencyKey::random();
    let pi = client
        .capture_payment_intent("pi_fast", &Default::default(), &key)
        .await
        .unwrap();
    assert_eq!(pi.id, "pi_fast");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_attempts_with_key(&server, 2, key.as_str());
}

#[tokio::test]
async fn gets_carry_expand_and_no_idempotency_key() {
    let server = TestServer::start(vec![Reply::json(
        200,
        r#"{"id":"pi_e","amount":1999,"currency":"usd","status":"succeeded",
            "latest_charge":{"id":"ch_e","amount":1999,"currency":"usd","status":"succeeded",
                             "paid":true,"captured":true,"payment_method_details":
                             {"type":"card","card":{"brand":"visa","last4":"4242"}}}}"#,
    )])
    .await;
    let pi = client(&server)
        .retrieve_payment_intent("pi_e", &["latest_charge"])
        .await
        .unwrap();
    let charge = pi.latest_charge.unwrap().into_object().unwrap();
    assert_eq!(charge.card().unwrap().last4, "4242");
    let r = &server.requests()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/v1/payment_intents/pi_e?expand[]=latest_charge");
    assert_eq!(r.header("idempotency-key"), None);
    assert_eq!(r.header("stripe-version"), Some(API_VERSION));
}

#[tokio::test]
async fn lists_and_deletes() {
    let server = TestServer::start(vec![
        Reply::json(
            200,
            r#"{"object":"list","url":"/v1/customers/cus_1/payment_methods","has_more":true,
                "data":[{"id":"pm_1","type":"card","card":{"brand":"visa","last4":"4242",
                "exp_month":12,"exp_year":2030},"customer":"cus_1"}]}"#,
        ),
        Reply::json(200, r#"{"id":"cus_1","object":"customer","deleted":true}"#),
        Reply::json(
            200,
            r#"{"object":"list","has_more":false,"data":[{"id":"re_1","amount":500,
                "currency":"usd","status":"succeeded","payment_intent":"pi_1"}]}"#,
        ),
    ])
    .await;
    let c = client(&server);
    let params = ListPaymentMethods {
        page: Page::limit(10),
        ..Default::default()
    };
    let page = c
        .list_customer_payment_methods("cus_1", &params)
        .await
        .unwrap();
    assert_eq!(page.data[0].card.as_ref().unwrap().last4, "4242");
    assert_eq!(page.next_cursor(), Some("pm_1"));
    let deleted = c.delete_customer("cus_1").await.unwrap();
    assert!(deleted.deleted);
    let refunds = c
        .list_refunds(&stripe_client::ListRefunds::for_payment_intent("pi_1"))
        .await
        .unwrap();
    assert_eq!(refunds.data[0].payment_intent_id(), Some("pi_1"));

    let requests = server.requests();
    assert_eq!(
        requests[0].target,
        "/v1/customers/cus_1/payment_methods?type=card&limit=10"
    );
    assert_eq!(requests[1].method, "DELETE");
    assert_eq!(requests[1].target, "/v1/customers/cus_1");
    assert_eq!(requests[1].header("idempotency-key"), None);
    assert_eq!(requests[2].target, "/v1/refunds?payment_intent=pi_1");
}

#[tokio::test]
async fn an_over_refund_is_an_invalid_request_on_amount() {
    let server = TestServer::start(vec![Reply::json(
        400,
        r#"{"error":{"type":"invalid_request_error","code":"amount_too_large","param":"amount",
            "message":"Refund amount ($60.00) is greater than unrefunded amount on charge ($50.00)"}}"#,
    )])
    .await;
    let params = CreateRefund::partial("pi_1", 6000)
        .reason(RefundReason::RequestedByCustomer)
        .metadata("order_id", "ord_1");
    let key = IdempotencyKey::for_operation("refund", "ord_1", "partial", 1).unwrap();
    let err = client(&server)
        .create_refund(&params, &key)
        .await
        .unwrap_err();
    assert!(matches!(err, StripeError::InvalidRequest { .. }));
    assert_eq!(err.param(), Some("amount"));
    let r = &server.requests()[0];
    assert_eq!(r.target, "/v1/refunds");
    assert_eq!(
        r.body,
        "payment_intent=pi_1&amount=6000&reason=requested_by_customer&metadata[order_id]=ord_1"
    );
    assert_eq!(r.header("idempotency-key"), Some("refund-ord_1-partial-v1"));
}

#[tokio::test]
async fn an_unreadable_success_is_a_decode_error_and_not_retried() {
    let server = TestServer::start(vec![Reply::json(200, "{\"id\": 12}")]).await;
    let err = client(&server)
        .retrieve_charge("ch_1", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, StripeError::Decode { .. }), "{err:?}");
    assert_eq!(err.status(), Some(200));
    assert_eq!(err.request_id(), Some("req_test_0"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn invalid_ids_are_refused_before_sending() {
    let server = TestServer::start(vec![]).await;
    let err = client(&server)
        .retrieve_payment_intent("../customers", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, StripeError::InvalidArgument { .. }));
    let err = client(&server).retrieve_refund("").await.unwrap_err();
    assert!(matches!(err, StripeError::InvalidArgument { .. }));
    assert!(server.requests().is_empty());
}

/// Captures everything `tracing` writes while a test runs on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

#[tokio::test]
async fn logs_and_errors_never_contain_the_key() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // A server that even echoes the key back in its error message.
    let echo = format!(
        r#"{{"error":{{"type":"invalid_request_error","message":"Invalid API Key provided: {KEY}"}}}}"#
    );
    let server = TestServer::start(vec![
        api_error(500),
        Reply::json(
            402,
            r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}"#,
        ),
        Reply::json(401, echo),
    ])
    .await;
    let c = client(&server);
    let declined = c
        .create_payment_intent(&create_params(), &IdempotencyKey::random())
        .await
        .unwrap_err();
    let unauthorized = c.retrieve_payment_intent("pi_1", &[]).await.unwrap_err();
    assert!(matches!(unauthorized, StripeError::Authentication { .. }));

    let logs = captured.text();
    assert!(logs.contains("Stripe request failed"), "{logs}");
    assert!(logs.contains("req_test_1"), "request id missing: {logs}");
    assert!(logs.contains("card_declined"), "{logs}");
    assert!(logs.contains("generic_decline"), "{logs}");
    assert!(logs.contains("status=402"), "{logs}");
    assert!(logs.contains("retrying"), "{logs}");
    assert!(
        !logs.contains("SuperSecret"),
        "key leaked into logs: {logs}"
    );

    for e in [&declined, &unauthorized] {
        for shown in [
            e.to_string(),
            format!("{e:?}"),
            e.customer_message().to_owned(),
        ] {
            assert!(!shown.contains("SuperSecret"), "{shown}");
        }
    }
    assert!(!format!("{c:?}").contains("SuperSecret"));
    assert_eq!(declined.customer_message(), "Your card was declined.");
}
