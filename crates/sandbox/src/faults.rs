//! Fault knobs, so tests can show what a shopper sees when Klarna is slow, failing or unreachable.

use crate::state::Sandbox;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Faults apply to requests whose path contains `path_contains` (all when empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    pub latency_ms: u64,
    /// The next N matching requests answer 503 with Klarna's error body (XS2A's shape on XS2A paths).
    pub fail_next: u32,
    /// The next N matching requests lose their connection before any answer.
    pub drop_next: u32,
    pub path_contains: String,
}

pub(crate) async fn apply(
    State(sandbox): State<Sandbox>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if path.contains("/_control/") {
        return next.run(request).await;
    }
    let (latency, action) = sandbox.take_fault(&path);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match action {
        FaultAction::None => next.run(request).await,
        // Each API fails in its own error shape, as Klarna's do.
        FaultAction::Fail if path.contains("/xs2a/") => crate::xs2a::Xs2aError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "TEMPORARILY_UNAVAILABLE",
            "Service temporarily unavailable (sandbox fault)",
        )
        .into_response(),
        FaultAction::Fail => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(klarna::payments::KlarnaErrorBody {
                error_code: "TEMPORARILY_UNAVAILABLE".into(),
                error_messages: Some(vec![
                    "Service temporarily unavailable (sandbox fault)".into()
                ]),
                error_message: None,
                correlation_id: Some(uuid::Uuid::new_v4().to_string()),
            }),
        )
            .into_response(),
        FaultAction::Drop => dropped_connection(),
    }
}

pub(crate) enum FaultAction {
    None,
    Fail,
    Drop,
}

/// A body that fails before its first byte makes hyper abort the connection, which the
/// client sees exactly like a dropped TCP connection.
fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::other("sandbox fault: dropped"))
    });
    Response::new(Body::from_stream(stream))
}

impl Faults {
    pub(crate) fn take(&mut self, path: &str) -> (u64, FaultAction) {
        if !path.contains(&self.path_contains) {
            return (0, FaultAction::None);
        }
        let action = if self.drop_next > 0 {
            self.drop_next -= 1;
            FaultAction::Drop
        } else if self.fail_next > 0 {
            self.fail_next -= 1;
            FaultAction::Fail
        } else {
            FaultAction::None
        };
        (self.latency_ms, action)
    }
}
