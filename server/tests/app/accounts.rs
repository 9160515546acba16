//! Accounts and saved cards through HTTP (and the shop's services where a scenario needs
//! precise control), against SQLite and PostgreSQL: sign-up/in/out and sessions,
//! throttling, the guest cart's merge, order ownership, saved cards owned by one account,
//! one Customer per account, one entry per card, card events once and in any order.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use shop::accounts::{Accounts, SessionPolicy, ThrottlePolicy};
use shop::cards::Cards;
use shop::store::accounts::AccountRow;
use shop::store::cards::{CardFact, CardRecorded};
use shop::Email;
use sqlx::Row;
use stripe_client::IdempotencyKey;

use crate::support::{browser, spawn_app, Backend, TestApp};

on_both_backends!(
    sign_up_sign_in_sign_out_and_sessions,
    sign_in_is_throttled_per_email_and_per_client,
    the_guest_cart_moves_into_the_account,
    orders_belong_to_their_owner,
    another_accounts_card_is_refused_everywhere,
    one_customer_per_account_under_concurrency,
    the_same_card_saved_twice_keeps_one_entry,
    card_events_apply_once_and_in_any_order,
    buy_again_charges_once_off_session,
    cross_site_posts_are_refused,
);

const PASSWORD: &str = "correct horse battery";

fn email() -> String {
    format!("shopper-{:016x}@example.com", rand::random::<u64>())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The `session=` value a response set, if any.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

async fn post_raw(
    app: &TestApp,
    client: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/{endpoint}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// `whoami` with exactly this session cookie (no jar).
async fn whoami_with(app: &TestApp, token: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(app.url("/api/whoami"))
        .header("cookie", format!("session={token}"))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

async fn sign_up(app: &TestApp, client: &reqwest::Client, email: &str) {
    let r = app
        .call_as(
            client,
            "sign_up",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn account(app: &TestApp, email: &str) -> AccountRow {
    app.server
        .store
        .account_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .expect("the account exists")
}

fn cards(app: &TestApp) -> Cards {
    Cards::new(app.server.store.clone(), app.server.stripe.client.clone())
}

/// Places an order of one mug from `client`'s cart; returns its id.
async fn order_as(app: &TestApp, client: &reqwest::Client) -> String {
    let added = app
        .call_as(
            client,
            "add_to_cart",
            &[("sku", "ferris-mug"), ("quantity", "1")],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let total = added.body["total"]["minor"].as_i64().unwrap().to_string();
    let placed = app
        .call_as(client, "checkout", &[("expected_total", &total)])
        .await;
    assert_eq!(placed.status, 200, "{}", placed.body);
    placed.body.as_str().unwrap().to_owned()
}

/// Attaches a new copy of a test card to the Customer (as Stripe.js + a SetupIntent
/// would), then waits until the webhook recorded it; returns its `pm_…`.
async fn save_card(app: &TestApp, customer: &str, test_pm: &str) -> String {
    let pm = app
        .server
        .stripe
        .client
        .attach_payment_method(test_pm, customer, &IdempotencyKey::random())
        .await
        .unwrap();
    wait_for(
        app,
        &format!("SELECT id FROM saved_cards WHERE id = '{}'", pm.id),
    )
    .await;
    pm.id
}

/// Polls until the query returns a row (webhooks arrive asynchronously).
async fn wait_for(app: &TestApp, query: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = sqlx::query(query)
            .fetch_optional(app.server.store.pool())
            .await
            .unwrap();
        if found.is_some() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {query}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn card_status(app: &TestApp, pm: &str) -> Option<String> {
    sqlx::query("SELECT status FROM saved_cards WHERE id = $1")
        .bind(pm)
        .fetch_optional(app.server.store.pool())
        .await
        .unwrap()
        .map(|r| r.try_get("status").unwrap())
}

async fn sign_up_sign_in_sign_out_and_sessions(app: &TestApp) {
    let me = email();
    let bad = app
        .call(
            "sign_up",
            &[("email", "not-an-email"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["kind"].as_str()),
        (400, Some("invalid_email"))
    );
    let short = app
        .call("sign_up", &[("email", &me), ("password", "short")])
        .await;
    assert_eq!(
        (short.status, short.body["kind"].as_str()),
        (400, Some("password_policy"))
    );
    assert_eq!(
        app.count("accounts").await,
        0,
        "a refused sign-up creates nothing"
    );

    // Sign up: signed in at once, the cookie HttpOnly and SameSite=Lax.
    let response = post_raw(
        app,
        &app.client,
        "sign_up",
        &[("email", &me.to_uppercase()), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(response.status(), 200);
    let cookie_line = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Lax"),
        "{cookie_line}"
    );
    let first = session_cookie(&response).expect("a session cookie");
    assert_eq!(first.len(), 64);
    assert_eq!(app.call("whoami", &[]).await.body["email"], me.as_str());
    // Stored: the Argon2id hash of the password, the SHA-256 of the token (never either).
    let row = sqlx::query("SELECT password_hash FROM accounts")
        .fetch_one(app.server.store.pool())
        .await
        .unwrap();
    let hash: String = row.try_get("password_hash").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(app.server.store.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], first, "the token itself is never stored");

    // The same email again (any case) is taken.
    let again = app
        .call_as(
            &browser(),
            "sign_up",
            &[("email", &me), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        (again.status, again.body["kind"].as_str()),
        (409, Some("email_taken"))
    );

    // Failures say the same for an unknown email and a wrong password.
    let stranger = browser();
    let wrong = app
        .call_as(
            &stranger,
            "sign_in",
            &[("email", &me), ("password", "wrong password!")],
        )
        .await;
    let unknown = app
        .call_as(
            &stranger,
            "sign_in",
            &[("email", &email()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body["kind"], "sign_in_failed");

    // Signing in again rotates the session: the old token is revoked.
    let response = post_raw(
        app,
        &app.client,
        "sign_in",
        &[("email", &me), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(response.status(), 200);
    let second = session_cookie(&response).expect("a new session cookie");
    assert_ne!(second, first);
    assert!(
        whoami_with(app, &first).await.is_null(),
        "old session still alive"
    );
    assert_eq!(whoami_with(app, &second).await["email"], me.as_str());

    // Sign out: revoked on the server (the cookie alone is worthless), cookie cleared.
    let response = post_raw(app, &app.client, "sign_out", &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(session_cookie(&response).as_deref(), Some(""));
    assert!(whoami_with(app, &second).await.is_null());
    assert!(app.call("whoami", &[]).await.body.is_null());
    assert_eq!(app.count("sessions").await, 0);

    // An idle session expires (a policy with a short idle time, same store).
    let accounts = Accounts::with_policies(
        app.server.store.clone(),
        SessionPolicy {
            idle: Duration::from_millis(300),
            ..SessionPolicy::default()
        },
        ThrottlePolicy::default(),
    );
    let session = accounts
        .sign_in(&me, PASSWORD, "test", None, None)
        .await
        .unwrap();
    assert!(accounts.session(&session.token).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(accounts.session(&session.token).await.unwrap().is_none());
}

async fn sign_in_is_throttled_per_email_and_per_client(app: &TestApp) {
    let me = email();
    sign_up(app, &browser(), &me).await;
    let policy = ThrottlePolicy {
        email_slow_after: 2,
        email_lock_after: 3,
        client_slow_after: 5,
        client_lock_after: 6,
        delay_step: Duration::from_millis(150),
        max_delay: Duration::from_millis(300),
        ..ThrottlePolicy::default()
    };
    let accounts =
        Accounts::with_policies(app.server.store.clone(), SessionPolicy::default(), policy);
    let fail = |client: &'static str, email: String| {
        let accounts = accounts.clone();
        async move {
            let started = Instant::now();
            let result = accounts
                .sign_in(&email, "wrong password!", client, None, None)
                .await;
            (result.unwrap_err(), started.elapsed())
        }
    };
    // Per email: two quick failures, a slower one, then locked even with the right password.
    let (e, took) = fail("10.0.0.1", me.clone()).await;
    assert_eq!(e, shop::ShopError::SignInFailed);
    assert!(took < Duration::from_millis(150), "{took:?}");
    fail("10.0.0.1", me.clone()).await;
    let (e, took) = fail("10.0.0.1", me.clone()).await;
    assert_eq!(e, shop::ShopError::SignInFailed);
    assert!(
        took >= Duration::from_millis(150),
        "answers slow down: {took:?}"
    );
    let locked = accounts
        .sign_in(&me, PASSWORD, "10.0.0.9", None, None)
        .await
        .unwrap_err();
    assert_eq!(
        locked,
        shop::ShopError::Throttled {
            minutes: "15".into()
        }
    );
    assert_eq!(
        locked.customer_message(),
        "Too many sign-in attempts. Try again in 15 minutes."
    );
    // Per client: failures over many emails lock that client out, not others.
    for _ in 0..3 {
        fail("10.0.0.2", email()).await;
    }
    let (e, _) = fail("10.0.0.2", email()).await;
    assert_eq!(e, shop::ShopError::SignInFailed);
    // 3 from this client + 3 for `me` from 10.0.0.1 do not add up: 4 so far, then 5, 6.
    fail("10.0.0.2", email()).await;
    fail("10.0.0.2", email()).await;
    let (e, _) = fail("10.0.0.2", email()).await;
    assert!(matches!(e, shop::ShopError::Throttled { .. }), "{e:?}");
    let other = email();
    sign_up(app, &browser(), &other).await;
    assert!(accounts
        .sign_in(&other, PASSWORD, "10.0.0.3", None, None)
        .await
        .is_ok());

    // Over HTTP with the server's own policy: a locked email answers 429 and a sentence.
    let victim = email();
    sign_up(app, &browser(), &victim).await;
    for _ in 0..10 {
        sqlx::query("INSERT INTO sign_in_failures (scope, failed_at) VALUES ($1, $2)")
            .bind(format!("email:{victim}"))
            .bind(now() * 1000)
            .execute(app.server.store.pool())
            .await
            .unwrap();
    }
    let r = app
        .call_as(
            &browser(),
            "sign_in",
            &[("email", &victim), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.body["kind"], "throttled");
    assert_eq!(r.body["detail"]["minutes"], "15");
}

async fn the_guest_cart_moves_into_the_account(app: &TestApp) {
    let shopper = browser();
    let me = email();
    sign_up(app, &browser(), &me).await;
    let add = |sku: &'static str, quantity: &'static str| {
        let shopper = shopper.clone();
        async move {
            app.call_as(
                &shopper,
                "add_to_cart",
                &[("sku", sku), ("quantity", quantity)],
            )
            .await
        }
    };
    add("ferris-mug", "2").await;
    add("async-socks", "1").await;
    let r = app
        .call_as(
            &shopper,
            "sign_in",
            &[("email", &me), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cart = app.call_as(&shopper, "cart", &[]).await.body;
    assert_eq!(cart["lines"].as_array().unwrap().len(), 2, "{cart}");
    assert_eq!(cart["total"]["minor"], 2 * 1250 + 1600);
    // Signed out, the guest cart is empty (its lines moved); signing in again merges
    // more, quantities added and capped at the line limit.
    app.call_as(&shopper, "sign_out", &[]).await;
    assert!(app.call_as(&shopper, "cart", &[]).await.body["total"].is_null());
    add("ferris-mug", "98").await;
    app.call_as(
        &shopper,
        "sign_in",
        &[("email", &me), ("password", PASSWORD)],
    )
    .await;
    let cart = app.call_as(&shopper, "cart", &[]).await.body;
    let mug = cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == "ferris-mug")
        .unwrap();
    assert_eq!(mug["quantity"], 99, "{cart}");
    assert_eq!(
        mug["unit_price"]["minor"], 1250,
        "priced from the catalogue"
    );
}

async fn orders_belong_to_their_owner(app: &TestApp) {
    // A guest's order: only the cart cookie that placed it.
    let guest = browser();
    let order = order_as(app, &guest).await;
    let stranger = browser();
    for (endpoint, field) in [
        ("order", "id"),
        ("pay", "order_id"),
        ("payment_submitted", "order_id"),
    ] {
        let r = app.call_as(&stranger, endpoint, &[(field, &order)]).await;
        assert_eq!(
            (r.status, r.body["kind"].as_str()),
            (404, Some("unknown_order")),
            "{endpoint}"
        );
    }
    let status: String = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(&order)
        .fetch_one(app.server.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "pending", "nothing changed");
    assert_eq!(
        app.count("orders WHERE payment_intent_id IS NOT NULL")
            .await,
        0,
        "no PaymentIntent created"
    );
    assert_eq!(
        app.call_as(&guest, "order", &[("id", &order)]).await.status,
        200
    );

    // An account's order: only that account (not another, not a guest, not its old cart).
    let (alice, bob) = (browser(), browser());
    let (alice_email, bob_email) = (email(), email());
    sign_up(app, &alice, &alice_email).await;
    sign_up(app, &bob, &bob_email).await;
    let alices = order_as(app, &alice).await;
    for caller in [&bob, &stranger, &guest] {
        for (endpoint, field) in [
            ("order", "id"),
            ("pay", "order_id"),
            ("payment_submitted", "order_id"),
        ] {
            let r = app.call_as(caller, endpoint, &[(field, &alices)]).await;
            assert_eq!(r.status, 404, "{endpoint}: {}", r.body);
        }
    }
    assert_eq!(
        app.count("orders WHERE payment_intent_id IS NOT NULL")
            .await,
        0
    );
    // Alice pays on her own Customer.
    let pay = app.call_as(&alice, "pay", &[("order_id", &alices)]).await;
    assert_eq!(pay.status, 200, "{}", pay.body);
    let pi = app
        .server
        .stripe
        .client
        .retrieve_payment_intent(pay.body["payment_intent_id"].as_str().unwrap(), &[])
        .await
        .unwrap();
    let alice_row = account(app, &alice_email).await;
    assert_eq!(pi.customer_id(), alice_row.stripe_customer_id.as_deref());
    // Her list has it; Bob's does not.
    let mine = app.call_as(&alice, "account_orders", &[]).await.body;
    assert_eq!(mine[0]["id"], alices.as_str());
    assert_eq!(
        app.call_as(&bob, "account_orders", &[]).await.body,
        serde_json::json!([])
    );
    assert_eq!(
        app.call_as(&stranger, "account_orders", &[]).await.status,
        401
    );
    // "Buy again" on someone else's order creates nothing.
    let before = app.count("orders").await;
    let r = app
        .call_as(
            &bob,
            "buy_again",
            &[
                ("order_id", &alices),
                ("request_id", "0123456789abcdef0123"),
            ],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(app.count("orders").await, before);
}

async fn another_accounts_card_is_refused_everywhere(app: &TestApp) {
    let (alice, bob) = (browser(), browser());
    let (alice_email, bob_email) = (email(), email());
    sign_up(app, &alice, &alice_email).await;
    sign_up(app, &bob, &bob_email).await;
    let customer = cards(app)
        .customer(&account(app, &alice_email).await)
        .await
        .unwrap();
    let pm = save_card(app, &customer, "pm_card_visa").await;
    wait_for(
        app,
        &format!("SELECT id FROM accounts WHERE default_payment_method = '{pm}'"),
    )
    .await;
    let listed = app.call_as(&alice, "cards", &[]).await.body;
    assert_eq!(listed[0]["id"], pm.as_str(), "{listed}");
    assert_eq!(
        listed[0]["is_default"], true,
        "the first card saved is the default"
    );

    let bobs_order = order_as(app, &bob).await;
    let r = app
        .call_as(
            &bob,
            "pay",
            &[("order_id", &bobs_order), ("payment_method", &pm)],
        )
        .await;
    assert_eq!(
        (r.status, r.body["kind"].as_str()),
        (404, Some("unknown_card")),
        "{}",
        r.body
    );
    let bob_row = account(app, &bob_email).await;
    assert_eq!(bob_row.stripe_customer_id, None, "nothing created for Bob");
    assert_eq!(
        app.count("orders WHERE payment_intent_id IS NOT NULL")
            .await,
        0
    );
    for endpoint in ["remove_card", "make_default_card"] {
        let r = app
            .call_as(&bob, endpoint, &[("payment_method", &pm)])
            .await;
        assert_eq!(r.status, 404, "{endpoint}: {}", r.body);
    }
    // A guest cannot name a card at all.
    let guest = browser();
    let guests_order = order_as(app, &guest).await;
    let r = app
        .call_as(
            &guest,
            "pay",
            &[("order_id", &guests_order), ("payment_method", &pm)],
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(card_status(app, &pm).await.as_deref(), Some("attached"));
    let at_stripe = app
        .server
        .stripe
        .client
        .retrieve_payment_method(&pm)
        .await
        .unwrap();
    assert_eq!(at_stripe.customer_id(), Some(customer.as_str()));

    // Alice pays with it: the intent carries her Customer and the card.
    let alices_order = order_as(app, &alice).await;
    let r = app
        .call_as(
            &alice,
            "pay",
            &[("order_id", &alices_order), ("payment_method", &pm)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pi = app
        .server
        .stripe
        .client
        .retrieve_payment_intent(r.body["payment_intent_id"].as_str().unwrap(), &[])
        .await
        .unwrap();
    assert_eq!(pi.payment_method_id(), Some(pm.as_str()));
    assert_eq!(pi.customer_id(), Some(customer.as_str()));

    // Removed: detached at Stripe, never offered or usable again.
    let r = app
        .call_as(&alice, "remove_card", &[("payment_method", &pm)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.call_as(&alice, "cards", &[]).await.body,
        serde_json::json!([])
    );
    let at_stripe = app
        .server
        .stripe
        .client
        .retrieve_payment_method(&pm)
        .await
        .unwrap();
    assert_eq!(at_stripe.customer_id(), None);
    let r = app
        .call_as(
            &alice,
            "pay",
            &[("order_id", &alices_order), ("payment_method", &pm)],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Removing it again is the same answer, nothing sent.
    let r = app
        .call_as(&alice, "remove_card", &[("payment_method", &pm)])
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

async fn one_customer_per_account_under_concurrency(app: &TestApp) {
    let me = email();
    sign_up(app, &browser(), &me).await;
    let row = account(app, &me).await;
    let service = cards(app);
    let attempts = (0..8).map(|_| {
        let (service, row) = (service.clone(), row.clone());
        tokio::spawn(async move { service.customer(&row).await })
    });
    let ids: Vec<String> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    assert_eq!(
        account(app, &me).await.stripe_customer_id.as_deref(),
        Some(ids[0].as_str())
    );
    let customer = app
        .server
        .stripe
        .client
        .retrieve_customer(&ids[0])
        .await
        .unwrap();
    assert_eq!(customer.email.as_deref(), Some(me.as_str()));
    assert_eq!(
        customer.metadata.get("account_id").map(String::as_str),
        Some(row.id.as_str())
    );
}

async fn the_same_card_saved_twice_keeps_one_entry(app: &TestApp) {
    let me = email();
    let shopper = browser();
    sign_up(app, &shopper, &me).await;
    let customer = cards(app).customer(&account(app, &me).await).await.unwrap();
    let first = save_card(app, &customer, "pm_card_visa").await;
    // The same number again: Stripe makes a second PaymentMethod with the same
    // fingerprint; the shop keeps the first and detaches the copy at Stripe.
    let second = app
        .server
        .stripe
        .client
        .attach_payment_method("pm_card_visa", &customer, &IdempotencyKey::random())
        .await
        .unwrap()
        .id;
    wait_for(
        app,
        &format!("SELECT id FROM saved_cards WHERE id = '{second}' AND status = 'detached'"),
    )
    .await;
    let listed = app.call_as(&shopper, "cards", &[]).await.body;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![first.as_str()]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let copy = app
            .server
            .stripe
            .client
            .retrieve_payment_method(&second)
            .await
            .unwrap();
        if copy.customer_id().is_none() {
            break; // the duplicate is detached at Stripe
        }
        assert!(
            Instant::now() < deadline,
            "the duplicate stays attached at Stripe"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Another card is another entry.
    let other = save_card(app, &customer, "pm_card_mastercard").await;
    assert_eq!(
        app.call_as(&shopper, "cards", &[])
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(card_status(app, &other).await.as_deref(), Some("attached"));

    // Copies created in the same second: the one recorded first stays, whatever the ids.
    let fact = |id: &str| CardFact {
        payment_method: id.into(),
        customer: customer.clone(),
        brand: "visa".into(),
        last4: "1881".into(),
        exp_month: 1,
        exp_year: 2035,
        fingerprint: Some("fp_same_second".into()),
        stripe_created: 1_000,
        fact_at: now(),
    };
    let store = &app.server.store;
    assert!(matches!(
        store.record_card(&fact("pm_zzz_first")).await.unwrap(),
        CardRecorded::Saved { .. }
    ));
    assert_eq!(
        store.record_card(&fact("pm_aaa_second")).await.unwrap(),
        CardRecorded::Duplicate {
            account: account(app, &me).await.id,
            keep: "pm_zzz_first".into()
        }
    );
    // The copy stays listed as attached until Stripe has detached it (then recorded).
    assert_eq!(
        store.newer_duplicates("pm_zzz_first").await.unwrap(),
        vec!["pm_aaa_second".to_owned()]
    );
    assert!(store.card_detached("pm_aaa_second", None).await.unwrap());
    assert!(store
        .newer_duplicates("pm_zzz_first")
        .await
        .unwrap()
        .is_empty());
}

async fn card_events_apply_once_and_in_any_order(app: &TestApp) {
    let me = email();
    sign_up(app, &browser(), &me).await;
    let customer = cards(app).customer(&account(app, &me).await).await.unwrap();
    let secret = app.server.stripe.webhook_secret.clone();
    let deliver = |body: String| {
        let secret = secret.clone();
        async move {
            let signature = stripe_client::webhook::sign(body.as_bytes(), &secret, now());
            app.client
                .post(app.url("/webhook"))
                .header("content-type", "application/json")
                .header("stripe-signature", signature)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let pm = |id: &str, customer: Option<&str>| {
        serde_json::json!({
            "id": id, "object": "payment_method", "type": "card", "created": now() - 100,
            "customer": customer, "livemode": false, "metadata": {},
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034,
                     "fingerprint": format!("fp_{id}")},
        })
    };
    let event = |id: &str,
                 kind: &str,
                 created: i64,
                 object: serde_json::Value,
                 previous: Option<serde_json::Value>| {
        let mut data = serde_json::json!({"object": object});
        if let Some(previous) = previous {
            data["previous_attributes"] = previous;
        }
        serde_json::json!({
            "id": id, "object": "event", "type": kind, "created": created,
            "api_version": stripe_types::API_VERSION, "livemode": false, "data": data,
            "request": {"id": null, "idempotency_key": null}
        })
        .to_string()
    };
    let t = now();
    // Attached twice (a redelivery): one saved card.
    let attached = event(
        "evt_att_1",
        "payment_method.attached",
        t,
        pm("pm_evt_a", Some(&customer)),
        None,
    );
    assert_eq!(deliver(attached.clone()).await, 200);
    assert_eq!(deliver(attached).await, 200);
    assert_eq!(app.count("saved_cards WHERE id = 'pm_evt_a'").await, 1);
    assert_eq!(
        card_status(app, "pm_evt_a").await.as_deref(),
        Some("attached")
    );

    // Detached arrives before its attach: the late attach never revives the card.
    let detached = event(
        "evt_det_b",
        "payment_method.detached",
        t + 10,
        pm("pm_evt_b", None),
        Some(serde_json::json!({"customer": customer})),
    );
    assert_eq!(deliver(detached).await, 200);
    assert_eq!(
        card_status(app, "pm_evt_b").await.as_deref(),
        Some("detached")
    );
    let late = event(
        "evt_att_b",
        "payment_method.attached",
        t,
        pm("pm_evt_b", Some(&customer)),
        None,
    );
    assert_eq!(deliver(late).await, 200);
    assert_eq!(
        card_status(app, "pm_evt_b").await.as_deref(),
        Some("detached")
    );

    // An update older than the last fact applied changes nothing; a newer one does.
    let mut older = pm("pm_evt_a", Some(&customer));
    older["card"]["exp_year"] = serde_json::json!(2030);
    assert_eq!(
        deliver(event(
            "evt_upd_old",
            "payment_method.updated",
            t - 50,
            older,
            None
        ))
        .await,
        200
    );
    let mut newer = pm("pm_evt_a", Some(&customer));
    newer["card"]["exp_year"] = serde_json::json!(2036);
    assert_eq!(
        deliver(event(
            "evt_upd_new",
            "payment_method.updated",
            t + 50,
            newer,
            None
        ))
        .await,
        200
    );
    let year: i64 = sqlx::query_scalar("SELECT exp_year FROM saved_cards WHERE id = 'pm_evt_a'")
        .fetch_one(app.server.store.pool())
        .await
        .unwrap();
    assert_eq!(year, 2036);

    // The default card follows customer.updated, newest first.
    let customer_object = |default: &str| {
        serde_json::json!({"id": customer, "object": "customer", "created": t - 1000,
            "livemode": false, "metadata": {},
            "invoice_settings": {"default_payment_method": default}})
    };
    assert_eq!(
        deliver(event(
            "evt_cus_new",
            "customer.updated",
            t + 60,
            customer_object("pm_evt_a"),
            None
        ))
        .await,
        200
    );
    assert_eq!(
        deliver(event(
            "evt_cus_old",
            "customer.updated",
            t + 30,
            customer_object("pm_evt_b"),
            None
        ))
        .await,
        200
    );
    let default: Option<String> = sqlx::query_scalar(
        "SELECT default_payment_method FROM accounts WHERE stripe_customer_id = $1",
    )
    .bind(&customer)
    .fetch_one(app.server.store.pool())
    .await
    .unwrap();
    assert_eq!(default.as_deref(), Some("pm_evt_a"));
    // Every event stored once and processed.
    assert_eq!(
        app.count("stripe_events WHERE id LIKE 'evt_%' AND processed_at IS NULL AND id IN ('evt_att_1','evt_det_b','evt_att_b','evt_upd_old','evt_upd_new','evt_cus_new','evt_cus_old')").await,
        0
    );
}

async fn buy_again_charges_once_off_session(app: &TestApp) {
    let shopper = browser();
    let me = email();
    sign_up(app, &shopper, &me).await;
    let customer = cards(app).customer(&account(app, &me).await).await.unwrap();
    let visa = save_card(app, &customer, "pm_card_visa").await;
    wait_for(
        app,
        &format!("SELECT id FROM accounts WHERE default_payment_method = '{visa}'"),
    )
    .await;
    let first = order_as(app, &shopper).await;
    let buy = |request: &'static str| {
        let (shopper, first) = (shopper.clone(), first.clone());
        async move {
            app.call_as(
                &shopper,
                "buy_again",
                &[("order_id", &first), ("request_id", request)],
            )
            .await
        }
    };
    // A double click: the same request twice at once is one order and one charge.
    let (a, b) = tokio::join!(buy("request-one-0000000001"), buy("request-one-0000000001"));
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    // Charged: the answer is the new order's page.
    let charged = a
        .body
        .as_str()
        .unwrap()
        .strip_prefix("/orders/")
        .expect("charged")
        .to_owned();
    assert_eq!(a.body, b.body);
    assert_eq!(app.count("orders").await, 2);
    let pi_id: String = sqlx::query_scalar("SELECT payment_intent_id FROM orders WHERE id = $1")
        .bind(&charged)
        .fetch_one(app.server.store.pool())
        .await
        .unwrap();
    let pi = app
        .server
        .stripe
        .client
        .retrieve_payment_intent(&pi_id, &[])
        .await
        .unwrap();
    assert_eq!(
        pi.status(),
        Some(stripe_types::PaymentIntentStatus::Succeeded)
    );
    assert_eq!(
        (pi.amount, pi.payment_method_id()),
        (1250, Some(visa.as_str()))
    );
    assert_eq!(pi.customer_id(), Some(customer.as_str()));
    wait_for(
        app,
        &format!("SELECT id FROM orders WHERE id = '{charged}' AND status = 'paid'"),
    )
    .await;

    // A card that always wants 3-D Secure: the shopper is brought back for it.
    let strict = save_card(app, &customer, "pm_card_authenticationRequired").await;
    let r = app
        .call_as(
            &shopper,
            "make_default_card",
            &[("payment_method", &strict)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = buy("request-two-0000000002").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Its checkout, with the same card selected.
    let (order, card) = r
        .body
        .as_str()
        .unwrap()
        .strip_prefix("/checkout/")
        .and_then(|rest| rest.split_once("?card="))
        .expect("the checkout with the card");
    assert_eq!(card, strict);
    // Its checkout hands out the same intent, for the same card, on-session.
    let pay = app
        .call_as(
            &shopper,
            "pay",
            &[("order_id", order), ("payment_method", &strict)],
        )
        .await;
    assert_eq!(pay.status, 200, "{}", pay.body);
    let pi = app
        .server
        .stripe
        .client
        .retrieve_payment_intent(pay.body["payment_intent_id"].as_str().unwrap(), &[])
        .await
        .unwrap();
    // The card is set on it; the browser confirms it on-session (3-D Secure).
    assert_eq!(
        (pi.status(), pi.payment_method_id()),
        (
            Some(stripe_types::PaymentIntentStatus::RequiresConfirmation),
            Some(strict.as_str())
        )
    );

    // A card that attaches but is always declined: another card is needed.
    let declined = save_card(app, &customer, "pm_card_chargeCustomerFail").await;
    app.call_as(
        &shopper,
        "make_default_card",
        &[("payment_method", &declined)],
    )
    .await;
    let r = buy("request-three-000000003").await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Its checkout, to choose another card; the order says why.
    let order = r
        .body
        .as_str()
        .unwrap()
        .strip_prefix("/checkout/")
        .expect("checkout");
    assert!(!order.contains('?'), "{}", r.body);
    let row = sqlx::query("SELECT status, failure_code FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(app.server.store.pool())
        .await
        .unwrap();
    let (status, code): (String, Option<String>) = (
        row.try_get("status").unwrap(),
        row.try_get("failure_code").unwrap(),
    );
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("failed", Some("generic_decline"))
    );
    assert_eq!(app.count("orders").await, 4);
}

async fn cross_site_posts_are_refused(app: &TestApp) {
    let me = email();
    sign_up(app, &browser(), &me).await;
    // Another site's form signing the visitor into the attacker's account: refused.
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let response = reqwest::Client::new()
            .post(app.url("/api/sign_in"))
            .header(name, value)
            .form(&[("email", me.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{name}: {value}");
        assert!(session_cookie(&response).is_none());
    }
    // The site's own pages (and non-browser clients) are served.
    let origin = app.server.base.clone();
    let response = reqwest::Client::new()
        .post(app.url("/api/sign_in"))
        .header("origin", origin)
        .header("sec-fetch-site", "same-origin")
        .form(&[("email", me.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Stripe's webhook is not a browser's request.
    let r = reqwest::Client::new()
        .post(app.url("/webhook"))
        .header("origin", "http://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "the webhook answers for itself (no signature)"
    );
}
