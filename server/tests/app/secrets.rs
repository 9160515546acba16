//! Secrets drill (issue 12, drill 5): every page (the shop, the cart, an order and its
//! checkout, the account's pages signed in with a saved card, every console page signed
//! in as the merchant) and every server function a guest, a shopper or a merchant can
//! call, with real arguments on a shop with history (the fuzz drill's fixture: orders
//! paid, refunded, disputed, warned of fraud, a reconciliation run) — and no answer, in
//! its headers or its body, carries the Stripe secret key or the webhook signing secret
//! in use. The test checks its own coverage: every route of the app and every server
//! function the server registered is visited.

use std::collections::BTreeSet;

use crate::fuzz::{fixture, Fixture};
use crate::support::{spawn_app, Backend, TestApp};

on_both_backends!(no_page_or_server_function_answer_carries_a_secret);

/// The embedded sandbox's secret key (`SANDBOX_SECRET_KEY` in
/// `server/src/stripe_provider.rs`, private there): the key the app's Stripe client
/// sends. Any other secret or restricted key is caught by its prefix below.
const SANDBOX_SECRET_KEY: &str = "sk_test_offline_sandbox_0000000000";

/// What no answer may contain: (name, bytes).
fn secrets(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let webhook = app.server.stripe.webhook_secret.expose().to_owned();
    let tail = webhook.trim_start_matches("whsec_").to_owned();
    assert!(tail.len() >= 16, "the webhook secret has some entropy");
    let basic = base64_encode(format!("{SANDBOX_SECRET_KEY}:").as_bytes());
    vec![
        ("the Stripe secret key".into(), SANDBOX_SECRET_KEY.into()),
        (
            "the secret key as HTTP Basic credentials".into(),
            basic.into(),
        ),
        ("the webhook secret".into(), webhook.into_bytes()),
        (
            "the webhook secret without its prefix".into(),
            tail.into_bytes(),
        ),
        // Any secret or restricted key, any webhook secret, whatever its value.
        ("a secret key (sk_test_)".into(), b"sk_test_".to_vec()),
        ("a secret key (sk_live_)".into(), b"sk_live_".to_vec()),
        ("a restricted key (rk_test_)".into(), b"rk_test_".to_vec()),
        ("a restricted key (rk_live_)".into(), b"rk_live_".to_vec()),
        ("a webhook secret (whsec_)".into(), b"whsec_".to_vec()),
    ]
}

fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Sends requests and checks every answer.
struct Scan<'a> {
    app: &'a TestApp,
    secrets: Vec<(String, Vec<u8>)>,
    client: reqwest::Client,
    /// Server functions called, pages fetched.
    called: BTreeSet<String>,
    pages: Vec<String>,
    answers: usize,
    bytes: usize,
}

impl Scan<'_> {
    async fn check(&mut self, what: &str, response: reqwest::Response) -> (u16, Vec<u8>) {
        let status = response.status().as_u16();
        let headers: Vec<(String, Vec<u8>)> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        let body = response.bytes().await.unwrap().to_vec();
        for (name, secret) in &self.secrets {
            for (header, value) in &headers {
                assert!(
                    !contains(value, secret) && !contains(header.as_bytes(), secret),
                    "{what}: the header {header} carries {name}"
                );
            }
            assert!(
                !contains(&body, secret),
                "{what} ({status}): the body carries {name}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        self.answers += 1;
        self.bytes += body.len();
        (status, body)
    }

    /// A server function with `cookie`'s caller; the status and the JSON answer.
    async fn call(
        &mut self,
        cookie: Option<&str>,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .post(self.app.url(&format!("/api/{endpoint}")))
            .form(form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        let (status, body) = self.check(&format!("POST /api/{endpoint}"), response).await;
        self.called.insert(endpoint.to_owned());
        let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        (status, json)
    }

    /// [`Scan::call`] that must succeed.
    async fn ok(
        &mut self,
        cookie: Option<&str>,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> serde_json::Value {
        let (status, json) = self.call(cookie, endpoint, form).await;
        assert_eq!(status, 200, "{endpoint} {form:?}: {json}");
        json
    }

    /// A page with `cookie`'s caller; its status.
    async fn page(&mut self, cookie: Option<&str>, path: &str) -> u16 {
        let mut request = self.client.get(self.app.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        let (status, body) = self.check(&format!("GET {path}"), response).await;
        assert!(
            status == 200 && contains(&body, b"</html>"),
            "GET {path}: {status}"
        );
        self.pages.push(path.to_owned());
        status
    }
}

/// Whether `path` is an instance of the route `pattern` (`:id`, `{id}` or `*x`
/// segments match any one segment).
fn matches_route(pattern: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let p: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let s: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    p.len() == s.len()
        && p.iter().zip(&s).all(|(p, s)| {
            p == s
                || (!s.is_empty()
                    && (p.starts_with(':') || p.starts_with('{') || p.starts_with('*')))
        })
}

async fn no_page_or_server_function_answer_carries_a_secret(app: &TestApp) {
    let fx: Fixture = fixture(app).await;
    let mut scan = Scan {
        app,
        secrets: secrets(app),
        // The whole suite runs beside this test on two cores (the fuzz drill among
        // them): a slow page is still an answer to check; only none at all fails.
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .unwrap(),
        called: BTreeSet::new(),
        pages: Vec::new(),
        answers: 0,
        bytes: 0,
    };
    let shopper = Some(fx.shopper_cookie.as_str());
    let merchant = Some(fx.merchant_cookie.as_str());
    let guest = Some(fx.guest_cookie.as_str());

    // --- Pages -------------------------------------------------------------------------
    for (who, path) in [
        (None, "/".to_owned()),
        (None, "/cart".to_owned()),
        (None, "/account/sign-up".to_owned()),
        (None, "/account/sign-in?next=/account/cards".to_owned()),
        (guest, "/".to_owned()),
        (guest, "/cart".to_owned()),
        (guest, format!("/orders/{}", fx.guest_order)),
        (guest, format!("/checkout/{}", fx.guest_order)),
        (shopper, "/".to_owned()),
        (shopper, "/cart".to_owned()),
        (shopper, format!("/orders/{}", fx.shopper_order)),
        (shopper, format!("/checkout/{}", fx.shopper_order)),
        (shopper, "/account/orders".to_owned()),
        (shopper, "/account/cards".to_owned()),
        (merchant, "/".to_owned()),
        (merchant, "/merchant".to_owned()),
        (merchant, "/merchant/orders".to_owned()),
        (
            merchant,
            "/merchant/orders?status=refunded&page=1".to_owned(),
        ),
        (merchant, format!("/merchant/orders?q={}", fx.paid_order)),
        (merchant, format!("/merchant/orders/{}", fx.paid_order)),
        (merchant, format!("/merchant/orders/{}", fx.disputed_order)),
        (merchant, format!("/merchant/orders/{}", fx.fraud_order)),
        (merchant, "/merchant/disputes".to_owned()),
        (merchant, format!("/merchant/disputes/{}", fx.dispute)),
        (merchant, "/merchant/refunds".to_owned()),
        (merchant, "/merchant/fraud-warnings".to_owned()),
        (merchant, "/merchant/payouts".to_owned()),
        (merchant, "/merchant/events".to_owned()),
        (merchant, "/merchant/events?parked=1".to_owned()),
        (merchant, "/merchant/reconciliation".to_owned()),
    ] {
        scan.page(who, &path).await;
    }
    // The not-found page, too.
    let response = scan
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    let (status, _) = scan.check("GET /no/such/page", response).await;
    assert_eq!(status, 404);
    // Every route of the app was fetched. (The routes come from the server's own walk:
    // walking them again here would switch resource loading off for the whole process
    // while other tests render pages.)
    let routes: Vec<String> = server::app_routes()
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    assert!(routes.len() >= 18, "{routes:?}");
    for route in &routes {
        assert!(
            scan.pages.iter().any(|p| matches_route(route, p)),
            "the route {route} was not fetched"
        );
    }

    // --- Server functions: a guest and the shopper ---------------------------------------
    for who in [None, guest, shopper, merchant] {
        for endpoint in [
            "products",
            "cart",
            "payments_config",
            "whoami",
            "payment_options",
        ] {
            scan.ok(who, endpoint, &[]).await;
        }
    }
    let config = scan.ok(None, "payments_config", &[]).await;
    scan.ok(
        shopper,
        "add_to_cart",
        &[("sku", "ferris-mug"), ("quantity", "1")],
    )
    .await;
    scan.ok(
        shopper,
        "set_quantity",
        &[("sku", "ferris-mug"), ("quantity", "2")],
    )
    .await;
    scan.ok(shopper, "remove_from_cart", &[("sku", "ferris-mug")])
        .await;
    let cart = scan.ok(shopper, "cart", &[]).await;
    let total = cart["total"]["minor"].as_i64().unwrap().to_string();
    let order = scan
        .ok(shopper, "checkout", &[("expected_total", &total)])
        .await;
    let order = order.as_str().unwrap().to_owned();
    scan.ok(shopper, "order", &[("id", &order)]).await;
    // Paying with the saved card, then with a new one: the PaymentIntent's client
    // secret reaches the page (that is its purpose), never the secret key.
    let pay = scan
        .ok(
            shopper,
            "pay",
            &[("order_id", &order), ("payment_method", &fx.card)],
        )
        .await;
    assert!(pay["client_secret"].as_str().is_some(), "{pay}");
    scan.ok(
        shopper,
        "pay",
        &[("order_id", &fx.shopper_order), ("save", "on")],
    )
    .await;
    scan.call(shopper, "payment_submitted", &[("order_id", &order)])
        .await;
    scan.ok(shopper, "account_orders", &[]).await;
    scan.ok(shopper, "cards", &[]).await;
    scan.call(
        shopper,
        "buy_again",
        &[
            ("order_id", &fx.shopper_order),
            ("request_id", shop::RequestId::generate().as_str()),
        ],
    )
    .await;
    let setup = scan.ok(shopper, "start_card_setup", &[]).await;
    let seti = setup["setup_intent_id"]
        .as_str()
        .or_else(|| setup["id"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            // `seti_…_secret_…`: the SetupIntent's id is before `_secret_`.
            setup["client_secret"]
                .as_str()
                .and_then(|s| s.split("_secret_").next())
                .unwrap_or("seti_unknown")
                .to_owned()
        });
    scan.call(shopper, "card_setup_done", &[("setup_intent", &seti)])
        .await;
    scan.ok(
        shopper,
        "make_default_card",
        &[("payment_method", &fx.card)],
    )
    .await;
    // A second account, signed up, out, in and out again, in its own browser.
    let email = format!("secrets-{:08x}@example.com", rand::random::<u32>());
    let password = "correct horse battery";
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let own = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let own_cookie = || {
        use reqwest::cookie::CookieStore;
        jar.cookies(&app.server.base.parse().unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for (endpoint, form) in [
        (
            "sign_up",
            vec![("email", email.as_str()), ("password", password)],
        ),
        ("sign_out", vec![]),
        (
            "sign_in",
            vec![("email", email.as_str()), ("password", password)],
        ),
        ("sign_out", vec![]),
        (
            "authenticate",
            vec![
                ("mode", "sign_in"),
                ("email", email.as_str()),
                ("password", password),
            ],
        ),
        ("whoami", vec![]),
    ] {
        let cookie = own_cookie();
        let mut request = own.post(app.url(&format!("/api/{endpoint}"))).form(&form);
        if let Some(cookie) = &cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        let (status, _) = scan.check(&format!("POST /api/{endpoint}"), response).await;
        assert!(status == 200 || status == 302, "{endpoint}: {status}");
        scan.called.insert(endpoint.to_owned());
    }
    // The card goes last: it was used above.
    scan.ok(shopper, "remove_card", &[("payment_method", &fx.card)])
        .await;

    // --- Server functions: the merchant --------------------------------------------------
    for endpoint in [
        "merchant_orders",
        "merchant_disputes",
        "merchant_refund_queue",
        "merchant_fraud_warnings",
        "merchant_dashboard",
        "merchant_payouts",
        "merchant_events",
        "merchant_reconciliation",
    ] {
        scan.ok(merchant, endpoint, &[]).await;
        // Not a merchant's: 404, and no secret in that either.
        let (status, _) = scan.call(shopper, endpoint, &[]).await;
        assert_eq!(status, 404, "{endpoint} for a shopper");
    }
    scan.ok(
        merchant,
        "merchant_orders",
        &[("status", "paid"), ("q", &fx.paid_order), ("page", "1")],
    )
    .await;
    scan.ok(merchant, "merchant_order", &[("order_id", &fx.paid_order)])
        .await;
    scan.ok(
        merchant,
        "merchant_events",
        &[("parked", "1"), ("page", "1")],
    )
    .await;
    let request = shop::RequestId::generate().as_str().to_owned();
    scan.ok(
        merchant,
        "refund_order",
        &[
            ("order_id", &fx.paid_order),
            ("amount", "1.00"),
            ("reason", "duplicate"),
            ("note", "secrets drill"),
            ("request_id", &request),
        ],
    )
    .await;
    scan.ok(merchant, "merchant_dispute", &[("dispute_id", &fx.dispute)])
        .await;
    scan.ok(
        merchant,
        "dispute_response",
        &[
            ("dispute_id", &fx.dispute),
            ("action", "save"),
            ("evidence_text", "Delivered, signed for."),
            ("request_id", shop::RequestId::generate().as_str()),
        ],
    )
    .await;
    scan.call(
        merchant,
        "refund_queue_action",
        &[
            ("refund_id", &fx.refund),
            ("action", "dismiss"),
            ("request_id", shop::RequestId::generate().as_str()),
        ],
    )
    .await;
    scan.ok(
        merchant,
        "refund_fraudulent",
        &[
            ("warning_id", &fx.warning),
            ("request_id", shop::RequestId::generate().as_str()),
        ],
    )
    .await;
    let (event, _) = fx.events.first().unwrap();
    scan.call(merchant, "process_event_again", &[("event_id", event)])
        .await;
    scan.ok(merchant, "reconcile_now", &[]).await;

    // Every server function was called.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    let missing: Vec<_> = registered.difference(&scan.called).collect();
    assert!(
        missing.is_empty(),
        "server functions not called: {missing:?}"
    );

    // What else answers a browser: the health check, a refused webhook, and the
    // Stripe.js the page loads (the sandbox's stand-in, in offline mode).
    for (what, request) in [
        ("GET /healthz", scan.client.get(app.url("/healthz"))),
        (
            "POST /webhook",
            scan.client
                .post(app.url("/webhook"))
                .header("stripe-signature", "t=1,v1=00")
                .body("{}"),
        ),
        (
            "GET Stripe.js",
            scan.client.get(config["js_url"].as_str().unwrap()),
        ),
        (
            "GET Stripe.js' card frame",
            scan.client.get(format!(
                "{}elements/card",
                config["js_url"].as_str().unwrap()
            )),
        ),
    ] {
        let response = request.send().await.unwrap();
        scan.check(what, response).await;
    }
    eprintln!(
        "secrets: {} answers ({} bytes): {} pages, {} server functions; none carries a secret",
        scan.answers,
        scan.bytes,
        scan.pages.len(),
        scan.called.len()
    );
}
