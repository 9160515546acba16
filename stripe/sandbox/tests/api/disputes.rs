//! Disputes: evidence, closing, outcomes, deadlines.

use serde_json::{json, Value};

use crate::common::*;

/// The dispute a payment with test card 0259 (`pm_card_createDispute`) opens.
async fn card_0259_dispute(sb: &TestSandbox) -> Value {
    let pi = sb
        .pay_20_usd("pm_card_createDispute", &[])
        .await
        .expect_ok();
    sb.dispute_of(&str_at(&pi, "id")).await
}

#[tokio::test]
async fn disputes_evidence_close_and_outcomes() {
    let sb = TestSandbox::start().await;
    let dp = card_0259_dispute(&sb).await;
    let id = str_at(&dp, "id");
    let up = sb
        .post(
            &format!("/v1/disputes/{id}"),
            &[
                ("evidence[customer_name]", "Jenny"),
                ("evidence[product_description]", "Shoes"),
                ("submit", "false"),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&up, "status"), "needs_response");
    assert_eq!(str_at(&up, "evidence.customer_name"), "Jenny");
    assert_eq!(value_at(&up, "evidence_details.has_evidence"), json!(true));
    let submitted = sb
        .post(&format!("/v1/disputes/{id}"), &[("metadata[case]", "1")])
        .await
        .expect_ok();
    assert_eq!(str_at(&submitted, "status"), "under_review");
    assert_eq!(
        value_at(&submitted, "evidence_details.submission_count"),
        json!(1)
    );
    let updates = sb.events_of_type("charge.dispute.updated").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(
        str_at(&updates[0], "data.previous_attributes.status"),
        "needs_response"
    );
    let r = sb
        .post(&format!("/v1/disputes/{id}"), &[("evidence[bogus]", "x")])
        .await;
    assert_eq!(r.status_and_error("param"), (400, "evidence[bogus]".into()));
    let won = sb
        .control_post(&format!("/disputes/{id}/win"), empty_object())
        .await
        .expect_ok();
    assert_eq!(str_at(&won, "status"), "won");
    assert_eq!(sb.events_of_type("charge.dispute.closed").await.len(), 1);
    assert_eq!(
        sb.events_of_type("charge.dispute.funds_reinstated")
            .await
            .len(),
        1
    );
    assert_eq!(
        sb.control_post(&format!("/disputes/{id}/lose"), empty_object())
            .await
            .status,
        400
    );

    // Closing (accepting) a dispute loses it.
    let pi2 = sb.pay_20_usd("pm_card_visa", &[]).await.expect_ok();
    let dp2 = sb
        .open_dispute(
            &str_at(&pi2, "latest_charge"),
            json!({"reason": "product_not_received"}),
        )
        .await;
    assert_eq!(
        (str_at(&dp2, "reason"), str_at(&dp2, "status")),
        ("product_not_received".into(), "needs_response".into())
    );
    let closed = sb
        .post(&format!("/v1/disputes/{}/close", str_at(&dp2, "id")), &[])
        .await
        .expect_ok();
    assert_eq!(str_at(&closed, "status"), "lost");
    // Triggered via a PaymentIntent id; lost through the control API.
    let pi3 = sb.pay_20_usd("pm_card_visa", &[]).await.expect_ok();
    let dp3 = sb.open_dispute(&str_at(&pi3, "id"), empty_object()).await;
    let lost = sb
        .control_post(
            &format!("/disputes/{}/lose", str_at(&dp3, "id")),
            empty_object(),
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&lost, "status"), "lost");
    assert_eq!(
        sb.events_of_type("charge.dispute.funds_reinstated")
            .await
            .len(),
        1
    );
    // Stripe's magic evidence decides the dispute shortly after submission.
    let pi4 = sb.pay_20_usd("pm_card_visa", &[]).await.expect_ok();
    let dp4 = sb.open_dispute(&str_at(&pi4, "id"), empty_object()).await;
    sb.post(
        &format!("/v1/disputes/{}", str_at(&dp4, "id")),
        &[("evidence[uncategorized_text]", "winning_evidence")],
    )
    .await
    .expect_ok();
    sb.advance_clock(120).await;
    assert_eq!(
        str_at(
            &sb.retrieve("disputes", &str_at(&dp4, "id")).await,
            "status"
        ),
        "won"
    );
}

#[tokio::test]
async fn an_unanswered_dispute_is_lost_when_its_deadline_passes() {
    let sb = TestSandbox::start().await;
    let dp = card_0259_dispute(&sb).await;
    let due = value_at(&dp, "evidence_details.due_by").as_i64().unwrap();
    let now = sb.control_get("/clock").await["now"].as_i64().unwrap();
    sb.advance_clock(due - now - 3600).await;
    assert_eq!(
        str_at(&sb.retrieve("disputes", &str_at(&dp, "id")).await, "status"),
        "needs_response"
    );
    let clock = sb.advance_clock(7200).await;
    assert!(clock["now"].as_i64().unwrap() > due);
    let after = sb.retrieve("disputes", &str_at(&dp, "id")).await;
    assert_eq!(str_at(&after, "status"), "lost");
    assert_eq!(value_at(&after, "evidence_details.past_due"), json!(true));
    let closed = sb.events_of_type("charge.dispute.closed").await;
    assert_eq!(closed.len(), 1);
    assert!(
        closed[0]["request"]["id"].is_null(),
        "not caused by an API request"
    );
}
