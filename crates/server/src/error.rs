//! One mapping from everything that can go wrong to our API's error body and status code.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use klarna::api::{ApiError, ErrorCode};
use klarna::{FieldError, FieldProblem};
use serde::de::DeserializeOwned;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub body: ApiError,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<i64>,
}

impl AppError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            status,
            body: ApiError::new(code, message),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    pub fn invalid_fields(fields: Vec<FieldError>) -> AppError {
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        let mut e = AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidFields,
            format!("Please check: {}", names.join(", ")),
        );
        e.body.fields = fields;
        e
    }

    pub fn field(field: &str, problem: FieldProblem, message: impl Into<String>) -> AppError {
        let mut e = AppError::invalid_fields(vec![FieldError::new(field, problem)]);
        e.body.message = message.into();
        e
    }

    /// Names the input (body field, path parameter, header or cookie) this refusal is about.
    pub fn on(mut self, field: &str, problem: FieldProblem) -> AppError {
        self.body.fields.push(FieldError::new(field, problem));
        self
    }

    /// A failure of ours: logged with a support id the shopper can quote; details stay in the log.
    pub fn internal(what: &str, detail: impl std::fmt::Display) -> AppError {
        let support_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        tracing::error!(support_id, "{what}: {detail}");
        let mut e = AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "Something went wrong on our side. Please try again; if it persists, contact the shop with the support id.",
        );
        e.body.support_id = Some(support_id);
        e
    }
}

/// A handler panicked: logged with a support id, answered as any failure of ours.
pub fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    AppError::internal("a request handler panicked", what).into_response()
}

pub async fn no_such_endpoint(uri: axum::http::Uri) -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::BadRequest,
        format!("{}: no such endpoint.", uri.path()),
    )
}

pub async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::BadRequest,
        format!("{}: {method} is not allowed here.", uri.path()),
    )
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        AppError::internal("storage", e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.max(1).into());
        }
        response
    }
}

/// The name a refusal gives the request body as a whole (not JSON, unreadable, too large).
pub const BODY: &str = "body";

/// JSON body extractor whose rejections are our error body, naming the offending field.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::new(
                        status,
                        ErrorCode::BadRequest,
                        "The request body is too large.",
                    )
                } else {
                    AppError::bad_request("The request body could not be read.")
                }
                .on(BODY, FieldProblem::Invalid)
            })?;
        decode_body(&bytes).map(ApiJson).map_err(|e| {
            let field = e.field.as_deref().unwrap_or(BODY);
            AppError::bad_request(e.message).on(field, FieldProblem::Invalid)
        })
    }
}

/// Why a JSON body was refused: the path of the offending field (none for a syntax error or
/// a problem with the whole body) and a sentence naming it.
#[derive(Debug)]
pub struct BodyError {
    pub field: Option<String>,
    pub message: String,
}

/// Decodes a JSON body, naming the offending field on failure. One reading for every API.
/// Every body of ours is a JSON object: serde would also read a struct from an array of its
/// fields in order, which no caller is told of, so that is refused as the whole body's fault.
pub fn decode_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if bytes.trim_ascii_start().first() == Some(&b'[') {
        return Err(BodyError {
            field: None,
            message: "The body must be a JSON object.".into(),
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            BodyError {
                field: None,
                message: format!("The body is not valid JSON: {inner}"),
            }
        } else if path == "." || path.is_empty() {
            // serde names a missing or unknown field only in its message.
            let named = missing_or_unknown(&inner.to_string());
            BodyError {
                field: named,
                message: format!("Invalid JSON body: {inner}"),
            }
        } else {
            BodyError {
                message: format!("Invalid field `{path}`: {inner}"),
                field: Some(path),
            }
        }
    })
}

/// The field serde's "missing field `x`" or "unknown field `x`" is about.
fn missing_or_unknown(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    // An empty name (`{"": 1}`) names nothing a caller could find: the body as a whole.
    rest.split('`')
        .next()
        .filter(|name| !name.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Two {
        a: String,
        b: String,
    }

    fn field_of(body: &str) -> Option<String> {
        decode_body::<Two>(body.as_bytes()).unwrap_err().field
    }

    #[test]
    fn a_refused_body_names_its_field_or_the_body_as_a_whole() {
        assert_eq!(field_of(r#"{"a": "x", "b": 1}"#).as_deref(), Some("b"));
        assert_eq!(field_of(r#"{"a": "x"}"#).as_deref(), Some("b"));
        assert_eq!(
            field_of(r#"{"a": "x", "b": "y", "c": 1}"#).as_deref(),
            Some("c")
        );
        // Nothing a caller could point at: the body itself (`BODY` in the answer).
        assert_eq!(field_of(r#"{"a": "x", "b": "y", "": 1}"#), None);
        assert_eq!(field_of(r#"["x", "y"]"#), None);
        assert_eq!(field_of(" [null, null]"), None);
        assert_eq!(field_of("{"), None);
    }
}
