//! The shop through HTTP, as the browser uses it, against SQLite and PostgreSQL.

use crate::support::{spawn_app, spawn_app_with, Backend, TestApp};

on_both_backends!(
    health_check_reports_the_database,
    catalogue_is_server_rendered,
    offline_sandbox_is_announced_and_keeps_secrets,
    cart_and_checkout_use_catalogue_prices,
    bad_quantities_are_refused_and_change_nothing,
    unknown_products_and_orders_are_404,
    tampered_total_creates_no_order,
    empty_cart_cannot_check_out,
    concurrent_checkouts_create_one_order,
    quantity_limit_is_enforced_across_adds,
    cart_answers_carry_the_revision_they_were_read_at,
    forms_post_without_javascript,
);

async fn health_check_reports_the_database(app: &TestApp) {
    let (status, body) = app.get("/healthz").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"ok\""), "{body}");
}

async fn catalogue_is_server_rendered(app: &TestApp) {
    let (status, html) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-testid=\"add-to-cart-ferris-mug\""),
        "{html}"
    );
    assert!(html.contains("$12.50"));
    let products = app.call("products", &[]).await;
    assert_eq!(products.status, 200);
    assert_eq!(products.body.as_array().unwrap().len(), 6);
    assert_eq!(products.body[0]["price"]["minor"], 1250);
    assert_eq!(products.body[0]["price"]["currency"], "usd");
    let (status, _) = app.get("/no/such/page").await;
    assert_eq!(status, 404);
}

async fn offline_sandbox_is_announced_and_keeps_secrets(app: &TestApp) {
    let (_, html) = app.get("/").await;
    assert!(
        html.contains("Offline sandbox – no real payments"),
        "{html}"
    );
    assert!(
        !html.contains("sk_test_"),
        "the secret key reached the page"
    );
    let config = app.call("payments_config", &[]).await;
    assert_eq!(config.status, 200);
    assert_eq!(config.body["sandbox"], true);
    assert!(config.body["publishable_key"]
        .as_str()
        .unwrap()
        .starts_with("pk_test_"));
    let js_url = config.body["js_url"].as_str().unwrap();
    assert!(
        js_url.starts_with("http://127.0.0.1:") && js_url.ends_with("/v3/"),
        "{js_url}"
    );
    assert!(!config.body.to_string().contains("sk_test_"));
    assert!(!config.body.to_string().contains("whsec_"));
}

async fn cart_and_checkout_use_catalogue_prices(app: &TestApp) {
    let added = app
        .call("add_to_cart", &[("sku", "ferris-mug"), ("quantity", "1")])
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    app.call("add_to_cart", &[("sku", "borrow-tee"), ("quantity", "1")])
        .await;
    let cart = app
        .call("set_quantity", &[("sku", "ferris-mug"), ("quantity", "3")])
        .await;
    assert_eq!(cart.status, 200, "{}", cart.body);
    assert_eq!(cart.body["total"]["minor"], 3 * 1250 + 2400);
    assert_eq!(cart.body["lines"][0]["line_total"]["minor"], 3750);

    let checkout = app.call("checkout", &[("expected_total", "6150")]).await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    let order_id = checkout.body.as_str().unwrap().to_owned();
    assert!(order_id.starts_with("ord_"));

    let order = app.call("order", &[("id", &order_id)]).await;
    assert_eq!(order.status, 200);
    assert_eq!(order.body["status"], "pending");
    assert_eq!(order.body["total"]["minor"], 6150);
    assert_eq!(order.body["lines"].as_array().unwrap().len(), 2);

    let (status, html) = app.get(&format!("/orders/{order_id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("$61.50"), "{html}");
    assert!(html.contains("data-testid=\"order-status\""));

    // The cart was emptied by checkout.
    let cart = app.call("cart", &[]).await;
    assert_eq!(cart.body["lines"].as_array().unwrap().len(), 0);
    assert_eq!(app.count("orders").await, 1);
    assert_eq!(app.count("order_lines").await, 2);
}

async fn bad_quantities_are_refused_and_change_nothing(app: &TestApp) {
    for quantity in ["0", "-1", "1000000000", "abc", "", "1.5"] {
        let r = app
            .call(
                "add_to_cart",
                &[("sku", "ferris-mug"), ("quantity", quantity)],
            )
            .await;
        assert_eq!(r.status, 400, "quantity {quantity:?}: {}", r.body);
        assert_eq!(r.body["kind"], "invalid_quantity");
    }
    assert_eq!(app.count("cart_items").await, 0);
    assert_eq!(app.count("carts").await, 0);

    app.call("add_to_cart", &[("sku", "ferris-mug"), ("quantity", "2")])
        .await;
    for quantity in ["0", "-1", "1000000000", "abc"] {
        let r = app
            .call(
                "set_quantity",
                &[("sku", "ferris-mug"), ("quantity", quantity)],
            )
            .await;
        assert_eq!(r.status, 400, "{quantity}");
    }
    let cart = app.call("cart", &[]).await;
    assert_eq!(cart.body["lines"][0]["quantity"], 2);
    // A request missing its arguments is a clear 400 too, not a crash.
    let r = app.call("add_to_cart", &[("sku", "ferris-mug")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["kind"], "bad_request");
}

async fn unknown_products_and_orders_are_404(app: &TestApp) {
    for sku in ["no-such-thing", "x'; DROP TABLE products;--"] {
        let r = app
            .call("add_to_cart", &[("sku", sku), ("quantity", "1")])
            .await;
        assert_eq!(r.status, 404, "{sku}");
        assert_eq!(r.body["kind"], "unknown_product");
    }
    assert_eq!(app.count("cart_items").await, 0);
    assert_eq!(app.count("products").await, 6);
    let r = app
        .call("order", &[("id", "ord_00000000000000000000")])
        .await;
    assert_eq!(r.status, 404);
    let r = app.call("order", &[("id", "../etc/passwd")]).await;
    assert_eq!(r.status, 404);
    let r = app
        .call("set_quantity", &[("sku", "ferris-mug"), ("quantity", "1")])
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["kind"], "not_in_cart");
}

async fn tampered_total_creates_no_order(app: &TestApp) {
    app.call("add_to_cart", &[("sku", "ferris-mug"), ("quantity", "2")])
        .await;
    for claimed in ["1", "0", "-2500", "2499", "abc"] {
        let r = app.call("checkout", &[("expected_total", claimed)]).await;
        assert!(r.status == 409 || r.status == 400, "{claimed}: {}", r.body);
    }
    let r = app.call("checkout", &[("expected_total", "1")]).await;
    assert_eq!(r.body["kind"], "total_changed");
    assert!(r.body["detail"]["current"]
        .as_str()
        .unwrap()
        .contains("$25.00"));
    // A price field smuggled into the request is ignored: prices are the catalogue's.
    let r = app
        .call(
            "add_to_cart",
            &[("sku", "ferris-mug"), ("quantity", "1"), ("price", "1")],
        )
        .await;
    assert_eq!(r.body["total"]["minor"], 3 * 1250);
    assert_eq!(app.count("orders").await, 0);
    assert_eq!(app.count("order_lines").await, 0);
}

async fn empty_cart_cannot_check_out(app: &TestApp) {
    let r = app.call("checkout", &[("expected_total", "0")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["kind"], "empty_cart");
    app.call("add_to_cart", &[("sku", "crab-sticker"), ("quantity", "1")])
        .await;
    app.call("remove_from_cart", &[("sku", "crab-sticker")])
        .await;
    let r = app.call("checkout", &[("expected_total", "500")]).await;
    assert_eq!(r.body["kind"], "empty_cart");
    assert_eq!(app.count("orders").await, 0);
}

async fn concurrent_checkouts_create_one_order(app: &TestApp) {
    app.call("add_to_cart", &[("sku", "lifetime-cap"), ("quantity", "2")])
        .await;
    let attempts = (0..8).map(|_| app.call("checkout", &[("expected_total", "5600")]));
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "statuses: {:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(results
        .iter()
        .filter(|r| r.status != 200)
        .all(|r| r.body["kind"] == "empty_cart"));
    assert_eq!(app.count("orders").await, 1);
}

async fn quantity_limit_is_enforced_across_adds(app: &TestApp) {
    let r = app
        .call("add_to_cart", &[("sku", "async-socks"), ("quantity", "60")])
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .call("add_to_cart", &[("sku", "async-socks"), ("quantity", "40")])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["kind"], "quantity_limit");
    let cart = app.call("cart", &[]).await;
    assert_eq!(cart.body["lines"][0]["quantity"], 60);
}

/// Quick clicks are concurrent requests whose answers can arrive in any order: each
/// answer carries the revision of the change it made, so the browser can keep the newest.
/// Concurrent adds take distinct, consecutive revisions, each answer showing exactly the
/// adds up to its own; refused changes take none.
async fn cart_answers_carry_the_revision_they_were_read_at(app: &TestApp) {
    let first = app
        .call("add_to_cart", &[("sku", "crab-sticker"), ("quantity", "1")])
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["revision"], 1);
    let adds =
        (0..8).map(|_| app.call("add_to_cart", &[("sku", "crab-sticker"), ("quantity", "1")]));
    let mut answers: Vec<(u64, u64)> = futures::future::join_all(adds)
        .await
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.body);
            let revision = r.body["revision"].as_u64().expect("a revision");
            (revision, r.body["lines"][0]["quantity"].as_u64().unwrap())
        })
        .collect();
    answers.sort_unstable();
    // Revision n shows the cart after n adds of one sticker each.
    assert_eq!(answers, (2..=9).map(|n| (n, n)).collect::<Vec<_>>());

    // Refused changes leave the revision where it was.
    let refused = app
        .call("set_quantity", &[("sku", "ferris-mug"), ("quantity", "2")])
        .await;
    assert_eq!(refused.body["kind"], "not_in_cart");
    let refused = app
        .call(
            "add_to_cart",
            &[("sku", "crab-sticker"), ("quantity", "99")],
        )
        .await;
    assert_eq!(refused.body["kind"], "quantity_limit");
    let cart = app.call("cart", &[]).await;
    assert_eq!(cart.body["revision"], 9);

    let set = app
        .call(
            "set_quantity",
            &[("sku", "crab-sticker"), ("quantity", "2")],
        )
        .await;
    assert_eq!(set.body["revision"], 10);
    let removed = app
        .call("remove_from_cart", &[("sku", "crab-sticker")])
        .await;
    assert_eq!(removed.body["revision"], 11);
    assert_eq!(removed.body["lines"].as_array().unwrap().len(), 0);
    // An empty cart still has its revision; so does the cart read on its own.
    assert_eq!(app.call("cart", &[]).await.body["revision"], 11);
}

/// The shop's forms are plain HTML forms posting URL-encoded fields to the server
/// functions: with JavaScript off the browser posts them and is sent back to the page.
async fn forms_post_without_javascript(app: &TestApp) {
    let (status, page) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<form method="post" action="/api/add_to_cart""#),
        "no plain add-to-cart form in the page"
    );
    let post = |body: &'static str| {
        app.client
            .post(app.url("/api/add_to_cart"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .header("referer", app.url("/cart"))
            .body(body)
            .send()
    };
    let response = post("sku=ferris-mug&quantity=2").await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    // Back to the page the form was on (Leptos may append an empty query).
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location.split('?').next(), Some(app.url("/cart").as_str()));
    let cart = app.call("cart", &[]).await;
    assert_eq!(cart.body["lines"][0]["quantity"], 2);

    // A refused form goes back to its page with the reason in the URL, which the page
    // shows; nothing changes.
    let response = post("sku=ferris-mug&quantity=0").await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&app.url("/cart")) && location.contains("__err="),
        "{location}"
    );
    let page = app.client.get(&location).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let message = stripe_types::messages::invalid_quantity(shop::MAX_QUANTITY, "0");
    let shown = page
        .split_once(r#"data-testid="form-error""#)
        .and_then(|(_, after)| after.split_once("</p>"))
        .map(|(element, _)| element.to_owned());
    assert!(
        shown
            .as_deref()
            .is_some_and(|e| e.ends_with(&format!(">{message}"))),
        "the page at {location} shows {shown:?}, not {message:?}"
    );
    let cart = app.call("cart", &[]).await;
    assert_eq!(cart.body["lines"][0]["quantity"], 2);
    // Without the reason, the page shows none. A reason that does not decode shows none
    // either (Leptos' own reading of it, for the form's action, answers 400).
    let (_, page) = app.get("/cart").await;
    assert!(!page.contains("form-error"));
    let (status, page) = app
        .get("/cart?__path=%2Fapi%2Fadd_to_cart&__err=bm90IGpzb24")
        .await;
    assert!(status == 200 || status == 400, "{status}");
    assert!(!page.contains("form-error"));
    // A URL written by someone else cannot put their words on the page.
    use base64::Engine;
    let crafted = r#"{"kind":"payment","detail":{"message":"Call +1 555 0100 now"}}"#;
    let (_, page) = app
        .get(&format!(
            "/cart?__path=%2Fapi%2Fadd_to_cart&__err={}",
            base64::engine::general_purpose::URL_SAFE
                .encode(crafted)
                .replace('=', "%3D")
        ))
        .await;
    assert!(!page.contains("555 0100"));
    assert!(page.contains(stripe_types::messages::FORM_REFUSED));

    // Posted from anywhere else (another site's Referer, or none) it stays a 400 naming
    // the problem: a redirect would take the error elsewhere.
    for referer in [Some("http://evil.example/cart"), None] {
        let mut request = app
            .client
            .post(app.url("/api/add_to_cart"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html");
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        let response = request
            .body("sku=ferris-mug&quantity=0")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "referer {referer:?}");
        assert!(response.text().await.unwrap().contains("invalid_quantity"));
    }
    let cart = app.call("cart", &[]).await;
    assert_eq!(cart.body["lines"][0]["quantity"], 2);

    // The cart's page is plain forms, which the `shop` module takes over: no Leptos island.
    let (_, page) = app.get("/cart").await;
    assert!(page.contains(r#"data-wasm="cart""#), "{page}");
    assert!(page.contains(r#"<form method="post" action="/api/checkout" data-cart="checkout">"#));
    assert!(page.contains(r#"import("/pay/shop.js")"#));
    assert!(!page.contains("leptos-island"));
    // Checkout posted as a form goes on to the order's payment page.
    let request_id = page
        .split_once(r#"name="request_id" value=""#)
        .and_then(|(_, after)| after.split_once('"'))
        .map(|(id, _)| id.to_owned())
        .expect("the checkout form's request id");
    let checkout = |client: reqwest::Client, expected: i64| {
        let body = format!("expected_total={expected}&request_id={request_id}");
        async move {
            let response = client
                .post(app.url("/api/checkout"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "text/html")
                .header("referer", app.url("/cart"))
                .body(body)
                .send()
                .await
                .unwrap();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned());
            (response.status(), location)
        }
    };
    let (status, location) = checkout(app.client.clone(), 2 * 1250).await;
    assert_eq!(status, 302);
    let location = location.unwrap();
    let order_id = location.strip_prefix("/checkout/").unwrap_or_default();
    assert!(shop::OrderId::parse(order_id).is_ok(), "{location}");
    let (status, page) = app.get(&location).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-wasm="pay_form""#));
    assert_eq!(
        app.call("cart", &[]).await.body["lines"],
        serde_json::json!([])
    );
    // The same form again (a second click, a resend): the same order, not "empty cart".
    let again = checkout(app.client.clone(), 2 * 1250).await;
    assert_eq!(again, (reqwest::StatusCode::FOUND, Some(location.clone())));
    // That form again on a cart filled since (the Back button): a new order.
    let response = post("sku=crab-sticker&quantity=1").await.unwrap();
    assert!(response.status().is_redirection());
    let (status, newer) = checkout(app.client.clone(), 500).await;
    assert_eq!(status, 302);
    let newer = newer.unwrap();
    assert!(
        newer.starts_with("/checkout/ord_") && newer != location,
        "{newer}"
    );
    // Another shopper's cart with that id: refused, nothing placed.
    let other = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let added = other
        .post(app.url("/api/add_to_cart"))
        .form(&[("sku", "ferris-mug"), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    assert!(added.status().is_success(), "{}", added.status());
    let (status, back) = checkout(other.clone(), 1250).await;
    assert_eq!(status, 302, "back to the cart with the reason");
    assert!(back.is_some_and(|b| b.contains("__err=")));
    let lines = other
        .post(app.url("/api/cart"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(lines["lines"][0]["quantity"], 1, "{lines}");
}

/// WASM chunks (and the checkout's `pay` module) are served as the files they are while
/// pages render beside them on the same thread (a 404 page among them), and server
/// functions keep their own context.
/// leptos_axum made the owner of a file or server function answer a child of whichever
/// page last rendered on the thread: a chunk came back with the 404 page's status and CSP
/// header (and the browser's page never hydrated).
#[tokio::test]
async fn files_and_server_functions_keep_to_their_own_request() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    let chunk = b"\0asm\x01\0\0\0 a chunk".to_vec();
    std::fs::write(site.path().join("pkg/split_chunk.wasm"), &chunk).unwrap();
    std::fs::create_dir_all(site.path().join("pay")).unwrap();
    std::fs::write(site.path().join("pay/pay_bg.wasm"), &chunk).unwrap();
    let app = spawn_app_with(
        Backend::Sqlite,
        vec![("LEPTOS_SITE_ROOT", site.path().display().to_string())],
    )
    .await
    .unwrap();
    let (client, app) = (&app.client, &app);
    for _round in 0..10 {
        let requests = (0..20).map(|i| async move {
            let request = match i % 5 {
                0 => client.get(app.url("/favicon.ico")),
                1 => client.get(app.url("/no/such/page")),
                2 => client.get(app.url("/pkg/split_chunk.wasm")),
                4 => client.get(app.url("/pay/pay_bg.wasm")),
                _ => client
                    .post(app.url("/api/cart"))
                    .form(&Vec::<(String, String)>::new()),
            };
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let csp = response.headers().contains_key("content-security-policy");
            let wasm = response
                .headers()
                .get("content-type")
                .is_some_and(|t| t == "application/wasm");
            (i % 5, status, (csp, wasm), response.bytes().await.unwrap())
        });
        for (kind, status, (csp, wasm), body) in futures::future::join_all(requests).await {
            match kind {
                0 | 1 => assert_eq!(status, 404),
                2 | 4 => {
                    assert_eq!(status, 200, "the module answered {status}");
                    assert!(!csp, "the module carries a page's CSP header");
                    assert!(wasm, "the module is not served as application/wasm");
                    assert_eq!(body.as_ref(), chunk.as_slice());
                }
                _ => assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body)),
            }
        }
    }
}

/// A release build's compressed copies (`.gz`, `.br` beside each file of `pkg/` and
/// `pay/`) are what a browser that accepts them gets: the WASM once sent 129 KiB where
/// 58 KiB would do. A client that accepts neither gets the file itself, and every answer
/// says that it varies with `Accept-Encoding`.
#[tokio::test]
async fn site_files_are_sent_compressed_to_browsers_that_accept_it() {
    let site = tempfile::tempdir().unwrap();
    let module = b"\0asm\x01\0\0\0 a module".to_vec();
    let (gzipped, brotli) = (b"gzip copy".to_vec(), b"brotli copy".to_vec());
    for dir in ["pkg", "pay"] {
        let dir = site.path().join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("m_bg.wasm"), &module).unwrap();
        std::fs::write(dir.join("m_bg.wasm.gz"), &gzipped).unwrap();
        std::fs::write(dir.join("m_bg.wasm.br"), &brotli).unwrap();
    }
    let app = spawn_app_with(
        Backend::Sqlite,
        vec![("LEPTOS_SITE_ROOT", site.path().display().to_string())],
    )
    .await
    .unwrap();
    for path in ["/pkg/m_bg.wasm", "/pay/m_bg.wasm"] {
        for (accept, encoding, body) in [
            (Some("gzip, deflate, br"), Some("br"), &brotli),
            (Some("gzip"), Some("gzip"), &gzipped),
            (None, None, &module),
        ] {
            let mut request = app.client.get(app.url(path));
            if let Some(accept) = accept {
                request = request.header("accept-encoding", accept);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path} ({accept:?})");
            let headers = response.headers().clone();
            let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(
                header("content-encoding").as_deref(),
                encoding,
                "{path} ({accept:?})"
            );
            assert_eq!(header("content-type").as_deref(), Some("application/wasm"));
            assert!(
                header("vary").is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
                "{path}: no `Vary: Accept-Encoding` ({headers:?})"
            );
            assert_eq!(response.bytes().await.unwrap().as_ref(), body.as_slice());
        }
    }
}

/// Pages keep answering while another app starts in the same process (as in these
/// tests, the benchmarks and the drills). Building a router walks the app's routes, and
/// leptos suppresses the loading of resources through a process-wide flag while it walks:
/// a page rendering then on another thread made resources that never loaded, and it never
/// answered (CI saw `/orders/…` and the 404 page time out). The walk is now done once.
#[tokio::test]
async fn pages_answer_while_another_app_starts() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let starter = std::thread::spawn({
        let (stop, started) = (stop.clone(), started.clone());
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                while !stop.load(Ordering::Relaxed) {
                    spawn_app(Backend::Sqlite).await.unwrap().stop().await;
                    started.fetch_add(1, Ordering::Relaxed);
                }
            })
        }
    });
    // A page that hangs fails within seconds, not at the harness's 30.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    let mut pages = 0;
    while pages < 100 || started.load(Ordering::Relaxed) < 5 {
        let answer = client.get(app.url("/no/such/page")).send().await;
        if answer.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let answer = answer.expect("the page answers while another app starts");
        assert_eq!(answer.status().as_u16(), 404);
        answer.bytes().await.unwrap();
        pages += 1;
    }
    stop.store(true, Ordering::Relaxed);
    starter.join().unwrap();
}
