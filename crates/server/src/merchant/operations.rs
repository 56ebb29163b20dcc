//! Performing one order operation, the same way for the HTTP API, the batch file and the
//! recovery worker: write it down ([`super::ledger`]), send it to Klarna with its own
//! idempotency key, record Klarna's answer. A retry of the same merchant key finds the row and
//! either answers as before or, if Klarna's answer never came, sends the very same request
//! with the very same Klarna key (one sender at a time), so Klarna does it at most once.
//!
//! Three endings: done; refused by Klarna for good (400, 403, 404, 422: replayed to a retry);
//! or pending: no usable answer yet (Klarna down or slow, 409, 429, a lost connection, an
//! unreadable answer). A pending operation is not a failure: it will be sent again and finished,
//! so the caller is told so (HTTP 202, batch `PENDING`) and must not send it under a new key.

use super::errors::{MerchantCode, MerchantError};
use super::ledger::{Begun, Kind, OpState, Planned, StoredOp, RESEND_WINDOW_SECS};
use super::rules::Facts;
use crate::klarna_client::{is_plain_id, KlarnaCallError, KlarnaClient};
use crate::klarna_om::OrderAction;
use crate::store::Store;
use klarna::order_management::OrderManagementOrder;

/// What an operation needs: where it is written, where it is sent, and "now".
#[derive(Clone, Copy)]
pub struct Ops<'a> {
    pub store: &'a Store,
    pub klarna: &'a KlarnaClient,
    pub clock: &'a sandbox::Clock,
}

impl Ops<'_> {
    /// Read fresh each time: a lease taken after a slow Klarna call must not start in the past.
    fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// Reads an order placed through this server from Order Management. Ids that are not ours
/// (or not plain tokens) are "not found" before anything is sent.
pub async fn read_order(
    ops: Ops<'_>,
    order_id: &str,
) -> Result<OrderManagementOrder, MerchantError> {
    ours(ops, order_id).await?;
    ops.klarna
        .read_order(order_id)
        .await
        .map_err(|e| MerchantError::from_klarna("reading an order", &e))
}

async fn ours(ops: Ops<'_>, order_id: &str) -> Result<(), MerchantError> {
    if !is_plain_id(order_id) || !ops.store.has_order(order_id).await? {
        return Err(MerchantError::order_not_found());
    }
    Ok(())
}

/// Where an operation stands for its caller: done, or still to be finished. (A refusal is an
/// error.)
#[derive(Debug)]
pub enum Outcome {
    Done(StoredOp),
    /// Written and sent, Klarna's answer not in yet: it will be sent again with the same key.
    Pending(StoredOp),
}

impl Outcome {
    pub fn op(&self) -> &StoredOp {
        match self {
            Outcome::Done(op) | Outcome::Pending(op) => op,
        }
    }
}

/// Performs `planned` on `order_id` under the merchant's `key`, at most once per key.
pub async fn perform(
    ops: Ops<'_>,
    order_id: &str,
    key: &str,
    planned: Planned,
) -> Result<Outcome, MerchantError> {
    ours(ops, order_id).await?;
    if let Some(outcome) = existing(ops, order_id, key, Some(&planned.digest())).await? {
        return Ok(outcome);
    }
    let order = ops
        .klarna
        .read_order(order_id)
        .await
        .map_err(|e| MerchantError::from_klarna("reading an order", &e))?;
    let facts = Facts::from(&order);
    match ops
        .store
        .begin_operation(order_id, key, &planned, &facts, ops.now())
        .await??
    {
        Begun::New(op) => send_and_record(ops, op).await,
        Begun::Seen(op) => {
            same_request(&op, &planned.digest())?;
            resolve(ops, op).await
        }
    }
}

/// The answer `key` already has on the order (`None`: the key is new). With `digest`, a key
/// used for another request is refused.
pub async fn existing(
    ops: Ops<'_>,
    order_id: &str,
    key: &str,
    digest: Option<&str>,
) -> Result<Option<Outcome>, MerchantError> {
    let Some(op) = ops.store.operation(order_id, key).await? else {
        return Ok(None);
    };
    if let Some(digest) = digest {
        same_request(&op, digest)?;
    }
    resolve(ops, op).await.map(Some)
}

fn same_request(op: &StoredOp, digest: &str) -> Result<(), MerchantError> {
    if op.digest == digest {
        return Ok(());
    }
    Err(MerchantError::on(
        MerchantCode::IdempotencyKeyReused,
        "Idempotency-Key",
        "This Idempotency-Key was already used on this order for a different request. Use a new key for a new operation.",
    ))
}

/// A stored operation's answer; a pending one is sent again if no one else is sending it and
/// its next try is due.
async fn resolve(ops: Ops<'_>, op: StoredOp) -> Result<Outcome, MerchantError> {
    match &op.state {
        OpState::Done { .. } => Ok(Outcome::Done(op)),
        OpState::Refused(e) => Err(e.clone()),
        OpState::Unresolved => Err(unresolved()),
        OpState::Pending => {
            if ops.store.claim_operation(&op.id, ops.now()).await? {
                send_and_record(ops, op).await
            } else {
                Ok(Outcome::Pending(op))
            }
        }
    }
}

fn unresolved() -> MerchantError {
    MerchantError::on(
        MerchantCode::OperationUnresolved,
        "Idempotency-Key",
        "Klarna never confirmed this operation, and it is too late to send it again safely (Klarna remembers a request 24 hours): it may or may not have been done. Check the order (GET /api/merchant/orders/{order_id}) before you send it under a new key.",
    )
}

/// Klarna's refusals that stand for good; anything else may be Klarna's trouble, and the
/// same request may work later. (Customer-token charges follow the same rule.)
pub(crate) fn refused_for_good(e: &KlarnaCallError) -> bool {
    match e {
        KlarnaCallError::Api { status, .. } => matches!(status, 400 | 403 | 404 | 422),
        KlarnaCallError::UnsafeId(_) => true,
        KlarnaCallError::Unreachable(_) | KlarnaCallError::Decode(_) => false,
    }
}

/// Sends a written operation (the caller holds its lease) and records the answer.
pub async fn send_and_record(ops: Ops<'_>, mut op: StoredOp) -> Result<Outcome, MerchantError> {
    if ops.now() - op.created_at > RESEND_WINDOW_SECS {
        op.state = OpState::Unresolved;
        ops.store
            .finish_operation(&op.id, &op.state, ops.now())
            .await?;
        tracing::error!(operation = %op.id, order = %op.order_id, "an order operation Klarna never answered is past Klarna's idempotency window: left for a person to check");
        return Err(unresolved());
    }
    match send(ops.klarna, &op).await {
        Ok(klarna_id) => {
            op.state = OpState::Done { klarna_id };
            ops.store
                .finish_operation(&op.id, &op.state, ops.now())
                .await?;
            Ok(Outcome::Done(op))
        }
        Err(e) if refused_for_good(&e) => {
            let refusal = MerchantError::from_klarna("an order operation", &e);
            op.state = OpState::Refused(refusal.clone());
            ops.store
                .finish_operation(&op.id, &op.state, ops.now())
                .await?;
            Err(refusal)
        }
        Err(e) => {
            tracing::warn!(operation = %op.id, tries = op.tries + 1, "an order operation got no usable answer: {e}");
            ops.store.retry_operation_later(&op, ops.now()).await?;
            Ok(Outcome::Pending(op))
        }
    }
}

fn body<T: serde::de::DeserializeOwned>(op: &StoredOp) -> Result<T, KlarnaCallError> {
    serde_json::from_value(op.request.clone())
        .map_err(|e| KlarnaCallError::Decode(format!("stored request: {e}")))
}

/// One call to Order Management; the capture or refund id where Klarna gives one.
async fn send(klarna: &KlarnaClient, op: &StoredOp) -> Result<Option<String>, KlarnaCallError> {
    let (id, key) = (op.order_id.as_str(), op.klarna_key.as_str());
    match op.kind {
        Kind::Capture => klarna.capture(id, &body(op)?, key).await.map(Some),
        Kind::Refund => klarna.refund(id, &body(op)?, key).await.map(Some),
        Kind::Cancel => action(klarna, id, OrderAction::Cancel, key).await,
        Kind::Release => action(klarna, id, OrderAction::ReleaseRemainingAuthorization, key).await,
        Kind::Extend => action(klarna, id, OrderAction::ExtendAuthorizationTime, key).await,
        Kind::UpdateAuthorization => klarna
            .update_authorization(id, &body(op)?, key)
            .await
            .map(|_| None),
        Kind::UpdateCustomerDetails => klarna
            .update_customer_details(id, &body(op)?, key)
            .await
            .map(|_| None),
        Kind::UpdateReferences => klarna
            .update_merchant_references(id, &body(op)?, key)
            .await
            .map(|_| None),
        Kind::SendOut => klarna
            .trigger_send_out(id, &op.target, key)
            .await
            .map(|_| None),
    }
}

async fn action(
    klarna: &KlarnaClient,
    id: &str,
    action: OrderAction,
    key: &str,
) -> Result<Option<String>, KlarnaCallError> {
    klarna.order_action(id, action, key).await.map(|_| None)
}

/// The recovery worker's part: operations whose sender died or got no answer are sent again,
/// with the same Klarna key, by whichever instance takes the lease.
pub async fn recover(ops: Ops<'_>) {
    let due = match ops.store.due_operations(ops.now()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("reading pending order operations: {e}");
            return;
        }
    };
    for op in due {
        match ops.store.claim_operation(&op.id, ops.now()).await {
            Ok(true) => {
                if let Err(e) = send_and_record(ops, op).await {
                    tracing::info!(code = ?e.code, "order operation sent again: {}", e.message);
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!("claiming an order operation: {e}"),
        }
    }
}
