//! The Order Management calls that change the order itself rather than move money: cancel,
//! release the remaining authorization, extend the authorization time (POSTs without a body),
//! and the PATCHes of amount, customer details and merchant references. All answer 204; the
//! rules that refuse them are in [`super::rules`].

use super::with_order;
use crate::payments::{authenticate, parse, KlarnaResult};
use crate::state::{Sandbox, StoredOrder};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use klarna::order_management::{MerchantReferences, UpdateAuthorization, UpdateCustomerDetails};

/// Authenticates, then applies `f` to the order at the sandbox clock's now; 204 on success.
fn change(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    order_id: &str,
    f: impl FnOnce(&mut StoredOrder, i64) -> KlarnaResult<()>,
) -> KlarnaResult<StatusCode> {
    authenticate(sandbox, headers)?;
    let now = sandbox.clock.now();
    with_order(sandbox, order_id, |o| f(o, now))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A PATCH: authenticates, then reads the body (a malformed one is Klarna's 400), then
/// applies it like [`change`].
fn patch<T: serde::de::DeserializeOwned>(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    order_id: &str,
    body: &[u8],
    f: impl FnOnce(&mut StoredOrder, T, i64) -> KlarnaResult<()>,
) -> KlarnaResult<StatusCode> {
    authenticate(sandbox, headers)?;
    let request: T = parse(body)?;
    let now = sandbox.clock.now();
    with_order(sandbox, order_id, |o| f(o, request, now))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn cancel(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> KlarnaResult<StatusCode> {
    change(&sandbox, &headers, &order_id, |o, now| o.cancel(now))
}

pub(super) async fn release_remaining_authorization(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> KlarnaResult<StatusCode> {
    change(&sandbox, &headers, &order_id, |o, now| {
        o.release_remaining(now)
    })
}

pub(super) async fn extend_authorization_time(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> KlarnaResult<StatusCode> {
    change(&sandbox, &headers, &order_id, |o, now| {
        o.extend_authorization(now)
    })
}

pub(super) async fn update_authorization(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<StatusCode> {
    patch(
        &sandbox,
        &headers,
        &order_id,
        &body,
        |o, r: UpdateAuthorization, now| o.update_authorization(r, now),
    )
}

pub(super) async fn update_customer_details(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<StatusCode> {
    patch(
        &sandbox,
        &headers,
        &order_id,
        &body,
        |o, r: UpdateCustomerDetails, now| o.update_customer_details(r, now),
    )
}

pub(super) async fn update_merchant_references(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<StatusCode> {
    patch(
        &sandbox,
        &headers,
        &order_id,
        &body,
        |o, r: MerchantReferences, _| o.update_merchant_references(r),
    )
}
