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

#[tokio::test]
async fn card_5126_refunds_start_pending_then_fail_a_minute_later() {
    let sb = TestSandbox::start().await;
    let pi = sb.pay_ok("pm_card_refundFail", &[]).await;
    assert_eq!(str_at(&pi, "status"), "succeeded");
    let (pi_id, ch) = (str_at(&pi, "id"), str_at(&pi, "latest_charge"));
    let partial = [("payment_intent", pi_id.as_str()), ("amount", "500")];
    let re = sb.post_ok("/v1/refunds", &partial).await;
    assert_eq!(str_at(&re, "status"), "pending");
    assert!(re["failure_reason"].is_null());
    // A pending refund counts as refunded on the charge, and charge.refunded says so.
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(refund_state(&charge), (json!(500), json!(false)));
    assert_eq!(sb.event_count("charge.refunded").await, 1);
    assert_eq!(sb.event_count("refund.created").await, 1);
    let re_id = str_at(&re, "id");
    // It fails 60 s (sandbox time) after its creation.
    let created = value_at(&re, "created").as_i64().unwrap();
    let now = sb.control_get("/clock").await["now"].as_i64().unwrap();
    sb.advance_clock(created + 50 - now).await;
    let still = sb.retrieve("refunds", &re_id).await;
    assert_eq!(str_at(&still, "status"), "pending");
    assert_eq!(sb.event_count("refund.failed").await, 0);
    sb.advance_clock(11).await;
    let failed = sb.retrieve("refunds", &re_id).await;
    let reason = str_at(&failed, "failure_reason");
    let got = (str_at(&failed, "status"), reason);
    assert_eq!(got, ("failed".into(), "expired_or_canceled_card".into()));
    assert!(failed["failure_balance_transaction"].is_string());
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(refund_state(&charge), (json!(0), json!(false)));
    // The same events as the control call, raised by the sandbox itself.
    let refund_failed = sb.events_of_type("refund.failed").await;
    assert_eq!(refund_failed.len(), 1);
    assert!(refund_failed[0]["request"]["id"].is_null());
    let updated = sb.events_of_type("refund.updated").await;
    let before = str_at(&updated[0], "data.previous_attributes.status");
    assert_eq!(before, "pending");
    let charge_updated = sb.events_of_type("charge.updated").await;
    let before = value_at(
        &charge_updated[0],
        "data.previous_attributes.amount_refunded",
    );
    assert_eq!(before, json!(500));
    let fail = format!("/refunds/{re_id}/fail");
    assert_eq!(sb.control_status(&fail).await, 400);

    // Failed first through the control API: the timer does not fail it again.
    let full = sb
        .post_ok("/v1/refunds", &[("payment_intent", &pi_id)])
        .await;
    assert_eq!(value_at(&full, "amount"), json!(2000));
    let full_id = str_at(&full, "id");
    let fail = format!("/refunds/{full_id}/fail");
    let bad = sb
        .control_post(&fail, json!({"failure_reason": "bank_closed"}))
        .await;
    assert_eq!(
        bad.status_and_error("param"),
        (400, "failure_reason".into())
    );
    let lost = json!({"failure_reason": "lost_or_stolen_card"});
    let failed = sb.control_ok_with(&fail, lost).await;
    assert_eq!(str_at(&failed, "failure_reason"), "lost_or_stolen_card");
    sb.advance_clock(120).await;
    assert_eq!(sb.event_count("refund.failed").await, 2);
    let again = sb.retrieve("refunds", &full_id).await;
    assert_eq!(str_at(&again, "failure_reason"), "lost_or_stolen_card");

    // The raw number behaves the same; ordinary cards' refunds succeed at once.
    let pm = sb.card_payment_method("4000000000005126").await;
    let pi = sb.pay_ok(&pm, &[]).await;
    let re = sb
        .post_ok("/v1/refunds", &[("payment_intent", &str_at(&pi, "id"))])
        .await;
    assert_eq!(str_at(&re, "status"), "pending");
    let visa = sb.pay_ok("pm_card_visa", &[]).await;
    let re = sb
        .post_ok("/v1/refunds", &[("payment_intent", &str_at(&visa, "id"))])
        .await;
    assert_eq!(str_at(&re, "status"), "succeeded");
    sb.advance_clock(120).await;
    let re = sb.retrieve("refunds", &str_at(&re, "id")).await;
    assert_eq!(str_at(&re, "status"), "succeeded");
}

#[tokio::test]
async fn an_inquiry_leaves_the_charge_refundable_a_chargeback_does_not() {
    let sb = TestSandbox::start().await;
    let pi = sb.pay_ok("pm_card_createDisputeInquiry", &[]).await;
    let dp = sb.dispute_of(&str_at(&pi, "id")).await;
    assert_eq!(str_at(&dp, "status"), "warning_needs_response");
    assert_eq!(value_at(&dp, "is_charge_refundable"), json!(true));
    let re = sb
        .post_ok("/v1/refunds", &[("payment_intent", &str_at(&pi, "id"))])
        .await;
    assert_eq!(str_at(&re, "status"), "succeeded");
    // An inquiry opened through the control API, the same.
    let pi2 = str_at(&sb.pay_ok("pm_card_visa", &[]).await, "id");
    let inquiry = json!({"status": "warning_needs_response"});
    sb.open_dispute(&pi2, inquiry).await;
    let partial = [("payment_intent", pi2.as_str()), ("amount", "100")];
    sb.post_ok("/v1/refunds", &partial).await;
    // A chargeback: no refund (`is_charge_refundable: false`).
    let pi3 = sb
        .pay_ok("pm_card_createDisputeProductNotReceived", &[])
        .await;
    let dp3 = sb.dispute_of(&str_at(&pi3, "id")).await;
    assert_eq!(value_at(&dp3, "is_charge_refundable"), json!(false));
    let r = sb
        .post("/v1/refunds", &[("payment_intent", &str_at(&pi3, "id"))])
        .await;
    assert_eq!(r.status_and_error("code"), (400, "charge_disputed".into()));
}

/// The early fraud warning of a payment with `payment_method` (a 5423 card).
async fn warned_payment(sb: &TestSandbox, payment_method: &str) -> (Value, String) {
    let pi = sb.pay_ok(payment_method, &[]).await;
    let pi_id = str_at(&pi, "id");
    let query = [("payment_intent", pi_id.as_str())];
    let list = sb
        .get_query_ok("/v1/radar/early_fraud_warnings", &query)
        .await;
    let efw = str_at(&list, "data.0.id");
    assert_eq!(value_at(&list, "data.0.actionable"), json!(true));
    (pi, efw)
}

#[tokio::test]
async fn an_early_fraud_warning_stops_being_actionable_once_refunded_or_disputed() {
    let sb = TestSandbox::start().await;
    let (pi, efw) = warned_payment(&sb, "pm_card_createIssuerFraudRecord").await;
    let pi_id = str_at(&pi, "id");
    let partial = [("payment_intent", pi_id.as_str()), ("amount", "500")];
    sb.post_ok("/v1/refunds", &partial).await;
    let got = sb.retrieve("radar/early_fraud_warnings", &efw).await;
    assert_eq!(value_at(&got, "actionable"), json!(true));
    assert_eq!(sb.event_count("radar.early_fraud_warning.updated").await, 0);
    // The usual answer: refund the rest as fraudulent.
    let rest = [("payment_intent", pi_id.as_str()), ("reason", "fraudulent")];
    let re = sb.post_ok("/v1/refunds", &rest).await;
    let got = sb.retrieve("radar/early_fraud_warnings", &efw).await;
    assert_eq!(value_at(&got, "actionable"), json!(false));
    let updated = sb.events_of_type("radar.early_fraud_warning.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(str_at(&updated[0], "data.object.id"), efw);
    assert_eq!(
        value_at(&updated[0], "data.object.actionable"),
        json!(false)
    );
    let before = value_at(&updated[0], "data.previous_attributes");
    assert_eq!(before, json!({"actionable": true}));
    // The refund fails: the charge is not fully refunded any more.
    sb.control_ok(&format!("/refunds/{}/fail", str_at(&re, "id")))
        .await;
    let got = sb.retrieve("radar/early_fraud_warnings", &efw).await;
    assert_eq!(value_at(&got, "actionable"), json!(true));
    assert_eq!(sb.event_count("radar.early_fraud_warning.updated").await, 2);

    // A dispute.
    let (pi2, efw2) = warned_payment(&sb, "pm_card_createEarlyFraudWarning").await;
    sb.open_dispute(&str_at(&pi2, "id"), empty_object()).await;
    let got = sb.retrieve("radar/early_fraud_warnings", &efw2).await;
    assert_eq!(value_at(&got, "actionable"), json!(false));
    let updated = sb.events_of_type("radar.early_fraud_warning.updated").await;
    assert_eq!(str_at(&updated[0], "data.object.id"), efw2);
    let before = value_at(&updated[0], "data.previous_attributes.actionable");
    assert_eq!(before, json!(true));
}

#[tokio::test]
async fn payouts_go_in_transit_get_canceled_and_can_fail_after_being_paid() {
    let sb = TestSandbox::start().await;
    sb.pay_ok("pm_card_visa", &[]).await;
    let po = sb
        .control_ok_with("/payouts", json!({"amount": 1500}))
        .await;
    let po_id = str_at(&po, "id");
    let moved = sb.control_ok(&format!("/payouts/{po_id}/in_transit")).await;
    assert_eq!(str_at(&moved, "status"), "in_transit");
    let updated = sb.events_of_type("payout.updated").await;
    let before = str_at(&updated[0], "data.previous_attributes.status");
    assert_eq!(before, "pending");
    // In transit: it cannot be canceled any more, nor go in transit again.
    for outcome in ["canceled", "in_transit"] {
        let path = format!("/payouts/{po_id}/{outcome}");
        assert_eq!(sb.control_status(&path).await, 400, "{outcome}");
    }
    sb.control_ok(&format!("/payouts/{po_id}/paid")).await;
    // Paid, then returned by the bank.
    let failure = json!({"failure_code": "account_closed"});
    let fail = format!("/payouts/{po_id}/failed");
    let failed = sb.control_ok_with(&fail, failure).await;
    let got = (str_at(&failed, "status"), str_at(&failed, "failure_code"));
    assert_eq!(got, ("failed".into(), "account_closed".into()));
    let updated = sb.events_of_type("payout.updated").await;
    let before = str_at(&updated[0], "data.previous_attributes.status");
    assert_eq!(before, "paid");
    assert_eq!(sb.event_count("payout.failed").await, 1);
    assert_eq!(sb.control_status(&fail).await, 400);
    // The failed payout's money is back: a new payout takes the whole balance.
    let po2 = sb.control_ok("/payouts").await;
    assert_eq!(value_at(&po2, "amount"), json!(2000));
    let po2_id = str_at(&po2, "id");
    let canceled = sb.control_ok(&format!("/payouts/{po2_id}/canceled")).await;
    assert_eq!(str_at(&canceled, "status"), "canceled");
    assert!(canceled["failure_balance_transaction"].is_string());
    let events = sb.events_of_type("payout.canceled").await;
    assert_eq!(events.len(), 1);
    assert_eq!(str_at(&events[0], "data.object.id"), po2_id);
    let updated = sb.events_of_type("payout.updated").await;
    assert_eq!(str_at(&updated[0], "data.object.status"), "canceled");
    for outcome in ["paid", "failed", "in_transit", "canceled"] {
        let path = format!("/payouts/{po2_id}/{outcome}");
        assert_eq!(sb.control_status(&path).await, 400, "{outcome}");
    }
    let po3 = sb.control_ok("/payouts").await;
    assert_eq!(value_at(&po3, "amount"), json!(2000));
    let listed = sb
        .get_query_ok("/v1/payouts", &[("status", "canceled")])
        .await;
    assert_eq!(list_ids(&listed), vec![po2_id]);
}
