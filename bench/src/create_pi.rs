//! `bench create-pi`: the `pay` server function (`POST /api/pay`, `order_id=…`), which
//! creates the order's PaymentIntent at the sandbox on its first call and hands back
//! its client secret. Orders are prepared before the clock starts (as many as the
//! warm-up's rate needs); each timed call is the first for its order (a real
//! PaymentIntent creation). Then, optionally, the
//! "reuse" figure: calls again on orders that already have their intent.
//!
//! `--node DIR` also measures the baseline in the same run: Stripe's integration-guide
//! server (`bench/node-baseline`: express + the `stripe` package, `POST
//! /create-payment-intent`) started with `node` against this process's embedded sandbox,
//! driven by the same client with the same connections. The two take turns (ours, Node,
//! ours, Node; half the duration each) so that neither gets a quieter machine or a
//! smaller sandbox; the ratio of their rates is printed.
//!
//! Every PaymentIntent created sends a `payment_intent.created` webhook to the shop.
//! The sandbox sends them in as many lanes as there are clients (one at a time, its default, fell behind
//! the payments, and one turn's webhooks came in during the next), and a turn ends once
//! its webhooks are stored: that wait counts in its duration and its CPU time, and the
//! events stored must be one per call. `--floor` adds turns with no server, after the
//! others: the client creates PaymentIntents at the sandbox itself, the webhooks still
//! come in. Its
//! CPU per request is what every turn shares; Node's turn's CPU over it is the ratio a
//! server costing nothing would reach.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::harness::{self, Target};
use crate::orders::{self, Order};
use crate::stats::{Samples, Summary, Tally, Window};
use crate::Common;

pub struct Args {
    pub common: Common,
    /// Orders to prepare for the timed run (default: 1.2 × the warm-up's rate × the
    /// duration, or `-n`).
    pub orders: Option<usize>,
    /// Duration of the reuse phase (zero skips it).
    pub reuse: Duration,
    /// Sign-ins per second run beside the timed payments (0: none): Argon2id hashing
    /// must not stall payments.
    pub sign_ins: f64,
    /// The Node baseline's directory (`bench/node-baseline`), measured beside ours.
    pub node: Option<PathBuf>,
    /// Also a turn with no server at all: the client creates PaymentIntents at the
    /// sandbox itself (the webhooks still come in). What the shared work costs.
    pub floor: bool,
}

/// The Node baseline's server, killed when dropped.
struct NodeBaseline {
    child: Child,
    url: String,
}

impl NodeBaseline {
    /// Starts `node server.mjs` in `dir` on a free port, talking to the sandbox at
    /// `stripe_api`; waits for its `listening on URL` line.
    fn start(dir: &Path, stripe_api: &str) -> anyhow::Result<NodeBaseline> {
        anyhow::ensure!(
            dir.join("node_modules").is_dir(),
            "{}: no node_modules (run `npm ci` there; scripts/toolchain.sh does)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(dir)
            .env("NODE_ENV", "production")
            // The sandbox takes any well-formed test key.
            .env("STRIPE_SECRET_KEY", "sk_test_node_baseline_0000000000")
            .env("STRIPE_API_BASE", stripe_api)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting `node server.mjs` (is Node.js on PATH?)")?;
        let stdout = child.stdout.take().context("node's stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading node's first line")?;
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            anyhow::bail!("the Node baseline did not start (it printed {line:?})");
        };
        Ok(NodeBaseline {
            url: url.to_owned(),
            child,
        })
    }
}

impl Drop for NodeBaseline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time used over the turns: this process's in ours and in Node's, and Node's.
#[derive(Default)]
struct CpuUse {
    ours: Duration,
    node_turn_here: Duration,
    node: Duration,
    floor: Duration,
    /// A sample could not be read (no `/proc`): no figures.
    unknown: bool,
}

/// CPU times at one moment: this process's, and Node's if it runs.
struct CpuSample {
    this_process: Option<Duration>,
    node: Option<Duration>,
}

impl CpuUse {
    /// Adds CPU used in a turn to one of the totals.
    fn add(&mut self, part: Option<Duration>, total: fn(&mut CpuUse) -> &mut Duration) {
        match part {
            Some(used) => *total(self) += used,
            None => self.unknown = true,
        }
    }

    /// Microseconds per request of a total, if known.
    fn per_request(&self, total: Duration, requests: u64) -> Option<f64> {
        (!self.unknown).then(|| total.as_secs_f64() * 1e6 / requests.max(1) as f64)
    }
}

impl CpuSample {
    /// Now, for this process and Node (`node`: its process id, if it runs).
    fn now(node: Option<u32>) -> CpuSample {
        CpuSample {
            this_process: harness::cpu_time(std::process::id()),
            node: node.and_then(harness::cpu_time),
        }
    }

    /// (this process, Node) CPU used since `before`.
    fn since(&self, before: &CpuSample) -> (Option<Duration>, Option<Duration>) {
        let diff = |now: Option<Duration>, then: Option<Duration>| Some(now?.saturating_sub(then?));
        (
            diff(self.this_process, before.this_process),
            diff(self.node, before.node),
        )
    }
}

/// `POST /create-payment-intent` of the Node baseline, as the guide's page sends it (the
/// cart's items in JSON); the client secret.
/// Sends `request`; its 2xx answer as JSON (and as text, for messages), else why not.
async fn json_answer(
    request: reqwest::RequestBuilder,
) -> Result<(serde_json::Value, String), String> {
    let response = request.send().await.map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {text}"));
    }
    let body = serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    Ok((body, text))
}

async fn create_at_node(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let request = client
        .post(url)
        .json(&serde_json::json!({ "items": [{ "id": orders::SKU, "amount": 1250 }] }));
    let (body, text) = json_answer(request).await?;
    client_secret(&body["clientSecret"], &text)
}

/// A PaymentIntent's client secret from an answer, or what was wrong with the answer.
fn client_secret(value: &serde_json::Value, answer: &str) -> Result<String, String> {
    match value.as_str() {
        Some(secret) if secret.starts_with("pi_") && secret.contains("_secret_") => {
            Ok(secret.to_owned())
        }
        _ => Err(format!("unexpected answer: {answer}")),
    }
}

/// Who the turns other than ours call.
#[derive(Clone, Copy)]
enum Other {
    /// The Node baseline's `POST /create-payment-intent`.
    Node,
    /// The sandbox's own `POST /v1/payment_intents` (the floor: no server).
    Sandbox,
}

/// Calls to the Node baseline or to the sandbox itself until the window closes.
async fn other_calls(
    other: Other,
    client: &reqwest::Client,
    url: &str,
    window: Arc<Window>,
    concurrency: usize,
) -> anyhow::Result<Phase> {
    run_workers(concurrency, window.clone(), || {
        let (client, url, window) = (client.clone(), url.to_owned(), window.clone());
        async move {
            let mut out = WorkerResult::default();
            while let Some(measured) = window.take() {
                let t0 = Instant::now();
                let outcome = match other {
                    Other::Node => create_at_node(&client, &url).await,
                    Other::Sandbox => create_at_sandbox(&client, &url).await,
                };
                out.samples.record(measured, t0, outcome);
            }
            out
        }
    })
    .await
}

/// `POST /v1/payment_intents` at the sandbox itself, as a server would send it (the
/// floor turn: no server between the client and the sandbox); the client secret.
async fn create_at_sandbox(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let request = client
        .post(url)
        .bearer_auth("sk_test_bench_floor_00000000000000")
        .header(
            "Idempotency-Key",
            format!("floor-{:032x}", rand::random::<u128>()),
        )
        .form(&[
            ("amount", "1250"),
            ("currency", "usd"),
            ("automatic_payment_methods[enabled]", "true"),
        ]);
    let (body, text) = json_answer(request).await?;
    client_secret(&body["client_secret"], &text)
}

/// Sign-ins of one account at a steady rate until `stop`; (succeeded, failed).
async fn sign_in_load(
    client: reqwest::Client,
    base: String,
    rate: f64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(u64, u64)> {
    const PASSWORD: &str = "bench password 0123";
    let email = format!("bench-{:016x}@example.com", rand::random::<u64>());
    let form = [("email", email.as_str()), ("password", PASSWORD)];
    let response = client
        .post(format!("{base}/api/sign_up"))
        .form(&form)
        .send()
        .await
        .context("sign_up")?;
    anyhow::ensure!(
        response.status().is_success(),
        "sign_up: HTTP {}",
        response.status()
    );
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut in_flight = Vec::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let (client, base, email, ok, failed) =
                    (client.clone(), base.clone(), email.clone(), ok.clone(), failed.clone());
                in_flight.push(tokio::spawn(async move {
                    let answer = client
                        .post(format!("{base}/api/sign_in"))
                        .form(&[("email", email.as_str()), ("password", PASSWORD)])
                        .send()
                        .await;
                    match answer {
                        Ok(r) if r.status().is_success() => ok.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }));
            }
            _ = stop.changed() => break,
        }
    }
    for h in in_flight {
        let _ = h.await;
    }
    Ok((
        ok.load(Ordering::Relaxed) as u64,
        failed.load(Ordering::Relaxed) as u64,
    ))
}

/// Webhook events the shop has stored so far (`None` unless the server and the sandbox
/// run in this process: only then does the bench wait for a turn's webhooks).
async fn stored_events(target: &Target) -> Option<i64> {
    target.app()?.stripe.sandbox.as_ref()?;
    let store = target.store.as_ref()?;
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM stripe_events")
        .fetch_one(store.pool())
        .await
        .ok()
}

/// The embedded sandbox's deliveries: `lanes` at once per endpoint (Stripe sends
/// concurrently; one at a time, the sandbox's default, could not keep up with the
/// payments, and a turn's webhooks would come in during the next turn). Nothing without
/// an embedded sandbox.
async fn deliver_in_parallel(
    client: &reqwest::Client,
    target: &Target,
    lanes: usize,
) -> anyhow::Result<()> {
    let Ok((_, sandbox)) = target.sandbox() else {
        return Ok(());
    };
    let request = client
        .post(format!("{sandbox}/_sandbox/webhooks"))
        .json(&serde_json::json!({ "parallel": lanes }));
    json_answer(request)
        .await
        .map_err(|e| anyhow::anyhow!("setting the sandbox's webhook lanes: {e}"))?;
    Ok(())
}

/// Waits (up to 60 s) until the embedded sandbox has sent every webhook due; how long
/// that took. A turn's events are stored within its turn, so its CPU time and duration
/// hold them (zero without an embedded sandbox).
async fn settle_webhooks(target: &Target) -> anyhow::Result<Duration> {
    let Some(sandbox) = target.app().and_then(|app| app.stripe.sandbox.as_ref()) else {
        return Ok(Duration::ZERO);
    };
    let t0 = Instant::now();
    while !sandbox.sandbox().webhooks_settled() {
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(60),
            "the sandbox's webhooks were still going out after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(t0.elapsed())
}

/// Prints a turn's calls, the webhook events stored during it, and how long its
/// webhooks went on after its last answer. `false` when the events stored are not one
/// per call (each call creates one PaymentIntent: one `payment_intent.created`).
fn report_turn(
    turn: &str,
    phase: &Phase,
    events: (Option<i64>, Option<i64>),
    webhooks_after: Duration,
) -> bool {
    let calls: usize = phase.results.iter().map(|r| r.samples.count()).sum();
    let (stored, consistent) = match events {
        (Some(before), Some(after)) => (
            format!("{} webhook events stored", after - before),
            after - before == calls as i64,
        ),
        _ => ("webhook events not counted".to_owned(), true),
    };
    println!(
        "  turn {turn}: {calls} calls, {stored}, the last {:.0} ms after the last answer{}",
        webhooks_after.as_secs_f64() * 1e3,
        if consistent {
            ""
        } else {
            " (not one event per call)"
        }
    );
    consistent
}

/// A turn under way: the events stored and the CPU used when it started.
struct Turn {
    events: Option<i64>,
    cpu: CpuSample,
}

impl Turn {
    /// Before a turn's first call (`node`: Node's process id, when its CPU counts too).
    async fn start(target: &Target, node: Option<u32>) -> Turn {
        Turn {
            events: stored_events(target).await,
            cpu: CpuSample::now(node),
        }
    }

    /// After its last answer: waits for the turn's webhooks, reports it, and adds its
    /// samples and that wait to `tally`. Whether it stored one event per call, and the CPU
    /// (this process, Node) it used.
    async fn end(
        self,
        target: &Target,
        name: &str,
        phase: &mut Phase,
        tally: &mut Tally,
        node: Option<u32>,
    ) -> anyhow::Result<(bool, (Option<Duration>, Option<Duration>))> {
        let after = settle_webhooks(target).await?;
        let used = CpuSample::now(node).since(&self.cpu);
        let events = (self.events, stored_events(target).await);
        let consistent = report_turn(name, phase, events, after);
        tally.add(
            phase.results.iter_mut().map(|r| &mut r.samples),
            phase.measure_from,
        );
        tally.add_wait(after);
        Ok((consistent, used))
    }
}

/// Orders per second provided for the warm-up (and the run, without a warm-up).
const PROVISION_RATE: f64 = 4000.0;

/// `POST /api/pay` for the order (with the cart cookie that placed it); the client secret.
async fn pay(client: &reqwest::Client, url: &str, order: &Order) -> Result<String, String> {
    let order_id = order.id.as_str();
    let request = client
        .post(url)
        .header(reqwest::header::COOKIE, &order.cookie)
        .form(&[("order_id", order_id)]);
    let (body, text) = json_answer(request).await?;
    let secret = body["client_secret"].as_str().unwrap_or_default();
    if body["order_id"].as_str() != Some(order_id)
        || !secret.starts_with("pi_")
        || !secret.contains("_secret_")
    {
        return Err(format!("unexpected answer: {text}"));
    }
    Ok(secret.to_owned())
}

#[derive(Default)]
struct WorkerResult {
    samples: Samples,
    /// (order, client secret) of each successful call.
    paid: Vec<(Order, String)>,
}

struct Phase {
    concurrency: usize,
    results: Vec<WorkerResult>,
    measure_from: Instant,
}

impl Phase {
    fn take_paid(&mut self) -> Vec<(Order, String)> {
        self.results
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.paid))
            .collect()
    }

    fn summary(&mut self) -> (Summary, u64) {
        Samples::summarise(
            self.results.iter_mut().map(|r| &mut r.samples),
            self.measure_from,
        )
    }
}

/// Runs `concurrency` workers side by side (each takes requests from the window until
/// it closes) and collects what they measured.
async fn run_workers<Fut>(
    concurrency: usize,
    window: Arc<Window>,
    worker: impl Fn() -> Fut,
) -> anyhow::Result<Phase>
where
    Fut: std::future::Future<Output = WorkerResult> + Send + 'static,
{
    let handles: Vec<_> = (0..concurrency).map(|_| tokio::spawn(worker())).collect();
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.context("a worker panicked")?);
    }
    Ok(Phase {
        concurrency,
        results,
        measure_from: window.measure_from(),
    })
}

/// First calls, each on its own order, until the window closes or orders run out.
async fn first_calls(
    client: &reqwest::Client,
    url: &str,
    orders: Arc<Vec<Order>>,
    window: Arc<Window>,
    concurrency: usize,
    next: Arc<AtomicUsize>,
    ran_out: Arc<AtomicBool>,
) -> anyhow::Result<Phase> {
    run_workers(concurrency, window.clone(), || {
        let (client, url, orders, window, next, ran_out) = (
            client.clone(),
            url.to_owned(),
            orders.clone(),
            window.clone(),
            next.clone(),
            ran_out.clone(),
        );
        async move {
            let mut out = WorkerResult::default();
            while let Some(measured) = window.take() {
                let Some(order) = orders.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    ran_out.store(true, Ordering::Relaxed);
                    break;
                };
                let t0 = Instant::now();
                let outcome = pay(&client, &url, order).await.map(|secret| {
                    out.paid.push((order.clone(), secret));
                });
                out.samples.record(measured, t0, outcome);
            }
            out
        }
    })
    .await
}

/// Calls again on orders that have their PaymentIntent; the secret must not change.
async fn reuse_calls(
    client: &reqwest::Client,
    url: &str,
    paid: Arc<Vec<(Order, String)>>,
    duration: Duration,
    concurrency: usize,
) -> anyhow::Result<Phase> {
    let window = Arc::new(Window::new(Duration::ZERO, duration, None));
    let next = Arc::new(AtomicUsize::new(0));
    run_workers(concurrency, window.clone(), || {
        let (client, url, paid, window, next) = (
            client.clone(),
            url.to_owned(),
            paid.clone(),
            window.clone(),
            next.clone(),
        );
        async move {
            let mut out = WorkerResult::default();
            while let Some(measured) = window.take() {
                let (order, first) = &paid[next.fetch_add(1, Ordering::Relaxed) % paid.len()];
                let t0 = Instant::now();
                let outcome = pay(&client, &url, order).await.and_then(|secret| {
                    if &secret == first {
                        Ok(())
                    } else {
                        Err(format!(
                            "{}: a second call gave another PaymentIntent",
                            order.id
                        ))
                    }
                });
                out.samples.record(measured, t0, outcome);
            }
            out
        }
    })
    .await
}

pub async fn run(args: Args) -> anyhow::Result<bool> {
    let c = &args.common;
    let target = Target::new(c.url.as_deref(), c.database.as_deref()).await?;
    println!(
        "create-pi: {} clients, {}, {:.1} s warm-up, target {}, {} cores",
        c.concurrency,
        c.extent(),
        c.warmup.as_secs_f64(),
        target.description,
        harness::cores()
    );
    let client = harness::client(c.concurrency);
    let url = target.url("/api/pay");
    deliver_in_parallel(&client, &target, c.concurrency).await?;

    // Warm-up: first calls too, on their own orders; their rate sizes the timed run's.
    let mut paid: Vec<(Order, String)> = Vec::new();
    let mut rate = PROVISION_RATE;
    let mut ok = true;
    if !c.warmup.is_zero() {
        let n = (c.warmup.as_secs_f64() * PROVISION_RATE).ceil() as usize;
        let orders = orders::create_orders(&client, &target.base, n, c.concurrency)
            .await
            .context("preparing orders")?;
        let window = Arc::new(Window::new(Duration::ZERO, c.warmup, None));
        let ran_out = Arc::new(AtomicBool::new(false));
        let mut warm = first_calls(
            &client,
            &url,
            Arc::new(orders),
            window,
            c.concurrency,
            Arc::new(AtomicUsize::new(0)),
            ran_out,
        )
        .await?;
        let (summary, errors) = warm.summary();
        println!("  warm-up: {}; {errors} errors", summary.human());
        rate = summary.rps().max(100.0);
        ok &= errors == 0;
        paid.extend(warm.take_paid());
    }
    let n_orders = args.orders.unwrap_or_else(|| match c.requests {
        Some(n) => n as usize,
        None => (rate * 1.2 * c.duration.as_secs_f64()).ceil() as usize + c.concurrency,
    });
    let orders = orders::create_orders(&client, &target.base, n_orders, c.concurrency)
        .await
        .context("preparing orders")?;

    let (stop_sign_ins, stopped) = tokio::sync::watch::channel(false);
    let sign_ins = (args.sign_ins > 0.0).then(|| {
        tokio::spawn(sign_in_load(
            client.clone(),
            target.base.clone(),
            args.sign_ins,
            stopped,
        ))
    });
    // With the Node baseline: it starts now and warms up too.
    let node = match &args.node {
        Some(dir) => {
            let (_, sandbox) = target.sandbox()?;
            let node = NodeBaseline::start(dir, &sandbox)?;
            let url = format!("{}/create-payment-intent", node.url);
            let mut warm = other_calls(
                Other::Node,
                &client,
                &url,
                Arc::new(Window::new(
                    Duration::ZERO,
                    c.warmup.max(Duration::from_secs(1)),
                    None,
                )),
                c.concurrency,
            )
            .await?;
            let (summary, errors) = warm.summary();
            println!("  node warm-up: {}; {errors} errors", summary.human());
            ok &= errors == 0;
            Some((node, url))
        }
        None => None,
    };
    // The floor turn's URL: the sandbox's own create-PaymentIntent.
    let floor_url = match args.floor {
        true => Some(format!("{}/v1/payment_intents", target.sandbox()?.1)),
        false => None,
    };
    // The warm-ups' webhooks are in before the first turn.
    settle_webhooks(&target).await?;
    // Turns: ours alone, or ours and Node's (and the floor) in turn, twice, half the
    // extent each.
    let rounds: u32 = if node.is_some() || args.floor { 2 } else { 1 };
    let phase_duration = c.duration / rounds;
    let phase_requests = c.requests.map(|n| n.div_ceil(rounds as u64));

    let ran_out = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let orders = Arc::new(orders);
    let (mut ours, mut theirs, mut floor) = (Tally::default(), Tally::default(), Tally::default());
    // CPU used in each turn: this process (client, sandbox, our server and the webhooks
    // into it), and Node's.
    let mut cpu = CpuUse::default();
    let node_pid = node.as_ref().map(|(node, _)| node.child.id());
    for _ in 0..rounds {
        let window = Arc::new(Window::new(Duration::ZERO, phase_duration, phase_requests));
        let turn = Turn::start(&target, None).await;
        let mut phase = first_calls(
            &client,
            &url,
            orders.clone(),
            window,
            c.concurrency,
            next.clone(),
            ran_out.clone(),
        )
        .await?;
        paid.extend(phase.take_paid());
        let (consistent, (here, _)) = turn
            .end(&target, "ours", &mut phase, &mut ours, None)
            .await?;
        ok &= consistent;
        cpu.add(here, |c| &mut c.ours);
        if let Some((_, node_url)) = &node {
            let window = Arc::new(Window::new(Duration::ZERO, phase_duration, phase_requests));
            let turn = Turn::start(&target, node_pid).await;
            let mut phase =
                other_calls(Other::Node, &client, node_url, window, c.concurrency).await?;
            let (consistent, (here, node)) = turn
                .end(&target, "node", &mut phase, &mut theirs, node_pid)
                .await?;
            ok &= consistent;
            cpu.add(here, |c| &mut c.node_turn_here);
            cpu.add(node, |c| &mut c.node);
        }
    }
    // The floor after the turns compared, as many turns: its events (several times
    // theirs) do not grow the database under them.
    if let Some(floor_url) = &floor_url {
        for _ in 0..rounds {
            let window = Arc::new(Window::new(Duration::ZERO, phase_duration, phase_requests));
            let turn = Turn::start(&target, None).await;
            let mut phase =
                other_calls(Other::Sandbox, &client, floor_url, window, c.concurrency).await?;
            let (consistent, (here, _)) = turn
                .end(&target, "floor", &mut phase, &mut floor, None)
                .await?;
            ok &= consistent;
            cpu.add(here, |c| &mut c.floor);
        }
    }
    let (summary, errors) = ours.finish();
    let _ = stop_sign_ins.send(true);
    let sign_ins = match sign_ins {
        Some(load) => Some(load.await.context("the sign-in load panicked")??),
        None => None,
    };
    let ran_out = ran_out.load(Ordering::Relaxed);
    println!(
        "create-pi: {}; {errors} errors (first call per order: PaymentIntent created at the sandbox){}",
        summary.human(),
        if ran_out {
            format!("; ran out of orders after {:.2} s (raise --orders)", summary.elapsed.as_secs_f64())
        } else {
            String::new()
        }
    );
    // Its own name beside sign-ins, so both runs can be compared.
    let name = if args.sign_ins > 0.0 {
        "create-pi-sign-ins"
    } else {
        "create-pi"
    };
    let mut json = summary.json(name, c.concurrency, errors);
    json["ran_out_of_orders"] = ran_out.into();
    json["server"] = target.kind().into();
    let ours_cpu = cpu.per_request(cpu.ours, summary.requests);
    if let Some(us) = ours_cpu {
        json["cpu_us_per_request"] = us.round().into();
    }
    if let Some((node, _)) = node {
        drop(node);
        let (baseline, node_errors) = theirs.finish();
        let ratio = summary.rps() / baseline.rps().max(1e-9);
        println!(
            "create-pi-node: {}; {node_errors} errors (Stripe's guide: express + stripe-node, storing nothing)",
            baseline.human()
        );
        println!("  ours / node: {ratio:.2}x the requests per second, in turns in one run");
        let node_cpu = cpu.per_request(cpu.node, baseline.requests);
        let here_cpu = cpu.per_request(cpu.node_turn_here, baseline.requests);
        if let (Some(ours), Some(node), Some(here)) = (ours_cpu, node_cpu, here_cpu) {
            println!(
                "  CPU per request: ours {ours:.0} us (this process: client, sandbox, server, \
                 webhooks); Node's turn {:.0} us = node {node:.0} us + this process {here:.0} us \
                 (client, sandbox, webhooks)",
                node + here
            );
            json["node_cpu_us_per_request"] = node.round().into();
            json["node_turn_here_cpu_us_per_request"] = here.round().into();
        }
        let mut line = baseline.json("create-pi-node", c.concurrency, node_errors);
        line["server"] = "node".into();
        println!("{line}");
        json["node_rps"] = line["rps"].clone();
        json["node_p50_ms"] = line["p50_ms"].clone();
        json["node_p99_ms"] = line["p99_ms"].clone();
        json["node_errors"] = node_errors.into();
        json["ratio_to_node"] = ((ratio * 100.0).round() / 100.0).into();
        ok &= node_errors == 0;
    }
    if floor_url.is_some() {
        let (floor, floor_errors) = floor.finish();
        println!(
            "create-pi-floor: {}; {floor_errors} errors (no server: the client creates PaymentIntents at the sandbox, the webhooks still come in)",
            floor.human()
        );
        if let Some(us) = cpu.per_request(cpu.floor, floor.requests) {
            println!("  CPU per request with no server: {us:.0} us (client, sandbox, webhooks)");
            json["floor_cpu_us_per_request"] = us.round().into();
        }
        json["floor_rps"] = floor.rps().into();
        json["floor_errors"] = floor_errors.into();
        ok &= floor_errors == 0;
    }
    if let Some((signed_in, failed)) = sign_ins {
        let per_s = signed_in as f64 / summary.elapsed.as_secs_f64().max(1e-9);
        println!("  beside it: {signed_in} sign-ins ({per_s:.1}/s, Argon2id), {failed} failed");
        json["sign_ins_per_s"] = per_s.into();
        json["sign_in_errors"] = failed.into();
        ok &= failed == 0;
    }
    println!("{json}");
    ok &= errors == 0 && summary.requests > 0;
    if !args.reuse.is_zero() && !paid.is_empty() {
        let mut reuse =
            reuse_calls(&client, &url, Arc::new(paid), args.reuse, c.concurrency).await?;
        let (summary, errors) = reuse.summary();
        println!(
            "create-pi-reuse: {}; {errors} errors (later calls: the stored PaymentIntent)",
            summary.human()
        );
        let mut json = summary.json("create-pi-reuse", reuse.concurrency, errors);
        json["server"] = target.kind().into();
        println!("{json}");
        ok &= errors == 0 && summary.requests > 0;
    }
    drop(client);
    target.stop().await;
    Ok(ok)
}
