//! The reliability faults over HTTP, as our server meets them: Klarna creates the order and the
//! answer is lost (`lose_answer_next`) or held back (`answer_delay_ms`); and the stand-alone
//! `klarna-sandbox` binary, which the reliability bench runs as its own process.

use serde_json::{json, Value};
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{spawn, Env};

impl Env {
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
