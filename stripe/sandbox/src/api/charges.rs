//! Charges: retrieve, update (metadata/description), list.

use super::{exec, render, render_list, update_opt, Exec, ListParams};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::objects::Charge;
use crate::state::{previous_attributes, State};

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a Charge> {
    state
        .charges
        .get(id)
        .ok_or_else(|| ApiError::not_found("charge", id))
}

pub fn retrieve(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    p.finish()?;
    Ok(exec(move |state, _ctx| {
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn update(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let metadata = p.metadata()?;
    let description = p.str("description")?;
    let receipt_email = p.str("receipt_email")?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut ch = get(state, &id)?.clone();
        let before = serde_json::to_value(&ch).expect("json");
        if let Some(m) = metadata {
            m.apply(&mut ch.metadata);
        }
        update_opt(&mut ch.description, description);
        update_opt(&mut ch.receipt_email, receipt_email);
        let after = serde_json::to_value(&ch).expect("json");
        if let Some(prev) = previous_attributes(&before, &after) {
            state.emit(ctx, "charge.updated", &ch, Some(prev));
        }
        state.charges.insert(ch);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let customer = p.non_empty("customer")?;
    let payment_intent = p.non_empty("payment_intent")?;
    p.finish()?;
    Ok(exec(move |state, _ctx| {
        let (items, has_more) = lp.page(&state.charges, |c| {
            (customer.is_none() || c.customer == customer)
                && (payment_intent.is_none() || c.payment_intent == payment_intent)
        })?;
        render_list(state, items, has_more, "/v1/charges", &lp.expand)
    }))
}
