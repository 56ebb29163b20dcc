//! What the sandbox's integration tests share: a sandbox served on a free port, and the steps
//! that lead to a Klarna order (a session, the shopper's approval, create order), over HTTP
//! as a merchant's server and the `api.js` overlay would drive them.
#![allow(dead_code)]

use sandbox::Sandbox;
use serde_json::{json, Value};

pub const USER: &str = "PK_SANDBOX_test";
pub const PASSWORD: &str = "sandbox-shared-secret";

pub struct Env {
    pub base: String,
    pub http: reqwest::Client,
}

/// A fresh sandbox on a free port.
pub async fn spawn() -> Env {
    serve(Sandbox::default()).await
}

/// `sandbox` on a free port, nested under `/sandbox` as the server mounts it; the caller keeps
/// a clone to move its clock and look inside.
pub async fn serve(sandbox: Sandbox) -> Env {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().nest("/sandbox", sandbox::router(sandbox));
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Env {
        base: format!("http://{addr}/sandbox"),
        http: reqwest::Client::new(),
    }
}

/// One shirt for 10.00 EUR, as a session and as the order repeating it.
pub fn order_body(reference: &str) -> Value {
    json!({
        "purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
        "order_amount": 1000, "order_tax_amount": 0,
        "order_lines": [{"name": "Shirt", "quantity": 1, "unit_price": 1000, "tax_rate": 0,
                          "total_amount": 1000, "total_tax_amount": 0}],
        "merchant_reference1": reference,
    })
}

/// Klarna's approved German playground customer.
pub const APPROVED: &str = "customer+de@klarna.com";
/// Approved, then held for fraud review.
pub const PENDING: &str = "customer+de+pending@klarna.com";

impl Env {
    pub async fn json(&self, req: reqwest::RequestBuilder) -> Value {
        let res = req.send().await.expect("request");
        assert!(res.status().is_success(), "{}", res.status());
        res.json().await.expect("json")
    }

    /// A session and the token the shopper's approval gives, ready for an order.
    pub async fn authorized(&self, reference: &str) -> String {
        self.authorized_as(reference, APPROVED).await
    }

    /// As [`Env::authorized`], for the playground customer with this e-mail address.
    pub async fn authorized_as(&self, reference: &str, email: &str) -> String {
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
        let approved = self
            .json(
                self.http
                    .post(format!("{}/kp/authorize", self.base))
                    .json(&json!({
                "client_token": session["client_token"], "payment_method_category": "pay_later",
                "stage": "confirm", "data": {"billing_address": billing(email)}})),
            )
            .await;
        approved["authorization_token"]
            .as_str()
            .expect("approved")
            .to_string()
    }

    pub fn create_order(&self, token: &str, reference: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!(
                "{}/payments/v1/authorizations/{token}/order",
                self.base
            ))
            .basic_auth(USER, Some(PASSWORD))
            .json(&order_body(reference))
    }

    /// A created order of 10.00 EUR for the customer `email`: its Klarna order id.
    pub async fn order_for(&self, email: &str) -> String {
        let token = self.authorized_as("checkout-om", email).await;
        let order = self.json(self.create_order(&token, "checkout-om")).await;
        order["order_id"].as_str().expect("order_id").to_string()
    }
}

/// The billing address the shopper gives at `authorize()`.
pub fn billing(email: &str) -> Value {
    json!({"given_name": "Testperson-de", "family_name": "Approved",
        "email": email, "street_address": "Hellersbergstraße 14",
        "postal_code": "41460", "city": "Neuss", "country": "DE"})
}
