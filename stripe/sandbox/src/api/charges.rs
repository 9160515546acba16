//! Charges: retrieve, update (metadata/description), list.

use super::{
    emit_changes, exec, json_before, matches_filter, render, retrieve_with, update_opt, Exec,
    ListParams,
};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::objects::Charge;
use crate::state::State;

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a Charge> {
    state
        .charges
        .get(id)
        .ok_or_else(|| ApiError::not_found("charge", id))
}

pub fn retrieve(id: String, p: Params) -> ApiResult<Exec> {
    retrieve_with(id, p, get)
}

pub fn update(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let metadata = p.metadata()?;
    let description = p.str("description")?;
    let receipt_email = p.str("receipt_email")?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut ch = get(state, &id)?.clone();
        let before = json_before(&ch);
        if let Some(m) = metadata {
            m.apply(&mut ch.metadata);
        }
        update_opt(&mut ch.description, description);
        update_opt(&mut ch.receipt_email, receipt_email);
        emit_changes(state, ctx, "charge.updated", &before, &ch);
        state.charges.insert(ch);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let customer = p.non_empty("customer")?;
    let payment_intent = p.non_empty("payment_intent")?;
    p.finish()?;
    Ok(lp.exec(
        |state| &state.charges,
        "/v1/charges",
        move |c| {
            matches_filter(&customer, c.customer.as_deref())
                && matches_filter(&payment_intent, c.payment_intent.as_deref())
        },
    ))
}
