//! Structured logs through `tracing`: human-readable by default, JSON with LOG_FORMAT=json.
//! The level comes from RUST_LOG (default `info`). `LOG_SPAN_CLOSE=1` also logs every
//! span as it closes, with how long it ran (`time.busy`) and waited (`time.idle`): with
//! `RUST_LOG=warn,tower_http=debug,shop::store=debug,stripe_client=debug`, where a
//! request's time goes (`pay`: the order read, the Stripe call, the group commit).

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let spans = if std::env::var_os("LOG_SPAN_CLOSE").is_some_and(|v| v == "1") {
        fmt::format::FmtSpan::CLOSE
    } else {
        fmt::format::FmtSpan::NONE
    };
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_span_events(spans);
    // try_init: tests may start several apps in one process.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
