//! Klarna → server callbacks. The authorization callback creates the order even when the
//! browser never comes back (a shopper lost in a bank app), through the same once-per-token
//! path as the browser, so either path creates it once.

use crate::checkout::create_order_once;
use crate::error::ApiJson;
use crate::state::AppState;
use crate::store::StoredSession;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use std::time::Duration;

pub fn routes() -> Router<AppState> {
    Router::new().route("/hooks/klarna/authorization/{secret}", post(authorization))
}

/// Klarna's body: `{"authorization_token": "...", "session_id": "..."}` (Klarna's session id).
#[derive(Deserialize)]
struct AuthorizationCallback {
    authorization_token: String,
    session_id: String,
}

/// Compares without an early exit, so timing does not reveal how much of a guess was right.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Answers at once (Klarna gives up after a few seconds and retries) and works in the
/// background after a delay, so that the browser, which has the shopper's addresses, normally
/// creates the order first.
async fn authorization(
    State(app): State<AppState>,
    Path(secret): Path<String>,
    ApiJson(body): ApiJson<AuthorizationCallback>,
) -> StatusCode {
    if !same_secret(&secret, app.config.hook_secret.expose()) {
        return StatusCode::NOT_FOUND;
    }
    if !crate::klarna_client::is_plain_id(&body.authorization_token) {
        return StatusCode::BAD_REQUEST;
    }
    let delay = Duration::from_secs(app.config.callback_delay_secs);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let session = match app.store.session_by_klarna_id(&body.session_id).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                tracing::warn!(klarna_session = %body.session_id, "authorization callback for an unknown session");
                return;
            }
            Err(e) => {
                tracing::error!("authorization callback: {e}");
                return;
            }
        };
        ensure_order(&app, &session, &body.authorization_token).await;
    });
    StatusCode::OK
}

/// Creates the order for a callback's token (once, and not at all when the session already
/// has an order under another approval: see [`create_order_once`]).
async fn ensure_order(app: &AppState, session: &StoredSession, token: &str) {
    match create_order_once(app, session, token, None, None).await {
        Ok(order) => {
            tracing::info!(order_id = %order.order_id, session = %session.id, "order ensured by authorization callback")
        }
        Err(e) => {
            tracing::warn!(session = %session.id, code = ?e.body.code, "authorization callback could not create the order")
        }
    }
}
