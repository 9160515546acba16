//! The checkout's user interface: routes, components and `#[server]` functions.
//!
//! Everything here compiles twice: with `ssr` into the server (where server functions
//! run against [`backend::ShopBackend`]) and with `hydrate` into the browser's WASM
//! (where server functions become HTTP calls).

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
mod checkout;
pub mod codec;
mod pages;
#[cfg(feature = "ssr")]
pub mod security;
pub mod shop;

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
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
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
                    <Route path=path!("/checkout/:id") view=checkout::CheckoutPage ssr=SsrMode::Async/>
                    <Route path=path!("/orders/:id") view=pages::OrderPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
