//! Charging a customer token: a new Klarna order on the token, at most once per merchant
//! `Idempotency-Key`. The charge is written before Klarna is called, with its own
//! `Klarna-Idempotency-Key`; a retry after a lost answer (the merchant's, or the worker's)
//! sends the same request with the same key and gets Klarna's first order. The order is
//! recorded in `orders` under a checkout session of its own (`charge-…`), so the merchant
//! order API captures, refunds and cancels it like any other.
//!
//! As with the order operations ([`crate::merchant::operations`]): Klarna's refusals for good
//! (400, 403, 404, 422) are stored and answered again; anything else leaves the charge
//! `pending` (HTTP 202), sent again with a growing pause; a charge Klarna has not answered
//! within [`RESEND_WINDOW_SECS`] is never sent again (`unresolved`, `409 operation_unresolved`).
//!
//! After the token is cancelled, no charge makes a new order: one never handed to Klarna is
//! refused (`409 not_allowed`, `customer_token`); one that may have reached Klarna is sent
//! again only once Klarna itself reads the token as cancelled, so that Klarna either replays
//! its first answer (the order it made then) or refuses; until then it waits.

use super::charge_store::ChargeRow;
use super::store::TokenRow;
use super::{klarna_token, LEASE_SECS};
use crate::klarna_client::{idempotency_key, KlarnaCallError};
use crate::merchant::errors::{MerchantCode, MerchantError};
use crate::merchant::ledger::RESEND_WINDOW_SECS;
use crate::merchant::operations::refused_for_good;
use crate::state::AppState;
use klarna::api::OrderState;
use klarna::customer_token::TokenOrderRequest;
use klarna::payments::FraudStatus;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The answer to a charge: `state` `done` with the order Klarna created, or `pending` while
/// Klarna's answer is not in (it will be sent again and finished; the same request with the
/// same key tells how it ended).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Charged {
    pub customer_token: String,
    /// `done` or `pending`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The order's state once done: `accepted`, `pending` (Klarna's fraud review), `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_state: Option<OrderState>,
    pub order_amount: i64,
    pub purchase_currency: String,
}

/// Where a charge stands for its caller (a refusal is an error).
#[derive(Debug)]
pub enum Outcome {
    Done(Charged),
    Pending(Charged),
}

fn digest(request: &TokenOrderRequest) -> String {
    let text = serde_json::to_string(request).unwrap_or_default();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn done(row: &ChargeRow, order_id: String, state: OrderState) -> Outcome {
    Outcome::Done(Charged {
        customer_token: row.customer_token.clone(),
        state: "done".into(),
        order_id: Some(order_id),
        order_state: Some(state),
        order_amount: row.request.order_amount,
        purchase_currency: row.request.purchase_currency.clone(),
    })
}

fn pending(row: &ChargeRow) -> Outcome {
    Outcome::Pending(Charged {
        customer_token: row.customer_token.clone(),
        state: "pending".into(),
        order_id: None,
        order_state: None,
        order_amount: row.request.order_amount,
        purchase_currency: row.request.purchase_currency.clone(),
    })
}

fn cancelled() -> MerchantError {
    MerchantError::on(
        MerchantCode::NotAllowed,
        "customer_token",
        "This customer token was cancelled; it cannot be charged any more.",
    )
}

fn unresolved() -> MerchantError {
    MerchantError::on(
        MerchantCode::OperationUnresolved,
        "Idempotency-Key",
        "Klarna never confirmed this charge, and it is too late to send it again safely (Klarna remembers a request 24 hours): it may or may not have made an order. Check your Klarna orders before you charge under a new key.",
    )
}

/// Charges `token` with `request` under the merchant's `key`.
pub async fn charge(
    app: &AppState,
    token: &TokenRow,
    key: &str,
    request: TokenOrderRequest,
) -> Result<Outcome, MerchantError> {
    let now = app.clock.now();
    let wanted = digest(&request);
    let row = match app.store.charge(&token.id, key).await? {
        Some(row) => row,
        None => {
            // A new charge needs a live token; a repeated one answers as before, whatever the
            // token became since.
            usable(token)?;
            let id = uuid::Uuid::new_v4().to_string();
            let fresh = ChargeRow {
                klarna_key: idempotency_key(&format!("token-charge:{id}")),
                id,
                customer_token: token.id.clone(),
                request_digest: wanted.clone(),
                request,
                state: "pending".into(),
                klarna_order_id: None,
                result: None,
                created_at: now,
                tries: 0,
                sent: false,
            };
            if app
                .store
                .insert_charge(&fresh, key, now, LEASE_SECS)
                .await?
            {
                return attempt(app, fresh).await;
            }
            // Another request with this key won the insert a moment ago.
            app.store
                .charge(&token.id, key)
                .await?
                .ok_or_else(|| MerchantError::internal("a charge", "vanished after its insert"))?
        }
    };
    if row.request_digest != wanted {
        return Err(MerchantError::on(
            MerchantCode::IdempotencyKeyReused,
            "Idempotency-Key",
            "This Idempotency-Key was already used on this customer token for a different charge. Use a new key for a new charge.",
        ));
    }
    match row.state.as_str() {
        "done" => {
            let order_id = row.klarna_order_id.clone().unwrap_or_default();
            let state = app
                .store
                .order_by_klarna_id(&order_id)
                .await?
                .map_or(OrderState::Pending, |o| o.order.state);
            Ok(done(&row, order_id, state))
        }
        "refused" => Err(
            serde_json::from_str(row.result.as_deref().unwrap_or_default()).unwrap_or_else(|_| {
                MerchantError::on(
                    MerchantCode::NotAllowed,
                    "customer_token",
                    "Klarna refused this charge.",
                )
            }),
        ),
        "unresolved" => Err(unresolved()),
        _ if app.store.claim_charge(&row.id, now, LEASE_SECS).await? => attempt(app, row).await,
        _ => Ok(pending(&row)),
    }
}

/// Whether a token takes new charges.
fn usable(token: &TokenRow) -> Result<(), MerchantError> {
    match token.state.as_str() {
        "active" => Ok(()),
        "cancelled" => Err(cancelled()),
        "pending" if token.token_sealed.is_some() => Err(MerchantError::on(
            MerchantCode::NotAllowed,
            "customer_token",
            "The order this customer token came from is still in Klarna's fraud review; the token can be charged once Klarna accepts the order.",
        )),
        "pending" => Err(MerchantError::new(
            MerchantCode::KlarnaUnavailable,
            "Klarna has not issued this customer token yet; try again in a moment.",
        )),
        _ => Err(MerchantError::on(
            MerchantCode::NotAllowed,
            "customer_token",
            "Klarna refused to issue this customer token; it cannot be charged.",
        )),
    }
}

/// Sends a written charge whose lease this caller holds, if it may still be sent.
async fn attempt(app: &AppState, row: ChargeRow) -> Result<Outcome, MerchantError> {
    let now = app.clock.now();
    if now - row.created_at > RESEND_WINDOW_SECS {
        app.store
            .finish_charge(&row.id, "unresolved", None, None, now)
            .await?;
        tracing::error!(charge = %row.id, customer_token = %row.customer_token, "a token charge Klarna never answered is past Klarna's idempotency window: left for a person to check");
        return Err(unresolved());
    }
    let token = app
        .store
        .token(&row.customer_token)
        .await?
        .ok_or_else(|| MerchantError::internal("a charge", "its customer token vanished"))?;
    if token.state != "active" {
        if !row.sent {
            // Never handed to Klarna: it never will be.
            let refusal = cancelled();
            let stored = serde_json::to_string(&refusal).unwrap_or_default();
            app.store
                .finish_charge(&row.id, "refused", None, Some(&stored), now)
                .await?;
            return Err(refusal);
        }
        if !cancelled_at_klarna(app, &token).await? {
            // It may or may not have reached Klarna: sent now, it could make a new order.
            app.store.retry_charge_later(&row, now).await?;
            return Ok(pending(&row));
        }
    }
    if !row.sent {
        app.store.charge_sent(&row.id).await?;
    }
    send(app, &token, row).await
}

/// Whether Klarna confirmed the token's cancellation and reads it as cancelled now: a charge
/// sent then makes no new order.
async fn cancelled_at_klarna(app: &AppState, token: &TokenRow) -> Result<bool, MerchantError> {
    if !token.cancel_sent {
        return Ok(false);
    }
    let Some(klarna_token) = klarna_token(app, token) else {
        return Ok(false);
    };
    Ok(app
        .klarna
        .read_customer_token(&klarna_token)
        .await
        .is_ok_and(|t| t.status == "CANCELLED"))
}

/// Klarna's refusal of a charge as the merchant is told: a token Klarna does not know or does
/// not allow (404, 403) names the token, not an order.
fn refusal(e: &KlarnaCallError) -> MerchantError {
    match e {
        KlarnaCallError::Api {
            status: 403 | 404,
            body,
        } => MerchantError::on(
            MerchantCode::NotAllowed,
            "customer_token",
            format!(
                "Klarna refused to charge this customer token: {} ({})",
                body.error_code,
                body.messages().join("; ")
            ),
        ),
        _ => MerchantError::from_klarna("charging a customer token", e),
    }
}

/// Sends a charge this caller holds, and records Klarna's answer.
async fn send(app: &AppState, token: &TokenRow, row: ChargeRow) -> Result<Outcome, MerchantError> {
    let now = app.clock.now();
    let Some(klarna_token) = klarna_token(app, token) else {
        app.store.retry_charge_later(&row, now).await?;
        return Err(MerchantError::internal(
            "a charge",
            "the token cannot be opened",
        ));
    };
    let result = app
        .klarna
        .charge_customer_token(&klarna_token, &row.request, &row.klarna_key)
        .await;
    let order = match result {
        Ok(order) => order,
        Err(e) if refused_for_good(&e) => {
            let refusal = refusal(&e);
            let stored = serde_json::to_string(&refusal).unwrap_or_default();
            app.store
                .finish_charge(&row.id, "refused", None, Some(&stored), app.clock.now())
                .await?;
            return Err(refusal);
        }
        Err(e) => {
            tracing::warn!(charge = %row.id, tries = row.tries + 1, "a token charge got no usable answer: {e}");
            app.store.retry_charge_later(&row, app.clock.now()).await?;
            return Ok(pending(&row));
        }
    };
    let state = match order.fraud_status {
        FraudStatus::Accepted => OrderState::Accepted,
        FraudStatus::Pending => OrderState::Pending,
        FraudStatus::Rejected => OrderState::Rejected,
    };
    super::charge_store::record(app, token, &row, &order.order_id, state)
        .await
        .map_err(|e| {
            // Pending and leased: the worker (or the merchant's retry) asks again with the same
            // key, gets this same order and records it.
            MerchantError::internal(&format!("recording Klarna order {}", order.order_id), e)
        })?;
    tracing::info!(order_id = %order.order_id, customer_token = %token.id, "customer token charged");
    Ok(done(&row, order.order_id, state))
}

/// Charges whose answer was lost or whose holder died: sent again with the same key, once
/// their pause is over, by whoever takes the lease.
pub async fn recover(app: &AppState) {
    let due = match app.store.due_charges(app.clock.now()).await {
        Ok(s) => s,
        Err(e) => return tracing::warn!("reading pending charges: {e}"),
    };
    for row in due {
        match app
            .store
            .claim_charge(&row.id, app.clock.now(), LEASE_SECS)
            .await
        {
            Ok(true) => match attempt(app, row).await {
                Ok(Outcome::Done(_) | Outcome::Pending(_)) => {}
                Err(e) => tracing::info!(code = ?e.code, "charge sent again: {}", e.message),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!("claiming a charge: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn klarna(status: u16, code: &str) -> KlarnaCallError {
        KlarnaCallError::Api {
            status,
            body: klarna::payments::KlarnaErrorBody {
                error_code: code.into(),
                error_messages: Some(vec!["Invalid customer-token ID".into()]),
                error_message: None,
                correlation_id: None,
            },
        }
    }

    #[test]
    fn klarna_not_knowing_the_token_names_the_token_not_an_order() {
        let e = refusal(&klarna(404, "NOT_FOUND"));
        assert_eq!(e.code, MerchantCode::NotAllowed);
        assert_eq!(e.fields, ["customer_token"]);
        assert!(refused_for_good(&klarna(404, "NOT_FOUND")));
    }

    #[test]
    fn only_definitive_refusals_end_a_charge() {
        for status in [400, 403, 404, 422] {
            assert!(refused_for_good(&klarna(status, "X")), "{status}");
        }
        for status in [401, 409, 429, 500, 503] {
            assert!(!refused_for_good(&klarna(status, "X")), "{status}");
        }
    }
}
