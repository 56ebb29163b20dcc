//! Klarna Order Management, as far as the checkout needs it: `GET
//! /ordermanagement/v1/orders/{order_id}`, which the server reads when Klarna notifies that a
//! pending order's fraud review ended. A pending order's review ends on the sandbox clock
//! ([`crate::state::REVIEW_SECS`]); the status read here is always the current one.

use crate::payments::{authenticate, KlarnaError};
use crate::state::Sandbox;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use klarna::payments::ManagedOrder;

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new().route("/ordermanagement/v1/orders/{order_id}", get(read_order))
}

async fn read_order(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<ManagedOrder>, KlarnaError> {
    authenticate(&sandbox, &headers)?;
    let now = sandbox.clock.now();
    let inner = sandbox.lock();
    let order = inner
        .orders
        .iter()
        .find(|o| o.order.order_id == order_id)
        .ok_or_else(|| {
            KlarnaError::new(
                StatusCode::NOT_FOUND,
                "NO_SUCH_ORDER",
                vec![format!("No order with id {order_id}")],
            )
        })?;
    Ok(Json(ManagedOrder {
        order_id: order.order.order_id.clone(),
        fraud_status: order.fraud_status_at(now),
        status: Some("AUTHORIZED".into()),
        purchase_currency: Some(order.request.purchase_currency.clone()),
        order_amount: Some(order.request.order_amount),
        merchant_reference1: order.request.merchant_reference1.clone(),
    }))
}
