//! Events: retrieve, list (by `type` or `types[]`).

use super::{retrieve_with, Exec, ListParams};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::objects::Event;
use crate::state::State;

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a Event> {
    state
        .events
        .get(id)
        .ok_or_else(|| ApiError::not_found("event", id))
}

pub fn retrieve(id: String, p: Params) -> ApiResult<Exec> {
    retrieve_with(id, p, get)
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
    Ok(lp.exec(
        |state| &state.events,
        "/v1/events",
        move |e| {
            kind.as_deref().is_none_or(|k| type_matches(k, &e.kind))
                && types
                    .as_ref()
                    .is_none_or(|ts| ts.iter().any(|t| type_matches(t, &e.kind)))
        },
    ))
}
