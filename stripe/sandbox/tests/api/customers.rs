//! Customers and PaymentMethods: saved cards, card checks at creation, raw numbers vs test tokens.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn customers_and_saved_payment_methods() {
    let sb = TestSandbox::start().await;
    let form = [
        ("email", "a@example.com"),
        ("name", "Ada"),
        ("metadata[user_id]", "7"),
        ("payment_method", "pm_card_visa"),
    ];
    let c = sb.post_ok("/v1/customers", &form).await;
    let id = str_at(&c, "id");
    assert!(id.starts_with("cus_"));
    let got = (str_at(&c, "object"), str_at(&c, "metadata.user_id"));
    assert_eq!(got, ("customer".into(), "7".into()));
    let pms = sb.customer_cards(&id).await.expect_ok();
    assert_eq!(list_data(&pms).len(), 1);
    let url = format!("/v1/customers/{id}/payment_methods");
    assert_eq!(str_at(&pms, "url"), url);
    let pm = str_at(&pms, "data.0.id");
    let path = format!("/v1/customers/{id}");
    let update = [
        ("name", "Ada L."),
        ("invoice_settings[default_payment_method]", pm.as_str()),
    ];
    let up = sb.post_ok(&path, &update).await;
    assert_eq!(str_at(&up, "name"), "Ada L.");
    assert_eq!(str_at(&up, "invoice_settings.default_payment_method"), pm);
    let updated = sb.events_of_type("customer.updated").await;
    assert_eq!(str_at(&updated[0], "data.previous_attributes.name"), "Ada");
    assert_eq!(sb.event_count("customer.created").await, 1);
    // Second card, list both ways, detach one.
    let pm2 = sb.attach("pm_card_mastercard", &id).await.expect_ok();
    let query = [("customer", id.as_str()), ("type", "card")];
    let listed = sb.get_query_ok("/v1/payment_methods", &query).await;
    assert_eq!(list_data(&listed).len(), 2);
    let newest = str_at(&listed, "data.0.id");
    assert_eq!(newest, str_at(&pm2, "id"), "newest first");
    let detach = format!("/v1/payment_methods/{pm}/detach");
    let detached = sb.post_ok(&detach, &[]).await;
    assert!(detached["customer"].is_null());
    assert_eq!(sb.event_count("payment_method.detached").await, 1);
    let r = sb.post(&detach, &[]).await;
    assert_eq!(r.status, 400);
    let c = sb.retrieve("customers", &id).await;
    assert!(c["invoice_settings"]["default_payment_method"].is_null());
    // Another customer cannot take an attached card.
    let other = sb.create_customer().await;
    let r = sb.attach(&str_at(&pm2, "id"), &other).await;
    assert_eq!(r.status, 400);
    // Delete.
    let d = sb.delete(&path).await.expect_ok();
    assert_eq!(d, json!({"id": id, "object": "customer", "deleted": true}));
    assert_eq!(sb.retrieve("customers", &id).await["deleted"], json!(true));
    assert_eq!(sb.event_count("customer.deleted").await, 1);
    let r = sb.post(&path, &[("name", "x")]).await;
    assert_eq!(r.status, 404);
    let r = sb.customer_cards(&id).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn card_details_are_checked_when_the_payment_method_is_created() {
    let sb = TestSandbox::start().await;
    let r = sb.create_card("4242424242424241", "123").await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "type"), "card_error");
    assert_eq!(str_at(r.error(), "code"), "incorrect_number");
    assert_eq!(str_at(r.error(), "param"), "card[number]");

    let (year, month) = stripe_sandbox::util::year_month(stripe_sandbox::util::real_now());
    let create = |m: String, y: String, cvc: &'static str, number: &'static str| {
        let sb = &sb;
        async move {
            let form = [
                ("type", "card"),
                ("card[number]", number),
                ("card[exp_month]", &m),
                ("card[exp_year]", &y),
                ("card[cvc]", cvc),
            ];
            sb.post_publishable("/v1/payment_methods", &form).await
        }
    };
    let visa = "4242424242424242";
    let amex = "378282246310005";
    let r = create("12".into(), (year - 1).to_string(), "123", visa).await;
    let code = r.status_and_error("code");
    assert_eq!(code, (402, "invalid_expiry_year".into()));
    assert_eq!(str_at(r.error(), "param"), "card[exp_year]");
    let r = create("13".into(), "2040".into(), "123", visa).await;
    assert_eq!(str_at(r.error(), "code"), "invalid_expiry_month");
    if month > 1 {
        let r = create((month - 1).to_string(), year.to_string(), "123", visa).await;
        assert_eq!(str_at(r.error(), "code"), "invalid_expiry_month");
    }
    // This month is still valid; two-digit years are accepted.
    let r = create(month.to_string(), year.to_string(), "123", visa).await;
    r.expect_ok();
    let pm = create("12".into(), "40".into(), "123", visa)
        .await
        .expect_ok();
    assert_eq!(value_at(&pm, "card.exp_year"), json!(2040));
    // CVC length per brand.
    let r = create("12".into(), "2040".into(), "123", amex).await;
    let got = (str_at(r.error(), "code"), str_at(r.error(), "param"));
    assert_eq!(got, ("invalid_cvc".into(), "card[cvc]".into()));
    let r = create("12".into(), "2040".into(), "1234", visa).await;
    assert_eq!(str_at(r.error(), "code"), "invalid_cvc");
    create("12".into(), "2040".into(), "1234", amex)
        .await
        .expect_ok();
    // Missing fields are parameter errors (400).
    let form = [("type", "card"), ("card[number]", visa)];
    let r = sb.post_publishable("/v1/payment_methods", &form).await;
    assert_eq!(r.status, 400);
    assert_eq!(str_at(r.error(), "code"), "parameter_missing");
    assert_eq!(str_at(r.error(), "param"), "card[exp_month]");
}

#[tokio::test]
async fn raw_card_numbers_are_refused_on_secret_key_requests() {
    let sb = TestSandbox::start().await;
    let raw = [
        ("type", "card"),
        ("card[number]", "4242424242424242"),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2040"),
    ];
    let r = sb.post("/v1/payment_methods", &raw).await;
    assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
    let message = str_at(r.error(), "message");
    assert!(message.contains("test tokens"), "{}", r.json);
    let raw_data = [
        ("amount", "1000"),
        ("currency", "usd"),
        ("payment_method_data[type]", "card"),
        ("payment_method_data[card][number]", "4242424242424242"),
        ("payment_method_data[card][exp_month]", "12"),
        ("payment_method_data[card][exp_year]", "2040"),
    ];
    let r = sb.post("/v1/payment_intents", &raw_data).await;
    assert!(str_at(r.error(), "message").contains("unsafe"));
    assert_eq!(sb.list_len("/v1/payment_intents").await, 0);
    // Test tokens are fine server-side.
    let token = [("type", "card"), ("card[token]", "tok_mastercard")];
    let pm = sb.post_ok("/v1/payment_methods", &token).await;
    assert_eq!(str_at(&pm, "card.brand"), "mastercard");
    let token_data = [
        ("confirm", "true"),
        ("payment_method_data[type]", "card"),
        ("payment_method_data[card][token]", "tok_visa"),
    ];
    let pi = sb.intent_ok("1000", &token_data).await;
    assert_eq!(str_at(&pi, "status"), "succeeded");
}

#[tokio::test]
async fn a_payment_method_used_without_a_customer_cannot_be_reused() {
    let sb = TestSandbox::start().await;
    let pm = sb.card_payment_method("4242424242424242").await;
    sb.pay_ok(&pm, &[]).await;
    let r = sb.pay_20_usd(&pm, &[]).await;
    assert_eq!(r.status_and_error("param"), (400, "payment_method".into()));
    assert!(str_at(r.error(), "message").contains("may not be used again"));
    // Attached to a customer it can be used again and again, but only with that customer.
    let cus = sb.create_customer().await;
    let saved = sb.card_payment_method("4242424242424242").await;
    sb.attach(&saved, &cus).await.expect_ok();
    sb.pay_ok(&saved, &[("customer", &cus)]).await;
    sb.pay_ok(&saved, &[("customer", &cus)]).await;
    let r = sb.pay_20_usd(&saved, &[]).await;
    assert_eq!(r.status_and_error("param"), (400, "payment_method".into()));
}
