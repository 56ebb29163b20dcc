//! Klarna Order Management API, emulated under `/ordermanagement/v1/orders/{order_id}`: read
//! an order and its captures and refunds, capture, refund, cancel, release the rest of the
//! authorization, extend it, and change amount, addresses and references — with Klarna's
//! status rules ([`rules`]) on the sandbox clock, so a server's after-sale code meets here the
//! refusals it would meet at Klarna. A pending order's fraud review ends on that clock too
//! ([`crate::state::REVIEW_SECS`]); every read shows the current state.
//!
//! Files: this one routes and reads; [`captures`] creates captures and refunds; [`changes`]
//! holds the calls that change the order itself.

mod captures;
mod changes;
mod rules;

use crate::payments::{authenticate, KlarnaError, KlarnaResult};
use crate::state::{Sandbox, StoredOrder};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use klarna::order_management::{Capture, OrderManagementOrder, Refund};

const ORDERS: &str = "/ordermanagement/v1/orders";

pub(crate) fn routes() -> Router<Sandbox> {
    let at = |rest: &str| format!("{ORDERS}/{{order_id}}{rest}");
    Router::new()
        .route(&at(""), get(read_order))
        .route(&at("/captures"), get(list_captures).post(captures::capture))
        .route(&at("/captures/{capture_id}"), get(read_capture))
        .route(
            &at("/captures/{capture_id}/shipping-info"),
            post(captures::add_shipping_info),
        )
        .route(
            &at("/captures/{capture_id}/trigger-send-out"),
            post(captures::trigger_send_out),
        )
        .route(&at("/refunds"), post(captures::refund))
        .route(&at("/refunds/{refund_id}"), get(read_refund))
        .route(&at("/cancel"), post(changes::cancel))
        .route(
            &at("/release-remaining-authorization"),
            post(changes::release_remaining_authorization),
        )
        .route(
            &at("/extend-authorization-time"),
            post(changes::extend_authorization_time),
        )
        .route(&at("/authorization"), patch(changes::update_authorization))
        .route(
            &at("/customer-details"),
            patch(changes::update_customer_details),
        )
        .route(
            &at("/merchant-references"),
            patch(changes::update_merchant_references),
        )
}

/// 403 with Klarna's body: `CAPTURE_NOT_ALLOWED`, `REFUND_NOT_ALLOWED`, `NOT_ALLOWED`, ….
pub(crate) fn not_allowed(code: &str, message: impl Into<String>) -> KlarnaError {
    KlarnaError::new(StatusCode::FORBIDDEN, code, vec![message.into()])
}

/// 400 `BAD_VALUE`, one `Bad value: field` message per field.
pub(crate) fn bad_value(fields: Vec<String>) -> KlarnaError {
    KlarnaError::bad_values(fields)
}

/// 422 `INVALID_ADDRESS`, as Klarna answers an address it cannot accept.
pub(crate) fn invalid_address(fields: Vec<String>) -> KlarnaError {
    KlarnaError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_ADDRESS",
        fields
            .into_iter()
            .map(|f| format!("Bad value: {f}"))
            .collect(),
    )
}

/// 404 `NO_SUCH_ORDER` / `NO_SUCH_CAPTURE` / `NO_SUCH_REFUND`.
pub(crate) fn no_such(what: &str, message: &str) -> KlarnaError {
    KlarnaError::new(
        StatusCode::NOT_FOUND,
        &format!("NO_SUCH_{what}"),
        vec![message.into()],
    )
}

/// Runs `f` on the order under the sandbox's lock; an unknown order is Klarna's 404.
pub(crate) fn with_order<T>(
    sandbox: &Sandbox,
    order_id: &str,
    f: impl FnOnce(&mut StoredOrder) -> KlarnaResult<T>,
) -> KlarnaResult<T> {
    let mut inner = sandbox.lock();
    let order = inner
        .orders
        .iter_mut()
        .find(|o| o.order.order_id == order_id)
        .ok_or_else(|| no_such("ORDER", &format!("No order with id {order_id}")))?;
    f(order)
}

async fn read_order(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> KlarnaResult<Json<OrderManagementOrder>> {
    authenticate(&sandbox, &headers)?;
    let now = sandbox.clock.now();
    with_order(&sandbox, &order_id, |o| Ok(Json(o.view(now))))
}

async fn list_captures(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> KlarnaResult<Json<Vec<Capture>>> {
    authenticate(&sandbox, &headers)?;
    with_order(&sandbox, &order_id, |o| Ok(Json(o.captures.clone())))
}

async fn read_capture(
    State(sandbox): State<Sandbox>,
    Path((order_id, capture_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KlarnaResult<Json<Capture>> {
    authenticate(&sandbox, &headers)?;
    with_order(&sandbox, &order_id, |o| {
        o.capture_mut(&capture_id).map(|c| Json(c.clone()))
    })
}

async fn read_refund(
    State(sandbox): State<Sandbox>,
    Path((order_id, refund_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KlarnaResult<Json<Refund>> {
    authenticate(&sandbox, &headers)?;
    with_order(&sandbox, &order_id, |o| {
        o.refunds
            .iter()
            .find(|r| r.refund_id == refund_id)
            .map(|r| Json(r.clone()))
            .ok_or_else(|| {
                no_such(
                    "REFUND",
                    &format!("Refund {refund_id} cannot be found for order {order_id}"),
                )
            })
    })
}
