//! The test harness shared by the server's integration tests: a server on the embedded
//! sandbox in a temporary directory, and the shopper's and Klarna's steps over HTTP.
#![allow(dead_code)]

pub mod shop;
pub mod subscriptions;

use klarna::api::{ApiError, CheckoutSession};
use klarna::Address;
use serde_json::{json, Value};
use server::config::Config;
use std::path::PathBuf;
use std::time::Duration;

/// Waits for what the server does in its own time (a sync task, a worker round, the sweeper):
/// asks `check` until it answers `Some`, for up to `within`, then fails naming `what`. The one
/// place the tests poll; no test waits for a fixed while.
pub async fn until<T, F>(what: &str, within: Duration, mut check: impl FnMut() -> F) -> T
where
    F: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {within:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub struct Env {
    pub url: String,
    pub sandbox: sandbox::Sandbox,
    pub http: reqwest::Client,
    pub state: server::state::AppState,
    pub _dir: TempDir,
}

/// A directory removed when the test ends.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("kc-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server configuration on its own empty database: a SQLite file in `dir`, or, when
/// `KC_TEST_POSTGRES` names a PostgreSQL server (`cargo xtask test` starts a throwaway one), a
/// new database there, so the same tests prove both engines.
pub async fn config(dir: &TempDir) -> Config {
    let mut c = Config::sandbox(dir.0.join("dist"), database_in(&dir.0).await);
    c.listen = "127.0.0.1:0".parse().unwrap();
    c
}

/// An empty database for one test: `db.sqlite` in `dir`, or a new database on the PostgreSQL
/// server that `KC_TEST_POSTGRES` names.
pub async fn database_in(dir: &std::path::Path) -> PathBuf {
    match std::env::var("KC_TEST_POSTGRES") {
        Ok(admin) => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let name = format!("kc_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
            sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            PathBuf::from(format!("{base}/{name}"))
        }
        Err(_) => dir.join("db.sqlite"),
    }
}

/// Everything the bank tables (and the customer tokens) hold, as text, to prove what is (and is not) stored: the SQLite
/// file and its WAL as they lie on disk, or PostgreSQL's rows as JSON.
pub async fn stored_text(database: &std::path::Path) -> String {
    let url = database.to_string_lossy();
    if url.starts_with("postgres") {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT row_to_json(c)::text FROM bank_connections c
             UNION ALL SELECT row_to_json(a)::text FROM bank_accounts a
             UNION ALL SELECT row_to_json(l)::text FROM bank_links l
             UNION ALL SELECT row_to_json(t)::text FROM customer_tokens t",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        rows.join("\n")
    } else {
        let raw = std::fs::read(database).unwrap_or_default();
        let wal = std::fs::read(format!("{url}-wal")).unwrap_or_default();
        format!(
            "{}{}",
            String::from_utf8_lossy(&raw),
            String::from_utf8_lossy(&wal)
        )
    }
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = TempDir::new();
    let mut cfg = config(&dir).await;
    adjust(&mut cfg);
    let running = server::spawn(cfg).await.unwrap();
    Env {
        url: running.url(),
        sandbox: running.sandbox.unwrap(),
        state: running.state,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

pub fn address(email: &str) -> Address {
    Address {
        given_name: "Testperson-de".into(),
        family_name: "Approved".into(),
        email: email.into(),
        street_address: "Hellersbergstraße 14".into(),
        postal_code: "41460".into(),
        city: "Neuss".into(),
        country: "DE".into(),
        ..Address::default()
    }
}

impl Env {
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `PATCH /api/checkout/sessions/{session}` with a new billing country.
    pub async fn change_country(
        &self,
        session: &CheckoutSession,
        country: &str,
    ) -> reqwest::Response {
        self.http
            .patch(format!(
                "{}/api/checkout/sessions/{}",
                self.url, session.session
            ))
            .json(&json!({ "country": country }))
            .send()
            .await
            .unwrap()
    }

    pub async fn start_checkout(&self) -> CheckoutSession {
        start_checkout_at(&self.http, &self.url).await
    }

    /// What `Klarna.Payments.authorize()` does in the browser once the shopper confirms.
    pub async fn authorize(&self, session: &CheckoutSession, billing: &Address) -> Value {
        authorize_at(
            &self.http,
            &format!("{}/sandbox", self.url),
            session,
            billing,
        )
        .await
    }

    pub async fn token(&self, session: &CheckoutSession, billing: &Address) -> String {
        let v = self.authorize(session, billing).await;
        assert_eq!(v["outcome"], "approved", "{v}");
        v["authorization_token"].as_str().unwrap().to_string()
    }

    /// A whole purchase by `email` (a playground test customer): the order Klarna created.
    pub async fn placed_order(&self, email: &str) -> klarna::api::PlacedOrder {
        let session = self.start_checkout().await;
        let billing = address(email);
        let token = self.token(&session, &billing).await;
        let r = self.place(&session, &token, &billing).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn place(
        &self,
        session: &CheckoutSession,
        token: &str,
        billing: &Address,
    ) -> reqwest::Response {
        self.post(
            "/api/checkout/orders",
            json!({"session": session.session, "authorization_token": token, "billing_address": billing}),
        )
        .await
    }
}

pub async fn error_of(r: reqwest::Response) -> (u16, ApiError) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Klarna (a sandbox) running apart from our server, so that our server can crash and
/// restart while "Klarna" keeps its state: the sandbox and its base URL.
pub async fn separate_klarna() -> (sandbox::Sandbox, String) {
    let sb = sandbox::Sandbox::new(sandbox::SandboxCredentials::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let klarna_url = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        sandbox::MOUNT_PATH
    );
    let router = axum::Router::new().nest(sandbox::MOUNT_PATH, sandbox::router(sb.clone()));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sb, klarna_url)
}

/// Waits until `check` answers `Some`, looking again after every round of the server's order
/// worker (it runs every `KC_WORKER_INTERVAL_MS`, and does or follows everything these tests
/// wait for), for at most `secs` seconds.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    state: &server::state::AppState,
    secs: u64,
    mut check: impl FnMut() -> F,
) -> Option<T> {
    let mut rounds = state.rounds.subscribe();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::timeout_at(deadline, rounds.changed())
            .await
            .is_err()
        {
            return check().await;
        }
    }
}

/// A shopper starts a checkout of the demo cart, in German, at the server `url`.
pub async fn start_checkout_at(http: &reqwest::Client, url: &str) -> CheckoutSession {
    let r = http
        .post(format!("{url}/api/checkout/sessions"))
        .json(&json!({"cart": "demo", "locale": "de-DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// What `Klarna.Payments.authorize()` does once the shopper confirms, at the Klarna (sandbox)
/// whose base URL is `klarna`.
pub async fn authorize_at(
    http: &reqwest::Client,
    klarna: &str,
    session: &CheckoutSession,
    billing: &Address,
) -> Value {
    let r = http
        .post(format!("{klarna}/kp/authorize"))
        .json(
            &json!({"client_token": session.client_token, "payment_method_category": "pay_later",
                      "stage": "confirm", "data": {"billing_address": billing}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}
