//! Performing one order operation, the same way for the HTTP API, the batch file and the
//! recovery worker: write it down ([`super::ledger`]), send it to Klarna with its own
//! idempotency key, record Klarna's answer. A retry of the same merchant key finds the row and
//! either answers as before or, if Klarna's answer never came, sends the very same request
//! with the very same Klarna key, so Klarna does it at most once.

use super::errors::MerchantError;
use super::ledger::{Begun, Kind, OpState, Planned, StoredOp};
use super::rules::Facts;
use crate::klarna_client::{is_plain_id, KlarnaCallError, KlarnaClient};
use crate::klarna_om::OrderAction;
use crate::store::Store;
use klarna::order_management::OrderManagementOrder;

/// What an operation needs: where it is written and where it is sent.
#[derive(Clone, Copy)]
pub struct Ops<'a> {
    pub store: &'a Store,
    pub klarna: &'a KlarnaClient,
    pub now: i64,
}

/// Reads an order placed through this server from Order Management. Ids that are not ours
/// (or not plain tokens) are "not found" before anything is sent.
pub async fn read_order(
    ops: Ops<'_>,
    order_id: &str,
) -> Result<OrderManagementOrder, MerchantError> {
    if !is_plain_id(order_id) || !ops.store.has_order(order_id).await? {
        return Err(MerchantError::order_not_found());
    }
    ops.klarna
        .read_order(order_id)
        .await
        .map_err(|e| MerchantError::from_klarna("reading an order", &e))
}

/// Performs `planned` on `order_id` under the merchant's `key`, at most once per key.
pub async fn perform(
    ops: Ops<'_>,
    order_id: &str,
    key: &str,
    planned: Planned,
) -> Result<StoredOp, MerchantError> {
    if !is_plain_id(order_id) || !ops.store.has_order(order_id).await? {
        return Err(MerchantError::order_not_found());
    }
    let op = match ops.store.operation(order_id, key).await? {
        Some(op) => op,
        None => {
            let order = ops
                .klarna
                .read_order(order_id)
                .await
                .map_err(|e| MerchantError::from_klarna("reading an order", &e))?;
            let facts = Facts::from(&order);
            let settled = settle_amount(planned.clone(), &facts);
            match ops
                .store
                .begin_operation(order_id, key, &settled, &facts, ops.now)
                .await??
            {
                Begun::New(op) => return send_and_record(ops, op).await,
                Begun::Seen(op) => op,
            }
        }
    };
    if op.digest != planned_digest_for(&op, &planned) {
        return Err(MerchantError::on(
            super::errors::MerchantCode::IdempotencyKeyReused,
            "Idempotency-Key",
            "This Idempotency-Key was already used on this order for a different request. Use a new key for a new operation.",
        ));
    }
    match &op.state {
        OpState::Done { .. } => Ok(op),
        OpState::Refused(e) => Err(e.clone()),
        OpState::Pending => send_and_record(ops, op).await,
    }
}

/// A capture or refund without an amount takes all there is; the rules then see that amount.
fn settle_amount(mut planned: Planned, facts: &Facts) -> Planned {
    if planned.amount == 0 {
        let all = match planned.kind {
            Kind::Capture => facts.remaining,
            Kind::Refund => facts.captured - facts.refunded,
            _ => return planned,
        };
        planned = planned.with_amount(all);
    }
    planned
}

/// The digest the stored row would have if `planned` was its request: an omitted amount
/// ("all") matches the amount it settled to.
fn planned_digest_for(op: &StoredOp, planned: &Planned) -> String {
    if planned.amount == 0 && matches!(planned.kind, Kind::Capture | Kind::Refund) {
        planned.clone().with_amount(op.amount).digest()
    } else {
        planned.digest()
    }
}

/// Sends a written operation and records the answer. A retry that finds it pending sends it
/// again with the same key; Klarna answers that with its first result.
pub async fn send_and_record(ops: Ops<'_>, mut op: StoredOp) -> Result<StoredOp, MerchantError> {
    match send(ops.klarna, &op).await {
        Ok(klarna_id) => {
            op.state = OpState::Done { klarna_id };
            ops.store
                .finish_operation(&op.id, &op.state, ops.now)
                .await?;
            Ok(op)
        }
        Err(e) if e.is_transient() => {
            ops.store.release_operation(&op.id).await?;
            Err(MerchantError::from_klarna("an order operation", &e))
        }
        Err(e @ KlarnaCallError::Api { .. }) => {
            let refusal = MerchantError::from_klarna("an order operation", &e);
            op.state = OpState::Refused(refusal.clone());
            ops.store
                .finish_operation(&op.id, &op.state, ops.now)
                .await?;
            Err(refusal)
        }
        // Unreadable answers stay pending: the worker asks again after the lease.
        Err(e) => Err(MerchantError::internal("an order operation", e)),
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
    let stale = match ops.store.stale_operations(ops.now).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("reading pending order operations: {e}");
            return;
        }
    };
    for op in stale {
        match ops.store.claim_operation(&op.id, ops.now).await {
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
