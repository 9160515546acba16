//! `stripe-sandbox`: runs the offline Stripe API emulator.
//!
//! ```text
//! stripe-sandbox [--addr 127.0.0.1:12111] [--webhook URL=whsec_...]... [--state-file PATH] [--public-url URL]
//! ```
//! Environment equivalents: `STRIPE_SANDBOX_ADDR`, `STRIPE_SANDBOX_WEBHOOKS` (comma-separated
//! `URL=SECRET`), `STRIPE_SANDBOX_STATE_FILE`, `STRIPE_SANDBOX_PUBLIC_URL`. Flags win.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use stripe_sandbox::{start, SandboxConfig};

const USAGE: &str = "usage: stripe-sandbox [--addr HOST:PORT] [--webhook URL=whsec_SECRET]... [--state-file PATH] [--public-url URL]

  --addr         listen address (default 127.0.0.1:12111; env STRIPE_SANDBOX_ADDR)
  --webhook      a webhook endpoint and its signing secret, repeatable
                 (env STRIPE_SANDBOX_WEBHOOKS, comma-separated)
  --state-file   persist state to this JSON file across restarts (env STRIPE_SANDBOX_STATE_FILE)
  --public-url   base URL browsers reach the sandbox at, for 3-D Secure pages
                 (env STRIPE_SANDBOX_PUBLIC_URL; default http://<Host header>)";

fn parse_webhook(s: &str) -> Result<(String, String), String> {
    let (url, secret) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("--webhook expects URL=SECRET, got `{s}`"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) || secret.is_empty() {
        return Err(format!("--webhook expects URL=SECRET, got `{s}`"));
    }
    Ok((url.to_owned(), secret.to_owned()))
}

fn config_from(args: Vec<String>) -> Result<SandboxConfig, String> {
    let mut config = SandboxConfig::default();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(a) = env("STRIPE_SANDBOX_ADDR") {
        config.addr = a.parse().map_err(|e| format!("STRIPE_SANDBOX_ADDR: {e}"))?;
    }
    if let Some(w) = env("STRIPE_SANDBOX_WEBHOOKS") {
        for item in w.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            config.webhook_endpoints.push(parse_webhook(item)?);
        }
    }
    config.state_file = env("STRIPE_SANDBOX_STATE_FILE").map(PathBuf::from);
    config.public_url = env("STRIPE_SANDBOX_PUBLIC_URL");

    let mut it = args.into_iter();
    let mut cli_webhooks = Vec::new();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") && f != "--webhook" => {
                (f.to_owned(), Some(v.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--addr" => {
                let v = value("--addr")?;
                config.addr = v
                    .parse::<SocketAddr>()
                    .map_err(|e| format!("--addr {v}: {e}"))?;
            }
            "--webhook" => cli_webhooks.push(parse_webhook(&value("--webhook")?)?),
            "--state-file" => config.state_file = Some(PathBuf::from(value("--state-file")?)),
            "--public-url" => config.public_url = Some(value("--public-url")?),
            "-h" | "--help" => return Err(String::new()),
            other if other.starts_with("--webhook=") => {
                cli_webhooks.push(parse_webhook(&other["--webhook=".len()..])?)
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !cli_webhooks.is_empty() {
        config.webhook_endpoints = cli_webhooks;
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = match config_from(std::env::args().skip(1).collect()) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("stripe-sandbox: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let endpoints: Vec<&str> = config
        .webhook_endpoints
        .iter()
        .map(|(u, _)| u.as_str())
        .collect();
    tracing::info!(?endpoints, state_file = ?config.state_file, "starting");
    let running = match start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("stripe-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("stripe-sandbox listening on {}", running.url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags() {
        let c = config_from(
            [
                "--addr",
                "127.0.0.1:9999",
                "--webhook",
                "http://127.0.0.1:3000/webhook?a=b=whsec_abc",
                "--state-file=data/sandbox.json",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
        )
        .unwrap();
        assert_eq!(c.addr.port(), 9999);
        assert_eq!(
            c.webhook_endpoints,
            vec![(
                "http://127.0.0.1:3000/webhook?a=b".to_owned(),
                "whsec_abc".to_owned()
            )]
        );
        assert_eq!(c.state_file, Some(PathBuf::from("data/sandbox.json")));
        assert!(config_from(vec!["--bogus".into()]).is_err());
        assert!(config_from(vec!["--webhook".into(), "nourl".into()]).is_err());
    }
}
