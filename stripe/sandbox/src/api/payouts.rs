//! Payouts: retrieve, list; created and settled through the control API.

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

/// Settles a payout: `paid`, or `failed` with a failure code.
pub fn settle(
    state: &mut State,
    ctx: &Ctx,
    id: &str,
    failure_code: Option<String>,
) -> ApiResult<Payout> {
    let mut po = get(state, id)?.clone();
    if !matches!(po.status, PayoutStatus::Pending | PayoutStatus::InTransit) {
        return Err(ApiError::invalid(format!(
            "Payout {id} has a status of {} and cannot change.",
            po.status
        )));
    }
    let prev = json!({"status": po.status.as_str()});
    match failure_code {
        None => {
            po.status = PayoutStatus::Paid;
            state.emit(ctx, "payout.updated", &po, Some(prev));
            state.emit(ctx, "payout.paid", &po, None);
        }
        Some(code) => {
            po.status = PayoutStatus::Failed;
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
    }
    state.payouts.insert(po.clone());
    Ok(po)
}
