//! HTTPS served by the process itself (`TLS_CERT_FILE`/`TLS_KEY_FILE`), with a
//! certificate authority and a `localhost` certificate made here: pages, `__Host-` cookies,
//! HSTS, the plain-HTTP redirect, and a payment whose webhook the sandbox delivers over
//! HTTPS. On SQLite and PostgreSQL, like every scenario.

use std::path::Path;

use crate::support::{postgres_admin_url, Backend, TestApp};
use server::spawn::SpawnOptions;

on_both_backends!(https_is_served_with_secure_cookies_hsts_and_a_redirect);

/// A private CA and a certificate for `localhost` it signed: `(ca.pem, fullchain.pem,
/// key.pem)` written to `dir`.
fn certificates(dir: &Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let chain = dir.join("fullchain.pem");
    let key_file = dir.join("key.pem");
    std::fs::write(&chain, format!("{}{}", leaf.pem(), ca.pem())).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (ca.pem(), chain, key_file)
}

/// This module's own `spawn_app`: the test's certificate and a redirect listener.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let dir = tempfile::tempdir().unwrap();
    let (ca, chain, key) = certificates(dir.path());
    let mut options = SpawnOptions {
        vars: vec![
            ("TLS_CERT_FILE", chain.display().to_string()),
            ("TLS_KEY_FILE", key.display().to_string()),
            ("HTTP_REDIRECT_ADDR", "127.0.0.1:0".into()),
        ],
        ..SpawnOptions::default()
    };
    if let Backend::Postgres = backend {
        let admin = postgres_admin_url()?;
        options.database_url = Some(crate::support::fresh_postgres_database(&admin).await);
    }
    if std::env::var_os("TEST_LOG").is_some() {
        server::telemetry::init(server::config::LogFormat::Pretty);
    }
    let server = server::spawn::spawn_app(options)
        .await
        .expect("the app starts with TLS");
    // The files were read at start-up.
    drop(dir);
    let port = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    Some(TestApp { client, server })
}

async fn https_is_served_with_secure_cookies_hsts_and_a_redirect(app: &TestApp) {
    assert!(
        app.server.base.starts_with("https://localhost:"),
        "{}",
        app.server.base
    );

    // A page, over TLS, with HSTS.
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=63072000"
    );

    // The guest cart's cookie is host-only and Secure.
    let added = app
        .client
        .post(app.url("/api/add_to_cart"))
        .form(&[("sku", "ferris-mug"), ("quantity", "2")])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let cookie = added.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-cart="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain="), "{cookie}");

    // Pay: the sandbox delivers the webhook to https://localhost:PORT/webhook.
    let order = app.call("checkout", &[("expected_total", "2500")]).await;
    assert_eq!(order.status, 200, "{}", order.body);
    let order_id = order.body.as_str().unwrap().to_owned();
    let pay = app.call("pay", &[("order_id", &order_id)]).await;
    let pi = pay.body["payment_intent_id"].as_str().unwrap().to_owned();
    let params = stripe_client::ConfirmPaymentIntent {
        payment_method: Some("pm_card_visa".into()),
        ..Default::default()
    };
    let key = stripe_client::IdempotencyKey::for_operation("test", &pi, "confirm", 1).unwrap();
    app.server
        .stripe
        .client
        .confirm_payment_intent(&pi, &params, &key)
        .await
        .unwrap();
    // Nobody asks Stripe (no order page): only the webhook, delivered over HTTPS, can
    // make the order paid.
    let id = shop::OrderId::parse(&order_id).unwrap();
    let mut status = String::new();
    for _ in 0..200 {
        status = app
            .server
            .store
            .order(&id)
            .await
            .unwrap()
            .status
            .as_str()
            .to_owned();
        if status == "paid" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, "paid");
    let deliveries = app.count("stripe_events").await;
    assert!(deliveries >= 1, "{deliveries} events stored");

    // Plain HTTP on the redirect listener: 308 to the same path over HTTPS.
    let redirect = app.server.redirect.clone().unwrap();
    let plain = crate::support::browser();
    let moved = plain
        .get(format!("{redirect}/orders/{order_id}?from=mail"))
        .header("host", "localhost:80")
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 308);
    let port = app.server.base.rsplit(':').next().unwrap();
    assert_eq!(
        moved.headers()["location"],
        format!("https://localhost:{port}/orders/{order_id}?from=mail").as_str()
    );
    // A form posted to http:// keeps its method (308), and nothing is served in clear.
    let posted = plain
        .post(format!("{redirect}/api/add_to_cart"))
        .form(&[("sku", "ferris-mug")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 308);

    // Plain HTTP on the TLS port gets no page; a client that does not trust the
    // certificate gets no connection.
    let clear = plain.get(format!("http://127.0.0.1:{port}/")).send().await;
    assert!(clear.map(|r| r.status() != 200).unwrap_or(true));
    let untrusting = reqwest::Client::builder()
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], port.parse().unwrap())),
        )
        .build()
        .unwrap();
    assert!(untrusting.get(app.url("/")).send().await.is_err());
}
