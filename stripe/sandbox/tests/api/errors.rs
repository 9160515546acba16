//! Unknown routes and parameter validation answer Stripe-shaped errors.

use crate::common::*;

#[tokio::test]
async fn unknown_routes_and_bad_parameters_are_stripe_shaped_errors() {
    let sb = TestSandbox::start().await;
    for (m, path) in [
        (reqwest::Method::GET, "/v1/nothing_here"),
        (reqwest::Method::DELETE, "/v1/payment_intents"),
        (reqwest::Method::GET, "/somewhere/else"),
        (reqwest::Method::POST, "/v1/charges"),
    ] {
        let r = sb.send(m, path, Some(SECRET_KEY), &[], None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
        assert!(str_at(r.error(), "message").contains("Unrecognized request URL"));
        assert!(r.header("request-id").unwrap().starts_with("req_"));
    }
    let base = [("amount", "2000"), ("currency", "usd")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut f = base.to_vec();
        f.extend_from_slice(extra);
        f
    };
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (with(&[("colour", "red")]), "parameter_unknown", "colour"),
        (
            with(&[
                ("payment_method_data[type]", "card"),
                ("payment_method_data[card][token]", "tok_visa"),
                ("payment_method_data[card][colour]", "red"),
            ]),
            "parameter_unknown",
            "payment_method_data[card][colour]",
        ),
        (
            vec![("amount", "12abc"), ("currency", "usd")],
            "parameter_invalid_integer",
            "amount",
        ),
        (vec![("currency", "usd")], "parameter_missing", "amount"),
        (vec![("amount", "2000")], "parameter_missing", "currency"),
        (
            vec![("amount", "10"), ("currency", "usd")],
            "amount_too_small",
            "amount",
        ),
        (
            vec![("amount", "-5"), ("currency", "usd")],
            "parameter_invalid_integer",
            "amount",
        ),
        (with(&[("confirm", "maybe")]), "", "confirm"),
        (
            vec![("amount", "2000"), ("currency", "xyz")],
            "",
            "currency",
        ),
        (
            vec![("amount", "2000"), ("currency", "usdollars")],
            "",
            "currency",
        ),
        (with(&[("capture_method", "later")]), "", "capture_method"),
    ];
    for (form, code, param) in cases {
        let r = sb.post("/v1/payment_intents", &form).await;
        assert_eq!(r.status, 400, "{form:?}: {}", r.json);
        assert_eq!(str_at(r.error(), "type"), "invalid_request_error");
        assert_eq!(r.error()["param"].as_str(), Some(param), "{form:?}");
        if !code.is_empty() {
            assert_eq!(str_at(r.error(), "code"), code, "{form:?}");
        }
    }
    assert_eq!(sb.list_len("/v1/payment_intents").await, 0);
    // Upper-case currencies are accepted and stored lower-case.
    let pi = sb
        .post(
            "/v1/payment_intents",
            &[("amount", "500"), ("currency", "JPY")],
        )
        .await
        .expect_ok();
    assert_eq!(str_at(&pi, "currency"), "jpy");
    let r = sb.get("/v1/payment_intents/pi_doesnotexist").await;
    assert_eq!(r.status_and_error("code"), (404, "resource_missing".into()));
    let r = sb
        .get_query(
            &format!("/v1/payment_intents/{}", str_at(&pi, "id")),
            &[("expand[]", "amount")],
        )
        .await;
    assert_eq!(r.status, 400);
    let r = sb
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("customer", "cus_nope"),
            ],
        )
        .await;
    assert_eq!(
        (
            r.status,
            str_at(r.error(), "code"),
            str_at(r.error(), "param")
        ),
        (400, "resource_missing".into(), "customer".into())
    );
}
