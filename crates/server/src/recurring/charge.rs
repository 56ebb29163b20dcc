//! Charging a customer token: a new Klarna order on the token, at most once per merchant
//! `Idempotency-Key`. The charge is written before Klarna is called, with its own
//! `Klarna-Idempotency-Key`; a retry after a lost answer (the merchant's, or the worker's)
//! sends the same request with the same key and gets Klarna's first order. The order is
//! recorded in `orders` under a checkout session of its own (`charge-…`), so the merchant
//! order API captures, refunds and cancels it like any other.

use super::store::{ChargeRow, TokenRow};
use super::{klarna_token, LEASE_SECS};
use crate::klarna_client::{idempotency_key, KlarnaCallError};
use crate::merchant::errors::{MerchantCode, MerchantError};
use crate::order_store::Attempt;
use crate::state::AppState;
use crate::store::StoredSession;
use klarna::api::{OrderState, PlacedOrder};
use klarna::customer_token::TokenOrderRequest;
use klarna::payments::{CreateOrderRequest, FraudStatus};
use klarna::{Country, PricedCart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The answer to a charge: the order Klarna created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charged {
    pub customer_token: String,
    pub order_id: String,
    pub state: OrderState,
    pub order_amount: i64,
    pub purchase_currency: String,
}

fn digest(request: &TokenOrderRequest) -> String {
    let text = serde_json::to_string(request).unwrap_or_default();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn charged(
    token: &TokenRow,
    order_id: String,
    state: OrderState,
    request: &TokenOrderRequest,
) -> Charged {
    Charged {
        customer_token: token.id.clone(),
        order_id,
        state,
        order_amount: request.order_amount,
        purchase_currency: request.purchase_currency.clone(),
    }
}

/// Charges `token` with `request` under the merchant's `key`.
pub async fn charge(
    app: &AppState,
    token: &TokenRow,
    key: &str,
    request: TokenOrderRequest,
) -> Result<Charged, MerchantError> {
    let now = app.clock.now();
    let planned = ChargeRow {
        id: uuid::Uuid::new_v4().to_string(),
        customer_token: token.id.clone(),
        request_digest: digest(&request),
        request,
        klarna_key: String::new(),
        state: "pending".into(),
        klarna_order_id: None,
        result: None,
    };
    let mut row = match app.store.charge(&token.id, key).await? {
        Some(row) => row,
        None => {
            // A new charge needs a live token; a repeated one answers as before, whatever the
            // token became since.
            match token.state.as_str() {
                "active" => {}
                "cancelled" => {
                    return Err(MerchantError::on(
                        MerchantCode::NotAllowed,
                        "customer_token",
                        "This customer token was cancelled; it cannot be charged any more.",
                    ))
                }
                "pending" => {
                    return Err(MerchantError::new(
                        MerchantCode::KlarnaUnavailable,
                        "Klarna has not issued this customer token yet; try again in a moment.",
                    ))
                }
                _ => {
                    return Err(MerchantError::on(
                        MerchantCode::NotAllowed,
                        "customer_token",
                        "Klarna refused to issue this customer token; it cannot be charged.",
                    ))
                }
            }
            let mut fresh = planned.clone();
            fresh.klarna_key = idempotency_key(&format!("token-charge:{}", fresh.id));
            if app
                .store
                .insert_charge(&fresh, key, now, LEASE_SECS)
                .await?
            {
                return send(app, token, fresh).await;
            }
            // Another request with this key won the insert a moment ago.
            app.store
                .charge(&token.id, key)
                .await?
                .ok_or_else(|| MerchantError::internal("a charge", "vanished after its insert"))?
        }
    };
    if row.request_digest != planned.request_digest {
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
            Ok(charged(token, order_id, state, &row.request))
        }
        "refused" => Err(serde_json::from_str(row.result.as_deref().unwrap_or_default())
            .unwrap_or_else(|_| MerchantError::new(MerchantCode::NotAllowed, "Klarna refused this charge."))),
        _ if app.store.claim_charge(&row.id, now, LEASE_SECS).await? => {
            row.customer_token = token.id.clone();
            send(app, token, row).await
        }
        _ => Err(MerchantError::new(
            MerchantCode::KlarnaUnavailable,
            "This charge is being sent to Klarna right now; send the same request again in a moment.",
        )),
    }
}

/// Sends a written charge this caller holds, and records Klarna's answer.
async fn send(app: &AppState, token: &TokenRow, row: ChargeRow) -> Result<Charged, MerchantError> {
    let now = app.clock.now();
    let Some(klarna_token) = klarna_token(app, token) else {
        app.store.release_charge(&row.id).await?;
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
        Err(e) if e.is_transient() || matches!(e, KlarnaCallError::Decode(_)) => {
            app.store.release_charge(&row.id).await?;
            return Err(MerchantError::from_klarna(
                "charging a customer token",
                &KlarnaCallError::Unreachable(e.to_string()),
            ));
        }
        Err(e) => {
            let refusal = MerchantError::from_klarna("charging a customer token", &e);
            let stored = serde_json::to_string(&refusal).unwrap_or_default();
            app.store
                .finish_charge(&row.id, "refused", None, Some(&stored), now)
                .await?;
            return Err(refusal);
        }
    };
    let state = match order.fraud_status {
        FraudStatus::Accepted => OrderState::Accepted,
        FraudStatus::Pending => OrderState::Pending,
        FraudStatus::Rejected => OrderState::Rejected,
    };
    record(app, token, &row, &order.order_id, state)
        .await
        .map_err(|e| {
            // Pending and leased: the worker (or the merchant's retry) asks again with the same
            // key, gets this same order and records it.
            MerchantError::internal(&format!("recording Klarna order {}", order.order_id), e)
        })?;
    tracing::info!(order_id = %order.order_id, customer_token = %token.id, "customer token charged");
    Ok(charged(token, order.order_id, state, &row.request))
}

/// The charge's order in `orders`, under its own checkout session; then the charge is done.
/// Every step is idempotent, so a repeat after a crash in between finishes the job.
async fn record(
    app: &AppState,
    token: &TokenRow,
    row: &ChargeRow,
    order_id: &str,
    state: OrderState,
) -> Result<(), sqlx::Error> {
    let now = app.clock.now();
    let r = &row.request;
    let country = Country::from_code(&token.purchase_country).ok_or_else(|| {
        sqlx::Error::Protocol(format!("unknown country {}", token.purchase_country))
    })?;
    let session = StoredSession {
        id: format!("charge-{}", row.id),
        // Never a Klarna session id (those are plain UUIDs): no callback ever matches it.
        klarna_session_id: format!("token-charge:{}", row.id),
        client_token: String::new(),
        cart_ref: String::new(),
        locale: token.locale.clone(),
        language: token.locale.get(..2).unwrap_or("en").to_string(),
        cart: PricedCart {
            currency: country.currency(),
            country,
            order_lines: r.order_lines.clone(),
            order_amount: r.order_amount,
            order_tax_amount: r.order_tax_amount,
        },
        created_at: now,
    };
    app.store.insert_charge_session(&session).await?;
    let attempt = Attempt {
        session_id: session.id.clone(),
        authorization_token: session.klarna_session_id.clone(),
        idempotency_key: row.klarna_key.clone(),
        request: CreateOrderRequest {
            purchase_country: token.purchase_country.clone(),
            purchase_currency: r.purchase_currency.clone(),
            locale: token.locale.clone(),
            order_amount: r.order_amount,
            order_tax_amount: r.order_tax_amount,
            order_lines: r.order_lines.clone(),
            billing_address: None,
            shipping_address: None,
            merchant_reference1: r.merchant_reference1.clone(),
            merchant_urls: None,
            auto_capture: r.auto_capture,
            customer: None,
        },
        tries: 1,
    };
    let placed = PlacedOrder {
        order_id: order_id.to_string(),
        state,
        order_amount: r.order_amount,
        redirect_url: None,
    };
    app.store.record_order(&attempt, &placed, now).await?;
    app.store
        .finish_charge(&row.id, "done", Some(order_id), None, now)
        .await
}

/// Charges whose answer was lost: sent again with the same key by whoever takes the lease.
pub async fn recover(app: &AppState) {
    let now = app.clock.now();
    let stale = match app.store.stale_charges(now).await {
        Ok(s) => s,
        Err(e) => return tracing::warn!("reading pending charges: {e}"),
    };
    for row in stale {
        let token = match app.store.token(&row.customer_token).await {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!("reading a customer token: {e}");
                continue;
            }
        };
        match app.store.claim_charge(&row.id, now, LEASE_SECS).await {
            Ok(true) => {
                if let Err(e) = send(app, &token, row).await {
                    tracing::info!(code = ?e.code, "charge sent again: {}", e.message);
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!("claiming a charge: {e}"),
        }
    }
}
