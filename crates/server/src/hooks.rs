//! Klarna → server callbacks, both authenticated by the secret in their URL and both answered
//! only after what matters is stored.
//! - The authorization callback brings the token when the browser never does (a shopper lost
//!   in a bank app, or an approval Klarna gave the browser without a token). It is written to
//!   the database and answered 200; the worker (`workers.rs`) creates the order through the
//!   same once-per-session path as the browser, after a delay so the browser, which has the
//!   addresses, normally wins, or at once when the shopper is waiting for it.
//! - The notification tells that a pending order's fraud review ended. Its body is unsigned,
//!   so it is only a hint: the order is read again from Klarna's Order Management.

use crate::error::{ApiJson, AppError};
use crate::klarna_client::is_plain_id;
use crate::security::same_secret;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use klarna::api::{ApiError, ErrorCode, OrderState};
use klarna::payments::FraudStatus;
use klarna::FieldProblem;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(authorization))
        .routes(routes!(notification))
}

/// Klarna's body: `{"authorization_token": "...", "session_id": "..."}` (Klarna's session id).
#[derive(Deserialize, ToSchema)]
struct AuthorizationCallback {
    authorization_token: String,
    session_id: String,
}

/// Klarna's pending-order notification: `{"order_id": "...", "event_type": "FRAUD_RISK_..."}`
/// and more we do not need.
#[derive(Deserialize, ToSchema)]
struct Notification {
    order_id: String,
}

/// A wrong secret: to a caller without it the hook does not exist.
fn wrong_secret() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::BadRequest,
        "No such hook.",
    )
    .on("secret", FieldProblem::NotFound)
}

fn not_an_id(field: &str) -> AppError {
    AppError::bad_request(format!(
        "{field}: must be 1 to 255 letters, digits, '-' or '_'."
    ))
    .on(field, FieldProblem::Invalid)
}

/// Not stored or not handled yet: any non-2xx makes Klarna send it again.
fn try_again() -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::KlarnaUnavailable,
        "Not handled yet; send it again.",
    )
}

/// Klarna's authorization callback (`merchant_urls.authorization`).
#[utoipa::path(
    post,
    path = "/hooks/klarna/authorization/{secret}",
    tag = "hooks",
    params(("secret" = String, Path, description = "The hook secret (`KC_HOOK_SECRET`); a wrong one answers 404.")),
    request_body = AuthorizationCallback,
    responses(
        (status = 200, description = "Stored; the order follows."),
        (status = 400, description = "Malformed body or ids; `fields` names the field.", body = ApiError),
        (status = 404, description = "Wrong secret.", body = ApiError),
        (status = 413, description = "The body is over 16 KiB.", body = ApiError),
        (status = 503, description = "Not stored; Klarna sends it again.", body = ApiError),
    ),
)]
async fn authorization(
    State(app): State<AppState>,
    Path(secret): Path<String>,
    ApiJson(body): ApiJson<AuthorizationCallback>,
) -> Result<StatusCode, AppError> {
    if !same_secret(&secret, app.config.hook_secret.expose()) {
        return Err(wrong_secret());
    }
    if !is_plain_id(&body.authorization_token) {
        return Err(not_an_id("authorization_token"));
    }
    if !is_plain_id(&body.session_id) {
        return Err(not_an_id("session_id"));
    }
    let now = app.clock.now();
    let due = now + app.config.callback_delay_secs as i64;
    match app
        .store
        .insert_callback(&body.authorization_token, &body.session_id, due, now)
        .await
    {
        Ok(()) => Ok(StatusCode::OK),
        // Not stored: Klarna must try again.
        Err(e) => {
            tracing::error!("storing an authorization callback: {e}");
            Err(try_again())
        }
    }
}

/// Klarna's notification that a pending order's fraud review ended (`merchant_urls.notification`).
#[utoipa::path(
    post,
    path = "/hooks/klarna/notification/{secret}",
    tag = "hooks",
    params(("secret" = String, Path, description = "The hook secret (`KC_HOOK_SECRET`); a wrong one answers 404.")),
    request_body = Notification,
    responses(
        (status = 200, description = "Handled: the order was read again from Klarna."),
        (status = 400, description = "Malformed body or id; `fields` names the field.", body = ApiError),
        (status = 404, description = "Wrong secret.", body = ApiError),
        (status = 413, description = "The body is over 16 KiB.", body = ApiError),
        (status = 503, description = "Not handled yet; Klarna sends it again.", body = ApiError),
    ),
)]
async fn notification(
    State(app): State<AppState>,
    Path(secret): Path<String>,
    ApiJson(body): ApiJson<Notification>,
) -> Result<StatusCode, AppError> {
    if !same_secret(&secret, app.config.hook_secret.expose()) {
        return Err(wrong_secret());
    }
    if !is_plain_id(&body.order_id) {
        return Err(not_an_id("order_id"));
    }
    match refresh_order(&app, &body.order_id).await {
        Ok(()) => Ok(StatusCode::OK),
        // Klarna or our database did not answer: a non-2xx makes Klarna send it again.
        Err(e) => {
            tracing::warn!(order_id = %body.order_id, "notification not handled yet: {e}");
            Err(try_again())
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
