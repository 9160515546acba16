//! Reading back: events (snapshots, request context, filters), list pagination and `expand[]`.

use serde_json::{json, Value};

use crate::common::*;

#[tokio::test]
async fn events_carry_snapshots_and_request_context() {
    let sb = TestSandbox::start().await;
    let form = payment_form("pm_card_visa", &[]);
    let r = sb.post_idempotent("/v1/payment_intents", &form, "order-42-attempt-1");
    let r = r.await;
    let request_id = r.header("request-id").unwrap().to_owned();
    let pi = r.expect_ok();
    let all = sb.get_query_ok("/v1/events", &[("limit", "100")]).await;
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
    let key = str_at(created, "request.idempotency_key");
    assert_eq!(key, "order-42-attempt-1");
    // Snapshots: the object as it was at that moment.
    let status = str_at(created, "data.object.status");
    assert_eq!(status, "requires_confirmation");
    assert_eq!(str_at(&all["data"][0], "data.object.status"), "succeeded");
    assert_eq!(str_at(&all["data"][0], "data.object.id"), str_at(&pi, "id"));
    let one = sb.retrieve("events", &str_at(created, "id")).await;
    assert_eq!(one, *created);
    let filtered = sb.get_query_ok("/v1/events", &[("types[]", "charge.*")]);
    assert_eq!(list_data(&filtered.await).len(), 1);
    assert_eq!(sb.get("/v1/events/evt_nope").await.status, 404);
}

/// A page of two of `customer`'s PaymentIntents, from `cursor` (`starting_after` or
/// `ending_before`) when given.
async fn customer_page(sb: &TestSandbox, customer: &str, cursor: &[(&str, &str)]) -> Value {
    let mut query = vec![("customer", customer), ("limit", "2")];
    query.extend_from_slice(cursor);
    sb.get_query_ok("/v1/payment_intents", &query).await
}

#[tokio::test]
async fn lists_paginate_newest_first() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let amount = (1000 + i).to_string();
        let form = [
            ("amount", amount.as_str()),
            ("currency", "usd"),
            ("customer", &cus),
        ];
        let pi = sb.post_ok("/v1/payment_intents", &form).await;
        ids.push(str_at(&pi, "id"));
    }
    let other = [("amount", "999"), ("currency", "usd")];
    sb.post_ok("/v1/payment_intents", &other).await;
    let page = customer_page(&sb, &cus, &[]).await;
    let got = (str_at(&page, "object"), str_at(&page, "url"));
    assert_eq!(got, ("list".into(), "/v1/payment_intents".into()));
    assert_eq!(value_at(&page, "has_more"), json!(true));
    let got = list_ids(&page);
    assert_eq!(got, vec![ids[4].clone(), ids[3].clone()]);
    let page2 = customer_page(&sb, &cus, &[("starting_after", &ids[3])]).await;
    let got = list_ids(&page2);
    assert_eq!(got, vec![ids[2].clone(), ids[1].clone()]);
    let page3 = customer_page(&sb, &cus, &[("starting_after", &ids[1])]).await;
    let got = (list_data(&page3).len(), value_at(&page3, "has_more"));
    assert_eq!(got, (1, json!(false)));
    let before = customer_page(&sb, &cus, &[("ending_before", &ids[1])]).await;
    let got = list_ids(&before);
    assert_eq!(got, vec![ids[3].clone(), ids[2].clone()]);
    assert_eq!(sb.list_len("/v1/payment_intents").await, 6);
    let r = sb
        .get_query("/v1/payment_intents", &[("limit", "101")])
        .await;
    assert_eq!(r.status, 400);
    let unknown = [("starting_after", "pi_unknown")];
    let r = sb.get_query("/v1/payment_intents", &unknown).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn expand_inlines_related_objects() {
    let (sb, cus) = TestSandbox::with_customer().await;
    let expanded = [
        ("customer", cus.as_str()),
        ("expand[]", "latest_charge"),
        ("expand[]", "customer"),
        ("expand[]", "payment_method"),
    ];
    let pi = sb.pay_ok("pm_card_visa", &expanded).await;
    assert_eq!(str_at(&pi, "latest_charge.object"), "charge");
    assert_eq!(str_at(&pi, "customer.id"), cus);
    assert_eq!(str_at(&pi, "payment_method.object"), "payment_method");
    let id = str_at(&pi, "id");
    let ch = str_at(&pi, "latest_charge.id");
    let charge = format!("/v1/charges/{ch}");
    let c = sb
        .get_query_ok(&charge, &[("expand[]", "payment_intent")])
        .await;
    assert_eq!(str_at(&c, "payment_intent.id"), id);
    let nested = [("expand[]", "payment_intent.latest_charge")];
    let nested = sb.get_query_ok(&charge, &nested).await;
    assert_eq!(str_at(&nested, "payment_intent.latest_charge.id"), ch);
    let data = [("expand[]", "data.latest_charge")];
    let list = sb.get_query_ok("/v1/payment_intents", &data).await;
    assert_eq!(str_at(&list, "data.0.latest_charge.object"), "charge");
    let not_data = [("expand[]", "latest_charge")];
    let r = sb.get_query("/v1/payment_intents", &not_data).await;
    assert_eq!(r.status, 400);
    let refund = [
        ("payment_intent", id.as_str()),
        ("amount", "100"),
        ("expand[]", "charge"),
    ];
    let re = sb.post_ok("/v1/refunds", &refund).await;
    assert_eq!(str_at(&re, "charge.id"), ch);
}

#[tokio::test]
async fn lists_filter_on_created() {
    let sb = TestSandbox::start().await;
    let old = sb.pay_ok("pm_card_visa", &[]).await;
    let clock = sb.advance_clock(1000).await;
    let t = clock["now"].as_i64().unwrap().to_string();
    let new = sb.pay_ok("pm_card_visa", &[]).await;
    let events_where = |filter: Vec<(&'static str, String)>| {
        let sb = &sb;
        async move {
            let mut query: Vec<(&str, &str)> = vec![("limit", "100")];
            query.extend(filter.iter().map(|(k, v)| (*k, v.as_str())));
            let list = sb.get_query_ok("/v1/events", &query).await;
            list_data(&list)
                .iter()
                .map(|e| str_at(e, "data.object.id"))
                .collect::<Vec<_>>()
        }
    };
    let (old_id, new_id) = (str_at(&old, "id"), str_at(&new, "id"));
    let payment_intents = |ids: Vec<String>| -> Vec<String> {
        ids.into_iter().filter(|id| id.starts_with("pi_")).collect()
    };
    let before = t.parse::<i64>().unwrap() - 1;
    // The second the new payment's events were created in (`t` or just after).
    let at = value_at(&new, "created").to_string();
    for (filter, expected) in [
        (vec![("created[gte]", t.clone())], vec![&new_id]),
        (vec![("created[gt]", before.to_string())], vec![&new_id]),
        (vec![("created[lt]", t.clone())], vec![&old_id]),
        (vec![("created[lte]", before.to_string())], vec![&old_id]),
        (vec![("created", at.clone())], vec![&new_id]),
        (
            vec![("created[gte]", "0".into()), ("created[lte]", at.clone())],
            vec![&new_id, &old_id],
        ),
    ] {
        let what = format!("{filter:?}");
        let got = payment_intents(events_where(filter).await);
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        // Two events per payment (created, succeeded) name the PaymentIntent.
        let mut deduped = got.clone();
        deduped.dedup();
        assert_eq!(deduped, expected, "{what}");
        assert_eq!(got.len(), 2 * expected.len(), "{what}");
    }
    // Other lists take the same filter.
    let query = [("created[gte]", t.as_str())];
    let pis = sb.get_query_ok("/v1/payment_intents", &query).await;
    assert_eq!(list_ids(&pis), vec![new_id.clone()]);
    let query = [("created[lt]", t.as_str())];
    let charges = sb.get_query_ok("/v1/charges", &query).await;
    assert_eq!(list_ids(&charges), vec![str_at(&old, "latest_charge")]);
    // Bad values.
    let r = sb
        .get_query("/v1/events", &[("created[gte]", "soon")])
        .await;
    assert_eq!(r.status_and_error("param"), (400, "created[gte]".into()));
    let r = sb.get_query("/v1/events", &[("created[after]", "1")]).await;
    let got = (r.status_and_error("code"), str_at(r.error(), "param"));
    assert_eq!(
        got,
        ((400, "parameter_unknown".into()), "created[after]".into())
    );
}
