//! SetupIntents: create, retrieve, update, confirm, cancel, list.

use axum::http::StatusCode;
use stripe_types::SetupIntentStatus as SiS;

use super::payment_methods::{self, parse_spec, PmSpec};
use super::payments::{self, check_setup_confirmable, ConfirmOpts};
use super::{
    check_client_secret, customers, exec, matches_filter, new_intent, parse_payment_method_types,
    parse_request_three_d_secure, render, take_client_secret, update_opt, Exec, KeyKind,
    ListParams,
};
use crate::error::{ApiError, ApiResult};
use crate::form::{MetadataUpdate, Params};
use crate::objects::*;
use crate::state::{Ctx, State};
use crate::util::{client_secret, new_id, Null};

struct CreateReq {
    customer: Option<String>,
    description: Option<String>,
    metadata: Option<MetadataUpdate>,
    pm: Option<PmSpec>,
    types: Option<Vec<String>>,
    apm: Option<AutomaticPaymentMethods>,
    usage: String,
    confirm: bool,
    opts: ConfirmOpts,
    rtds: Option<String>,
    expand: Vec<String>,
}

pub fn create(mut p: Params, key: KeyKind) -> ApiResult<Exec> {
    let types = parse_payment_method_types(&mut p)?;
    let apm = match p.map("automatic_payment_methods")? {
        Some(mut a) => {
            let enabled = a.bool("enabled")?.unwrap_or(false);
            let allow_redirects = a
                .one_of("allow_redirects", &["always", "never"])?
                .unwrap_or_else(|| "always".to_owned());
            a.finish()?;
            Some(AutomaticPaymentMethods {
                allow_redirects: allow_redirects.into(),
                enabled,
            })
        }
        None => None,
    };
    let confirm = p.bool("confirm")?.unwrap_or(false);
    let req = CreateReq {
        customer: p.non_empty("customer")?,
        description: p.non_empty("description")?,
        metadata: p.metadata()?,
        pm: parse_spec(&mut p, key)?,
        types,
        apm,
        usage: p
            .one_of("usage", &["off_session", "on_session"])?
            .unwrap_or_else(|| "off_session".to_owned()),
        confirm,
        opts: ConfirmOpts {
            off_session: false,
            error_on_requires_action: false,
            return_url: p.non_empty("return_url")?,
            use_stripe_sdk: p.bool("use_stripe_sdk")?.unwrap_or(false),
            publishable: false,
        },
        rtds: parse_request_three_d_secure(&mut p, &[])?,
        expand: p.expand()?,
    };
    p.ignore(&["mandate_data", "single_use", "flow_directions"]);
    p.finish()?;
    Ok(exec(move |state, ctx| create_exec(state, ctx, req)))
}

fn create_exec(state: &mut State, ctx: &Ctx, req: CreateReq) -> ApiResult<bytes::Bytes> {
    let new = new_intent(
        state,
        ctx,
        req.customer.as_deref(),
        req.pm,
        req.types,
        req.apm,
    )?;
    let pm = new.payment_method;
    let id = new_id("seti");
    let si = SetupIntent {
        client_secret: client_secret(&id),
        id: id.clone(),
        object: SetupIntentTag,
        application: Null,
        automatic_payment_methods: new.automatic_payment_methods,
        cancellation_reason: None,
        created: ctx.now,
        customer: req.customer,
        description: req.description,
        flow_directions: Null,
        last_setup_error: None,
        latest_attempt: None,
        livemode: false,
        mandate: Null,
        metadata: req
            .metadata
            .map(MetadataUpdate::into_map)
            .unwrap_or_default(),
        next_action: None,
        on_behalf_of: Null,
        status: if pm.is_some() {
            SiS::RequiresConfirmation
        } else {
            SiS::RequiresPaymentMethod
        },
        payment_method: pm,
        payment_method_configuration_details: Null,
        payment_method_options: SiPaymentMethodOptions {
            card: SiCardOptions {
                mandate_options: Null,
                network: Null,
                request_three_d_secure: req.rtds.map_or("automatic".into(), Into::into),
            },
        },
        payment_method_types: new.payment_method_types,
        single_use_mandate: Null,
        usage: req.usage.into(),
    };
    if req.confirm {
        check_setup_confirmable(state, &si, &req.opts)?;
    }
    state.emit(ctx, "setup_intent.created", &si, None);
    state.setup_intents.insert(si);
    if req.confirm {
        payments::confirm_si(state, ctx, &id, &req.opts)?;
    }
    render(
        state,
        state.setup_intents.get(&id).expect("exists"),
        &req.expand,
    )
}

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a SetupIntent> {
    state
        .setup_intents
        .get(id)
        .ok_or_else(|| ApiError::no_such(StatusCode::NOT_FOUND, "setup_intent", id, "intent"))
}

pub fn retrieve(id: String, mut p: Params, key: KeyKind) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let secret = take_client_secret(&mut p, key, &[])?;
    p.finish()?;
    Ok(exec(move |state, _ctx| {
        let si = get(state, &id)?;
        check_client_secret("SetupIntent", secret.as_deref(), &si.client_secret, key)?;
        render(state, si, &expand)
    }))
}

pub fn update(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let customer = p.str("customer")?;
    let description = p.str("description")?;
    let metadata = p.metadata()?;
    let pm = parse_spec(&mut p, KeyKind::Secret)?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut si = get(state, &id)?.clone();
        if (customer.is_some() || pm.is_some())
            && !matches!(
                si.status,
                SiS::RequiresPaymentMethod | SiS::RequiresConfirmation | SiS::RequiresAction
            )
        {
            return Err(ApiError::invalid(format!(
                "You cannot update this SetupIntent because it has a status of {}.",
                si.status
            ))
            .with_code("setup_intent_unexpected_state"));
        }
        customers::update_param(state, &mut si.customer, customer)?;
        update_opt(&mut si.description, description);
        if let Some(m) = metadata {
            m.apply(&mut si.metadata);
        }
        if let Some(pm_id) = payment_methods::resolve_param(state, ctx, pm)? {
            si.payment_method = Some(pm_id);
            si.status = SiS::RequiresConfirmation;
            si.next_action = None;
        }
        state.dirty = true;
        state.setup_intents.insert(si);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn confirm(id: String, mut p: Params, key: KeyKind) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let secret = take_client_secret(&mut p, key, &[])?;
    let pm = parse_spec(&mut p, key)?;
    let opts = ConfirmOpts {
        off_session: false,
        error_on_requires_action: false,
        return_url: p.non_empty("return_url")?,
        use_stripe_sdk: p.bool("use_stripe_sdk")?.unwrap_or(false),
        publishable: key == KeyKind::Publishable,
    };
    p.ignore(&["mandate_data"]);
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut si = get(state, &id)?.clone();
        check_client_secret("SetupIntent", secret.as_deref(), &si.client_secret, key)?;
        if let Some(pm_id) = payment_methods::resolve_param(state, ctx, pm)? {
            si.payment_method = Some(pm_id);
        }
        check_setup_confirmable(state, &si, &opts)?;
        state.setup_intents.insert(si);
        payments::confirm_si(state, ctx, &id, &opts)?;
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn cancel(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let reason = p.one_of(
        "cancellation_reason",
        &["abandoned", "duplicate", "requested_by_customer"],
    )?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut si = get(state, &id)?.clone();
        if matches!(si.status, SiS::Succeeded | SiS::Canceled | SiS::Processing) {
            return Err(ApiError::invalid(format!(
                "You cannot cancel this SetupIntent because it has a status of {}.",
                si.status
            ))
            .with_code("setup_intent_unexpected_state"));
        }
        si.status = SiS::Canceled;
        si.cancellation_reason = reason;
        si.next_action = None;
        state.emit(ctx, "setup_intent.canceled", &si, None);
        state.setup_intents.insert(si);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let customer = p.non_empty("customer")?;
    let pm = p.non_empty("payment_method")?;
    p.finish()?;
    Ok(lp.exec(
        |state| &state.setup_intents,
        "/v1/setup_intents",
        move |si| {
            matches_filter(&customer, si.customer.as_deref())
                && matches_filter(&pm, si.payment_method.as_deref())
        },
    ))
}
