//! Events: snapshots, request context, filters.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn events_carry_snapshots_and_request_context() {
    let sb = TestSandbox::start().await;
    let r = sb
        .post_idempotent(
            "/v1/payment_intents",
            &payment_form("pm_card_visa", &[]),
            "order-42-attempt-1",
        )
        .await;
    let request_id = r.header("request-id").unwrap().to_owned();
    let pi = r.expect_ok();
    let all = sb
        .get_query("/v1/events", &[("limit", "100")])
        .await
        .expect_ok();
    let types: Vec<String> = list_data(&all).iter().map(|e| str_at(e, "type")).collect();
    assert_eq!(
        types,
        vec![
            "payment_intent.succeeded",
            "charge.succeeded",
            "payment_intent.created"
        ]
    );
    let created = &all["data"][2];
    assert_eq!(str_at(created, "object"), "event");
    assert_eq!(str_at(created, "api_version"), "2024-06-20");
    assert_eq!(value_at(created, "livemode"), json!(false));
    assert_eq!(str_at(created, "request.id"), request_id);
    assert_eq!(
        str_at(created, "request.idempotency_key"),
        "order-42-attempt-1"
    );
    // Snapshots: the object as it was at that moment.
    assert_eq!(
        str_at(created, "data.object.status"),
        "requires_confirmation"
    );
    assert_eq!(str_at(&all["data"][0], "data.object.status"), "succeeded");
    assert_eq!(str_at(&all["data"][0], "data.object.id"), str_at(&pi, "id"));
    let one = sb.retrieve("events", &str_at(created, "id")).await;
    assert_eq!(one, *created);
    let filtered = sb
        .get_query("/v1/events", &[("types[]", "charge.*")])
        .await
        .expect_ok();
    assert_eq!(list_data(&filtered).len(), 1);
    assert_eq!(sb.get("/v1/events/evt_nope").await.status, 404);
}
