//! After a payment: refunds, disputes (evidence, outcomes, deadlines) and payouts.

use serde_json::{json, Value};

use crate::common::*;

/// The dispute a payment with test card 0259 (`pm_card_createDispute`) opens.
async fn card_0259_dispute(sb: &TestSandbox) -> Value {
    let pi = sb.pay_ok("pm_card_createDispute", &[]).await;
    sb.dispute_of(&str_at(&pi, "id")).await
}

/// The charge's `amount_refunded` and `refunded`.
fn refund_state(charge: &Value) -> (Value, Value) {
    (
        value_at(charge, "amount_refunded"),
        value_at(charge, "refunded"),
    )
}

#[tokio::test]
async fn refunds_partial_several_and_never_more_than_the_charge() {
    let sb = TestSandbox::start().await;
    let confirmed = [("payment_method", "pm_card_visa"), ("confirm", "true")];
    let pi = sb.intent_ok("5000", &confirmed).await;
    let pi_id = str_at(&pi, "id");
    let ch = str_at(&pi, "latest_charge");
    let first = [
        ("payment_intent", pi_id.as_str()),
        ("amount", "1000"),
        ("reason", "requested_by_customer"),
        ("metadata[ticket]", "T-1"),
    ];
    let r1 = sb.post_ok("/v1/refunds", &first).await;
    let ticket = str_at(&r1, "metadata.ticket");
    let got = (str_at(&r1, "status"), str_at(&r1, "charge"), ticket);
    assert_eq!(got, ("succeeded".into(), ch.clone(), "T-1".into()));
    assert_eq!(str_at(&r1, "reason"), "requested_by_customer");
    sb.post_ok("/v1/refunds", &[("charge", &ch), ("amount", "1500")])
        .await;
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(refund_state(&charge), (json!(2500), json!(false)));
    // Over-refund: 400 invalid_request_error on `amount`, nothing changes.
    let over = [("payment_intent", pi_id.as_str()), ("amount", "2501")];
    let r = sb.post("/v1/refunds", &over).await;
    assert_eq!(r.status, 400);
    assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
    assert_eq!(str_at(r.error(), "param"), "amount");
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(value_at(&charge, "amount_refunded"), json!(2500));
    // The rest, without an amount.
    let last = sb
        .post_ok("/v1/refunds", &[("payment_intent", &pi_id)])
        .await;
    assert_eq!(value_at(&last, "amount"), json!(2500));
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(refund_state(&charge), (json!(5000), json!(true)));
    let r = sb
        .post("/v1/refunds", &[("charge", &ch), ("amount", "1")])
        .await;
    let code = r.status_and_error("code");
    assert_eq!(code, (400, "charge_already_refunded".into()));
    let query = [("payment_intent", pi_id.as_str())];
    let listed = sb.get_query_ok("/v1/refunds", &query).await;
    assert_eq!(list_data(&listed).len(), 3);
    let r1_id = str_at(&r1, "id");
    assert_eq!(str_at(&sb.retrieve("refunds", &r1_id).await, "id"), r1_id);
    assert_eq!(sb.event_count("refund.created").await, 3);
    let refunded = sb.events_of_type("charge.refunded").await;
    assert_eq!(refunded.len(), 3);
    let before = value_at(&refunded[0], "data.previous_attributes.amount_refunded");
    assert_eq!(before, json!(2500));
    // Validation.
    let pi_ref = pi_id.as_str();
    for (form, param) in [
        (
            vec![("payment_intent", pi_ref), ("reason", "because")],
            "reason",
        ),
        (vec![("payment_intent", pi_ref), ("amount", "0")], "amount"),
    ] {
        let r = sb.post("/v1/refunds", &form).await;
        assert_eq!(r.status_and_error("param"), (400, param.to_owned()));
    }
    let declined = sb.pay_20_usd("pm_card_chargeDeclined", &[]).await;
    let declined_pi = str_at(declined.error(), "payment_intent.id");
    let r = sb
        .post("/v1/refunds", &[("payment_intent", &declined_pi)])
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn refund_failure_can_be_triggered() {
    let sb = TestSandbox::start().await;
    let pi = sb.pay_ok("pm_card_visa", &[]).await;
    let pi_id = str_at(&pi, "id");
    let partial = [("payment_intent", pi_id.as_str()), ("amount", "500")];
    let re = sb.post_ok("/v1/refunds", &partial).await;
    let fail = format!("/refunds/{}/fail", str_at(&re, "id"));
    let failed = sb.control_ok(&fail).await;
    assert_eq!(str_at(&failed, "status"), "failed");
    let reason = str_at(&failed, "failure_reason");
    assert_eq!(reason, "expired_or_canceled_card");
    let ch = sb.retrieve("charges", &str_at(&pi, "latest_charge")).await;
    assert_eq!(value_at(&ch, "amount_refunded"), json!(0));
    assert_eq!(sb.event_count("refund.failed").await, 1);
    let updated = sb.events_of_type("refund.updated").await;
    let before = str_at(&updated[0], "data.previous_attributes.status");
    assert_eq!(before, "succeeded");
    // The money is refundable again.
    sb.post_ok("/v1/refunds", &[("payment_intent", &pi_id)])
        .await;
}

#[tokio::test]
async fn disputes_evidence_close_and_outcomes() {
    let sb = TestSandbox::start().await;
    let dp = card_0259_dispute(&sb).await;
    let id = str_at(&dp, "id");
    let path = format!("/v1/disputes/{id}");
    let evidence = [
        ("evidence[customer_name]", "Jenny"),
        ("evidence[product_description]", "Shoes"),
        ("submit", "false"),
    ];
    let up = sb.post_ok(&path, &evidence).await;
    assert_eq!(str_at(&up, "status"), "needs_response");
    assert_eq!(str_at(&up, "evidence.customer_name"), "Jenny");
    assert_eq!(value_at(&up, "evidence_details.has_evidence"), json!(true));
    let submitted = sb.post_ok(&path, &[("metadata[case]", "1")]).await;
    assert_eq!(str_at(&submitted, "status"), "under_review");
    let count = value_at(&submitted, "evidence_details.submission_count");
    assert_eq!(count, json!(1));
    let updates = sb.events_of_type("charge.dispute.updated").await;
    assert_eq!(updates.len(), 2);
    let before = str_at(&updates[0], "data.previous_attributes.status");
    assert_eq!(before, "needs_response");
    let r = sb.post(&path, &[("evidence[bogus]", "x")]).await;
    assert_eq!(r.status_and_error("param"), (400, "evidence[bogus]".into()));
    let won = sb.control_ok(&format!("/disputes/{id}/win")).await;
    assert_eq!(str_at(&won, "status"), "won");
    assert_eq!(sb.event_count("charge.dispute.closed").await, 1);
    assert_eq!(sb.event_count("charge.dispute.funds_reinstated").await, 1);
    let lose = sb.control_status(&format!("/disputes/{id}/lose")).await;
    assert_eq!(lose, 400);

    // Closing (accepting) a dispute loses it.
    let pi2 = sb.pay_ok("pm_card_visa", &[]).await;
    let reason = json!({"reason": "product_not_received"});
    let dp2 = sb
        .open_dispute(&str_at(&pi2, "latest_charge"), reason)
        .await;
    let got = (str_at(&dp2, "reason"), str_at(&dp2, "status"));
    assert_eq!(
        got,
        ("product_not_received".into(), "needs_response".into())
    );
    let close = format!("/v1/disputes/{}/close", str_at(&dp2, "id"));
    let closed = sb.post_ok(&close, &[]).await;
    assert_eq!(str_at(&closed, "status"), "lost");
    // Triggered via a PaymentIntent id; lost through the control API.
    let pi3 = sb.pay_ok("pm_card_visa", &[]).await;
    let dp3 = sb.open_dispute(&str_at(&pi3, "id"), empty_object()).await;
    let lose = format!("/disputes/{}/lose", str_at(&dp3, "id"));
    assert_eq!(str_at(&sb.control_ok(&lose).await, "status"), "lost");
    assert_eq!(sb.event_count("charge.dispute.funds_reinstated").await, 1);
    // Stripe's magic evidence decides the dispute shortly after submission.
    let pi4 = sb.pay_ok("pm_card_visa", &[]).await;
    let dp4 = sb.open_dispute(&str_at(&pi4, "id"), empty_object()).await;
    let dp4_id = str_at(&dp4, "id");
    let magic = [("evidence[uncategorized_text]", "winning_evidence")];
    sb.post_ok(&format!("/v1/disputes/{dp4_id}"), &magic).await;
    sb.advance_clock(120).await;
    let decided = sb.retrieve("disputes", &dp4_id).await;
    assert_eq!(str_at(&decided, "status"), "won");
}

#[tokio::test]
async fn an_unanswered_dispute_is_lost_when_its_deadline_passes() {
    let sb = TestSandbox::start().await;
    let dp = card_0259_dispute(&sb).await;
    let due = value_at(&dp, "evidence_details.due_by").as_i64().unwrap();
    let now = sb.control_get("/clock").await["now"].as_i64().unwrap();
    sb.advance_clock(due - now - 3600).await;
    let before = sb.retrieve("disputes", &str_at(&dp, "id")).await;
    assert_eq!(str_at(&before, "status"), "needs_response");
    let clock = sb.advance_clock(7200).await;
    assert!(clock["now"].as_i64().unwrap() > due);
    let after = sb.retrieve("disputes", &str_at(&dp, "id")).await;
    assert_eq!(str_at(&after, "status"), "lost");
    assert_eq!(value_at(&after, "evidence_details.past_due"), json!(true));
    let closed = sb.events_of_type("charge.dispute.closed").await;
    assert_eq!(closed.len(), 1);
    let by_request = &closed[0]["request"]["id"];
    assert!(by_request.is_null(), "not caused by an API request");
}

#[tokio::test]
async fn payouts_are_created_and_settled_through_the_control_api() {
    let sb = TestSandbox::start().await;
    sb.pay_ok("pm_card_visa", &[]).await;
    let po = sb.control_ok("/payouts").await;
    let amount = value_at(&po, "amount");
    let got = (str_at(&po, "object"), str_at(&po, "status"), amount);
    assert_eq!(got, ("payout".into(), "pending".into(), json!(2000)));
    let po_id = str_at(&po, "id");
    let paid = sb.control_ok(&format!("/payouts/{po_id}/paid")).await;
    assert_eq!(str_at(&paid, "status"), "paid");
    let body = json!({"amount": 700, "currency": "usd"});
    let po2 = sb.control_ok_with("/payouts", body).await;
    let po2_id = str_at(&po2, "id");
    let failure = json!({"failure_code": "no_account"});
    let fail = format!("/payouts/{po2_id}/failed");
    let failed = sb.control_ok_with(&fail, failure).await;
    let code = str_at(&failed, "failure_code");
    assert_eq!(
        (str_at(&failed, "status"), code),
        ("failed".into(), "no_account".into())
    );
    let again = sb.control_status(&format!("/payouts/{po2_id}/paid")).await;
    assert_eq!(again, 400);
    let listed = sb.get_ok("/v1/payouts").await;
    assert_eq!(list_data(&listed).len(), 2);
    let po = sb.retrieve("payouts", &po_id).await;
    assert_eq!(str_at(&po, "status"), "paid");
    for t in [
        "payout.created",
        "payout.paid",
        "payout.failed",
        "payout.updated",
    ] {
        assert!(!sb.events_of_type(t).await.is_empty(), "{t}");
    }
    let pi = sb.pay_ok("pm_card_visa", &[]).await;
    let warn = format!(
        "/charges/{}/early_fraud_warning",
        str_at(&pi, "latest_charge")
    );
    let efw = sb.control_ok(&warn).await;
    assert_eq!(str_at(&efw, "object"), "radar.early_fraud_warning");
}
