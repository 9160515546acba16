//! The checkout's user interface: routes, components and `#[server]` functions.
//!
//! Everything here compiles twice: with `ssr` into the server (where server functions
//! call the `shop` crate's storage and services directly, see [`api`]) and with
//! `hydrate` into the browser's WASM (where server functions become HTTP calls).
//!
//! - [`api`]: the server functions; [`edge`] (ssr): their context, statuses and cookie;
//! - [`codec`]: the server functions' wire format;
//! - `pages`: the layout, shop, cart and order pages; `payment_page`: the card payment page;
//! - `account_pages`: sign up/in, the shopper's orders and saved cards, header links;
//! - [`merchant_api`] and `merchant_pages`: the merchant console (orders, ledger, refunds);
//! - [`security`] (ssr): the Content-Security-Policy of every page;
//! - `hydration`: the script that hydrates the islands at once, and Stripe.js
//!   started from `<head>` on the pages with a card form.

mod account_pages;
pub mod api;
pub mod codec;
#[cfg(feature = "ssr")]
pub mod edge;
pub mod merchant_api;
mod merchant_pages;
mod pages;
pub use pages::DemoMerchant;
mod hydration;
pub use hydration::{module_wasm_file, PAY_MODULE, PAY_MODULES};
mod payment_page;
#[cfg(feature = "ssr")]
pub mod security;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    security::set_policy_header(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // No icon, and no request for /favicon.ico on every page.
                <link rel="icon" href="data:,"/>
                <AutoReload options=options.clone()/>
                <hydration::HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Routes render on the server only (islands): no client-side router ships as WASM;
    // links are plain page loads, fully rendered before they are sent.
    view! {
        <Stylesheet id="leptos" href="/pkg/checkout.css"/>
        <Title text="Checkout"/>
        <Router>
            <pages::SandboxBanner/>
            <Routes fallback=|| view! { <pages::Layout><pages::NotFound/></pages::Layout> }>
                <ParentRoute path=path!("") view=pages::LayoutWithOutlet ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::ShopPage ssr=SsrMode::Async/>
                    <Route path=path!("/cart") view=pages::CartPage ssr=SsrMode::Async/>
                    <Route path=path!("/checkout/:id") view=payment_page::PaymentPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders/:id") view=pages::OrderPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/sign-up") view=account_pages::SignUpPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/sign-in") view=account_pages::SignInPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/orders") view=account_pages::OrdersPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/cards") view=account_pages::CardsPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant") view=merchant_pages::MerchantDashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/orders") view=merchant_pages::MerchantOrdersPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/orders/:id") view=merchant_pages::MerchantOrderPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/disputes") view=merchant_pages::MerchantDisputesPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/refunds") view=merchant_pages::MerchantRefundsPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/fraud-warnings") view=merchant_pages::MerchantFraudWarningsPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/disputes/:id") view=merchant_pages::MerchantDisputePage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/payouts") view=merchant_pages::MerchantPayoutsPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/events") view=merchant_pages::MerchantEventsPage ssr=SsrMode::Async/>
                    <Route path=path!("/merchant/reconciliation") view=merchant_pages::MerchantReconciliationPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
