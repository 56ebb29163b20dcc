//! What a shopper's browser and a merchant portal do over HTTP in a reliability run: start a
//! checkout at our server, approve it at Klarna (the sandbox's `authorize()` endpoint), press
//! Buy; and Klarna's control side: faults, the orders Klarna created, answers held back.

use super::{BenchError, BenchResult};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// What one press of Buy came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// 200 with Klarna's order id.
    Order(String),
    /// A definitive no (rejected, expired, mismatch…): pressing again would not change it.
    Refused(u16),
    /// No definitive answer (its status; 0 = no HTTP answer at all): connection lost, server
    /// restarting, Klarna unreachable.
    Undecided(u16),
}

#[derive(Deserialize)]
struct CheckoutSession {
    session: String,
    client_token: String,
}

#[derive(Deserialize)]
struct PlacedOrder {
    order_id: String,
}

#[derive(Deserialize)]
struct Authorized {
    outcome: String,
    #[serde(default)]
    authorization_token: Option<String>,
}

/// A checkout the shopper has approved at Klarna.
#[derive(Clone, Debug)]
pub struct Approved {
    pub session: String,
    pub token: String,
}

/// One Klarna order as `GET /sandbox/_control/orders` lists it.
#[derive(Deserialize, Clone, Debug)]
pub struct KlarnaOrder {
    pub order_id: String,
    #[serde(default)]
    pub merchant_reference1: Option<String>,
}

#[derive(Deserialize)]
struct Held {
    held_answers: usize,
}

fn billing() -> serde_json::Value {
    json!({"given_name": "Testperson-de", "family_name": "Approved",
           "email": "customer+de@klarna.com", "street_address": "Hellersbergstraße 14",
           "postal_code": "41460", "city": "Neuss", "country": "DE"})
}

/// Only loopback: load never leaves this machine.
pub fn http(concurrency: usize) -> BenchResult<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(concurrency)
        .no_proxy()
        .build()
        .map_err(|source| BenchError::Http {
            what: "building the HTTP client",
            source,
        })
}

/// The shop (our server: one instance or several) and Klarna (the sandbox) as a shopper's
/// browser reaches them.
#[derive(Clone)]
pub struct Shop {
    pub http: reqwest::Client,
    /// Base URLs of our instances; never empty.
    pub servers: Vec<String>,
    /// The sandbox's `…/sandbox` base.
    pub klarna: String,
}

impl Shop {
    /// Sends to instance `first`, and to the next ones in turn while an instance refuses the
    /// connection (it is down); a request that reached an instance is never sent again here.
    async fn send_via(
        &self,
        first: usize,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> reqwest::Result<reqwest::Response> {
        let n = self.servers.len();
        let mut sent = build(&self.servers[first % n]).send().await;
        for i in 1..n {
            if !matches!(&sent, Err(e) if e.is_connect()) {
                break;
            }
            sent = build(&self.servers[(first + i) % n]).send().await;
        }
        sent
    }

    /// `POST /api/checkout/sessions`; `None` when the server gave no usable answer.
    pub async fn start_checkout(&self) -> Option<(String, String)> {
        self.start_checkout_via(0).await
    }

    /// `POST /api/checkout/sessions` at instance `first` (or the next one when it is down).
    pub async fn start_checkout_via(&self, first: usize) -> Option<(String, String)> {
        let r = self
            .send_via(first, |server| {
                self.http
                    .post(format!("{server}/api/checkout/sessions"))
                    .json(&json!({"cart": "demo", "locale": "de-DE"}))
            })
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        let s: CheckoutSession = r.json().await.ok()?;
        Some((s.session, s.client_token))
    }

    /// The shopper confirms in Klarna's dialog; Klarna then calls our authorization hook.
    pub async fn approve(&self, session: String, client_token: &str) -> BenchResult<Approved> {
        let what = "approving at the sandbox";
        let r: Authorized = json_of(
            what,
            self.http
                .post(format!("{}/kp/authorize", self.klarna))
                .json(
                    &json!({"client_token": client_token, "payment_method_category": "pay_later",
                               "stage": "confirm", "data": {"billing_address": billing()}}),
                ),
        )
        .await?;
        match (r.outcome.as_str(), r.authorization_token) {
            ("approved", Some(token)) => Ok(Approved { session, token }),
            (outcome, _) => Err(BenchError::Unexpected {
                what,
                detail: format!("outcome {outcome:?}"),
            }),
        }
    }

    /// `POST /api/checkout/orders`, the Buy button, sent to instance `first` (or the next one when it is down).
    pub async fn place_via(&self, approved: &Approved, first: usize) -> Placed {
        let body = json!({"session": approved.session, "authorization_token": approved.token,
                          "billing_address": billing()});
        let sent = self
            .send_via(first, |server| {
                self.http
                    .post(format!("{server}/api/checkout/orders"))
                    .json(&body)
            })
            .await;
        let Ok(r) = sent else {
            return Placed::Undecided(0);
        };
        let status = r.status().as_u16();
        match status {
            200 => match r.json::<PlacedOrder>().await {
                Ok(o) => Placed::Order(o.order_id),
                Err(_) => Placed::Undecided(0),
            },
            // Ours or Klarna's trouble, or a limit: another press may succeed.
            429 | 500..=599 => Placed::Undecided(status),
            _ => Placed::Refused(status),
        }
    }
}

/// The sandbox's control side (never reached by our server).
#[derive(Clone)]
pub struct Klarna {
    pub http: reqwest::Client,
    pub base: String,
}

impl Klarna {
    /// Klarna handles each order request and then holds its answer back `delay_ms`.
    pub async fn delay_order_answers(&self, delay_ms: u64) -> BenchResult {
        self.http
            .put(format!("{}/_control/faults", self.base))
            .json(&json!({"answer_delay_ms": delay_ms, "path_contains": "/order"}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map(drop)
            .map_err(|source| BenchError::Http {
                what: "setting the sandbox's faults",
                source,
            })
    }

    pub async fn orders(&self) -> BenchResult<Vec<KlarnaOrder>> {
        json_of(
            "listing Klarna's orders",
            self.http.get(format!("{}/_control/orders", self.base)),
        )
        .await
    }

    /// Orders Klarna committed whose answer it still holds back; `None` if it did not say.
    pub async fn held_answers(&self) -> Option<usize> {
        let r = self
            .http
            .get(format!("{}/_control/held_answers", self.base))
            .timeout(Duration::from_millis(500))
            .send()
            .await
            .ok()?;
        r.json::<Held>().await.ok().map(|h| h.held_answers)
    }
}

/// Klarna orders per checkout (`merchant_reference1`).
pub fn orders_per_checkout(orders: &[KlarnaOrder]) -> HashMap<String, usize> {
    let mut per = HashMap::new();
    for o in orders {
        let key = o.merchant_reference1.clone().unwrap_or_default();
        *per.entry(key).or_insert(0) += 1;
    }
    per
}

/// Sends `request` and reads its JSON answer; a refusal, no answer or an unreadable body is
/// an error that says `what` was being done.
async fn json_of<T: serde::de::DeserializeOwned>(
    what: &'static str,
    request: reqwest::RequestBuilder,
) -> BenchResult<T> {
    request
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|source| BenchError::Http { what, source })?
        .json()
        .await
        .map_err(|source| BenchError::Http { what, source })
}
