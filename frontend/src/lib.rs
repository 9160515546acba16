//! Entry point of the WASM bundle. Islands: the server renders every page; this only
//! hydrates the `#[island]` components of `app` (exported by the `#[island]` macro).

#[allow(unused_imports)]
use app::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Release builds abort on panic without a message (see scripts/toolchain.sh), so the
    // hook only helps in debug builds.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Every island marks the page hydrated once all have run (`app`'s `island_hydrated`);
    // a page without islands is hydrated now.
    let document = leptos::prelude::document();
    if let (Some(body), Ok(None)) = (document.body(), document.query_selector("leptos-island")) {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
