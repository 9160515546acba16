//! Payouts (and early fraud warnings) raised through the control API.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn payouts_are_created_and_settled_through_the_control_api() {
    let sb = TestSandbox::start().await;
    sb.pay_20_usd("pm_card_visa", &[]).await.expect_ok();
    let po = sb
        .control_post("/payouts", empty_object())
        .await
        .expect_ok();
    assert_eq!(
        (
            str_at(&po, "object"),
            str_at(&po, "status"),
            value_at(&po, "amount")
        ),
        ("payout".into(), "pending".into(), json!(2000))
    );
    let paid = sb
        .control_post(
            &format!("/payouts/{}/paid", str_at(&po, "id")),
            empty_object(),
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&paid, "status"), "paid");
    let po2 = sb
        .control_post("/payouts", json!({"amount": 700, "currency": "usd"}))
        .await
        .expect_ok();
    let failed = sb
        .control_post(
            &format!("/payouts/{}/failed", str_at(&po2, "id")),
            json!({"failure_code": "no_account"}),
        )
        .await
        .expect_ok();
    assert_eq!(
        (str_at(&failed, "status"), str_at(&failed, "failure_code")),
        ("failed".into(), "no_account".into())
    );
    assert_eq!(
        sb.control_post(
            &format!("/payouts/{}/paid", str_at(&po2, "id")),
            empty_object()
        )
        .await
        .status,
        400
    );
    let listed = sb.get("/v1/payouts").await.expect_ok();
    assert_eq!(list_data(&listed).len(), 2);
    assert_eq!(
        str_at(&sb.retrieve("payouts", &str_at(&po, "id")).await, "status"),
        "paid"
    );
    for t in [
        "payout.created",
        "payout.paid",
        "payout.failed",
        "payout.updated",
    ] {
        assert!(!sb.events_of_type(t).await.is_empty(), "{t}");
    }
    let efw = sb
        .control_post(
            &format!(
                "/charges/{}/early_fraud_warning",
                str_at(
                    &sb.pay_20_usd("pm_card_visa", &[]).await.expect_ok(),
                    "latest_charge"
                )
            ),
            empty_object(),
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&efw, "object"), "radar.early_fraud_warning");
}
