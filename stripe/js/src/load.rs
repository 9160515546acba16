//! Loading Stripe.js into the page, once.

use std::fmt;

use js_sys::{Function, Promise};
use stripe_types::messages;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, HtmlScriptElement, Node, Window};

/// `id` of the `<script>` element [`load`] adds.
pub const SCRIPT_ID: &str = "stripe-js";

/// Where [`load`] records how its script fared (`loading`, `loaded`, `failed`).
const STATE_ATTR: &str = "data-load-state";
const LOADING: &str = "loading";
const LOADED: &str = "loaded";
const FAILED: &str = "failed";
/// The value the timer rejects with, to tell a timeout from an `error` event.
const TIMEOUT_MARK: &str = "stripe-js:timeout";

/// Why Stripe.js could not be loaded. As for every error of this crate, `Display` is for
/// developers and logs, [`LoadError::customer_message`] for the shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadError {
    /// The script could not be fetched (offline, blocked by an ad blocker or the
    /// Content-Security-Policy, HTTP error), or there is no page (`window`) at all.
    Failed,
    /// Neither `load` nor `error` within this many milliseconds.
    TimedOut(u32),
    /// The script ran but `window.Stripe` is not a function (wrong URL?).
    NotAFunction,
}

impl LoadError {
    /// A fixed sentence for the shopper.
    pub fn customer_message(&self) -> &'static str {
        messages::FORM_NOT_LOADED
    }

    /// What went wrong, for developers (also what `Display` writes).
    pub fn reason(&self) -> &'static str {
        match self {
            LoadError::Failed => "the Stripe.js script failed to load (network, CSP or blocker)",
            LoadError::TimedOut(_) => "the Stripe.js script did not load in time",
            LoadError::NotAFunction => "the script loaded but window.Stripe is not a function",
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::TimedOut(ms) => write!(f, "{} ({ms} ms)", self.reason()),
            _ => f.write_str(self.reason()),
        }
    }
}

impl std::error::Error for LoadError {}

/// The global `Stripe` function, if Stripe.js has been loaded.
pub(crate) fn stripe_function() -> Option<Function> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Stripe"))
        .ok()
        .filter(JsValue::is_function)
        .map(JsCast::unchecked_into)
}

/// Loads Stripe.js once per page by adding `<script id="stripe-js" src=url async>` to
/// the document's head, and resolves once `window.Stripe` exists.
///
/// - `window.Stripe` already a function: `Ok` at once, nothing added.
/// - A `#stripe-js` script still loading (another call, or one in the server's HTML):
///   waits for it instead of adding a second one.
/// - A `#stripe-js` script that failed before: removed, and a new one is added (so a
///   "try again" button can simply call `load` again).
/// - `timeout_ms` bounds the wait (`0` = no limit) → [`LoadError::TimedOut`].
///
/// No Rust callback is involved: the promise's own `resolve`/`reject` are the
/// script's `load`/`error` listeners and the timer's callback, and are removed (the
/// timer cleared) when the wait ends or the future is dropped.
pub async fn load(url: &str, timeout_ms: u32) -> Result<(), LoadError> {
    if stripe_function().is_some() {
        return Ok(());
    }
    let window = web_sys::window().ok_or(LoadError::Failed)?;
    let document = window.document().ok_or(LoadError::Failed)?;
    let script = match reusable_script(&document) {
        Some(script) => script,
        None => add_script(&document, url).ok_or(LoadError::Failed)?,
    };

    let result = match wait(&window, &script, timeout_ms).await {
        Ok(()) if stripe_function().is_some() => Ok(()),
        Ok(()) => Err(LoadError::NotAFunction),
        Err(reason) if reason.as_string().as_deref() == Some(TIMEOUT_MARK) => {
            Err(LoadError::TimedOut(timeout_ms))
        }
        Err(_) => Err(LoadError::Failed),
    };
    let state = if result.is_ok() { LOADED } else { FAILED };
    let _ = script.set_attribute(STATE_ATTR, state);
    result
}

/// The existing `#stripe-js` script, when it may still be loading. One that failed,
/// or that loaded without leaving a `window.Stripe`, is removed.
fn reusable_script(document: &Document) -> Option<HtmlScriptElement> {
    let existing = document.get_element_by_id(SCRIPT_ID)?;
    let state = existing.get_attribute(STATE_ATTR);
    match existing.dyn_into::<HtmlScriptElement>() {
        Ok(script) if !matches!(state.as_deref(), Some(FAILED | LOADED)) => Some(script),
        Ok(script) => {
            script.remove();
            None
        }
        Err(other) => {
            other.remove();
            None
        }
    }
}

fn add_script(document: &Document, url: &str) -> Option<HtmlScriptElement> {
    let script: HtmlScriptElement = document.create_element("script").ok()?.dyn_into().ok()?;
    script.set_id(SCRIPT_ID);
    script.set_async(true);
    script.set_src(url);
    script.set_attribute(STATE_ATTR, LOADING).ok()?;
    let parent: Node = match document.head() {
        Some(head) => head.into(),
        None => document.body()?.into(),
    };
    parent.append_child(&script).ok()?;
    Some(script)
}

/// The listeners and timer of one wait, undone when the wait ends or is abandoned.
struct Pending<'a> {
    window: &'a Window,
    script: &'a HtmlScriptElement,
    resolve: Function,
    reject: Function,
    timer: Option<i32>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(timer) = self.timer {
            self.window.clear_timeout_with_handle(timer);
        }
        let _ = self
            .script
            .remove_event_listener_with_callback("load", &self.resolve);
        let _ = self
            .script
            .remove_event_listener_with_callback("error", &self.reject);
    }
}

/// Resolves on the script's `load` event; rejects on `error` (with the event) or when
/// the timer fires (with [`TIMEOUT_MARK`]).
async fn wait(window: &Window, script: &HtmlScriptElement, timeout_ms: u32) -> Result<(), JsValue> {
    let mut pending = None;
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let _ = script.add_event_listener_with_callback("load", &resolve);
        let _ = script.add_event_listener_with_callback("error", &reject);
        let timer = (timeout_ms > 0)
            .then(|| {
                window.set_timeout_with_callback_and_timeout_and_arguments_1(
                    &reject,
                    i32::try_from(timeout_ms).unwrap_or(i32::MAX),
                    &JsValue::from_str(TIMEOUT_MARK),
                )
            })
            .and_then(Result::ok);
        pending = Some(Pending {
            window,
            script,
            resolve,
            reject,
            timer,
        });
    });
    let _pending = pending;
    JsFuture::from(promise).await.map(drop)
}

/// Resolves after `ms` milliseconds (`setTimeout`): a bound on waits the shopper should
/// not sit through, raced against the work.
pub async fn delay(ms: u32) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            &resolve,
            i32::try_from(ms).unwrap_or(i32::MAX),
        );
    });
    let _ = JsFuture::from(promise).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopper_sees_one_clear_sentence() {
        for e in [
            LoadError::Failed,
            LoadError::TimedOut(10_000),
            LoadError::NotAFunction,
        ] {
            assert_eq!(
                e.customer_message(),
                "The payment form could not be loaded. Check your connection and reload the page."
            );
            assert!(!e.reason().is_empty());
            // Display is for developers: it says what happened, not the shopper's sentence.
            assert!(e.to_string().starts_with(e.reason()), "{e}");
        }
    }
}
