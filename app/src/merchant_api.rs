//! The merchant console's server functions. Each first checks that the caller is a
//! signed-in merchant (`edge::require_merchant`): anyone else gets 404 and nothing runs.

use leptos::prelude::*;
use shop::console::{Dashboard, EventsPage, ReconciliationReport, ReconciliationRun};
use shop::dispute::DisputeView;
use shop::fraud::FraudWarningView;
use shop::payout::PayoutView;
use shop::refund::{MerchantOrder, MerchantOrders, QueuedRefund, RefundView};

use crate::api::ApiError;
use crate::codec::{FormPost, JsonPost};
#[cfg(feature = "ssr")]
use {
    crate::edge::{self, respond},
    shop::refund::{OrderFilter, OrderSearch},
    shop::refunds::RefundForm,
    shop::{OrderId, RequestId, ShopError},
};

/// A list's page number: empty is the first; 1 to 100,000.
#[cfg(feature = "ssr")]
fn parse_page(raw: &str) -> Result<u32, ShopError> {
    match raw.trim() {
        "" => Ok(1),
        p => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .ok_or_else(|| ShopError::BadRequest(format!("bad page {p:?}"))),
    }
}

/// Orders on one page of the console's list.
pub const ORDERS_PER_PAGE: u32 = 50;

/// A page of every order, newest first; `status` filters (`paid`, `partially_refunded`,
/// `refunded`…, `disputed`), `q` finds an order by its id, PaymentIntent, charge or the
/// account's email.
#[server(endpoint = "merchant_orders", input = FormPost, output = JsonPost)]
pub async fn list_merchant_orders(
    #[server(default)] status: String,
    #[server(default)] q: String,
    #[server(default)] page: String,
) -> Result<MerchantOrders, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            let filter = OrderFilter::parse(&status).ok_or_else(|| {
                ShopError::BadRequest(format!("unknown status {:?}", status.trim()))
            })?;
            let page = parse_page(&page)?;
            let search = OrderSearch::parse(&q);
            Ok(edge::store()?
                .merchant_orders(filter, search.as_ref(), page, ORDERS_PER_PAGE)
                .await?)
        }
        .await,
    )
}

/// One order as the merchant sees it: ledger (charged, each refund, refundable now) and
/// the audit trail.
#[server(endpoint = "merchant_order", input = FormPost, output = JsonPost)]
pub async fn get_merchant_order(order_id: String) -> Result<MerchantOrder, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            let order_id = OrderId::parse(&order_id).map_err(|_| ShopError::NotFound)?;
            edge::refunds()?.merchant_order(&order_id).await
        }
        .await,
    )
}

/// Refunds `amount` (major units, e.g. "5.00"; empty: all that is still refundable) of
/// a paid order. `request_id` is the form's one-time id: the same id is the same refund.
#[server(endpoint = "refund_order", input = FormPost, output = JsonPost)]
pub async fn refund_order(
    order_id: String,
    #[server(default)] amount: String,
    #[server(default)] reason: String,
    #[server(default)] note: String,
    request_id: String,
) -> Result<RefundView, ApiError> {
    respond(
        async move {
            let merchant = edge::require_merchant().await?;
            let order_id = OrderId::parse(&order_id).map_err(|_| ShopError::NotFound)?;
            let request = RequestId::parse(&request_id)?;
            edge::refunds()?
                .refund(
                    &merchant,
                    &order_id,
                    &RefundForm {
                        amount: &amount,
                        reason: &reason,
                        note: &note,
                        request: &request,
                    },
                )
                .await
        }
        .await,
    )
}

/// Every dispute: those needing a response first, nearest deadline first.
#[server(endpoint = "merchant_disputes", input = FormPost, output = JsonPost)]
pub async fn list_disputes() -> Result<Vec<DisputeView>, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            Ok(edge::store()?.disputes().await?)
        }
        .await,
    )
}

/// One dispute (`dp_…`).
#[server(endpoint = "merchant_dispute", input = FormPost, output = JsonPost)]
pub async fn get_dispute(dispute_id: String) -> Result<DisputeView, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            Ok(edge::store()?.dispute(dispute_id.trim()).await?)
        }
        .await,
    )
}

/// Evidence for a dispute: `action` is `save` (staged, `submit=false`), `submit` (final)
/// or `accept` (the dispute is lost). `request_id`: the form's one-time id.
#[server(endpoint = "dispute_response", input = FormPost, output = JsonPost)]
pub async fn respond_to_dispute(
    dispute_id: String,
    action: String,
    #[server(default)] evidence_text: String,
    request_id: String,
) -> Result<DisputeView, ApiError> {
    respond(
        async move {
            let merchant = edge::require_merchant().await?;
            let request = RequestId::parse(&request_id)?;
            let disputes = edge::disputes()?;
            let id = dispute_id.trim();
            match action.as_str() {
                "save" => {
                    disputes
                        .send_evidence(&merchant, id, &evidence_text, false, &request)
                        .await
                }
                "submit" => {
                    disputes
                        .send_evidence(&merchant, id, &evidence_text, true, &request)
                        .await
                }
                "accept" => disputes.accept(&merchant, id, &request).await,
                other => Err(ShopError::BadRequest(format!("unknown action {other:?}"))),
            }
        }
        .await,
    )
}

/// The failed-refunds queue: failed, canceled or refused refunds waiting for the merchant.
#[server(endpoint = "merchant_refund_queue", input = FormPost, output = JsonPost)]
pub async fn refund_queue() -> Result<Vec<QueuedRefund>, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            edge::refunds()?.queue().await
        }
        .await,
    )
}

/// A failed refund of the queue: `retry` (a new refund; `request_id` is the button's
/// one-time id) or `dismiss`.
#[server(endpoint = "refund_queue_action", input = FormPost, output = JsonPost)]
pub async fn act_on_failed_refund(
    refund_id: String,
    action: String,
    request_id: String,
) -> Result<(), ApiError> {
    respond(
        async move {
            let merchant = edge::require_merchant().await?;
            let request = RequestId::parse(&request_id)?;
            let refunds = edge::refunds()?;
            match action.as_str() {
                "retry" => refunds
                    .retry(&merchant, refund_id.trim(), &request)
                    .await
                    .map(|_| ()),
                "dismiss" => refunds.dismiss(&merchant, refund_id.trim()).await,
                other => Err(ShopError::BadRequest(format!("unknown action {other:?}"))),
            }
        }
        .await,
    )
}

/// Early fraud warnings: actionable first, newest first.
#[server(endpoint = "merchant_fraud_warnings", input = FormPost, output = JsonPost)]
pub async fn list_fraud_warnings() -> Result<Vec<FraudWarningView>, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            edge::fraud_warnings()?.list().await
        }
        .await,
    )
}

/// "Refund as fraudulent": the warned payment refunded in full, `reason=fraudulent`.
#[server(endpoint = "refund_fraudulent", input = FormPost, output = JsonPost)]
pub async fn refund_fraudulent(
    warning_id: String,
    request_id: String,
) -> Result<RefundView, ApiError> {
    respond(
        async move {
            let merchant = edge::require_merchant().await?;
            let request = RequestId::parse(&request_id)?;
            edge::fraud_warnings()?
                .refund_fraudulent(&merchant, warning_id.trim(), &request)
                .await
        }
        .await,
    )
}

/// Events on one page of the console's events list.
pub const EVENTS_PER_PAGE: u32 = 50;

/// The dashboard: the last 30 days' money per currency and day, payment outcomes, and
/// what waits for the merchant.
#[server(endpoint = "merchant_dashboard", input = FormPost, output = JsonPost)]
pub async fn merchant_dashboard() -> Result<Dashboard, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            let now = shop::store::now_ms();
            shop::console::service::dashboard(&*edge::store()?, now).await
        }
        .await,
    )
}

/// Payouts, newest first.
#[server(endpoint = "merchant_payouts", input = FormPost, output = JsonPost)]
pub async fn list_payouts() -> Result<Vec<PayoutView>, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            edge::payouts()?.list().await
        }
        .await,
    )
}

/// A page of stored Stripe events, newest first; `parked=1`: only the parked ones.
#[server(endpoint = "merchant_events", input = FormPost, output = JsonPost)]
pub async fn list_events(
    #[server(default)] parked: String,
    #[server(default)] page: String,
) -> Result<EventsPage, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            let page = parse_page(&page)?;
            let parked = matches!(parked.trim(), "1" | "true" | "on");
            Ok(edge::store()?
                .events_page(parked, page, EVENTS_PER_PAGE)
                .await?)
        }
        .await,
    )
}

/// "Process again": a parked event processed afresh; `true` when it is processed now.
#[server(endpoint = "process_event_again", input = FormPost, output = JsonPost)]
pub async fn process_event_again(event_id: String) -> Result<bool, ApiError> {
    respond(
        async move {
            let merchant = edge::require_merchant().await?;
            let id = event_id.trim();
            if !id.starts_with("evt_") {
                return Err(ShopError::NotFound);
            }
            shop::console::service::process_again(
                &*edge::store()?,
                &*edge::event_handlers()?,
                &merchant,
                id,
            )
            .await
        }
        .await,
    )
}

/// The reconciliation page: the latest runs and the differences they found.
#[server(endpoint = "merchant_reconciliation", input = FormPost, output = JsonPost)]
pub async fn get_reconciliation() -> Result<ReconciliationReport, ApiError> {
    respond(
        async move {
            edge::require_merchant().await?;
            Ok(edge::store()?.reconciliation_report(20).await?)
        }
        .await,
    )
}

/// "Reconcile now": one run, started by this merchant.
#[server(endpoint = "reconcile_now", input = FormPost, output = JsonPost)]
pub async fn reconcile_now() -> Result<ReconciliationRun, ApiError> {
    respond(
        async move {
            let merchant = edge::require_merchant().await?;
            edge::reconciler()?.run_for(&merchant).await
        }
        .await,
    )
}
