//! Refunds: partial, several, over-refunds, failures.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn refunds_partial_several_and_never_more_than_the_charge() {
    let sb = TestSandbox::start().await;
    let pi = sb
        .create_payment_intent(
            "5000",
            &[("payment_method", "pm_card_visa"), ("confirm", "true")],
        )
        .await
        .expect_ok();
    let pi_id = str_at(&pi, "id");
    let ch = str_at(&pi, "latest_charge");
    let r1 = sb
        .post(
            "/v1/refunds",
            &[
                ("payment_intent", &pi_id),
                ("amount", "1000"),
                ("reason", "requested_by_customer"),
                ("metadata[ticket]", "T-1"),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(
        (
            str_at(&r1, "status"),
            str_at(&r1, "charge"),
            str_at(&r1, "metadata.ticket")
        ),
        ("succeeded".into(), ch.clone(), "T-1".into())
    );
    assert_eq!(str_at(&r1, "reason"), "requested_by_customer");
    sb.post("/v1/refunds", &[("charge", &ch), ("amount", "1500")])
        .await
        .expect_ok();
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(
        (
            value_at(&charge, "amount_refunded"),
            value_at(&charge, "refunded")
        ),
        (json!(2500), json!(false))
    );
    // Over-refund: 400 invalid_request_error on `amount`, nothing changes.
    let r = sb
        .post(
            "/v1/refunds",
            &[("payment_intent", &pi_id), ("amount", "2501")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
    assert_eq!(str_at(r.error(), "param"), "amount");
    assert_eq!(
        value_at(&sb.retrieve("charges", &ch).await, "amount_refunded"),
        json!(2500)
    );
    // The rest, without an amount.
    let last = sb
        .post("/v1/refunds", &[("payment_intent", &pi_id)])
        .await
        .expect_ok();
    assert_eq!(value_at(&last, "amount"), json!(2500));
    let charge = sb.retrieve("charges", &ch).await;
    assert_eq!(
        (
            value_at(&charge, "amount_refunded"),
            value_at(&charge, "refunded")
        ),
        (json!(5000), json!(true))
    );
    let r = sb
        .post("/v1/refunds", &[("charge", &ch), ("amount", "1")])
        .await;
    assert_eq!(
        r.status_and_error("code"),
        (400, "charge_already_refunded".into())
    );
    let listed = sb
        .get_query("/v1/refunds", &[("payment_intent", &pi_id)])
        .await
        .expect_ok();
    assert_eq!(list_data(&listed).len(), 3);
    assert_eq!(
        str_at(&sb.retrieve("refunds", &str_at(&r1, "id")).await, "id"),
        str_at(&r1, "id")
    );
    assert_eq!(sb.events_of_type("refund.created").await.len(), 3);
    let refunded = sb.events_of_type("charge.refunded").await;
    assert_eq!(refunded.len(), 3);
    assert_eq!(
        value_at(&refunded[0], "data.previous_attributes.amount_refunded"),
        json!(2500)
    );
    // Validation.
    for (form, param) in [
        (
            vec![("payment_intent", pi_id.as_str()), ("reason", "because")],
            "reason",
        ),
        (
            vec![("payment_intent", pi_id.as_str()), ("amount", "0")],
            "amount",
        ),
    ] {
        let r = sb.post("/v1/refunds", &form).await;
        assert_eq!(r.status_and_error("param"), (400, param.to_owned()));
    }
    let declined = sb.pay_20_usd("pm_card_chargeDeclined", &[]).await;
    let r = sb
        .post(
            "/v1/refunds",
            &[(
                "payment_intent",
                &str_at(declined.error(), "payment_intent.id"),
            )],
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn refund_failure_can_be_triggered() {
    let sb = TestSandbox::start().await;
    let pi = sb.pay_20_usd("pm_card_visa", &[]).await.expect_ok();
    let re = sb
        .post(
            "/v1/refunds",
            &[("payment_intent", &str_at(&pi, "id")), ("amount", "500")],
        )
        .await
        .expect_ok();
    let failed = sb
        .control_post(
            &format!("/refunds/{}/fail", str_at(&re, "id")),
            empty_object(),
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&failed, "status"), "failed");
    assert_eq!(
        str_at(&failed, "failure_reason"),
        "expired_or_canceled_card"
    );
    let ch = sb.retrieve("charges", &str_at(&pi, "latest_charge")).await;
    assert_eq!(value_at(&ch, "amount_refunded"), json!(0));
    assert_eq!(sb.events_of_type("refund.failed").await.len(), 1);
    assert_eq!(
        str_at(
            &sb.events_of_type("refund.updated").await[0],
            "data.previous_attributes.status"
        ),
        "succeeded"
    );
    // The money is refundable again.
    sb.post("/v1/refunds", &[("payment_intent", &str_at(&pi, "id"))])
        .await
        .expect_ok();
}
