//! SetupIntents: declines, publishable-key confirmation, failed authentication.

use crate::common::*;

#[tokio::test]
async fn setup_intent_with_a_declining_card_fails() {
    let sb = TestSandbox::start().await;
    let cus = sb.create_customer().await;
    let r = sb
        .confirm_setup_intent(&cus, "pm_card_chargeDeclined")
        .await;
    assert_eq!(r.status, 402);
    assert_eq!(str_at(r.error(), "code"), "card_declined");
    assert_eq!(
        str_at(r.error(), "setup_intent.status"),
        "requires_payment_method"
    );
    assert_eq!(
        str_at(r.error(), "setup_intent.last_setup_error.decline_code"),
        "generic_decline"
    );
    assert_eq!(
        sb.events_of_type("setup_intent.setup_failed").await.len(),
        1
    );
    // Publishable-key confirmation of a SetupIntent (confirmCardSetup).
    let si = sb
        .post(
            "/v1/setup_intents",
            &[("customer", &cus), ("payment_method_types[]", "card")],
        )
        .await
        .expect_ok();
    let pm = sb.card_payment_method("4242424242424242").await;
    let done = sb
        .post_publishable(
            &format!("/v1/setup_intents/{}/confirm", str_at(&si, "id")),
            &[
                ("client_secret", &str_at(&si, "client_secret")),
                ("payment_method", &pm),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&done, "status"), "succeeded");
    let got = sb
        .get_publishable(
            &format!("/v1/setup_intents/{}", str_at(&si, "id")),
            &[("client_secret", &str_at(&si, "client_secret"))],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&got, "payment_method"), pm);
    let failed_3ds = sb
        .confirm_setup_intent(&cus, "pm_card_authenticationRequired")
        .await
        .expect_ok();
    let out = sb.submit_3ds(&failed_3ds, "fail").await;
    assert_eq!(
        str_at(&out, "setup_intent.status"),
        "requires_payment_method"
    );
    assert_eq!(
        str_at(&out, "setup_intent.last_setup_error.code"),
        "setup_intent_authentication_failure"
    );
}
