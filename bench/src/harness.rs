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
                let vars = HashMap::from([
                    ("DATABASE_URL", db.to_owned()),
                    ("STRIPE_SANDBOX", "1".to_owned()),
                ]);
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
            ..SpawnOptions::default()
        })
        .await?;
        Ok(Target {
            description: app.description.clone(),
            base: app.base.clone(),
            store: Some(app.store.clone()),
            in_process: Some(app),
        })
    }

    /// The in-process server (`None` with `--url`).
    pub fn app(&self) -> Option<&SpawnedApp> {
        self.in_process.as_ref()
    }

    /// The in-process server's Stripe client and the embedded sandbox's base URL (for
    /// its `/_sandbox/...` controls); an error with `--url` or real Stripe.
    pub fn sandbox(&self) -> anyhow::Result<(&stripe_client::Client, String)> {
        let app = self
            .app()
            .context("this bench runs the server in-process (no --url)")?;
        let sandbox = app
            .stripe
            .sandbox
            .as_ref()
            .context("the server does not run the embedded sandbox")?;
        Ok((&app.stripe.client, sandbox.url()))
    }

    /// `sqlite` or `postgres`: the database behind the server (as its description says).
    pub fn backend(&self) -> &'static str {
        if self.description.contains("Postgres(") || self.description.contains("postgres://") {
            "postgres"
        } else {
            "sqlite"
        }
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

/// A browser-like client: its own cookie jar (the session cookie of a sign-in), redirects
/// not followed.
pub fn browser(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("an HTTP client")
}

/// The password of the merchant a bench makes.
const MERCHANT_PASSWORD: &str = "bench merchant password 0123";

/// A new merchant account (`Accounts::ensure_merchant` in the server's database) and a
/// browser signed in as it (`POST /api/sign_in`); `timeout` for each of its requests.
pub async fn signed_in_merchant(
    target: &Target,
    timeout: Duration,
) -> anyhow::Result<(String, reqwest::Client)> {
    let store = target
        .store
        .as_ref()
        .context("making a merchant needs the server's database")?;
    let email = format!("bench-merchant-{:016x}@example.com", rand::random::<u64>());
    shop::accounts::Accounts::new(store.clone())
        .ensure_merchant(&email, MERCHANT_PASSWORD)
        .await
        .context("making the bench's merchant (ensure_merchant)")?;
    let client = browser(timeout);
    let response = client
        .post(target.url("/api/sign_in"))
        .form(&[("email", email.as_str()), ("password", MERCHANT_PASSWORD)])
        .send()
        .await
        .context("sign_in")?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    anyhow::ensure!(
        status == reqwest::StatusCode::OK,
        "sign_in as the merchant: HTTP {status}: {text}"
    );
    Ok((email, client))
}

pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// CPU time a process has used so far: user and system, all its threads (exited ones
/// too), from `/proc/PID/stat`. `None` where there is no `/proc` (not Linux).
///
/// How a bench says where the time goes between two processes on one machine: the
/// difference over a phase, divided by its requests.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_ticks(&stat).map(|ticks| Duration::from_millis(ticks * 1000 / USER_HZ))
}

/// The clock ticks of `/proc/PID/stat`: Linux reports them in `USER_HZ`, which its ABI
/// fixes at 100 on every architecture it runs on (`sysconf(_SC_CLK_TCK)`).
const USER_HZ: u64 = 100;

/// `utime + stime` (fields 14 and 15) of a `/proc/PID/stat` line. The command name (field
/// 2) is in parentheses and may hold spaces and parentheses itself, so the fields are
/// counted from its last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_user_plus_system_counted_after_the_command_name() {
        // A command name with a space and a `)` of its own; utime 1234, stime 56.
        let line = "4242 (tokio rt) worker) S 1 4242 4242 0 -1 4194560 3317 0 0 0 \
                    1234 56 0 0 20 0 9 0 1234567 123456789 4321 18446744073709551615";
        assert_eq!(cpu_ticks(line), Some(1290));
        assert_eq!(cpu_ticks("4242 (bench) S 1 2 3"), None);
        assert_eq!(cpu_ticks("no name at all"), None);
    }

    #[test]
    fn this_process_has_a_cpu_time_that_grows() {
        let Some(before) = cpu_time(std::process::id()) else {
            return; // no /proc here
        };
        // Busy for at least two ticks (20 ms of CPU).
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while cpu_time(std::process::id()).unwrap() < before + Duration::from_millis(20) {
            x = x.wrapping_mul(31).wrapping_add(1);
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "CPU time never grew"
            );
        }
        std::hint::black_box(x);
    }
}
