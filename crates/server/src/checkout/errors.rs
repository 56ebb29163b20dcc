//! Klarna's answers, and our own refusals, in our error model (design §5): one place decides
//! the HTTP status of every error code.

use crate::error::AppError;
use crate::klarna_client::KlarnaCallError;
use axum::http::StatusCode;
use klarna::api::ErrorCode;
use klarna::{FieldError, FieldProblem};

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::InvalidFields => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::UnknownCart | ErrorCode::UnknownSession => StatusCode::NOT_FOUND,
        ErrorCode::SessionExpired | ErrorCode::AuthorizationExpired => StatusCode::GONE,
        ErrorCode::AuthorizationMismatch => StatusCode::CONFLICT,
        ErrorCode::Rejected => StatusCode::FORBIDDEN,
        ErrorCode::KlarnaUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SignInRequired => StatusCode::UNAUTHORIZED,
        ErrorCode::CsrfRejected => StatusCode::FORBIDDEN,
        ErrorCode::TooManyAttempts | ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::LinkNotFinished => StatusCode::CONFLICT,
        ErrorCode::LinkFailed | ErrorCode::LinkAborted => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::SyncRunning => StatusCode::CONFLICT,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(crate) fn coded(code: ErrorCode, message: &str) -> AppError {
    AppError::new(status_of(code), code, message)
}

/// Klarna's answers, in our error model (design §5).
pub(crate) fn klarna_failure(what: &str, e: KlarnaCallError) -> AppError {
    if e.is_transient() {
        tracing::warn!("{what}: {e}");
        return coded(
            ErrorCode::KlarnaUnavailable,
            "Klarna is not reachable right now. Please try again in a moment.",
        );
    }
    let KlarnaCallError::Api { status, body } = &e else {
        return AppError::internal(what, e);
    };
    tracing::warn!(status, code = %body.error_code, correlation_id = ?body.correlation_id, "{what}: {}", body.messages().join("; "));
    match (*status, body.error_code.as_str()) {
        (404, "SESSION_COMPLETED") | (404, _) if what.contains("order") => coded(
            ErrorCode::AuthorizationExpired,
            "Your Klarna approval has expired. Please confirm the payment again.",
        ),
        (404, _) => coded(
            ErrorCode::SessionExpired,
            "This checkout has expired. We started a new one for you.",
        ),
        (409, _) => {
            // Klarna names the fields that no longer match; else the approval itself is it.
            let named = body.fields();
            let fields = if named.is_empty() {
                vec!["authorization_token".to_string()]
            } else {
                named
            };
            let mut e = coded(
                ErrorCode::AuthorizationMismatch,
                "Your cart or address changed after Klarna approved it. Please confirm the payment again.",
            );
            e.body.fields = fields
                .into_iter()
                .map(|f| FieldError::new(f, FieldProblem::RejectedByKlarna))
                .collect();
            e
        }
        (403, "REJECTED") => coded(
            ErrorCode::Rejected,
            "Klarna could not approve this purchase.",
        ),
        (400, _) => {
            let fields = body.fields();
            if !fields.is_empty()
                && fields.iter().all(|f| {
                    f.starts_with("billing_address.") || f.starts_with("shipping_address.")
                })
            {
                AppError::invalid_fields(
                    fields
                        .into_iter()
                        .map(|f| FieldError::new(f, FieldProblem::RejectedByKlarna))
                        .collect(),
                )
            } else {
                AppError::internal(what, &e)
            }
        }
        _ => AppError::internal(what, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use klarna::payments::KlarnaErrorBody;

    fn answer(status: u16, code: &str, messages: &[&str]) -> KlarnaCallError {
        KlarnaCallError::Api {
            status,
            body: KlarnaErrorBody {
                error_code: code.into(),
                error_messages: Some(messages.iter().map(|m| m.to_string()).collect()),
                error_message: None,
                correlation_id: None,
            },
        }
    }

    fn mapped(e: KlarnaCallError) -> (u16, ErrorCode, Vec<String>) {
        let e = klarna_failure("creating an order", e);
        let fields = e.body.fields.iter().map(|f| f.field.clone()).collect();
        (e.status.as_u16(), e.body.code, fields)
    }

    #[test]
    fn each_klarna_refusal_at_order_time_has_its_own_next_step() {
        assert_eq!(
            mapped(answer(
                400,
                "BAD_VALUE",
                &["Bad value: billing_address.postal_code"]
            )),
            (
                422,
                ErrorCode::InvalidFields,
                vec!["billing_address.postal_code".into()]
            )
        );
        // A bad value that is not the shopper's to fix is our failure, with a support id.
        assert_eq!(
            mapped(answer(
                400,
                "BAD_VALUE",
                &["Bad value: order_lines[0].tax_rate"]
            ))
            .1,
            ErrorCode::Internal
        );
        assert_eq!(
            mapped(answer(403, "REJECTED", &["Rejected"])).1,
            ErrorCode::Rejected
        );
        assert_eq!(
            mapped(answer(404, "NOT_FOUND", &["Invalid authorization token"])).1,
            ErrorCode::AuthorizationExpired
        );
        assert_eq!(
            mapped(answer(
                409,
                "BAD_VALUE",
                &["Not matching fields: [billing_address.city]"]
            ))
            .1,
            ErrorCode::AuthorizationMismatch
        );
        assert_eq!(
            mapped(answer(
                409,
                "BAD_VALUE",
                &["Not matching fields: [billing_address.city]"]
            ))
            .2,
            vec!["billing_address.city".to_string()]
        );
        for status in [500, 503, 429] {
            assert_eq!(
                mapped(answer(status, "INTERNAL_SERVER_ERROR", &["x"])),
                (503, ErrorCode::KlarnaUnavailable, vec![])
            );
        }
        assert_eq!(
            mapped(KlarnaCallError::Unreachable("timeout".into())).1,
            ErrorCode::KlarnaUnavailable
        );
    }
}
