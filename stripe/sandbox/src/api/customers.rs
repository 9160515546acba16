//! Customers: create, retrieve, update, delete, list.

use axum::http::StatusCode;
use serde_json::json;

use super::payment_methods::{self, parse_address, PmSpec};
use super::{
    emit_changes, exec, json_before, matches_filter, render, update_opt, Exec, ListParams,
};
use crate::error::{ApiError, ApiResult};
use crate::form::{MetadataUpdate, Params};
use crate::objects::*;
use crate::state::State;
use crate::util::{new_id, Null};

struct Fields {
    email: Option<String>,
    name: Option<String>,
    description: Option<String>,
    phone: Option<String>,
    metadata: Option<MetadataUpdate>,
    address: Option<Option<Address>>,
    payment_method: Option<String>,
    default_pm: Option<String>,
}

fn parse_fields(p: &mut Params) -> ApiResult<Fields> {
    let address = if p.has("address") {
        match p.map("address")? {
            Some(mut a) => {
                let addr = parse_address(&mut a)?;
                a.finish()?;
                Some(Some(addr))
            }
            None => Some(None),
        }
    } else {
        None
    };
    let default_pm = match p.map("invoice_settings")? {
        Some(mut s) => {
            let pm = s.str("default_payment_method")?;
            s.finish()?;
            pm
        }
        None => None,
    };
    Ok(Fields {
        email: p.str("email")?,
        name: p.str("name")?,
        description: p.str("description")?,
        phone: p.str("phone")?,
        metadata: p.metadata()?,
        address,
        payment_method: p.non_empty("payment_method")?,
        default_pm,
    })
}

fn apply(state: &mut State, ctx: &crate::state::Ctx, c: &mut Customer, f: Fields) -> ApiResult<()> {
    update_opt(&mut c.email, f.email);
    update_opt(&mut c.name, f.name);
    update_opt(&mut c.description, f.description);
    update_opt(&mut c.phone, f.phone);
    if let Some(m) = f.metadata {
        m.apply(&mut c.metadata);
    }
    if let Some(a) = f.address {
        c.address = a;
    }
    if let Some(pm) = f.payment_method {
        let pm = payment_methods::resolve(state, ctx, PmSpec::Id(pm), "payment_method")?;
        payment_methods::attach_to(state, ctx, &pm, &c.id)?;
    }
    if let Some(pm) = f.default_pm {
        if pm.is_empty() {
            c.invoice_settings.default_payment_method = None;
        } else {
            let owner = state
                .payment_methods
                .get(&pm)
                .map(|r| r.pm.customer.clone());
            match owner {
                Some(Some(owner)) if owner == c.id => {}
                Some(_) => {
                    return Err(ApiError::invalid_param(
                        "invoice_settings[default_payment_method]",
                        format!("The customer does not have a payment method with the ID {pm}. The payment method must be attached to the customer."),
                    ))
                }
                None => {
                    return Err(ApiError::no_such(
                        StatusCode::BAD_REQUEST,
                        "PaymentMethod",
                        &pm,
                        "invoice_settings[default_payment_method]",
                    ))
                }
            }
            c.invoice_settings.default_payment_method = Some(pm);
        }
    }
    Ok(())
}

pub fn create(mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let f = parse_fields(&mut p)?;
    p.ignore(&["preferred_locales", "shipping", "tax_exempt"]);
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut c = Customer {
            id: new_id("cus"),
            object: CustomerTag,
            address: None,
            balance: 0,
            created: ctx.now,
            currency: None,
            default_source: Null,
            delinquent: false,
            description: None,
            discount: Null,
            email: None,
            invoice_prefix: new_id("x")[2..10].to_ascii_uppercase(),
            invoice_settings: InvoiceSettings {
                custom_fields: Null,
                default_payment_method: None,
                footer: Null,
                rendering_options: Null,
            },
            livemode: false,
            metadata: Metadata::new(),
            name: None,
            next_invoice_sequence: 1,
            phone: None,
            preferred_locales: Vec::new(),
            shipping: Null,
            tax_exempt: "none".into(),
            test_clock: Null,
            deleted: false,
        };
        let id = c.id.clone();
        // The customer must exist before a payment_method can be attached to it.
        let payment_method = f.payment_method.clone();
        let first = Fields {
            payment_method: None,
            default_pm: None,
            ..f
        };
        apply(state, ctx, &mut c, first)?;
        state.emit(ctx, "customer.created", &c, None);
        state.customers.insert(c);
        if let Some(pm) = payment_method {
            let pm = payment_methods::resolve(state, ctx, PmSpec::Id(pm), "payment_method")?;
            payment_methods::attach_to(state, ctx, &pm, &id)?;
        }
        render(state, state.customers.get(&id).expect("exists"), &expand)
    }))
}

/// Whether `id` is a Customer that has not been deleted.
pub fn exists(state: &State, id: &str) -> bool {
    state.customers.get(id).is_some_and(|c| !c.deleted)
}

/// A `customer` parameter must name a Customer that has not been deleted.
pub fn check_param(state: &State, id: &str) -> ApiResult<()> {
    if exists(state, id) {
        Ok(())
    } else {
        Err(ApiError::no_such(
            StatusCode::BAD_REQUEST,
            "customer",
            id,
            "customer",
        ))
    }
}

/// Updates the `customer` of an intent: `""` unsets it; any other value must name a
/// Customer that has not been deleted.
pub fn update_param(
    state: &State,
    target: &mut Option<String>,
    value: Option<String>,
) -> ApiResult<()> {
    if let Some(c) = &value {
        if !c.is_empty() {
            check_param(state, c)?;
        }
    }
    update_opt(target, value);
    Ok(())
}

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a Customer> {
    match state.customers.get(id) {
        Some(c) if !c.deleted => Ok(c),
        _ => Err(ApiError::not_found("customer", id)),
    }
}

pub fn retrieve(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    p.finish()?;
    Ok(exec(move |state, _ctx| match state.customers.get(&id) {
        Some(c) if c.deleted => Ok(serde_json::to_vec(
            &json!({"id": c.id, "object": "customer", "deleted": true}),
        )
        .expect("json")
        .into()),
        Some(c) => render(state, c, &expand),
        None => Err(ApiError::not_found("customer", &id)),
    }))
}

pub fn update(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let f = parse_fields(&mut p)?;
    p.ignore(&["preferred_locales", "shipping", "tax_exempt"]);
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut c = get(state, &id)?.clone();
        let before = json_before(&c);
        apply(state, ctx, &mut c, f)?;
        emit_changes(state, ctx, "customer.updated", &before, &c);
        state.customers.insert(c);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn delete(id: String, p: Params) -> ApiResult<Exec> {
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let c = get(state, &id)?.clone();
        state.emit(ctx, "customer.deleted", &c, None);
        for rec in state.payment_methods.iter_mut() {
            if rec.pm.customer.as_deref() == Some(id.as_str()) {
                rec.pm.customer = None;
                rec.consumed = true;
            }
        }
        let stored = state.customers.get_mut(&id).expect("exists");
        stored.deleted = true;
        Ok(
            serde_json::to_vec(&json!({"id": id, "object": "customer", "deleted": true}))
                .expect("json")
                .into(),
        )
    }))
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let email = p.non_empty("email")?;
    p.ignore(&["test_clock"]);
    p.finish()?;
    Ok(lp.exec(
        |state| &state.customers,
        "/v1/customers",
        move |c| !c.deleted && matches_filter(&email, c.email.as_deref()),
    ))
}
