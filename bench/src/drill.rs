//! `bench drill`: the fault drills of issue 12, against real processes.
//!
//! Each drill starts the standalone sandbox binary (`stripe-sandbox --addr 127.0.0.1:0`,
//! state in memory) with two webhook endpoints, one per server instance (each its own
//! `whsec_`), and two `server` processes on one fresh PostgreSQL database (real-Stripe
//! configuration pointed at the sandbox: `STRIPE_SECRET_KEY`, `STRIPE_PUBLISHABLE_KEY`,
//! `STRIPE_WEBHOOK_SECRET`, `STRIPE_API_BASE`, `RECONCILE_INTERVAL_SECS=5`, and
//! `TRUST_FORWARDED_FOR=1`: this process is the load balancer, and gives each shopper its
//! own `X-Forwarded-For` address, as the per-address limits expect). Every `/v1`
//! request to the sandbox, the servers' and the shoppers' alike, goes through a small
//! HTTP proxy in this process that counts them and, in the faults drill, injects faults.
//!
//! `--shoppers` shoppers (default 200) arrive over a few seconds, alternately on each
//! instance, and do what a browser does: add a mug to the cart, check out, `pay` (the
//! server function creating the PaymentIntent), then, as Stripe.js would with the
//! publishable key and the client secret, create a card PaymentMethod and confirm the
//! intent at the sandbox: 80 % the 4242 card, 10 % a declined card (0002), 10 % a card
//! needing 3-D Secure (3220), whose challenge is completed through the sandbox's
//! `/3ds/{pi}/complete`. A paid shopper tells the server (`payment_submitted`) and
//! watches the order page for about 3 s (3 polls of `order`), then leaves. A shopper
//! whose request to the shop fails (no answer, or a 5xx) reloads on the other instance;
//! a confirmation that fails is handled as the page does (a lost answer: ask Stripe
//! first, then pay again), at most 6 clicks.
//!
//! - `instances`: the load above.
//! - `kill`: the same, and instance A is killed with SIGKILL when half of the shoppers
//!   have arrived, then restarted 2 s later on the same port.
//! - `faults`: the same, with 30 % (`--fault-rate`) of the sandbox's `/v1` requests
//!   failing (the sandbox's own fault injection, `POST /_sandbox/faults`, one fault for
//!   the very request the proxy picked: `api_error`, `rate_limit`, `delay` 0.5–8 s,
//!   `drop_before`, `drop_after`), and webhooks duplicated and delivered newest first
//!   (`POST /_sandbox/webhooks {"duplicate", "reverse"}`). Faults stop with the load.
//!
//! Then the invariants are read from PostgreSQL (`orders`, `stripe_events`) and from the
//! sandbox (every PaymentIntent, charge and event, paged), again every 2 s until they
//! hold or `--settle` seconds pass (webhooks, the sweeper and the 5-second
//! reconciliation may still be catching up):
//! every order's state is what its PaymentIntent's status says (`succeeded` → paid,
//! declined → failed, never confirmed → pending, …); 0 paid orders lost (a succeeded
//! PaymentIntent whose order is not paid with it, or a shopper told "paid" whose order
//! is not); 0 orders pending or processing with a succeeded PaymentIntent (stuck); no
//! PaymentIntent with two succeeded charges, no order charged twice, no order with two
//! intents confirmed or two intents under one idempotency key; each event at Stripe stored
//! once, none stored that Stripe does not have. Duplicates never heal, so they fail at once.
//! A drill where more than 10 % of the shoppers gave up fails too: it loaded nothing.
//!
//! Each drill prints its figures and a JSON line (`{"bench":"drill",…}`); the run exits 1
//! when an invariant fails, keeping its directory (logs of the sandbox and of both
//! servers, JSON) and its database for a post-mortem.
//!
//! `--database` is a PostgreSQL admin URL: each drill makes a fresh database on it
//! (`drill_<name>_<hex>`, dropped after a pass). Without it a throw-away server is
//! started with `scripts/pg.sh`. `--sabotage no-webhooks|duplicate-charge` breaks the
//! shop on purpose (webhooks paused, the reconciliation off and shoppers not polling; or
//! a second intent charged for one order), to see the invariants fail.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::Rng;
use serde_json::{json, Value};
use sqlx::{Connection, Executor, Row};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

const SECRET_KEY: &str = "sk_test_drill_0123456789abcdef";
const PUBLISHABLE_KEY: &str = "pk_test_drill_0123456789abcdef";
const WEBHOOK_SECRETS: [&str; 2] = [
    "whsec_drill_a_0123456789abcdef0123456789",
    "whsec_drill_b_0123456789abcdef0123456789",
];
/// `RECONCILE_INTERVAL_SECS` of both instances.
const RECONCILE_SECS: u64 = 5;
const SKU: &str = "ferris-mug";
const TOTAL: &str = "1250";
/// Requests of one shopper action to the shop before giving up (each failure reloads on
/// the other instance).
const SHOP_ATTEMPTS: u32 = 8;
/// Presses of "Pay" before a shopper gives up.
const CLICKS: u32 = 6;
/// Polls of the order page after paying (one a second, as the page does).
const ORDER_POLLS: u32 = 3;
/// Problems printed per kind.
const SHOWN: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drill {
    Instances,
    Kill,
    Faults,
}

impl Drill {
    const ALL: [Drill; 3] = [Drill::Instances, Drill::Kill, Drill::Faults];

    fn name(self) -> &'static str {
        match self {
            Drill::Instances => "instances",
            Drill::Kill => "kill",
            Drill::Faults => "faults",
        }
    }

    fn parse(s: &str) -> Option<Drill> {
        Drill::ALL.into_iter().find(|d| d.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sabotage {
    /// Webhooks paused, no reconciliation, shoppers leave without polling.
    NoWebhooks,
    /// A second PaymentIntent for one paid order, charged.
    DuplicateCharge,
}

#[derive(Debug)]
pub struct Args {
    pub shoppers: usize,
    pub only: Vec<Drill>,
    /// A PostgreSQL admin URL (a database per drill is made on it).
    pub database: Option<String>,
    pub server_bin: Option<PathBuf>,
    pub sandbox_bin: Option<PathBuf>,
    pub settle: Duration,
    pub fault_rate: f64,
    pub keep: bool,
    pub sabotage: Option<Sabotage>,
}

pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        shoppers: 200,
        only: Drill::ALL.to_vec(),
        database: None,
        server_bin: None,
        sandbox_bin: None,
        settle: Duration::from_secs(60),
        fault_rate: 0.3,
        keep: false,
        sabotage: None,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--shoppers" => args.shoppers = crate::number(&flag, &value()?)?,
            "--only" => {
                args.only = value()?
                    .split(',')
                    .map(|s| {
                        Drill::parse(s.trim()).ok_or_else(|| {
                            format!("--only: no drill `{s}` (instances, kill, faults)")
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            "--database" => args.database = Some(value()?),
            "--server-bin" => args.server_bin = Some(value()?.into()),
            "--sandbox-bin" => args.sandbox_bin = Some(value()?.into()),
            "--settle" => args.settle = crate::seconds(&flag, &value()?)?,
            "--fault-rate" => args.fault_rate = crate::number(&flag, &value()?)?,
            "--keep" => args.keep = true,
            "--sabotage" => {
                args.sabotage = Some(match value()?.as_str() {
                    "no-webhooks" => Sabotage::NoWebhooks,
                    "duplicate-charge" => Sabotage::DuplicateCharge,
                    other => {
                        return Err(format!(
                            "--sabotage: `{other}` is neither no-webhooks nor duplicate-charge"
                        ))
                    }
                })
            }
            "-h" | "--help" => return Err(String::new()),
            _ => return Err(format!("drill: unknown argument `{flag}`")),
        }
    }
    if args.shoppers < 10 {
        return Err("--shoppers must be at least 10 (10 % decline, 10 % 3-D Secure)".into());
    }
    if !(0.0..=0.9).contains(&args.fault_rate) {
        return Err("--fault-rate must be between 0 and 0.9".into());
    }
    Ok(args)
}

// ---------------------------------------------------------------------------------------
// Processes: PostgreSQL, the sandbox, the servers.

/// The PostgreSQL server: given, or a throw-away one from `scripts/pg.sh` (stopped on drop).
struct Postgres {
    admin: String,
    throwaway: Option<PathBuf>,
}

impl Postgres {
    fn start(given: Option<&str>) -> anyhow::Result<Postgres> {
        if let Some(url) = given {
            return Ok(Postgres {
                admin: url.to_owned(),
                throwaway: None,
            });
        }
        let dir =
            std::env::temp_dir().join(format!("checkout-drill-pg.{:08x}", rand::random::<u32>()));
        let output = Command::new("bash")
            .arg(pg_sh())
            .arg("start")
            .arg(&dir)
            .stderr(Stdio::inherit())
            .output()
            .context("running scripts/pg.sh start")?;
        let pg = Postgres {
            admin: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            throwaway: Some(dir),
        };
        anyhow::ensure!(
            output.status.success() && pg.admin.starts_with("postgres://"),
            "scripts/pg.sh start failed ({}); pass --database postgres://… instead",
            output.status
        );
        println!("drill: throw-away PostgreSQL at {}", pg.admin);
        Ok(pg)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(dir) = &self.throwaway {
            let _ = Command::new("bash")
                .arg(pg_sh())
                .arg("stop")
                .arg(dir)
                .status();
        }
    }
}

fn pg_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg.sh")
}

/// `admin` with its database name replaced.
fn database_url(admin: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").context("not a URL")? + 3;
    let url = match base[scheme_end..].find('/') {
        Some(slash) => format!("{}/{name}", &base[..scheme_end + slash]),
        None => format!("{base}/{name}"),
    };
    Ok(match query {
        Some(q) => format!("{url}?{q}"),
        None => url,
    })
}

async fn create_database(admin: &str, name: &str) -> anyhow::Result<String> {
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .context("connecting to the PostgreSQL admin URL")?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .with_context(|| format!("CREATE DATABASE {name}"))?;
    conn.close().await.ok();
    database_url(admin, name)
}

async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = conn
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
        conn.close().await.ok();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A child process killed (SIGKILL) when dropped.
struct Proc {
    child: Option<Child>,
}

impl Proc {
    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // std's kill is SIGKILL on Unix.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (graceful), SIGKILL after 10 s.
    fn terminate(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                self.child = None;
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn path_env() -> String {
    std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
}

/// The last lines of a log, for errors.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

struct SandboxProc {
    proc: Proc,
    url: String,
}

async fn start_sandbox(bin: &Path, dir: &Path, webhooks: &[String]) -> anyhow::Result<SandboxProc> {
    let log_path = dir.join("sandbox.log");
    let log = File::create(&log_path)?;
    let mut command = Command::new(bin);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", path_env())
        .env(
            "RUST_LOG",
            std::env::var("DRILL_SANDBOX_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .arg("--addr")
        .arg("127.0.0.1:0");
    for (url, secret) in webhooks.iter().zip(WEBHOOK_SECRETS) {
        command.arg("--webhook").arg(format!("{url}={secret}"));
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log.try_clone()?)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stdout = child.stdout.take().context("the sandbox's stdout")?;
    let proc = Proc { child: Some(child) };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut log = log;
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("stripe-sandbox listening on ") {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
            let _ = writeln!(log, "{line}");
        }
    });
    let url = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
        .await?
        .map_err(|_| anyhow::anyhow!("the sandbox did not start: {}", tail(&log_path, 20)))?;
    Ok(SandboxProc { proc, url })
}

/// One server instance: how to start it again, its process.
struct ServerProc {
    name: &'static str,
    base: String,
    bin: PathBuf,
    dir: PathBuf,
    log: PathBuf,
    env: Vec<(String, String)>,
    proc: Proc,
    starts: u32,
}

impl ServerProc {
    fn spawn(&mut self) -> anyhow::Result<()> {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        self.starts += 1;
        writeln!(
            log,
            "==== drill: start #{} of server {} ====",
            self.starts, self.name
        )?;
        let child = Command::new(&self.bin)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", path_env())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.proc = Proc { child: Some(child) };
        Ok(())
    }
}

type Servers = Arc<Mutex<Vec<ServerProc>>>;

/// Waits until instance `i` answers `/healthz` with 200.
async fn wait_healthy(servers: &Servers, i: usize, client: &reqwest::Client) -> anyhow::Result<()> {
    let (base, log) = {
        let s = &servers.lock().unwrap()[i];
        (s.base.clone(), s.log.clone())
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = servers.lock().unwrap()[i].proc.exited() {
            bail!("server {i} exited ({status}):\n{}", tail(&log, 30));
        }
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("server {base} not healthy after 90 s:\n{}", tail(&log, 30));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------
// The fault proxy: HTTP/1.1 in front of the sandbox's `/v1`.

const FAULT_KINDS: [(&str, u32); 5] = [
    ("api_error", 25),
    ("rate_limit", 20),
    ("delay", 20),
    ("drop_before", 15),
    ("drop_after", 20),
];

struct ProxyState {
    upstream: String,
    rate: f64,
    injecting: AtomicBool,
    requests: AtomicU64,
    faults: [AtomicU64; 5],
    client: reqwest::Client,
}

impl ProxyState {
    fn faults(&self) -> u64 {
        self.faults.iter().map(|f| f.load(Ordering::Relaxed)).sum()
    }

    fn faults_by_kind(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (i, (kind, _)) in FAULT_KINDS.iter().enumerate() {
            m.insert(
                (*kind).into(),
                self.faults[i].load(Ordering::Relaxed).into(),
            );
        }
        Value::Object(m)
    }

    /// Registers one sandbox fault for the next request with this method and path.
    async fn inject(&self, method: &str, path: &str) {
        let (kind, delay_ms) = {
            let mut rng = rand::thread_rng();
            let mut n = rng.gen_range(0..FAULT_KINDS.iter().map(|k| k.1).sum::<u32>());
            let mut kind = 0;
            for (i, (_, weight)) in FAULT_KINDS.iter().enumerate() {
                if n < *weight {
                    kind = i;
                    break;
                }
                n -= weight;
            }
            (kind, rng.gen_range(500..=8_000u64))
        };
        let body = json!({
            "kind": FAULT_KINDS[kind].0,
            "count": 1,
            "delay_ms": delay_ms,
            "path_prefix": path,
            "method": method,
        });
        let sent = self
            .client
            .post(format!("{}/_sandbox/faults", self.upstream))
            .json(&body)
            .send()
            .await;
        if matches!(sent, Ok(r) if r.status().is_success()) {
            self.faults[kind].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The answer to send back, or `None` to close the connection without one (the
    /// sandbox dropped it).
    async fn forward(&self, req: &RawRequest) -> Option<Vec<u8>> {
        let path = req.target.split('?').next().unwrap_or_default();
        if path.starts_with("/v1/") {
            self.requests.fetch_add(1, Ordering::Relaxed);
            if self.injecting.load(Ordering::Relaxed) && rand::thread_rng().gen_bool(self.rate) {
                self.inject(&req.method, path).await;
            }
        }
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).ok()?;
        let mut builder = self
            .client
            .request(method, format!("{}{}", self.upstream, req.target));
        for (name, value) in &req.headers {
            let lower = name.to_ascii_lowercase();
            if !matches!(
                lower.as_str(),
                "host" | "connection" | "content-length" | "transfer-encoding" | "keep-alive"
            ) {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        let response = builder.body(req.body.clone()).send().await.ok()?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.ok()?;
        let mut out = format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Unknown")
        );
        for (name, value) in &headers {
            if matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection" | "keep-alive"
            ) {
                continue;
            }
            if let Ok(v) = value.to_str() {
                out.push_str(&format!("{name}: {v}\r\n"));
            }
        }
        out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&body);
        Some(bytes)
    }
}

struct RawRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    close: bool,
}

async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> Option<RawRequest> {
    let mut line = String::new();
    if r.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let mut request = RawRequest {
        method: method.to_owned(),
        target: target.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
        close: version == "HTTP/1.0",
    };
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if r.read_line(&mut header).await.ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let (name, value) = (name.trim(), value.trim());
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().ok()?,
            // The clients here (reqwest) always send a length; anything else is refused.
            "transfer-encoding" => return None,
            "connection" if value.eq_ignore_ascii_case("close") => request.close = true,
            "connection" if value.eq_ignore_ascii_case("keep-alive") => request.close = false,
            _ => {}
        }
        request.headers.push((name.to_owned(), value.to_owned()));
    }
    request.body = vec![0; length];
    r.read_exact(&mut request.body).await.ok()?;
    Some(request)
}

async fn proxy_connection(stream: tokio::net::TcpStream, state: Arc<ProxyState>) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    while let Some(request) = read_request(&mut read).await {
        let Some(answer) = state.forward(&request).await else {
            return; // closed without an answer, as the sandbox did
        };
        if write.write_all(&answer).await.is_err() || request.close {
            return;
        }
    }
}

struct FaultProxy {
    url: String,
    state: Arc<ProxyState>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    async fn start(upstream: &str, rate: f64) -> anyhow::Result<FaultProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(ProxyState {
            upstream: upstream.trim_end_matches('/').to_owned(),
            rate,
            injecting: AtomicBool::new(rate > 0.0),
            requests: AtomicU64::new(0),
            faults: Default::default(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .tcp_nodelay(true)
                .build()?,
        });
        let accepting = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(proxy_connection(stream, accepting.clone()));
            }
        });
        Ok(FaultProxy { url, state, task })
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------
// Shoppers.

#[derive(Default)]
struct Stats {
    shop_requests: AtomicU64,
    shop_failures: AtomicU64,
    stripe_requests: AtomicU64,
    stripe_failures: AtomicU64,
    arrived: AtomicUsize,
}

struct World {
    shops: [String; 2],
    /// Stripe.js's API base: the proxy.
    stripe: String,
    /// The sandbox itself (3-D Secure pages, checks, controls).
    sandbox: String,
    client: reqwest::Client,
    stats: Stats,
    poll_orders: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Card {
    Visa,
    Declined,
    ThreeDs,
}

impl Card {
    fn of(i: usize) -> Card {
        match i % 10 {
            3 => Card::Declined,
            6 => Card::ThreeDs,
            _ => Card::Visa,
        }
    }

    fn number(self) -> &'static str {
        match self {
            Card::Visa => "4242424242424242",
            Card::Declined => "4000000000000002",
            Card::ThreeDs => "4000000000003220",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Stripe said succeeded.
    Paid,
    Declined,
    GaveUp(&'static str),
}

#[derive(Debug)]
struct Shopper {
    card: Card,
    order: Option<String>,
    payment_intent: Option<String>,
    outcome: Outcome,
    /// Why the shopper gave up.
    why: Option<String>,
    /// The order page's status when the shopper left.
    last_seen: Option<String>,
}

struct Reply {
    status: u16,
    body: Value,
}

impl Reply {
    fn describe(&self, endpoint: &str) -> String {
        let mut body = self.body.to_string();
        body.truncate(160);
        format!("{endpoint}: HTTP {}: {body}", self.status)
    }
}

/// What the shop sees of one shopper's browser.
struct Browser {
    /// The instance the load balancer sends it to (the other one after a failure).
    home: usize,
    cookie: Option<String>,
    /// Its address (`X-Forwarded-For`, as the load balancer sets it).
    ip: String,
}

impl World {
    /// A server function call from the shopper's browser (its cart cookie, its address
    /// as the load balancer reports it); on no answer or a 5xx the shopper reloads on the
    /// other instance and tries again.
    async fn shop(
        &self,
        browser: &mut Browser,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        let mut last = String::new();
        for attempt in 0..SHOP_ATTEMPTS {
            self.stats.shop_requests.fetch_add(1, Ordering::Relaxed);
            let mut request = self
                .client
                .post(format!("{}/api/{endpoint}", self.shops[browser.home]))
                .header("x-forwarded-for", &browser.ip)
                .form(form);
            if let Some(cookie) = &browser.cookie {
                request = request.header(reqwest::header::COOKIE, cookie);
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let cart_cookie = response
                        .headers()
                        .get_all(reqwest::header::SET_COOKIE)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .filter_map(|v| v.split(';').next())
                        .find(|pair| pair.trim_start().starts_with("cart="))
                        .map(str::to_owned);
                    match response.text().await {
                        Ok(text) if status < 500 => {
                            if cart_cookie.is_some() {
                                browser.cookie = cart_cookie;
                            }
                            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                            return Ok(Reply { status, body });
                        }
                        Ok(text) => last = format!("HTTP {status}: {text}"),
                        Err(e) => last = format!("reading the answer: {e}"),
                    }
                }
                Err(e) => last = format!("{e}"),
            }
            self.stats.shop_failures.fetch_add(1, Ordering::Relaxed);
            browser.home ^= 1;
            tokio::time::sleep(
                Duration::from_millis(200 * u64::from(attempt + 1)).min(Duration::from_secs(2)),
            )
            .await;
        }
        bail!("{endpoint}: no answer after {SHOP_ATTEMPTS} tries: {last}")
    }

    /// One Stripe.js call with the publishable key: (HTTP status, JSON), or `None` when
    /// no answer came (a network error, as Stripe.js reports it).
    async fn stripe_js(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(&str, &str)],
    ) -> Option<(u16, Value)> {
        self.stats.stripe_requests.fetch_add(1, Ordering::Relaxed);
        let mut all = vec![("key", PUBLISHABLE_KEY)];
        all.extend_from_slice(params);
        let url = format!("{}{path}", self.stripe);
        let request = if method == reqwest::Method::GET {
            self.client.get(url).query(&all)
        } else {
            self.client.request(method, url).form(&all)
        };
        let answer = async {
            let response = request.send().await.ok()?;
            let status = response.status().as_u16();
            let body: Value = response.json().await.ok()?;
            Some((status, body))
        }
        .await;
        if !matches!(&answer, Some((s, _)) if *s < 500 && *s != 429) {
            self.stats.stripe_failures.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// The card Element's tokenization: a `pm_…`.
    async fn tokenize(&self, card: Card) -> Option<String> {
        let answer = self
            .stripe_js(
                reqwest::Method::POST,
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", card.number()),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2034"),
                    ("card[cvc]", "123"),
                    ("billing_details[address][postal_code]", "10001"),
                ],
            )
            .await;
        match answer {
            Some((200, pm)) => pm["id"].as_str().map(str::to_owned),
            _ => None,
        }
    }

    /// `stripe.retrievePaymentIntent(clientSecret)`, a few tries.
    async fn retrieve(&self, pi: &str, secret: &str) -> Option<Value> {
        for attempt in 0..4u64 {
            let answer = self
                .stripe_js(
                    reqwest::Method::GET,
                    &format!("/v1/payment_intents/{pi}"),
                    &[("client_secret", secret)],
                )
                .await;
            if let Some((200, intent)) = answer {
                return Some(intent);
            }
            tokio::time::sleep(Duration::from_millis(300 * (attempt + 1))).await;
        }
        None
    }

    /// The 3-D Secure challenge, passed ("Complete authentication"), then the intent as
    /// Stripe.js retrieves it afterwards.
    async fn authenticate(&self, pi: &str, secret: &str) -> Option<Value> {
        self.stats.stripe_requests.fetch_add(1, Ordering::Relaxed);
        let completed = self
            .client
            .post(format!("{}/3ds/{pi}/complete", self.sandbox))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("client_secret", secret)])
            .send()
            .await;
        let fallback = match completed {
            Ok(r) if r.status().is_success() => r
                .json::<Value>()
                .await
                .ok()
                .map(|v| v["payment_intent"].clone()),
            _ => {
                self.stats.stripe_failures.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        match self.retrieve(pi, secret).await {
            Some(intent) => Some(intent),
            None => fallback,
        }
    }

    /// Pressing "Pay" until Stripe settles it, as the page and Stripe.js do.
    async fn pay_at_stripe(&self, card: Card, pi: &str, secret: &str) -> Outcome {
        let confirm_path = format!("/v1/payment_intents/{pi}/confirm");
        for _click in 0..CLICKS {
            let Some(pm) = self.tokenize(card).await else {
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            };
            let answer = self
                .stripe_js(
                    reqwest::Method::POST,
                    &confirm_path,
                    &[
                        ("client_secret", secret),
                        ("expected_payment_method_type", "card"),
                        ("payment_method", &pm),
                    ],
                )
                .await;
            let intent = match answer {
                Some((200, intent)) => Some(intent),
                // A decline, or "already confirmed": the error carries the intent.
                Some((status, body)) if status < 500 && status != 429 => {
                    let intent = body["error"]["payment_intent"].clone();
                    if intent.is_object() {
                        Some(intent)
                    } else {
                        self.retrieve(pi, secret).await
                    }
                }
                // The answer was lost or Stripe failed: ask before saying anything.
                _ => self.retrieve(pi, secret).await,
            };
            let Some(mut intent) = intent else {
                continue;
            };
            if intent["status"] == "requires_action" {
                match self.authenticate(pi, secret).await {
                    Some(after) => intent = after,
                    None => continue,
                }
            }
            match intent["status"].as_str().unwrap_or_default() {
                "succeeded" | "processing" => return Outcome::Paid,
                "canceled" => return Outcome::GaveUp("canceled"),
                "requires_payment_method" if !intent["last_payment_error"].is_null() => {
                    return Outcome::Declined
                }
                // Not confirmed (the request failed before it took effect): pay again.
                _ => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
        Outcome::GaveUp("confirm")
    }

    async fn shopper(&self, i: usize) -> Shopper {
        let card = Card::of(i);
        let mut shopper = Shopper {
            card,
            order: None,
            payment_intent: None,
            outcome: Outcome::GaveUp("checkout"),
            why: None,
            last_seen: None,
        };
        let mut browser = Browser {
            // Alternately on each instance, each card on both.
            home: (i + i / 10) % 2,
            cookie: None,
            ip: format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255),
        };
        self.stats.arrived.fetch_add(1, Ordering::Relaxed);
        // Cart and order; a lost answer to checkout empties the cart: add it again.
        for _ in 0..3 {
            let added = self
                .shop(
                    &mut browser,
                    "add_to_cart",
                    &[("sku", SKU), ("quantity", "1")],
                )
                .await;
            match added {
                Ok(r) if r.status == 200 && browser.cookie.is_some() => {}
                Ok(r) => {
                    shopper.why = Some(r.describe("add_to_cart"));
                    continue;
                }
                Err(e) => {
                    shopper.why = Some(format!("{e:#}"));
                    continue;
                }
            }
            match self
                .shop(&mut browser, "checkout", &[("expected_total", TOTAL)])
                .await
            {
                Ok(r) if r.status == 200 && r.body.as_str().is_some() => {
                    shopper.order = r.body.as_str().map(str::to_owned);
                    break;
                }
                Ok(r) => shopper.why = Some(r.describe("checkout")),
                Err(e) => shopper.why = Some(format!("{e:#}")),
            }
        }
        let Some(order) = shopper.order.clone() else {
            return shopper;
        };
        let form = [("order_id", order.as_str())];
        // The checkout page: the order's PaymentIntent (a reload on failure).
        shopper.outcome = Outcome::GaveUp("pay");
        let mut start = None;
        for _ in 0..3 {
            match self.shop(&mut browser, "pay", &form).await {
                Ok(r) if r.status == 200 => {
                    start = Some(r.body);
                    break;
                }
                Ok(r) => {
                    shopper.why = Some(r.describe("pay"));
                    if r.status == 409 {
                        break;
                    }
                }
                Err(e) => shopper.why = Some(format!("{e:#}")),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let Some(start) = start else {
            return shopper;
        };
        let (Some(pi), Some(secret)) = (
            start["payment_intent_id"].as_str(),
            start["client_secret"].as_str(),
        ) else {
            shopper.why = Some(format!("pay answered {start}"));
            return shopper;
        };
        shopper.why = None;
        shopper.payment_intent = Some(pi.to_owned());
        shopper.outcome = self.pay_at_stripe(card, pi, secret).await;
        if shopper.outcome != Outcome::Paid {
            if let Outcome::GaveUp(_) = shopper.outcome {
                shopper.why = Some(format!(
                    "{CLICKS} presses of Pay without an answer from Stripe"
                ));
            }
            return shopper;
        }
        // "Submitted", then the order page.
        let _ = self.shop(&mut browser, "payment_submitted", &form).await;
        if self.poll_orders {
            for _ in 0..ORDER_POLLS {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Ok(r) = self
                    .shop(&mut browser, "order", &[("id", order.as_str())])
                    .await
                {
                    let status = r.body["status"].as_str().map(str::to_owned);
                    let done = !matches!(status.as_deref(), Some("pending" | "processing"));
                    shopper.last_seen = status;
                    if done {
                        break;
                    }
                }
            }
        }
        shopper
    }
}

// ---------------------------------------------------------------------------------------
// Invariants.

#[derive(Debug, Default)]
struct Findings {
    orders: usize,
    by_status: BTreeMap<String, usize>,
    payment_intents: usize,
    /// PaymentIntents made for an order other than the one it holds.
    spare_intents: usize,
    charges_succeeded: usize,
    charges_failed: usize,
    events_at_stripe: usize,
    events_stored: usize,
    events_unprocessed: i64,
    // Never heal:
    duplicate_charges: Vec<String>,
    duplicate_intents: Vec<String>,
    duplicate_events: Vec<String>,
    unknown_events: Vec<String>,
    // Must be empty once settled:
    lost: Vec<String>,
    stuck: Vec<String>,
    mismatched: Vec<String>,
    missing_events: Vec<String>,
    /// Orders or PaymentIntents worth a look in the logs.
    suspects: Vec<String>,
}

impl Findings {
    fn duplicates(&self) -> usize {
        self.duplicate_charges.len()
            + self.duplicate_intents.len()
            + self.duplicate_events.len()
            + self.unknown_events.len()
    }

    fn settled(&self) -> bool {
        self.lost.is_empty()
            && self.stuck.is_empty()
            && self.mismatched.is_empty()
            && self.missing_events.is_empty()
    }

    fn ok(&self) -> bool {
        self.settled() && self.duplicates() == 0
    }
}

async fn list_all(
    client: &reqwest::Client,
    sandbox: &str,
    path: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut out: Vec<Value> = Vec::new();
    let mut seen = HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{sandbox}{path}?limit=100");
        if let Some(a) = &after {
            url.push_str(&format!("&starting_after={a}"));
        }
        let page: Value = client
            .get(&url)
            .bearer_auth(SECRET_KEY)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?
            .error_for_status()
            .with_context(|| format!("GET {path}"))?
            .json()
            .await?;
        let data = page["data"].as_array().cloned().unwrap_or_default();
        after = data
            .last()
            .and_then(|o| o["id"].as_str())
            .map(str::to_owned);
        for object in data {
            if seen.insert(object["id"].as_str().unwrap_or_default().to_owned()) {
                out.push(object);
            }
        }
        if page["has_more"] != Value::Bool(true) || after.is_none() {
            return Ok(out);
        }
    }
}

fn paid_like(status: &str) -> bool {
    matches!(status, "paid" | "partially_refunded" | "refunded")
}

/// The order statuses a PaymentIntent's state allows.
fn expected_statuses(pi: Option<&Value>) -> &'static [&'static str] {
    let Some(pi) = pi else { return &["pending"] };
    match pi["status"].as_str() {
        Some("succeeded") => &["paid", "partially_refunded", "refunded"],
        Some("canceled") => &["canceled"],
        Some("processing") => &["processing"],
        _ if !pi["last_payment_error"].is_null() => &["failed"],
        _ => &["pending"],
    }
}

struct OrderRow {
    id: String,
    status: String,
    payment_intent: Option<String>,
}

async fn check(
    pool: &sqlx::PgPool,
    client: &reqwest::Client,
    sandbox: &str,
    shoppers: &[Shopper],
) -> anyhow::Result<Findings> {
    let mut f = Findings::default();
    let orders: Vec<OrderRow> =
        sqlx::query("SELECT id, status, payment_intent_id FROM orders ORDER BY created_at")
            .fetch_all(pool)
            .await
            .context("reading orders")?
            .into_iter()
            .map(|r| {
                Ok(OrderRow {
                    id: r.try_get("id")?,
                    status: r.try_get("status")?,
                    payment_intent: r.try_get("payment_intent_id")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
    let stored: Vec<String> = sqlx::query("SELECT id FROM stripe_events")
        .fetch_all(pool)
        .await
        .context("reading stripe_events")?
        .into_iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    f.events_unprocessed =
        sqlx::query("SELECT COUNT(*) AS n FROM stripe_events WHERE processed_at IS NULL")
            .fetch_one(pool)
            .await?
            .try_get("n")?;
    let intents = list_all(client, sandbox, "/v1/payment_intents").await?;
    let charges = list_all(client, sandbox, "/v1/charges").await?;
    let events = list_all(client, sandbox, "/v1/events").await?;

    f.orders = orders.len();
    for o in &orders {
        *f.by_status.entry(o.status.clone()).or_default() += 1;
    }
    f.payment_intents = intents.len();
    let pi_by_id: HashMap<&str, &Value> = intents
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let order_of = |pi: &Value| pi["metadata"]["order_id"].as_str().map(str::to_owned);
    let mut intents_by_order: HashMap<String, Vec<&Value>> = HashMap::new();
    for pi in &intents {
        if let Some(order) = order_of(pi) {
            intents_by_order.entry(order).or_default().push(pi);
        }
    }

    // Charges: one succeeded per PaymentIntent, one per order.
    let mut succeeded_by_pi: HashMap<String, Vec<String>> = HashMap::new();
    let mut any_charge: HashSet<String> = HashSet::new();
    for ch in &charges {
        let pi = ch["payment_intent"].as_str().unwrap_or_default().to_owned();
        any_charge.insert(pi.clone());
        if ch["status"] == "succeeded" && ch["paid"] == true {
            f.charges_succeeded += 1;
            succeeded_by_pi
                .entry(pi)
                .or_default()
                .push(ch["id"].as_str().unwrap_or_default().to_owned());
        } else {
            f.charges_failed += 1;
        }
    }
    for (pi, list) in &succeeded_by_pi {
        if list.len() > 1 {
            f.duplicate_charges.push(format!(
                "PaymentIntent {pi} has {} succeeded charges: {}",
                list.len(),
                list.join(", ")
            ));
            f.suspects.push(pi.clone());
        }
    }
    for (order, list) in &intents_by_order {
        let charged: Vec<&str> = list
            .iter()
            .filter_map(|pi| pi["id"].as_str())
            .filter(|id| succeeded_by_pi.contains_key(*id))
            .collect();
        if charged.len() > 1 {
            f.duplicate_charges.push(format!(
                "order {order} charged by {} PaymentIntents: {}",
                charged.len(),
                charged.join(", ")
            ));
            f.suspects.push(order.clone());
        }
        // Touched at all: a charge, or 3-D Secure started / succeeded.
        let confirmed: Vec<&str> = list
            .iter()
            .filter(|pi| {
                let id = pi["id"].as_str().unwrap_or_default();
                any_charge.contains(id)
                    || !pi["last_payment_error"].is_null()
                    || matches!(
                        pi["status"].as_str(),
                        Some("requires_action" | "succeeded" | "processing")
                    )
            })
            .filter_map(|pi| pi["id"].as_str())
            .collect();
        if confirmed.len() > 1 {
            f.duplicate_intents.push(format!(
                "order {order} has {} confirmed PaymentIntents: {}",
                confirmed.len(),
                confirmed.join(", ")
            ));
            f.suspects.push(order.clone());
        }
    }
    // One PaymentIntent per creation key (`order-{id}-pi-v{n}`).
    let mut by_key: HashMap<String, HashSet<String>> = HashMap::new();
    for e in events
        .iter()
        .filter(|e| e["type"] == "payment_intent.created")
    {
        if let (Some(key), Some(pi)) = (
            e["request"]["idempotency_key"].as_str(),
            e["data"]["object"]["id"].as_str(),
        ) {
            by_key
                .entry(key.to_owned())
                .or_default()
                .insert(pi.to_owned());
        }
    }
    for (key, set) in &by_key {
        if set.len() > 1 {
            let ids: Vec<&str> = set.iter().map(String::as_str).collect();
            f.duplicate_intents.push(format!(
                "idempotency key {key} made {} PaymentIntents: {}",
                set.len(),
                ids.join(", ")
            ));
        }
    }

    // Each order against its PaymentIntent.
    let order_by_id: HashMap<&str, &OrderRow> = orders.iter().map(|o| (o.id.as_str(), o)).collect();
    let mut lost: BTreeMap<String, String> = BTreeMap::new();
    for o in &orders {
        let pi = o
            .payment_intent
            .as_deref()
            .and_then(|id| pi_by_id.get(id).copied());
        if let (Some(id), None) = (&o.payment_intent, pi) {
            f.mismatched.push(format!(
                "order {} ({}) holds {id}, which Stripe does not have",
                o.id, o.status
            ));
            f.suspects.push(o.id.clone());
            continue;
        }
        let spares = intents_by_order.get(&o.id).map_or(0, |l| {
            l.iter()
                .filter(|p| p["id"].as_str() != o.payment_intent.as_deref())
                .count()
        });
        f.spare_intents += spares;
        let expected = expected_statuses(pi);
        if !expected.contains(&o.status.as_str()) {
            let pi_desc = pi.map_or("no PaymentIntent".to_owned(), |p| {
                format!(
                    "{} {}{}",
                    p["id"].as_str().unwrap_or_default(),
                    p["status"].as_str().unwrap_or_default(),
                    if p["last_payment_error"].is_null() {
                        ""
                    } else {
                        " (with last_payment_error)"
                    }
                )
            });
            f.mismatched.push(format!(
                "order {} is {}, expected {} ({pi_desc})",
                o.id,
                o.status,
                expected.join("/")
            ));
            f.suspects.push(o.id.clone());
            if pi.is_some_and(|p| p["status"] == "succeeded")
                && matches!(o.status.as_str(), "pending" | "processing")
            {
                f.stuck.push(format!(
                    "order {} {} with {} succeeded",
                    o.id,
                    o.status,
                    o.payment_intent.as_deref().unwrap_or_default()
                ));
            }
        }
    }
    // Money taken that the shop does not show as its order's payment.
    for pi in intents.iter().filter(|p| p["status"] == "succeeded") {
        let id = pi["id"].as_str().unwrap_or_default();
        let order = order_of(pi).unwrap_or_default();
        let why = match order_by_id.get(order.as_str()) {
            None => Some(format!("no order {order:?} in the shop")),
            Some(o) if o.payment_intent.as_deref() != Some(id) => Some(format!(
                "order {order} holds {:?} instead ({})",
                o.payment_intent, o.status
            )),
            Some(o) if !paid_like(&o.status) => Some(format!("order {order} is {}", o.status)),
            _ => None,
        };
        if let Some(why) = why {
            lost.insert(order.clone(), format!("{id} succeeded: {why}"));
            f.suspects.push(id.to_owned());
        }
    }
    for s in shoppers.iter().filter(|s| s.outcome == Outcome::Paid) {
        let Some(order) = &s.order else { continue };
        let status = order_by_id
            .get(order.as_str())
            .map_or("missing", |o| o.status.as_str());
        if !paid_like(status) {
            lost.entry(order.clone()).or_insert_with(|| {
                format!(
                    "the shopper was told paid ({:?}), the order is {status}",
                    s.payment_intent
                )
            });
        }
    }
    f.lost = lost
        .into_iter()
        .map(|(order, why)| format!("order {order}: {why}"))
        .collect();

    // Events: each stored once, all of them, none from elsewhere.
    f.events_at_stripe = events.len();
    f.events_stored = stored.len();
    let at_stripe: HashSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    let mut stored_set: HashSet<&str> = HashSet::new();
    for id in &stored {
        if !stored_set.insert(id.as_str()) {
            f.duplicate_events.push(format!("event {id} stored twice"));
        }
        if !at_stripe.contains(id.as_str()) {
            f.unknown_events
                .push(format!("event {id} stored but unknown to Stripe"));
        }
    }
    for e in &events {
        let id = e["id"].as_str().unwrap_or_default();
        if !stored_set.contains(id) {
            f.missing_events.push(format!(
                "event {id} ({}) never stored",
                e["type"].as_str().unwrap_or_default()
            ));
        }
    }
    f.suspects.sort();
    f.suspects.dedup();
    Ok(f)
}

/// Lines of the servers' logs that mention `needle` (at most `max`).
fn log_lines(logs: &[PathBuf], needle: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for log in logs {
        let name = log.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let Ok(text) = std::fs::read_to_string(log) else {
            continue;
        };
        for line in text.lines().filter(|l| l.contains(needle)) {
            let mut line = line.to_owned();
            if line.len() > 400 {
                let mut cut = 400;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line.truncate(cut);
                line.push('…');
            }
            out.push(format!("    {name}: {line}"));
            if out.len() >= max {
                return out;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// One drill.

struct Binaries {
    server: PathBuf,
    sandbox: PathBuf,
}

impl Binaries {
    fn find(args: &Args) -> anyhow::Result<Binaries> {
        let here = std::env::current_exe()?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let server = args
            .server_bin
            .clone()
            .unwrap_or_else(|| here.join("server"));
        let sandbox = args
            .sandbox_bin
            .clone()
            .unwrap_or_else(|| here.join("stripe-sandbox"));
        for bin in [&server, &sandbox] {
            anyhow::ensure!(
                bin.is_file(),
                "{} is missing: `cargo build -p server --bin server -p stripe-sandbox --bin stripe-sandbox` (or --server-bin / --sandbox-bin)",
                bin.display()
            );
        }
        Ok(Binaries { server, sandbox })
    }
}

async fn control(
    client: &reqwest::Client,
    sandbox: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let response = client
        .request(method, format!("{sandbox}/_sandbox/{path}"))
        .json(&body)
        .send()
        .await
        .with_context(|| format!("/_sandbox/{path}"))?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(
        status.is_success(),
        "/_sandbox/{path}: HTTP {status}: {text}"
    );
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A second PaymentIntent for the order, confirmed with the secret key (sabotage).
async fn charge_twice(
    client: &reqwest::Client,
    sandbox: &str,
    order: &str,
) -> anyhow::Result<String> {
    let created: Value = client
        .post(format!("{sandbox}/v1/payment_intents"))
        .bearer_auth(SECRET_KEY)
        .form(&[
            ("amount", TOTAL),
            ("currency", "usd"),
            ("payment_method_types[]", "card"),
            ("metadata[order_id]", order),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
        ])
        .send()
        .await?
        .json()
        .await?;
    created["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("sabotage: {created}"))
}

/// The sandbox's deliveries to one webhook URL (with their attempts).
async fn deliveries(
    client: &reqwest::Client,
    sandbox: &str,
    url: &str,
) -> anyhow::Result<Vec<Value>> {
    let list: Value = client
        .get(format!("{sandbox}/_sandbox/deliveries"))
        .query(&[("endpoint", url)])
        .send()
        .await
        .context("/_sandbox/deliveries")?
        .error_for_status()?
        .json()
        .await?;
    Ok(list["data"].as_array().cloned().unwrap_or_default())
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

async fn run_one(
    drill: Drill,
    args: &Args,
    bins: &Binaries,
    (admin, throwaway): (&str, bool),
    work: &Path,
) -> anyhow::Result<bool> {
    let t0 = Instant::now();
    let dir = work.join(drill.name());
    std::fs::create_dir_all(dir.join("site"))?;
    let db_name = format!("drill_{}_{:08x}", drill.name(), rand::random::<u32>());
    let db_url = create_database(admin, &db_name).await?;
    let ports = [free_port()?, free_port()?];
    let shops = ports.map(|p| format!("http://127.0.0.1:{p}"));
    let webhooks: Vec<String> = shops.iter().map(|s| format!("{s}/webhook")).collect();
    let mut sandbox = start_sandbox(&bins.sandbox, &dir, &webhooks).await?;
    let rate = if drill == Drill::Faults {
        args.fault_rate
    } else {
        0.0
    };
    let proxy = FaultProxy::start(&sandbox.url, rate).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .build()?;
    let sabotage = args.sabotage;
    if drill == Drill::Faults {
        control(
            &client,
            &sandbox.url,
            reqwest::Method::POST,
            "webhooks",
            json!({"duplicate": true, "reverse": true}),
        )
        .await?;
    }
    if sabotage == Some(Sabotage::NoWebhooks) {
        control(
            &client,
            &sandbox.url,
            reqwest::Method::POST,
            "webhooks/pause",
            json!({}),
        )
        .await?;
    }

    let reconcile = if sabotage == Some(Sabotage::NoWebhooks) {
        0
    } else {
        RECONCILE_SECS
    };
    let servers: Servers = Arc::new(Mutex::new(Vec::new()));
    for (i, name) in ["a", "b"].into_iter().enumerate() {
        let data = dir.join(format!("data-{name}"));
        std::fs::create_dir_all(&data)?;
        let env = vec![
            ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", ports[i])),
            ("LEPTOS_SITE_ROOT", dir.join("site").display().to_string()),
            ("LEPTOS_ENV", "PROD".into()),
            ("DATA_DIR", data.display().to_string()),
            ("DATABASE_URL", db_url.clone()),
            ("STRIPE_SECRET_KEY", SECRET_KEY.into()),
            ("STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY.into()),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRETS[i].into()),
            ("STRIPE_API_BASE", proxy.url.clone()),
            ("STRIPE_JS_URL", format!("{}/v3/", sandbox.url)),
            ("RECONCILE_INTERVAL_SECS", reconcile.to_string()),
            // This drill is the load balancer: each shopper its own address.
            ("TRUST_FORWARDED_FOR", "1".into()),
            ("LOG_FORMAT", "json".into()),
            (
                "RUST_LOG",
                std::env::var("DRILL_LOG").unwrap_or_else(|_| "info".into()),
            ),
        ];
        let mut server = ServerProc {
            name,
            base: shops[i].clone(),
            bin: bins.server.clone(),
            dir: data,
            log: dir.join(format!("server-{name}.log")),
            env: env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            proc: Proc { child: None },
            starts: 0,
        };
        server.spawn()?;
        servers.lock().unwrap().push(server);
    }
    let logs: Vec<PathBuf> = servers
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.log.clone())
        .collect();
    let outcome = drive(
        drill, args, &dir, &db_url, &client, &servers, &sandbox, &proxy, &logs, t0,
    )
    .await;

    // Teardown: servers first (they hold the database), then the sandbox.
    let passed = matches!(outcome, Ok(true));
    for s in servers.lock().unwrap().iter_mut() {
        s.proc.terminate();
    }
    sandbox.proc.terminate();
    drop(proxy);
    if passed {
        drop_database(admin, &db_name).await;
    } else if throwaway {
        println!(
            "  kept for a post-mortem: {} (the database goes with the throw-away PostgreSQL: \
             pass --database to keep it)",
            dir.display()
        );
    } else {
        println!(
            "  kept for a post-mortem: {} and the database {db_url}",
            dir.display()
        );
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    drill: Drill,
    args: &Args,
    dir: &Path,
    db_url: &str,
    client: &reqwest::Client,
    servers: &Servers,
    sandbox: &SandboxProc,
    proxy: &FaultProxy,
    logs: &[PathBuf],
    t0: Instant,
) -> anyhow::Result<bool> {
    let n = args.shoppers;
    let (h0, h1) = tokio::join!(
        wait_healthy(servers, 0, client),
        wait_healthy(servers, 1, client)
    );
    h0?;
    h1?;
    let startup = t0.elapsed();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(db_url)
        .await?;
    let pids: Vec<String> = servers
        .lock()
        .unwrap()
        .iter()
        .map(|s| format!("{} pid {}", s.base, s.proc.pid().unwrap_or(0)))
        .collect();
    println!(
        "\ndrill {}: {n} shoppers on 2 server instances ({}), one PostgreSQL, sandbox {} behind the proxy {}{}; started in {:.1} s",
        drill.name(),
        pids.join(", "),
        sandbox.url,
        proxy.url,
        if drill == Drill::Faults {
            format!(" ({:.0} % of /v1 requests fail; webhooks duplicated and reversed)", args.fault_rate * 100.0)
        } else {
            String::new()
        },
        startup.as_secs_f64()
    );
    let world = Arc::new(World {
        shops: servers
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.base.clone())
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|_| anyhow::anyhow!("two servers"))?,
        stripe: proxy.url.clone(),
        sandbox: sandbox.url.clone(),
        client: client.clone(),
        stats: Stats::default(),
        poll_orders: args.sabotage != Some(Sabotage::NoWebhooks),
    });

    // The load: arrivals spread over a few seconds.
    let ramp = Duration::from_secs_f64((n as f64 / 25.0).clamp(2.0, 20.0));
    let load_start = Instant::now();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let world = world.clone();
            let at = ramp.mul_f64(i as f64 / n as f64);
            tokio::spawn(async move {
                tokio::time::sleep(at).await;
                world.shopper(i).await
            })
        })
        .collect();
    // kill -9 of instance A when half the shoppers have arrived, back 2 s later.
    let killer = (drill == Drill::Kill).then(|| {
        let (servers, world, client) = (servers.clone(), world.clone(), client.clone());
        tokio::spawn(async move {
            while world.stats.arrived.load(Ordering::Relaxed) < n / 2 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let pid = {
                let mut s = servers.lock().unwrap();
                let pid = s[0].proc.pid();
                s[0].proc.kill9();
                pid
            };
            let killed = load_start.elapsed();
            tokio::time::sleep(Duration::from_secs(2)).await;
            servers.lock().unwrap()[0].spawn()?;
            let restarted = load_start.elapsed();
            wait_healthy(&servers, 0, &client).await?;
            anyhow::Ok((pid, killed, restarted, load_start.elapsed()))
        })
    });
    let mut shoppers = Vec::with_capacity(n);
    for h in handles {
        shoppers.push(h.await.context("a shopper panicked")?);
    }
    let load = load_start.elapsed();
    let kill = match killer {
        Some(k) => Some(k.await.context("the killer panicked")??),
        None => None,
    };
    // The outage ends with the load: faults still pending at the sandbox are cleared.
    proxy.state.injecting.store(false, Ordering::Relaxed);
    let unused_faults = control(
        client,
        &sandbox.url,
        reqwest::Method::GET,
        "faults",
        Value::Null,
    )
    .await?["data"]
        .as_array()
        .map_or(0, Vec::len) as u64;
    control(
        client,
        &sandbox.url,
        reqwest::Method::DELETE,
        "faults",
        Value::Null,
    )
    .await?;
    // The deliveries the killed instance missed: the sandbox retries them on its clock
    // (1 min, 2, 4, …); moving it 15 minutes on sends them now, late and stale, to the
    // restarted instance, before the invariants are checked.
    let mut late = None;
    if drill == Drill::Kill {
        let webhook = format!("{}/webhook", world.shops[0]);
        let failed_attempt = |a: &Value| {
            !a["error"].is_null()
                || !a["http_status"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s))
        };
        let missed = deliveries(client, &sandbox.url, &webhook)
            .await?
            .iter()
            .filter(|d| {
                d["attempts"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(failed_attempt))
            })
            .count();
        control(
            client,
            &sandbox.url,
            reqwest::Method::POST,
            "clock/advance",
            json!({"seconds": 900}),
        )
        .await?;
        let pending = deliveries(client, &sandbox.url, &webhook)
            .await?
            .iter()
            .filter(|d| d["status"] != "succeeded")
            .count();
        late = Some((missed, pending));
    }
    if args.sabotage == Some(Sabotage::DuplicateCharge) {
        if let Some(order) = shoppers
            .iter()
            .find(|s| s.outcome == Outcome::Paid)
            .and_then(|s| s.order.clone())
        {
            let pi = charge_twice(client, &sandbox.url, &order).await?;
            println!("  sabotage: order {order} charged a second time with {pi}");
        }
    }

    // Settle: check every 2 s until the invariants hold, or --settle passes.
    let settle_start = Instant::now();
    let findings = loop {
        let f = check(&pool, client, &sandbox.url, &shoppers).await?;
        if f.ok() || f.duplicates() > 0 || settle_start.elapsed() >= args.settle {
            break f;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let settle = settle_start.elapsed();
    pool.close().await;

    // Figures.
    let count = |o: &Outcome| shoppers.iter().filter(|s| &s.outcome == o).count();
    let by_card = |c: Card| {
        shoppers
            .iter()
            .filter(|s| s.card == c && s.outcome == Outcome::Paid)
            .count()
    };
    let mut gave_up: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &shoppers {
        if let Outcome::GaveUp(stage) = s.outcome {
            *gave_up.entry(stage).or_default() += 1;
        }
    }
    // Orders whose checkout answer was lost (the shopper placed another).
    let extra_orders = findings
        .orders
        .saturating_sub(shoppers.iter().filter(|s| s.order.is_some()).count());
    let paid = count(&Outcome::Paid);
    let saw_paid = shoppers
        .iter()
        .filter(|s| s.outcome == Outcome::Paid && s.last_seen.as_deref().is_some_and(paid_like))
        .count();
    let st = &world.stats;
    let shop_requests = st.shop_requests.load(Ordering::Relaxed);
    let sandbox_requests = proxy.state.requests.load(Ordering::Relaxed);
    // Registered for a request but never taken (another request with the same path
    // took it first, and none came after): not counted.
    let faults = proxy.state.faults().saturating_sub(unused_faults);
    let fault_share = faults as f64 / (sandbox_requests.max(1)) as f64;
    println!(
        "  load: {:.1} s; shoppers: {paid} paid ({} card 4242, {} after 3-D Secure; {saw_paid} saw \"paid\" on the order page before leaving), {} declined, {} gave up {:?}; {} extra orders after lost checkout answers",
        load.as_secs_f64(),
        by_card(Card::Visa),
        by_card(Card::ThreeDs),
        count(&Outcome::Declined),
        gave_up.values().sum::<usize>(),
        gave_up,
        extra_orders
    );
    // Why shoppers gave up, most frequent first.
    let mut reasons: HashMap<String, usize> = HashMap::new();
    for why in shoppers.iter().filter_map(|s| s.why.as_deref()) {
        let mut why = why.to_owned();
        why.truncate(120);
        *reasons.entry(why).or_default() += 1;
    }
    let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (why, n) in reasons.iter().take(3) {
        println!("    {n} × {why}");
    }
    let given_up = gave_up.values().sum::<usize>();
    if let Some((pid, killed, restarted, healthy)) = kill {
        println!(
            "  kill -9: instance A (pid {}) killed at {:.2} s, restarted at {:.2} s, healthy at {:.2} s",
            pid.unwrap_or(0),
            killed.as_secs_f64(),
            restarted.as_secs_f64(),
            healthy.as_secs_f64()
        );
    }
    if let Some((missed, pending)) = late {
        println!(
            "  webhooks: {missed} deliveries to A failed during the outage; after moving the sandbox clock 15 min on, {} were redelivered late, {pending} still undelivered",
            missed.saturating_sub(pending)
        );
    }
    println!(
        "  requests: {shop_requests} to the shop ({} failed and reloaded on the other instance); {sandbox_requests} to the sandbox's /v1 (servers and Stripe.js; {} failed as seen by Stripe.js), {faults} faults injected ({:.1} %: {}; {unused_faults} unused)",
        st.shop_failures.load(Ordering::Relaxed),
        st.stripe_failures.load(Ordering::Relaxed),
        fault_share * 100.0,
        proxy.state.faults_by_kind()
    );
    println!(
        "  orders: {} {:?}; PaymentIntents: {} ({} not held by their order); charges: {} succeeded, {} failed",
        findings.orders, findings.by_status, findings.payment_intents, findings.spare_intents, findings.charges_succeeded, findings.charges_failed
    );
    println!(
        "  events: {} at Stripe, {} stored ({} missing, {} unknown, {} twice, {} unprocessed)",
        findings.events_at_stripe,
        findings.events_stored,
        findings.missing_events.len(),
        findings.unknown_events.len(),
        findings.duplicate_events.len(),
        findings.events_unprocessed
    );
    // A drill whose shoppers could not pay checked nothing.
    let served = given_up * 10 <= n;
    let ok = findings.ok() && served;
    if !served {
        println!("  {given_up} of {n} shoppers gave up: more than 10 %, the load did not happen");
    }
    println!(
        "  invariants after {:.1} s of settling: duplicates {}, lost {}, stuck {}, mismatched {}, missing events {} => {}",
        settle.as_secs_f64(),
        findings.duplicates(),
        findings.lost.len(),
        findings.stuck.len(),
        findings.mismatched.len(),
        findings.missing_events.len(),
        if ok { "OK" } else { "FAILED" }
    );
    if !ok {
        for (title, list) in [
            ("duplicate charges", &findings.duplicate_charges),
            ("duplicate PaymentIntents", &findings.duplicate_intents),
            ("events stored twice", &findings.duplicate_events),
            ("events unknown to Stripe", &findings.unknown_events),
            ("lost paid orders", &findings.lost),
            ("stuck orders", &findings.stuck),
            ("mismatched orders", &findings.mismatched),
            ("missing events", &findings.missing_events),
        ] {
            if list.is_empty() {
                continue;
            }
            println!("  {title} ({}):", list.len());
            for line in list.iter().take(SHOWN) {
                println!("    {line}");
            }
        }
        for suspect in findings.suspects.iter().take(3) {
            let lines = log_lines(logs, suspect, 8);
            if !lines.is_empty() {
                println!("  log lines about {suspect}:");
                for line in lines {
                    println!("{line}");
                }
            }
        }
        println!("  logs: {}", dir.display());
    }
    let json = json!({
        "bench": "drill",
        "drill": drill.name(),
        "shoppers": n,
        "paid": paid,
        "saw_paid": saw_paid,
        "extra_orders": extra_orders,
        "declined": count(&Outcome::Declined),
        "gave_up": given_up,
        "requests": shop_requests + sandbox_requests,
        "shop_requests": shop_requests,
        "shop_failures": st.shop_failures.load(Ordering::Relaxed),
        "sandbox_requests": sandbox_requests,
        "faults": faults,
        "fault_share": (fault_share * 1000.0).round() / 1000.0,
        "orders": findings.orders,
        "orders_by_status": findings.by_status,
        "payment_intents": findings.payment_intents,
        "spare_intents": findings.spare_intents,
        "charges": findings.charges_succeeded,
        "charges_failed": findings.charges_failed,
        "events": findings.events_at_stripe,
        "events_stored": findings.events_stored,
        "events_unprocessed": findings.events_unprocessed,
        "duplicates": findings.duplicates(),
        "lost": findings.lost.len(),
        "stuck": findings.stuck.len(),
        "mismatched": findings.mismatched.len(),
        "missing_events": findings.missing_events.len(),
        "load_s": ms(load),
        "settle_s": ms(settle),
        "seconds": ms(t0.elapsed()),
        "killed_at_s": kill.map(|k| ms(k.1)),
        "webhooks_missed": late.map(|l| l.0),
        "webhooks_undelivered": late.map(|l| l.1),
        "ok": ok,
    });
    println!("{json}");
    Ok(ok)
}

pub async fn run(args: Args) -> anyhow::Result<bool> {
    let bins = Binaries::find(&args)?;
    let pg = Postgres::start(args.database.as_deref())?;
    let work = std::env::temp_dir().join(format!("checkout-drill.{:08x}", rand::random::<u32>()));
    std::fs::create_dir_all(&work)?;
    let t0 = Instant::now();
    let mut all_ok = true;
    for drill in &args.only {
        match run_one(
            *drill,
            &args,
            &bins,
            (&pg.admin, pg.throwaway.is_some()),
            &work,
        )
        .await
        {
            Ok(ok) => all_ok &= ok,
            Err(error) => {
                eprintln!("drill {} failed to run: {error:#}", drill.name());
                all_ok = false;
            }
        }
    }
    println!(
        "\ndrills: {} in {:.1} s{}",
        if all_ok {
            "all invariants held"
        } else {
            "FAILED"
        },
        t0.elapsed().as_secs_f64(),
        if all_ok && !args.keep {
            String::new()
        } else {
            format!("; logs in {}", work.display())
        }
    );
    if all_ok && !args.keep {
        let _ = std::fs::remove_dir_all(&work);
    }
    drop(pg);
    Ok(all_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_the_drill() {
        let a = args("").unwrap();
        assert_eq!((a.shoppers, a.only.len(), a.fault_rate), (200, 3, 0.3));
        let a =
            args("--shoppers 40 --only kill,faults --database postgres://x/y --settle 30").unwrap();
        assert_eq!(a.shoppers, 40);
        assert_eq!(a.only, vec![Drill::Kill, Drill::Faults]);
        assert_eq!(a.database.as_deref(), Some("postgres://x/y"));
        assert_eq!(a.settle, Duration::from_secs(30));
        assert!(args("--only nothing").is_err());
        assert!(args("--shoppers 5").is_err());
        assert!(args("--fault-rate 1.5").is_err());
        assert!(args("-c 3").is_err());
        assert_eq!(
            args("--sabotage no-webhooks").unwrap().sabotage,
            Some(Sabotage::NoWebhooks)
        );
    }

    #[test]
    fn database_urls() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "d").unwrap(),
            "postgres://postgres@127.0.0.1:5432/d"
        );
        assert_eq!(
            database_url("postgres://h:1?sslmode=disable", "d").unwrap(),
            "postgres://h:1/d?sslmode=disable"
        );
    }

    #[test]
    fn the_card_mix_is_80_10_10() {
        let cards: Vec<Card> = (0..100).map(Card::of).collect();
        assert_eq!(cards.iter().filter(|c| **c == Card::Declined).count(), 10);
        assert_eq!(cards.iter().filter(|c| **c == Card::ThreeDs).count(), 10);
    }

    #[test]
    fn expected_order_states() {
        assert_eq!(expected_statuses(None), ["pending"]);
        assert!(expected_statuses(Some(&json!({"status": "succeeded"}))).contains(&"paid"));
        assert_eq!(
            expected_statuses(Some(
                &json!({"status": "requires_payment_method", "last_payment_error": {"code": "card_declined"}})
            )),
            ["failed"]
        );
        assert_eq!(
            expected_statuses(Some(
                &json!({"status": "requires_action", "last_payment_error": null})
            )),
            ["pending"]
        );
    }
}
