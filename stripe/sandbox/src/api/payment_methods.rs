//! PaymentMethods: create (card details with a publishable key; test tokens with any key),
//! retrieve, update, attach, detach, list.

use axum::http::StatusCode;
use stripe_types::ErrorType;

use super::{
    customers, exec, matches_filter, payments, render, Exec, KeyKind, ListParams,
    STRIPE_JS_TRACKING_FIELDS,
};
use crate::cards::{self, Behaviour, Decline};
use crate::error::{ApiError, ApiResult};
use crate::form::{MetadataUpdate, Params};
use crate::objects::*;
use crate::state::{Ctx, State};
use crate::util::{new_id, year_month, Null};

/// Raw card details or a test token.
#[derive(Debug, Clone)]
pub enum CardSource {
    Raw {
        number: String,
        exp_month: String,
        exp_year: String,
        cvc: Option<String>,
    },
    Token(String),
}

#[derive(Debug, Clone)]
pub struct CardData {
    pub source: CardSource,
    pub billing: Option<BillingDetails>,
    pub metadata: Option<MetadataUpdate>,
}

/// `payment_method=…` or `payment_method_data[…]`.
#[derive(Debug, Clone)]
pub enum PmSpec {
    Id(String),
    Data(Box<CardData>),
}

fn raw_card_refused() -> ApiError {
    ApiError::new(
        StatusCode::PAYMENT_REQUIRED,
        ErrorType::InvalidRequestError,
        "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test tokens that map to the test card you are using, see https://stripe.com/docs/testing. To enable raw card data APIs in test mode, see https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.",
    )
}

pub fn parse_billing(p: &mut Params) -> ApiResult<Option<BillingDetails>> {
    let Some(mut b) = p.map("billing_details")? else {
        return Ok(None);
    };
    let mut details = BillingDetails {
        email: b.non_empty("email")?,
        name: b.non_empty("name")?,
        phone: b.non_empty("phone")?,
        ..BillingDetails::default()
    };
    if let Some(mut a) = b.map("address")? {
        details.address = parse_address(&mut a)?;
        a.finish()?;
    }
    b.finish()?;
    Ok(Some(details))
}

pub fn parse_address(a: &mut Params) -> ApiResult<Address> {
    Ok(Address {
        city: a.non_empty("city")?,
        country: a.non_empty("country")?,
        line1: a.non_empty("line1")?,
        line2: a.non_empty("line2")?,
        postal_code: a.non_empty("postal_code")?,
        state: a.non_empty("state")?,
    })
}

/// Parses `type=card&card[…]&billing_details[…]` (PaymentMethod create and `payment_method_data`).
pub fn parse_card_data(p: &mut Params, key: KeyKind) -> ApiResult<CardData> {
    let kind = p.required_str("type")?;
    if kind != "card" {
        return Err(ApiError::invalid_param(
            &p.path("type"),
            format!("Invalid type: the sandbox supports only `card` PaymentMethods, not `{kind}`."),
        ));
    }
    let Some(mut card) = p.map("card")? else {
        return Err(ApiError::missing_param(&p.path("card")));
    };
    let source = if let Some(token) = card.non_empty("token")? {
        CardSource::Token(token)
    } else {
        if card.has("number") && key == KeyKind::Secret {
            return Err(raw_card_refused());
        }
        let number = card.required_str("number")?;
        let exp_month = card.required_str("exp_month")?;
        let exp_year = card.required_str("exp_year")?;
        let cvc = card.non_empty("cvc")?;
        CardSource::Raw {
            number,
            exp_month,
            exp_year,
            cvc,
        }
    };
    card.finish()?;
    let billing = parse_billing(p)?;
    let metadata = p.metadata()?;
    // Stripe.js sends a few tracking fields along; they are accepted and ignored.
    p.ignore(STRIPE_JS_TRACKING_FIELDS);
    p.ignore(&["allow_redisplay", "pasted_fields"]);
    Ok(CardData {
        source,
        billing,
        metadata,
    })
}

fn card_err(code: &str, message: &str, param: &str) -> ApiError {
    ApiError::card(code, None, message, Some(param))
}

/// Creates a PaymentMethod from raw details (checked like Stripe does) or a test token.
pub fn create_from_data(state: &mut State, ctx: &Ctx, data: CardData) -> ApiResult<String> {
    let (year, month) = year_month(ctx.now);
    let (number, exp_month, exp_year, cvc_given) = match data.source {
        CardSource::Token(tok) => {
            let number = cards::test_token(&tok).ok_or_else(|| {
                ApiError::no_such(StatusCode::BAD_REQUEST, "token", &tok, "card[token]")
            })?;
            (number.to_owned(), month, year + 1, false)
        }
        CardSource::Raw {
            number,
            exp_month,
            exp_year,
            cvc,
        } => {
            let number: String = number
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect();
            if number.len() < 12 || number.len() > 19 || !number.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(card_err(
                    "invalid_number",
                    "Your card number is not a valid credit card number.",
                    "card[number]",
                ));
            }
            if !cards::luhn_ok(&number) {
                return Err(card_err(
                    stripe_types::error::code::INCORRECT_NUMBER,
                    "Your card number is incorrect.",
                    "card[number]",
                ));
            }
            let exp_month: u32 = match exp_month.trim().parse() {
                Ok(m) if (1..=12).contains(&m) => m,
                _ => {
                    return Err(card_err(
                        stripe_types::error::code::INVALID_EXPIRY_MONTH,
                        "Your card's expiration month is invalid.",
                        "card[exp_month]",
                    ))
                }
            };
            let exp_year: i64 = match exp_year.trim().parse::<i64>() {
                Ok(y) if (0..100).contains(&y) => 2000 + y,
                Ok(y) => y,
                Err(_) => -1,
            };
            if exp_year < year || exp_year > year + 50 {
                return Err(card_err(
                    stripe_types::error::code::INVALID_EXPIRY_YEAR,
                    "Your card's expiration year is invalid.",
                    "card[exp_year]",
                ));
            }
            if exp_year == year && exp_month < month {
                return Err(card_err(
                    stripe_types::error::code::INVALID_EXPIRY_MONTH,
                    "Your card's expiration month is invalid.",
                    "card[exp_month]",
                ));
            }
            let brand = cards::brand(&number);
            if let Some(cvc) = &cvc {
                if cvc.len() != cards::cvc_len(brand) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(card_err(
                        "invalid_cvc",
                        "Your card's security code is invalid.",
                        "card[cvc]",
                    ));
                }
            }
            (number, exp_month, exp_year, cvc.is_some())
        }
    };
    let id = insert_card(
        state,
        ctx,
        &number,
        exp_month,
        exp_year,
        cvc_given,
        data.billing,
        data.metadata,
    );
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
fn insert_card(
    state: &mut State,
    ctx: &Ctx,
    number: &str,
    exp_month: u32,
    exp_year: i64,
    cvc_given: bool,
    billing: Option<BillingDetails>,
    metadata: Option<MetadataUpdate>,
) -> String {
    let test = cards::test_card(number);
    let behaviour = test
        .map(|c| c.behaviour)
        .unwrap_or(Behaviour::Decline(Decline::TestModeLiveCard));
    let funding = test.map(|c| c.funding).unwrap_or("credit");
    let brand = cards::brand(number);
    let id = new_id("pm");
    let pm = PaymentMethod {
        id: id.clone(),
        object: PaymentMethodTag,
        allow_redisplay: "unspecified".into(),
        billing_details: billing.unwrap_or_default(),
        card: PmCard {
            brand: brand.into(),
            checks: CardChecks {
                cvc_check: cvc_given.then(|| "unchecked".to_owned()),
                ..CardChecks::default()
            },
            country: "US".into(),
            display_brand: brand.into(),
            exp_month,
            exp_year,
            fingerprint: cards::fingerprint(number),
            funding: funding.into(),
            generated_from: Null,
            last4: number[number.len() - 4..].to_owned(),
            networks: Networks {
                available: vec![brand.into()],
                preferred: Null,
            },
            three_d_secure_usage: ThreeDSecureUsage { supported: true },
            wallet: Null,
        },
        created: ctx.now,
        customer: None,
        livemode: false,
        metadata: metadata.map(MetadataUpdate::into_map).unwrap_or_default(),
        kind: "card".into(),
    };
    state.payment_methods.insert(PmRecord {
        pm,
        behaviour,
        set_up: false,
        consumed: false,
    });
    state.dirty = true;
    id
}

/// [`resolve`] for the optional `payment_method` / `payment_method_data` of an intent.
pub fn resolve_param(
    state: &mut State,
    ctx: &Ctx,
    spec: Option<PmSpec>,
) -> ApiResult<Option<String>> {
    spec.map(|spec| resolve(state, ctx, spec, "payment_method"))
        .transpose()
}

/// Resolves `payment_method` / `payment_method_data` to a stored PaymentMethod id.
/// `pm_card_*` test ids create a fresh PaymentMethod, as Stripe does.
pub fn resolve(state: &mut State, ctx: &Ctx, spec: PmSpec, param: &str) -> ApiResult<String> {
    match spec {
        PmSpec::Data(data) => create_from_data(state, ctx, *data),
        PmSpec::Id(id) => {
            if state.payment_methods.contains(&id) {
                return Ok(id);
            }
            if (id.starts_with("pm_card_") || id.starts_with("tok_"))
                && cards::test_token(&id).is_some()
            {
                {
                    return create_from_data(
                        state,
                        ctx,
                        CardData {
                            source: CardSource::Token(id),
                            billing: None,
                            metadata: None,
                        },
                    );
                }
            }
            Err(ApiError::no_such(
                StatusCode::BAD_REQUEST,
                "PaymentMethod",
                &id,
                param,
            ))
        }
    }
}

/// `payment_method` / `payment_method_data` of PaymentIntent/SetupIntent requests.
pub fn parse_spec(p: &mut Params, key: KeyKind) -> ApiResult<Option<PmSpec>> {
    let id = p.non_empty("payment_method")?;
    let data = match p.map("payment_method_data")? {
        Some(mut d) => {
            let data = parse_card_data(&mut d, key)?;
            d.finish()?;
            Some(data)
        }
        None => None,
    };
    match (id, data) {
        (Some(_), Some(_)) => Err(ApiError::invalid_param(
            "payment_method_data",
            "You cannot provide both `payment_method` and `payment_method_data`.",
        )
        .with_code("parameters_exclusive")),
        (Some(id), None) => Ok(Some(PmSpec::Id(id))),
        (None, Some(d)) => Ok(Some(PmSpec::Data(Box::new(d)))),
        (None, None) => Ok(None),
    }
}

pub fn create(mut p: Params, key: KeyKind) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let data = parse_card_data(&mut p, key)?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let id = create_from_data(state, ctx, data)?;
        render(
            state,
            &state.payment_methods.get(&id).expect("just created").pm,
            &expand,
        )
    }))
}

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a PmRecord> {
    state
        .payment_methods
        .get(id)
        .ok_or_else(|| ApiError::not_found("payment_method", id))
}

pub fn retrieve(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let id = if cards::test_token(&id).is_some() && !state.payment_methods.contains(&id) {
            resolve(state, ctx, PmSpec::Id(id), "id")?
        } else {
            id
        };
        render(state, &get(state, &id)?.pm, &expand)
    }))
}

pub fn update(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let metadata = p.metadata()?;
    let billing = parse_billing(&mut p)?;
    let mut exp = (None, None);
    if let Some(mut card) = p.map("card")? {
        exp = (card.int("exp_month")?, card.int("exp_year")?);
        card.finish()?;
    }
    p.ignore(&["allow_redisplay"]);
    p.finish()?;
    Ok(exec(move |state, _ctx| {
        let rec = state
            .payment_methods
            .get_mut(&id)
            .ok_or_else(|| ApiError::not_found("payment_method", &id))?;
        if let Some(m) = metadata {
            m.apply(&mut rec.pm.metadata);
        }
        if let Some(b) = billing {
            rec.pm.billing_details = b;
        }
        if let Some(m) = exp.0 {
            if !(1..=12).contains(&m) {
                return Err(card_err(
                    stripe_types::error::code::INVALID_EXPIRY_MONTH,
                    "Your card's expiration month is invalid.",
                    "card[exp_month]",
                ));
            }
            rec.pm.card.exp_month = m as u32;
        }
        if let Some(y) = exp.1 {
            rec.pm.card.exp_year = y;
        }
        state.dirty = true;
        render(state, &get(state, &id)?.pm, &expand)
    }))
}

/// Attaches a PaymentMethod to a Customer (a card check happens: declining cards fail).
pub fn attach_to(state: &mut State, ctx: &Ctx, pm_id: &str, customer: &str) -> ApiResult<()> {
    let rec = get(state, pm_id)?;
    if rec.pm.customer.as_deref() == Some(customer) {
        return Ok(());
    }
    if rec.pm.customer.is_some() {
        return Err(ApiError::invalid(
            "The payment method you provided has already been attached to a customer.",
        ));
    }
    if rec.consumed {
        return Err(ApiError::invalid(
            "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.",
        ));
    }
    if let Behaviour::Decline(d) = rec.behaviour {
        let mut e = payments::decline_error(d);
        e.body.payment_method = serde_json::to_value(&rec.pm).ok();
        return Err(e);
    }
    let rec = state.payment_methods.get_mut(pm_id).expect("checked");
    rec.pm.customer = Some(customer.to_owned());
    let snapshot = rec.pm.clone();
    state.emit(ctx, "payment_method.attached", &snapshot, None);
    Ok(())
}

pub fn attach(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let customer = p.required_str("customer")?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        customers::check_param(state, &customer)?;
        let id = if state.payment_methods.contains(&id) {
            id
        } else if cards::test_token(&id).is_some() {
            resolve(state, ctx, PmSpec::Id(id), "id")?
        } else {
            return Err(ApiError::not_found("payment_method", &id));
        };
        attach_to(state, ctx, &id, &customer)?;
        render(state, &get(state, &id)?.pm, &expand)
    }))
}

pub fn detach(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let rec = get(state, &id)?;
        let Some(customer) = rec.pm.customer.clone() else {
            return Err(ApiError::invalid(format!(
                "The payment method {id} is not attached to a customer."
            )));
        };
        let before = serde_json::to_value(&rec.pm).ok();
        let rec = state.payment_methods.get_mut(&id).expect("checked");
        rec.pm.customer = None;
        rec.consumed = true;
        let snapshot = rec.pm.clone();
        if let Some(c) = state.customers.get_mut(&customer) {
            if c.invoice_settings.default_payment_method.as_deref() == Some(id.as_str()) {
                c.invoice_settings.default_payment_method = None;
            }
        }
        let prev = before.and_then(|b| {
            crate::state::previous_attributes(&b, &serde_json::to_value(&snapshot).ok()?)
        });
        state.emit(ctx, "payment_method.detached", &snapshot, prev);
        render(state, &snapshot, &expand)
    }))
}

/// `GET /v1/payment_methods?customer=…&type=card` and `GET /v1/customers/{id}/payment_methods`.
pub fn list(path_customer: Option<String>, mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let customer = match &path_customer {
        Some(c) => Some(c.clone()),
        None => p.non_empty("customer")?,
    };
    let kind = p.non_empty("type")?;
    if let Some(k) = &kind {
        if k != "card" {
            return Err(ApiError::invalid_param(
                "type",
                format!("Invalid type: the sandbox supports only `card`, not `{k}`."),
            ));
        }
    }
    p.ignore(&["allow_redisplay"]);
    p.finish()?;
    Ok(exec(move |state, _ctx| {
        match (&customer, &path_customer) {
            (Some(c), Some(_)) if !customers::exists(state, c) => {
                return Err(ApiError::not_found("customer", c));
            }
            (Some(c), None) => customers::check_param(state, c)?,
            _ => {}
        }
        let url = match &path_customer {
            Some(c) => format!("/v1/customers/{c}/payment_methods"),
            None => "/v1/payment_methods".to_owned(),
        };
        lp.render_page(
            state,
            &state.payment_methods,
            &url,
            // Without a customer Stripe lists PaymentMethods not attached to one.
            |r| matches_filter(&customer, r.pm.customer.as_deref()),
            |r| &r.pm,
        )
    }))
}
