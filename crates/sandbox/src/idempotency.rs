//! `Klarna-Idempotency-Key`, honoured as Klarna documents it (integration resilience): on a
//! POST or PATCH, a key seen in the last 24 hours (sandbox clock) is answered with the first
//! answer, without acting again; only the key matters, not the body. A duplicate that arrives
//! while the first is still being handled waits for it. Answers of Klarna's own trouble (5xx)
//! are not kept: nothing was done, so a retry is handled anew. A replay repeats the first
//! answer's headers too: Order Management's `Capture-Id` and `Refund-Id` come only there.
//!
//! Every request that passes is also written to the sandbox's request log (Klarna's merchant
//! portal keeps such logs), so tests compare what the server sent with literal JSON written
//! from Klarna's documentation, not only with our own types.

use crate::state::{FirstAnswer, RecordedRequest, Sandbox};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Klarna keeps a key's first answer this long.
pub const KEY_LIFETIME_SECS: i64 = 24 * 3600;

pub(crate) async fn replay(
    State(sandbox): State<Sandbox>,
    request: Request,
    next: Next,
) -> Response {
    let key = request
        .headers()
        .get("klarna-idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    sandbox.record(RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        idempotency_key: key.clone(),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    let request = Request::from_parts(parts, Body::from(body));
    let Some(key) = key.filter(|_| matches!(*request.method(), Method::POST | Method::PATCH))
    else {
        return next.run(request).await;
    };
    // A stored answer goes only to the merchant whose it is, as at Klarna.
    if let Err(refusal) = crate::payments::authenticate(&sandbox, request.headers()) {
        return refusal.into_response();
    }
    let now = sandbox.clock.now();
    let slot = {
        let mut keys = sandbox
            .idempotency
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        keys.retain(|_, slot| {
            Arc::strong_count(slot) > 1
                || slot.try_lock().map_or(true, |a| {
                    a.as_ref().is_some_and(|a| now - a.at < KEY_LIFETIME_SECS)
                })
        });
        keys.entry(key).or_default().clone()
    };
    let mut first = slot.lock().await;
    if let Some(answer) = first.as_ref().filter(|a| now - a.at < KEY_LIFETIME_SECS) {
        return rebuild(answer);
    }
    let response = next.run(request).await;
    let status = response.status();
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut headers = parts.headers;
    // Recomputed for the rebuilt body.
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    let answer = FirstAnswer {
        at: now,
        status: status.as_u16(),
        headers,
        body,
    };
    let out = rebuild(&answer);
    if !status.is_server_error() {
        *first = Some(answer);
    }
    out
}

/// The first answer again: status, headers (`Capture-Id`, `Refund-Id`, `Location`, …) and body.
fn rebuild(answer: &FirstAnswer) -> Response {
    let mut response = Response::new(Body::from(answer.body.clone()));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = answer.headers.clone();
    if !answer.body.is_empty() && !answer.headers.contains_key(header::CONTENT_TYPE) {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
    }
    response
}
