//! The checkout's server: configuration, the router (the Leptos app, `/webhook`,
//! `/healthz`), background jobs and telemetry. The shop itself (storage, payments, the
//! payment state machine) is the `shop` crate; server functions call it directly.
//!
//! [`Application::build`] binds the listener (port 0 picks a free one, as the
//! integration tests do) and [`Application::run_until_stopped`] serves until the
//! shutdown future resolves, draining requests in flight.
// The console's view types (the merchant order page's) are deeper than rustc's default
// layout query limit.
#![recursion_limit = "256"]

pub mod config;
pub mod limits;
pub mod spawn;
pub mod stripe_provider;
pub mod telemetry;
pub mod tls;
pub mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::Layer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use shop::accounts::Accounts;
use shop::payments::Payments;
use shop::reconcile::Reconciler;
use shop::store::Store;
use shop::stripe_events::EventHandlers;
use tracing::Instrument;

use crate::config::Settings;
use crate::stripe_provider::StripeProvider;

/// What handlers and middleware share, behind one `Arc`: axum clones the state for every
/// request (each `from_fn_with_state` layer, each `State` extractor, each Leptos route),
/// and by value that cloned the event handlers' stores and Stripe clients every time.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub leptos_options: LeptosOptions,
    /// The same services the pages and server functions use (the store, the accounts,
    /// the event handlers the webhook hands events to).
    pub services: Arc<app::edge::Services>,
    pub stripe: Arc<StripeProvider>,
    pub cookies: app::edge::CookiePolicy,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    store: Store,
    stripe: Arc<StripeProvider>,
    /// The router's event handlers, shared with the backlog job.
    events: EventHandlers,
    /// The router's reconciliation, shared with its background job.
    reconciler: Reconciler,
    /// The router's payments service, shared with the sweeper.
    payments: Payments,
    reconcile_every: Option<std::time::Duration>,
    /// `Some`: HTTPS on `listener` (rustls).
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    /// The plain-HTTP listener that redirects to the HTTPS site.
    redirect: Option<(tokio::net::TcpListener, Router)>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let store = Store::connect(&settings.database).await?;
        tracing::info!(database = ?settings.database, "database ready (migrations applied)");
        for module in app::PAY_MODULES {
            let path = std::path::Path::new(&settings.site_root)
                .join(app::PAY_MODULE)
                .join(app::module_wasm_file(module));
            if !path.exists() {
                // The checkout would say its form cannot start, and the cart's forms would
                // post without it (app/src/hydration.rs).
                tracing::warn!(
                    path = %path.display(),
                    "a module of the pay crate is missing: build it with scripts/pay.sh"
                );
            }
        }
        let listener = tokio::net::TcpListener::bind(settings.site_addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.site_addr))?;
        let local = listener.local_addr()?;
        let tls = match &settings.tls {
            Some(files) => Some(tls::rustls_config(files)?),
            None => None,
        };
        let redirect = match settings.tls.as_ref().and_then(|t| t.redirect_addr) {
            Some(addr) => {
                let plain = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                    anyhow::anyhow!("cannot listen on {addr} (HTTP_REDIRECT_ADDR): {e}")
                })?;
                let to = tls::RedirectTarget::new(settings.public_url.as_ref(), local.port());
                Some((plain, tls::redirect_router(to)))
            }
            None => None,
        };
        let stripe = Arc::new(StripeProvider::start(&settings, local).await?);
        let demo = ensure_merchant(&settings, &store, stripe.is_sandbox()).await?;
        let (router, events, reconciler, payments) =
            router(&settings, local, store.clone(), stripe.clone(), demo);
        Ok(Application {
            listener,
            router,
            store,
            stripe,
            events,
            reconciler,
            payments,
            reconcile_every: settings.reconcile_every,
            tls,
            redirect,
        })
    }

    /// Where the plain-HTTP redirect listens (with `HTTP_REDIRECT_ADDR`).
    pub fn redirect_addr(&self) -> Option<SocketAddr> {
        self.redirect
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// `https` when this process terminates TLS.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn stripe(&self) -> &Arc<StripeProvider> {
        &self.stripe
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!("listening on {}://{}", self.scheme(), self.local_addr());
        let (stop_jobs, stopped) = tokio::sync::watch::channel(false);
        let backlog = tokio::spawn(
            process_backlog_forever(
                self.store.clone(),
                self.events.clone(),
                self.payments.clone(),
                stopped,
            )
            .instrument(tracing::error_span!("job", name = "webhook_backlog")),
        );
        let reconciliation = self.reconcile_every.map(|every| {
            tokio::spawn(
                reconcile_forever(self.reconciler.clone(), every, stop_jobs.subscribe())
                    .instrument(tracing::error_span!("job", name = "reconciliation")),
            )
        });
        // The peer address reaches server functions (sign-in throttling per client).
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let redirect = self.redirect.map(|(listener, router)| {
            let mut stop = stop_jobs.subscribe();
            tracing::info!(addr = ?listener.local_addr().ok(), "plain HTTP redirects to HTTPS");
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stop.changed().await;
                    })
                    .await
            })
        });
        let result = match self.tls {
            None => {
                axum::serve(self.listener, service)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            Some(tls) => {
                let handle = axum_server::Handle::new();
                let stopper = handle.clone();
                tokio::spawn(async move {
                    shutdown.await;
                    stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
                });
                let listener = self.listener.into_std()?;
                axum_server::from_tcp_rustls(listener, tls)?
                    .handle(handle)
                    .serve(service)
                    .await
            }
        };
        let _ = stop_jobs.send(true);
        if let Some(redirect) = redirect {
            let _ = redirect.await;
        }
        let _ = backlog.await;
        if let Some(job) = reconciliation {
            let _ = job.await;
        }
        // A connection still checked out (a request cut off mid-flight) must not keep
        // the process from exiting.
        if tokio::time::timeout(std::time::Duration::from_secs(5), self.store.close())
            .await
            .is_err()
        {
            tracing::warn!("database pool did not close within 5 s; exiting anyway");
        }
        if let Some(stripe) = Arc::into_inner(self.stripe) {
            stripe.shutdown().await;
        }
        result
    }
}

fn leptos_options(settings: &Settings, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(settings.output_name.clone())
        .site_root(settings.site_root.clone())
        .site_pkg_dir(settings.site_pkg_dir.clone())
        .site_addr(addr)
        .reload_port(settings.reload_port)
        .env(if settings.dev_mode {
            leptos::config::Env::DEV
        } else {
            leptos::config::Env::PROD
        })
        .build()
}

/// The app's routes, walked once per process.
///
/// `generate_route_list` renders the app with leptos' resource loading switched off
/// through a process-wide flag (`leptos::server::SuppressResourceLoad`). A page that
/// rendered on another thread meanwhile made resources that never loaded, and it never
/// answered. That happens whenever a second app starts in a process that already serves
/// one (the tests, the benchmarks and the drills do). The first walk runs before any
/// router exists, so no page can be rendering then; later apps reuse its list.
/// Anything else in the process that wants the routes (a test) asks here, never
/// `generate_route_list` itself.
pub fn app_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    #[allow(clippy::disallowed_methods)] // the one walk
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

fn router(
    settings: &Settings,
    addr: SocketAddr,
    store: Store,
    stripe: Arc<StripeProvider>,
    demo: Option<app::DemoMerchant>,
) -> (Router, EventHandlers, Reconciler, Payments) {
    let leptos_options = leptos_options(settings, addr);
    let routes = app_routes();
    // The shopper waits on these calls (pay, the order page): short attempts, one retry
    // (under the same idempotency key: a create whose answer was lost is answered again).
    // A shopper who still gets an error clicks again: the same key, the same intent.
    let payments = Payments::new(
        store.clone(),
        stripe
            .client
            .interactive(INTERACTIVE_TIMEOUT, INTERACTIVE_RETRIES),
    );
    let payments = payments.with_guard(settings.guard);
    let accounts = Accounts::new(store.clone());
    let mut events = EventHandlers::new(
        store.clone(),
        stripe.client.clone(),
        payments.cards().clone(),
    );
    events.guard = shop::guard::Guard::new(store.clone(), stripe.client.clone(), settings.guard);
    let refunds = events.refunds.clone();
    let disputes = events.disputes.clone();
    let fraud_warnings = events.fraud_warnings.clone();
    let payouts = events.payouts.clone();
    let reconciler = Reconciler::new(
        store.clone(),
        stripe.client.clone(),
        payments.clone(),
        events.clone(),
    );
    let sweeper = payments.clone();
    // One Arc for every request (see `app::edge::Services`).
    let services = Arc::new(app::edge::Services {
        store: store.clone(),
        payments: payments.clone(),
        accounts: accounts.clone(),
        refunds,
        disputes,
        fraud_warnings,
        payouts,
        handlers: events.clone(),
        reconciler: reconciler.clone(),
    });
    let cookies = app::edge::CookiePolicy {
        secure: settings.served_over_https(),
    };
    let browser_config = stripe.browser_config();
    let state = AppState(Arc::new(Shared {
        leptos_options: leptos_options.clone(),
        services: services.clone(),
        stripe,
        cookies,
    }));

    // What server functions and pages find in context (concrete types: a server
    // function reaches the code it calls in one go-to-definition), for routes and the
    // 404 fallback.
    let options = leptos_options.clone();
    let context = move || {
        // The site's layout (where the split WASM's manifest is: island preloads).
        provide_context(options.clone());
        provide_context(services.clone());
        if let Some(demo) = &demo {
            provide_context(demo.clone());
        }
        provide_context(cookies);
        provide_context(browser_config.clone());
    };
    // A release build keeps gzip and brotli copies beside each file (`cargo leptos build
    // --precompress`, scripts/pay.sh --release): the browser gets the one it accepts, and
    // a cache between is told that the answer depends on it.
    let site_files = |dir: &str| {
        SetResponseHeaderLayer::appending(header::VARY, HeaderValue::from_static("accept-encoding"))
            .layer(
                tower_http::services::ServeDir::new(
                    std::path::Path::new(&settings.site_root).join(dir),
                )
                .precompressed_gzip()
                .precompressed_br(),
            )
    };
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/webhook",
            post(webhook::receive).layer(DefaultBodyLimit::max(webhook::MAX_BODY)),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos_options.clone())
        })
        // The WASM, JS and CSS, straight from the disk (precompressed copies when there
        // are): no page machinery around a file. The Leptos module's, and the checkout's
        // `pay` module (scripts/pay.sh).
        .nest_service(
            &format!("/{}", settings.site_pkg_dir),
            site_files(&settings.site_pkg_dir),
        )
        .nest_service(
            &format!("/{}", app::PAY_MODULE),
            site_files(app::PAY_MODULE),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(axum::middleware::from_fn(own_reactive_root))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            load_page_cart,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(SiteOrigin::new(settings.public_url.as_ref())),
            refuse_cross_site_posts,
        ))
        // Who the client is (and its rate limits), then the body limit: both before any
        // handler reads a byte.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(limits::Limits::new(settings.limits)),
            limits::enforce,
        ))
        .layer(axum::middleware::from_fn(limits::limit_body))
        .layer(TraceLayer::new_for_http())
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // Over HTTPS, the browser keeps to HTTPS for a year (never on plain HTTP, where
        // browsers ignore it and a mistaken deployment would lock shoppers out).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            settings
                .served_over_https()
                .then(|| HeaderValue::from_static(tls::HSTS)),
        ))
        .with_state(state);
    (router, events, reconciler, sweeper)
}

/// Runs every request under a reactive root [`Owner`] of its own.
///
/// `leptos_axum` makes the owner of a server function and of its static-file fallback
/// with `Owner::new()`: a child of whichever owner the worker thread last set, and a page
/// render sets its root there and leaves it. Without this, a request handled on a thread
/// where a page was still streaming became that page's child: it saw the page's
/// `ResponseOptions` (a WASM chunk answered with the 404 page's status and CSP header,
/// which stopped the next page from hydrating), and the page's end cleaned up its owner
/// and contexts while it still ran. Under this root, `Owner::new()` finds this request's
/// empty root instead, and the thread's owner is put back after every poll.
async fn own_reactive_root(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use leptos::reactive::computed::ScopedFuture;
    use leptos::reactive::owner::Owner;
    let root = Owner::new_root(None);
    // `new_root` also made it the thread's owner: only while this request is polled.
    root.clone().unset();
    ScopedFuture {
        owner: root,
        observer: None,
        fut: next.run(request),
    }
    .await
}

/// Loads the caller (cart, signed-in email) before a page renders (see
/// `app::edge::page_caller`): pages
/// are `GET`s outside `/api`, `/pkg`, `/pay`, `/webhook` and `/healthz`.
async fn load_page_cart(
    State(state): State<AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    let page = request.method() == axum::http::Method::GET
        && !["/api/", "/pkg/", "/pay/", "/webhook", "/healthz"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
        && !path.ends_with(".ico");
    if page {
        match app::edge::page_caller(request.headers(), &state.services.accounts, state.cookies)
            .await
        {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
            }
            // The page still renders (as a guest's, empty cart); the error is logged.
            Err(error) => tracing::error!(%error, "cannot load the caller for a page"),
        }
    }
    next.run(request).await
}

/// Refuses a state-changing request (any method but `GET`, `HEAD`, `OPTIONS`) that
/// another site's page made the browser send (403): a cross-site form could otherwise
/// sign a shopper into the attacker's account (whose saved cards it would then collect)
/// or change their cart. `/webhook` is Stripe's, not a browser's.
async fn refuse_cross_site_posts(
    State(site): State<Arc<SiteOrigin>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !request.method().is_safe()
        && request.uri().path() != "/webhook"
        && is_cross_site(request.headers(), &site)
    {
        tracing::warn!(
            path = request.uri().path(),
            method = %request.method(),
            "cross-site request refused"
        );
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    next.run(request).await
}

/// Where this site is served from, for the `Origin` check: the configured `PUBLIC_URL`
/// (behind a reverse proxy the `Host` header is the proxy's business), else the
/// request's own `Host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOrigin {
    /// `scheme://host[:port]` of `PUBLIC_URL`, lower case, default ports omitted.
    public: Option<String>,
}

impl SiteOrigin {
    pub fn new(public_url: Option<&url::Url>) -> SiteOrigin {
        SiteOrigin {
            public: public_url.map(|u| u.origin().ascii_serialization().to_ascii_lowercase()),
        }
    }
}

/// The browser says another site made this request: `Sec-Fetch-Site` other than
/// `same-origin`/`none` (`same-site` too: a sibling subdomain or another port is not this
/// origin), or (older browsers) an `Origin` that is not this site's. Requests with
/// neither (curl, server-to-server, tests) are not a browser's.
fn is_cross_site(headers: &axum::http::HeaderMap, site: &SiteOrigin) -> bool {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(fetch_site) = get(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(fetch_site, "same-origin" | "none");
    }
    let Some(origin) = get(header::ORIGIN) else {
        return false;
    };
    if let Some(public) = &site.public {
        return !origin.eq_ignore_ascii_case(public);
    }
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match (authority, get(header::HOST)) {
        (Some(authority), Some(host)) => !authority.eq_ignore_ascii_case(host),
        _ => true,
    }
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))),
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "unavailable", "database": "unreachable"})),
            )
        }
    }
}

/// The first merchant: from `MERCHANT_EMAIL` + `MERCHANT_PASSWORD` (created, or its
/// password set; never printed). In development on the offline sandbox with neither set,
/// a demo merchant with a fresh random password, printed once in the log and returned for
/// the sandbox banner's tooltip.
async fn ensure_merchant(
    settings: &Settings,
    store: &Store,
    sandbox: bool,
) -> anyhow::Result<Option<app::DemoMerchant>> {
    let accounts = Accounts::new(store.clone());
    match &settings.merchant {
        Some((email, password)) => {
            accounts
                .ensure_merchant(email, password.expose())
                .await
                .map_err(|e| anyhow::anyhow!("MERCHANT_EMAIL/MERCHANT_PASSWORD: {e}"))?;
            tracing::info!(email = %email, "merchant account ready (password from MERCHANT_PASSWORD)");
            Ok(None)
        }
        None if sandbox && settings.dev_mode => {
            let password = shop::RequestId::generate().as_str()[..20].to_owned();
            accounts
                .ensure_merchant(DEMO_MERCHANT, &password)
                .await
                .map_err(|e| anyhow::anyhow!("demo merchant: {e}"))?;
            tracing::warn!(
                "offline sandbox: demo merchant {DEMO_MERCHANT} / {password} (sign in at /account/sign-in, then /merchant)"
            );
            Ok(Some(app::DemoMerchant(format!(
                "Demo merchant: {DEMO_MERCHANT} / {password} (sign in, then open /merchant)"
            ))))
        }
        None => Ok(None),
    }
}

/// `server merchant add`: makes `email` a merchant with `password` in the configured
/// database.
pub async fn add_merchant(settings: &Settings, email: &str, password: &str) -> anyhow::Result<()> {
    let store = Store::connect(&settings.database).await?;
    Accounts::new(store.clone())
        .ensure_merchant(email, password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}: {}", e.customer_message()))?;
    store.close().await;
    Ok(())
}

/// How long one Stripe call may take while a shopper waits…
pub const INTERACTIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6);
/// …and how many times it is retried (the worst wait is about 12 s, not 120 s).
pub const INTERACTIVE_RETRIES: u32 = 1;

/// The demo merchant of development on the offline sandbox.
pub const DEMO_MERCHANT: &str = "merchant@example.com";

/// Every few seconds, processes webhook events that were stored but not turned into
/// order state (a crash or a database error in between); stops when told.
/// Also, every 30 s, sweeps orders whose payment may have moved unheard (at most 20 a
/// time: a bounded rate at Stripe), and about once a minute asks Stripe again about
/// refunds it never answered and purges expired sessions and old sign-in failures.
async fn process_backlog_forever(
    store: Store,
    handlers: EventHandlers,
    payments: Payments,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let accounts = Accounts::new(store.clone());
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                // Only events older than 10 s: younger ones are still being processed
                // by the request that stored them.
                if let Err(error) = shop::stripe_events::process_backlog(&store, &handlers, 10_000).await {
                    tracing::warn!(%error, "webhook backlog: database unavailable");
                }
                ticks += 1;
                if ticks % 6 == 3 {
                    // Pending or processing for a minute with a PaymentIntent: asked.
                    if let Err(error) = payments.sweep(60_000, 20).await {
                        tracing::warn!(%error, "sweeper: database unavailable");
                    }
                }
                if ticks % 12 == 1 {
                    // Refunds whose create call got no answer: asked again (same keys).
                    if let Err(error) = handlers.refunds.retry_unanswered(60_000).await {
                        tracing::warn!(%error, "unanswered refunds: retry failed");
                    }
                    if let Err(error) = accounts.purge().await {
                        tracing::warn!(%error, "session purge failed");
                    }
                    // Orders never paid and carts abandoned: closed and deleted.
                    match handlers.guard.expire(50).await {
                        Ok(done) if done.orders > 0 || done.carts > 0 => {
                            tracing::info!(orders = done.orders, carts = done.carts, "expired what shoppers abandoned");
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "expiry failed"),
                    }
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Runs a reconciliation every `every` (the first one 30 s after start, or sooner when
/// `every` is shorter: a server that was down catches up soon); stops when told.
async fn reconcile_forever(
    reconciler: Reconciler,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let first = tokio::time::Instant::now() + every.min(std::time::Duration::from_secs(30));
    let mut tick = tokio::time::interval_at(first, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(error) = reconciler.run("schedule").await {
                    tracing::warn!(%error, "scheduled reconciliation failed");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received: draining requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> axum::http::HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        let by_host = SiteOrigin::new(None);
        for same in [
            vec![],
            vec![("sec-fetch-site", "same-origin")],
            vec![("sec-fetch-site", "none")],
            vec![
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000"),
            ],
            vec![("origin", "https://Shop.Example"), ("host", "shop.example")],
        ] {
            assert!(!is_cross_site(&headers(&same), &by_host), "{same:?}");
        }
        for cross in [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![
                ("origin", "http://evil.example"),
                ("host", "127.0.0.1:3000"),
            ],
            vec![("origin", "null"), ("host", "127.0.0.1:3000")],
            vec![
                ("origin", "http://127.0.0.1:3001"),
                ("host", "127.0.0.1:3000"),
            ],
        ] {
            assert!(is_cross_site(&headers(&cross), &by_host), "{cross:?}");
        }
    }

    #[test]
    fn the_public_url_is_the_origin_behind_a_proxy() {
        let url = url::Url::parse("https://Shop.Example:443/path").unwrap();
        let site = SiteOrigin::new(Some(&url));
        // The proxy's upstream Host does not matter; the browser's Origin does.
        let same = headers(&[
            ("origin", "https://shop.example"),
            ("host", "10.0.0.5:3000"),
        ]);
        assert!(!is_cross_site(&same, &site));
        for cross in [
            vec![("origin", "http://shop.example"), ("host", "shop.example")],
            vec![
                ("origin", "https://shop.example:8443"),
                ("host", "shop.example"),
            ],
            vec![("origin", "https://evil.example"), ("host", "shop.example")],
        ] {
            assert!(is_cross_site(&headers(&cross), &site), "{cross:?}");
        }
        // Sec-Fetch-Site still wins when the browser sends it.
        let fetch = headers(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://shop.example"),
        ]);
        assert!(is_cross_site(&fetch, &site));
    }
}
