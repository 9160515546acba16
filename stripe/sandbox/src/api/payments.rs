//! The payment engine: confirming PaymentIntents and SetupIntents against the test cards,
//! 3-D Secure, charges, declines and the after-effects (disputes, early fraud warnings).

use serde_json::{json, Value};
use stripe_types::{
    CaptureMethod, ChargeStatus, DisputeReason, DisputeStatus, PaymentIntentStatus as PiS,
    SetupIntentStatus as SiS,
};

use crate::cards::{Behaviour, Decline};
use crate::error::{doc_url, ApiError, ApiResult};
use crate::objects::*;
use crate::state::{Ctx, State};
use crate::util::{new_id, random_with_prefix, Empty, Null};

/// Options of one confirmation.
#[derive(Debug, Clone, Default)]
pub struct ConfirmOpts {
    pub off_session: bool,
    pub error_on_requires_action: bool,
    pub return_url: Option<String>,
    pub use_stripe_sdk: bool,
    pub publishable: bool,
}

/// Checks that can fail a confirmation before anything changes.
pub fn check_confirmable(state: &State, pi: &PaymentIntent, opts: &ConfirmOpts) -> ApiResult<()> {
    if !matches!(
        pi.status,
        PiS::RequiresPaymentMethod | PiS::RequiresConfirmation | PiS::RequiresAction
    ) {
        return Err(ApiError::unexpected_state(format!(
            "You cannot confirm this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_action, requires_payment_method.",
            pi.status
        )));
    }
    let Some(pm_id) = &pi.payment_method else {
        return Err(ApiError::unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
        )
        .with_param("payment_method"));
    };
    check_payment_method_and_redirects(
        state,
        pm_id,
        pi.customer.as_deref(),
        pi.automatic_payment_methods.as_ref(),
        opts,
        "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
    )
}

/// The checks PaymentIntent and SetupIntent confirmation share: the PaymentMethod exists
/// and may be used by this customer, and a `return_url` is given when redirect-based
/// methods are allowed (unless Stripe.js handles the next action).
fn check_payment_method_and_redirects(
    state: &State,
    pm_id: &str,
    customer: Option<&str>,
    automatic: Option<&crate::objects::AutomaticPaymentMethods>,
    opts: &ConfirmOpts,
    return_url_message: &str,
) -> ApiResult<()> {
    let rec = state.payment_methods.get(pm_id).ok_or_else(|| {
        ApiError::no_such(
            axum::http::StatusCode::BAD_REQUEST,
            "PaymentMethod",
            pm_id,
            "payment_method",
        )
    })?;
    check_pm_usable(rec, customer)?;
    let redirects = automatic.is_some_and(|a| a.enabled && a.allow_redirects != "never");
    if redirects && !opts.publishable && !opts.use_stripe_sdk && opts.return_url.is_none() {
        return Err(ApiError::invalid_param("return_url", return_url_message));
    }
    Ok(())
}

/// A PaymentMethod can be used with `customer` (or without one).
pub fn check_pm_usable(rec: &PmRecord, customer: Option<&str>) -> ApiResult<()> {
    if rec.consumed {
        return Err(ApiError::invalid_param(
            "payment_method",
            "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.",
        ));
    }
    match (&rec.pm.customer, customer) {
        (Some(owner), None) => Err(ApiError::invalid_param(
            "payment_method",
            format!(
                "The provided PaymentMethod belongs to a Customer ({owner}). Please provide the Customer ID with `customer={owner}` to use it."
            ),
        )),
        (Some(owner), Some(c)) if owner != c => Err(ApiError::invalid_param(
            "payment_method",
            format!("The provided PaymentMethod belongs to a different Customer ({owner}) than the one on this request ({c})."),
        )),
        _ => Ok(()),
    }
}

fn three_ds_action(ctx: &Ctx, id: &str, client_secret: &str) -> Value {
    json!({
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": format!("{}/3ds/{}?client_secret={}", ctx.base_url, id, client_secret),
            "source": random_with_prefix("src", '_', 24),
        }
    })
}

/// `request_three_d_secure` asks for 3-D Secure whatever the card.
fn three_ds_requested(request_three_d_secure: &str) -> bool {
    matches!(request_three_d_secure, "any" | "challenge")
}

fn needs_three_ds(behaviour: Behaviour, set_up: bool, off_session: bool, forced: bool) -> bool {
    match behaviour {
        Behaviour::ThreeDsAlways | Behaviour::ThreeDsThenDecline => true,
        Behaviour::ThreeDsUnlessSetUp => !(off_session && set_up),
        _ => forced && !off_session,
    }
}

/// Runs a confirmation of a stored PaymentIntent (already checked with [`check_confirmable`]).
pub fn confirm_pi(state: &mut State, ctx: &Ctx, id: &str, opts: &ConfirmOpts) -> ApiResult<()> {
    let pi = state.payment_intents.get(id).expect("checked").clone();
    check_confirmable(state, &pi, opts)?;
    let mut pi = pi;
    let pm_id = pi.payment_method.clone().expect("checked");
    let rec = state.payment_methods.get(&pm_id).expect("checked").clone();
    pi.last_payment_error = None;
    pi.next_action = None;
    let forced = three_ds_requested(&pi.payment_method_options.card.request_three_d_secure);
    if needs_three_ds(rec.behaviour, rec.set_up, opts.off_session, forced) {
        if opts.off_session || opts.error_on_requires_action {
            return Err(fail_pi(
                state,
                ctx,
                pi,
                &rec,
                Decline::AuthenticationRequired,
                false,
            ));
        }
        pi.status = PiS::RequiresAction;
        pi.next_action = Some(three_ds_action(ctx, &pi.id, &pi.client_secret));
        state.emit(ctx, "payment_intent.requires_action", &pi, None);
        state.payment_intents.insert(pi);
        return Ok(());
    }
    finalize_pi(state, ctx, pi, &rec, false)
}

/// The PaymentMethod of an intent awaiting 3-D Secure.
fn authenticated_payment_method(state: &State, pm_id: Option<&str>) -> ApiResult<PmRecord> {
    let pm_id = pm_id.unwrap_or_default();
    state
        .payment_methods
        .get(pm_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("payment_method", pm_id))
}

/// The `last_payment_error` / `last_setup_error` of a failed 3-D Secure authentication.
fn authentication_failure(code: &str, message: &str, rec: &PmRecord) -> Value {
    json!({
        "code": code,
        "doc_url": doc_url(code),
        "message": message,
        "payment_method": serde_json::to_value(&rec.pm).ok(),
        "type": "invalid_request_error",
    })
}

/// 3-D Secure finished on the challenge page.
pub fn complete_three_ds_pi(
    state: &mut State,
    ctx: &Ctx,
    id: &str,
    success: bool,
) -> ApiResult<()> {
    let pi = state
        .payment_intents
        .get(id)
        .ok_or_else(|| ApiError::not_found("payment_intent", id))?
        .clone();
    if pi.status != PiS::RequiresAction {
        return Err(ApiError::unexpected_state(format!(
            "This PaymentIntent has a status of {} and does not require authentication.",
            pi.status
        )));
    }
    let rec = authenticated_payment_method(state, pi.payment_method.as_deref())?;
    let mut pi = pi;
    pi.next_action = None;
    if !success {
        pi.status = PiS::RequiresPaymentMethod;
        pi.payment_method = None;
        pi.last_payment_error = Some(authentication_failure(
            stripe_types::error::code::PAYMENT_INTENT_AUTHENTICATION_FAILURE,
            "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
            &rec,
        ));
        state.emit(ctx, "payment_intent.payment_failed", &pi, None);
        state.payment_intents.insert(pi);
        return Ok(());
    }
    match finalize_pi(state, ctx, pi, &rec, true) {
        Ok(()) => Ok(()),
        // A decline after authentication (4000 0082 6000 3178) is recorded on the intent.
        Err(e) if e.status == axum::http::StatusCode::PAYMENT_REQUIRED => Ok(()),
        Err(e) => Err(e),
    }
}

fn finalize_pi(
    state: &mut State,
    ctx: &Ctx,
    mut pi: PaymentIntent,
    rec: &PmRecord,
    authenticated: bool,
) -> ApiResult<()> {
    let decline = match rec.behaviour {
        Behaviour::Decline(d) => Some(d),
        Behaviour::ChargeCustomerFail => Some(Decline::Generic),
        Behaviour::ThreeDsThenDecline => Some(Decline::InsufficientFunds),
        _ => None,
    };
    if let Some(d) = decline {
        return Err(fail_pi(state, ctx, pi, rec, d, authenticated));
    }
    let manual = pi.capture_method == CaptureMethod::Manual;
    let charge = new_charge(ctx, &pi, rec, None, !manual, authenticated);
    pi.latest_charge = Some(charge.id.clone());
    if manual {
        pi.status = PiS::RequiresCapture;
        pi.amount_capturable = pi.amount;
    } else {
        pi.status = PiS::Succeeded;
        pi.amount_received = pi.amount;
    }
    // Saving the card for later (setup_future_usage) attaches it to the customer.
    if pi.setup_future_usage.is_some() {
        set_up_for_future_use(state, ctx, rec, pi.customer.clone());
    } else if rec.pm.customer.is_none() {
        state
            .payment_methods
            .get_mut(&rec.pm.id)
            .expect("exists")
            .consumed = true;
    }
    let charge_id = charge.id.clone();
    state.emit(ctx, "charge.succeeded", &charge, None);
    state.charges.insert(charge);
    if manual {
        state.emit(ctx, "payment_intent.amount_capturable_updated", &pi, None);
    } else {
        state.emit(ctx, "payment_intent.succeeded", &pi, None);
    }
    state.payment_intents.insert(pi);
    if rec.behaviour == Behaviour::EarlyFraudWarning {
        create_efw(state, ctx, &charge_id, "made_with_stolen_card")?;
    }
    if !manual {
        after_capture(state, ctx, &charge_id, rec.behaviour)?;
    }
    Ok(())
}

/// Effects of a captured charge on a test card: 0259 opens a `fraudulent` dispute, 2685 a
/// `product_not_received` one, 1976 an inquiry (no reason is documented for it; the
/// sandbox says `fraudulent`).
pub fn after_capture(
    state: &mut State,
    ctx: &Ctx,
    charge_id: &str,
    behaviour: Behaviour,
) -> ApiResult<()> {
    let dispute = match behaviour {
        Behaviour::Dispute => Some((DisputeReason::Fraudulent, DisputeStatus::NeedsResponse)),
        Behaviour::DisputeProductNotReceived => Some((
            DisputeReason::ProductNotReceived,
            DisputeStatus::NeedsResponse,
        )),
        Behaviour::DisputeInquiry => Some((
            DisputeReason::Fraudulent,
            DisputeStatus::WarningNeedsResponse,
        )),
        _ => None,
    };
    if let Some((reason, status)) = dispute {
        open_dispute(state, ctx, charge_id, reason, status, None)?;
    }
    Ok(())
}

pub fn pm_behaviour(state: &State, pm_id: Option<&str>) -> Behaviour {
    pm_id
        .and_then(|id| state.payment_methods.get(id))
        .map(|r| r.behaviour)
        .unwrap_or(Behaviour::Succeed)
}

/// The 402 `card_error` of a decline.
pub fn decline_error(d: Decline) -> ApiError {
    ApiError::card(d.code(), Some(d.decline_code()), d.message(), d.param())
}

/// The `last_payment_error` (with the failed `charge`) or `last_setup_error` of a decline.
fn decline_details(d: Decline, charge: Option<&str>, payment_method: &Option<Value>) -> Value {
    let mut details = serde_json::Map::new();
    if let Some(charge) = charge {
        details.insert("charge".into(), json!(charge));
    }
    details.insert("code".into(), json!(d.code()));
    details.insert("decline_code".into(), json!(d.decline_code()));
    details.insert("doc_url".into(), json!(doc_url(d.code())));
    details.insert("message".into(), json!(d.message()));
    details.insert("payment_method".into(), json!(payment_method));
    details.insert("type".into(), json!("card_error"));
    if let Some(param) = d.param() {
        details.insert("param".into(), json!(param));
    }
    Value::Object(details)
}

fn fail_pi(
    state: &mut State,
    ctx: &Ctx,
    mut pi: PaymentIntent,
    rec: &PmRecord,
    d: Decline,
    authenticated: bool,
) -> ApiError {
    let charge = new_charge(ctx, &pi, rec, Some(d), false, authenticated);
    let pm_json = serde_json::to_value(&rec.pm).ok();
    pi.status = PiS::RequiresPaymentMethod;
    pi.last_payment_error = Some(decline_details(d, Some(&charge.id), &pm_json));
    pi.payment_method = None;
    pi.next_action = None;
    pi.latest_charge = Some(charge.id.clone());
    let mut err = decline_error(d);
    err.body.charge = Some(charge.id.clone());
    err.body.payment_intent = serde_json::to_value(&pi).ok();
    err.body.payment_method = pm_json;
    state.emit(ctx, "charge.failed", &charge, None);
    state.charges.insert(charge);
    state.emit(ctx, "payment_intent.payment_failed", &pi, None);
    state.payment_intents.insert(pi);
    err
}

fn new_charge(
    ctx: &Ctx,
    pi: &PaymentIntent,
    rec: &PmRecord,
    decline: Option<Decline>,
    captured: bool,
    authenticated: bool,
) -> Charge {
    let card = &rec.pm.card;
    let ok = decline.is_none();
    let id = new_id("ch");
    let outcome = match decline {
        None => Outcome {
            network_status: "approved_by_network".into(),
            reason: None,
            risk_level: if rec.behaviour == Behaviour::EarlyFraudWarning {
                "elevated".into()
            } else {
                "normal".into()
            },
            risk_score: if rec.behaviour == Behaviour::EarlyFraudWarning {
                67
            } else {
                32
            },
            seller_message: "Payment complete.".into(),
            kind: "authorized".into(),
        },
        Some(d) => Outcome {
            network_status: "declined_by_network".into(),
            reason: Some(d.decline_code().into()),
            risk_level: "normal".into(),
            risk_score: 32,
            seller_message: d.seller_message().into(),
            kind: "issuer_declined".into(),
        },
    };
    Charge {
        id: id.clone(),
        object: ChargeTag,
        amount: pi.amount,
        amount_captured: if ok && captured { pi.amount } else { 0 },
        amount_refunded: 0,
        application: Null,
        application_fee: Null,
        application_fee_amount: Null,
        balance_transaction: (ok && captured).then(|| new_id("txn")),
        billing_details: rec.pm.billing_details.clone(),
        calculated_statement_descriptor: "STRIPE SANDBOX".into(),
        captured: ok && captured,
        created: ctx.now,
        currency: pi.currency,
        customer: pi.customer.clone(),
        description: pi.description.clone(),
        disputed: false,
        failure_balance_transaction: Null,
        failure_code: decline.map(|d| d.code().into()),
        failure_message: decline.map(|d| d.message().into()),
        fraud_details: Empty,
        invoice: Null,
        livemode: false,
        metadata: pi.metadata.clone(),
        on_behalf_of: Null,
        outcome,
        paid: ok,
        payment_intent: Some(pi.id.clone()),
        payment_method: Some(rec.pm.id.clone()),
        payment_method_details: ChargePaymentMethodDetails {
            card: ChargeCard {
                amount_authorized: if ok { pi.amount } else { 0 },
                brand: card.brand.clone(),
                checks: CardChecks {
                    cvc_check: card.checks.cvc_check.as_ref().map(|_| {
                        if decline == Some(Decline::IncorrectCvc) {
                            "fail"
                        } else {
                            "pass"
                        }
                        .to_owned()
                    }),
                    ..card.checks.clone()
                },
                country: card.country.clone(),
                exp_month: card.exp_month,
                exp_year: card.exp_year,
                extended_authorization: StatusOnly {
                    status: "disabled".into(),
                },
                fingerprint: card.fingerprint.clone(),
                funding: card.funding.clone(),
                incremental_authorization: StatusOnly {
                    status: "unavailable".into(),
                },
                installments: Null,
                last4: card.last4.clone(),
                mandate: Null,
                multicapture: StatusOnly {
                    status: "unavailable".into(),
                },
                network: card.brand.clone(),
                network_token: NetworkToken { used: false },
                overcapture: Overcapture {
                    maximum_amount_capturable: pi.amount,
                    status: "unavailable".into(),
                },
                three_d_secure: authenticated.then(|| ThreeDSecureResult {
                    authentication_flow: "challenge".into(),
                    electronic_commerce_indicator: "05".into(),
                    result: "authenticated".into(),
                    result_reason: Null,
                    transaction_id: random_with_prefix("3ds", '-', 24),
                    version: "2.2.0".into(),
                }),
                wallet: Null,
            },
            kind: "card".into(),
        },
        radar_options: Empty,
        receipt_email: pi.receipt_email.clone(),
        receipt_number: Null,
        receipt_url: ok.then(|| format!("{}/receipts/{}", ctx.base_url, id)),
        refunded: false,
        review: Null,
        shipping: Null,
        source: Null,
        source_transfer: Null,
        statement_descriptor: pi.statement_descriptor.clone(),
        statement_descriptor_suffix: pi.statement_descriptor_suffix.clone(),
        status: if ok {
            ChargeStatus::Succeeded
        } else {
            ChargeStatus::Failed
        },
        transfer_data: Null,
        transfer_group: pi.transfer_group.clone(),
    }
}

/// Opens a dispute on a charge (test cards 0259, 2685 and 1976, or the control API).
pub fn open_dispute(
    state: &mut State,
    ctx: &Ctx,
    charge_id: &str,
    reason: DisputeReason,
    status: DisputeStatus,
    amount: Option<i64>,
) -> ApiResult<String> {
    let charge = state
        .charges
        .get(charge_id)
        .ok_or_else(|| ApiError::not_found("charge", charge_id))?
        .clone();
    if !charge.captured {
        return Err(ApiError::invalid(format!(
            "Charge {charge_id} has not been captured and cannot be disputed."
        )));
    }
    if charge.disputed {
        return Err(ApiError::invalid(format!(
            "Charge {charge_id} is already disputed."
        )));
    }
    let amount = amount.unwrap_or(charge.amount_captured - charge.amount_refunded);
    let inquiry = matches!(status, DisputeStatus::WarningNeedsResponse);
    let id = new_id("dp");
    let mut balance_transactions = Vec::new();
    if !inquiry {
        balance_transactions.push(BalanceTransaction {
            id: new_id("txn"),
            object: BalanceTransactionTag,
            amount: -amount,
            available_on: ctx.now,
            created: ctx.now,
            currency: charge.currency,
            description: format!("Chargeback withdrawal for {charge_id}"),
            fee: 1500,
            net: -amount - 1500,
            reporting_category: "dispute".into(),
            source: id.clone(),
            status: "available".into(),
            kind: "adjustment".into(),
        });
    }
    let dispute = Dispute {
        id: id.clone(),
        object: DisputeTag,
        amount,
        balance_transactions,
        charge: charge_id.to_owned(),
        created: ctx.now,
        currency: charge.currency,
        evidence: EVIDENCE_FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), None))
            .collect(),
        evidence_details: EvidenceDetails {
            due_by: Some(ctx.now + 7 * 86_400),
            has_evidence: false,
            past_due: false,
            submission_count: 0,
        },
        is_charge_refundable: inquiry,
        livemode: false,
        metadata: Metadata::new(),
        network_reason_code: Some(
            if reason == DisputeReason::Fraudulent {
                "10.4"
            } else {
                "13.1"
            }
            .into(),
        ),
        payment_intent: charge.payment_intent.clone(),
        payment_method_details: DisputePaymentMethodDetails {
            card: DisputeCardDetails {
                brand: charge.payment_method_details.card.brand.clone(),
                case_type: if inquiry { "inquiry" } else { "chargeback" }.into(),
                network_reason_code: None,
            },
            kind: "card".into(),
        },
        reason,
        status,
    };
    let ch = state.charges.get_mut(charge_id).expect("exists");
    ch.disputed = true;
    state.emit(ctx, "charge.dispute.created", &dispute, None);
    if !inquiry {
        state.emit(ctx, "charge.dispute.funds_withdrawn", &dispute, None);
    }
    state.disputes.insert(dispute);
    refresh_efw_actionable(state, ctx, charge_id);
    Ok(id)
}

/// Raises a Radar early fraud warning on a charge.
pub fn create_efw(
    state: &mut State,
    ctx: &Ctx,
    charge_id: &str,
    fraud_type: &str,
) -> ApiResult<String> {
    let charge = state
        .charges
        .get(charge_id)
        .ok_or_else(|| ApiError::not_found("charge", charge_id))?;
    let efw = EarlyFraudWarning {
        id: new_id("issfr"),
        object: EfwTag,
        actionable: !charge.refunded && !charge.disputed,
        charge: charge_id.to_owned(),
        created: ctx.now,
        fraud_type: fraud_type.to_owned(),
        livemode: false,
        payment_intent: charge.payment_intent.clone(),
    };
    let id = efw.id.clone();
    state.emit(ctx, "radar.early_fraud_warning.created", &efw, None);
    state.early_fraud_warnings.insert(efw);
    Ok(id)
}

/// Recomputes `actionable` on the charge's early fraud warnings (true while the charge is
/// neither disputed nor fully refunded) and emits `radar.early_fraud_warning.updated` for
/// each one that changed.
pub fn refresh_efw_actionable(state: &mut State, ctx: &Ctx, charge_id: &str) {
    let Some(ch) = state.charges.get(charge_id) else {
        return;
    };
    let actionable = !ch.refunded && !ch.disputed;
    let changed: Vec<String> = state
        .early_fraud_warnings
        .iter()
        .filter(|e| e.charge == charge_id && e.actionable != actionable)
        .map(|e| e.id.clone())
        .collect();
    for id in changed {
        let efw = state.early_fraud_warnings.get_mut(&id).expect("listed");
        efw.actionable = actionable;
        let snap = efw.clone();
        let prev = json!({"actionable": !actionable});
        state.emit(ctx, "radar.early_fraud_warning.updated", &snap, Some(prev));
    }
}

// ---------------------------------------------------------------------------------------
// SetupIntents

pub fn check_setup_confirmable(
    state: &State,
    si: &SetupIntent,
    opts: &ConfirmOpts,
) -> ApiResult<()> {
    if !matches!(
        si.status,
        SiS::RequiresPaymentMethod | SiS::RequiresConfirmation | SiS::RequiresAction
    ) {
        return Err(ApiError::invalid(format!(
            "You cannot confirm this SetupIntent because it has a status of {}. Only a SetupIntent with one of the following statuses may be confirmed: requires_confirmation, requires_action, requires_payment_method.",
            si.status
        ))
        .with_code("setup_intent_unexpected_state"));
    }
    let Some(pm_id) = &si.payment_method else {
        return Err(ApiError::invalid(
            "You cannot confirm this SetupIntent because it's missing a payment method. Update the SetupIntent with a payment method and then confirm it again.",
        )
        .with_code("setup_intent_unexpected_state")
        .with_param("payment_method"));
    };
    check_payment_method_and_redirects(
        state,
        pm_id,
        si.customer.as_deref(),
        si.automatic_payment_methods.as_ref(),
        opts,
        "This SetupIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`.",
    )
}

pub fn confirm_si(state: &mut State, ctx: &Ctx, id: &str, opts: &ConfirmOpts) -> ApiResult<()> {
    let mut si = state.setup_intents.get(id).expect("checked").clone();
    check_setup_confirmable(state, &si, opts)?;
    let pm_id = si.payment_method.clone().expect("checked");
    let rec = state.payment_methods.get(&pm_id).expect("checked").clone();
    si.last_setup_error = None;
    si.next_action = None;
    si.latest_attempt = Some(new_id("setatt"));
    let forced = three_ds_requested(&si.payment_method_options.card.request_three_d_secure);
    let decline = match rec.behaviour {
        Behaviour::Decline(d) => Some(d),
        _ => None,
    };
    if let Some(d) = decline {
        return Err(fail_si(state, ctx, si, &rec, d));
    }
    if rec.behaviour.needs_three_ds() || forced {
        if opts.error_on_requires_action {
            return Err(fail_si(
                state,
                ctx,
                si,
                &rec,
                Decline::AuthenticationRequired,
            ));
        }
        si.status = SiS::RequiresAction;
        si.next_action = Some(three_ds_action(ctx, &si.id, &si.client_secret));
        state.emit(ctx, "setup_intent.requires_action", &si, None);
        state.setup_intents.insert(si);
        return Ok(());
    }
    succeed_si(state, ctx, si, &rec)
}

/// Marks a card as set up for off-session use, attaching it to `customer` (when given and
/// the card has no customer yet).
fn set_up_for_future_use(state: &mut State, ctx: &Ctx, rec: &PmRecord, customer: Option<String>) {
    if let Some(c) = customer {
        if rec.pm.customer.is_none() {
            let r = state.payment_methods.get_mut(&rec.pm.id).expect("exists");
            r.pm.customer = Some(c);
            let snap = r.pm.clone();
            state.emit(ctx, "payment_method.attached", &snap, None);
        }
    }
    state
        .payment_methods
        .get_mut(&rec.pm.id)
        .expect("exists")
        .set_up = true;
}

fn succeed_si(state: &mut State, ctx: &Ctx, mut si: SetupIntent, rec: &PmRecord) -> ApiResult<()> {
    set_up_for_future_use(state, ctx, rec, si.customer.clone());
    si.status = SiS::Succeeded;
    si.next_action = None;
    state.emit(ctx, "setup_intent.succeeded", &si, None);
    state.setup_intents.insert(si);
    Ok(())
}

fn fail_si(
    state: &mut State,
    ctx: &Ctx,
    mut si: SetupIntent,
    rec: &PmRecord,
    d: Decline,
) -> ApiError {
    let pm_json = serde_json::to_value(&rec.pm).ok();
    si.status = SiS::RequiresPaymentMethod;
    si.last_setup_error = Some(decline_details(d, None, &pm_json));
    si.payment_method = None;
    si.next_action = None;
    let mut err = decline_error(d);
    err.body.setup_intent = serde_json::to_value(&si).ok();
    err.body.payment_method = pm_json;
    state.emit(ctx, "setup_intent.setup_failed", &si, None);
    state.setup_intents.insert(si);
    err
}

pub fn complete_three_ds_si(
    state: &mut State,
    ctx: &Ctx,
    id: &str,
    success: bool,
) -> ApiResult<()> {
    let mut si = state
        .setup_intents
        .get(id)
        .ok_or_else(|| ApiError::not_found("setup_intent", id))?
        .clone();
    if si.status != SiS::RequiresAction {
        return Err(ApiError::invalid(format!(
            "This SetupIntent has a status of {} and does not require authentication.",
            si.status
        ))
        .with_code("setup_intent_unexpected_state"));
    }
    let rec = authenticated_payment_method(state, si.payment_method.as_deref())?;
    if success {
        return succeed_si(state, ctx, si, &rec);
    }
    si.status = SiS::RequiresPaymentMethod;
    si.payment_method = None;
    si.next_action = None;
    si.last_setup_error = Some(authentication_failure(
        "setup_intent_authentication_failure",
        "The latest attempt to set up the payment method has failed because authentication failed.",
        &rec,
    ));
    state.emit(ctx, "setup_intent.setup_failed", &si, None);
    state.setup_intents.insert(si);
    Ok(())
}
