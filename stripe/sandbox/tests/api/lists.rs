//! List pagination: newest first, `limit`, `starting_after`, `ending_before`.

use serde_json::{json, Value};

use crate::common::*;

/// A page of two of `customer`'s PaymentIntents, from `cursor` (`starting_after` or
/// `ending_before`) when given.
async fn customer_page(sb: &TestSandbox, customer: &str, cursor: &[(&str, &str)]) -> Value {
    let mut query = vec![("customer", customer), ("limit", "2")];
    query.extend_from_slice(cursor);
    sb.get_query("/v1/payment_intents", &query)
        .await
        .expect_ok()
}

#[tokio::test]
async fn lists_paginate_newest_first() {
    let sb = TestSandbox::start().await;
    let cus = sb.create_customer().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let amount = (1000 + i).to_string();
        let pi = sb
            .post(
                "/v1/payment_intents",
                &[("amount", &amount), ("currency", "usd"), ("customer", &cus)],
            )
            .await
            .expect_ok();
        ids.push(str_at(&pi, "id"));
    }
    sb.post(
        "/v1/payment_intents",
        &[("amount", "999"), ("currency", "usd")],
    )
    .await
    .expect_ok();
    let page = customer_page(&sb, &cus, &[]).await;
    assert_eq!(
        (str_at(&page, "object"), str_at(&page, "url")),
        ("list".into(), "/v1/payment_intents".into())
    );
    assert_eq!(value_at(&page, "has_more"), json!(true));
    let got = list_ids(&page);
    assert_eq!(got, vec![ids[4].clone(), ids[3].clone()]);
    let page2 = customer_page(&sb, &cus, &[("starting_after", &ids[3])]).await;
    let got = list_ids(&page2);
    assert_eq!(got, vec![ids[2].clone(), ids[1].clone()]);
    let page3 = customer_page(&sb, &cus, &[("starting_after", &ids[1])]).await;
    assert_eq!(
        (list_data(&page3).len(), value_at(&page3, "has_more")),
        (1, json!(false))
    );
    let before = customer_page(&sb, &cus, &[("ending_before", &ids[1])]).await;
    let got = list_ids(&before);
    assert_eq!(got, vec![ids[3].clone(), ids[2].clone()]);
    assert_eq!(sb.list_len("/v1/payment_intents").await, 6);
    let r = sb
        .get_query("/v1/payment_intents", &[("limit", "101")])
        .await;
    assert_eq!(r.status, 400);
    let r = sb
        .get_query("/v1/payment_intents", &[("starting_after", "pi_unknown")])
        .await;
    assert_eq!(r.status, 400);
}
