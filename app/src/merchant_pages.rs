//! The merchant console's pages (server-rendered; islands only for the forms and buttons
//! that send something: refund, dispute response, failed-refund and fraud-warning actions).
//! A shopper or a guest gets the site's 404 page: the server functions behind these pages
//! answer 404 to anyone but a merchant.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos_router::hooks::{use_params_map, use_query_map};

use shop::console::{
    CurrencySeries, Dashboard, EventRow, EventsPage, Frame, Measure, ReconciliationReport,
};
use shop::dispute::DisputeView;
use shop::fraud::FraudWarningView;
use shop::refund::{MerchantOrder, MerchantOrders, OrderFilter, QueuedRefund, RefundView};
use shop::ShopError;

use crate::merchant_api::{
    get_dispute, get_merchant_order, get_reconciliation, list_disputes, list_events,
    list_fraud_warnings, list_merchant_orders, list_payouts, merchant_dashboard, refund_queue,
    ActOnFailedRefund, ProcessEventAgain, ReconcileNow, RefundFraudulent, RefundOrder,
    RespondToDispute,
};
use crate::pages::{NotFound, PostForm, PreloadIsland};

/// The 404 page for anyone but a merchant; a message for other failures.
fn failure(error: &ShopError) -> AnyView {
    match error {
        ShopError::NotFound => view! { <NotFound/> }.into_any(),
        other => view! { <p class="error" role="alert">{other.customer_message()}</p> }.into_any(),
    }
}

/// Links between the console's pages.
#[component]
fn ConsoleNav() -> impl IntoView {
    view! {
        <nav class="console-nav" aria-label="Console">
            <a href="/merchant">"Dashboard"</a>
            " · "
            <a href="/merchant/orders">"Orders"</a>
            " · "
            <a href="/merchant/disputes">"Disputes"</a>
            " · "
            <a href="/merchant/refunds">"Failed refunds"</a>
            " · "
            <a href="/merchant/fraud-warnings">"Fraud warnings"</a>
            " · "
            <a href="/merchant/payouts">"Payouts"</a>
            " · "
            <a href="/merchant/events">"Events"</a>
            " · "
            <a href="/merchant/reconciliation">"Reconciliation"</a>
        </nav>
    }
}

/// The error a console island shows; once its action succeeds the page reloads (the
/// server renders the new state: ledger, dispute, queue).
fn reload_when_done<A>(action: ServerAction<A>) -> RwSignal<Option<String>>
where
    A: leptos::server_fn::ServerFn<Error = crate::api::ApiError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => {
            let _ = window().location().reload();
        }
        Some(Err(e)) => error.set(Some(e.customer_message())),
        None => {}
    });
    error
}

/// `2026-12-02 14:05:09` (UTC).
fn date_time(ms: i64) -> String {
    let secs = ms.rem_euclid(86_400_000) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        day(ms),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `2026-12-02` (UTC).
fn day(ms: i64) -> String {
    shop::account::date(ms)
}

#[component]
pub fn MerchantOrdersPage() -> impl IntoView {
    let query = use_query_map();
    let args = move || {
        let q = query.read();
        (
            q.get("status").unwrap_or_default(),
            q.get("q").unwrap_or_default(),
            q.get("page").unwrap_or_default(),
        )
    };
    let orders = Resource::new(args, |(status, q, page)| {
        list_merchant_orders(status, q, page)
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading orders…"</p> }>
            {move || Suspend::new(async move {
                let (status, q, _) = args();
                match orders.await {
                    Ok(list) => view! { <OrderList list status q/> }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderList(list: MerchantOrders, status: String, q: String) -> impl IntoView {
    let MerchantOrders {
        orders,
        page,
        has_more,
    } = list;
    let link = {
        let (status, q) = (status.clone(), q.clone());
        move |page: u32| format!("/merchant/orders?status={status}&q={q}&page={page}")
    };
    let previous = (page > 1).then(|| {
        let href = link(page - 1);
        view! { <a href=href rel="prev">"← Newer"</a> }
    });
    let next = has_more.then(|| {
        let href = link(page + 1);
        view! { <a href=href rel="next">"Older →"</a> }
    });
    let options = OrderFilter::choices()
        .map(|f| {
            let selected = f.as_str() == status;
            view! { <option value=f.as_str() selected=selected>{f.as_str()}</option> }
        })
        .collect_view();
    view! {
        <section class="merchant-orders">
            <ConsoleNav/>
            <h1>"Orders"</h1>
            <form method="get" action="/merchant/orders" class="filters">
                <label>"Status "
                    <select name="status" data-testid="status-filter">
                        <option value="">"all"</option>
                        {options}
                    </select>
                </label>
                <label>"Search "
                    <input type="search" name="q" value=q placeholder="ord_…, pi_…, ch_… or email" data-testid="order-search"/>
                </label>
                <button type="submit">"Filter"</button>
            </form>
            <table class="ledger">
                <thead><tr><th>"Order"</th><th>"Date"</th><th>"Status"</th><th>"Customer"</th><th>"Total"</th></tr></thead>
                <tbody>
                    {orders.into_iter().map(|o| {
                        let href = format!("/merchant/orders/{}", o.id);
                        view! {
                            <tr data-testid="merchant-order-row" data-order=o.id.clone()>
                                <td><a href=href><code>{o.id.clone()}</code></a></td>
                                <td>{date_time(o.created_at)}</td>
                                <td>
                                    <span class=format!("status status-{}", o.status.as_str())>{o.status.as_str()}</span>
                                    {o.disputed.then(|| view! { " " <span class="status status-needs_response" data-testid="disputed-badge">"disputed"</span> })}
                                </td>
                                <td>{o.email.unwrap_or_else(|| "guest".into())}</td>
                                <td class="amount">{o.total.to_string()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <nav class="pages">{previous} " page " {page} " " {next}</nav>
        </section>
    }
}

#[component]
pub fn MerchantOrderPage() -> impl IntoView {
    let params = use_params_map();
    let order = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_merchant_order,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading the order…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(order) => view! { <OrderLedger order/> }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderLedger(order: MerchantOrder) -> impl IntoView {
    let MerchantOrder {
        order,
        email,
        payment_intent_id,
        ledger,
        disputes,
        events,
        audit,
        review_reason,
    } = order;
    let id = order.id.to_string();
    // One id per rendering of the form: a double click or a resent form is one refund.
    let request_id = crate::pages::one_time_request_id();
    let refundable = ledger.refundable;
    let form = (refundable.minor > 0).then(|| {
        view! {
            <PreloadIsland island="refund_form"/>
            <RefundForm order_id=id.clone() request_id refundable=refundable.to_string()/>
        }
    });
    view! {
        <section class="merchant-order">
            <p><a href="/merchant/orders">"← Orders"</a></p>
            <h1>"Order " <code>{id.clone()}</code></h1>
            <p>
                <span class=format!("status status-{}", order.status.as_str()) data-testid="merchant-order-status">
                    {order.status.as_str()}
                </span>
                {(!disputes.is_empty()).then(|| view! { " " <span class="status status-needs_response" data-testid="disputed-badge">"disputed"</span> })}
                " · " {email.unwrap_or_else(|| "guest".into())}
                " · " {date_time(order.created_at)}
                " · " <code>{payment_intent_id.unwrap_or_else(|| "no PaymentIntent".into())}</code>
            </p>
            {review_reason.map(|why| view! {
                <p class="error" role="alert" data-testid="review-reason">
                    "Needs your review: " {why}
                </p>
            })}
            <crate::pages::OrderLines lines=order.lines total=order.total.to_string()/>
            <h2>"Money"</h2>
            <dl class="ledger-summary">
                <dt>"Charged"</dt><dd data-testid="ledger-charged">{ledger.charged.to_string()}</dd>
                <dt>"Refunded"</dt><dd data-testid="ledger-refunded">{ledger.refunded.to_string()}</dd>
                <dt>"Refund pending"</dt><dd data-testid="ledger-pending">{ledger.pending.to_string()}</dd>
                <dt>"Refundable now"</dt><dd data-testid="ledger-refundable">{refundable.to_string()}</dd>
            </dl>
            <table class="ledger">
                <thead><tr><th>"Refund"</th><th>"Amount"</th><th>"Status"</th><th>"Reason"</th><th>"By"</th><th>"Date"</th></tr></thead>
                <tbody>{ledger.refunds.into_iter().map(|r| view! { <RefundRow refund=r/> }).collect_view()}</tbody>
            </table>
            {form}
            {(!disputes.is_empty()).then(|| view! {
                <h2>"Disputes"</h2>
                <DisputeTable list=disputes/>
            })}
            <h2>"Stripe events"</h2>
            <EventTable events timeline=true/>
            <h2>"Audit trail"</h2>
            <ul class="audit">
                {audit.into_iter().map(|a| view! {
                    <li data-testid="audit-row">
                        {date_time(a.at)} " · " {a.actor} " · " <strong>{a.action}</strong> " · " {a.detail}
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn RefundRow(refund: RefundView) -> impl IntoView {
    let by = match refund.origin {
        shop::refund::RefundOrigin::Outside => "made outside the shop".to_owned(),
        shop::refund::RefundOrigin::Shop => refund.requested_by.clone().unwrap_or_default(),
    };
    let why = [
        refund.failure_reason.clone(),
        refund.error.clone(),
        refund.note.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let stripe_id = refund.stripe_id.clone().unwrap_or_default();
    let shown = refund.stripe_id.unwrap_or_else(|| "—".into());
    view! {
        <tr data-testid="refund-row" data-status=refund.status.as_str() data-refund=stripe_id>
            <td><code>{shown}</code></td>
            <td class="amount">{refund.amount.to_string()}</td>
            <td class=format!("status status-{}", refund.status.as_str())>{refund.status.as_str()}</td>
            <td>{refund.reason.unwrap_or_default()} " " <small>{why}</small></td>
            <td>{by}</td>
            <td>{date_time(refund.created_at)}</td>
        </tr>
    }
}

/// The refund form: amount (empty: all that is refundable), reason, note. The server
/// checks the amount; the page reloads with the new ledger once the refund is made.
#[island(lazy)]
fn RefundForm(order_id: String, request_id: String, refundable: String) -> impl IntoView {
    crate::pages::island_hydrated();
    let action = ServerAction::<RefundOrder>::new();
    let error = reload_when_done(action);
    let busy = move || action.pending().get();
    view! {
        <PostForm action class="refund-form">
            <h2>"Refund"</h2>
            <input type="hidden" name="order_id" value=order_id/>
            <input type="hidden" name="request_id" value=request_id/>
            <label>"Amount "
                <input name="amount" inputmode="decimal" autocomplete="off" placeholder=refundable.clone() data-testid="refund-amount"/>
            </label>
            <small>"Up to " {refundable} "; empty refunds all of it."</small>
            <label>"Reason "
                <select name="reason" data-testid="refund-reason">
                    <option value="requested_by_customer">"Requested by customer"</option>
                    <option value="duplicate">"Duplicate"</option>
                    <option value="fraudulent">"Fraudulent"</option>
                </select>
            </label>
            <label>"Note " <input name="note" maxlength="500" data-testid="refund-note"/></label>
            <button type="submit" disabled=busy data-testid="refund-submit">"Refund"</button>
            <p class="error" role="alert" aria-live="polite" data-testid="refund-error">{move || error.get()}</p>
        </PostForm>
    }
}

/// Now, in Unix seconds (the deadline countdowns; rendered on the server).
fn now_secs() -> i64 {
    #[cfg(feature = "ssr")]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        0
    }
}

/// The disputes inbox: those needing a response first, nearest deadline first.
#[component]
pub fn MerchantDisputesPage() -> impl IntoView {
    let disputes = Resource::new(|| (), |_| list_disputes());
    view! {
        <Suspense fallback=|| view! { <p>"Loading disputes…"</p> }>
            {move || Suspend::new(async move {
                match disputes.await {
                    Ok(list) => view! {
                        <section class="merchant-disputes">
                            <ConsoleNav/>
                            <h1>"Disputes"</h1>
                            <DisputeTable list/>
                        </section>
                    }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DisputeTable(list: Vec<DisputeView>) -> impl IntoView {
    let now = now_secs();
    view! {
        <table class="ledger">
            <thead><tr><th>"Dispute"</th><th>"Order"</th><th>"Amount"</th><th>"Reason"</th><th>"Status"</th><th>"Respond by"</th></tr></thead>
            <tbody>
                {list.into_iter().map(|d| {
                    let href = format!("/merchant/disputes/{}", d.id);
                    let order = d.order_id.clone().map(|o| {
                        let href = format!("/merchant/orders/{o}");
                        view! { <a href=href><code>{o.to_string()}</code></a> }
                    });
                    let countdown = d.countdown(now);
                    let past = countdown == "past due";
                    view! {
                        <tr data-testid="dispute-row" data-status=d.status.clone() data-due=d.due_by.unwrap_or_default().to_string()>
                            <td><a href=href><code>{d.id.clone()}</code></a></td>
                            <td>{order}</td>
                            <td class="amount">{d.amount.to_string()}</td>
                            <td>{d.reason.clone()}</td>
                            <td class=format!("status status-{}", d.status)>{d.status.clone()}</td>
                            <td class:past-due=past>{countdown}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn MerchantDisputePage() -> impl IntoView {
    let params = use_params_map();
    let dispute = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_dispute,
    );
    view! {
        <Suspense fallback=|| view! { <p>"Loading the dispute…"</p> }>
            {move || Suspend::new(async move {
                match dispute.await {
                    Ok(d) => view! { <DisputeDetail d/> }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DisputeDetail(d: DisputeView) -> impl IntoView {
    let request_id = crate::pages::one_time_request_id();
    let order = d.order_id.clone().map(|o| {
        let href = format!("/merchant/orders/{o}");
        view! { <p>"Order " <a href=href><code>{o.to_string()}</code></a></p> }
    });
    let form = d.needs_response().then(|| {
        view! {
            <PreloadIsland island="dispute_form"/>
            <DisputeForm dispute_id=d.id.clone() request_id text=d.evidence_text.clone().unwrap_or_default()/>
        }
    });
    let submitted = (!d.needs_response()).then(|| {
        d.evidence_text.clone().map(|t| view! { <h2>"Evidence"</h2> <blockquote data-testid="evidence-sent">{t}</blockquote> })
    });
    view! {
        <section class="merchant-dispute">
            <p><a href="/merchant/disputes">"← Disputes"</a></p>
            <h1>"Dispute " <code>{d.id.clone()}</code></h1>
            {order}
            <dl class="ledger-summary">
                <dt>"Status"</dt><dd data-testid="dispute-status">{d.status.clone()}</dd>
                <dt>"Reason"</dt><dd>{d.reason.clone()}</dd>
                <dt>"Amount"</dt><dd>{d.amount.to_string()}</dd>
                <dt>"Respond by"</dt><dd data-testid="dispute-due">{d.countdown(now_secs())}</dd>
                <dt>"Submissions"</dt><dd data-testid="dispute-submissions">{d.submission_count}</dd>
                <dt>"Withdrawn"</dt><dd data-testid="dispute-withdrawn">{d.withdrawn.to_string()}</dd>
                <dt>"Reinstated"</dt><dd data-testid="dispute-reinstated">{d.reinstated.to_string()}</dd>
            </dl>
            {form}
            {submitted}
        </section>
    }
}

/// Evidence: the free text (the shop adds the customer's email, the order's lines and
/// date); save stages it, submit sends it (final: confirmed first), accept loses the
/// dispute (confirmed first).
#[island(lazy)]
fn DisputeForm(dispute_id: String, request_id: String, text: String) -> impl IntoView {
    crate::pages::island_hydrated();
    let action = ServerAction::<RespondToDispute>::new();
    let error = reload_when_done(action);
    let send = move |what: &'static str, ask: Option<&'static str>| {
        let id = dispute_id.clone();
        let request = request_id.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            if let Some(question) = ask {
                if !window().confirm_with_message(question).unwrap_or(false) {
                    return;
                }
            }
            let text = document()
                .query_selector("[data-testid=evidence-text]")
                .ok()
                .flatten()
                .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok())
                .map(|t| t.value())
                .unwrap_or_default();
            action.dispatch(RespondToDispute {
                dispute_id: id.clone(),
                action: what.into(),
                evidence_text: text,
                request_id: format!("{request}-{what}"),
            });
        }
    };
    let busy = move || action.pending().get();
    view! {
        <form class="dispute-form" method="post" action="/api/dispute_response">
            <h2>"Evidence"</h2>
            <label>"What happened (sent as uncategorized_text) "
                <textarea name="evidence_text" rows="6" maxlength="20000" data-testid="evidence-text">{text}</textarea>
            </label>
            <p>
                <button type="button" disabled=busy data-testid="evidence-save" on:click=send("save", None)>"Save"</button>
                " "
                <button type="button" disabled=busy data-testid="evidence-submit"
                    on:click=send("submit", Some("Submit this evidence? A submission is final."))>"Submit"</button>
                " "
                <button type="button" class="danger" disabled=busy data-testid="dispute-accept"
                    on:click=send("accept", Some("Accept the dispute? It will be lost and the money stays with the cardholder."))>"Accept dispute"</button>
            </p>
            <p class="error" role="alert" aria-live="polite" data-testid="dispute-error">{move || error.get()}</p>
        </form>
    }
}

/// The failed-refunds queue: each failed, canceled or refused refund until it is retried
/// or dismissed.
#[component]
pub fn MerchantRefundsPage() -> impl IntoView {
    let queue = Resource::new(|| (), |_| refund_queue());
    view! {
        <Suspense fallback=|| view! { <p>"Loading refunds…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(list) => view! {
                        <section class="merchant-refunds">
                            <ConsoleNav/>
                            <h1>"Failed refunds"</h1>
                            {list.is_empty().then(|| view! { <p data-testid="no-failed-refunds">"No failed refund is waiting."</p> })}
                            // Once for every row's island.
                            {(!list.is_empty()).then(|| view! { <PreloadIsland island="failed_refund_actions"/> })}
                            <table class="ledger">
                                <thead><tr><th>"Refund"</th><th>"Order"</th><th>"Amount"</th><th>"Status"</th><th>"Why"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|q| view! { <FailedRefundRow queued=q/> }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn FailedRefundRow(queued: QueuedRefund) -> impl IntoView {
    let QueuedRefund { order_id, refund } = queued;
    let request_id = crate::pages::one_time_request_id();
    let href = format!("/merchant/orders/{order_id}");
    let why = refund
        .failure_reason
        .clone()
        .or(refund.error.clone())
        .unwrap_or_default();
    view! {
        <tr data-testid="failed-refund-row" data-status=refund.status.as_str() data-refund=refund.stripe_id.clone().unwrap_or_default()>
            <td><code>{refund.stripe_id.clone().unwrap_or_else(|| "—".into())}</code></td>
            <td><a href=href><code>{order_id.to_string()}</code></a></td>
            <td class="amount">{refund.amount.to_string()}</td>
            <td class=format!("status status-{}", refund.status.as_str())>{refund.status.as_str()}</td>
            <td>{why}</td>
            <td>
                <FailedRefundActions refund_id=refund.id request_id/>
            </td>
        </tr>
    }
}

/// Retry (a new refund of the same amount) or dismiss a failed refund.
#[island(lazy)]
fn FailedRefundActions(refund_id: String, request_id: String) -> impl IntoView {
    crate::pages::island_hydrated();
    let action = ServerAction::<ActOnFailedRefund>::new();
    let error = reload_when_done(action);
    let act = move |what: &'static str| {
        let (refund_id, request_id) = (refund_id.clone(), request_id.clone());
        move |_| {
            action.dispatch(ActOnFailedRefund {
                refund_id: refund_id.clone(),
                action: what.into(),
                request_id: request_id.clone(),
            });
        }
    };
    let busy = move || action.pending().get();
    view! {
        <button type="button" disabled=busy data-testid="refund-retry" on:click=act("retry")>"Retry"</button>
        " "
        <button type="button" disabled=busy data-testid="refund-dismiss" on:click=act("dismiss")>"Dismiss"</button>
        <span class="error" role="alert" data-testid="queue-error">{move || error.get()}</span>
    }
}

/// Early fraud warnings: actionable ones first, each with "Refund as fraudulent".
#[component]
pub fn MerchantFraudWarningsPage() -> impl IntoView {
    let warnings = Resource::new(|| (), |_| list_fraud_warnings());
    view! {
        <Suspense fallback=|| view! { <p>"Loading fraud warnings…"</p> }>
            {move || Suspend::new(async move {
                match warnings.await {
                    Ok(list) => view! {
                        <section class="merchant-fraud-warnings">
                            <ConsoleNav/>
                            <h1>"Early fraud warnings"</h1>
                            // Once for every row's island.
                            {list.iter().any(|w| w.actionable && w.order_id.is_some()).then(|| view! {
                                <PreloadIsland island="refund_fraudulent_button"/>
                            })}
                            <table class="ledger">
                                <thead><tr><th>"Warning"</th><th>"Order"</th><th>"Fraud type"</th><th>"Actionable"</th><th>"Dispute"</th><th></th></tr></thead>
                                <tbody>{list.into_iter().map(|w| view! { <FraudWarningRow w/> }).collect_view()}</tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn FraudWarningRow(w: FraudWarningView) -> impl IntoView {
    let request_id = crate::pages::one_time_request_id();
    let order = w.order_id.clone().map(|o| {
        let href = format!("/merchant/orders/{o}");
        view! { <a href=href><code>{o.to_string()}</code></a> }
    });
    let dispute = w.dispute_id.clone().map(|d| {
        let href = format!("/merchant/disputes/{d}");
        view! { <a href=href><code>{d}</code></a> }
    });
    let action = (w.actionable && w.order_id.is_some()).then(|| {
        view! { <RefundFraudulentButton warning_id=w.id.clone() request_id/> }
    });
    view! {
        <tr data-testid="efw-row" data-actionable=w.actionable.to_string() data-order=w.order_id.as_ref().map(|o| o.to_string()).unwrap_or_default()>
            <td><code>{w.id.clone()}</code></td>
            <td>{order}</td>
            <td>{w.fraud_type.clone()}</td>
            <td>{if w.actionable { "yes" } else { "no" }}</td>
            <td>{dispute}</td>
            <td>{action}</td>
        </tr>
    }
}

/// The one-click answer to a warning: a full refund with `reason=fraudulent`.
#[island(lazy)]
fn RefundFraudulentButton(warning_id: String, request_id: String) -> impl IntoView {
    crate::pages::island_hydrated();
    let action = ServerAction::<RefundFraudulent>::new();
    let error = reload_when_done(action);
    let busy = move || action.pending().get();
    let click = move |_| {
        action.dispatch(RefundFraudulent {
            warning_id: warning_id.clone(),
            request_id: request_id.clone(),
        });
    };
    view! {
        <button type="button" disabled=busy data-testid="efw-refund" on:click=click>"Refund as fraudulent"</button>
        <span class="error" role="alert" data-testid="efw-error">{move || error.get()}</span>
    }
}

/// The last 30 days at a glance: money per day and currency (an SVG chart with its
/// figures as a table), payment success and declines, and what waits for the merchant.
#[component]
pub fn MerchantDashboardPage() -> impl IntoView {
    let dashboard = Resource::new(|| (), |_| merchant_dashboard());
    view! {
        <Suspense fallback=|| view! { <p>"Loading the dashboard…"</p> }>
            {move || Suspend::new(async move {
                match dashboard.await {
                    Ok(d) => view! { <DashboardView d/> }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let rate = d
        .success_percent()
        .map_or_else(|| "no payment yet".to_owned(), |p| format!("{p} %"));
    let declines = d
        .declines
        .iter()
        .map(|(code, n)| view! { <li data-testid="decline-row"><code>{code.clone()}</code> " × " {*n}</li> })
        .collect_view();
    let nearest = d.nearest_dispute.clone().map(|dp| {
        let href = format!("/merchant/disputes/{}", dp.id);
        let countdown = dp.countdown(now_secs());
        view! { " — nearest: " <a href=href><code>{dp.id.clone()}</code></a> " " <span class="countdown">{countdown}</span> }
    });
    let charts = if d.series.is_empty() {
        view! { <p data-testid="no-money">"No payment in the last 30 days."</p> }.into_any()
    } else {
        d.series
            .into_iter()
            .map(|series| view! { <MoneyChart series/> })
            .collect_view()
            .into_any()
    };
    let failed_payouts = (!d.failed_payouts.is_empty()).then(|| {
        view! {
            <li class="flag">
                <a href="/merchant/payouts">"Failed payouts"</a> ": "
                {d.failed_payouts.iter().map(|p| view! {
                    <span data-testid="failed-payout"><code>{p.id.clone()}</code> " " {p.amount.to_string()} " "
                        {p.failure_code.clone().unwrap_or_default()} " "</span>
                }).collect_view()}
            </li>
        }
    });
    view! {
        <section class="merchant-dashboard">
            <ConsoleNav/>
            <h1>"Dashboard"</h1>
            <p class="period">"Since " {day(d.since)} " (UTC), each currency on its own."</p>
            {charts}
            <div class="tiles">
                <div class="tile" data-testid="success-rate">
                    <h2>"Payment success"</h2>
                    <p class="figure">{rate}</p>
                    <p>{d.paid} " paid of " {d.attempted} " orders sent to Stripe"</p>
                    {(!d.declines.is_empty()).then(|| view! { <h3>"Last declines"</h3> })}
                    <ul class="declines">{declines}</ul>
                </div>
                <div class="tile">
                    <h2>"Waiting for you"</h2>
                    <ul class="waiting">
                        <li data-testid="open-disputes"><a href="/merchant/disputes">"Open disputes"</a> ": " {d.open_disputes} {nearest}</li>
                        <li data-testid="actionable-warnings"><a href="/merchant/fraud-warnings">"Actionable fraud warnings"</a> ": " {d.actionable_warnings}</li>
                        <li data-testid="failed-refunds"><a href="/merchant/refunds">"Failed refunds"</a> ": " {d.failed_refunds}</li>
                        <li data-testid="parked-events"><a href="/merchant/events?parked=1">"Parked events"</a> ": " {d.parked_events}</li>
                        <li data-testid="needs-review"><a href="/merchant/orders?status=needs_review">"Orders to review"</a> ": " {d.needs_review}</li>
                        {failed_payouts}
                    </ul>
                </div>
            </div>
        </section>
    }
}

/// One currency's money per day: a server-rendered SVG line chart (gross, refunded,
/// disputed, net) with a title and a description for assistive technology, and the same
/// figures as a table behind a toggle. No JavaScript.
#[component]
fn MoneyChart(series: CurrencySeries) -> impl IntoView {
    let frame = Frame::CHART;
    let range = Frame::range(&series);
    let code = series.currency.code().to_ascii_uppercase();
    let total = series.total();
    let money = |minor: i64| series.money(minor).to_string();
    let title = format!("Money per day in {code}, last 30 days");
    let desc = format!(
        "Gross {}, refunded {}, disputed {}, net {} over the period.",
        money(total.gross),
        money(total.refunded),
        money(total.disputed),
        money(total.net())
    );
    let (title_id, desc_id) = (format!("chart-title-{code}"), format!("chart-desc-{code}"));
    let labelled_by = format!("{title_id} {desc_id}");
    let zero = frame.y(0, range);
    let bottom = frame.height - frame.bottom;
    let n = series.days.len();
    let lines = Measure::ALL
        .iter()
        .map(|m| {
            view! {
                <polyline class=format!("line line-{}", m.label()) data-measure=m.label() points=frame.points(&series, *m) fill="none"/>
            }
        })
        .collect_view();
    let first_day = series.days.first().map(|d| day(d.day)).unwrap_or_default();
    let last_day = series.days.last().map(|d| day(d.day)).unwrap_or_default();
    let rows = series
        .days
        .iter()
        .rev()
        .map(|d| {
            view! {
                <tr data-testid="chart-row" data-day=day(d.day)>
                    <td>{day(d.day)}</td>
                    <td class="amount" data-testid="chart-gross">{money(d.gross)}</td>
                    <td class="amount">{money(d.refunded)}</td>
                    <td class="amount">{money(d.disputed)}</td>
                    <td class="amount" data-testid="chart-net">{money(d.net())}</td>
                </tr>
            }
        })
        .collect_view();
    let legend = Measure::ALL
        .iter()
        .map(|m| view! { <span class=format!("key key-{}", m.label())>{m.label()}</span> " " })
        .collect_view();
    view! {
        <figure class="chart" data-testid="money-chart" data-currency=code.clone()>
            <svg viewBox=format!("0 0 {} {}", frame.width, frame.height) role="img"
                aria-labelledby=labelled_by width="100%" height="220">
                <title id=title_id>{title.clone()}</title>
                <desc id=desc_id>{desc.clone()}</desc>
                <line class="axis" x1=frame.left y1=zero x2=frame.width y2=zero/>
                <line class="axis" x1=frame.left y1=frame.top x2=frame.left y2=bottom/>
                <text class="tick" x={frame.left - 4} y={frame.top + 4} text-anchor="end">{money(range.1)}</text>
                <text class="tick" x={frame.left - 4} y={zero + 4} text-anchor="end">"0"</text>
                {(range.0 < 0).then(|| view! { <text class="tick" x={frame.left - 4} y=bottom text-anchor="end">{money(range.0)}</text> })}
                <text class="tick" x=frame.x(0, n) y={frame.height - 4}>{first_day}</text>
                <text class="tick" x=frame.x(n.saturating_sub(1), n) y={frame.height - 4} text-anchor="end">{last_day}</text>
                {lines}
            </svg>
            <figcaption>{title} ": " {legend} <span class="desc">{desc}</span></figcaption>
            <details data-testid="chart-table-toggle">
                <summary>"Show the figures as a table"</summary>
                <table class="ledger" data-testid="chart-table">
                    <thead><tr><th>"Day"</th><th>"Gross"</th><th>"Refunded"</th><th>"Disputed"</th><th>"Net"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// Payouts, newest first; failed ones flagged with Stripe's reason.
#[component]
pub fn MerchantPayoutsPage() -> impl IntoView {
    let payouts = Resource::new(|| (), |_| list_payouts());
    view! {
        <Suspense fallback=|| view! { <p>"Loading payouts…"</p> }>
            {move || Suspend::new(async move {
                match payouts.await {
                    Ok(list) => view! {
                        <section class="merchant-payouts">
                            <ConsoleNav/>
                            <h1>"Payouts"</h1>
                            {list.is_empty().then(|| view! { <p>"No payout yet."</p> })}
                            <table class="ledger">
                                <thead><tr><th>"Payout"</th><th>"Amount"</th><th>"Status"</th><th>"Arrival"</th><th>"Failure"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|p| {
                                        let failure = [p.failure_code.clone(), p.failure_message.clone()]
                                            .into_iter().flatten().collect::<Vec<_>>().join(": ");
                                        view! {
                                            <tr data-testid="payout-row" data-status=p.status.clone() data-payout=p.id.clone()
                                                class:flag=p.failed()>
                                                <td><code>{p.id.clone()}</code> {(!p.automatic).then_some(" (manual)")}</td>
                                                <td class="amount">{p.amount.to_string()}</td>
                                                <td class=format!("status status-{}", p.status)>{p.status.clone()}</td>
                                                <td>{day(p.arrival_date * 1000)}</td>
                                                <td>{failure}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

/// Every stored Stripe event, newest first; parked ones marked, each with "Process again".
#[component]
pub fn MerchantEventsPage() -> impl IntoView {
    let query = use_query_map();
    let args = move || {
        let q = query.read();
        (
            q.get("parked").unwrap_or_default(),
            q.get("page").unwrap_or_default(),
        )
    };
    let events = Resource::new(args, |(parked, page)| list_events(parked, page));
    view! {
        <Suspense fallback=|| view! { <p>"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(page) => view! { <EventsList page/> }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventsList(page: EventsPage) -> impl IntoView {
    let EventsPage {
        events,
        page,
        has_more,
        parked_only,
    } = page;
    let parked = if parked_only { "1" } else { "" };
    let previous = (page > 1).then(|| {
        let href = format!("/merchant/events?parked={parked}&page={}", page - 1);
        view! { <a href=href rel="prev">"← Newer"</a> }
    });
    let next = has_more.then(|| {
        let href = format!("/merchant/events?parked={parked}&page={}", page + 1);
        view! { <a href=href rel="next">"Older →"</a> }
    });
    view! {
        <section class="merchant-events">
            <ConsoleNav/>
            <h1>{if parked_only { "Parked events" } else { "Stripe events" }}</h1>
            <p class="filters">
                <a href="/merchant/events" aria-current={(!parked_only).then_some("page")}>"All"</a>
                " · "
                <a href="/merchant/events?parked=1" aria-current={parked_only.then_some("page")}>"Parked only"</a>
            </p>
            <EventTable events timeline=false/>
            <nav class="pages">{previous} " page " {page} " " {next}</nav>
        </section>
    }
}

/// Stored events: the events page (newest first) or an order's timeline (oldest first).
#[component]
fn EventTable(events: Vec<EventRow>, timeline: bool) -> impl IntoView {
    let process_again = <ProcessEventAgain as leptos::server_fn::ServerFn>::url();
    let rows = events
        .into_iter()
        .map(|e| {
            let order = e.order_id.clone().filter(|_| !timeline).map(|o| {
                let href = format!("/merchant/orders/{o}");
                view! { <a href=href><code>{o.to_string()}</code></a> }
            });
            let state = match (e.processed_at, e.parked) {
                (Some(at), _) => date_time(at),
                (None, true) => "parked".to_owned(),
                (None, false) => "waiting".to_owned(),
            };
            let again = e.processed_at.is_none().then(|| {
                view! {
                    <form method="post" action=process_again class="inline">
                        <input type="hidden" name="event_id" value=e.id.clone()/>
                        <button type="submit" data-testid="event-retry">"Process again"</button>
                    </form>
                }
            });
            view! {
                <tr data-testid={if timeline { "order-event" } else { "event-row" }} data-event=e.id.clone()
                    data-parked=e.parked.to_string() class:flag=e.parked>
                    <td><code>{e.kind.clone()}</code><br/><small><code>{e.id.clone()}</code></small></td>
                    <td><code>{e.object_id.clone().unwrap_or_default()}</code> " " {order}</td>
                    <td>{date_time(e.created * 1000)}</td>
                    <td>{date_time(e.received_at)}</td>
                    <td>{state}</td>
                    <td>{e.attempts}</td>
                    <td><small>{e.last_error.clone().unwrap_or_default()}</small> {again}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="ledger events">
            <thead><tr><th>"Event"</th><th>"Object"</th><th>"Created"</th><th>"Received"</th><th>"Processed"</th><th>"Attempts"</th><th>"Last error"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Reconciliation: "Reconcile now", the latest runs, and each difference they found
/// between the shop and Stripe (and whether it is resolved).
#[component]
pub fn MerchantReconciliationPage() -> impl IntoView {
    let report = Resource::new(|| (), |_| get_reconciliation());
    let reconcile = <ReconcileNow as leptos::server_fn::ServerFn>::url();
    view! {
        <Suspense fallback=|| view! { <p>"Loading the reconciliation…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(ReconciliationReport { runs, drift }) => view! {
                        <section class="merchant-reconciliation">
                            <ConsoleNav/>
                            <h1>"Reconciliation"</h1>
                            <p>"Reads Stripe's events since the last run (30 days at most), applies those the webhook missed, then fetches every payment, refund, dispute and payout still moving and applies Stripe's state."</p>
                            <form method="post" action=reconcile>
                                <button type="submit" data-testid="reconcile-now">"Reconcile now"</button>
                            </form>
                            <h2>"Runs"</h2>
                            <table class="ledger">
                                <thead><tr><th>"Started"</th><th>"By"</th><th>"Events read"</th><th>"Missed, applied"</th><th>"Objects checked"</th><th>"Differences"</th><th>"Result"</th></tr></thead>
                                <tbody>
                                    {runs.into_iter().map(|r| view! {
                                        <tr data-testid="run-row" data-run=r.id.clone()>
                                            <td>{date_time(r.started_at)}</td>
                                            <td>{r.started_by.clone()}</td>
                                            <td>{r.events_read}</td>
                                            <td data-testid="run-missed">{r.events_missed}</td>
                                            <td>{r.objects_checked}</td>
                                            <td>{r.drifts}</td>
                                            <td>{match (&r.error, r.finished_at) {
                                                (Some(e), _) => format!("stopped: {e}"),
                                                (None, Some(_)) => "done".to_owned(),
                                                (None, None) => "running".to_owned(),
                                            }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <h2>"Differences found"</h2>
                            {drift.is_empty().then(|| view! { <p data-testid="no-drift">"None: the shop matched Stripe."</p> })}
                            <table class="ledger">
                                <thead><tr><th>"Object"</th><th>"Order"</th><th>"Shop had"</th><th>"Stripe says"</th><th>"Now"</th></tr></thead>
                                <tbody>
                                    {drift.into_iter().map(|d| {
                                        let order = d.order_id.clone().map(|o| {
                                            let href = format!("/merchant/orders/{o}");
                                            view! { <a href=href><code>{o.to_string()}</code></a> }
                                        });
                                        view! {
                                            <tr data-testid="drift-row" data-kind=d.kind.clone() data-object=d.object_id.clone()
                                                data-resolved=d.resolved.to_string() class:flag=!d.resolved>
                                                <td>{d.kind.clone()} " " <code>{d.object_id.clone()}</code></td>
                                                <td>{order}</td>
                                                <td>{d.shop_state.clone()}</td>
                                                <td>{d.stripe_state.clone()}</td>
                                                <td>{if d.resolved { "resolved" } else { "needs a look" }}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Err(e) => failure(&e),
                }
            })}
        </Suspense>
    }
}
