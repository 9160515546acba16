//! Refunds: create (full, partial, several per charge), retrieve, update, list; refunds of
//! test card 5126 start `pending` and fail [`FAILS_AFTER`] seconds later.

use axum::http::StatusCode;
use serde_json::json;
use stripe_types::{ChargeStatus, PaymentIntentStatus, RefundReason, RefundStatus};

use super::{
    emit_changes, exec, json_before, payments, render, retrieve_with, ChargeFilter, Exec,
    ListParams,
};
use crate::cards::Behaviour;
use crate::error::{ApiError, ApiResult};
use crate::form::{MetadataUpdate, Params};
use crate::objects::*;
use crate::state::{Ctx, RefundFailure, State};
use crate::util::{fmt_amount, new_id, Null};

/// Sandbox seconds after its creation at which a refund of test card 5126
/// (`pm_card_refundFail`) fails.
pub const FAILS_AFTER: i64 = 60;

/// Stripe's `refund.failure_reason` values.
pub const FAILURE_REASONS: &[&str] =
    &["lost_or_stolen_card", "expired_or_canceled_card", "unknown"];

pub fn create(mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let charge = p.non_empty("charge")?;
    let payment_intent = p.non_empty("payment_intent")?;
    if charge.is_none() && payment_intent.is_none() {
        return Err(ApiError::invalid(
            "One of the following params should be provided for this request: payment_intent or charge.",
        ));
    }
    let amount = p.positive_int("amount")?;
    let reason = match p.one_of(
        "reason",
        &["duplicate", "fraudulent", "requested_by_customer"],
    )? {
        Some(r) => RefundReason::parse(&r),
        None => None,
    };
    let metadata = p.metadata()?;
    p.ignore(&[
        "instructions_email",
        "refund_application_fee",
        "reverse_transfer",
    ]);
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let charge_id = match (&charge, &payment_intent) {
            (Some(c), _) => c.clone(),
            (None, Some(pi_id)) => {
                let pi = state.payment_intents.get(pi_id).ok_or_else(|| {
                    ApiError::no_such(
                        StatusCode::BAD_REQUEST,
                        "payment_intent",
                        pi_id,
                        "payment_intent",
                    )
                })?;
                if pi.status != PaymentIntentStatus::Succeeded {
                    return Err(ApiError::invalid_param(
                        "payment_intent",
                        format!(
                            "This PaymentIntent ({pi_id}) does not have a successful charge to refund."
                        ),
                    ));
                }
                pi.latest_charge.clone().unwrap_or_default()
            }
            (None, None) => unreachable!("validated"),
        };
        let ch = state.charges.get(&charge_id).ok_or_else(|| {
            ApiError::no_such(StatusCode::BAD_REQUEST, "charge", &charge_id, "charge")
        })?;
        if let (Some(pi), Some(cpi)) = (&payment_intent, &ch.payment_intent) {
            if pi != cpi {
                return Err(ApiError::invalid_param(
                    "charge",
                    format!("Charge {charge_id} does not belong to PaymentIntent {pi}."),
                ));
            }
        }
        if ch.status != ChargeStatus::Succeeded || !ch.captured {
            return Err(ApiError::invalid_param(
                "charge",
                format!("Charge {charge_id} has not been captured or did not succeed; there is nothing to refund."),
            ));
        }
        if ch.disputed {
            // A chargeback blocks refunds until it is won; an inquiry does not
            // (`is_charge_refundable`).
            let open = state.disputes.iter().any(|d| {
                d.charge == charge_id
                    && !d.is_charge_refundable
                    && d.status != stripe_types::DisputeStatus::Won
            });
            if open {
                return Err(ApiError::invalid(format!(
                    "Charge {charge_id} has been charged back; cannot issue a refund."
                ))
                .with_code("charge_disputed"));
            }
        }
        let remaining = ch.amount_captured - ch.amount_refunded;
        if remaining <= 0 {
            return Err(ApiError::invalid(format!(
                "Charge {charge_id} has already been refunded."
            ))
            .with_code(stripe_types::error::code::CHARGE_ALREADY_REFUNDED));
        }
        let amount = amount.unwrap_or(remaining);
        if amount > remaining {
            return Err(ApiError::invalid_param(
                "amount",
                format!(
                    "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                    fmt_amount(amount, ch.currency),
                    fmt_amount(remaining, ch.currency)
                ),
            ));
        }
        // Test card 5126: the refund is accepted, then fails once the card network answers.
        let fails_later =
            payments::pm_behaviour(state, ch.payment_method.as_deref()) == Behaviour::RefundFail;
        let refund = Refund {
            id: new_id("re"),
            object: RefundTag,
            amount,
            balance_transaction: Some(new_id("txn")),
            charge: Some(charge_id.clone()),
            created: ctx.now,
            currency: ch.currency,
            destination_details: RefundDestinationDetails {
                card: RefundCardDetails {
                    reference: None,
                    reference_status: "pending".into(),
                    reference_type: "acquirer_reference_number".into(),
                    kind: "refund".into(),
                },
                kind: "card".into(),
            },
            failure_balance_transaction: None,
            failure_reason: None,
            metadata: metadata.map(MetadataUpdate::into_map).unwrap_or_default(),
            payment_intent: ch.payment_intent.clone(),
            reason,
            receipt_number: Null,
            source_transfer_reversal: Null,
            status: if fails_later {
                RefundStatus::Pending
            } else {
                RefundStatus::Succeeded
            },
            transfer_reversal: Null,
        };
        let ch = state.charges.get_mut(&charge_id).expect("exists");
        let prev = json!({"amount_refunded": ch.amount_refunded, "refunded": ch.refunded});
        ch.amount_refunded += amount;
        ch.refunded = ch.amount_refunded >= ch.amount_captured;
        let ch_snap = ch.clone();
        let id = refund.id.clone();
        state.emit(ctx, "refund.created", &refund, None);
        state.emit(ctx, "charge.refunded", &ch_snap, Some(prev));
        state.refunds.insert(refund);
        payments::refresh_efw_actionable(state, ctx, &charge_id);
        if fails_later {
            state.refund_failures.push(RefundFailure {
                refund: id.clone(),
                at: ctx.now + FAILS_AFTER,
            });
        }
        render(state, state.refunds.get(&id).expect("exists"), &expand)
    }))
}

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a Refund> {
    state
        .refunds
        .get(id)
        .ok_or_else(|| ApiError::not_found("refund", id))
}

pub fn retrieve(id: String, p: Params) -> ApiResult<Exec> {
    retrieve_with(id, p, get)
}

pub fn update(id: String, mut p: Params) -> ApiResult<Exec> {
    let expand = p.expand()?;
    let metadata = p.metadata()?;
    p.finish()?;
    Ok(exec(move |state, ctx| {
        let mut r = get(state, &id)?.clone();
        let before = json_before(&r);
        if let Some(m) = metadata {
            m.apply(&mut r.metadata);
        }
        emit_changes(state, ctx, "refund.updated", &before, &r);
        state.refunds.insert(r);
        render(state, get(state, &id)?, &expand)
    }))
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let filter = ChargeFilter::take(&mut p)?;
    p.finish()?;
    Ok(lp.exec(
        |state| &state.refunds,
        "/v1/refunds",
        move |r| filter.matches(r.charge.as_deref(), r.payment_intent.as_deref()),
    ))
}

/// A refund fails after the fact (control API): the money returns to the balance.
pub fn fail(state: &mut State, ctx: &Ctx, id: &str, reason: &str) -> ApiResult<Refund> {
    let mut r = get(state, id)?.clone();
    if r.status == RefundStatus::Failed || r.status == RefundStatus::Canceled {
        return Err(ApiError::invalid(format!(
            "Refund {id} has a status of {} and cannot fail.",
            r.status
        )));
    }
    let prev = json!({"status": r.status.as_str(), "failure_reason": null, "failure_balance_transaction": null});
    r.status = RefundStatus::Failed;
    r.failure_reason = Some(reason.to_owned());
    r.failure_balance_transaction = Some(new_id("txn"));
    state.refund_failures.retain(|x| x.refund != id);
    if let Some(ch_id) = &r.charge {
        if let Some(ch) = state.charges.get_mut(ch_id) {
            let ch_prev = json!({"amount_refunded": ch.amount_refunded, "refunded": ch.refunded});
            ch.amount_refunded -= r.amount;
            ch.refunded = false;
            let snap = ch.clone();
            state.emit(ctx, "charge.updated", &snap, Some(ch_prev));
        }
    }
    state.emit(ctx, "refund.updated", &r, Some(prev.clone()));
    state.emit(ctx, "refund.failed", &r, Some(prev));
    state.refunds.insert(r.clone());
    if let Some(ch_id) = &r.charge {
        payments::refresh_efw_actionable(state, ctx, ch_id);
    }
    Ok(r)
}

/// Fails the refunds of test card 5126 that are due at `ctx.now`.
pub fn run_timers(state: &mut State, ctx: &Ctx) {
    let due: Vec<String> = state
        .refund_failures
        .iter()
        .filter(|x| x.at <= ctx.now)
        .map(|x| x.refund.clone())
        .collect();
    for id in due {
        state.refund_failures.retain(|x| x.refund != id);
        let _ = fail(state, ctx, &id, "expired_or_canceled_card");
    }
}

/// The earliest sandbox time at which [`run_timers`] has something to do.
pub fn next_timer(state: &State) -> Option<i64> {
    state.refund_failures.iter().map(|x| x.at).min()
}
