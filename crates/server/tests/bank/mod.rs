//! The bookkeeper's side of the server against the sandbox, for the bank test files: a
//! server with a signed-in bookkeeper, the launcher's steps, a sync, on a fixed date.
#![allow(dead_code)]

use crate::common;
use klarna::api::{ApiError, ErrorCode, SignedIn};
use serde_json::{json, Value};
use server::config::{Config, SANDBOX_BOOKKEEPER, SANDBOX_BOOKKEEPER_PASSWORD};
use std::path::PathBuf;
use std::time::Duration;

/// 2026-06-15T10:00:00Z: "today" in these tests.
pub const JUNE_15: i64 = 1_781_517_600;
/// 2027-01-02T09:00:00Z: the second day of a year, with hardly any of it booked.
pub const JANUARY_2: i64 = 1_798_880_400;
pub const DAY: i64 = 86_400;
/// The bookkeeper's browser, as its `User-Agent` reaches Klarna in `psu.user_agent`.
pub const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

pub struct Env {
    pub url: String,
    pub http: reqwest::Client,
    pub dir: PathBuf,
    /// The database: a SQLite file in `dir`, or a PostgreSQL database (`KC_TEST_POSTGRES`).
    pub database: PathBuf,
    pub cookie: String,
    pub csrf: String,
    /// The sandbox playing Klarna's Open Banking, and its base URL (`{url}/sandbox` unless
    /// Klarna runs apart).
    pub sandbox: sandbox::Sandbox,
    pub klarna: String,
    /// The server's "now".
    pub clock: sandbox::Clock,
    /// Its configuration (another instance on the same database starts with it) and the
    /// running server (its state, `crash()`).
    pub config: Config,
    pub server: server::Running,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = std::env::temp_dir().join(format!("kc-bank-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = common::database_in(&dir).await;
    let mut cfg = Config::sandbox(dir.join("dist"), database.clone());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    adjust(&mut cfg);
    let running = server::spawn(cfg.clone()).await.unwrap();
    running.clock.set(JUNE_15);
    Env {
        url: running.url(),
        http: reqwest::Client::builder()
            .user_agent(BROWSER)
            .build()
            .unwrap(),
        dir,
        database,
        cookie: String::new(),
        csrf: String::new(),
        sandbox: running.sandbox.clone().expect("sandbox mode"),
        klarna: format!("{}{}", running.url(), sandbox::MOUNT_PATH),
        clock: running.clock.clone(),
        config: cfg,
        server: running,
    }
}

/// Our server in sandbox mode, but Klarna's Open Banking is another sandbox on its own clock,
/// as Klarna is in production: a test can move Klarna's time without moving ours.
pub async fn start_with_klarna_apart() -> Env {
    klarna_apart_with(|_| {}).await
}

/// [`start_with_klarna_apart`] with the server's configuration adjusted.
pub async fn klarna_apart_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let klarna = sandbox::Sandbox::default();
    klarna.clock.set(JUNE_15);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        sandbox::MOUNT_PATH
    );
    let router = axum::Router::new().nest(sandbox::MOUNT_PATH, sandbox::router(klarna.clone()));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut env = start_with(|cfg| {
        cfg.xs2a_api_url = Some(base.clone());
        adjust(cfg);
    })
    .await;
    env.sandbox = klarna;
    env.klarna = base;
    env
}

impl Env {
    pub async fn sign_in(&mut self, password: &str) -> reqwest::Response {
        let r = self
            .http
            .post(format!("{}/api/auth/sign-in", self.url))
            .json(&json!({"user": SANDBOX_BOOKKEEPER, "password": password}))
            .send()
            .await
            .unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            assert!(
                c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                "{c}"
            );
            self.cookie = c.split(';').next().unwrap().to_string();
        }
        r
    }

    pub async fn signed_in(mut self) -> Env {
        let r = self.sign_in(SANDBOX_BOOKKEEPER_PASSWORD).await;
        assert_eq!(r.status(), 200);
        let s: SignedIn = r.json().await.unwrap();
        self.csrf = s.csrf_token;
        self
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
    }
}

pub async fn code_of(r: reqwest::Response) -> (u16, ErrorCode) {
    let status = r.status().as_u16();
    let e: ApiError = r.json().await.unwrap();
    (status, e.code)
}

impl Env {
    /// What the XS2A app launcher does in the browser: country, bank, login, OTP.
    pub async fn run_test_bank(&self, client_token: &str, username: &str) -> Value {
        let app = format!("{}/xs2a/app/{client_token}", self.klarna);
        let step = |path: &str, body: Value| {
            let url = format!("{app}/{path}");
            let http = self.http.clone();
            async move {
                http.post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        step("country", json!({"country_code": "DE"})).await;
        step("bank", json!({"bank_code": "88888888"})).await;
        let login = step("login", json!({"username": username, "password": "12345"})).await;
        if username == "embedded" {
            return step("otp", json!({"otp": "12345"})).await;
        }
        login
    }

    /// Another instance on the same database (and the same Klarna), its clock at `at` from
    /// the start: its first worker round never runs on today's real date.
    pub async fn another_instance(&self, at: i64) -> server::Running {
        let mut cfg = self.config.clone();
        cfg.start_clock_at = Some(at);
        server::spawn(cfg).await.unwrap()
    }

    /// The same signed-in bookkeeper on `other`, another instance on the same database (and
    /// the same Klarna), on that instance's clock.
    pub fn on(&self, other: server::Running) -> Env {
        Env {
            url: other.url(),
            http: self.http.clone(),
            dir: std::env::temp_dir().join("kc-bank-unused"),
            database: self.database.clone(),
            cookie: self.cookie.clone(),
            csrf: self.csrf.clone(),
            sandbox: self.sandbox.clone(),
            klarna: self.klarna.clone(),
            clock: other.clock.clone(),
            config: self.config.clone(),
            server: other,
        }
    }

    /// A GET of the sandbox's Klarna (`path` below its mount), as JSON.
    pub async fn klarna_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.klarna))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A GET of our API that must answer 200, as `T`.
    pub async fn get_ok<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let r = self.get(path).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    pub async fn open_xs2a_sessions(&self) -> i64 {
        self.klarna_json("/_control/xs2a/open-sessions").await["open"]
            .as_i64()
            .unwrap()
    }

    pub async fn start_link(&self) -> klarna::api::BankLinkStarted {
        let r = self
            .post("/api/bank-links")
            .json(&json!({"company": "Nordlicht Outdoor GmbH"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
}
impl Env {
    /// The server's sweeper closes sessions within its timeout: wait up to six seconds.
    pub async fn wait_until_no_session_is_open(&self) {
        common::until("no XS2A session open", Duration::from_secs(6), || async {
            (self.open_xs2a_sessions().await == 0).then_some(())
        })
        .await
    }

    /// What the page sends when the launcher ended: `ending` is `finished`, `closed`,
    /// `aborted`, `error` or `given_up`.
    pub async fn end(&self, link: &str, ending: &str) -> reqwest::Response {
        self.post(&format!("/api/bank-links/{link}/end"))
            .json(&json!({ "ending": ending }))
            .send()
            .await
            .unwrap()
    }

    /// The state of the flow behind `client_token`, as the launcher's dialog sees it.
    pub async fn flow_state(&self, client_token: &str) -> String {
        let v = self.klarna_json(&format!("/xs2a/app/{client_token}")).await;
        v["state"].as_str().unwrap().to_string()
    }

    pub async fn linked_bank(&self) -> klarna::api::LinkedBank {
        self.linked_bank_of("Nordlicht Outdoor GmbH").await
    }

    /// The demo bank linked for `company`.
    pub async fn linked_bank_of(&self, company: &str) -> klarna::api::LinkedBank {
        let r = self
            .post("/api/bank-links")
            .json(&json!({ "company": company }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let started: klarna::api::BankLinkStarted = r.json().await.unwrap();
        self.run_test_bank(&started.client_token, "embedded").await;
        self.post(&format!("/api/bank-links/{}/complete", started.link))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn sync(&self, account: &str, body: Value) -> reqwest::Response {
        self.post(&format!("/api/accounts/{account}/sync"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// The account's booked transactions (`GET …/transactions`).
    pub async fn booked(&self, account: &str) -> Vec<klarna::api::BookedTransaction> {
        self.get_ok(&format!("/api/accounts/{account}/transactions"))
            .await
    }

    /// The account's sync as `GET` shows it.
    pub async fn sync_progress(&self, account: &str) -> klarna::api::SyncProgress {
        self.get_ok(&format!("/api/accounts/{account}/sync")).await
    }

    /// The account's pending transactions (`GET …/transactions/pending`).
    pub async fn pending(&self, account: &str) -> Vec<klarna::api::PendingTransaction> {
        self.get_ok(&format!("/api/accounts/{account}/transactions/pending"))
            .await
    }

    /// Polls the account's sync, as the page does, until it ended (up to 30 seconds).
    pub async fn sync_ended(&self, account: &str) -> klarna::api::SyncProgress {
        let p = common::until("the sync's end", Duration::from_secs(30), || async {
            let p = self.sync_progress(account).await;
            (!p.running).then_some(p)
        })
        .await;
        assert!(p.outcome.is_some(), "an ended sync says how: {p:?}");
        p
    }

    /// A sync started (202, running) and polled to its end.
    pub async fn synced(&self, account: &str, body: Value) -> klarna::api::SyncProgress {
        let r = self.sync(account, body).await;
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
        let started: klarna::api::SyncProgress = r.json().await.unwrap();
        assert!(started.running && started.outcome.is_none(), "{started:?}");
        self.sync_ended(account).await
    }

    /// The error a sync ended with.
    pub async fn sync_failure(&self, account: &str, body: Value) -> ApiError {
        match self.synced(account, body).await.outcome {
            Some(klarna::api::SyncOutcome::Failed { error }) => error,
            other => panic!("the sync should have failed: {other:?}"),
        }
    }

    /// `(call, psu)` of every session and consent call the sandbox accepted, oldest first
    /// (`/_control/xs2a/psu`).
    pub async fn psu_seen(&self) -> Vec<(String, Value)> {
        self.klarna_json("/_control/xs2a/psu").await["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["call"].as_str().unwrap().to_string(), c["psu"].clone()))
            .collect()
    }

    pub async fn sealed_token(&self) -> String {
        common::stored_text(&self.database).await
    }
}

/// The Demo Bank's business account (`Geschäftskonto`), as the sandbox computes it.
pub const DEMO_GIRO_IBAN: &str = "DE62888888880012345678";

impl Env {
    /// Books a transaction at the sandbox's bank: `extra` adds `state`, `settles_on`, `wire`, ….
    pub async fn seed(&self, day: &str, amount: i64, reference: &str, extra: Value) {
        let mut body = json!({
            "iban": DEMO_GIRO_IBAN,
            "booking_date": day,
            "amount": amount,
            "counterparty": "Test Payee GmbH",
            "reference": reference,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = self
            .http
            .post(format!("{}/_control/xs2a/transactions", self.klarna))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }

    /// Links the Demo Bank and returns the business account's id.
    pub async fn giro(&self) -> String {
        let bank = self.linked_bank().await;
        bank.accounts
            .iter()
            .find(|a| a.masked_iban.ends_with("5678"))
            .expect("the business account")
            .id
            .clone()
    }
}
