//! Payouts: retrieve, list; created and moved on (in transit, paid, failed, canceled)
//! through the control API.

use serde_json::json;
use stripe_types::{ChargeStatus, Currency, PayoutStatus};

use super::{matches_filter, retrieve_with, Exec, ListParams};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::objects::*;
use crate::state::{Ctx, State};
use crate::util::{new_id, Null};

fn get<'a>(state: &'a State, id: &str) -> ApiResult<&'a Payout> {
    state
        .payouts
        .get(id)
        .ok_or_else(|| ApiError::not_found("payout", id))
}

pub fn retrieve(id: String, p: Params) -> ApiResult<Exec> {
    retrieve_with(id, p, get)
}

pub fn list(mut p: Params) -> ApiResult<Exec> {
    let lp = ListParams::take(&mut p)?;
    let status = p.non_empty("status")?;
    let _ = p.take("arrival_date");
    p.ignore(&["destination"]);
    p.finish()?;
    Ok(lp.exec(
        |state| &state.payouts,
        "/v1/payouts",
        move |po| matches_filter(&status, Some(po.status.as_str())),
    ))
}

/// Available balance in `currency`: captured charges − refunds − disputes − payouts.
pub fn balance(state: &State, currency: Currency) -> i64 {
    let charges: i64 = state
        .charges
        .iter()
        .filter(|c| c.currency == currency && c.status == ChargeStatus::Succeeded)
        .map(|c| c.amount_captured - c.amount_refunded)
        .sum();
    let disputes: i64 = state
        .disputes
        .iter()
        .filter(|d| d.currency == currency)
        .map(|d| d.balance_transactions.iter().map(|t| t.amount).sum::<i64>())
        .sum();
    let payouts: i64 = state
        .payouts
        .iter()
        .filter(|p| {
            p.currency == currency
                && p.status != PayoutStatus::Failed
                && p.status != PayoutStatus::Canceled
        })
        .map(|p| p.amount)
        .sum();
    charges + disputes - payouts
}

/// Creates a pending payout (what Stripe's automatic payout schedule does).
pub fn create(
    state: &mut State,
    ctx: &Ctx,
    amount: Option<i64>,
    currency: Currency,
) -> ApiResult<Payout> {
    let amount = match amount {
        Some(a) if a > 0 => a,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "amount",
                "The payout amount must be positive.",
            ))
        }
        None => {
            let b = balance(state, currency);
            if b <= 0 {
                return Err(ApiError::invalid_param(
                    "amount",
                    format!("There is no available {currency} balance to pay out; pass an amount."),
                ));
            }
            b
        }
    };
    let po = Payout {
        id: new_id("po"),
        object: PayoutTag,
        amount,
        application_fee: Null,
        application_fee_amount: Null,
        arrival_date: ctx.now + 2 * 86_400,
        automatic: true,
        balance_transaction: Some(new_id("txn")),
        created: ctx.now,
        currency,
        description: Some("STRIPE PAYOUT".into()),
        destination: Some("ba_sandbox_bank_account".into()),
        failure_balance_transaction: None,
        failure_code: None,
        failure_message: None,
        livemode: false,
        metadata: Metadata::new(),
        method: "standard".into(),
        original_payout: Null,
        reconciliation_status: "not_applicable".into(),
        reversed_by: Null,
        source_type: "card".into(),
        statement_descriptor: Null,
        status: PayoutStatus::Pending,
        kind: "bank_account".into(),
    };
    state.emit(ctx, "payout.created", &po, None);
    state.payouts.insert(po.clone());
    Ok(po)
}

/// What the control API does to a payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutOutcome {
    /// `pending` → `in_transit` (`payout.updated`).
    InTransit,
    /// `pending` / `in_transit` → `paid` (`payout.updated`, `payout.paid`).
    Paid,
    /// Fails with a failure code; also after `paid`, as a bank can return a payout days
    /// later (`payout.updated`, `payout.failed`).
    Failed(String),
    /// `pending` → `canceled` (`payout.updated`, `payout.canceled`).
    Canceled,
}

/// Moves a payout on: in transit, paid, failed (with a failure code) or canceled.
pub fn settle(state: &mut State, ctx: &Ctx, id: &str, outcome: PayoutOutcome) -> ApiResult<Payout> {
    use PayoutStatus as S;
    let mut po = get(state, id)?.clone();
    let allowed = match outcome {
        PayoutOutcome::InTransit | PayoutOutcome::Canceled => po.status == S::Pending,
        PayoutOutcome::Paid => matches!(po.status, S::Pending | S::InTransit),
        PayoutOutcome::Failed(_) => matches!(po.status, S::Pending | S::InTransit | S::Paid),
    };
    if !allowed {
        return Err(ApiError::invalid(format!(
            "Payout {id} has a status of {} and cannot change that way.",
            po.status
        )));
    }
    let prev = json!({"status": po.status.as_str()});
    match outcome {
        PayoutOutcome::InTransit => {
            po.status = S::InTransit;
            state.emit(ctx, "payout.updated", &po, Some(prev));
        }
        PayoutOutcome::Paid => {
            po.status = S::Paid;
            state.emit(ctx, "payout.updated", &po, Some(prev));
            state.emit(ctx, "payout.paid", &po, None);
        }
        PayoutOutcome::Failed(code) => {
            po.status = S::Failed;
            po.failure_message = Some(match code.as_str() {
                "account_closed" => "The bank account has been closed.".to_owned(),
                "insufficient_funds" => {
                    "Your Stripe account has insufficient funds to cover the payout.".to_owned()
                }
                "no_account" => {
                    "The bank account details on file are probably incorrect.".to_owned()
                }
                _ => format!("The payout failed ({code})."),
            });
            po.failure_code = Some(code);
            po.failure_balance_transaction = Some(new_id("txn"));
            state.emit(ctx, "payout.updated", &po, Some(prev));
            state.emit(ctx, "payout.failed", &po, None);
        }
        PayoutOutcome::Canceled => {
            // The reversing balance transaction returns the amount to the balance.
            po.status = S::Canceled;
            po.failure_balance_transaction = Some(new_id("txn"));
            state.emit(ctx, "payout.updated", &po, Some(prev));
            state.emit(ctx, "payout.canceled", &po, None);
        }
    }
    state.payouts.insert(po.clone());
    Ok(po)
}
