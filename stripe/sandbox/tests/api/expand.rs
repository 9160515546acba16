//! `expand[]` on objects and lists.

use crate::common::*;

#[tokio::test]
async fn expand_inlines_related_objects() {
    let sb = TestSandbox::start().await;
    let cus = sb.create_customer().await;
    let pi = sb
        .pay_20_usd(
            "pm_card_visa",
            &[
                ("customer", &cus),
                ("expand[]", "latest_charge"),
                ("expand[]", "customer"),
                ("expand[]", "payment_method"),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&pi, "latest_charge.object"), "charge");
    assert_eq!(str_at(&pi, "customer.id"), cus);
    assert_eq!(str_at(&pi, "payment_method.object"), "payment_method");
    let id = str_at(&pi, "id");
    let ch = str_at(&pi, "latest_charge.id");
    let c = sb
        .get_query(
            &format!("/v1/charges/{ch}"),
            &[("expand[]", "payment_intent")],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&c, "payment_intent.id"), id);
    let nested = sb
        .get_query(
            &format!("/v1/charges/{ch}"),
            &[("expand[]", "payment_intent.latest_charge")],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&nested, "payment_intent.latest_charge.id"), ch);
    let list = sb
        .get_query("/v1/payment_intents", &[("expand[]", "data.latest_charge")])
        .await
        .expect_ok();
    assert_eq!(str_at(&list, "data.0.latest_charge.object"), "charge");
    let r = sb
        .get_query("/v1/payment_intents", &[("expand[]", "latest_charge")])
        .await;
    assert_eq!(r.status, 400);
    let re = sb
        .post(
            "/v1/refunds",
            &[
                ("payment_intent", &id),
                ("amount", "100"),
                ("expand[]", "charge"),
            ],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&re, "charge.id"), ch);
}
