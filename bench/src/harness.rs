//! The server under test: started in this process the way the integration tests'
//! `spawn_app` does (fresh SQLite file in a temporary directory, or `--database`;
//! embedded sandbox with its state in memory; port 0), or an external one (`--url`).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use server::config::Settings;
use server::store::Store;
use server::Application;

/// The webhook secret of the in-process server.
pub const WEBHOOK_SECRET: &str = "whsec_bench_0123456789abcdef0123456789abcdef";

pub struct Target {
    pub base: String,
    /// The server's database, for checks after a run (`None` for `--url` without
    /// `--database`).
    pub store: Option<Store>,
    pub description: String,
    in_process: Option<InProcess>,
}

struct InProcess {
    _data_dir: tempfile::TempDir,
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// `DATABASE_URL` parsed the way the server does (`postgres://…`, `sqlite:…`).
fn settings_for(vars: &HashMap<&str, String>) -> anyhow::Result<Settings> {
    Settings::from_lookup(|k| vars.get(k).cloned()).map_err(anyhow::Error::from)
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
                let vars = HashMap::from([("DATABASE_URL", db.to_owned())]);
                let settings = settings_for(&vars)?;
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
        let data_dir = tempfile::tempdir()?;
        let mut vars: HashMap<&str, String> = HashMap::new();
        vars.insert("LEPTOS_SITE_ADDR", "127.0.0.1:0".into());
        vars.insert("LEPTOS_ENV", "PROD".into());
        vars.insert("DATA_DIR", data_dir.path().display().to_string());
        // No pages are requested: the site root need not exist.
        vars.insert(
            "LEPTOS_SITE_ROOT",
            data_dir.path().join("site").display().to_string(),
        );
        vars.insert("STRIPE_SANDBOX_ADDR", "127.0.0.1:0".into());
        vars.insert("STRIPE_SANDBOX_STATE", "memory".into());
        vars.insert("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.into());
        if let Some(db) = database {
            vars.insert("DATABASE_URL", db.to_owned());
        }
        let settings = settings_for(&vars)?;
        // Logs only on request: per-request logging would be part of the figure.
        if std::env::var_os("BENCH_LOG").is_some() {
            server::telemetry::init(settings.log_format);
        }
        let db = format!("{:?}", settings.database);
        let app = Application::build(settings)
            .await
            .context("starting the server")?;
        let base = format!("http://{}", app.local_addr());
        let store = app.store().clone();
        let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = rx.await;
        }));
        Ok(Target {
            description: format!("{base} (in-process, {db}, embedded sandbox in memory)"),
            base,
            store: Some(store),
            in_process: Some(InProcess {
                _data_dir: data_dir,
                shutdown,
                server,
            }),
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
        if let Some(p) = self.in_process {
            let _ = p.shutdown.send(());
            match tokio::time::timeout(Duration::from_secs(10), p.server).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => eprintln!("server error: {e}"),
                Ok(Err(e)) => eprintln!("server task failed: {e}"),
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
