//! Fault knobs, so tests can show what a shopper sees when Klarna is slow, failing or unreachable,
//! and so the reliability bench can make Klarna commit an order whose answer never arrives or
//! arrives late (a kill of our server can then land between Klarna's commit and our write).

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
    /// The next N matching requests are handled (an order is created) and then lose their
    /// connection instead of the answer: "order created, answer lost".
    pub lose_answer_next: u32,
    /// The next N matching requests are handled and then answer 200 with a JSON body cut
    /// short, which no client can decode: "done at Klarna, answer unreadable".
    pub garble_next: u32,
    /// Matching requests are handled first, then their answer is held back this long.
    pub answer_delay_ms: u64,
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
    let taken = sandbox.take_fault(&path);
    if taken.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(taken.latency_ms)).await;
    }
    match taken.action {
        FaultAction::Garble => {
            let _handled = next.run(request).await;
            (
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                r#"{"data": {"consent_id": "#,
            )
                .into_response()
        }
        FaultAction::None | FaultAction::LoseAnswer => {
            let response = next.run(request).await;
            if taken.answer_delay_ms > 0 {
                let _held = sandbox.hold_answer();
                tokio::time::sleep(Duration::from_millis(taken.answer_delay_ms)).await;
            }
            if matches!(taken.action, FaultAction::LoseAnswer) {
                dropped_connection()
            } else {
                response
            }
        }
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
    LoseAnswer,
    Garble,
}

/// What one request gets: a delay before it is handled, what happens to it, and a delay
/// between its handling and its answer.
pub(crate) struct Taken {
    pub latency_ms: u64,
    pub action: FaultAction,
    pub answer_delay_ms: u64,
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
    pub(crate) fn take(&mut self, path: &str) -> Taken {
        if !path.contains(&self.path_contains) {
            return Taken {
                latency_ms: 0,
                action: FaultAction::None,
                answer_delay_ms: 0,
            };
        }
        let action = if self.drop_next > 0 {
            self.drop_next -= 1;
            FaultAction::Drop
        } else if self.fail_next > 0 {
            self.fail_next -= 1;
            FaultAction::Fail
        } else if self.lose_answer_next > 0 {
            self.lose_answer_next -= 1;
            FaultAction::LoseAnswer
        } else if self.garble_next > 0 {
            self.garble_next -= 1;
            FaultAction::Garble
        } else {
            FaultAction::None
        };
        Taken {
            latency_ms: self.latency_ms,
            action,
            answer_delay_ms: self.answer_delay_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losing_an_answer_comes_after_refusals_and_only_on_matching_paths() {
        let mut faults = Faults {
            drop_next: 1,
            lose_answer_next: 1,
            answer_delay_ms: 5,
            path_contains: "/order".into(),
            ..Faults::default()
        };
        let other = faults.take("/payments/v1/sessions");
        assert!(matches!(other.action, FaultAction::None));
        assert_eq!(other.answer_delay_ms, 0);
        assert!(matches!(faults.take("/x/order").action, FaultAction::Drop));
        let lost = faults.take("/x/order");
        assert!(matches!(lost.action, FaultAction::LoseAnswer));
        assert_eq!(lost.answer_delay_ms, 5);
        assert!(matches!(faults.take("/x/order").action, FaultAction::None));
        faults.garble_next = 1;
        assert!(matches!(
            faults.take("/x/order").action,
            FaultAction::Garble
        ));
        assert!(matches!(faults.take("/x/order").action, FaultAction::None));
    }

    #[test]
    fn unknown_fault_fields_are_refused_and_missing_ones_default() {
        let f: Faults = serde_json::from_str(r#"{"lose_answer_next": 2}"#).unwrap();
        assert_eq!((f.lose_answer_next, f.answer_delay_ms), (2, 0));
        assert!(serde_json::from_str::<Faults>(r#"{"lose_next": 2}"#).is_err());
    }
}
