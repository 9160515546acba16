//! The checkout's user interface: routes, components and `#[server]` functions.
//!
//! Everything here compiles twice: with `ssr` into the server (where server functions
//! run against [`backend::ShopBackend`]) and with `hydrate` into the browser's WASM
//! (where server functions become HTTP calls).

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
mod checkout;
mod pages;
#[cfg(feature = "ssr")]
pub mod security;
pub mod shop;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path,
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
                <HydrationScripts options/>
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
    pages::provide_cart_state();
    // Effects run only in the browser: this marks the page as hydrated (tests wait for it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/checkout.css"/>
        <Title text="Checkout"/>
        <Router>
            <pages::SandboxBanner/>
            <header class="site-header">
                <A href="/" attr:class="brand">"Rust Supply Co."</A>
                <pages::CartLink/>
            </header>
            <main>
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("") view=pages::ShopPage/>
                    <Route path=path!("/cart") view=pages::CartPage/>
                    <Route path=path!("/checkout/:id") view=checkout::CheckoutPage/>
                    <Route path=path!("/orders/:id") view=pages::OrderPage/>
                </Routes>
            </main>
        </Router>
    }
}
