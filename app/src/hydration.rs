//! What `<head>` asks the browser to fetch and run, server only: the WASM module that
//! hydrates the islands (in place of Leptos' `<HydrationScripts islands=true/>`), or on
//! the pages without an island one of the `pay` crate's modules (their forms without
//! Leptos: [`module_of_page`]), and Stripe.js started before any WASM on the pages with a
//! card form.
//!
//! Why not Leptos' own script: in islands mode it waits for `requestIdleCallback` before
//! it even imports the JS that fetches the WASM, so an island hydrated (and a card form
//! started loading) only once Chromium found the page idle — 100 ms and more after the
//! module had arrived. This one imports at once and then walks the islands exactly as
//! Leptos' does (in document order, each `leptos-children` callback before the islands
//! inside it), so lazy islands and `window.__hydrateIsland` behave as before, only
//! sooner.

use leptos::prelude::*;

/// The module script and its preloads: `/pkg/{output}.js` (wasm-bindgen's glue) and
/// the `.wasm` it instantiates.
#[component]
pub fn HydrationScripts(options: LeptosOptions) -> impl IntoView {
    let pkg = format!("/{}", options.site_pkg_dir);
    let nonce = leptos::nonce::use_nonce();
    // Islands mode: outside its islands the page never hydrates, so the rest renders
    // without hydration markers (as Leptos' own component arranges).
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let (js, wasm, script, split) = if let Some(module) = page_module() {
        let js = format!("/{PAY_MODULE}/{module}.js");
        let wasm = format!("/{PAY_MODULE}/{}", module_wasm_file(module));
        let script = pay_script(&js, &wasm);
        (js, wasm, script, None)
    } else {
        let js = format!("{pkg}/{}.js", options.output_name);
        // cargo-leptos names the module `{output}.wasm` (and says so at build time); a
        // plain wasm-bindgen build names it `{output}_bg.wasm`, as Leptos' own component
        // assumes.
        let suffix = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            ""
        } else {
            "_bg"
        };
        let wasm = format!("{pkg}/{}{suffix}.wasm", options.output_name);
        let script = module_script(&js, &wasm);
        // With `--split`, the glue imports wasm-split's loader once the module is
        // instantiated: preloaded here, it arrives with the rest instead of after it.
        (js, wasm, script, split_loader(&options))
    };
    let split = split.map(|href| view! { <link rel="modulepreload" href=href crossorigin=""/> });
    view! {
        <link rel="modulepreload" href=js crossorigin=""/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin=""/>
        {split}
        <script type="module" async=true nonce=nonce>{script}</script>
    }
}

/// The site directory scripts/pay.sh builds the `pay` crate's modules into, and the path
/// the server serves them under (`/pay/`).
pub const PAY_MODULE: &str = "pay";

/// The `pay` crate's modules (one per feature of the crate): `pay` runs the checkout's
/// payment form, `shop` the other pages' forms (cart, "Add a card", sign-in, sign-up).
pub const PAY_MODULES: [&str; 2] = ["pay", "shop"];

/// A module's WASM file in its directory (wasm-bindgen's `{name}_bg.wasm`): the page
/// preloads it and the server checks at start that it is there.
pub fn module_wasm_file(module: &str) -> String {
    format!("{module}_bg.wasm")
}

/// Which of the `pay` crate's modules this page runs instead of the Leptos one, if any:
/// the pages without a Leptos island, whose forms the module takes over (see `App`'s
/// routes). `<head>` renders before the route, so the path decides.
fn page_module() -> Option<&'static str> {
    #[cfg(feature = "ssr")]
    let module =
        use_context::<http::request::Parts>().and_then(|parts| module_of_page(parts.uri.path()));
    #[cfg(not(feature = "ssr"))]
    let module = None;
    module
}

/// `pay` for the checkout, `/checkout/{one segment}` (the route's own shape), where the
/// shopper waits: its module carries the payment form only. `shop` for the shop (`/`) and
/// the cart (`/cart`), with the cart's forms, the shopper's cards (`/account/cards`),
/// with "Add a card", the sign-in and sign-up pages, and an order's page
/// (`/orders/{one segment}`), with its status. Any other path (a deeper one under
/// `/checkout/` or `/orders/` is the 404 page) runs the Leptos module.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn module_of_page(path: &str) -> Option<&'static str> {
    // `{prefix}{one segment}`: the route's own shape.
    let one_segment_under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
    };
    if one_segment_under("/checkout/") {
        return Some("pay");
    }
    (one_segment_under("/orders/")
        || matches!(
            path,
            "/" | "/cart" | "/account/cards" | "/account/sign-in" | "/account/sign-up"
        ))
    .then_some("shop")
}

/// The `pay` crate's module script: import the glue, instantiate the WASM, and once the
/// document is parsed hand each element the server marked `data-wasm` to the module's
/// function of that name, if the module has it (`pay_form`: a payment form; `cart`: the
/// cart and the page's cart forms; `add_card`: "Add a card"; `auth_form`: sign-in or
/// sign-up; `order_status`: the order page's status); then the page is hydrated. If the
/// module cannot load (a deployment without it, a network failure), a payment form says
/// so instead of "Loading…" forever, and the pay button stays disabled; the other forms
/// still post as plain forms.
fn pay_script(js: &str, wasm: &str) -> String {
    format!(
        r#"const parsed=()=>document.readyState==="loading"?new Promise(r=>document.addEventListener("DOMContentLoaded",r,{{once:true}})):null;
const forms=()=>document.querySelectorAll("form[data-wasm=pay_form]");
try{{
const mod=await import({js});
await mod.default({{module_or_path:{wasm}}});
await parsed();
const run={{pay_form:mod.pay_form,cart:mod.cart,add_card:mod.add_card,auth_form:mod.auth_form,order_status:mod.order_status}};
for(const el of document.querySelectorAll("[data-wasm]"))run[el.dataset.wasm]?.(el);
}}catch(e){{
await parsed();
console.error("the page's module did not load",e);
for(const form of forms()){{
for(const p of form.querySelectorAll(".card-loading"))p.hidden=true;
const error=form.querySelector("[data-testid=payment-error]");if(error)error.textContent={failed};
}}
}}
document.body.setAttribute("data-hydrated","true");"#,
        js = js_string(js),
        wasm = js_string(wasm),
        failed = js_string(stripe_types::messages::FORM_NOT_STARTED),
    )
}

/// `/pkg/__wasm_split.….js` when the site was built with `--split` (the name cargo-leptos
/// gives it without file hashing), looked up once.
fn split_loader(options: &LeptosOptions) -> Option<String> {
    use std::sync::OnceLock;
    const NAME: &str = "__wasm_split.______________________.js";
    static FOUND: OnceLock<Option<String>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let pkg = options.site_pkg_dir.as_ref();
            let path = std::path::Path::new(options.site_root.as_ref())
                .join(pkg)
                .join(NAME);
            path.exists().then(|| format!("/{pkg}/{NAME}"))
        })
        .clone()
}

/// A JavaScript string literal of `text`, safe inside an HTML `<script>` element.
fn js_string(text: &str) -> String {
    serde_json::to_string(text)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The module script: import the glue, instantiate the WASM, then hydrate the islands in
/// document order (awaiting each, as a lazy island fetches its own module first).
///
/// The script is `async`: it may start as soon as it is parsed, so the WASM can be
/// fetched and instantiated while the rest of the page is parsed (a deferred module
/// script only starts once parsing is over; traces on this machine still show the
/// compile after the first layout, the main thread being busy until then). Only the
/// hydration waits for the whole document (`DOMContentLoaded`), so that the walk sees
/// every island.
fn module_script(js: &str, wasm: &str) -> String {
    format!(
        r#"const stack=[];
const island=async(el,id,mod)=>{{const f=mod[id];if(!f){{console.warn("no WASM function for the island "+id);return}}const cb=stack[stack.length-1];if(cb)cb();const r=f(el);if(r&&r.then)await r}};
const walk=async(node,mod)=>{{for(const el of node.children){{const tag=el.tagName;if(tag==="LEPTOS-ISLAND"){{await island(el,el.dataset.component||null,mod);await walk(el,mod)}}else if(tag==="LEPTOS-CHILDREN"){{stack.push(el.$$on_hydrate);await walk(el,mod);stack.pop()}}else await walk(el,mod)}}}};
const mod=await import({js});
window.__hydrateIsland=(el,id)=>island(el,id,mod);
await mod.default({{module_or_path:{wasm}}});
if(document.readyState==="loading")await new Promise(r=>document.addEventListener("DOMContentLoaded",r,{{once:true}}));
mod.hydrate();
await walk(document.body,mod);"#,
        js = js_string(js),
        wasm = js_string(wasm),
    )
}

/// Starts Stripe.js from `<head>`, before the WASM that mounts the card form has even
/// arrived: a nonce'd inline script adds `<script id="stripe-js" async>` and records how
/// it fared in `data-load-state` (`loading`, `loaded`, `failed`), which is what
/// `stripe_js::load` reads — it waits for a script still loading, uses a loaded one, and
/// replaces one that failed.
///
/// Beside it, a `<link rel="preload" as="script">` for the same URL: the browser's
/// preload scanner requests it as soon as `<head>` arrives, while the inline script (a
/// parser-inserted script) runs only once the stylesheet before it has loaded — Stripe.js
/// was requested some 40 ms later than the page allowed. The script then takes the
/// preloaded response (no `crossorigin` on either, so they match).
#[component]
pub fn StartStripeJs(url: String) -> impl IntoView {
    let preload = url.clone();
    let script = format!(
        r#"(()=>{{const s=document.createElement("script");s.id="stripe-js";s.async=true;s.src={url};s.setAttribute("data-load-state","loading");s.addEventListener("load",()=>s.setAttribute("data-load-state","loaded"));s.addEventListener("error",()=>s.setAttribute("data-load-state","failed"));document.head.appendChild(s)}})()"#,
        url = js_string(&url),
    );
    view! {
        <leptos_meta::Link rel="preload" href=preload as_="script"/>
        <leptos_meta::Script>{script}</leptos_meta::Script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_cannot_close_the_script_element() {
        let s = js_string("https://x/</script><script>alert(1)</script>&\"");
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        assert!(s.starts_with('"') && s.ends_with('"'));
        assert!(s.contains("\\u003c/script\\u003e"));
        assert!(s.contains("\\\""));
    }

    #[test]
    fn the_pay_script_hands_each_marked_element_to_its_function_of_the_module() {
        let script = pay_script("/pay/pay.js", "/pay/pay_bg.wasm");
        assert!(script.contains(r#"await import("/pay/pay.js")"#));
        assert!(script.contains(r#"module_or_path:"/pay/pay_bg.wasm""#));
        let (parsed, forms, hydrated) = (
            script.find("DOMContentLoaded").unwrap(),
            script.find("run[el.dataset.wasm]?.(el)").unwrap(),
            script.find("data-hydrated").unwrap(),
        );
        assert!(parsed < forms && forms < hydrated);
        // Only the module's page functions, by name: not any export a page could name.
        assert!(script.contains(
            "const run={pay_form:mod.pay_form,cart:mod.cart,add_card:mod.add_card,auth_form:mod.auth_form,order_status:mod.order_status}"
        ));
        // A module that cannot load leaves the shopper a reason, not "Loading…".
        assert!(script.contains("catch(e)"));
        assert!(script.contains(&js_string(stripe_types::messages::FORM_NOT_STARTED)));
    }

    #[test]
    fn the_checkout_runs_its_own_module_and_the_pages_without_islands_the_shops() {
        assert_eq!(module_of_page("/checkout/ord_123"), Some("pay"));
        for page in [
            "/",
            "/cart",
            "/account/cards",
            "/account/sign-in",
            "/account/sign-up",
            "/orders/ord_123",
        ] {
            assert_eq!(module_of_page(page), Some("shop"), "{page}");
        }
        for other in [
            "/checkout/",
            "/checkout",
            "/checkout/ord_1/x",
            "/cart/",
            "/orders/",
            "/orders/ord_1/x",
            "/account/orders",
            "/merchant",
            "/x/checkout/ord_1",
        ] {
            assert_eq!(module_of_page(other), None, "{other}");
        }
        for module in PAY_MODULES {
            assert_eq!(module_wasm_file(module), format!("{module}_bg.wasm"));
        }
    }

    #[test]
    fn the_module_script_imports_at_once_and_hydrates_in_order() {
        let script = module_script("/pkg/checkout.js", "/pkg/checkout.wasm");
        assert!(script.contains(r#"await import("/pkg/checkout.js")"#));
        assert!(script.contains(r#"module_or_path:"/pkg/checkout.wasm""#));
        assert!(!script.contains("requestIdleCallback"));
        let (hydrate, walk) = (
            script.find("mod.hydrate()").unwrap(),
            script.find("await walk(document.body").unwrap(),
        );
        assert!(hydrate < walk);
        // Instantiated at once, hydrated only once the whole document is there.
        let (instantiate, parsed) = (
            script.find("await mod.default(").unwrap(),
            script.find("DOMContentLoaded").unwrap(),
        );
        assert!(instantiate < parsed && parsed < hydrate);
    }
}
