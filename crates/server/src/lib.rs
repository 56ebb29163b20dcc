//! The thin server: every secret stays here. It prices carts, creates Klarna sessions and
//! orders, stores them durably, serves the built component, and in sandbox mode hosts the
//! Klarna emulator under `/sandbox`.

pub mod auth;
pub mod bank_csv;
pub mod bank_entries;
pub mod bank_links;
pub mod bank_pending;
pub mod bank_psu;
pub mod bank_schedule;
pub mod bank_store;
pub mod bank_sync;
pub mod bookkeeper_sessions;
pub mod carts;
pub mod catalog;
pub mod checkout;
pub mod client_addr;
pub mod config;
pub mod consent_crypto;
pub mod cors;
pub mod entry_store;
pub mod error;
pub mod hooks;
pub mod klarna_client;
pub mod klarna_om;
pub mod klarna_tokens;
pub mod lang;
pub mod merchant;
pub mod openapi;
pub mod order_store;
pub mod rate_limit;
pub mod recurring;
pub mod schedule_store;
pub mod security;
pub mod sign_in_throttle;
pub mod state;
pub mod store;
pub mod storefront;
pub mod sync_store;
pub mod workers;
pub mod xs2a_client;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::Router;
use config::{Config, Mode};
use std::future::Future;
use std::net::SocketAddr;
use thiserror::Error;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Debug, Error)]
pub enum StartError {
    #[error("could not open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("could not listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("{0}")]
    Consent(#[from] consent_crypto::CryptoError),
}

/// Our API accepts small JSON bodies only.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Builds the whole application for a server listening at `addr`.
pub async fn app(
    mut config: Config,
    addr: SocketAddr,
) -> Result<(Router, Option<sandbox::Sandbox>, state::AppState), StartError> {
    if config.mode == Mode::Sandbox && config.public_url.is_none() {
        config.public_url = Some(format!("http://{addr}"));
    }
    let store = store::Store::open(&config.database).await?;
    let origin = format!("http://{addr}");
    let klarna = klarna_client::KlarnaClient::new(
        config.klarna_base_url(&origin),
        config.username.clone(),
        config.password.clone(),
    );
    let sandbox = (config.mode == Mode::Sandbox).then(|| {
        sandbox::Sandbox::new(sandbox::SandboxCredentials {
            username: config.username.clone(),
            password: config.password.expose().to_string(),
        })
    });
    let dist = config.dist.clone();
    if config.mode == Mode::Sandbox && config.bookkeeper_password_hash.expose().is_empty() {
        config.bookkeeper_password_hash =
            config::Secret::new(auth::hash_password(config::SANDBOX_BOOKKEEPER_PASSWORD));
    }
    let xs2a =
        xs2a_client::Xs2aClient::new(config.xs2a_base_url(&origin), config.xs2a_token.clone());
    let consent = consent_crypto::ConsentCipher::from_base64(config.consent_key.expose())?;
    let link_timeout = std::time::Duration::from_secs(config.link_timeout_secs);
    let worker_every = std::time::Duration::from_millis(config.worker_interval_ms);
    let clock = sandbox
        .as_ref()
        .map(|s| s.clock.clone())
        .unwrap_or_default();
    if let Some(at) = config.start_clock_at {
        clock.set(at);
    }
    // The demo carts are registered carts: written before anything can ask for one.
    carts::seed::seed(&store, clock.now()).await?;
    let state = state::AppState::new(config, klarna, xs2a, consent, store, clock);
    bank_links::spawn_sweeper(state.clone(), link_timeout);
    state.keep_task(workers::spawn(state.clone(), worker_every));
    if let Some(sb) = &sandbox {
        state.keep_task(sandbox::spawn_ticker(sb.clone(), worker_every));
    }
    // Every route of the API, each documented where it is registered (`openapi.rs`).
    let api = Router::from(openapi::router())
        // Our API answers in its own error body even where no route matches, instead of the
        // shop page (which a 200 would pass off as an answer).
        .route("/api/{*rest}", axum::routing::any(error::no_such_endpoint))
        .method_not_allowed_fallback(error::method_not_allowed)
        // Inside `negotiate`, so a refusal speaks the caller's language.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::enforce,
        ))
        .layer(axum::middleware::from_fn(lang::negotiate))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // A bug that panics answers our JSON 500 with a support id, not a dropped connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panicked,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state.clone());
    let mut router = api;
    if let Some(sb) = &sandbox {
        router = router.nest(sandbox::MOUNT_PATH, sandbox::router(sb.clone()));
    }
    let csp = security::content_security_policy(&dist);
    // The component's files Brotli- or gzip-compressed where the build wrote a `.br` and a
    // `.gz` beside them (`cargo xtask build` does, at the best levels): a shopper downloads at
    // most the gzip figure of docs/performance.md, never the raw one. API answers stay
    // uncompressed: they carry client tokens next to what the browser sent (BREACH).
    // Caches (a CDN before us) must keep the two encodings apart.
    let files = tower_http::set_header::SetResponseHeader::appending(
        ServeDir::new(&dist)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(
                ServeFile::new(dist.join("index.html"))
                    .precompressed_br()
                    .precompressed_gzip(),
            ),
        header::VARY,
        HeaderValue::from_static("Accept-Encoding"),
    );
    let router = router
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        // Klarna's purchase flow may open a pop-up; `same-origin` would cut it off.
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin-allow-popups"),
        ))
        // Outermost: a site not allowed to embed the checkout is refused before anything runs.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::enforce,
        ));
    Ok((router, sandbox, state))
}

/// A server running in the background, for tests and the demo.
pub struct Running {
    pub addr: SocketAddr,
    pub sandbox: Option<sandbox::Sandbox>,
    /// The server's own state (its store, its workers' wake-up), for tests.
    pub state: state::AppState,
    /// The server's "now" (the sandbox's clock in sandbox mode): tests set it to a fixed date.
    pub clock: sandbox::Clock,
    pub task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and stops this instance's background workers, as a crash would (tests
    /// start another instance on the same database afterwards).
    pub fn crash(&self) {
        self.task.abort();
        self.state.stop_tasks();
    }
}

pub async fn spawn(config: Config) -> Result<Running, StartError> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let (router, sandbox, state) = app(config, addr).await?;
    let task = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!("server stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        sandbox,
        clock: state.clock.clone(),
        state,
        task,
    })
}

/// Serves until `shutdown` completes.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let mode = config.mode;
    let (router, _, _) = app(config, addr).await?;
    tracing::info!(?mode, "listening on http://{addr}");
    println!(
        "klarna-checkout: shop checkout at http://{addr}/ , bank linking at http://{addr}/bank/"
    );
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}
