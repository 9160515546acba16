//! Events: retrieve, list (by `type` or `types[]`).

use super::{exec, render, render_list, Exec, ListParams};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;

pub fn retrieve(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    p.finish()?;
    Ok(exec(move |state, _ctx| {
        let e = state
            .events
            .get(&id)
            .ok_or_else(|| ApiError::not_found("event", &id))?;
        render(state, e, &expand)
    }))
}

fn type_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => kind.starts_with(prefix) && kind[prefix.len()..].starts_with('.'),
        None => pattern == kind,
    }
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let kind = p.non_empty("type")?;
    let types = p.str_list("types")?;
    p.ignore(&["delivery_success"]);
    p.finish()?;
    Ok(exec(move |state, _ctx| {
        let (items, has_more) = lp.page(&state.events, |e| {
            kind.as_deref().is_none_or(|k| type_matches(k, &e.kind))
                && types
                    .as_ref()
                    .is_none_or(|ts| ts.iter().any(|t| type_matches(t, &e.kind)))
        })?;
        render_list(state, items, has_more, "/v1/events", &lp.expand)
    }))
}
