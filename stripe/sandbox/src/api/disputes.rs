//! Disputes (retrieve, update evidence, close, list), their outcomes and deadlines, and
//! Radar early fraud warnings (retrieve, list).

use serde_json::json;
use stripe_types::DisputeStatus as DS;

use super::{
    emit_changes, exec, json_before, render, retrieve_with, ChargeFilter, Exec, ListParams,
};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::objects::*;
use crate::state::{Ctx, DisputeDecision, State};
use crate::util::new_id;

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a Dispute> {
    state
        .disputes
        .get(id)
        .ok_or_else(|| ApiError::not_found("dispute", id))
}

pub fn retrieve(id: String, p: Params) -> ApiResult<Exec> {
    retrieve_with(id, p, get)
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let filter = ChargeFilter::take(&mut p)?;
    p.finish()?;
    Ok(lp.exec(
        |state| &state.disputes,
        "/v1/disputes",
        move |d| filter.matches(Some(&d.charge), d.payment_intent.as_deref()),
    ))
}

fn is_open(status: DS) -> bool {
    matches!(
        status,
        DS::NeedsResponse | DS::WarningNeedsResponse | DS::UnderReview | DS::WarningUnderReview
    )
}

pub fn update(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let metadata = p.metadata()?;
    let submit = p.bool("submit")?.unwrap_or(true);
    let mut evidence = Vec::new();
    if let Some(mut e) = p.map("evidence")? {
        for field in EVIDENCE_FIELDS {
            if let Some(v) = e.str(field)? {
                evidence.push(((*field).to_owned(), v));
            }
        }
        e.finish()?;
    }
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut d = get(state, &id)?.clone();
        if (!evidence.is_empty() || submit)
            && !matches!(d.status, DS::NeedsResponse | DS::WarningNeedsResponse)
        {
            {
                return Err(ApiError::invalid(format!(
                    "This dispute is already closed or under review (status {}); evidence can no longer be submitted.",
                    d.status
                )));
            }
        }
        let before = json_before(&d);
        for (k, v) in evidence {
            d.evidence
                .insert(k, if v.is_empty() { None } else { Some(v) });
        }
        if let Some(m) = metadata {
            m.apply(&mut d.metadata);
        }
        d.evidence_details.has_evidence = d.evidence.values().any(Option::is_some);
        if submit && matches!(d.status, DS::NeedsResponse | DS::WarningNeedsResponse) {
            d.evidence_details.submission_count += 1;
            d.status = if d.status == DS::NeedsResponse {
                DS::UnderReview
            } else {
                DS::WarningUnderReview
            };
            // Stripe's test evidence: `winning_evidence` / `losing_evidence` decide the dispute.
            let text = d.evidence.get("uncategorized_text").cloned().flatten();
            let won = match text.as_deref() {
                Some("winning_evidence") => Some(true),
                Some("losing_evidence") => Some(false),
                _ => None,
            };
            if let Some(won) = won {
                state.dispute_decisions.push(DisputeDecision {
                    dispute: d.id.clone(),
                    at: ctx.now + 60,
                    won,
                });
            }
        }
        emit_changes(state, ctx, "charge.dispute.updated", &before, &d);
        state.disputes.insert(d);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn close(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let d = get(state, &id)?;
        if !matches!(d.status, DS::NeedsResponse | DS::WarningNeedsResponse) {
            return Err(ApiError::invalid(format!(
                "This dispute has a status of {} and cannot be closed.",
                d.status
            )));
        }
        decide(state, ctx, &id, false)?;
        render(state, get(state, &id)?, &expand)
    }))
}

/// Closes a dispute as won or lost (inquiries close as `warning_closed`).
pub fn decide(state: &mut State, ctx: &Ctx, id: &str, won: bool) -> ApiResult<Dispute> {
    let mut d = get(state, id)?.clone();
    if !is_open(d.status) {
        return Err(ApiError::invalid(format!(
            "Dispute {id} is already closed (status {}).",
            d.status
        )));
    }
    let prev = json!({"status": d.status.as_str()});
    let inquiry = matches!(d.status, DS::WarningNeedsResponse | DS::WarningUnderReview);
    d.status = if inquiry {
        DS::WarningClosed
    } else if won {
        DS::Won
    } else {
        DS::Lost
    };
    let reinstated = won && !inquiry && !d.balance_transactions.is_empty();
    if reinstated {
        d.balance_transactions.push(BalanceTransaction {
            id: new_id("txn"),
            object: BalanceTransactionTag,
            amount: d.amount,
            available_on: ctx.now,
            created: ctx.now,
            currency: d.currency,
            description: format!("Chargeback reversal for {}", d.charge),
            fee: -1500,
            net: d.amount + 1500,
            reporting_category: "dispute_reversal".into(),
            source: d.id.clone(),
            status: "available".into(),
            kind: "adjustment".into(),
        });
    }
    state.dispute_decisions.retain(|x| x.dispute != id);
    state.emit(ctx, "charge.dispute.closed", &d, Some(prev));
    if reinstated {
        state.emit(ctx, "charge.dispute.funds_reinstated", &d, None);
    }
    state.disputes.insert(d.clone());
    Ok(d)
}

/// Deadlines and scheduled outcomes that are due at `ctx.now`.
pub fn run_timers(state: &mut State, ctx: &Ctx) {
    let due: Vec<DisputeDecision> = state
        .dispute_decisions
        .iter()
        .filter(|x| x.at <= ctx.now)
        .cloned()
        .collect();
    for x in due {
        let _ = decide(state, ctx, &x.dispute, x.won);
        state.dispute_decisions.retain(|y| y.dispute != x.dispute);
    }
    let past_due: Vec<String> = state
        .disputes
        .iter()
        .filter(|d| {
            matches!(d.status, DS::NeedsResponse | DS::WarningNeedsResponse)
                && d.evidence_details.due_by.is_some_and(|t| t <= ctx.now)
        })
        .map(|d| d.id.clone())
        .collect();
    for id in past_due {
        if let Some(d) = state.disputes.get_mut(&id) {
            d.evidence_details.past_due = true;
        }
        // No response by the deadline: the dispute is lost.
        let _ = decide(state, ctx, &id, false);
    }
}

/// The earliest sandbox time at which [`run_timers`] has something to do.
pub fn next_timer(state: &State) -> Option<i64> {
    let decisions = state.dispute_decisions.iter().map(|x| x.at);
    let deadlines = state
        .disputes
        .iter()
        .filter(|d| matches!(d.status, DS::NeedsResponse | DS::WarningNeedsResponse))
        .filter_map(|d| d.evidence_details.due_by);
    decisions.chain(deadlines).min()
}

fn get_efw<'a>(state: &'a State, id: &str) -> ApiResult<&'a EarlyFraudWarning> {
    state
        .early_fraud_warnings
        .get(id)
        .ok_or_else(|| ApiError::not_found("radar.early_fraud_warning", id))
}

pub fn retrieve_efw(id: String, p: Params) -> ApiResult<Exec> {
    retrieve_with(id, p, get_efw)
}

pub fn list_efw(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let filter = ChargeFilter::take(&mut p)?;
    p.finish()?;
    Ok(lp.exec(
        |state| &state.early_fraud_warnings,
        "/v1/radar/early_fraud_warnings",
        move |e| filter.matches(Some(&e.charge), e.payment_intent.as_deref()),
    ))
}
