//! A shop for the recurring tests: a server on the sandbox on a fixed day with a merchant API
//! key, the merchant's calls, and a subscription cart bought by a shopper.

use super::{address, start, Env};
use serde_json::{json, Value};

/// 2026-03-01T12:00:00Z, whatever day the test runs.
pub const MARCH_1ST: i64 = 1_772_366_400;

pub struct Shop {
    pub env: Env,
    pub key: String,
}

impl Shop {
    pub async fn new() -> Shop {
        let env = start().await;
        env.state.clock.set(MARCH_1ST);
        let (_, key) = server::merchant::keys::create(&env.state.store, "subscriptions", MARCH_1ST)
            .await
            .unwrap();
        Shop { env, key }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        idem: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .env
            .http
            .request(method, format!("{}{path}", self.env.url))
            .bearer_auth(&self.key);
        if let Some(idem) = idem {
            r = r.header("Idempotency-Key", idem);
        }
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A subscription cart (EUR) with `intent`, bought by the shopper `email`: the
    /// authorization token and the order.
    pub async fn subscribe(&self, intent: &str, email: &str) -> (String, klarna::api::PlacedOrder) {
        let (status, cart) = self
            .call(
                reqwest::Method::POST,
                "/api/merchant/carts",
                None,
                Some(json!({"intent": intent, "lines": [
                    {"reference": "BOX-M", "name": "Monthly coffee box", "quantity": 1, "type": "physical",
                     "tax_class": "reduced", "prices": {"EUR": {"unit_price": 2_900}}}
                ]})),
            )
            .await;
        assert_eq!(status, 201, "{cart}");
        let cart = cart["cart"].as_str().unwrap().to_string();
        let r = self
            .env
            .post(
                "/api/checkout/sessions",
                json!({"cart": cart, "locale": "de-DE"}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let session: klarna::api::CheckoutSession = r.json().await.unwrap();
        let billing = address(email);
        let token = self.env.token(&session, &billing).await;
        let r = self.env.place(&session, &token, &billing).await;
        assert_eq!(r.status(), 200);
        (token, r.json().await.unwrap())
    }
}
