//! A shop for the merchant API's tests: a server on the sandbox with one accepted order, placed
//! on a fixed day, and a merchant API key; and the merchant's calls on that order.

use super::{start, Env};
use klarna::api::PlacedOrder;
use serde_json::Value;

/// A server with one accepted order and a merchant API key.
pub struct Shop {
    pub env: Env,
    pub key: String,
    pub order: PlacedOrder,
}

/// 2026-03-01T12:00:00Z: the day every test's order is placed, whatever day it runs.
pub const MARCH_1ST: i64 = 1_772_366_400;

pub async fn shop() -> Shop {
    let env = start().await;
    env.state.clock.set(MARCH_1ST);
    let order = env.placed_order("customer@example.com").await;
    let now = env.state.clock.now();
    let (_, key) = server::merchant::keys::create(&env.state.store, "warehouse", now)
        .await
        .unwrap();
    Shop { env, key, order }
}

impl Shop {
    pub fn url(&self, rest: &str) -> String {
        format!(
            "{}/api/merchant/orders/{}{rest}",
            self.env.url, self.order.order_id
        )
    }

    /// A POST (or PATCH when `patch`) with the API key and `idempotency_key`.
    pub async fn send(
        &self,
        patch: bool,
        rest: &str,
        idempotency_key: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = self.url(rest);
        let mut request = if patch {
            self.env.http.patch(url)
        } else {
            self.env.http.post(url)
        };
        request = request
            .bearer_auth(&self.key)
            .header("Idempotency-Key", idempotency_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn post(&self, rest: &str, key: &str, body: Value) -> (u16, Value) {
        self.send(false, rest, key, Some(body)).await
    }

    pub async fn order(&self) -> Value {
        let r = self
            .env
            .http
            .get(self.url(""))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub fn captures_at_klarna(&self) -> usize {
        self.env
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/captures"))
            .map(|r| r.idempotency_key.clone())
            .collect::<std::collections::HashSet<_>>()
            .len()
    }
}
