//! Throughput benchmark: PaymentIntent create + confirm pairs per second over loopback.
//!
//! ```text
//! cargo run --release -p stripe-sandbox --bin sandbox-bench -- [--connections 64] [--seconds 10] [--url http://127.0.0.1:12111]
//! ```
//! Without `--url` a sandbox (state in memory, no webhook endpoints) is started in this
//! process on a free loopback port. Each connection is a keep-alive HTTP/1.1 connection
//! running `POST /v1/payment_intents` then `POST /v1/payment_intents/{id}/confirm` in a
//! loop, both with an `Idempotency-Key`, checking each answer.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::Request;
use hyper_util::rt::TokioIo;

const KEY: &str = "Bearer sk_test_sandboxbench0000000000000000";

struct Args {
    connections: usize,
    seconds: f64,
    warmup: f64,
    url: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        connections: 64,
        seconds: 10.0,
        warmup: 1.0,
        url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--connections" | "-c" => a.connections = val()?.parse().map_err(|e| format!("{e}"))?,
            "--seconds" | "-d" => a.seconds = val()?.parse().map_err(|e| format!("{e}"))?,
            "--warmup" => a.warmup = val()?.parse().map_err(|e| format!("{e}"))?,
            "--url" => a.url = Some(val()?),
            "-h" | "--help" => {
                return Err("usage: sandbox-bench [--connections N] [--seconds S] [--warmup S] [--url http://host:port]".into())
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    Ok(a)
}

fn extract_id(body: &[u8]) -> Option<&str> {
    // The first `"id":"…"` of a PaymentIntent is its own id.
    let s = std::str::from_utf8(body).ok()?;
    let start = s.find("\"id\":\"")? + 6;
    let end = start + s[start..].find('"')?;
    Some(&s[start..end])
}

struct Stats {
    pairs: AtomicU64,
    errors: AtomicU64,
    latency_us: parking_lot::Mutex<Vec<u32>>,
}

async fn worker(
    host: String,
    conn_no: usize,
    stats: Arc<Stats>,
    running: Arc<AtomicBool>,
    measuring: Arc<AtomicBool>,
) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(&host)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut n: u64 = 0;
    let mut lat = Vec::with_capacity(1 << 16);
    let create_body = Bytes::from_static(b"amount=2000&currency=usd&payment_method=pm_card_visa&payment_method_types[]=card&metadata[order_id]=bench");
    while running.load(Ordering::Relaxed) {
        n += 1;
        let t0 = Instant::now();
        let (ok, body) = post(
            &mut sender,
            &host,
            "/v1/payment_intents".to_owned(),
            format!("bench-{conn_no}-{n}-create"),
            create_body.clone(),
        )
        .await?;
        let Some(id) = extract_id(&body).filter(|_| ok) else {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let (ok, body) = post(
            &mut sender,
            &host,
            format!("/v1/payment_intents/{id}/confirm"),
            format!("bench-{conn_no}-{n}-confirm"),
            Bytes::new(),
        )
        .await?;
        let succeeded = ok && memchr_find(&body, b"\"status\":\"succeeded\"");
        if !succeeded {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if measuring.load(Ordering::Relaxed) {
            stats.pairs.fetch_add(1, Ordering::Relaxed);
            lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
    }
    stats.latency_us.lock().extend(lat);
    Ok(())
}

/// Sends one form POST with an `Idempotency-Key`; whether it succeeded, and its body.
async fn post(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    host: &str,
    path: String,
    idempotency_key: String,
    body: Bytes,
) -> Result<(bool, Bytes), String> {
    let req = Request::post(path)
        .header("host", host)
        .header("authorization", KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("idempotency-key", idempotency_key)
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let ok = resp.status().is_success();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((ok, body))
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let (host, running_sandbox) = match &args.url {
        Some(u) => (
            u.trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
            None,
        ),
        None => {
            let config = stripe_sandbox::SandboxConfig {
                addr: "127.0.0.1:0".parse().expect("addr"),
                ..Default::default()
            };
            let s = stripe_sandbox::start(config).await.expect("start sandbox");
            (s.addr().to_string(), Some(s))
        }
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "sandbox-bench: {} connections, {:.0}s (+{:.0}s warm-up), target {} ({}), {} cores",
        args.connections,
        args.seconds,
        args.warmup,
        host,
        if running_sandbox.is_some() {
            "in-process, state in memory"
        } else {
            "external"
        },
        cores
    );
    let stats = Arc::new(Stats {
        pairs: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        latency_us: parking_lot::Mutex::new(Vec::new()),
    });
    let running = Arc::new(AtomicBool::new(true));
    let measuring = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for i in 0..args.connections {
        handles.push(tokio::spawn(worker(
            host.clone(),
            i,
            stats.clone(),
            running.clone(),
            measuring.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    running.store(false, Ordering::Relaxed);
    for h in handles {
        match h.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("connection failed: {e}"),
            Err(e) => eprintln!("worker panicked: {e}"),
        }
    }
    let pairs = stats.pairs.load(Ordering::Relaxed);
    let errors = stats.errors.load(Ordering::Relaxed);
    let mut lat = std::mem::take(&mut *stats.latency_us.lock());
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() - 1) as f64 * p) as usize] as f64 / 1000.0
        }
    };
    println!(
        "{pairs} create+confirm pairs in {elapsed:.2}s = {:.0} pairs/s ({:.0} requests/s), {errors} errors",
        pairs as f64 / elapsed,
        2.0 * pairs as f64 / elapsed
    );
    println!(
        "pair latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    if let Some(s) = running_sandbox {
        s.shutdown().await;
    }
    if errors > 0 || pairs == 0 {
        std::process::exit(1);
    }
}
