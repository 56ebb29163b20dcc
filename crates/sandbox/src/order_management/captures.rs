//! The money-moving Order Management calls: capture (201 with `Capture-Id` and `Location`,
//! no body, as Klarna answers), shipping info and send-out on a capture, and refunds (201
//! with `Refund-Id` and `Location`). The ids come only in headers, which is why the
//! idempotency replay keeps headers too.

use super::with_order;
use crate::payments::{authenticate, host, parse, KlarnaResult};
use crate::state::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use klarna::order_management::{CaptureRequest, RefundRequest, ShippingInfoRequest};

/// 201 Created, `{id_header}: id` and `Location: …/{kind}/{id}`, no body.
fn created(headers: &HeaderMap, order_id: &str, kind: &str, id_header: &str, id: &str) -> Response {
    let location = format!(
        "http://{}{}{}/{order_id}/{kind}/{id}",
        host(headers),
        crate::MOUNT_PATH,
        super::ORDERS
    );
    let mut response = StatusCode::CREATED.into_response();
    let out = response.headers_mut();
    // Ids are UUIDs and the order id was a path segment: both are valid header values. Should
    // one not be, the answer still says 201 and the client reports the missing header.
    if let (Ok(name), Ok(value)) = (HeaderName::try_from(id_header), HeaderValue::from_str(id)) {
        out.insert(name, value);
    }
    if let Ok(value) = HeaderValue::from_str(&location) {
        out.insert(header::LOCATION, value);
    }
    response
}

pub(super) async fn capture(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<Response> {
    authenticate(&sandbox, &headers)?;
    let request: CaptureRequest = parse(&body)?;
    let now = sandbox.clock.now();
    let capture = with_order(&sandbox, &order_id, |o| o.capture(request, now))?;
    Ok(created(
        &headers,
        &order_id,
        "captures",
        "Capture-Id",
        &capture.capture_id,
    ))
}

pub(super) async fn add_shipping_info(
    State(sandbox): State<Sandbox>,
    Path((order_id, capture_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<StatusCode> {
    authenticate(&sandbox, &headers)?;
    let request: ShippingInfoRequest = parse(&body)?;
    with_order(&sandbox, &order_id, |o| {
        o.add_shipping_info(&capture_id, request.shipping_info)
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Klarna resends the customer's payment instructions for the capture; here, a capture that
/// exists is all that is checked.
pub(super) async fn trigger_send_out(
    State(sandbox): State<Sandbox>,
    Path((order_id, capture_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> KlarnaResult<StatusCode> {
    authenticate(&sandbox, &headers)?;
    with_order(&sandbox, &order_id, |o| {
        o.capture_mut(&capture_id).map(|_| ())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn refund(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<Response> {
    authenticate(&sandbox, &headers)?;
    let request: RefundRequest = parse(&body)?;
    let now = sandbox.clock.now();
    let refund = with_order(&sandbox, &order_id, |o| o.refund(request, now))?;
    Ok(created(
        &headers,
        &order_id,
        "refunds",
        "Refund-Id",
        &refund.refund_id,
    ))
}
