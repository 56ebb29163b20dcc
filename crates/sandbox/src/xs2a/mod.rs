//! Klarna Open Banking XS2A ("Kosma"), emulated: the session, flow and consent REST API, the Demo
//! Bank test bank (DE, 88888888) with Klarna's test usernames, and a stand-in for the browser's
//! `xs2a-app-launcher.js`, so bank accounts can be linked on a machine without internet.
//!
//! Shapes follow `klarna-contract.md` §3: every success body is `{"data": {…}}`, errors are
//! `{"error": {"code", "message", "errors"?}}`, the API wants `Authorization: Token <token>`.
//!
//! **URLs in answers** (`self`, `consent`, `flows.*`, `consents.*`, `pagination.url`) are paths
//! relative to the API base, e.g. `/xs2a/v1/sessions/{id}`, where Klarna sends absolute URLs.
//! The sandbox cannot know under which origin and prefix it is reached (the server nests it under
//! `/sandbox`, tests may run it elsewhere), so a client joins these paths onto the base URL it
//! is configured with (`http://host/sandbox` here, `https://api.openbanking.klarna.com` live).
//! A client that does that works with both.
//!
//! **State.** [`Sandbox`] belongs to the Payments emulator, so the XS2A memory is its own
//! [`Xs2a`] handle, reached by the handlers through an [`axum::Extension`] layer that
//! [`routes_with`] adds; the clock is still the sandbox's (`sandbox.clock`). `/_control/reset`
//! does not reach it: `/_control/xs2a/reset` does.

mod api;
mod app;
mod bank;
mod consent;
mod control;
mod dates;
mod model;
mod psu;

pub use model::SESSION_TIMEOUT_SECS;

use crate::clock::Clock;
use crate::state::Sandbox;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dates::Date;
use model::{TxQuery, Xs2aState};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, MutexGuard};

/// The only API token the emulator accepts (`Authorization: Token sandbox-xs2a-token`).
pub const XS2A_API_TOKEN: &str = "sandbox-xs2a-token";

/// Where the launcher stand-in is served, relative to the server's origin.
pub const XS2A_LAUNCHER_PATH: &str = "/sandbox/xs2a/app-launcher/v0/xs2a-app-launcher.js";

/// The test bank's happy-path credentials, as in Klarna's playground (ALYF wiki).
pub const TEST_USERNAME: &str = "embedded";
pub const TEST_PASSWORD: &str = "12345";
pub const TEST_OTP: &str = "12345";

/// Prefix of every REST path, and of every URL the API hands out.
const API_BASE: &str = "/xs2a/v1";

/// Page size of transaction lists when the caller prefers none, and the largest one allowed.
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

/// The XS2A emulator's memory. Cheap to clone: all clones share one state.
#[derive(Clone, Debug, Default)]
pub struct Xs2a {
    inner: Arc<Mutex<Xs2aState>>,
}

impl Xs2a {
    pub fn new() -> Xs2a {
        Xs2a::default()
    }

    /// The state with everything the clock decided (timeouts, approvals) applied.
    pub(crate) fn state(&self, now: i64) -> MutexGuard<'_, Xs2aState> {
        // As in `Sandbox::lock`: an emulator keeps serving after a panic elsewhere.
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.refresh(now);
        guard
    }

    /// Sessions neither deleted nor timed out, on that clock. Tests use it to prove that a
    /// server closes every session it opens.
    pub fn open_sessions(&self, clock: &Clock) -> Vec<String> {
        self.state(clock.now()).open_sessions()
    }

    /// Forgets every session, flow and consent.
    pub fn reset(&self) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = Xs2aState::default();
    }
}

/// The XS2A routes with a fresh [`Xs2a`] memory, to be merged into the sandbox router.
pub fn routes() -> Router<Sandbox> {
    routes_with(Xs2a::new())
}

/// The XS2A routes over a given memory, so a test can keep a handle on it.
pub fn routes_with(xs2a: Xs2a) -> Router<Sandbox> {
    Router::new()
        .merge(api::routes())
        .merge(consent::routes())
        .merge(app::routes())
        .merge(control::routes())
        .layer(Extension(xs2a))
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct FieldError {
    location: String,
    message: String,
}

/// Klarna's XS2A error answer. Consent API errors also carry the rotated `consent_token`.
#[derive(Debug)]
pub(crate) struct Xs2aError {
    status: StatusCode,
    code: &'static str,
    message: String,
    errors: Vec<FieldError>,
    consent_token: Option<String>,
}

impl Xs2aError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Xs2aError {
        Xs2aError {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
            consent_token: None,
        }
    }

    pub fn validation(location: &str, message: impl Into<String>) -> Xs2aError {
        Xs2aError::invalid(vec![(location.to_string(), message.into())])
    }

    /// One 400 naming every bad field; the top-level message is the first field's message.
    pub fn invalid(errors: Vec<(String, String)>) -> Xs2aError {
        let message = errors
            .first()
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| "Invalid request".into());
        let mut e = Xs2aError::new(StatusCode::BAD_REQUEST, "VALIDATION", message);
        e.errors = errors
            .into_iter()
            .map(|(location, message)| FieldError { location, message })
            .collect();
        e
    }

    pub fn not_found(message: impl Into<String>) -> Xs2aError {
        Xs2aError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn conflict(message: impl Into<String>) -> Xs2aError {
        Xs2aError::new(StatusCode::CONFLICT, "CONFLICT", message)
    }

    pub fn with_token(mut self, token: String) -> Xs2aError {
        self.consent_token = Some(token);
        self
    }
}

impl IntoResponse for Xs2aError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if !self.errors.is_empty() {
            error["errors"] = json!(self.errors);
        }
        let mut body = json!({ "error": error });
        if let Some(token) = self.consent_token {
            body["consent_token"] = json!(token);
        }
        (self.status, Json(body)).into_response()
    }
}

pub(crate) type Xs2aResult<T> = Result<T, Xs2aError>;

/// `{"data": …}` with a status.
pub(crate) fn data(status: StatusCode, value: Value) -> Response {
    (status, Json(json!({ "data": value }))).into_response()
}

pub(crate) fn authenticate(headers: &HeaderMap) -> Xs2aResult<()> {
    let expected = format!("Token {XS2A_API_TOKEN}");
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(given) if given == expected => Ok(()),
        _ => Err(Xs2aError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Missing or invalid API token (expected header `Authorization: Token <token>`)",
        )),
    }
}

/// A JSON body; an empty one counts as `{}` (several calls need no payload).
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Xs2aResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| Xs2aError::validation("body", format!("Invalid JSON body: {e}")))
}

/// A random lowercase id of 32 characters, like Klarna's session and flow ids.
pub(crate) fn random_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Parses an optional `YYYY-MM-DD` field, naming it in the error.
pub(crate) fn date_field(value: Option<&str>, location: &str) -> Xs2aResult<Option<Date>> {
    match value {
        None => Ok(None),
        Some(s) => Date::parse(s)
            .map(Some)
            .ok_or_else(|| Xs2aError::validation(location, "must be a date YYYY-MM-DD")),
    }
}

pub(crate) fn page_size(value: Option<i64>) -> Xs2aResult<usize> {
    match value {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if n >= 1 && n as u64 <= MAX_PAGE_SIZE as u64 => Ok(n as usize),
        Some(_) => Err(Xs2aError::validation(
            "preferred_pagination_size",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        )),
    }
}

/// The accounts (and balances) result: every Demo Bank account with its balance today.
pub(crate) fn accounts_result(kind: &str, today: Date) -> Value {
    let accounts: Vec<Value> = (0..bank::account_count())
        .map(|i| bank::account_json(i, today))
        .collect();
    json!({"type": kind, "accounts": accounts})
}

/// One page of a transactions query, starting at position `start` of the newest-first list;
/// `pagination` (with the next page's opaque `offset`) only when more follow.
pub(crate) fn transactions_page(
    q: &TxQuery,
    start: usize,
    today: Date,
    list_url: &str,
    booked: &[bank::Booked],
) -> Value {
    let all = bank::transactions(q.account, q.from, q.to, today, booked);
    let end = start.saturating_add(q.page_size).min(all.len());
    let page: Vec<Value> = all
        .get(start.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(bank::Transaction::wire)
        .collect();
    let mut result = json!({
        "type": "transactions",
        "account": bank::account_json(q.account, today),
        "from_date": q.from,
        "to_date": q.to,
        "incomplete": false,
        "transactions": page,
    });
    if end < all.len() {
        result["pagination"] = json!({
            "url": list_url,
            "next": {"offset": encode_offset(q, end)},
        });
    }
    result
}

/// Offsets are opaque to clients, as Klarna's are; ours carry the whole query so a page can
/// be served without remembering anything.
fn encode_offset(q: &TxQuery, position: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}|{}|{}|{position}",
        q.account, q.from, q.to, q.page_size
    ))
}

pub(crate) fn decode_offset(offset: &str) -> Option<(TxQuery, usize)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(offset).ok()?).ok()?;
    let parts: Vec<&str> = raw.split('|').collect();
    let [account, from, to, size, position] = parts.as_slice() else {
        return None;
    };
    let account: usize = account.parse().ok()?;
    let page_size: usize = size.parse().ok()?;
    if account >= bank::account_count() || page_size == 0 || page_size > MAX_PAGE_SIZE {
        return None;
    }
    let q = TxQuery {
        account,
        from: Date::parse(from)?,
        to: Date::parse(to)?,
        page_size,
    };
    Some((q, position.parse().ok()?))
}

/// The `offset` of a list request: an opaque string from a previous page.
pub(crate) fn offset_field(body: &Value) -> Xs2aResult<(TxQuery, usize)> {
    let raw = body
        .get("offset")
        .ok_or_else(|| Xs2aError::validation("offset", "offset is required"))?;
    raw.as_str()
        .and_then(decode_offset)
        .ok_or_else(|| Xs2aError::validation("offset", "not an offset this API handed out"))
}
