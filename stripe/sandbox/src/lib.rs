//! `stripe-sandbox`: a stateful, offline emulator of the part of the Stripe API a card
//! checkout uses — PaymentIntents, SetupIntents, PaymentMethods, Customers, Charges,
//! Refunds, Disputes, Payouts, Events — with Stripe's test cards, 3-D Secure, idempotency,
//! signed webhooks with retries, fault injection and a controllable clock.
//!
//! Embed it with [`start`] (binds a port, runs webhooks and persistence) or use
//! [`Sandbox::router`] with your own server. See the crate README for the HTTP surface.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub mod api;
pub mod cards;
mod control;
pub mod error;
pub mod form;
mod http;
pub mod objects;
mod persist;
mod server;
pub mod state;
mod stripejs;
mod three_ds;
pub mod util;
pub mod webhooks;

pub use state::{Attempt, Delivery, DeliveryStatus, FaultKind, WebhookControls};
pub use webhooks::{sign, signature_header};

/// Configuration of a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where [`start`] listens. Port 0 picks a free port.
    pub addr: SocketAddr,
    /// Webhook endpoints as `(url, whsec_secret)`; more can be added at run time.
    pub webhook_endpoints: Vec<(String, String)>,
    /// Snapshot file: state is loaded from it at start and written to it (atomically,
    /// debounced) after changes. `None` keeps everything in memory.
    pub state_file: Option<PathBuf>,
    /// Base URL the sandbox is reached at by browsers, used in URLs it hands out
    /// (3-D Secure pages). Default: `http://` + the request's `Host` header.
    pub public_url: Option<String>,
    /// Delay between a change and the snapshot write (changes in between are batched).
    pub persist_debounce: Duration,
    /// Timeout of one webhook delivery attempt.
    pub webhook_timeout: Duration,
    /// Extra trust for `https://` webhook endpoints with a private certificate (an app
    /// serving HTTPS itself in a demo or a test); `None`: the public web PKI only.
    pub webhook_tls: Option<WebhookTls>,
}

/// How the sandbox reaches an `https://` webhook endpoint with a private certificate.
#[derive(Debug, Clone, Default)]
pub struct WebhookTls {
    /// PEM certificates trusted as roots (e.g. the app's `fullchain.pem`).
    pub root_certificates_pem: Vec<u8>,
    /// `(host, address)`: the endpoint's host name resolves to this address (the
    /// certificate's name, served on a loopback port).
    pub resolve: Option<(String, SocketAddr)>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 12111)),
            webhook_endpoints: Vec::new(),
            state_file: None,
            public_url: None,
            persist_debounce: Duration::from_millis(200),
            webhook_timeout: Duration::from_secs(10),
            webhook_tls: None,
        }
    }
}

/// Why a sandbox could not start.
#[derive(Debug)]
pub enum SandboxError {
    Io(std::io::Error),
    /// The state file exists but is not a snapshot this version can read.
    StateFile(String),
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::Io(e) => write!(f, "i/o error: {e}"),
            SandboxError::StateFile(e) => write!(f, "cannot read the state file: {e}"),
        }
    }
}

impl std::error::Error for SandboxError {}

impl From<std::io::Error> for SandboxError {
    fn from(e: std::io::Error) -> Self {
        SandboxError::Io(e)
    }
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<state::State>,
    pub(crate) config: SandboxConfig,
    pub(crate) dispatch_notify: Notify,
    pub(crate) persist_notify: Notify,
    pub(crate) http: reqwest::Client,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) tasks: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) persist_lock: tokio::sync::Mutex<()>,
    /// Held while a batch of deliveries is sent, so that [`Sandbox::advance_clock`] and
    /// flushes see the attempts of a batch already under way.
    pub(crate) dispatch_lock: tokio::sync::Mutex<()>,
}

/// A handle on one sandbox's state and background tasks. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    pub(crate) shared: Arc<Shared>,
}

impl Sandbox {
    /// Loads the state file (if any), registers the configured webhook endpoints and
    /// spawns the webhook dispatcher and the persister. Must be called inside a Tokio
    /// runtime.
    pub fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let mut st = match &config.state_file {
            Some(path) => persist::load(path)?.unwrap_or_default(),
            None => state::State::default(),
        };
        for (url, secret) in &config.webhook_endpoints {
            webhooks::upsert_endpoint(&mut st, url, secret, None);
        }
        let mut http = reqwest::Client::builder().timeout(config.webhook_timeout);
        if let Some(tls) = &config.webhook_tls {
            let roots = reqwest::Certificate::from_pem_bundle(&tls.root_certificates_pem)
                .map_err(|e| SandboxError::Io(std::io::Error::other(e)))?;
            for root in roots {
                http = http.add_root_certificate(root);
            }
            if let Some((host, addr)) = &tls.resolve {
                http = http.resolve(host, *addr);
            }
        }
        let http = http
            .build()
            .map_err(|e| SandboxError::Io(std::io::Error::other(e)))?;
        let (stop, _) = watch::channel(false);
        let sandbox = Sandbox {
            shared: Arc::new(Shared {
                state: Mutex::new(st),
                config,
                dispatch_notify: Notify::new(),
                persist_notify: Notify::new(),
                http,
                stop,
                tasks: Mutex::new(Vec::new()),
                persist_lock: tokio::sync::Mutex::new(()),
                dispatch_lock: tokio::sync::Mutex::new(()),
            }),
        };
        let dispatcher = tokio::spawn(webhooks::run_dispatcher(sandbox.clone()));
        let mut tasks = vec![dispatcher];
        if sandbox.shared.config.state_file.is_some() {
            tasks.push(tokio::spawn(persist::run_persister(sandbox.clone())));
        }
        *sandbox.shared.tasks.lock() = tasks;
        Ok(sandbox)
    }

    /// The whole HTTP surface: `/v1/...` (Stripe), `/3ds/...` and `/_sandbox/...`.
    pub fn router(&self) -> axum::Router {
        http::router(self.clone())
    }

    /// Registers (or updates the secret of) a webhook endpoint; returns its id (`we_…`).
    pub fn add_webhook_endpoint(&self, url: &str, secret: &str) -> String {
        let mut st = self.shared.state.lock();
        let id = webhooks::upsert_endpoint(&mut st, url, secret, None);
        drop(st);
        self.changed(false);
        id
    }

    /// Current sandbox time (unix seconds): wall clock plus every advance.
    pub fn now(&self) -> i64 {
        self.shared.state.lock().now()
    }

    /// Moves the sandbox clock forward, firing every webhook retry and dispute deadline
    /// that falls due on the way, in order; returns once those deliveries were attempted.
    pub async fn advance_clock(&self, seconds: i64) {
        webhooks::advance_clock(self, seconds).await
    }

    /// Attempts every webhook delivery that is due now, and waits for the attempts.
    pub async fn flush_webhooks(&self) {
        webhooks::dispatch_due(self).await
    }

    /// No webhook delivery is due now or under way (retries scheduled for later do not
    /// count): every event so far has had its attempt.
    pub fn webhooks_settled(&self) -> bool {
        let due_now = {
            let st = self.shared.state.lock();
            st.next_delivery_at().is_some_and(|t| t <= st.now())
        };
        !due_now && self.shared.dispatch_lock.try_lock().is_ok()
    }

    /// Forgets every object, event, delivery and idempotency key (webhook endpoints stay).
    pub fn reset(&self) {
        self.shared.state.lock().reset(true);
        self.changed(false);
    }

    /// The webhook deliveries so far, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared
            .state
            .lock()
            .deliveries
            .iter()
            .cloned()
            .collect()
    }

    /// Writes the state file now (no-op without one).
    pub async fn persist(&self) -> std::io::Result<()> {
        persist::save(self).await
    }

    /// Stops the background tasks and writes a final snapshot.
    pub async fn shutdown(&self) {
        self.shared.stop.send_replace(true);
        let tasks = std::mem::take(&mut *self.shared.tasks.lock());
        for t in tasks {
            let _ = t.await;
        }
        if let Err(e) = persist::save(self).await {
            tracing::error!(error = %e, "final state snapshot failed");
        }
    }

    /// Wakes the dispatcher / persister after a state change.
    pub(crate) fn changed(&self, deliveries: bool) {
        if deliveries {
            self.shared.dispatch_notify.notify_one();
        }
        if self.shared.config.state_file.is_some() {
            self.shared.persist_notify.notify_one();
        }
    }
}

/// A sandbox serving HTTP on a port.
pub struct RunningSandbox {
    sandbox: Sandbox,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
}

/// Binds `config.addr` and serves the sandbox until [`RunningSandbox::shutdown`].
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let sandbox = Sandbox::new(config)?;
    let (stop, stop_rx) = watch::channel(false);
    let server = tokio::spawn(server::serve(listener, sandbox.router(), stop_rx));
    tracing::info!(%addr, "stripe sandbox listening");
    Ok(RunningSandbox {
        sandbox,
        addr,
        stop,
        server,
    })
}

impl RunningSandbox {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the base URL to give Stripe clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Registers a webhook endpoint `(url, whsec_…)`; returns its id.
    pub fn add_webhook_endpoint(&self, url: &str, secret: &str) -> String {
        self.sandbox.add_webhook_endpoint(url, secret)
    }

    /// Graceful shutdown: stops accepting, lets in-flight requests finish (up to 5 s),
    /// stops the webhook dispatcher and writes the final state snapshot.
    pub async fn shutdown(self) {
        self.stop.send_replace(true);
        let _ = self.server.await;
        self.sandbox.shutdown().await;
    }
}
