//! `spawn_app`: the real server (`server::spawn`, the harness the benchmarks use too) on
//! a random loopback port, against a fresh database (a temporary SQLite file, or a new
//! database on the test PostgreSQL).

/// Runs one scenario against both storage backends.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let app = super::spawn_app(super::Backend::Sqlite).await.unwrap();
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(app) = super::spawn_app(super::Backend::Postgres).await else { return };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

use server::spawn::{SpawnOptions, SpawnedApp};
use sqlx::{Connection, Executor, Row};

pub enum Backend {
    Sqlite,
    Postgres,
}

/// The running server (`server::spawn`: its address, store and Stripe provider) and a
/// browser-like client with a cookie jar.
pub struct TestApp {
    pub client: reqwest::Client,
    pub server: SpawnedApp,
}

/// The PostgreSQL admin URL for storage tests, or `None` to skip them. With
/// CHECKOUT_REQUIRE_POSTGRES=1 (as `make test` sets) a missing URL is a failure.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("CHECKOUT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CHECKOUT_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "CHECKOUT_REQUIRE_POSTGRES=1 but CHECKOUT_TEST_POSTGRES_URL is not set"
            );
            eprintln!("skipped: CHECKOUT_TEST_POSTGRES_URL is not set (make test sets it)");
            None
        }
    }
}

pub async fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("checkout_test_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to the test PostgreSQL");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// Starts the app; `None` when the backend is PostgreSQL and none is configured.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Vec::new()).await
}

/// [`spawn_app`] with more settings (limits, TLS…).
pub async fn spawn_app_with(
    backend: Backend,
    vars: Vec<(&'static str, String)>,
) -> Option<TestApp> {
    let mut options = SpawnOptions {
        vars,
        ..SpawnOptions::default()
    };
    if let Backend::Postgres = backend {
        let admin = postgres_admin_url()?;
        options.database_url = Some(fresh_postgres_database(&admin).await);
    }
    // Logs only on request (TEST_LOG=1), as in zero2prod: test output stays readable.
    if std::env::var_os("TEST_LOG").is_some() {
        server::telemetry::init(server::config::LogFormat::Pretty);
    }
    let server = server::spawn::spawn_app(options)
        .await
        .expect("the app starts");
    if let Backend::Sqlite = backend {
        assert!(
            server.description.contains("Sqlite("),
            "{}",
            server.description
        );
    }
    Some(TestApp {
        client: browser(),
        server,
    })
}

/// A browser-like client: its own cookie jar, redirects not followed.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // A request that never ends fails its test (with its name) instead of the run.
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

pub struct ApiResponse {
    pub status: u16,
    pub body: serde_json::Value,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base, path)
    }

    /// Calls a server function the way the browser does (URL-encoded POST).
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> ApiResponse {
        self.call_as(&self.client, endpoint, form).await
    }

    /// [`TestApp::call`] from another browser (another cookie jar).
    pub async fn call_as(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> ApiResponse {
        let response = client
            .post(self.url(&format!("/api/{endpoint}")))
            .form(form)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{endpoint} answered non-JSON ({e}): {text}"));
        ApiResponse { status, body }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(self.server.store.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(self) {
        // Close our keep-alive connections first: graceful shutdown waits for them.
        drop(self.client);
        self.server.stop().await.unwrap();
    }
}

/// The password of the merchants the tests make.
pub const MERCHANT_PASSWORD: &str = "merchant password 0123";

/// A signed-in merchant's browser (a new merchant account each time).
pub async fn merchant(app: &TestApp) -> reqwest::Client {
    let email = format!(
        "merchant-{}@example.com",
        shop::RequestId::generate().as_str()
    );
    shop::accounts::Accounts::new(app.server.store.clone())
        .ensure_merchant(&email, MERCHANT_PASSWORD)
        .await
        .unwrap();
    let client = browser();
    let r = app
        .call_as(
            &client,
            "sign_in",
            &[("email", &email), ("password", MERCHANT_PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    client
}

/// A guest's order of two mugs ($25.00), its PaymentIntent confirmed at the sandbox with
/// the test PaymentMethod `pm` (as Stripe.js would): the order id and the PaymentIntent.
pub async fn order_paid_with(app: &TestApp, pm: &str) -> (String, String) {
    let (order_id, pi, confirmed) = order_confirmed_with(app, pm).await;
    confirmed.unwrap();
    (order_id, pi)
}

/// [`order_paid_with`], the confirmation's answer left to the caller (a decline is an
/// `Err`): the order id, the PaymentIntent and Stripe's answer.
pub async fn order_confirmed_with(
    app: &TestApp,
    pm: &str,
) -> (
    String,
    String,
    Result<stripe_client::PaymentIntent, stripe_client::StripeError>,
) {
    let shopper = browser();
    let added = app
        .call_as(
            &shopper,
            "add_to_cart",
            &[("sku", "ferris-mug"), ("quantity", "2")],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let order = app
        .call_as(&shopper, "checkout", &[("expected_total", "2500")])
        .await;
    let order_id = order.body.as_str().unwrap().to_owned();
    let pay = app
        .call_as(&shopper, "pay", &[("order_id", &order_id)])
        .await;
    let pi = pay.body["payment_intent_id"].as_str().unwrap().to_owned();
    let params = stripe_client::ConfirmPaymentIntent {
        payment_method: Some(pm.into()),
        ..Default::default()
    };
    let key = stripe_client::IdempotencyKey::for_operation("test", &pi, "confirm", 1).unwrap();
    let confirmed = app
        .server
        .stripe
        .client
        .confirm_payment_intent(&pi, &params, &key)
        .await;
    (order_id, pi, confirmed)
}
