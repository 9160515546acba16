//! The Content-Security-Policy of every page: scripts only from this origin (with the
//! per-request nonce Leptos puts on its hydration script) and the Stripe.js origin in
//! use, `'wasm-unsafe-eval'` for the WASM, frames and API calls only to Stripe (or the
//! offline sandbox). Set from the shell, where the nonce and the payments config are.

use leptos::prelude::*;

use shop::PaymentsConfig;

const STRIPE_JS: &str = "https://js.stripe.com";
/// Stripe.js loads parts of itself from subdomains (Stripe's CSP guidance lists it).
const STRIPE_JS_SUBDOMAINS: &str = "https://*.js.stripe.com";
const STRIPE_HOOKS: &str = "https://hooks.stripe.com";
const STRIPE_API: &str = "https://api.stripe.com";

/// `scheme://host[:port]` of a URL.
pub(crate) fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| &url[..scheme_end + end])
}

/// The policy for a page. `reload_port`: cargo-leptos' live-reload websocket (dev only).
pub fn content_security_policy(
    config: &PaymentsConfig,
    nonce: &str,
    reload_port: Option<u32>,
) -> String {
    let js = origin(&config.js_url).unwrap_or(STRIPE_JS);
    let (scripts, frames, api) = if config.sandbox {
        // The sandbox serves Stripe.js, its card frame, 3-D Secure pages and the API.
        (vec![js], vec![js], vec![js])
    } else {
        let mut scripts = vec![js];
        let mut frames = vec![STRIPE_JS, STRIPE_JS_SUBDOMAINS, STRIPE_HOOKS];
        if js == STRIPE_JS {
            scripts.push(STRIPE_JS_SUBDOMAINS);
        } else {
            frames.push(js);
        }
        (scripts, frames, vec![STRIPE_API])
    };
    let mut connect = format!("'self' {}", api.join(" "));
    if let Some(port) = reload_port {
        connect.push_str(&format!(" ws://localhost:{port} ws://127.0.0.1:{port}"));
    }
    format!(
        "default-src 'self'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval' {scripts}; \
         frame-src {frames}; \
         connect-src {connect}; \
         img-src 'self' data:; \
         style-src 'self' 'unsafe-inline'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        scripts = scripts.join(" "),
        frames = frames.join(" "),
    )
}

/// Sets the policy on the page being rendered (server side, inside a request).
pub fn set_policy_header(options: &LeptosOptions) {
    let (Some(nonce), Some(config), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<PaymentsConfig>(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let reload = (options.env == leptos::config::Env::DEV).then_some(options.reload_port);
    let policy = content_security_policy(&config, nonce.as_inner(), reload);
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(js_url: &str, sandbox: bool) -> PaymentsConfig {
        PaymentsConfig {
            publishable_key: "pk_test_x".into(),
            js_url: js_url.into(),
            sandbox,
        }
    }

    fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
        policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {policy}"))
    }

    #[test]
    fn real_stripe_allows_exactly_stripe_origins() {
        let p = content_security_policy(&config("https://js.stripe.com/v3/", false), "abc", None);
        assert_eq!(
            directive(&p, "script-src"),
            "script-src 'self' 'nonce-abc' 'wasm-unsafe-eval' https://js.stripe.com https://*.js.stripe.com"
        );
        assert_eq!(
            directive(&p, "frame-src"),
            "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
        );
        assert_eq!(
            directive(&p, "connect-src"),
            "connect-src 'self' https://api.stripe.com"
        );
        assert!(!p.contains("unsafe-eval'") || p.contains("'wasm-unsafe-eval'"));
        assert!(!directive(&p, "script-src").contains("unsafe-inline"));
        assert_eq!(directive(&p, "frame-ancestors"), "frame-ancestors 'none'");
    }

    #[test]
    fn the_sandbox_origin_replaces_stripe_offline() {
        let p = content_security_policy(&config("http://127.0.0.1:12111/v3/", true), "n", None);
        assert!(directive(&p, "script-src").ends_with("'wasm-unsafe-eval' http://127.0.0.1:12111"));
        assert_eq!(
            directive(&p, "frame-src"),
            "frame-src http://127.0.0.1:12111"
        );
        assert_eq!(
            directive(&p, "connect-src"),
            "connect-src 'self' http://127.0.0.1:12111"
        );
        assert!(!p.contains("stripe.com"));
    }

    #[test]
    fn dev_mode_allows_the_reload_socket() {
        let p =
            content_security_policy(&config("http://127.0.0.1:12111/v3/", true), "n", Some(3001));
        assert!(directive(&p, "connect-src").contains("ws://127.0.0.1:3001"));
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://js.stripe.com/v3/"),
            Some("https://js.stripe.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:9/v3?x"),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(origin("http://h"), Some("http://h"));
        assert_eq!(origin("nonsense"), None);
    }
}
