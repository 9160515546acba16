//! The server under test: started in this process by the integration tests' own
//! harness (`server::spawn::spawn_app`: fresh SQLite file in a temporary directory, or
//! `--database`; embedded sandbox with its state in memory; port 0), or an external one
//! (`--url`).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use server::config::Settings;
use server::spawn::{spawn_app, SpawnOptions, SpawnedApp};
use shop::store::Store;

/// The webhook secret of the in-process server.
pub const WEBHOOK_SECRET: &str = "whsec_bench_0123456789abcdef0123456789abcdef";

pub struct Target {
    pub base: String,
    /// The server's database, for checks after a run (`None` for `--url` without
    /// `--database`).
    pub store: Option<Store>,
    pub description: String,
    in_process: Option<SpawnedApp>,
}

impl Target {
    pub async fn new(url: Option<&str>, database: Option<&str>) -> anyhow::Result<Target> {
        match url {
            Some(url) => Target::external(url, database).await,
            None => Target::in_process(database).await,
        }
    }

    async fn external(url: &str, database: Option<&str>) -> anyhow::Result<Target> {
        let base = url.trim_end_matches('/').to_owned();
        let store = match database {
            Some(db) => {
                // `DATABASE_URL` parsed the way the server does (`postgres://…`, `sqlite:…`).
                let vars = HashMap::from([("DATABASE_URL", db.to_owned())]);
                let settings = Settings::from_lookup(|k| vars.get(k).cloned())?;
                Some(
                    Store::connect(&settings.database)
                        .await
                        .context("connecting to --database")?,
                )
            }
            None => None,
        };
        Ok(Target {
            description: format!("{base} (external)"),
            base,
            store,
            in_process: None,
        })
    }

    async fn in_process(database: Option<&str>) -> anyhow::Result<Target> {
        // Logs only on request: per-request logging would be part of the figure.
        if std::env::var_os("BENCH_LOG").is_some() {
            server::telemetry::init(server::config::LogFormat::Pretty);
        }
        let app = spawn_app(SpawnOptions {
            database_url: database.map(str::to_owned),
            webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
        })
        .await?;
        Ok(Target {
            description: app.description.clone(),
            base: app.base.clone(),
            store: Some(app.store.clone()),
            in_process: Some(app),
        })
    }

    /// "in-process" or "external", for the JSON lines.
    pub fn kind(&self) -> &'static str {
        if self.in_process.is_some() {
            "in-process"
        } else {
            "external"
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops an in-process server (drop every client first: graceful shutdown waits
    /// for keep-alive connections).
    pub async fn stop(self) {
        if let Some(store) = &self.store {
            if self.in_process.is_none() {
                store.close().await;
            }
        }
        if let Some(app) = self.in_process {
            match tokio::time::timeout(Duration::from_secs(10), app.stop()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("server error: {e}"),
                Err(_) => eprintln!("server did not stop within 10 s"),
            }
        }
    }
}

/// One keep-alive HTTP/1.1 client for all workers (no cookie store: cookies are
/// handled by hand per order).
pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency.max(1) * 2)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
