//! Customers and their saved PaymentMethods.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn customers_and_saved_payment_methods() {
    let sb = TestSandbox::start().await;
    let c = sb
        .post(
            "/v1/customers",
            &[
                ("email", "a@example.com"),
                ("name", "Ada"),
                ("metadata[user_id]", "7"),
                ("payment_method", "pm_card_visa"),
            ],
        )
        .await
        .expect_ok();
    let id = str_at(&c, "id");
    assert!(id.starts_with("cus_"));
    assert_eq!(
        (str_at(&c, "object"), str_at(&c, "metadata.user_id")),
        ("customer".into(), "7".into())
    );
    let pms = sb.customer_cards(&id).await.expect_ok();
    assert_eq!(list_data(&pms).len(), 1);
    assert_eq!(
        str_at(&pms, "url"),
        format!("/v1/customers/{id}/payment_methods")
    );
    let pm = str_at(&pms, "data.0.id");
    let up = sb
        .post(
            &format!("/v1/customers/{id}"),
            &[
                ("name", "Ada L."),
                ("invoice_settings[default_payment_method]", &pm),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&up, "name"), "Ada L.");
    assert_eq!(str_at(&up, "invoice_settings.default_payment_method"), pm);
    let updated = sb.events_of_type("customer.updated").await;
    assert_eq!(str_at(&updated[0], "data.previous_attributes.name"), "Ada");
    assert_eq!(sb.events_of_type("customer.created").await.len(), 1);
    // Second card, list both ways, detach one.
    let pm2 = sb.attach("pm_card_mastercard", &id).await.expect_ok();
    let listed = sb
        .get_query(
            "/v1/payment_methods",
            &[("customer", &id), ("type", "card")],
        )
        .await
        .expect_ok();
    assert_eq!(list_data(&listed).len(), 2);
    assert_eq!(
        str_at(&listed, "data.0.id"),
        str_at(&pm2, "id"),
        "newest first"
    );
    let detached = sb
        .post(&format!("/v1/payment_methods/{pm}/detach"), &[])
        .await
        .expect_ok();
    assert!(detached["customer"].is_null());
    assert_eq!(sb.events_of_type("payment_method.detached").await.len(), 1);
    let r = sb
        .post(&format!("/v1/payment_methods/{pm}/detach"), &[])
        .await;
    assert_eq!(r.status, 400);
    let c = sb.retrieve("customers", &id).await;
    assert!(c["invoice_settings"]["default_payment_method"].is_null());
    // Another customer cannot take an attached card.
    let other = sb.create_customer().await;
    let r = sb.attach(&str_at(&pm2, "id"), &other).await;
    assert_eq!(r.status, 400);
    // Delete.
    let d = sb.delete(&format!("/v1/customers/{id}")).await.expect_ok();
    assert_eq!(d, json!({"id": id, "object": "customer", "deleted": true}));
    assert_eq!(sb.retrieve("customers", &id).await["deleted"], json!(true));
    assert_eq!(sb.events_of_type("customer.deleted").await.len(), 1);
    let r = sb
        .post(&format!("/v1/customers/{id}"), &[("name", "x")])
        .await;
    assert_eq!(r.status, 404);
    let r = sb.customer_cards(&id).await;
    assert_eq!(r.status, 404);
}
