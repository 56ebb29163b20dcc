//! Test-only knobs for XS2A, next to the sandbox's own `/_control/*`: count open sessions (a
//! server must close every session it opens) and forget everything.

use super::Xs2a;
use crate::state::Sandbox;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/_control/xs2a/open-sessions", get(open_sessions))
        .route("/_control/xs2a/reset", post(reset))
}

/// `{"open": N, "sessions": [ids]}`: sessions neither deleted nor timed out, so a failing test
/// can say which one was left open.
async fn open_sessions(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
) -> Json<Value> {
    let open = xs2a.open_sessions(&sandbox.clock);
    Json(json!({"open": open.len(), "sessions": open}))
}

async fn reset(Extension(xs2a): Extension<Xs2a>) -> StatusCode {
    xs2a.reset();
    StatusCode::NO_CONTENT
}
