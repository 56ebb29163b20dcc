//! The parts of the merchant order API's OpenAPI document that every order operation shares,
//! written once: the order in the path, the `Idempotency-Key` header, and the answers an
//! operation can give besides its own success. Types only the document reads.

use super::errors::MerchantError;
use super::shapes::OperationAnswer;
use utoipa::{IntoParams, IntoResponses};

/// The order an operation is on.
#[derive(IntoParams, serde::Deserialize)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct OrderPath {
    /// Klarna's order id of an order placed through this shop.
    pub order_id: String,
}

/// The merchant's name for this one operation.
#[derive(IntoParams, serde::Deserialize)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyHeader {
    /// 1 to 255 visible ASCII characters; a retry with the same key is done once.
    #[serde(rename = "Idempotency-Key")]
    pub idempotency_key: String,
}

/// What any order operation may answer besides its success.
#[derive(IntoResponses)]
// Never built: it only describes the answers, so its variants' sizes do not matter.
#[allow(dead_code, clippy::large_enum_variant)]
pub enum OperationAnswers {
    /// Sent, Klarna's answer not in yet (`operation.state` is `pending`): it is sent again with
    /// the same key until Klarna answers; the same request with the same `Idempotency-Key`
    /// tells how it ended.
    #[response(status = 202)]
    Pending(OperationAnswer),
    /// Malformed body, or no `Idempotency-Key`; `fields` names the input.
    #[response(status = 400)]
    BadRequest(MerchantError),
    /// No API key, or a wrong, revoked or malformed one.
    #[response(status = 401)]
    Unauthorized(MerchantError),
    /// Unknown `order_id` (or, for a send-out, `capture_id`).
    #[response(status = 404)]
    NotFound(MerchantError),
    /// `not_allowed`: the order's state does not allow this; `idempotency_key_reused`: the
    /// `Idempotency-Key` was used for another operation; `operation_unresolved`: Klarna never
    /// answered this operation within its 24 hours of idempotency, so it is not sent again
    /// (check the order).
    #[response(status = 409)]
    Conflict(MerchantError),
    /// A value is refused (a malformed `Idempotency-Key`, say); `fields` names it.
    #[response(status = 422)]
    Refused(MerchantError),
    /// A failure of ours, with a `support_id`.
    #[response(status = 500)]
    Internal(MerchantError),
    /// Klarna did not answer a read of the order; nothing was written: retry.
    #[response(status = 503)]
    Unavailable(MerchantError),
}
