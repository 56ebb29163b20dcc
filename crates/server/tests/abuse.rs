//! The public endpoints under abuse, through HTTP only: per-client budgets for starting
//! checkouts and placing orders, who counts as the client (the TCP peer, or the client a
//! trusted proxy forwards for), and sign-in throttling by the same client.

mod common;

use common::address;
use klarna::api::{ApiError, CheckoutSession, ErrorCode, PlacedOrder};
use klarna::Address;
use serde_json::{json, Value};
use server::client_addr::TrustedProxies;
use server::config::{Config, SANDBOX_BOOKKEEPER};
use std::path::PathBuf;

struct Env {
    url: String,
    http: reqwest::Client,
    _dir: TempDir,
}

/// A directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("kc-abuse-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let dir = TempDir::new();
    let mut cfg = Config::sandbox(dir.0.join("dist"), common::database_in(&dir.0).await);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    adjust(&mut cfg);
    let running = server::spawn(cfg).await.unwrap();
    Env {
        url: running.url(),
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Env {
    /// POSTs `body` to `path`, with an `X-Forwarded-For` header when `forwarded_for` is given.
    async fn post(
        &self,
        path: &str,
        body: Value,
        forwarded_for: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.url)).json(&body);
        if let Some(xff) = forwarded_for {
            request = request.header("x-forwarded-for", xff);
        }
        request.send().await.unwrap()
    }

    async fn start_checkout(&self, forwarded_for: Option<&str>) -> reqwest::Response {
        self.post(
            "/api/checkout/sessions",
            json!({"cart": "demo", "locale": "de-DE"}),
            forwarded_for,
        )
        .await
    }

    /// What `Klarna.Payments.authorize()` does in the browser once the shopper confirms.
    async fn token(&self, session: &CheckoutSession, billing: &Address) -> String {
        let r = self
            .post(
                "/sandbox/kp/authorize",
                json!({"client_token": session.client_token, "payment_method_category": "pay_later",
                       "stage": "confirm", "data": {"billing_address": billing}}),
                None,
            )
            .await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["outcome"], "approved", "{v}");
        v["authorization_token"].as_str().unwrap().to_string()
    }
}

/// A 429 as the component and any API client see it: `Retry-After` within the minute, and our
/// error body with its code.
async fn assert_too_many(r: reqwest::Response) -> ApiError {
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, ErrorCode::TooManyRequests);
    e
}

#[tokio::test]
async fn the_session_after_the_budget_is_refused_with_retry_after() {
    let env = start_with(|c| c.rate_sessions_per_min = 3).await;
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let r = env.start_checkout(None).await;
        assert_eq!(r.status(), 200);
        sessions.push(r.json::<CheckoutSession>().await.unwrap());
    }
    let e = assert_too_many(env.start_checkout(None).await).await;
    assert!(
        e.message.contains("Please wait") && e.message.ends_with("try again."),
        "{}",
        e.message
    );
    // In the caller's language, like every other error sentence.
    let r = env
        .http
        .post(format!("{}/api/checkout/sessions", env.url))
        .header("accept-language", "de-DE")
        .json(&json!({"cart": "demo", "locale": "de-DE"}))
        .send()
        .await
        .unwrap();
    let e = assert_too_many(r).await;
    assert!(e.message.contains("Bitte warten Sie"), "{}", e.message);
    // The sessions already started still work: only starting new ones is limited.
    let r = env
        .http
        .patch(format!(
            "{}/api/checkout/sessions/{}",
            env.url, sessions[0].session
        ))
        .json(&json!({"country": "AT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn rotating_x_forwarded_for_without_a_trusted_proxy_changes_nothing() {
    let env = start_with(|c| c.rate_sessions_per_min = 2).await;
    for n in 1..=2 {
        let r = env.start_checkout(Some(&format!("198.51.100.{n}"))).await;
        assert_eq!(r.status(), 200);
    }
    assert_too_many(env.start_checkout(Some("198.51.100.3")).await).await;
    assert_too_many(env.start_checkout(Some("2001:db8::1, 198.51.100.4")).await).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let env = start_with(|c| {
        c.rate_sessions_per_min = 1;
        c.trusted_proxies = TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    assert_eq!(env.start_checkout(Some("198.51.100.1")).await.status(), 200);
    assert_eq!(env.start_checkout(Some("198.51.100.2")).await.status(), 200);
    assert_too_many(env.start_checkout(Some("198.51.100.1")).await).await;
    // A client prepending another address gains nothing: the proxy appended the real one.
    assert_too_many(env.start_checkout(Some("198.51.100.9, 198.51.100.1")).await).await;
    // IPv6 counts per /64: another address in the same network shares the budget.
    assert_eq!(
        env.start_checkout(Some("2001:db8:1:2::1")).await.status(),
        200
    );
    assert_too_many(env.start_checkout(Some("2001:db8:1:2::99")).await).await;
    assert_eq!(
        env.start_checkout(Some("2001:db8:1:3::1")).await.status(),
        200
    );
    // The proxy's own requests (no header) count as the proxy's.
    assert_eq!(env.start_checkout(None).await.status(), 200);
    assert_too_many(env.start_checkout(None).await).await;
}

#[tokio::test]
async fn order_placement_is_limited_too() {
    let env = start_with(|c| c.rate_orders_per_min = 2).await;
    let r = env.start_checkout(None).await;
    assert_eq!(r.status(), 200);
    let session: CheckoutSession = r.json().await.unwrap();
    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    let body = json!({"session": session.session, "authorization_token": token,
                      "billing_address": billing});
    let r = env.post("/api/checkout/orders", body.clone(), None).await;
    assert_eq!(r.status(), 200);
    let order: PlacedOrder = r.json().await.unwrap();
    // A retry is an attempt like any other: it gets the same order while the budget lasts.
    let r = env.post("/api/checkout/orders", body.clone(), None).await;
    assert_eq!(r.json::<PlacedOrder>().await.unwrap(), order);
    assert_too_many(env.post("/api/checkout/orders", body, None).await).await;
    // Each endpoint has its own budget.
    assert_eq!(env.start_checkout(None).await.status(), 200);
}

#[tokio::test]
async fn sign_in_throttling_counts_the_forwarded_client_not_the_proxy() {
    let env =
        start_with(|c| c.trusted_proxies = TrustedProxies::parse("127.0.0.0/8").unwrap()).await;
    let sign_in = |client: &'static str| {
        env.post(
            "/api/auth/sign-in",
            json!({"user": SANDBOX_BOOKKEEPER, "password": "guess"}),
            Some(client),
        )
    };
    for _ in 0..server::sign_in_throttle::MAX_FAILURES {
        assert_eq!(sign_in("2001:db8:1:2::1").await.status(), 401);
    }
    // The same /64 waits; another client behind the same proxy is still heard.
    let r = sign_in("2001:db8:1:2::2").await;
    assert_eq!(r.status(), 429);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, ErrorCode::TooManyAttempts);
    assert_eq!(sign_in("198.51.100.1").await.status(), 401);
}
