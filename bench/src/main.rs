//! Benchmarks of the checkout server.
//!
//! ```text
//! cargo build --release -p bench
//! bench create-pi [-c 32] [-d 10 | -n N] [--warmup 1] [--orders N] [--reuse 3] [--sign-ins 20]
//!                 [--node bench/node-baseline] [--floor] [--url http://127.0.0.1:3000] [--database postgres://…]
//! bench webhook   [-c 32] [-d 10 | -n N] [--warmup 1] [--duplicates 0.1]
//!                 [--url http://127.0.0.1:3000 --secret whsec_…] [--database postgres://…]
//! bench console   [--orders 100000] [--events 300000] [-n 100] [--database postgres://…]
//! bench reconcile [--events 10000] [-c 16] [--database postgres://…]
//! bench drill     [--shoppers 200] [--only instances|kill|faults] [--database postgres://…]
//! ```
//! Without `--url` the server runs in this process as the integration tests start it:
//! port 0, a fresh SQLite file in a temporary directory (or `--database`), the embedded
//! Stripe sandbox with its state in memory, a known webhook secret. With `--url`,
//! `--database` is the external server's database, used for the webhook check.
//! `console` (merchant pages over a seeded history) and `reconcile` (one "Reconcile
//! now" after missed webhooks) always run the server in this process. `drill` (the
//! fault drills: two server processes on one PostgreSQL behind the standalone sandbox,
//! kill -9, sandbox faults) runs the built `server` and `stripe-sandbox` binaries; see
//! `drill.rs`.
//!
//! Each bench prints a human summary and a JSON line (`{"bench":…,"rps":…}`) for
//! scripts; it exits 1 on request errors or a failed consistency check. Figures are
//! measured with the clients in the same process (and on the same cores) as the server.
//! `BENCH_LOG=1` turns the server's logs on.

mod console;
mod create_pi;
mod drill;
mod harness;
mod orders;
mod reconcile;
mod stats;
mod webhook;

use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage:
  bench create-pi [-c 32] [-d 10 | -n N] [--warmup 1] [--orders N] [--reuse 3] [--sign-ins 0] [--node DIR] [--floor] [--url URL] [--database URL]
  bench webhook   [-c 32] [-d 10 | -n N] [--warmup 1] [--duplicates 0.1] [--url URL --secret whsec_…] [--database URL]
  bench console   [--orders 100000] [--events 300000] [-n 100] [--database URL]
  bench reconcile [--events 10000] [-c 16] [--database URL]
  bench drill     [--shoppers 200] [--only instances|kill|faults[,…]] [--database ADMIN_URL] [--settle 60]
                  [--fault-rate 0.3] [--server-bin PATH] [--sandbox-bin PATH] [--keep] [--sabotage no-webhooks|duplicate-charge]";

/// The options of the load benches (`create-pi`, `webhook`).
pub struct Common {
    pub concurrency: usize,
    pub duration: Duration,
    /// Measured requests (instead of a duration).
    pub requests: Option<u64>,
    pub warmup: Duration,
    pub url: Option<String>,
    pub database: Option<String>,
}

impl Common {
    /// "10 s" or "5000 requests".
    pub fn extent(&self) -> String {
        match self.requests {
            Some(n) => format!("{n} requests"),
            None => format!("{:.1} s", self.duration.as_secs_f64()),
        }
    }
}

enum Command {
    CreatePi(create_pi::Args),
    Webhook(webhook::Args),
    Console(console::Args),
    Reconcile(reconcile::Args),
    Drill(drill::Args),
}

fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{flag}: `{value}` is not a number of seconds"))
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: `{value}` is not a valid number"))
}

fn parse(args: Vec<String>) -> Result<Command, String> {
    let mut it = args.into_iter();
    let command = it.next().ok_or("no bench named")?;
    if command == "drill" {
        return drill::parse(it).map(Command::Drill);
    }
    if !matches!(
        command.as_str(),
        "create-pi" | "webhook" | "console" | "reconcile"
    ) {
        return Err(format!("unknown bench `{command}`"));
    }
    // `console` and `reconcile` run the server in-process and take neither a duration
    // nor a warm-up.
    let load = matches!(command.as_str(), "create-pi" | "webhook");
    let mut common = Common {
        concurrency: 32,
        duration: Duration::from_secs(10),
        requests: None,
        warmup: Duration::from_secs(1),
        url: None,
        database: None,
    };
    let mut duplicates = 0.1;
    let mut secret = None;
    let mut orders = None;
    let mut reuse = Duration::from_secs(3);
    let mut sign_ins = 0.0;
    let mut node = None;
    let mut floor = false;
    let mut concurrency = None;
    let mut events = None;
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match (command.as_str(), flag.as_str()) {
            (c, "-c" | "--concurrency") if c != "console" => {
                concurrency = Some(number(&flag, &value()?)?)
            }
            (_, "-d" | "--duration") if load => common.duration = seconds(&flag, &value()?)?,
            (c, "-n" | "--requests") if c != "reconcile" => {
                common.requests = Some(number(&flag, &value()?)?)
            }
            (_, "--warmup") if load => common.warmup = seconds(&flag, &value()?)?,
            (_, "--url") if load => common.url = Some(value()?),
            (_, "--database") => common.database = Some(value()?),
            ("console" | "reconcile", "--events") => events = Some(number(&flag, &value()?)?),
            ("console", "--orders") => orders = Some(number(&flag, &value()?)?),
            ("webhook", "--duplicates") => duplicates = number(&flag, &value()?)?,
            ("webhook", "--secret") => secret = Some(value()?),
            ("create-pi", "--orders") => orders = Some(number(&flag, &value()?)?),
            ("create-pi", "--reuse") => reuse = seconds(&flag, &value()?)?,
            ("create-pi", "--sign-ins") => sign_ins = number(&flag, &value()?)?,
            ("create-pi", "--node") => node = Some(std::path::PathBuf::from(value()?)),
            ("create-pi", "--floor") => floor = true,
            (_, "-h" | "--help") => return Err(String::new()),
            _ => return Err(format!("{command}: unknown argument `{flag}`")),
        }
    }
    if !(sign_ins >= 0.0 && f64::is_finite(sign_ins)) {
        return Err("--sign-ins must be a rate of 0 or more per second".into());
    }
    if (node.is_some() || floor) && (sign_ins > 0.0 || common.url.is_some()) {
        return Err(
            "--node and --floor measure against the embedded sandbox: no --sign-ins, no --url"
                .into(),
        );
    }
    common.concurrency = concurrency.unwrap_or(if command == "reconcile" { 16 } else { 32 });
    if common.concurrency == 0 {
        return Err("-c must be at least 1".into());
    }
    if common.requests == Some(0) && command == "console" {
        return Err("-n must be at least 1".into());
    }
    if common.requests.is_none() && common.duration.is_zero() {
        return Err("-d must be above 0".into());
    }
    Ok(match command.as_str() {
        "create-pi" => Command::CreatePi(create_pi::Args {
            common,
            orders,
            reuse,
            sign_ins,
            node,
            floor,
        }),
        "webhook" => Command::Webhook(webhook::Args {
            common,
            duplicates,
            secret,
        }),
        "console" => Command::Console(console::Args {
            orders: orders.unwrap_or(100_000),
            events: events.unwrap_or(300_000),
            requests: common.requests.map_or(100, |n| n as usize),
            database: common.database,
        }),
        _ => Command::Reconcile(reconcile::Args {
            events: events.unwrap_or(10_000),
            concurrency: common.concurrency,
            database: common.database,
        }),
    })
}

/// The server's allocator (see server/src/main.rs), so the in-process server is measured
/// as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let command = match parse(std::env::args().skip(1).collect()) {
        Ok(command) => command,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let outcome = runtime.block_on(async {
        match command {
            Command::CreatePi(args) => create_pi::run(args).await,
            Command::Webhook(args) => webhook::run(args).await,
            Command::Console(args) => console::run(args).await,
            Command::Reconcile(args) => reconcile::run(args).await,
            Command::Drill(args) => drill::run(args).await,
        }
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("bench failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_both_benches() {
        let Ok(Command::Webhook(w)) = parse(args("webhook -c 8 -d 2 --duplicates 0.25")) else {
            panic!("webhook")
        };
        assert_eq!(w.common.concurrency, 8);
        assert_eq!(w.common.duration, Duration::from_secs(2));
        assert_eq!(w.duplicates, 0.25);
        let Ok(Command::CreatePi(p)) = parse(args("create-pi -n 500 --reuse 0 --sign-ins 20"))
        else {
            panic!("create-pi")
        };
        assert_eq!(p.common.requests, Some(500));
        assert_eq!(p.sign_ins, 20.0);
        assert!(parse(args("create-pi --sign-ins -1")).is_err());
        assert!(p.reuse.is_zero());
        let Ok(Command::CreatePi(n)) = parse(args("create-pi --node bench/node-baseline")) else {
            panic!("create-pi --node")
        };
        assert_eq!(
            n.node.as_deref(),
            Some(std::path::Path::new("bench/node-baseline"))
        );
        assert!(parse(args("create-pi --node x --sign-ins 5")).is_err());
        assert!(parse(args("create-pi --duplicates 0.1")).is_err());
        assert!(parse(args("webhook -c 0")).is_err());
        assert!(parse(args("nothing")).is_err());
    }

    #[test]
    fn parses_the_console_and_reconcile_benches() {
        let Ok(Command::Console(c)) = parse(args("console --orders 2000 --events 6000 -n 20"))
        else {
            panic!("console")
        };
        assert_eq!((c.orders, c.events, c.requests), (2000, 6000, 20));
        let Ok(Command::Console(c)) = parse(args("console")) else {
            panic!("console defaults")
        };
        assert_eq!((c.orders, c.events, c.requests), (100_000, 300_000, 100));
        let Ok(Command::Reconcile(r)) = parse(args("reconcile --database postgres://x/y")) else {
            panic!("reconcile")
        };
        assert_eq!((r.events, r.concurrency), (10_000, 16));
        assert_eq!(r.database.as_deref(), Some("postgres://x/y"));
        assert!(parse(args("console --url http://x")).is_err());
        assert!(parse(args("reconcile -n 5")).is_err());
        assert!(parse(args("console -n 0")).is_err());
        assert!(parse(args("webhook --events 5")).is_err());
    }
}
