//! The merchant API's errors: one code per kind of refusal, and the HTTP status derived from
//! the code in one place ([`status_of`]), as the checkout does. These codes never reach the
//! shopper's browser, so they live here and not in the shared `klarna::api::ErrorCode`, whose
//! every variant costs the checkout bundle bytes.
//!
//! The body has the checkout's shape, `{code, message, fields}`: a refusal caused by one input
//! names that input in `fields`, so a merchant's system can point at it.

use crate::klarna_client::KlarnaCallError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MerchantCode {
    /// Malformed JSON, an unknown field, a wrong type.
    BadRequest,
    /// A field's value is refused; see `fields`.
    InvalidFields,
    /// No `Authorization: Bearer` header.
    ApiKeyMissing,
    /// A key that is malformed, unknown or revoked.
    ApiKeyInvalid,
    /// A POST or PATCH without `Idempotency-Key`.
    IdempotencyKeyMissing,
    /// The same `Idempotency-Key` was used for a different operation or body on this order.
    IdempotencyKeyReused,
    /// No order with this id was placed through this server.
    OrderNotFound,
    /// No capture with this id on the order.
    CaptureNotFound,
    /// No cart with this reference was registered.
    CartNotFound,
    /// No customer token with this reference.
    CustomerTokenNotFound,
    /// The order's state does not allow the operation (Klarna's `…_NOT_ALLOWED`).
    NotAllowed,
    /// Klarna did not answer or is unavailable: retry with the same `Idempotency-Key`.
    KlarnaUnavailable,
    /// Klarna never answered an operation within the 24 hours it remembers it: it may or may
    /// not have been done, so it is not sent again. A person checks the order.
    OperationUnresolved,
    Internal,
}

pub fn status_of(code: MerchantCode) -> StatusCode {
    match code {
        MerchantCode::BadRequest | MerchantCode::IdempotencyKeyMissing => StatusCode::BAD_REQUEST,
        MerchantCode::InvalidFields => StatusCode::UNPROCESSABLE_ENTITY,
        MerchantCode::ApiKeyMissing | MerchantCode::ApiKeyInvalid => StatusCode::UNAUTHORIZED,
        MerchantCode::IdempotencyKeyReused
        | MerchantCode::NotAllowed
        | MerchantCode::OperationUnresolved => StatusCode::CONFLICT,
        MerchantCode::OrderNotFound
        | MerchantCode::CaptureNotFound
        | MerchantCode::CartNotFound
        | MerchantCode::CustomerTokenNotFound => StatusCode::NOT_FOUND,
        MerchantCode::KlarnaUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        MerchantCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MerchantError {
    pub code: MerchantCode,
    pub message: String,
    /// The inputs the refusal is about (`amount`, `Idempotency-Key`, `order_id`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Quoted to support; matches a server log line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_id: Option<String>,
}

impl MerchantError {
    pub fn new(code: MerchantCode, message: impl Into<String>) -> MerchantError {
        MerchantError {
            code,
            message: message.into(),
            fields: Vec::new(),
            support_id: None,
        }
    }

    /// A refusal about one input, named in `fields`.
    pub fn on(code: MerchantCode, field: &str, message: impl Into<String>) -> MerchantError {
        let mut e = MerchantError::new(code, message);
        e.fields.push(field.to_string());
        e
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> MerchantError {
        MerchantError::on(MerchantCode::InvalidFields, field, message)
    }

    pub fn order_not_found() -> MerchantError {
        MerchantError::on(
            MerchantCode::OrderNotFound,
            "order_id",
            "No order with this id was placed through this shop.",
        )
    }

    /// A failure of ours: logged with a support id; details stay in the log.
    pub fn internal(what: &str, detail: impl std::fmt::Display) -> MerchantError {
        let support_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        tracing::error!(support_id, "{what}: {detail}");
        let mut e = MerchantError::new(
            MerchantCode::Internal,
            "Something went wrong on our side; quote the support id.",
        );
        e.support_id = Some(support_id);
        e
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }

    /// Klarna's refusal of an operation, in our model.
    pub fn from_klarna(what: &str, e: &KlarnaCallError) -> MerchantError {
        if e.is_transient() {
            tracing::warn!("{what}: {e}");
            return MerchantError::new(
                MerchantCode::KlarnaUnavailable,
                "Klarna did not answer. Nothing was done twice: send the same request again with the same Idempotency-Key.",
            );
        }
        match e {
            KlarnaCallError::Api { status, body } => {
                tracing::warn!(status, code = %body.error_code, correlation_id = ?body.correlation_id, "{what}: {}", body.messages().join("; "));
                let said = body.messages().join("; ");
                match *status {
                    403 | 409 => MerchantError::on(
                        MerchantCode::NotAllowed,
                        "order_id",
                        format!("Klarna refused: {} ({said})", body.error_code),
                    ),
                    404 if body.error_code.contains("CAPTURE") => MerchantError::on(
                        MerchantCode::CaptureNotFound,
                        "capture_id",
                        "No capture with this id on the order.",
                    ),
                    404 => MerchantError::order_not_found(),
                    400 | 422 => {
                        let mut err = MerchantError::new(
                            MerchantCode::InvalidFields,
                            format!("Klarna refused a value: {said}"),
                        );
                        err.fields = body.fields();
                        if err.fields.is_empty() {
                            // Klarna named none: the body as a whole.
                            err.fields.push(crate::error::BODY.to_string());
                        }
                        err
                    }
                    _ => MerchantError::internal(what, e),
                }
            }
            _ => MerchantError::internal(what, e),
        }
    }
}

impl From<sqlx::Error> for MerchantError {
    fn from(e: sqlx::Error) -> MerchantError {
        MerchantError::internal("storage", e)
    }
}

impl IntoResponse for MerchantError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(&self)).into_response();
        // RFC 6750: the challenge says which credentials the route wants.
        let challenge = match self.code {
            MerchantCode::ApiKeyMissing => Some("Bearer"),
            MerchantCode::ApiKeyInvalid => Some("Bearer error=\"invalid_token\""),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_on_the_wire() {
        let text = serde_json::to_string(&MerchantCode::IdempotencyKeyReused).unwrap();
        assert_eq!(text, "\"idempotency_key_reused\"");
        assert_eq!(
            serde_json::from_str::<MerchantCode>(&text).unwrap(),
            MerchantCode::IdempotencyKeyReused
        );
    }

    #[test]
    fn the_status_follows_the_code() {
        assert_eq!(status_of(MerchantCode::NotAllowed), StatusCode::CONFLICT);
        assert_eq!(
            status_of(MerchantCode::ApiKeyInvalid),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status_of(MerchantCode::IdempotencyKeyMissing),
            StatusCode::BAD_REQUEST
        );
    }
}
