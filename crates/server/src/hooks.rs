//! Klarna → server callbacks, both authenticated by the secret in their URL and both answered
//! only after what matters is stored.
//! - The authorization callback brings the token when the browser never does (a shopper lost
//!   in a bank app, or an approval Klarna gave the browser without a token). It is written to
//!   the database and answered 200; the worker (`workers.rs`) creates the order through the
//!   same once-per-session path as the browser, after a delay so the browser, which has the
//!   addresses, normally wins, or at once when the shopper is waiting for it.
//! - The notification tells that a pending order's fraud review ended. Its body is unsigned,
//!   so it is only a hint: the order is read again from Klarna's Order Management.

use crate::error::ApiJson;
use crate::klarna_client::is_plain_id;
use crate::security::same_secret;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use klarna::api::OrderState;
use klarna::payments::FraudStatus;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/klarna/authorization/{secret}", post(authorization))
        .route("/hooks/klarna/notification/{secret}", post(notification))
}

/// Klarna's body: `{"authorization_token": "...", "session_id": "..."}` (Klarna's session id).
#[derive(Deserialize)]
struct AuthorizationCallback {
    authorization_token: String,
    session_id: String,
}

/// Klarna's pending-order notification: `{"order_id": "...", "event_type": "FRAUD_RISK_..."}`
/// and more we do not need.
#[derive(Deserialize)]
struct Notification {
    order_id: String,
}

async fn authorization(
    State(app): State<AppState>,
    Path(secret): Path<String>,
    ApiJson(body): ApiJson<AuthorizationCallback>,
) -> StatusCode {
    if !same_secret(&secret, app.config.hook_secret.expose()) {
        return StatusCode::NOT_FOUND;
    }
    if !is_plain_id(&body.authorization_token) || !is_plain_id(&body.session_id) {
        return StatusCode::BAD_REQUEST;
    }
    let now = app.clock.now();
    let due = now + app.config.callback_delay_secs as i64;
    match app
        .store
        .insert_callback(&body.authorization_token, &body.session_id, due, now)
        .await
    {
        Ok(()) => StatusCode::OK,
        // Not stored: Klarna must try again.
        Err(e) => {
            tracing::error!("storing an authorization callback: {e}");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

async fn notification(
    State(app): State<AppState>,
    Path(secret): Path<String>,
    ApiJson(body): ApiJson<Notification>,
) -> StatusCode {
    if !same_secret(&secret, app.config.hook_secret.expose()) {
        return StatusCode::NOT_FOUND;
    }
    if !is_plain_id(&body.order_id) {
        return StatusCode::BAD_REQUEST;
    }
    match refresh_order(&app, &body.order_id).await {
        Ok(()) => StatusCode::OK,
        // Klarna or our database did not answer: a non-2xx makes Klarna send it again.
        Err(e) => {
            tracing::warn!(order_id = %body.order_id, "notification not handled yet: {e}");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Reads an order of ours from Order Management and records its fraud decision.
pub async fn refresh_order(app: &AppState, order_id: &str) -> Result<(), String> {
    let ours = app
        .store
        .order_by_klarna_id(order_id)
        .await
        .map_err(|e| e.to_string())?;
    let Some(ours) = ours else {
        // Perhaps an order whose answer is still on its way to an attempt of ours: Klarna must
        // notify again. Otherwise not ours.
        if app
            .store
            .attempts_in_flight()
            .await
            .map_err(|e| e.to_string())?
            > 0
        {
            return Err("order not recorded yet".into());
        }
        tracing::warn!(order_id, "notification for an order we do not know");
        return Ok(());
    };
    let managed = app
        .klarna
        .read_order(order_id)
        .await
        .map_err(|e| e.to_string())?;
    let state = match managed.fraud_status {
        FraudStatus::Accepted => OrderState::Accepted,
        FraudStatus::Rejected => OrderState::Rejected,
        FraudStatus::Pending => OrderState::Pending,
    };
    // Written even when unchanged: `updated_at` says when Klarna was last asked.
    app.store
        .set_order_state(order_id, state, app.clock.now())
        .await
        .map_err(|e| e.to_string())?;
    if state != ours.order.state {
        tracing::info!(order_id, ?state, "Klarna's fraud review ended");
    }
    // A token held while the order was in review becomes chargeable, or is cancelled.
    crate::recurring::review_ended(app, order_id, state).await;
    Ok(())
}
