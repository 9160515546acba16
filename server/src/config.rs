//! Settings from environment variables (and an optional `.env`), validated at start-up.
//! Every error names the setting at fault; secrets never appear in `Debug` output.

use std::net::SocketAddr;
use std::path::PathBuf;

pub use shop::store::Database;
pub use stripe_client::{KeyMode, Secret, SecretKey, WebhookSecret};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting {name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

fn bad(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where the embedded sandbox keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxState {
    File(PathBuf),
    Memory,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeSettings {
    pub secret_key: Option<SecretKey>,
    pub publishable_key: Option<String>,
    pub webhook_secret: Option<WebhookSecret>,
    pub api_base: Option<url::Url>,
    pub js_url: Option<url::Url>,
    /// Tolerance of webhook signature timestamps.
    pub webhook_tolerance: std::time::Duration,
    /// The offline sandbox (used only without STRIPE_SECRET_KEY).
    pub sandbox_addr: SocketAddr,
    pub sandbox_state: SandboxState,
}

impl StripeSettings {
    /// Real Stripe when a secret key is configured; the offline sandbox otherwise.
    pub fn uses_real_stripe(&self) -> bool {
        self.secret_key.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub site_addr: SocketAddr,
    pub site_root: String,
    pub site_pkg_dir: String,
    pub output_name: String,
    pub reload_port: u32,
    pub dev_mode: bool,
    pub data_dir: PathBuf,
    pub database: Database,
    pub stripe: StripeSettings,
    pub log_format: LogFormat,
    /// `PUBLIC_URL`: where shoppers reach the site. An `https://` URL makes cookies
    /// `Secure` and `__Host-` prefixed.
    pub public_url: Option<url::Url>,
    /// `MERCHANT_EMAIL` + `MERCHANT_PASSWORD`: the first merchant, made (or its password
    /// set) at start-up. Both or neither.
    pub merchant: Option<(String, Secret)>,
    /// `RECONCILE_INTERVAL_SECS` (default 900; `0` turns the job off): how often the
    /// reconciliation reads Stripe's Events API and fetches what is still moving.
    pub reconcile_every: Option<std::time::Duration>,
    /// `TLS_CERT_FILE` + `TLS_KEY_FILE`: the server terminates HTTPS itself.
    pub tls: Option<TlsSettings>,
    /// Rate limits per client address, and how the client's address is found.
    pub limits: crate::limits::LimitSettings,
    /// The card-testing guard and the expiry of what shoppers abandon.
    pub guard: shop::payments::GuardSettings,
}

/// HTTPS served by this process (rustls). Behind a reverse proxy that terminates TLS,
/// leave these unset and set `PUBLIC_URL=https://…` instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM: the certificate chain (leaf first, as `fullchain.pem`).
    pub cert_file: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// `HTTP_REDIRECT_ADDR`: a plain-HTTP listener that redirects every request to the
    /// HTTPS site (e.g. `0.0.0.0:80`); `None`: no plain-HTTP listener.
    pub redirect_addr: Option<SocketAddr>,
}

impl Settings {
    /// Cookies get `Secure` and the `__Host-` prefix, and responses HSTS, when shoppers
    /// reach the site over HTTPS: terminated here or by a proxy in front (`PUBLIC_URL`).
    pub fn served_over_https(&self) -> bool {
        self.tls.is_some()
            || self
                .public_url
                .as_ref()
                .is_some_and(|u| u.scheme() == "https")
    }
}

impl Settings {
    /// Reads `.env` (if present; real environment variables win) and the environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        let _ = dotenvy::dotenv();
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds settings from any variable source (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let site_addr = match var("LEPTOS_SITE_ADDR") {
            Some(v) => v.parse().map_err(|_| {
                bad(
                    "LEPTOS_SITE_ADDR",
                    format!("`{v}` is not an address like 127.0.0.1:3000"),
                )
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };
        let reload_port = match var("LEPTOS_RELOAD_PORT") {
            Some(v) => v
                .parse()
                .map_err(|_| bad("LEPTOS_RELOAD_PORT", format!("`{v}` is not a port number")))?,
            None => 3001,
        };
        let dev_mode = match var("LEPTOS_ENV").map(|v| v.to_ascii_lowercase()) {
            Some(v) if v == "dev" || v == "development" => true,
            Some(v) if v == "prod" || v == "production" => false,
            Some(v) => return Err(bad("LEPTOS_ENV", format!("`{v}` is neither DEV nor PROD"))),
            None => cfg!(debug_assertions),
        };
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into()));
        let database = match var("DATABASE_URL") {
            None => Database::Sqlite {
                path: data_dir.join("checkout.db"),
            },
            Some(url) => parse_database_url(&url)?,
        };
        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(bad(
                    "LOG_FORMAT",
                    format!("`{other}` is neither `pretty` nor `json`"),
                ))
            }
        };

        let public_url = match var("PUBLIC_URL") {
            None => None,
            Some(v) => match url::Url::parse(&v) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
                _ => {
                    return Err(bad(
                        "PUBLIC_URL",
                        format!("`{v}` is not an http(s) URL like https://shop.example.com"),
                    ))
                }
            },
        };

        let merchant = match (var("MERCHANT_EMAIL"), var("MERCHANT_PASSWORD")) {
            (Some(email), Some(password)) => Some((email, Secret::new(password))),
            (None, None) => None,
            (Some(_), None) => {
                return Err(bad("MERCHANT_PASSWORD", "is needed with MERCHANT_EMAIL"))
            }
            (None, Some(_)) => {
                return Err(bad("MERCHANT_EMAIL", "is needed with MERCHANT_PASSWORD"))
            }
        };

        let reconcile_every = match var("RECONCILE_INTERVAL_SECS") {
            None => Some(std::time::Duration::from_secs(900)),
            Some(v) => match v.parse::<u64>() {
                Ok(0) => None,
                Ok(secs) => Some(std::time::Duration::from_secs(secs)),
                Err(_) => {
                    return Err(bad(
                        "RECONCILE_INTERVAL_SECS",
                        format!("`{v}` is not a number of seconds (0 turns it off)"),
                    ))
                }
            },
        };

        let tls = match (var("TLS_CERT_FILE"), var("TLS_KEY_FILE")) {
            (Some(cert), Some(key)) => {
                let redirect_addr = match var("HTTP_REDIRECT_ADDR") {
                    None => None,
                    Some(v) => Some(v.parse().map_err(|_| {
                        bad(
                            "HTTP_REDIRECT_ADDR",
                            format!("`{v}` is not an address like 0.0.0.0:80"),
                        )
                    })?),
                };
                Some(TlsSettings {
                    cert_file: cert.into(),
                    key_file: key.into(),
                    redirect_addr,
                })
            }
            (None, None) => {
                if var("HTTP_REDIRECT_ADDR").is_some() {
                    return Err(bad(
                        "HTTP_REDIRECT_ADDR",
                        "redirects to HTTPS served here: it needs TLS_CERT_FILE and TLS_KEY_FILE",
                    ));
                }
                None
            }
            (Some(_), None) => return Err(bad("TLS_KEY_FILE", "is needed with TLS_CERT_FILE")),
            (None, Some(_)) => return Err(bad("TLS_CERT_FILE", "is needed with TLS_KEY_FILE")),
        };

        let number = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| bad(name, format!("`{v}` is not a whole number"))),
            }
        };
        let defaults = crate::limits::LimitSettings::default();
        let limits = crate::limits::LimitSettings {
            sign_in_per_minute: number(
                "RATE_LIMIT_SIGN_IN_PER_MINUTE",
                defaults.sign_in_per_minute,
            )?,
            payments_per_minute: number(
                "RATE_LIMIT_PAYMENTS_PER_MINUTE",
                defaults.payments_per_minute,
            )?,
            trust_forwarded_for: match var("TRUST_FORWARDED_FOR").as_deref() {
                None | Some("0") => false,
                Some("1") => true,
                Some(v) => {
                    return Err(bad(
                        "TRUST_FORWARDED_FOR",
                        format!("`{v}` is neither 0 nor 1"),
                    ))
                }
            },
        };
        let guard_defaults = shop::payments::GuardSettings::default();
        let guard = shop::payments::GuardSettings {
            failures_per_order: number(
                "CARD_TESTING_FAILURES_PER_ORDER",
                guard_defaults.failures_per_order,
            )?,
            failures_per_client_hour: number(
                "CARD_TESTING_FAILURES_PER_CLIENT_HOUR",
                guard_defaults.failures_per_client_hour,
            )?,
            order_expiry_hours: number("ORDER_EXPIRY_HOURS", guard_defaults.order_expiry_hours)?,
            cart_expiry_days: number("CART_EXPIRY_DAYS", guard_defaults.cart_expiry_days)?,
        };

        let stripe = stripe_settings(&var, &data_dir)?;
        // A forgotten key must not turn production into a fake processor.
        let sandbox_on_purpose = match var("STRIPE_SANDBOX").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(v) => return Err(bad("STRIPE_SANDBOX", format!("`{v}` is neither 0 nor 1"))),
        };
        if !dev_mode && !stripe.uses_real_stripe() && !sandbox_on_purpose {
            return Err(bad(
                "STRIPE_SECRET_KEY",
                "is required with LEPTOS_ENV=PROD: without it the server would take payments on \
                 the offline sandbox, which charges nothing (set STRIPE_SANDBOX=1 to run the \
                 sandbox in PROD on purpose: a demo, the tests, the benchmarks)",
            ));
        }

        Ok(Settings {
            limits,
            guard,
            tls,
            reconcile_every,
            merchant,
            public_url,
            site_addr,
            site_root: var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            site_pkg_dir: var("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".into()),
            output_name: var("LEPTOS_OUTPUT_NAME").unwrap_or_else(|| "checkout".into()),
            reload_port,
            dev_mode,
            stripe,
            data_dir,
            database,
            log_format,
        })
    }
}

fn parse_database_url(url: &str) -> Result<Database, ConfigError> {
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() {
            return Err(bad("DATABASE_URL", "a sqlite: URL needs a file path"));
        }
        return Ok(Database::Sqlite { path: path.into() });
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url::Url::parse(url)
            .map_err(|e| bad("DATABASE_URL", format!("not a valid PostgreSQL URL: {e}")))?;
        return Ok(Database::Postgres {
            url: Secret::new(url),
        });
    }
    Err(bad(
        "DATABASE_URL",
        "must start with postgres:// (or sqlite: for a file); unset it for the default SQLite file",
    ))
}

fn publishable_mode(value: &str) -> Result<KeyMode, ConfigError> {
    const NAME: &str = "STRIPE_PUBLISHABLE_KEY";
    if value.chars().any(char::is_whitespace) {
        return Err(bad(NAME, "contains white space"));
    }
    let (mode, rest) = if let Some(rest) = value.strip_prefix("pk_test_") {
        (KeyMode::Test, rest)
    } else if let Some(rest) = value.strip_prefix("pk_live_") {
        (KeyMode::Live, rest)
    } else {
        return Err(bad(NAME, "must start with pk_test_ or pk_live_"));
    };
    if rest.len() < 8 {
        return Err(bad(NAME, "is too short to be a Stripe key"));
    }
    Ok(mode)
}

fn http_url(name: &'static str, value: Option<String>) -> Result<Option<url::Url>, ConfigError> {
    let Some(value) = value else { return Ok(None) };
    let parsed =
        url::Url::parse(&value).map_err(|e| bad(name, format!("`{value}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(bad(name, format!("`{value}` is not an http(s) URL")));
    }
    Ok(Some(parsed))
}

fn stripe_settings(
    var: &impl Fn(&str) -> Option<String>,
    data_dir: &std::path::Path,
) -> Result<StripeSettings, ConfigError> {
    let secret_key = var("STRIPE_SECRET_KEY")
        .map(|k| SecretKey::new(k).map_err(|e| bad("STRIPE_SECRET_KEY", e.to_string())))
        .transpose()?;
    let publishable_key = var("STRIPE_PUBLISHABLE_KEY");
    let publishable = publishable_key
        .as_deref()
        .map(publishable_mode)
        .transpose()?;
    let webhook_secret = var("STRIPE_WEBHOOK_SECRET")
        .map(|s| WebhookSecret::new(s).map_err(|e| bad("STRIPE_WEBHOOK_SECRET", e.to_string())))
        .transpose()?;

    match (secret_key.as_ref().map(SecretKey::mode), publishable) {
        (Some(s), Some(p)) if s != p => {
            return Err(bad(
                "STRIPE_PUBLISHABLE_KEY",
                "test and live keys are mixed: both keys must be test keys or both live keys",
            ))
        }
        (Some(_), None) => {
            return Err(bad(
                "STRIPE_PUBLISHABLE_KEY",
                "is required when STRIPE_SECRET_KEY is set",
            ))
        }
        (None, Some(_)) => return Err(bad(
            "STRIPE_SECRET_KEY",
            "is required when STRIPE_PUBLISHABLE_KEY is set (unset both for the offline sandbox)",
        )),
        _ => {}
    }
    if secret_key.is_some() && webhook_secret.is_none() {
        return Err(bad(
            "STRIPE_WEBHOOK_SECRET",
            "is required with real Stripe keys: webhooks are never accepted unverified \
             (for development, `stripe listen --forward-to localhost:3000/webhook` prints one)",
        ));
    }

    let webhook_tolerance = match var("STRIPE_WEBHOOK_TOLERANCE_SECS") {
        None => stripe_client::webhook::DEFAULT_TOLERANCE,
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if (1..=3600).contains(&secs) => std::time::Duration::from_secs(secs),
            _ => {
                return Err(bad(
                    "STRIPE_WEBHOOK_TOLERANCE_SECS",
                    format!("`{v}` is not a number of seconds from 1 to 3600"),
                ))
            }
        },
    };
    let sandbox_addr = match var("STRIPE_SANDBOX_ADDR") {
        Some(v) => v.parse().map_err(|_| {
            bad(
                "STRIPE_SANDBOX_ADDR",
                format!("`{v}` is not an address like 127.0.0.1:12111"),
            )
        })?,
        None => SocketAddr::from(([127, 0, 0, 1], 12111)),
    };
    let sandbox_state = match var("STRIPE_SANDBOX_STATE").as_deref() {
        Some("memory") => SandboxState::Memory,
        Some(path) => SandboxState::File(path.into()),
        None => SandboxState::File(data_dir.join("stripe-sandbox.json")),
    };

    Ok(StripeSettings {
        secret_key,
        publishable_key,
        webhook_secret,
        api_base: http_url("STRIPE_API_BASE", var("STRIPE_API_BASE"))?,
        js_url: http_url("STRIPE_JS_URL", var("STRIPE_JS_URL"))?,
        webhook_tolerance,
        sandbox_addr,
        sandbox_state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    const SK: &str = "sk_test_51AbCdEfGhIjKlMnOp";
    const PK: &str = "pk_test_51AbCdEfGhIjKlMnOp";
    const WH: &str = "whsec_0123456789abcdef";

    #[test]
    fn defaults_need_no_variables() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(
            s.database,
            Database::Sqlite {
                path: "data/checkout.db".into()
            }
        );
        assert!(!s.stripe.uses_real_stripe());
    }

    #[test]
    fn prod_refuses_the_sandbox_unless_asked_for_it() {
        let error = settings(&[("LEPTOS_ENV", "PROD")]).unwrap_err();
        assert_eq!(error.name, "STRIPE_SECRET_KEY");
        assert!(error.to_string().contains("STRIPE_SANDBOX=1"), "{error}");
        let s = settings(&[("LEPTOS_ENV", "PROD"), ("STRIPE_SANDBOX", "1")]).unwrap();
        assert!(!s.dev_mode && !s.stripe.uses_real_stripe());
        let error = settings(&[("LEPTOS_ENV", "PROD"), ("STRIPE_SANDBOX", "yes")]).unwrap_err();
        assert_eq!(error.name, "STRIPE_SANDBOX");
        // Development keeps the sandbox as the default.
        assert!(settings(&[("LEPTOS_ENV", "DEV")]).is_ok());
    }

    #[test]
    fn database_url_selects_postgres_and_names_bad_values() {
        let s = settings(&[("DATABASE_URL", "postgres://u:pw@127.0.0.1:5432/shop")]).unwrap();
        assert!(matches!(s.database, Database::Postgres { .. }));
        let debug = format!("{s:?}");
        assert!(!debug.contains("pw@"), "{debug}");
        let err = settings(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(err.name, "DATABASE_URL");
        let s = settings(&[("DATABASE_URL", "sqlite:///tmp/x.db?mode=rwc")]).unwrap();
        assert_eq!(
            s.database,
            Database::Sqlite {
                path: "/tmp/x.db".into()
            }
        );
    }

    #[test]
    fn real_keys_need_matching_modes_and_a_webhook_secret() {
        let ok = settings(&[
            ("STRIPE_SECRET_KEY", SK),
            ("STRIPE_PUBLISHABLE_KEY", PK),
            ("STRIPE_WEBHOOK_SECRET", WH),
        ])
        .unwrap();
        assert!(ok.stripe.uses_real_stripe());

        let no_webhook =
            settings(&[("STRIPE_SECRET_KEY", SK), ("STRIPE_PUBLISHABLE_KEY", PK)]).unwrap_err();
        assert_eq!(no_webhook.name, "STRIPE_WEBHOOK_SECRET");

        let mixed = settings(&[
            ("STRIPE_SECRET_KEY", SK),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_51AbCdEfGhIjKlMnOp"),
            ("STRIPE_WEBHOOK_SECRET", WH),
        ])
        .unwrap_err();
        assert_eq!(mixed.name, "STRIPE_PUBLISHABLE_KEY");

        let swapped = settings(&[("STRIPE_SECRET_KEY", PK)]).unwrap_err();
        assert_eq!(swapped.name, "STRIPE_SECRET_KEY");

        let lone_pk = settings(&[("STRIPE_PUBLISHABLE_KEY", PK)]).unwrap_err();
        assert_eq!(lone_pk.name, "STRIPE_SECRET_KEY");

        let bad_whsec = settings(&[("STRIPE_WEBHOOK_SECRET", "secret")]).unwrap_err();
        assert_eq!(bad_whsec.name, "STRIPE_WEBHOOK_SECRET");

        let sandbox = settings(&[("STRIPE_SANDBOX_ADDR", "nowhere")]).unwrap_err();
        assert_eq!(sandbox.name, "STRIPE_SANDBOX_ADDR");
        let tolerance = settings(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", "0")]).unwrap_err();
        assert_eq!(tolerance.name, "STRIPE_WEBHOOK_TOLERANCE_SECS");
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_errors() {
        let s = settings(&[
            ("STRIPE_SECRET_KEY", SK),
            ("STRIPE_PUBLISHABLE_KEY", PK),
            ("STRIPE_WEBHOOK_SECRET", WH),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains(SK) && !debug.contains(WH), "{debug}");
        assert!(debug.contains("[REDACTED]"));
        let err = settings(&[("STRIPE_SECRET_KEY", "sk_test_ with space")]).unwrap_err();
        assert_eq!(err.name, "STRIPE_SECRET_KEY");
        assert!(!err.to_string().contains("with space"));
    }

    #[test]
    fn urls_and_addresses_are_validated() {
        assert_eq!(
            settings(&[("STRIPE_API_BASE", "not a url")])
                .unwrap_err()
                .name,
            "STRIPE_API_BASE"
        );
        assert_eq!(
            settings(&[("STRIPE_JS_URL", "ftp://x/v3")])
                .unwrap_err()
                .name,
            "STRIPE_JS_URL"
        );
        assert_eq!(
            settings(&[("LEPTOS_SITE_ADDR", "localhost")])
                .unwrap_err()
                .name,
            "LEPTOS_SITE_ADDR"
        );
        assert_eq!(
            settings(&[("LOG_FORMAT", "xml")]).unwrap_err().name,
            "LOG_FORMAT"
        );
    }

    #[test]
    fn tls_needs_both_files_and_makes_the_site_https() {
        let s = settings(&[
            ("TLS_CERT_FILE", "/etc/shop/fullchain.pem"),
            ("TLS_KEY_FILE", "/etc/shop/key.pem"),
            ("HTTP_REDIRECT_ADDR", "0.0.0.0:80"),
        ])
        .unwrap();
        let tls = s.tls.as_ref().unwrap();
        assert_eq!(tls.redirect_addr.unwrap().port(), 80);
        assert!(s.served_over_https());
        assert_eq!(
            settings(&[("TLS_CERT_FILE", "c.pem")]).unwrap_err().name,
            "TLS_KEY_FILE"
        );
        assert_eq!(
            settings(&[("TLS_KEY_FILE", "k.pem")]).unwrap_err().name,
            "TLS_CERT_FILE"
        );
        assert_eq!(
            settings(&[("HTTP_REDIRECT_ADDR", "0.0.0.0:80")])
                .unwrap_err()
                .name,
            "HTTP_REDIRECT_ADDR"
        );
        // A proxy terminating TLS in front: PUBLIC_URL says https.
        let proxied = settings(&[("PUBLIC_URL", "https://shop.example")]).unwrap();
        assert!(proxied.tls.is_none() && proxied.served_over_https());
        assert!(!settings(&[]).unwrap().served_over_https());
    }

    #[test]
    fn limits_have_defaults_and_name_bad_values() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.limits, crate::limits::LimitSettings::default());
        assert_eq!(s.guard, shop::payments::GuardSettings::default());
        let s = settings(&[
            ("RATE_LIMIT_PAYMENTS_PER_MINUTE", "0"),
            ("TRUST_FORWARDED_FOR", "1"),
            ("CARD_TESTING_FAILURES_PER_ORDER", "3"),
        ])
        .unwrap();
        assert_eq!(s.limits.payments_per_minute, 0);
        assert!(s.limits.trust_forwarded_for);
        assert_eq!(s.guard.failures_per_order, 3);
        for name in [
            "RATE_LIMIT_SIGN_IN_PER_MINUTE",
            "TRUST_FORWARDED_FOR",
            "CARD_TESTING_FAILURES_PER_CLIENT_HOUR",
            "ORDER_EXPIRY_HOURS",
            "CART_EXPIRY_DAYS",
        ] {
            assert_eq!(settings(&[(name, "-1")]).unwrap_err().name, name);
        }
    }
}
