//! The merchant's HTTP API for orders after checkout: read an order; capture (on shipment,
//! with the carrier and tracking number), refund, cancel, release, extend; change the amount,
//! the lines, the shipping address or the references; send the invoice again.
//!
//! Every call needs an API key ([`super::keys::MerchantKey`]). Every POST and PATCH needs an
//! `Idempotency-Key` header: the merchant's name for one logical operation, so a retry after
//! a dropped connection is done once ([`super::operations::perform`]). Amounts are in minor
//! units (cents) of the order's currency, as everywhere in Klarna's API.

use super::api_doc::{IdempotencyHeader, OperationAnswers, OrderPath};
use super::errors::{MerchantCode, MerchantError};
use super::keys::MerchantKey;
use super::ledger::{Kind, OpState, Planned, StoredOp};
use super::operations::{perform, read_order, Ops, Outcome};
use super::rules::{Facts, Operation};
use super::shapes::*;
use crate::klarna_client::is_plain_id;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use klarna::order_management::{
    CaptureRequest, MerchantReferences, OrderManagementOrder, RefundRequest, UpdateAuthorization,
    UpdateCustomerDetails,
};
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Each `routes!` line registers a handler and documents it (`crate::openapi`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_order))
        .routes(routes!(capture))
        .routes(routes!(refund))
        .routes(routes!(cancel))
        .routes(routes!(release))
        .routes(routes!(extend))
        .routes(routes!(update_authorization))
        .routes(routes!(update_customer))
        .routes(routes!(update_references))
        .routes(routes!(send_out))
}

/// The merchant's `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub struct IdempotencyKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = MerchantError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, MerchantError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Err(MerchantError::on(
                MerchantCode::IdempotencyKeyMissing,
                "Idempotency-Key",
                "Send an Idempotency-Key header naming this operation (for example your shipment number), and send the same one again when you retry.",
            ));
        };
        match value.to_str() {
            Ok(key)
                if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Ok(IdempotencyKey(key.to_string()))
            }
            _ => Err(MerchantError::invalid(
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )),
        }
    }
}

/// A JSON body whose refusal names the field.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = MerchantError;

    async fn from_request(req: Request, state: &S) -> Result<Self, MerchantError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                MerchantError::on(
                    MerchantCode::BadRequest,
                    crate::error::BODY,
                    "The request body could not be read (at most 256 KiB).",
                )
            })?;
        crate::error::decode_body(&bytes).map(Body).map_err(|e| {
            let field = e.field.as_deref().unwrap_or(crate::error::BODY);
            MerchantError::on(MerchantCode::BadRequest, field, e.message)
        })
    }
}

fn ops(app: &AppState) -> Ops<'_> {
    Ops {
        store: &app.store,
        klarna: &app.klarna,
        clock: &app.clock,
    }
}

/// The order as Klarna's Order Management has it, with its state.
#[utoipa::path(
    get,
    path = "/api/merchant/orders/{order_id}",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(
        ("order_id" = String, Path, description = "Klarna's order id of an order placed through this shop."),
    ),
    responses(
        (status = 200, description = "The order.", body = MerchantOrder),
        (status = 401, description = "No API key, or a wrong, revoked or malformed one.", body = MerchantError),
        (status = 404, description = "Unknown `order_id`.", body = MerchantError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = MerchantError),
        (status = 503, description = "Klarna did not answer; try again.", body = MerchantError),
    ),
)]
async fn get_order(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
) -> Result<Json<MerchantOrder>, MerchantError> {
    let order = read_order(ops(&app), &order_id).await?;
    Ok(Json(view(order)))
}

pub fn view(order: OrderManagementOrder) -> MerchantOrder {
    MerchantOrder {
        state: Facts::from(&order).state(),
        order,
    }
}

/// Performs `planned` and answers with the operation and the order as it is afterwards:
/// `201`/`200` when it is done, `202` when Klarna's answer is not in yet (it will be finished;
/// asking again with the same key tells how it ended).
async fn answer(
    app: &AppState,
    order_id: &str,
    key: IdempotencyKey,
    planned: Planned,
    created: bool,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    let outcome = perform(ops(app), order_id, &key.0, planned).await?;
    // The order as it stands now; if Klarna does not answer this read, the operation stands.
    let order = read_order(ops(app), order_id).await.ok().map(view);
    let status = match outcome {
        Outcome::Pending(_) => StatusCode::ACCEPTED,
        Outcome::Done(_) if created => StatusCode::CREATED,
        Outcome::Done(_) => StatusCode::OK,
    };
    Ok((status, Json(OperationAnswer::of(outcome.op(), order))))
}

impl OperationAnswer {
    fn of(op: &StoredOp, order: Option<MerchantOrder>) -> OperationAnswer {
        let klarna_id = match &op.state {
            OpState::Done { klarna_id } => klarna_id.clone(),
            _ => None,
        };
        OperationAnswer {
            operation: OperationView {
                id: op.id.clone(),
                kind: op.kind.name().to_string(),
                state: op.state.name().to_string(),
                amount: (op.amount > 0).then_some(op.amount),
                capture_id: klarna_id.clone().filter(|_| op.kind == Kind::Capture),
                refund_id: klarna_id.filter(|_| op.kind == Kind::Refund),
            },
            order,
        }
    }
}

fn planned(kind: Kind, operation: Operation, amount: i64, request: serde_json::Value) -> Planned {
    Planned {
        kind,
        operation,
        amount,
        target: String::new(),
        request,
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, MerchantError> {
    serde_json::to_value(value).map_err(|e| MerchantError::internal("encoding a request", e))
}

/// Captures an amount (all that remains without `amount`), on shipment.
#[utoipa::path(
    post,
    path = "/api/merchant/orders/{order_id}/captures",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(OrderPath, IdempotencyHeader),
    request_body = CaptureBody,
    responses(
        (status = 201, description = "Captured; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn capture(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
    key: IdempotencyKey,
    Body(body): Body<CaptureBody>,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    let amount = body.checked()?;
    let request = CaptureRequest {
        captured_amount: amount,
        description: body.description,
        reference: body.reference,
        order_lines: body.order_lines,
        shipping_info: body.shipping_info,
        shipping_delay: None,
    };
    let plan = planned(
        Kind::Capture,
        Operation::Capture(amount),
        amount,
        json(&request)?,
    );
    answer(&app, &order_id, key, plan, true).await
}

/// Refunds an amount (all not yet refunded without `amount`).
#[utoipa::path(
    post,
    path = "/api/merchant/orders/{order_id}/refunds",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(OrderPath, IdempotencyHeader),
    request_body = RefundBody,
    responses(
        (status = 201, description = "Refunded; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn refund(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
    key: IdempotencyKey,
    Body(body): Body<RefundBody>,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    let amount = body.checked()?;
    let request = RefundRequest {
        refunded_amount: amount,
        description: body.description,
        reference: body.reference,
        order_lines: body.order_lines,
    };
    let plan = planned(
        Kind::Refund,
        Operation::Refund(amount),
        amount,
        json(&request)?,
    );
    answer(&app, &order_id, key, plan, true).await
}

/// The operations without a body: cancel, release, extend.
async fn bodiless(
    app: AppState,
    order_id: String,
    key: IdempotencyKey,
    kind: Kind,
    operation: Operation,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    let plan = planned(kind, operation, 0, serde_json::Value::Null);
    answer(&app, &order_id, key, plan, false).await
}

/// Cancels an order nothing was captured of.
#[utoipa::path(
    post,
    path = "/api/merchant/orders/{order_id}/cancel",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(OrderPath, IdempotencyHeader),
    responses(
        (status = 200, description = "Cancelled; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn cancel(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
    key: IdempotencyKey,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    bodiless(app, order_id, key, Kind::Cancel, Operation::Cancel).await
}

/// Releases the authorization that remains after partial captures.
#[utoipa::path(
    post,
    path = "/api/merchant/orders/{order_id}/release",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(OrderPath, IdempotencyHeader),
    responses(
        (status = 200, description = "Released; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn release(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
    key: IdempotencyKey,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    bodiless(app, order_id, key, Kind::Release, Operation::Release).await
}

/// Extends the authorization's lifetime.
#[utoipa::path(
    post,
    path = "/api/merchant/orders/{order_id}/extend",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(OrderPath, IdempotencyHeader),
    responses(
        (status = 200, description = "Extended; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn extend(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
    key: IdempotencyKey,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    bodiless(app, order_id, key, Kind::Extend, Operation::Extend).await
}

/// Changes the order amount (and lines); Klarna checks it again.
#[utoipa::path(
    patch,
    path = "/api/merchant/orders/{order_id}/authorization",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(OrderPath, IdempotencyHeader),
    request_body = AuthorizationBody,
    responses(
        (status = 200, description = "Changed; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn update_authorization(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
    key: IdempotencyKey,
    Body(body): Body<AuthorizationBody>,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    body.check()?;
    let request = UpdateAuthorization {
        order_amount: body.order_amount,
        description: body.description,
        order_lines: body.order_lines,
    };
    let op = Operation::UpdateAuthorization(body.order_amount);
    let plan = planned(Kind::UpdateAuthorization, op, 0, json(&request)?);
    answer(&app, &order_id, key, plan, false).await
}

/// Changes the shipping address.
#[utoipa::path(
    patch,
    path = "/api/merchant/orders/{order_id}/customer-details",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(OrderPath, IdempotencyHeader),
    request_body = CustomerBody,
    responses(
        (status = 200, description = "Changed; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn update_customer(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
    key: IdempotencyKey,
    Body(body): Body<CustomerBody>,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    body.check()?;
    let request = UpdateCustomerDetails {
        shipping_address: Some(body.shipping_address),
        billing_address: None,
    };
    let plan = planned(
        Kind::UpdateCustomerDetails,
        Operation::UpdateCustomerDetails,
        0,
        json(&request)?,
    );
    answer(&app, &order_id, key, plan, false).await
}

/// Changes the merchant references.
#[utoipa::path(
    patch,
    path = "/api/merchant/orders/{order_id}/merchant-references",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(OrderPath, IdempotencyHeader),
    request_body = ReferencesBody,
    responses(
        (status = 200, description = "Changed; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn update_references(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
    key: IdempotencyKey,
    Body(body): Body<ReferencesBody>,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    body.check()?;
    let request = MerchantReferences {
        merchant_reference1: body.merchant_reference1,
        merchant_reference2: body.merchant_reference2,
    };
    let plan = planned(
        Kind::UpdateReferences,
        Operation::UpdateReferences,
        0,
        json(&request)?,
    );
    answer(&app, &order_id, key, plan, false).await
}

/// Sends the capture's invoice to the shopper again.
#[utoipa::path(
    post,
    path = "/api/merchant/orders/{order_id}/captures/{capture_id}/send-out",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(
        OrderPath,
        ("capture_id" = String, Path, description = "Klarna's capture id."),
        IdempotencyHeader,
    ),
    responses(
        (status = 200, description = "Sent; the order afterwards.", body = OperationAnswer),
        OperationAnswers,
    ),
)]
async fn send_out(
    State(app): State<AppState>,
    _: MerchantKey,
    Path((order_id, capture_id)): Path<(String, String)>,
    key: IdempotencyKey,
) -> Result<(StatusCode, Json<OperationAnswer>), MerchantError> {
    if !is_plain_id(&capture_id) {
        return Err(MerchantError::on(
            MerchantCode::CaptureNotFound,
            "capture_id",
            "No capture with this id on the order.",
        ));
    }
    let mut plan = planned(
        Kind::SendOut,
        Operation::SendOut,
        0,
        serde_json::Value::Null,
    );
    plan.target = capture_id;
    answer(&app, &order_id, key, plan, false).await
}
