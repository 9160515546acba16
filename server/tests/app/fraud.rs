//! Early fraud warnings: recorded from Stripe's events, answered with a full refund
//! `reason=fraudulent` (one however often asked), no longer actionable afterwards, and
//! 404 for anyone but a merchant. SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use stripe_client::ListRefunds;

use crate::support::{browser, merchant, order_paid_with, spawn_app, Backend, TestApp};

on_both_backends!(a_warning_is_answered_by_a_fraudulent_refund,);

async fn warnings(app: &TestApp, client: &reqwest::Client) -> crate::support::ApiResponse {
    app.call_as(client, "merchant_fraud_warnings", &[]).await
}

async fn a_warning_is_answered_by_a_fraudulent_refund(app: &TestApp) {
    // A guest pays two mugs with the card whose issuer reports fraud (5423).
    let (order_id, pi) = order_paid_with(app, "pm_card_createIssuerFraudRecord").await;
    let merchant = merchant(app).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let warning = loop {
        let list = warnings(app, &merchant).await;
        if let Some(w) = list.body.as_array().unwrap().first() {
            break w.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the warning never reached the shop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(warning["order_id"], order_id.as_str());
    assert_eq!(warning["actionable"], true);
    let id = warning["id"].as_str().unwrap().to_owned();
    // Not for shoppers or guests.
    let request = shop::RequestId::generate().as_str().to_owned();
    let form = [
        ("warning_id", id.as_str()),
        ("request_id", request.as_str()),
    ];
    assert_eq!(
        app.call_as(&browser(), "refund_fraudulent", &form)
            .await
            .status,
        404
    );
    assert_eq!(warnings(app, &browser()).await.status, 404);
    // Refund as fraudulent, twice with the same request: one full refund.
    let first = app.call_as(&merchant, "refund_fraudulent", &form).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        (
            first.body["amount"]["minor"].as_i64(),
            first.body["reason"].as_str()
        ),
        (Some(2500), Some("fraudulent"))
    );
    let again = app.call_as(&merchant, "refund_fraudulent", &form).await;
    assert_eq!(
        again.body["stripe_id"], first.body["stripe_id"],
        "{}",
        again.body
    );
    let at_stripe = app
        .server
        .stripe
        .client
        .list_refunds(&ListRefunds::for_payment_intent(&pi))
        .await
        .unwrap()
        .data;
    assert_eq!(at_stripe.len(), 1);
    // Stripe says the warning is no longer actionable; the console follows.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = warnings(app, &merchant).await;
        if list.body[0]["actionable"] == false {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the warning stayed actionable: {}",
            list.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = app
        .call_as(
            &merchant,
            "refund_fraudulent",
            &[
                ("warning_id", id.as_str()),
                ("request_id", shop::RequestId::generate().as_str()),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
}
