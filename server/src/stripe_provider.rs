//! The Stripe provider the app talks to: real Stripe when keys are configured, else the
//! embedded offline sandbox (started here on its own loopback port, with the app's
//! `/webhook` registered as an endpoint). Either way the rest of the app gets one
//! [`stripe_client::Client`], the browser's keys and the webhook secret.

use std::net::SocketAddr;

use shop::PaymentsConfig;
use stripe_client::{Client, SecretKey, WebhookSecret};
use stripe_sandbox::{RunningSandbox, SandboxConfig};

use crate::config::{SandboxState, Settings};

/// Keys the embedded sandbox accepts (it takes any well-formed test key).
const SANDBOX_SECRET_KEY: &str = "sk_test_offline_sandbox_0000000000";
const SANDBOX_PUBLISHABLE_KEY: &str = "pk_test_offline_sandbox_0000000000";

pub struct StripeProvider {
    pub client: Client,
    /// Reaches the browser (through the server): never the secret key.
    pub publishable_key: String,
    pub js_url: String,
    pub webhook_secret: WebhookSecret,
    pub webhook_tolerance: std::time::Duration,
    /// `Some` in offline mode.
    pub sandbox: Option<RunningSandbox>,
}

impl StripeProvider {
    pub fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// What the browser needs (never a secret).
    pub fn browser_config(&self) -> PaymentsConfig {
        PaymentsConfig {
            publishable_key: self.publishable_key.clone(),
            js_url: self.js_url.clone(),
            sandbox: self.is_sandbox(),
        }
    }

    /// Connects to Stripe, or starts the sandbox. `app_addr` is where this server
    /// listens, for the sandbox's webhook deliveries.
    pub async fn start(
        settings: &Settings,
        app_addr: SocketAddr,
    ) -> anyhow::Result<StripeProvider> {
        let stripe = &settings.stripe;
        // STRIPE_JS_URL wins over the default of either mode.
        let js_url = |default: String| {
            stripe
                .js_url
                .as_ref()
                .map_or(default, |url| url.to_string())
        };
        if let Some(secret_key) = &stripe.secret_key {
            let mut builder = Client::builder(secret_key.clone());
            if let Some(base) = &stripe.api_base {
                builder = builder.base_url(base.as_str());
            }
            return Ok(StripeProvider {
                client: builder.build()?,
                publishable_key: stripe.publishable_key.clone().unwrap_or_default(),
                js_url: js_url("https://js.stripe.com/v3/".into()),
                webhook_secret: stripe
                    .webhook_secret
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("STRIPE_WEBHOOK_SECRET is required"))?,
                webhook_tolerance: stripe.webhook_tolerance,
                sandbox: None,
            });
        }

        let webhook_secret = match &stripe.webhook_secret {
            Some(secret) => secret.clone(),
            None => WebhookSecret::new(format!("whsec_{}", random_hex(24)))?,
        };
        let state_file = match &stripe.sandbox_state {
            SandboxState::File(path) => Some(path.clone()),
            SandboxState::Memory => None,
        };
        // The sandbox reaches the app's `/webhook` on its own listener: over HTTPS when
        // the app terminates TLS, by the certificate's name resolved to this listener.
        let (webhook_url, webhook_tls) = match &settings.tls {
            None => (format!("http://{app_addr}/webhook"), None),
            Some(tls) => {
                let host = settings
                    .public_url
                    .as_ref()
                    .and_then(|u| u.host_str())
                    .unwrap_or("localhost")
                    .to_owned();
                let mut loopback = app_addr;
                if loopback.ip().is_unspecified() {
                    loopback.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                let root_certificates_pem = std::fs::read(&tls.cert_file).map_err(|e| {
                    anyhow::anyhow!("TLS_CERT_FILE {}: {e}", tls.cert_file.display())
                })?;
                (
                    format!("https://{host}:{}/webhook", app_addr.port()),
                    Some(stripe_sandbox::WebhookTls {
                        root_certificates_pem,
                        resolve: Some((host, loopback)),
                    }),
                )
            }
        };
        let sandbox = stripe_sandbox::start(SandboxConfig {
            addr: stripe.sandbox_addr,
            state_file,
            webhook_tls,
            ..SandboxConfig::default()
        })
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot start the offline Stripe sandbox on {} (STRIPE_SANDBOX_ADDR): {e}",
                stripe.sandbox_addr
            )
        })?;
        sandbox.add_webhook_endpoint(&webhook_url, webhook_secret.expose());
        let base = sandbox.url();
        tracing::warn!(
            sandbox = %base,
            webhook = %webhook_url,
            "OFFLINE SANDBOX: no STRIPE_SECRET_KEY, so payments go to the built-in Stripe \
             emulator. No real payments are made."
        );
        let client = Client::builder(SecretKey::new(SANDBOX_SECRET_KEY)?)
            .base_url(base.as_str())
            .build()?;
        Ok(StripeProvider {
            client,
            publishable_key: SANDBOX_PUBLISHABLE_KEY.into(),
            js_url: js_url(format!("{base}/v3/")),
            webhook_secret,
            webhook_tolerance: stripe.webhook_tolerance,
            sandbox: Some(sandbox),
        })
    }

    pub async fn shutdown(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

fn random_hex(bytes: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect()
}
