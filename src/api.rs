//! Calls to our own server, through gloo-net's `http` client (the design's HTTP client; its
//! `json` feature stays off, so serde_json never reaches the bundle). Bodies are built as JS
//! objects and sent with `JSON.stringify`, answers read with `JSON.parse`, both without serde
//! (`crate::wire`). Every call can carry its checkout's abort signal, so a destroyed checkout
//! has no request left in flight.

use crate::wire::{FromJs, ToJs};
use gloo_net::http::RequestBuilder;
use js_sys::{Promise, JSON};
use klarna::api::{
    ApiError, ChangeCountry, CheckoutSession, OrderStatus, PlaceOrder, PlacedOrder, StartCheckout,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

/// Why a call to our server produced no answer we can use.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiFailure {
    /// No answer at all: offline, server down, connection dropped.
    Network,
    /// The server answered with our error body.
    Api(ApiError),
}

/// Server base URL, without a trailing slash; empty means the page's own origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint(pub String);

/// The server of one checkout, with the signal that aborts its requests.
#[derive(Clone, Debug)]
pub struct Server {
    pub endpoint: Endpoint,
    pub signal: Option<AbortSignal>,
}

impl Endpoint {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0.trim_end_matches('/'))
    }

    /// Resolves a URL the server sent (possibly relative, like the sandbox's `api.js`).
    pub fn resolve(&self, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") || self.0.is_empty() {
            url.to_string()
        } else {
            self.url(url)
        }
    }
}

impl Server {
    pub async fn start_checkout(
        &self,
        body: &StartCheckout,
    ) -> Result<CheckoutSession, ApiFailure> {
        send_json(
            self.signal.as_ref(),
            "POST",
            &self.endpoint.url("/api/checkout/sessions"),
            body,
        )
        .await
    }

    pub async fn change_country(
        &self,
        session: &str,
        body: &ChangeCountry,
    ) -> Result<CheckoutSession, ApiFailure> {
        send_json(
            self.signal.as_ref(),
            "PATCH",
            &self
                .endpoint
                .url(&format!("/api/checkout/sessions/{session}")),
            body,
        )
        .await
    }

    pub async fn place_order(&self, body: &PlaceOrder) -> Result<PlacedOrder, ApiFailure> {
        send_json(
            self.signal.as_ref(),
            "POST",
            &self.endpoint.url("/api/checkout/orders"),
            body,
        )
        .await
    }

    /// The session's order once the server has one (created from Klarna's callback, or its
    /// fraud review ended).
    pub async fn order_status(&self, session: &str) -> Result<OrderStatus, ApiFailure> {
        send(
            self.signal.as_ref(),
            "GET",
            &self
                .endpoint
                .url(&format!("/api/checkout/sessions/{session}/order")),
            None,
        )
        .await
    }
}

async fn send_json<R: FromJs>(
    signal: Option<&AbortSignal>,
    method: &str,
    url: &str,
    body: &impl ToJs,
) -> Result<R, ApiFailure> {
    send(signal, method, url, Some(body.to_js())).await
}

/// Sends an optional JSON body; an answer that is not an `R` is no answer.
async fn send<R: FromJs>(
    signal: Option<&AbortSignal>,
    method: &str,
    url: &str,
    body: Option<JsValue>,
) -> Result<R, ApiFailure> {
    let value = exchange(signal, method, url, body, &[]).await?;
    R::from_js(&value).ok_or(ApiFailure::Network)
}

/// The request itself, kept out of the generic `send` so that each answer type adds only its
/// reader to the bundle, not another copy of this state machine. Extra `headers` are the
/// bookkeeper's `X-CSRF-Token` and `Accept-Language` (the checkout sends none).
pub(crate) async fn exchange(
    signal: Option<&AbortSignal>,
    method: &str,
    url: &str,
    body: Option<JsValue>,
    headers: &[(&str, &str)],
) -> Result<JsValue, ApiFailure> {
    let mut request = RequestBuilder::new(url)
        .method(method.parse().map_err(|_| ApiFailure::Network)?)
        .abort_signal(signal)
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let request = match body {
        Some(body) => {
            let text = JSON::stringify(&body).map_err(|_| ApiFailure::Network)?;
            request.body(text)
        }
        None => request.build(),
    }
    .map_err(|_| ApiFailure::Network)?;
    let response = request.send().await.map_err(|_| ApiFailure::Network)?;
    let text = response.text().await.map_err(|_| ApiFailure::Network)?;
    match JSON::parse(&text) {
        Ok(v) if response.ok() => Ok(v),
        Ok(v) => Err(ApiError::from_js(&v).map_or(ApiFailure::Network, ApiFailure::Api)),
        // A proxy's HTML error page or a cut connection: nothing we can show but "try again".
        Err(_) => Err(ApiFailure::Network),
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}
