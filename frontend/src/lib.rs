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
}
