//! SetupIntents: create, retrieve, update, confirm, cancel, list.

use axum::http::StatusCode;
use stripe_types::SetupIntentStatus as SiS;

use super::payment_methods::{self, parse_spec, PmSpec};
use super::payments::{self, check_setup_confirmable, ConfirmOpts};
use super::{
    check_client_secret, exec, render, render_list, update_opt, Exec, KeyKind, ListParams,
};
use crate::error::{ApiError, ApiResult};
use crate::form::{MetadataUpdate, Params};
use crate::objects::*;
use crate::state::{Ctx, State};
use crate::util::{client_secret, new_id, Null};

const STRIPE_JS_FIELDS: &[&str] = &[
    "key",
    "_stripe_version",
    "payment_user_agent",
    "time_on_page",
    "guid",
    "muid",
    "sid",
    "referrer",
    "expected_payment_method_type",
    "client_context",
];

fn parse_rtds(p: &mut Params) -> ApiResult<Option<String>> {
    let Some(mut pmo) = p.map("payment_method_options")? else {
        return Ok(None);
    };
    let mut out = None;
    if let Some(mut card) = pmo.map("card")? {
        out = card.one_of("request_three_d_secure", &["automatic", "any", "challenge"])?;
        card.finish()?;
    }
    pmo.finish()?;
    Ok(out)
}

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
    let types = p.str_list("payment_method_types")?;
    if let Some(t) = types.iter().flatten().find(|t| *t != "card") {
        return Err(ApiError::invalid_param(
            "payment_method_types",
            format!(
                "The payment method type \"{t}\" is invalid. The sandbox supports only \"card\"."
            ),
        ));
    }
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
        rtds: parse_rtds(&mut p)?,
        expand: p.expand()?,
    };
    p.ignore(&["mandate_data", "single_use", "flow_directions"]);
    p.finish()?;
    Ok(exec(move |state, ctx| create_exec(state, ctx, req)))
}

fn create_exec(state: &mut State, ctx: &Ctx, req: CreateReq) -> ApiResult<bytes::Bytes> {
    if let Some(c) = &req.customer {
        if state.customers.get(c).is_none_or(|c| c.deleted) {
            return Err(ApiError::no_such(
                StatusCode::BAD_REQUEST,
                "customer",
                c,
                "customer",
            ));
        }
    }
    let pm = match req.pm {
        Some(spec) => Some(payment_methods::resolve(
            state,
            ctx,
            spec,
            "payment_method",
        )?),
        None => None,
    };
    let id = new_id("seti");
    let (types, apm) = match req.types {
        Some(t) => (t, None),
        None => (
            vec!["card".to_owned()],
            Some(req.apm.unwrap_or(AutomaticPaymentMethods {
                allow_redirects: "always".into(),
                enabled: true,
            })),
        ),
    };
    let si = SetupIntent {
        client_secret: client_secret(&id),
        id: id.clone(),
        object: SetupIntentTag,
        application: Null,
        automatic_payment_methods: apm,
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
        payment_method_types: types.into_iter().map(Into::into).collect(),
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
    let secret = p.non_empty("client_secret")?;
    if key == KeyKind::Publishable {
        p.ignore(STRIPE_JS_FIELDS);
        if secret.is_none() {
            return Err(ApiError::missing_param("client_secret"));
        }
    }
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
        if let Some(c) = customer {
            if !c.is_empty() && state.customers.get(&c).is_none_or(|x| x.deleted) {
                return Err(ApiError::no_such(
                    StatusCode::BAD_REQUEST,
                    "customer",
                    &c,
                    "customer",
                ));
            }
            update_opt(&mut si.customer, Some(c));
        }
        update_opt(&mut si.description, description);
        if let Some(m) = metadata {
            m.apply(&mut si.metadata);
        }
        if let Some(spec) = pm {
            si.payment_method = Some(payment_methods::resolve(
                state,
                ctx,
                spec,
                "payment_method",
            )?);
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
    let secret = p.non_empty("client_secret")?;
    if key == KeyKind::Publishable {
        p.ignore(STRIPE_JS_FIELDS);
        if secret.is_none() {
            return Err(ApiError::missing_param("client_secret"));
        }
    }
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
        if let Some(spec) = pm {
            si.payment_method = Some(payment_methods::resolve(
                state,
                ctx,
                spec,
                "payment_method",
            )?);
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
    Ok(exec(move |state, _ctx| {
        let (items, has_more) = lp.page(&state.setup_intents, |si| {
            (customer.is_none() || si.customer == customer)
                && (pm.is_none() || si.payment_method == pm)
        })?;
        render_list(state, items, has_more, "/v1/setup_intents", &lp.expand)
    }))
}
