//! `spawn_app`: the real server in this process on a random loopback port, against a
//! fresh database (a temporary SQLite file unless a database URL is given), with the
//! embedded sandbox keeping its state in memory. The one harness of the integration
//! tests (`server/tests/`) and the benchmarks (`bench/`), as in zero2prod.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use shop::store::Store;

use crate::config::Settings;
use crate::stripe_provider::StripeProvider;
use crate::Application;

/// What differs between the callers; everything else is the test configuration.
#[derive(Debug, Default, Clone)]
pub struct SpawnOptions {
    /// `DATABASE_URL` (`postgres://…`); `None`: a fresh SQLite file.
    pub database_url: Option<String>,
    /// `STRIPE_WEBHOOK_SECRET`; `None`: one is generated.
    pub webhook_secret: Option<String>,
    /// More settings (`TLS_CERT_FILE`, limits…), set after the test defaults.
    pub vars: Vec<(&'static str, String)>,
}

/// A running server. [`SpawnedApp::stop`] shuts it down gracefully.
pub struct SpawnedApp {
    /// `http://127.0.0.1:PORT` (`https://localhost:PORT` with TLS).
    pub base: String,
    /// `http://127.0.0.1:PORT` of the plain-HTTP redirect (with `HTTP_REDIRECT_ADDR`).
    pub redirect: Option<String>,
    pub store: Store,
    pub stripe: Arc<StripeProvider>,
    pub description: String,
    _data_dir: tempfile::TempDir,
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts the server; logs go nowhere unless the caller set up `tracing`.
pub async fn spawn_app(options: SpawnOptions) -> anyhow::Result<SpawnedApp> {
    let data_dir = tempfile::tempdir()?;
    let mut vars: HashMap<&str, String> = HashMap::new();
    vars.insert("LEPTOS_SITE_ADDR", "127.0.0.1:0".into());
    vars.insert("LEPTOS_ENV", "PROD".into());
    // The embedded sandbox in PROD mode, on purpose.
    vars.insert("STRIPE_SANDBOX", "1".into());
    vars.insert("DATA_DIR", data_dir.path().display().to_string());
    // Pages render on the server; no built CSS/WASM is needed.
    vars.insert(
        "LEPTOS_SITE_ROOT",
        data_dir.path().join("site").display().to_string(),
    );
    vars.insert("STRIPE_SANDBOX_ADDR", "127.0.0.1:0".into());
    vars.insert("STRIPE_SANDBOX_STATE", "memory".into());
    // Every test and benchmark client is 127.0.0.1: no per-address rate limit (a test
    // that checks the limits sets them).
    vars.insert("RATE_LIMIT_SIGN_IN_PER_MINUTE", "0".into());
    vars.insert("RATE_LIMIT_PAYMENTS_PER_MINUTE", "0".into());
    // Tests and benchmarks start reconciliations themselves.
    vars.insert("RECONCILE_INTERVAL_SECS", "0".into());
    if let Some(secret) = options.webhook_secret {
        vars.insert("STRIPE_WEBHOOK_SECRET", secret);
    }
    if let Some(url) = options.database_url {
        vars.insert("DATABASE_URL", url);
    }
    vars.extend(options.vars);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned())?;
    let database = format!("{:?}", settings.database);
    let app = Application::build(settings)
        .await
        .context("starting the server")?;
    let base = match app.scheme() {
        // The certificate names `localhost`, not an address.
        "https" => format!("https://localhost:{}", app.local_addr().port()),
        scheme => format!("{scheme}://{}", app.local_addr()),
    };
    let redirect = app.redirect_addr().map(|addr| format!("http://{addr}"));
    let store = app.store().clone();
    let stripe = app.stripe().clone();
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Ok(SpawnedApp {
        description: format!("{base} (in-process, {database}, embedded sandbox in memory)"),
        base,
        redirect,
        store,
        stripe,
        _data_dir: data_dir,
        shutdown,
        server,
    })
}

impl SpawnedApp {
    /// Stops the server gracefully (requests in flight drain) and waits for it. Close
    /// keep-alive client connections first: graceful shutdown waits for them.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.server.await??;
        Ok(())
    }
}
