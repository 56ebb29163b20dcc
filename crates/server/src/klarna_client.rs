//! The one place that talks to Klarna's REST API (or the sandbox, which answers alike).

use crate::config::Secret;
use klarna::payments::SessionRead;
use klarna::payments::{
    CreateOrderRequest, KlarnaErrorBody, KlarnaOrder, MerchantSession, SessionRequest,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum KlarnaCallError {
    /// No answer: connection refused or dropped, timeout. Safe to retry.
    #[error("Klarna did not answer: {0}")]
    Unreachable(String),
    /// Klarna answered with an error body.
    #[error("Klarna answered {status}: {}", body.messages().join("; "))]
    Api { status: u16, body: KlarnaErrorBody },
    #[error("Klarna's answer could not be read: {0}")]
    Decode(String),
    /// An id that is not a plain token (it would change the URL's path or query): never sent.
    #[error("refused to put {0:?} into a Klarna URL")]
    UnsafeId(String),
}

/// Klarna's own trouble (5xx) or its rate limit (429): the same call may work in a moment. One
/// rule for the Payments and the Open Banking APIs.
pub fn is_transient_status(status: u16) -> bool {
    status >= 500 || status == 429
}

/// `true` for ids that can stand in a URL path as they are: Klarna's ids and tokens are UUIDs.
/// Anything else (`/`, `..`, `?`, `%`, …) could steer a request carrying the merchant's
/// credentials to another Klarna endpoint, so it never reaches one.
pub fn is_plain_id(id: &str) -> bool {
    (1..=255).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn plain(id: &str) -> Result<&str, KlarnaCallError> {
    if is_plain_id(id) {
        Ok(id)
    } else {
        Err(KlarnaCallError::UnsafeId(id.chars().take(64).collect()))
    }
}

impl KlarnaCallError {
    /// Worth trying again later with the same input.
    pub fn is_transient(&self) -> bool {
        match self {
            KlarnaCallError::Unreachable(_) => true,
            KlarnaCallError::Api { status, .. } => is_transient_status(*status),
            KlarnaCallError::Decode(_) | KlarnaCallError::UnsafeId(_) => false,
        }
    }
}

/// The `Klarna-Idempotency-Key` of one logical operation: a UUIDv5 of what identifies it, so
/// a retry (after a dropped answer, a restart, on another instance) sends the same key and
/// Klarna answers with its first result instead of acting twice (integration-resilience).
pub fn idempotency_key(operation: &str) -> String {
    /// Our namespace for these keys (a fixed, random UUID).
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5c0f_6a2e_8f1d_4d5b_9b7e_2a64_c1e0_7d3f);
    uuid::Uuid::new_v5(&NAMESPACE, operation.as_bytes()).to_string()
}

#[derive(Clone)]
pub struct KlarnaClient {
    http: reqwest::Client,
    base_url: String,
    username: String,
    password: Secret,
}

impl KlarnaClient {
    pub fn new(base_url: String, username: String, password: Secret) -> KlarnaClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("klarna-checkout/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        KlarnaClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            username,
            password,
        }
    }

    pub async fn create_session(
        &self,
        request: &SessionRequest,
        idempotency_key: &str,
    ) -> Result<MerchantSession, KlarnaCallError> {
        self.send_json(
            reqwest::Method::POST,
            "/payments/v1/sessions",
            Some((request, idempotency_key)),
        )
        .await
    }

    /// Klarna answers 204 without a body.
    pub async fn update_session(
        &self,
        session_id: &str,
        request: &SessionRequest,
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        self.send(
            reqwest::Method::POST,
            &format!("/payments/v1/sessions/{}", plain(session_id)?),
            Some((request, idempotency_key)),
        )
        .await
        .map(|_| ())
    }

    pub async fn read_session(&self, session_id: &str) -> Result<SessionRead, KlarnaCallError> {
        self.send_json::<(), _>(
            reqwest::Method::GET,
            &format!("/payments/v1/sessions/{}", plain(session_id)?),
            None,
        )
        .await
    }

    pub async fn create_order(
        &self,
        authorization_token: &str,
        request: &CreateOrderRequest,
        idempotency_key: &str,
    ) -> Result<KlarnaOrder, KlarnaCallError> {
        self.send_json(
            reqwest::Method::POST,
            &format!(
                "/payments/v1/authorizations/{}/order",
                plain(authorization_token)?
            ),
            Some((request, idempotency_key)),
        )
        .await
    }

    /// Releases an authorization that will not become an order.
    pub async fn cancel_authorization(
        &self,
        authorization_token: &str,
    ) -> Result<(), KlarnaCallError> {
        self.send::<()>(
            reqwest::Method::DELETE,
            &format!(
                "/payments/v1/authorizations/{}",
                plain(authorization_token)?
            ),
            None,
        )
        .await
        .map(|_| ())
    }

    pub(crate) async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&B, &str)>,
    ) -> Result<T, KlarnaCallError> {
        let bytes = self.send(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| KlarnaCallError::Decode(e.to_string()))
    }

    /// Every body Klarna receives (a POST) comes with its operation's idempotency key; GETs and
    /// DELETEs carry no body at all.
    pub(crate) async fn send<B: Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&B, &str)>,
    ) -> Result<Vec<u8>, KlarnaCallError> {
        let (body, key) = match body {
            Some((body, key)) => (Some(body), Some(key)),
            None => (None, None),
        };
        self.send_full(method, path, body, key)
            .await
            .map(|(_, bytes)| bytes)
    }

    /// The one request path: a JSON body only when there is one (Order Management's POSTs
    /// without a body send none at all), the idempotency key whenever one is given, and the
    /// answer's headers, where Order Management puts the ids it creates (`Capture-Id`).
    pub(crate) async fn send_full<B: Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        idempotency_key: Option<&str>,
    ) -> Result<(reqwest::header::HeaderMap, Vec<u8>), KlarnaCallError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .basic_auth(&self.username, Some(self.password.expose()));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Klarna-Idempotency-Key", key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| KlarnaCallError::Unreachable(without_url(e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| KlarnaCallError::Unreachable(without_url(e)))?;
        if status.is_success() {
            return Ok((headers, bytes.to_vec()));
        }
        Err(KlarnaCallError::Api {
            status: status.as_u16(),
            body: serde_json::from_slice(&bytes).unwrap_or_else(|_| fallback_error(status)),
        })
    }
}

/// URLs carry authorization tokens; keep them out of messages that may be logged.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

fn fallback_error(status: StatusCode) -> KlarnaErrorBody {
    KlarnaErrorBody {
        error_code: status
            .canonical_reason()
            .unwrap_or("ERROR")
            .to_uppercase()
            .replace(' ', "_"),
        ..KlarnaErrorBody::default()
    }
}
