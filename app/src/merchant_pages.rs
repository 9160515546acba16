//! The merchant console's pages (server-rendered; the refund form is the one island).
//! A shopper or a guest gets the site's 404 page: the server functions behind these pages
//! answer 404 to anyone but a merchant.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use shop::refund::{MerchantOrder, MerchantOrders, RefundView};
use shop::{OrderStatus, ShopError};

use crate::merchant_api::{get_merchant_order, list_merchant_orders, RefundOrder};
use crate::pages::{NotFound, PostForm, PreloadIsland};

/// The 404 page for anyone but a merchant; a message for other failures.
fn failure(error: &ShopError) -> AnyView {
    match error {
        ShopError::NotFound => view! { <NotFound/> }.into_any(),
        other => view! { <p class="error" role="alert">{other.customer_message()}</p> }.into_any(),
    }
}

fn date_time(ms: i64) -> String {
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
    let options = OrderStatus::ALL
        .iter()
        .map(|s| {
            let selected = s.as_str() == status;
            view! { <option value=s.as_str() selected=selected>{s.as_str()}</option> }
        })
        .collect_view();
    view! {
        <section class="merchant-orders">
            <h1>"Orders"</h1>
            <form method="get" action="/merchant/orders" class="filters">
                <label>"Status "
                    <select name="status" data-testid="status-filter">
                        <option value="">"all"</option>
                        {options}
                    </select>
                </label>
                <label>"Search "
                    <input type="search" name="q" value=q placeholder="ord_…, pi_… or email" data-testid="order-search"/>
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
                                <td class=format!("status status-{}", o.status.as_str())>{o.status.as_str()}</td>
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
        audit,
    } = order;
    let id = order.id.to_string();
    // One id per rendering of the form: a double click or a resent form is one refund.
    #[cfg(feature = "ssr")]
    let request_id = shop::RequestId::generate().as_str().to_owned();
    #[cfg(not(feature = "ssr"))]
    let request_id = String::new();
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
                " · " {email.unwrap_or_else(|| "guest".into())}
                " · " {date_time(order.created_at)}
                " · " <code>{payment_intent_id.unwrap_or_else(|| "no PaymentIntent".into())}</code>
            </p>
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
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(_)) => {
            let _ = window().location().reload();
        }
        Some(Err(e)) => error.set(Some(e.customer_message())),
        None => {}
    });
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
