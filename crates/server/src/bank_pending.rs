//! `GET /api/accounts/{account}/transactions/pending`: what the bank has not processed yet,
//! apart from the booked transactions (never in their list nor in the CSV export).

use crate::auth::Bookkeeper;
use crate::bank_sync::target;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use klarna::api::{ApiError, PendingTransaction};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(pending))
}

/// The account's pending transactions as of its last sync, newest first.
#[utoipa::path(
    get,
    path = "/api/accounts/{account}/transactions/pending",
    tag = "bank links",
    security(("bookkeeper_session" = [])),
    params(("account" = String, Path, description = "A linked account's id.")),
    responses(
        (status = 200, description = "The pending transactions.", body = Vec<PendingTransaction>),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 404, description = "Unknown `account`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
async fn pending(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
) -> Result<Json<Vec<PendingTransaction>>, AppError> {
    target(&app, &id).await?;
    Ok(Json(app.store.pending_transactions(&id).await?))
}
