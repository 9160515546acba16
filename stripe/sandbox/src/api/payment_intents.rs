//! PaymentIntents: create, retrieve, update, confirm, cancel, capture, list.

use axum::http::StatusCode;
use stripe_types::{CaptureMethod, ChargeStatus, Currency, PaymentIntentStatus as PiS};

use super::payment_methods::{self, parse_spec, PmSpec};
use super::payments::{self, check_confirmable, ConfirmOpts};
use super::{
    check_amount, check_client_secret, customers, exec, ignore_stripe_js_fields, matches_filter,
    new_intent, parse_currency, parse_payment_method_types, parse_request_three_d_secure, render,
    render_snapshot, take_client_secret, update_opt, Exec, KeyKind, ListParams,
};
use crate::error::{ApiError, ApiResult};
use crate::form::{MetadataUpdate, Params};
use crate::objects::*;
use crate::state::{Ctx, State};
use crate::util::{client_secret, new_id, Null};

/// Stripe.js may send this too on PaymentIntent requests; it is ignored.
const STRIPE_JS_ACCOUNT: &[&str] = &["_stripe_account"];

/// `payment_method_options[card]` may also carry these (ignored).
const IGNORED_CARD_OPTIONS: &[&str] = &["setup_future_usage", "capture_method"];

fn parse_off_session(p: &mut Params) -> ApiResult<Option<bool>> {
    match p.non_empty("off_session")?.as_deref() {
        None => Ok(None),
        Some("true" | "one_off" | "recurring") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::invalid_param(
            "off_session",
            format!("Invalid off_session: {other}. Use true, false, one_off or recurring."),
        )),
    }
}

fn parse_capture_method(p: &mut Params) -> ApiResult<Option<CaptureMethod>> {
    Ok(p.one_of(
        "capture_method",
        &["automatic", "automatic_async", "manual"],
    )?
    .and_then(|s| CaptureMethod::parse(&s)))
}

fn parse_apm(p: &mut Params) -> ApiResult<Option<AutomaticPaymentMethods>> {
    let Some(mut apm) = p.map("automatic_payment_methods")? else {
        return Ok(None);
    };
    let enabled = apm
        .bool("enabled")?
        .ok_or_else(|| ApiError::missing_param("automatic_payment_methods[enabled]"))?;
    let allow_redirects = apm
        .one_of("allow_redirects", &["always", "never"])?
        .unwrap_or_else(|| "always".to_owned());
    apm.finish()?;
    Ok(Some(AutomaticPaymentMethods {
        allow_redirects: allow_redirects.into(),
        enabled,
    }))
}

struct CreateReq {
    amount: i64,
    currency: Currency,
    customer: Option<String>,
    description: Option<String>,
    metadata: Option<MetadataUpdate>,
    pm: Option<PmSpec>,
    payment_method_types: Option<Vec<String>>,
    apm: Option<AutomaticPaymentMethods>,
    confirm: bool,
    opts: ConfirmOpts,
    setup_future_usage: Option<String>,
    capture_method: CaptureMethod,
    receipt_email: Option<String>,
    statement_descriptor: Option<String>,
    statement_descriptor_suffix: Option<String>,
    transfer_group: Option<String>,
    request_three_d_secure: Option<String>,
    confirmation_method: String,
    expand: Vec<String>,
}

pub fn create(mut p: Params, key: KeyKind) -> ApiResult<Exec> {
    let amount = p
        .positive_int("amount")?
        .ok_or_else(|| ApiError::missing_param("amount"))?;
    let currency = parse_currency(&mut p, "currency", true)?.expect("required");
    check_amount("amount", amount, currency)?;
    let confirm = p.bool("confirm")?.unwrap_or(false);
    let off_session = parse_off_session(&mut p)?;
    if off_session.is_some() && !confirm {
        return Err(ApiError::invalid_param(
            "off_session",
            "You may only specify `off_session` when `confirm` is true.",
        ));
    }
    let payment_method_types = parse_payment_method_types(&mut p)?;
    let apm = parse_apm(&mut p)?;
    if payment_method_types.is_some() && apm.as_ref().is_some_and(|a| a.enabled) {
        return Err(ApiError::invalid_param(
            "automatic_payment_methods",
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
        )
        .with_code("parameters_exclusive"));
    }
    let req = CreateReq {
        amount,
        currency,
        customer: p.non_empty("customer")?,
        description: p.non_empty("description")?,
        metadata: p.metadata()?,
        pm: parse_spec(&mut p, key)?,
        payment_method_types,
        apm,
        confirm,
        opts: ConfirmOpts {
            off_session: off_session.unwrap_or(false),
            error_on_requires_action: p.bool("error_on_requires_action")?.unwrap_or(false),
            return_url: p.non_empty("return_url")?,
            use_stripe_sdk: p.bool("use_stripe_sdk")?.unwrap_or(false),
            publishable: false,
        },
        setup_future_usage: p.one_of("setup_future_usage", &["off_session", "on_session"])?,
        capture_method: parse_capture_method(&mut p)?.unwrap_or(CaptureMethod::Automatic),
        receipt_email: p.non_empty("receipt_email")?,
        statement_descriptor: p.non_empty("statement_descriptor")?,
        statement_descriptor_suffix: p.non_empty("statement_descriptor_suffix")?,
        transfer_group: p.non_empty("transfer_group")?,
        request_three_d_secure: parse_request_three_d_secure(&mut p, IGNORED_CARD_OPTIONS)?,
        confirmation_method: p
            .one_of("confirmation_method", &["automatic", "manual"])?
            .unwrap_or_else(|| "automatic".to_owned()),
        expand: p.expand()?,
    };
    p.ignore(&["mandate_data"]);
    p.finish()?;
    Ok(exec(move |state, ctx| create_exec(state, ctx, req)))
}

fn create_exec(state: &mut State, ctx: &Ctx, req: CreateReq) -> ApiResult<bytes::Bytes> {
    state.last_snapshot = None;
    let new = new_intent(
        state,
        ctx,
        req.customer.as_deref(),
        req.pm,
        req.payment_method_types,
        req.apm,
    )?;
    let pm = new.payment_method;
    let id = new_id("pi");
    let pi = PaymentIntent {
        client_secret: client_secret(&id),
        id,
        object: PaymentIntentTag,
        amount: req.amount,
        amount_capturable: 0,
        amount_details: AmountDetails {
            tip: crate::util::Empty,
        },
        amount_received: 0,
        application: Null,
        application_fee_amount: Null,
        automatic_payment_methods: new.automatic_payment_methods,
        canceled_at: None,
        cancellation_reason: None,
        capture_method: req.capture_method,
        confirmation_method: req.confirmation_method.into(),
        created: ctx.now,
        currency: req.currency,
        customer: req.customer,
        description: req.description,
        invoice: Null,
        last_payment_error: None,
        latest_charge: None,
        livemode: false,
        metadata: req
            .metadata
            .map(MetadataUpdate::into_map)
            .unwrap_or_default(),
        next_action: None,
        on_behalf_of: Null,
        payment_method: pm.clone(),
        payment_method_configuration_details: Null,
        payment_method_options: PiPaymentMethodOptions {
            card: PiCardOptions {
                installments: Null,
                mandate_options: Null,
                network: Null,
                request_three_d_secure: req
                    .request_three_d_secure
                    .map_or("automatic".into(), Into::into),
            },
        },
        payment_method_types: new.payment_method_types,
        processing: Null,
        receipt_email: req.receipt_email,
        review: Null,
        setup_future_usage: req.setup_future_usage,
        shipping: Null,
        source: Null,
        statement_descriptor: req.statement_descriptor,
        statement_descriptor_suffix: req.statement_descriptor_suffix,
        status: if pm.is_some() {
            PiS::RequiresConfirmation
        } else {
            PiS::RequiresPaymentMethod
        },
        transfer_data: Null,
        transfer_group: req.transfer_group,
    };
    if req.confirm {
        check_confirmable(state, &pi, &req.opts)?;
    }
    let id = pi.id.clone();
    state.emit(ctx, "payment_intent.created", &pi, None);
    state.payment_intents.insert(pi);
    if req.confirm {
        payments::confirm_pi(state, ctx, &id, &req.opts)?;
    }
    render_snapshot(state, &id, |st| st.payment_intents.get(&id), &req.expand)
}

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a PaymentIntent> {
    state
        .payment_intents
        .get(id)
        .ok_or_else(|| ApiError::no_such(StatusCode::NOT_FOUND, "payment_intent", id, "intent"))
}

pub fn retrieve(id: String, mut p: Params, key: KeyKind) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let secret = p.non_empty("client_secret")?;
    ignore_stripe_js_fields(&mut p, key, STRIPE_JS_ACCOUNT);
    p.finish()?;
    if key == KeyKind::Publishable && secret.is_none() {
        return Err(ApiError::missing_param("client_secret"));
    }
    Ok(exec(move |state, _ctx| {
        let pi = get(state, &id)?;
        check_client_secret("PaymentIntent", secret.as_deref(), &pi.client_secret, key)?;
        render(state, pi, &expand)
    }))
}

pub fn update(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let amount = p.positive_int("amount")?;
    let currency = parse_currency(&mut p, "currency", false)?;
    let customer = p.str("customer")?;
    let description = p.str("description")?;
    let metadata = p.metadata()?;
    let pm = parse_spec(&mut p, KeyKind::Secret)?;
    let payment_method_types = parse_payment_method_types(&mut p)?;
    let setup_future_usage = p.str("setup_future_usage")?;
    if let Some(s) = &setup_future_usage {
        if !["", "off_session", "on_session"].contains(&s.as_str()) {
            return Err(ApiError::invalid_param(
                "setup_future_usage",
                "Invalid setup_future_usage: must be one of off_session, or on_session",
            ));
        }
    }
    let capture_method = parse_capture_method(&mut p)?;
    let receipt_email = p.str("receipt_email")?;
    let statement_descriptor = p.str("statement_descriptor")?;
    let statement_descriptor_suffix = p.str("statement_descriptor_suffix")?;
    let transfer_group = p.str("transfer_group")?;
    let request_three_d_secure = parse_request_three_d_secure(&mut p, IGNORED_CARD_OPTIONS)?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut pi = get(state, &id)?.clone();
        let restricted = amount.is_some()
            || currency.is_some()
            || customer.is_some()
            || pm.is_some()
            || payment_method_types.is_some()
            || setup_future_usage.is_some()
            || capture_method.is_some()
            || request_three_d_secure.is_some();
        if restricted
            && !matches!(
                pi.status,
                PiS::RequiresPaymentMethod | PiS::RequiresConfirmation | PiS::RequiresAction
            )
        {
            return Err(ApiError::unexpected_state(format!(
                "You cannot update this PaymentIntent because it has a status of {}. Updates are only allowed when the PaymentIntent has a status of requires_payment_method, requires_confirmation, or requires_action.",
                pi.status
            )));
        }
        if let Some(a) = amount {
            check_amount("amount", a, currency.unwrap_or(pi.currency))?;
            pi.amount = a;
        }
        if let Some(c) = currency {
            check_amount("amount", pi.amount, c)?;
            pi.currency = c;
        }
        customers::update_param(state, &mut pi.customer, customer)?;
        update_opt(&mut pi.description, description);
        if let Some(m) = metadata {
            m.apply(&mut pi.metadata);
        }
        if let Some(t) = payment_method_types {
            pi.payment_method_types = t.into_iter().map(Into::into).collect();
            pi.automatic_payment_methods = None;
        }
        update_opt(&mut pi.setup_future_usage, setup_future_usage);
        if let Some(cm) = capture_method {
            pi.capture_method = cm;
        }
        update_opt(&mut pi.receipt_email, receipt_email);
        update_opt(&mut pi.statement_descriptor, statement_descriptor);
        update_opt(
            &mut pi.statement_descriptor_suffix,
            statement_descriptor_suffix,
        );
        update_opt(&mut pi.transfer_group, transfer_group);
        if let Some(r) = request_three_d_secure {
            pi.payment_method_options.card.request_three_d_secure = r.into();
        }
        if let Some(pm_id) = payment_methods::resolve_param(state, ctx, pm)? {
            pi.payment_method = Some(pm_id);
        }
        if restricted && pi.status == PiS::RequiresAction {
            // Changing a PaymentIntent that awaited authentication requires a new confirmation.
            pi.next_action = None;
            pi.status = PiS::RequiresConfirmation;
        }
        if pi.status == PiS::RequiresPaymentMethod && pi.payment_method.is_some() {
            pi.status = PiS::RequiresConfirmation;
        }
        state.dirty = true;
        state.payment_intents.insert(pi);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn confirm(id: String, mut p: Params, key: KeyKind) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let secret = take_client_secret(&mut p, key, STRIPE_JS_ACCOUNT)?;
    let pm = parse_spec(&mut p, key)?;
    let off_session = parse_off_session(&mut p)?;
    if key == KeyKind::Publishable && off_session.is_some() {
        return Err(ApiError::invalid_param(
            "off_session",
            "`off_session` cannot be used with a publishable key.",
        ));
    }
    let opts = ConfirmOpts {
        off_session: off_session.unwrap_or(false),
        error_on_requires_action: p.bool("error_on_requires_action")?.unwrap_or(false),
        return_url: p.non_empty("return_url")?,
        use_stripe_sdk: p.bool("use_stripe_sdk")?.unwrap_or(false),
        publishable: key == KeyKind::Publishable,
    };
    let setup_future_usage = p.str("setup_future_usage")?;
    let receipt_email = p.str("receipt_email")?;
    let capture_method = parse_capture_method(&mut p)?;
    let request_three_d_secure = parse_request_three_d_secure(&mut p, IGNORED_CARD_OPTIONS)?;
    p.ignore(&["mandate_data", "save_payment_method"]);
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut pi = get(state, &id)?.clone();
        check_client_secret("PaymentIntent", secret.as_deref(), &pi.client_secret, key)?;
        if let Some(pm_id) = payment_methods::resolve_param(state, ctx, pm)? {
            pi.payment_method = Some(pm_id);
        }
        update_opt(&mut pi.setup_future_usage, setup_future_usage);
        update_opt(&mut pi.receipt_email, receipt_email);
        if let Some(cm) = capture_method {
            pi.capture_method = cm;
        }
        if let Some(r) = request_three_d_secure {
            pi.payment_method_options.card.request_three_d_secure = r.into();
        }
        check_confirmable(state, &pi, &opts)?;
        state.payment_intents.insert(pi);
        state.last_snapshot = None;
        payments::confirm_pi(state, ctx, &id, &opts)?;
        render_snapshot(state, &id, |st| st.payment_intents.get(&id), &expand)
    }))
}

pub fn cancel(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let reason = p.one_of(
        "cancellation_reason",
        &[
            "duplicate",
            "fraudulent",
            "requested_by_customer",
            "abandoned",
        ],
    )?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut pi = get(state, &id)?.clone();
        if !matches!(
            pi.status,
            PiS::RequiresPaymentMethod
                | PiS::RequiresCapture
                | PiS::RequiresConfirmation
                | PiS::RequiresAction
                | PiS::Processing
        ) {
            return Err(ApiError::unexpected_state(format!(
                "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
                pi.status
            )));
        }
        if pi.status == PiS::RequiresCapture {
            // Releasing an uncaptured authorization refunds the charge in full.
            if let Some(ch_id) = &pi.latest_charge {
                if let Some(ch) = state.charges.get_mut(ch_id) {
                    ch.amount_refunded = ch.amount;
                    ch.refunded = true;
                    let snap = ch.clone();
                    state.emit(
                        ctx,
                        "charge.refunded",
                        &snap,
                        Some(serde_json::json!({"amount_refunded": 0, "refunded": false})),
                    );
                }
            }
            pi.amount_capturable = 0;
        }
        pi.status = PiS::Canceled;
        pi.canceled_at = Some(ctx.now);
        pi.cancellation_reason = reason;
        pi.next_action = None;
        state.emit(ctx, "payment_intent.canceled", &pi, None);
        state.payment_intents.insert(pi);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn capture(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let amount_to_capture = p.positive_int("amount_to_capture")?;
    let metadata = p.metadata()?;
    p.ignore(&["final_capture"]);
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut pi = get(state, &id)?.clone();
        if pi.status != PiS::RequiresCapture {
            return Err(ApiError::unexpected_state(format!(
                "This PaymentIntent could not be captured because it has a status of {}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                pi.status
            )));
        }
        let amount = amount_to_capture.unwrap_or(pi.amount_capturable);
        if amount > pi.amount_capturable {
            return Err(ApiError::invalid_param(
                "amount_to_capture",
                format!(
                    "The amount_to_capture ({amount}) must be less than or equal to the PaymentIntent's amount_capturable ({}).",
                    pi.amount_capturable
                ),
            )
            .with_code(stripe_types::error::code::AMOUNT_TOO_LARGE));
        }
        let ch_id = pi.latest_charge.clone().unwrap_or_default();
        let ch = state
            .charges
            .get_mut(&ch_id)
            .ok_or_else(|| ApiError::not_found("charge", &ch_id))?;
        ch.captured = true;
        ch.amount_captured = amount;
        ch.status = ChargeStatus::Succeeded;
        if ch.balance_transaction.is_none() {
            ch.balance_transaction = Some(new_id("txn"));
        }
        let snap = ch.clone();
        if let Some(m) = metadata {
            m.apply(&mut pi.metadata);
        }
        pi.amount_received = amount;
        pi.amount_capturable = 0;
        pi.status = PiS::Succeeded;
        state.emit(
            ctx,
            "charge.captured",
            &snap,
            Some(serde_json::json!({"amount_captured": 0, "captured": false})),
        );
        state.emit(ctx, "payment_intent.succeeded", &pi, None);
        let behaviour = payments::pm_behaviour(state, snap.payment_method.as_deref());
        state.payment_intents.insert(pi);
        payments::after_capture(state, ctx, &ch_id, behaviour)?;
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let customer = p.non_empty("customer")?;
    p.finish()?;
    Ok(lp.exec(
        |state| &state.payment_intents,
        "/v1/payment_intents",
        move |pi| matches_filter(&customer, pi.customer.as_deref()),
    ))
}
