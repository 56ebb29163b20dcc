//! The reliability faults over HTTP, as our server meets them: Klarna creates the order and the
//! answer is lost (`lose_answer_next`) or held back (`answer_delay_ms`); and the stand-alone
//! `klarna-sandbox` binary, which the reliability bench runs as its own process.

use sandbox::Sandbox;
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "PK_SANDBOX_test";
const PASSWORD: &str = "sandbox-shared-secret";

struct Env {
    base: String,
    http: reqwest::Client,
}

async fn spawn() -> Env {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().nest("/sandbox", sandbox::router(Sandbox::default()));
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Env {
        base: format!("http://{addr}/sandbox"),
        http: reqwest::Client::new(),
    }
}

fn order_body(reference: &str) -> Value {
    json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 1000, "order_tax_amount": 0,
        "order_lines": [{"name": "Shirt", "quantity": 1, "unit_price": 1000, "tax_rate": 0,
                          "total_amount": 1000, "total_tax_amount": 0}],
        "merchant_reference1": reference,
    })
}

impl Env {
    async fn json(&self, req: reqwest::RequestBuilder) -> Value {
        let res = req.send().await.expect("request");
        assert!(res.status().is_success(), "{}", res.status());
        res.json().await.expect("json")
    }

    /// A session and the token the shopper's approval gives, ready for an order.
    async fn authorized(&self, reference: &str) -> String {
        let mut session = order_body(reference);
        session["intent"] = json!("buy");
        let session = self
            .json(
                self.http
                    .post(format!("{}/payments/v1/sessions", self.base))
                    .basic_auth(USER, Some(PASSWORD))
                    .json(&session),
            )
            .await;
        let billing = json!({"given_name": "Testperson-de", "family_name": "Approved",
            "email": "customer+de@klarna.com", "street_address": "Hellersbergstraße 14",
            "postal_code": "41460", "city": "Neuss", "country": "DE"});
        let approved = self
            .json(
                self.http
                    .post(format!("{}/kp/authorize", self.base))
                    .json(&json!({
                "client_token": session["client_token"], "payment_method_category": "pay_later",
                "stage": "confirm", "data": {"billing_address": billing}})),
            )
            .await;
        approved["authorization_token"]
            .as_str()
            .expect("approved")
            .to_string()
    }

    fn create_order(&self, token: &str, reference: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!(
                "{}/payments/v1/authorizations/{token}/order",
                self.base
            ))
            .basic_auth(USER, Some(PASSWORD))
            .json(&order_body(reference))
    }

    async fn set_faults(&self, faults: Value) {
        let r = self
            .http
            .put(format!("{}/_control/faults", self.base))
            .json(&faults)
            .send()
            .await
            .expect("faults");
        assert_eq!(r.status(), 204);
    }

    async fn orders(&self) -> Vec<Value> {
        let v = self
            .json(self.http.get(format!("{}/_control/orders", self.base)))
            .await;
        v.as_array().expect("list").clone()
    }

    async fn held_answers(&self) -> u64 {
        let v = self
            .json(
                self.http
                    .get(format!("{}/_control/held_answers", self.base)),
            )
            .await;
        v["held_answers"].as_u64().expect("count")
    }
}

/// The answer is lost however the client reads it: no response, or a body that breaks off.
async fn answer_lost(req: reqwest::RequestBuilder) -> bool {
    match req.send().await {
        Err(_) => true,
        Ok(res) => res.bytes().await.is_err(),
    }
}

#[tokio::test]
async fn a_lost_answer_still_creates_the_order_and_a_retry_gets_it() {
    let env = spawn().await;
    let token = env.authorized("checkout-1").await;
    env.set_faults(json!({"lose_answer_next": 1, "path_contains": "/order"}))
        .await;
    assert!(answer_lost(env.create_order(&token, "checkout-1")).await);
    let orders = env.orders().await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["merchant_reference1"], "checkout-1");
    assert_eq!(orders[0]["authorization_token"], token.as_str());
    // Klarna repeats its first answer for the token, so the retry learns the order id.
    let again = env.json(env.create_order(&token, "checkout-1")).await;
    assert_eq!(again["order_id"], orders[0]["order_id"]);
    assert_eq!(env.orders().await.len(), 1);
}

#[tokio::test]
async fn a_delayed_answer_comes_after_the_order_exists() {
    let env = spawn().await;
    let token = env.authorized("checkout-2").await;
    env.set_faults(json!({"answer_delay_ms": 400, "path_contains": "/order"}))
        .await;
    let started = Instant::now();
    let pending = tokio::spawn(env.create_order(&token, "checkout-2").send());
    // Wait for the sandbox to hold the answer; the order must then exist already.
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.held_answers().await == 0 {
        assert!(Instant::now() < deadline, "the answer was never held");
        tokio::task::yield_now().await;
    }
    assert_eq!(env.orders().await.len(), 1);
    let answer = pending.await.expect("join").expect("answer");
    assert_eq!(answer.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(env.held_answers().await, 0);
}

#[tokio::test]
async fn the_binary_prints_its_url_serves_the_sandbox_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_klarna-sandbox"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start klarna-sandbox");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim()
        .strip_prefix("klarna-sandbox listening on ")
        .expect("the URL line")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let env = Env {
        base: format!("{url}/sandbox"),
        http: reqwest::Client::new(),
    };
    assert!(env.orders().await.is_empty());
    let token = env.authorized("checkout-3").await;
    env.json(env.create_order(&token, "checkout-3")).await;
    assert_eq!(env.orders().await.len(), 1);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // Wait for the process to exit (not a poll): `wait` on a blocking thread, bounded.
    let pid = child.id().to_string();
    let exited = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await;
    let Ok(exit) = exited else {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        panic!("klarna-sandbox did not stop on SIGTERM");
    };
    let exit = exit.expect("join").expect("wait");
    assert!(exit.success(), "{exit}");
}
