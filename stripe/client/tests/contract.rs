//! Contract tests: the real `stripe_client::Client` against the in-process sandbox
//! (`stripe-sandbox`), an independent implementation of the same Stripe API subset. The
//! two crates keep separate wire structs on purpose; these tests show whether they agree.
//!
//! First the calls the app makes (server: create with metadata, description and an
//! idempotency key, its replay and conflict, retrieve, update of the amount; webhook
//! verification of what the sandbox signs and delivers), then one test per resource the
//! client wraps. Each asserts the typed fields the client parses.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};
use stripe_client::webhook::{self, DEFAULT_TOLERANCE};
use stripe_client::{
    CancelPaymentIntent, CancellationReason, CapturePaymentIntent, CardBrand, Client,
    ConfirmPaymentIntent, CreateCustomer, CreatePaymentIntent, CreateRefund, CreateSetupIntent,
    Customer, DisputeEvidence, Event, EventObject, EventType, Expandable, HasId, IdempotencyKey,
    InvoiceSettingsParams, List, ListDisputes, ListEvents, ListPaymentIntents, ListPaymentMethods,
    ListPayouts, ListRefunds, PaymentIntent, SecretKey, SetupFutureUsage, StripeError, Tolerant,
    UpdateCustomer, UpdateDispute, UpdatePaymentIntent, Verifier, WebhookError, WebhookSecret,
};
use stripe_sandbox::{RunningSandbox, SandboxConfig};
use stripe_types::{
    CaptureMethod, ChargeStatus, Currency, DisputeReason, DisputeStatus, Money,
    PaymentIntentStatus, PayoutStatus, RefundReason, RefundStatus, SetupIntentStatus, API_VERSION,
};
use support::{Recorded, Reply, TestServer};

const SK: &str = "sk_test_51ContractTestsSecretKey000";
const WHSEC: &str = "whsec_contract_tests_0123456789abcdef";
/// The publishable key of the browser side (what Stripe.js would send).
const PK: &str = "pk_test_51ContractTestsPublishable000";

struct Stripe {
    sandbox: RunningSandbox,
    client: Client,
}

impl Stripe {
    async fn start() -> Stripe {
        let sandbox = stripe_sandbox::start(SandboxConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            state_file: None,
            ..SandboxConfig::default()
        })
        .await
        .expect("the sandbox starts");
        let client = Client::builder(SecretKey::new(SK).unwrap())
            .base_url(sandbox.url())
            .max_retries(0)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Stripe { sandbox, client }
    }

    /// `POST /_sandbox/{path}` (the sandbox's control API, which the client does not wrap).
    async fn control(&self, path: &str, body: Value) -> Value {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let response = http
            .post(format!("{}/_sandbox/{path}", self.sandbox.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// What Stripe.js does in the browser: a form POST to `/v1/{path}` with the
    /// publishable key (`key=pk_…`). Returns the JSON answer, which must be a 2xx.
    async fn browser_post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let mut pairs = vec![("key".to_owned(), PK.to_owned())];
        pairs.extend(form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let response = http
            .post(format!("{}/v1/{path}", self.sandbox.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(stripe_client::form::encode_pairs(&pairs))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// A card typed into Stripe.js's card frame: a `pm_…` made with the publishable key.
    async fn browser_card(&self, number: &str) -> String {
        let form = [
            ("type", "card"),
            ("card[number]", number),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2040"),
            ("card[cvc]", "123"),
        ];
        let pm = self.browser_post("payment_methods", &form).await;
        pm["id"].as_str().expect("a pm id").to_owned()
    }

    /// The shopper's answer to the 3-D Secure challenge (`complete` or `fail`), as the
    /// sandbox's challenge page sends it.
    async fn three_d_secure(&self, id: &str, client_secret: &str, outcome: &str) {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let response = http
            .post(format!("{}/3ds/{id}/{outcome}", self.sandbox.url()))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("client_secret={client_secret}"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "3ds {outcome} {id}");
    }

    async fn customer(&self) -> Customer {
        self.client
            .create_customer(&CreateCustomer::default(), &fresh_key())
            .await
            .unwrap()
    }

    /// A PaymentIntent created as the checkout creates it.
    async fn create(&self, order_id: &str, amount: i64) -> (PaymentIntent, IdempotencyKey) {
        let key = IdempotencyKey::for_operation("order", order_id, "pi", 1).unwrap();
        let pi = self
            .client
            .create_payment_intent(&checkout_params(order_id, amount), &key)
            .await
            .unwrap();
        (pi, key)
    }

    /// Creates and confirms a PaymentIntent with a test card; returns it and the confirm key.
    async fn pay(&self, order_id: &str, amount: i64, card: &str) -> (PaymentIntent, String) {
        let (pi, _) = self.create(order_id, amount).await;
        let key = IdempotencyKey::random();
        let paid = self
            .client
            .confirm_payment_intent(&pi.id, &confirm_with(card), &key)
            .await
            .unwrap();
        assert_eq!(
            paid.status(),
            Some(PaymentIntentStatus::Succeeded),
            "{card}"
        );
        (paid, key.as_str().to_owned())
    }
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

/// The parameters the server's checkout sends when it creates an order's intent.
fn checkout_params(order_id: &str, amount: i64) -> CreatePaymentIntent {
    CreatePaymentIntent::new(usd(amount))
        .metadata("order_id", order_id)
        .description(format!("Order {order_id}"))
}

fn confirm_with(card: &str) -> ConfirmPaymentIntent {
    ConfirmPaymentIntent {
        payment_method: Some(card.to_owned()),
        ..ConfirmPaymentIntent::default()
    }
}

fn ids<T: HasId>(list: &List<T>) -> BTreeSet<&str> {
    list.data.iter().map(HasId::id).collect()
}

fn fresh_key() -> IdempotencyKey {
    IdempotencyKey::random()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn checkout_creates_replays_retrieves_and_updates_a_payment_intent() {
    let stripe = Stripe::start().await;
    let order_id = "ord_contract_1";
    let (pi, key) = stripe.create(order_id, 1999).await;
    assert!(pi.id.starts_with("pi_"), "{}", pi.id);
    assert_eq!(key.as_str(), "order-ord_contract_1-pi-v1");
    assert_eq!(pi.money(), usd(1999));
    assert_eq!(pi.received(), usd(0));
    assert_eq!(
        pi.status(),
        Some(PaymentIntentStatus::RequiresPaymentMethod)
    );
    assert!(pi.status.known().is_some(), "{:?}", pi.status);
    let secret = pi.client_secret.as_ref().expect("a client secret").expose();
    assert!(
        secret.starts_with(&format!("{}_secret_", pi.id)),
        "{secret}"
    );
    assert_eq!(
        pi.metadata.get("order_id").map(String::as_str),
        Some(order_id)
    );
    assert_eq!(pi.description.as_deref(), Some("Order ord_contract_1"));
    assert_eq!(pi.payment_method_types, ["card"]);
    assert_eq!(
        pi.capture_method,
        Some(Tolerant::Known(CaptureMethod::Automatic))
    );
    assert_eq!(
        (pi.latest_charge_id(), pi.payment_method_id()),
        (None, None)
    );
    assert!(pi.last_payment_error.is_none() && pi.next_action.is_none());
    assert!(
        !pi.livemode && (now() - pi.created).abs() < 60,
        "{}",
        pi.created
    );

    // A retry of the same business action: the same intent, not a second one.
    let replay = stripe
        .client
        .create_payment_intent(&checkout_params(order_id, 1999), &key)
        .await
        .unwrap();
    assert_eq!(replay, pi);
    // The same key with another body is refused, and the server then bumps the version.
    match stripe
        .client
        .create_payment_intent(&checkout_params(order_id, 2500), &key)
        .await
    {
        Err(StripeError::Idempotency { meta, .. }) => {
            assert_eq!(meta.status, 400);
            assert_eq!(meta.idempotency_key.as_deref(), Some(key.as_str()));
            assert_eq!(meta.error_type.as_deref(), Some("idempotency_error"));
            assert!(meta.request_id.is_some_and(|r| r.starts_with("req_")));
        }
        other => panic!("expected an idempotency error, got {other:?}"),
    }
    let listed = stripe
        .client
        .list_payment_intents(&ListPaymentIntents::default())
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1, "the replay created nothing");

    // The reuse path: a server-side retrieve.
    let got = stripe
        .client
        .retrieve_payment_intent(&pi.id, &[])
        .await
        .unwrap();
    assert_eq!(got, pi);

    // The order is the truth: the amount is brought in line with the key the server uses.
    let total = usd(2500);
    let version = u32::try_from(total.minor.rem_euclid(1 << 31)).unwrap();
    let amount_key =
        IdempotencyKey::for_operation("order", order_id, "pi-amount", version).unwrap();
    let updated = stripe
        .client
        .update_payment_intent(&pi.id, &UpdatePaymentIntent::amount(total), &amount_key)
        .await
        .unwrap();
    assert_eq!(updated.id, pi.id);
    assert_eq!(updated.money(), total);
    assert_eq!(
        updated.status(),
        Some(PaymentIntentStatus::RequiresPaymentMethod)
    );
    assert_eq!(updated.metadata, pi.metadata);
    assert_eq!(updated.client_secret, pi.client_secret);
    let metadata = stripe
        .client
        .update_payment_intent(
            &pi.id,
            &UpdatePaymentIntent::default().metadata("cart", "c_1"),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(
        metadata.metadata.get("cart").map(String::as_str),
        Some("c_1")
    );
    assert_eq!(
        metadata.metadata.get("order_id").map(String::as_str),
        Some(order_id)
    );
    let reread = stripe
        .client
        .retrieve_payment_intent(&pi.id, &[])
        .await
        .unwrap();
    assert_eq!(reread.money(), total);

    // A missing intent is a typed 404.
    match stripe
        .client
        .retrieve_payment_intent("pi_missing", &[])
        .await
    {
        Err(StripeError::InvalidRequest { code, meta, .. }) => {
            assert_eq!(code.as_deref(), Some("resource_missing"));
            assert_eq!(meta.status, 404);
        }
        other => panic!("expected resource_missing, got {other:?}"),
    }
}

/// Waits until the listener has received deliveries of every type in `kinds`.
async fn deliveries(stripe: &Stripe, listener: &TestServer, kinds: &[&str]) -> Vec<Recorded> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        stripe.sandbox.sandbox().flush_webhooks().await;
        let got = listener.requests();
        let types: BTreeSet<String> = got
            .iter()
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .filter_map(|v| v["type"].as_str().map(str::to_owned))
            .collect();
        if kinds.iter().all(|k| types.contains(*k)) {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "missing deliveries: have {types:?}, want {kinds:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn webhooks_the_sandbox_signs_are_verified_and_decoded() {
    let stripe = Stripe::start().await;
    let listener = TestServer::start(vec![Reply::json(200, r#"{"received":true}"#); 200]).await;
    stripe
        .sandbox
        .add_webhook_endpoint(&format!("{}/webhook", listener.base_url), WHSEC);
    let secret = WebhookSecret::new(WHSEC).unwrap();

    let (paid, confirm_key) = stripe.pay("ord_hook_paid", 1999, "pm_card_visa").await;
    let (failed, _) = stripe.create("ord_hook_failed", 1500).await;
    let decline = stripe
        .client
        .confirm_payment_intent(
            &failed.id,
            &confirm_with("pm_card_chargeDeclinedInsufficientFunds"),
            &fresh_key(),
        )
        .await;
    assert!(
        matches!(decline, Err(StripeError::Card { .. })),
        "{decline:?}"
    );
    stripe
        .client
        .create_refund(&CreateRefund::full(&paid.id), &fresh_key())
        .await
        .unwrap();

    let recorded = deliveries(
        &stripe,
        &listener,
        &[
            "payment_intent.created",
            "payment_intent.succeeded",
            "charge.succeeded",
            "payment_intent.payment_failed",
            "charge.failed",
            "charge.refunded",
        ],
    )
    .await;
    let verifier = Verifier::new(vec![secret.clone()]);
    let wrong = WebhookSecret::new("whsec_not_the_endpoint_secret_000").unwrap();
    let mut events: Vec<Event> = Vec::new();
    for request in &recorded {
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, "/webhook");
        let signature = request.header(webhook::SIGNATURE_HEADER).expect("signed");
        let body = request.body.as_bytes();
        let event = webhook::verify(
            body,
            signature,
            std::slice::from_ref(&secret),
            DEFAULT_TOLERANCE,
            SystemTime::now(),
        )
        .unwrap_or_else(|e| panic!("{e}: {signature} {}", request.body));
        assert_eq!(verifier.verify(body, signature).as_ref(), Ok(&event));
        assert_eq!(
            webhook::verify(
                body,
                signature,
                std::slice::from_ref(&wrong),
                DEFAULT_TOLERANCE,
                SystemTime::now()
            ),
            Err(WebhookError::SignatureMismatch)
        );
        let mut tampered = body.to_vec();
        tampered.push(b' ');
        assert_eq!(
            verifier.verify(&tampered, signature),
            Err(WebhookError::SignatureMismatch)
        );
        let t = webhook::verify_signature(
            body,
            signature,
            std::slice::from_ref(&secret),
            DEFAULT_TOLERANCE,
            SystemTime::now(),
        )
        .unwrap();
        assert!((now() - t).abs() < 60, "signed with the wall clock: {t}");
        // The client's own signer produces the sandbox's header for the same timestamp.
        assert_eq!(webhook::sign(body, &secret, t), signature);
        assert!(event.id.starts_with("evt_"), "{}", event.id);
        assert_eq!(event.api_version.as_deref(), Some(API_VERSION));
        assert!(!event.livemode);
        events.push(event);
    }
    let find = |kind: EventType, object: &str| -> &Event {
        events
            .iter()
            .find(|e| e.kind == kind && e.object_id() == Some(object))
            .unwrap_or_else(|| panic!("no {kind} for {object}"))
    };
    let charge_id = paid.latest_charge_id().unwrap().to_owned();

    // What the shop's payment state machine (shop/src/payment_state.rs) reads from each event.
    let succeeded = find(EventType::PaymentIntentSucceeded, &paid.id);
    let pi = succeeded.payment_intent().unwrap().unwrap();
    assert_eq!(pi.status(), Some(PaymentIntentStatus::Succeeded));
    assert_eq!(pi.received(), usd(1999));
    assert_eq!(
        pi.metadata.get("order_id").map(String::as_str),
        Some("ord_hook_paid")
    );
    assert_eq!(pi.latest_charge_id(), Some(charge_id.as_str()));
    let request = succeeded.request.as_ref().expect("caused by a request");
    assert_eq!(
        request.idempotency_key.as_deref(),
        Some(confirm_key.as_str())
    );
    assert!(request.id.as_deref().is_some_and(|r| r.starts_with("req_")));
    assert!(
        matches!(succeeded.object().unwrap(), EventObject::PaymentIntent(p) if p.id == paid.id)
    );

    let charge = find(EventType::ChargeSucceeded, &charge_id)
        .charge()
        .unwrap()
        .unwrap();
    assert!(charge.captured && charge.paid);
    assert_eq!(charge.status, ChargeStatus::Succeeded);
    assert_eq!(charge.amount_captured, 1999);
    assert_eq!(charge.currency, Currency::USD);
    assert_eq!(charge.payment_intent_id(), Some(paid.id.as_str()));
    assert_eq!(
        charge.metadata.get("order_id").map(String::as_str),
        Some("ord_hook_paid")
    );

    let failure = find(EventType::PaymentIntentPaymentFailed, &failed.id)
        .object_as::<PaymentIntent>()
        .unwrap();
    assert_eq!(
        failure.status(),
        Some(PaymentIntentStatus::RequiresPaymentMethod)
    );
    let error = failure
        .last_payment_error
        .as_ref()
        .expect("last_payment_error");
    assert_eq!(error.code.as_deref(), Some("card_declined"));
    assert_eq!(error.decline_code.as_deref(), Some("insufficient_funds"));

    let failed_charge = events
        .iter()
        .filter(|e| e.kind == EventType::ChargeFailed)
        .filter_map(|e| e.charge()?.ok())
        .find(|c| c.payment_intent_id() == Some(failed.id.as_str()))
        .expect("charge.failed for the declined intent");
    assert_eq!(failed_charge.status, ChargeStatus::Failed);
    assert_eq!(
        failed_charge
            .outcome
            .as_ref()
            .and_then(|o| o.reason.as_deref()),
        Some("insufficient_funds")
    );
    assert_eq!(failed_charge.failure_code.as_deref(), Some("card_declined"));

    let refunded = find(EventType::ChargeRefunded, &charge_id)
        .charge()
        .unwrap()
        .unwrap();
    assert!(refunded.refunded);
    assert_eq!(
        (refunded.amount_captured, refunded.amount_refunded),
        (1999, 1999)
    );
    assert_eq!(refunded.refundable(), usd(0));
    assert!(events
        .iter()
        .any(|e| e.kind == EventType::RefundCreated && e.refund().is_some_and(|r| r.is_ok())));
}

#[tokio::test]
async fn payment_intents_confirm_decline_capture_cancel_and_list() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let customer = stripe.customer().await;

    // Confirmed server-side with a saved-card-style test id.
    let a = client
        .create_payment_intent(
            &checkout_params("ord_pi_a", 1999).customer(&customer.id),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(a.customer_id(), Some(customer.id.as_str()));
    let a = client
        .confirm_payment_intent(&a.id, &confirm_with("pm_card_visa"), &fresh_key())
        .await
        .unwrap();
    assert_eq!(a.status(), Some(PaymentIntentStatus::Succeeded));
    assert_eq!(a.received(), usd(1999));
    assert!(a.payment_method_id().is_some_and(|p| p.starts_with("pm_")));
    let charge_id = a.latest_charge_id().expect("latest_charge").to_owned();
    assert!(charge_id.starts_with("ch_"), "{charge_id}");

    let expanded = client
        .retrieve_payment_intent(&a.id, &["latest_charge"])
        .await
        .unwrap();
    let charge = expanded
        .latest_charge
        .as_ref()
        .and_then(Expandable::as_object)
        .expect("expanded");
    assert_eq!(charge.id, charge_id);
    assert!(charge.paid && charge.captured && !charge.refunded);
    assert_eq!(charge.money(), usd(1999));
    let card = charge.card().expect("payment_method_details.card");
    assert_eq!(
        (card.brand.clone(), card.last4.as_str()),
        (CardBrand::Visa, "4242")
    );
    let charge = client
        .retrieve_charge(&charge_id, &["payment_intent"])
        .await
        .unwrap();
    assert_eq!(
        charge
            .payment_intent
            .as_ref()
            .and_then(Expandable::as_object)
            .map(|p| p.id.as_str()),
        Some(a.id.as_str())
    );
    assert_eq!(charge.refundable(), usd(1999));
    assert_eq!(charge.status, ChargeStatus::Succeeded);

    // A decline carries the intent, back to requires_payment_method.
    let b = client
        .create_payment_intent(
            &checkout_params("ord_pi_b", 1500).customer(&customer.id),
            &fresh_key(),
        )
        .await
        .unwrap();
    match client
        .confirm_payment_intent(
            &b.id,
            &confirm_with("pm_card_chargeDeclinedInsufficientFunds"),
            &fresh_key(),
        )
        .await
    {
        Err(StripeError::Card {
            code,
            decline_code,
            payment_intent,
            meta,
            ..
        }) => {
            assert_eq!(code.as_deref(), Some("card_declined"));
            assert_eq!(decline_code.as_deref(), Some("insufficient_funds"));
            assert_eq!(meta.status, 402);
            assert!(meta.charge.as_deref().is_some_and(|c| c.starts_with("ch_")));
            let pi = payment_intent.expect("the intent after the decline");
            assert_eq!(pi.id, b.id);
            assert_eq!(
                pi.status(),
                Some(PaymentIntentStatus::RequiresPaymentMethod)
            );
            assert!(pi.last_payment_error.is_some());
        }
        other => panic!("expected a card error, got {other:?}"),
    }
    let b = client
        .cancel_payment_intent(
            &b.id,
            &CancelPaymentIntent {
                cancellation_reason: Some(CancellationReason::RequestedByCustomer),
            },
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(b.status(), Some(PaymentIntentStatus::Canceled));
    assert_eq!(
        b.cancellation_reason,
        Some(CancellationReason::RequestedByCustomer)
    );
    assert!(b.canceled_at.is_some());

    // Manual capture, partially captured.
    let c = client
        .create_payment_intent(
            &checkout_params("ord_pi_c", 3000)
                .customer(&customer.id)
                .payment_method("pm_card_mastercard")
                .capture_method(CaptureMethod::Manual)
                .confirm(),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(c.status(), Some(PaymentIntentStatus::RequiresCapture));
    assert_eq!(
        c.capture_method,
        Some(Tolerant::Known(CaptureMethod::Manual))
    );
    assert_eq!(c.amount_capturable, 3000);
    let c = client
        .capture_payment_intent(
            &c.id,
            &CapturePaymentIntent {
                amount_to_capture: Some(1200),
                ..Default::default()
            },
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(c.status(), Some(PaymentIntentStatus::Succeeded));
    assert_eq!((c.amount_received, c.amount_capturable), (1200, 0));

    let listed = client
        .list_payment_intents(&ListPaymentIntents::for_customer(&customer.id))
        .await
        .unwrap();
    assert_eq!(
        ids(&listed),
        BTreeSet::from([a.id.as_str(), b.id.as_str(), c.id.as_str()])
    );
    assert!(!listed.has_more);
}

#[tokio::test]
async fn customers_create_retrieve_update_delete() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let created = client
        .create_customer(
            &CreateCustomer {
                email: Some("jenny@example.com".into()),
                name: Some("Jenny Rosen".into()),
                metadata: [("account".to_owned(), "acc_1".to_owned())].into(),
                ..Default::default()
            },
            &fresh_key(),
        )
        .await
        .unwrap();
    assert!(created.id.starts_with("cus_"), "{}", created.id);
    assert_eq!(created.email.as_deref(), Some("jenny@example.com"));
    assert_eq!(created.name.as_deref(), Some("Jenny Rosen"));
    assert_eq!(
        created.metadata.get("account").map(String::as_str),
        Some("acc_1")
    );
    assert!(!created.deleted && !created.livemode);
    assert_eq!(created.default_payment_method_id(), None);
    assert_eq!(
        client.retrieve_customer(&created.id).await.unwrap(),
        created
    );

    let updated = client
        .update_customer(
            &created.id,
            &UpdateCustomer {
                name: Some("Jenny R.".into()),
                phone: Some("+15555550100".into()),
                ..Default::default()
            },
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Jenny R."));
    assert_eq!(updated.phone.as_deref(), Some("+15555550100"));
    assert_eq!(updated.email, created.email);

    let deleted = client.delete_customer(&created.id).await.unwrap();
    assert_eq!(
        (deleted.id.as_str(), deleted.deleted),
        (created.id.as_str(), true)
    );
    assert_eq!(deleted.object.as_deref(), Some("customer"));
    let gone = client.retrieve_customer(&created.id).await.unwrap();
    assert!(gone.deleted);
    assert_eq!(gone.email, None);
}

#[tokio::test]
async fn payment_methods_attach_list_default_detach() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let customer = stripe.customer().await;

    let visa = client
        .attach_payment_method("pm_card_visa", &customer.id, &fresh_key())
        .await
        .unwrap();
    assert!(
        visa.id.starts_with("pm_") && visa.id != "pm_card_visa",
        "{}",
        visa.id
    );
    assert_eq!(visa.kind, "card");
    assert_eq!(visa.customer_id(), Some(customer.id.as_str()));
    let card = visa.card.as_ref().expect("card");
    assert_eq!(
        (card.brand.clone(), card.last4.as_str()),
        (CardBrand::Visa, "4242")
    );
    assert!(
        (1..=12).contains(&card.exp_month) && card.exp_year >= 2025,
        "{card:?}"
    );
    assert_eq!(
        client.retrieve_payment_method(&visa.id).await.unwrap(),
        visa
    );

    let amex = client
        .attach_payment_method("pm_card_amex", &customer.id, &fresh_key())
        .await
        .unwrap();
    assert_eq!(
        amex.card.as_ref().map(|c| c.brand.clone()),
        Some(CardBrand::Amex)
    );

    let with_default = client
        .update_customer(
            &customer.id,
            &UpdateCustomer {
                invoice_settings: Some(InvoiceSettingsParams {
                    default_payment_method: Some(visa.id.clone()),
                }),
                ..Default::default()
            },
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(
        with_default.default_payment_method_id(),
        Some(visa.id.as_str())
    );

    let listed = client
        .list_customer_payment_methods(&customer.id, &ListPaymentMethods::default())
        .await
        .unwrap();
    assert_eq!(
        ids(&listed),
        BTreeSet::from([visa.id.as_str(), amex.id.as_str()])
    );

    let detached = client
        .detach_payment_method(&visa.id, &fresh_key())
        .await
        .unwrap();
    assert_eq!(
        (detached.id.as_str(), detached.customer_id()),
        (visa.id.as_str(), None)
    );
    assert_eq!(
        client
            .retrieve_customer(&customer.id)
            .await
            .unwrap()
            .default_payment_method_id(),
        None
    );
    let listed = client
        .list_customer_payment_methods(&customer.id, &ListPaymentMethods::default())
        .await
        .unwrap();
    assert_eq!(
        listed
            .data
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        [amex.id.as_str()]
    );
    // Detaching twice is Stripe's invalid_request_error.
    assert!(matches!(
        client.detach_payment_method(&visa.id, &fresh_key()).await,
        Err(StripeError::InvalidRequest { .. })
    ));
}

#[tokio::test]
async fn refunds_partial_full_list_and_over_refund() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let (pi, _) = stripe.pay("ord_refund", 2000, "pm_card_visa").await;
    let charge_id = pi.latest_charge_id().unwrap();

    let partial = client
        .create_refund(
            &CreateRefund::partial(&pi.id, 500)
                .reason(RefundReason::RequestedByCustomer)
                .metadata("order_id", "ord_refund"),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert!(partial.id.starts_with("re_"), "{}", partial.id);
    assert_eq!(partial.money(), usd(500));
    assert_eq!(partial.status(), Some(RefundStatus::Succeeded));
    assert_eq!(
        partial.reason,
        Some(Tolerant::Known(RefundReason::RequestedByCustomer))
    );
    assert_eq!(partial.payment_intent_id(), Some(pi.id.as_str()));
    assert_eq!(partial.charge_id(), Some(charge_id));
    assert_eq!(
        partial.metadata.get("order_id").map(String::as_str),
        Some("ord_refund")
    );
    assert_eq!(client.retrieve_refund(&partial.id).await.unwrap(), partial);

    let rest = client
        .create_refund(&CreateRefund::full(&pi.id), &fresh_key())
        .await
        .unwrap();
    assert_eq!(rest.money(), usd(1500));
    assert_eq!(rest.reason, None);

    let listed = client
        .list_refunds(&ListRefunds::for_payment_intent(&pi.id))
        .await
        .unwrap();
    assert_eq!(
        ids(&listed),
        BTreeSet::from([partial.id.as_str(), rest.id.as_str()])
    );

    let charge = client.retrieve_charge(charge_id, &[]).await.unwrap();
    assert!(charge.refunded);
    assert_eq!(charge.amount_refunded, 2000);
    assert_eq!(charge.refundable(), usd(0));
    match client
        .create_refund(&CreateRefund::partial(&pi.id, 1), &fresh_key())
        .await
    {
        Err(StripeError::InvalidRequest { meta, .. }) => assert_eq!(meta.status, 400),
        other => panic!("expected an invalid request, got {other:?}"),
    }
}

#[tokio::test]
async fn disputes_open_take_evidence_and_close() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let (pi, _) = stripe
        .pay("ord_dispute", 2000, "pm_card_createDispute")
        .await;
    let charge_id = pi.latest_charge_id().unwrap();

    let listed = client
        .list_disputes(&ListDisputes {
            payment_intent: Some(pi.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    let dispute = &listed.data[0];
    assert!(dispute.id.starts_with("dp_"), "{}", dispute.id);
    assert_eq!(dispute.money(), usd(2000));
    assert_eq!(dispute.status(), Some(DisputeStatus::NeedsResponse));
    assert_eq!(dispute.reason, DisputeReason::Fraudulent);
    assert_eq!(dispute.charge_id(), charge_id);
    assert_eq!(dispute.payment_intent_id(), Some(pi.id.as_str()));
    assert!(
        dispute.due_by().is_some_and(|d| d > now()),
        "{:?}",
        dispute.due_by()
    );
    assert_eq!(
        &client.retrieve_dispute(&dispute.id).await.unwrap(),
        dispute
    );
    assert!(
        client
            .retrieve_charge(charge_id, &[])
            .await
            .unwrap()
            .disputed
    );

    let staged = client
        .update_dispute(
            &dispute.id,
            &UpdateDispute {
                evidence: Some(DisputeEvidence {
                    customer_name: Some("Jenny Rosen".into()),
                    ..Default::default()
                }),
                submit: Some(false),
                ..Default::default()
            },
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(staged.status(), Some(DisputeStatus::NeedsResponse));
    assert_eq!(
        staged
            .evidence
            .as_ref()
            .and_then(|e| e.customer_name.as_deref()),
        Some("Jenny Rosen")
    );
    assert!(staged
        .evidence_details
        .as_ref()
        .is_some_and(|d| d.has_evidence));

    let closed = client
        .close_dispute(&dispute.id, &fresh_key())
        .await
        .unwrap();
    assert_eq!(closed.status(), Some(DisputeStatus::Lost));
    assert_eq!(
        client.retrieve_dispute(&dispute.id).await.unwrap().status(),
        Some(DisputeStatus::Lost)
    );
}

#[tokio::test]
async fn payouts_list_retrieve_and_settle() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    stripe.pay("ord_payout", 3000, "pm_card_visa").await;
    let created = stripe
        .control("payouts", json!({"amount": 1200, "currency": "usd"}))
        .await;
    let id = created["id"].as_str().expect("payout id").to_owned();

    let listed = client.list_payouts(&ListPayouts::default()).await.unwrap();
    let payout = listed.data.iter().find(|p| p.id == id).expect("listed");
    assert!(payout.id.starts_with("po_"), "{}", payout.id);
    assert_eq!(payout.money(), usd(1200));
    assert_eq!(payout.status(), Some(PayoutStatus::Pending));
    assert!(payout.arrival_date > 0);
    assert_eq!(&client.retrieve_payout(&id).await.unwrap(), payout);

    stripe
        .control(&format!("payouts/{id}/paid"), json!({}))
        .await;
    assert_eq!(
        client.retrieve_payout(&id).await.unwrap().status(),
        Some(PayoutStatus::Paid)
    );
    let paid = client
        .list_payouts(&ListPayouts {
            status: Some(PayoutStatus::Paid),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        paid.data.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );
    let pending = client
        .list_payouts(&ListPayouts {
            status: Some(PayoutStatus::Pending),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(pending.data.is_empty(), "{:?}", pending.data);
}

#[tokio::test]
async fn events_list_retrieve_and_type_their_objects() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let (pi, create_key) = stripe.create("ord_events", 1000).await;
    let customer = stripe.customer().await;
    let (fraud, _) = stripe
        .pay("ord_efw", 1000, "pm_card_createEarlyFraudWarning")
        .await;

    let created = client
        .list_events(&ListEvents {
            kind: Some("payment_intent.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let event = created
        .data
        .iter()
        .find(|e| e.object_id() == Some(pi.id.as_str()))
        .expect("payment_intent.created for the intent");
    assert_eq!(event.kind, EventType::PaymentIntentCreated);
    assert_eq!(event.api_version.as_deref(), Some(API_VERSION));
    assert_eq!(
        event
            .request
            .as_ref()
            .and_then(|r| r.idempotency_key.as_deref()),
        Some(create_key.as_str())
    );
    assert_eq!(&client.retrieve_event(&event.id).await.unwrap(), event);
    match event.object().unwrap() {
        EventObject::PaymentIntent(p) => {
            assert_eq!((p.id.as_str(), p.amount), (pi.id.as_str(), 1000))
        }
        other => panic!("expected a PaymentIntent, got {other:?}"),
    }

    let some = client
        .list_events(&ListEvents {
            types: vec!["customer.created".into(), "charge.*".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(some.data.iter().all(|e| e.kind == EventType::CustomerCreated
        || e.kind.as_str().starts_with("charge.")), "{:?}", some.data.iter().map(|e| &e.kind).collect::<Vec<_>>());
    assert!(some
        .data
        .iter()
        .any(|e| matches!(e.object(), Ok(EventObject::Customer(c)) if c.id == customer.id)));
    assert!(some
        .data
        .iter()
        .any(|e| e.kind == EventType::ChargeSucceeded));

    let warnings = client
        .list_events(&ListEvents {
            kind: Some("radar.early_fraud_warning.created".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(warnings.data.len(), 1);
    match warnings.data[0].object().unwrap() {
        EventObject::EarlyFraudWarning(w) => {
            assert!(w.id.starts_with("issfr_"), "{}", w.id);
            assert_eq!(Some(w.charge.id()), fraud.latest_charge_id());
        }
        other => panic!("expected an early fraud warning, got {other:?}"),
    }

    let page = client
        .list_events(&ListEvents {
            page: stripe_client::Page::limit(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.data.len(), 2);
    assert!(page.has_more);
    let cursor = page.next_cursor().expect("a cursor").to_owned();
    let next = client
        .list_events(&ListEvents {
            page: stripe_client::Page::limit(2).after(cursor),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(next
        .data
        .iter()
        .all(|e| page.data.iter().all(|p| p.id != e.id)));
}

#[tokio::test]
async fn setup_intents_create_retrieve_and_report_what_the_browser_did() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let customer = stripe.customer().await;

    let key = IdempotencyKey::for_operation("account", "acc_7", "seti", 1).unwrap();
    let params = CreateSetupIntent::new(&customer.id).metadata("account_id", "acc_7");
    let si = client.create_setup_intent(&params, &key).await.unwrap();
    assert!(si.id.starts_with("seti_"), "{}", si.id);
    assert_eq!(si.status(), Some(SetupIntentStatus::RequiresPaymentMethod));
    assert_eq!(si.customer_id(), Some(customer.id.as_str()));
    assert_eq!(si.usage.as_deref(), Some("off_session"));
    assert_eq!(si.payment_method_types, ["card"]);
    assert_eq!(
        si.metadata.get("account_id").map(String::as_str),
        Some("acc_7")
    );
    assert_eq!(
        (si.payment_method_id(), si.last_setup_error.as_ref()),
        (None, None)
    );
    assert!(!si.livemode && (now() - si.created).abs() < 60);
    let secret = si.client_secret.as_ref().expect("a client secret").expose();
    assert!(
        secret.starts_with(&format!("{}_secret_", si.id)),
        "{secret}"
    );
    // A retried create is the same SetupIntent; a retrieve agrees with it.
    assert_eq!(client.create_setup_intent(&params, &key).await.unwrap(), si);
    assert_eq!(client.retrieve_setup_intent(&si.id).await.unwrap(), si);
    let on_session = client
        .create_setup_intent(
            &CreateSetupIntent::new(&customer.id).usage(SetupFutureUsage::OnSession),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(on_session.usage.as_deref(), Some("on_session"));

    // The browser confirms it (confirmCardSetup) with a card typed in Stripe's frame.
    let pm = stripe.browser_card("4242424242424242").await;
    let confirmed = stripe
        .browser_post(
            &format!("setup_intents/{}/confirm", si.id),
            &[("client_secret", secret), ("payment_method", &pm)],
        )
        .await;
    assert_eq!(confirmed["status"], "succeeded");
    let done = client.retrieve_setup_intent(&si.id).await.unwrap();
    assert_eq!(done.status(), Some(SetupIntentStatus::Succeeded));
    assert!(done.status().unwrap().is_terminal());
    assert_eq!(done.payment_method_id(), Some(pm.as_str()));
    let saved = client.retrieve_payment_method(&pm).await.unwrap();
    assert_eq!(saved.customer_id(), Some(customer.id.as_str()));
    let events = client
        .list_events(&ListEvents {
            kind: Some("setup_intent.succeeded".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.data.len(), 1);
    assert_eq!(events.data[0].kind, EventType::SetupIntentSucceeded);
    match events.data[0].object().unwrap() {
        EventObject::SetupIntent(s) => {
            assert_eq!(
                (s.id.as_str(), s.payment_method_id()),
                (si.id.as_str(), Some(pm.as_str()))
            )
        }
        other => panic!("expected a SetupIntent, got {other:?}"),
    }

    // 3-D Secure the shopper fails: back to requires_payment_method, with the reason.
    let card = stripe.browser_card("4000002760003184").await;
    let failing = client
        .create_setup_intent(&CreateSetupIntent::new(&customer.id), &fresh_key())
        .await
        .unwrap();
    let failing_secret = failing.client_secret.as_ref().unwrap().expose();
    let pending = stripe
        .browser_post(
            &format!("setup_intents/{}/confirm", failing.id),
            &[("client_secret", failing_secret), ("payment_method", &card)],
        )
        .await;
    assert_eq!(pending["status"], "requires_action");
    let waiting = client.retrieve_setup_intent(&failing.id).await.unwrap();
    assert_eq!(waiting.status(), Some(SetupIntentStatus::RequiresAction));
    assert_eq!(
        waiting.next_action.as_ref().map(|a| a.kind.as_str()),
        Some("use_stripe_sdk")
    );
    stripe
        .three_d_secure(&failing.id, failing_secret, "fail")
        .await;
    let failed = client.retrieve_setup_intent(&failing.id).await.unwrap();
    assert_eq!(
        failed.status(),
        Some(SetupIntentStatus::RequiresPaymentMethod)
    );
    assert_eq!(failed.payment_method_id(), None);
    let error = failed.last_setup_error.as_ref().expect("last_setup_error");
    assert_eq!(
        error.code.as_deref(),
        Some(stripe_types::error::code::SETUP_INTENT_AUTHENTICATION_FAILURE)
    );
    assert_eq!(error.payment_method_id(), Some(card.as_str()));
    assert_eq!(
        client
            .retrieve_payment_method(&card)
            .await
            .unwrap()
            .customer,
        None
    );
    assert!(client
        .retrieve_setup_intent("seti_missing")
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn a_card_saved_while_paying_is_attached_and_charged_off_session() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let customer = stripe.customer().await;

    let pi = client
        .create_payment_intent(
            &checkout_params("ord_save", 1999)
                .customer(&customer.id)
                .setup_future_usage(SetupFutureUsage::OffSession),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(pi.setup_future_usage, Some(SetupFutureUsage::OffSession));
    let paid = client
        .confirm_payment_intent(&pi.id, &confirm_with("pm_card_visa"), &fresh_key())
        .await
        .unwrap();
    assert_eq!(paid.status(), Some(PaymentIntentStatus::Succeeded));
    let saved = paid.payment_method_id().expect("the card").to_owned();
    let pm = client.retrieve_payment_method(&saved).await.unwrap();
    assert_eq!(pm.customer_id(), Some(customer.id.as_str()));
    let fingerprint = pm.card.as_ref().and_then(|c| c.fingerprint.clone());
    assert!(fingerprint.is_some(), "{pm:?}");
    let listed = client
        .list_customer_payment_methods(&customer.id, &ListPaymentMethods::default())
        .await
        .unwrap();
    assert_eq!(ids(&listed), BTreeSet::from([saved.as_str()]));
    let attached = client
        .list_events(&ListEvents {
            kind: Some("payment_method.attached".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(attached.data.len(), 1);
    assert_eq!(attached.data[0].kind, EventType::PaymentMethodAttached);
    match attached.data[0].object().unwrap() {
        EventObject::PaymentMethod(p) => {
            assert_eq!(p.id, saved);
            assert_eq!(p.customer_id(), Some(customer.id.as_str()));
        }
        other => panic!("expected a PaymentMethod, got {other:?}"),
    }

    // "Buy again": the saved card, shopper absent.
    let again = client
        .create_payment_intent(
            &checkout_params("ord_again", 2500)
                .customer(&customer.id)
                .payment_method(&saved)
                .off_session(),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(again.status(), Some(PaymentIntentStatus::Succeeded));
    assert_eq!(again.payment_method_id(), Some(saved.as_str()));

    // The default card: only one of this customer's.
    let with_default = client
        .update_customer(
            &customer.id,
            &UpdateCustomer::default_payment_method(&saved),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(
        with_default.default_payment_method_id(),
        Some(saved.as_str())
    );
    let other = stripe.customer().await;
    let theirs = client
        .attach_payment_method("pm_card_mastercard", &other.id, &fresh_key())
        .await
        .unwrap();
    match client
        .update_customer(
            &customer.id,
            &UpdateCustomer::default_payment_method(&theirs.id),
            &fresh_key(),
        )
        .await
    {
        Err(StripeError::InvalidRequest { param, meta, .. }) => {
            assert_eq!(
                param.as_deref(),
                Some("invoice_settings[default_payment_method]")
            );
            assert_eq!(meta.status, 400);
        }
        other => panic!("expected an invalid request, got {other:?}"),
    }
    assert_eq!(
        client
            .retrieve_customer(&customer.id)
            .await
            .unwrap()
            .default_payment_method_id(),
        Some(saved.as_str())
    );
}

#[tokio::test]
async fn off_session_authentication_required_carries_the_intent_and_the_card() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let customer = stripe.customer().await;
    let card = client
        .attach_payment_method("pm_card_authenticationRequired", &customer.id, &fresh_key())
        .await
        .unwrap();

    let attempt = client
        .create_payment_intent(
            &checkout_params("ord_off", 1500)
                .customer(&customer.id)
                .payment_method(&card.id)
                .off_session(),
            &fresh_key(),
        )
        .await;
    let err = attempt.expect_err("the bank wants the shopper");
    assert!(matches!(err, StripeError::Card { .. }), "{err:?}");
    assert_eq!(err.status(), Some(402));
    assert_eq!(err.code(), Some("authentication_required"));
    assert_eq!(err.decline_code(), Some("authentication_required"));
    assert_eq!(
        err.customer_message(),
        stripe_client::error::messages::AUTHENTICATION_REQUIRED
    );
    assert_eq!(err.payment_method_id(), Some(card.id.as_str()));
    assert!(err.charge().is_some_and(|c| c.starts_with("ch_")));
    let pi = err.payment_intent().expect("the intent").clone();
    assert_eq!(
        pi.status(),
        Some(PaymentIntentStatus::RequiresPaymentMethod)
    );
    assert_eq!(pi.customer_id(), Some(customer.id.as_str()));
    assert_eq!(
        pi.metadata.get("order_id").map(String::as_str),
        Some("ord_off")
    );
    let lpe = pi.last_payment_error.as_ref().expect("last_payment_error");
    assert_eq!(lpe.code.as_deref(), Some("authentication_required"));
    assert_eq!(lpe.payment_method_id(), Some(card.id.as_str()));

    // Back on-session: the browser confirms the same intent with the saved card and
    // completes 3-D Secure; the server then sees it paid.
    let secret = pi.client_secret.as_ref().expect("a client secret").expose();
    let pending = stripe
        .browser_post(
            &format!("payment_intents/{}/confirm", pi.id),
            &[("client_secret", secret), ("payment_method", &card.id)],
        )
        .await;
    assert_eq!(pending["status"], "requires_action");
    stripe.three_d_secure(&pi.id, secret, "complete").await;
    let paid = client.retrieve_payment_intent(&pi.id, &[]).await.unwrap();
    assert_eq!(paid.status(), Some(PaymentIntentStatus::Succeeded));
    assert_eq!(paid.payment_method_id(), Some(card.id.as_str()));
}

#[tokio::test]
async fn update_payment_intent_sets_and_unsets_the_saved_card_fields() {
    let stripe = Stripe::start().await;
    let client = &stripe.client;
    let customer = stripe.customer().await;
    let saved = client
        .attach_payment_method("pm_card_visa", &customer.id, &fresh_key())
        .await
        .unwrap();
    let pi = client
        .create_payment_intent(
            &checkout_params("ord_upd", 1800).customer(&customer.id),
            &fresh_key(),
        )
        .await
        .unwrap();
    assert_eq!(pi.setup_future_usage, None);

    let update = |params: UpdatePaymentIntent| {
        let id = pi.id.clone();
        async move {
            client
                .update_payment_intent(&id, &params, &fresh_key())
                .await
                .unwrap()
        }
    };
    let set = update(
        UpdatePaymentIntent::default()
            .payment_method(&saved.id)
            .setup_future_usage(Some(SetupFutureUsage::OffSession)),
    )
    .await;
    assert_eq!(set.payment_method_id(), Some(saved.id.as_str()));
    assert_eq!(
        set.status(),
        Some(PaymentIntentStatus::RequiresConfirmation)
    );
    assert_eq!(set.setup_future_usage, Some(SetupFutureUsage::OffSession));
    let on_session = update(
        UpdatePaymentIntent::default().setup_future_usage(Some(SetupFutureUsage::OnSession)),
    )
    .await;
    assert_eq!(
        on_session.setup_future_usage,
        Some(SetupFutureUsage::OnSession)
    );
    let unset = update(UpdatePaymentIntent::default().setup_future_usage(None)).await;
    assert_eq!(unset.setup_future_usage, None);
    assert_eq!(unset.payment_method_id(), Some(saved.id.as_str()));
    // Leaving the field out changes nothing.
    let untouched = update(UpdatePaymentIntent::default().metadata("step", "4")).await;
    assert_eq!(untouched.setup_future_usage, None);

    let paid = client
        .confirm_payment_intent(&pi.id, &ConfirmPaymentIntent::default(), &fresh_key())
        .await
        .unwrap();
    assert_eq!(paid.status(), Some(PaymentIntentStatus::Succeeded));
    assert_eq!(paid.payment_method_id(), Some(saved.id.as_str()));

    // Unset before paying with a new card: the card is not saved.
    let unsaved = client
        .create_payment_intent(
            &checkout_params("ord_unsave", 1800)
                .customer(&customer.id)
                .setup_future_usage(SetupFutureUsage::OffSession),
            &fresh_key(),
        )
        .await
        .unwrap();
    client
        .update_payment_intent(
            &unsaved.id,
            &UpdatePaymentIntent::default().setup_future_usage(None),
            &fresh_key(),
        )
        .await
        .unwrap();
    let paid = client
        .confirm_payment_intent(
            &unsaved.id,
            &confirm_with("pm_card_mastercard"),
            &fresh_key(),
        )
        .await
        .unwrap();
    let card = paid.payment_method_id().unwrap();
    assert_eq!(
        client.retrieve_payment_method(card).await.unwrap().customer,
        None
    );
}
