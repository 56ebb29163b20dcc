//! Recurring purchases with Klarna's customer tokens. A cart registered with
//! `intent: buy_and_tokenize` starts Klarna sessions with that intent; once its order exists,
//! the server asks Klarna for a customer token for the same authorization ([`ensure_token`]):
//! the token's row is written first (leased, with its idempotency key), so a lost answer, a
//! crash or Klarna's trouble is retried by the worker ([`recover`]) within Klarna's hour, and
//! nothing is lost. Klarna's token id is stored sealed ([`crate::consent_crypto`]); the
//! merchant sees only our reference `ctk_…`. Charging a token ([`charge`]) and cancelling it
//! are the merchant API's ([`api`]).
//!
//! Only an accepted order's token can be charged. Klarna issues a token only within the
//! authorization's hour, while a fraud review lasts hours: for an order in review the token is
//! asked for at once but held `pending` (not chargeable); it becomes `active` when the review
//! ends accepted ([`review_ended`], from the order's re-read) and is cancelled, here and at
//! Klarna, when it ends rejected. A rejected order gets no token at all.
//!
//! A token cancelled before Klarna issued it is still asked for (the same key: Klarna answers
//! with the token it may have made), then cancelled at Klarna.

pub mod api;
pub mod charge;
pub mod charge_store;
pub mod store;

use crate::carts::Intent;
use crate::klarna_client::idempotency_key;
use crate::state::AppState;
use klarna::customer_token::{CustomerTokenRequest, TokenCustomer};
use store::TokenRow;

/// How long a holder may take before another may ask Klarna again (longer than the client's
/// 20 s timeout).
pub const LEASE_SECS: i64 = 30;
/// What the token is for, as Klarna shows it to the customer.
pub const TOKEN_DESCRIPTION: &str = "Subscription";

/// Retries back off from 5 s to 5 minutes (Klarna's authorization lasts an hour).
fn retry_delay_secs(tries: i64) -> i64 {
    (5_i64 << (tries - 1).clamp(0, 6)).min(300)
}

/// Makes sure the session's order has its customer token when its cart asked for one: writes
/// the token's row and asks Klarna, or takes over a row whose holder is gone. Never fails the
/// caller; what is not done now the worker does.
pub async fn ensure_token(app: &AppState, session_id: &str) {
    if let Err(e) = try_ensure_token(app, session_id).await {
        tracing::warn!(session = %session_id, "customer token: {e}");
    }
}

async fn try_ensure_token(app: &AppState, session_id: &str) -> Result<(), sqlx::Error> {
    let now = app.clock.now();
    let Some(order) = app.store.order_of_session(session_id).await? else {
        return Ok(());
    };
    let Some(session) = app.store.session(session_id).await? else {
        return Ok(());
    };
    let Some(cart) = app.store.cart(&session.cart_ref).await? else {
        return Ok(());
    };
    if cart.intent != Intent::BuyAndTokenize {
        return Ok(());
    }
    let billing = app
        .store
        .order_request(&order.order.order_id)
        .await?
        .and_then(|r| r.billing_address);
    let row = TokenRow {
        id: format!("ctk_{}", crate::merchant::keys::random_alphanumeric(20)),
        session_id: session.id.clone(),
        klarna_order_id: order.order.order_id.clone(),
        authorization_token: order.authorization_token.clone(),
        idempotency_key: idempotency_key(&format!(
            "customer-token:{}:{}",
            session.id, order.authorization_token
        )),
        request: CustomerTokenRequest {
            description: TOKEN_DESCRIPTION.into(),
            intended_use: "SUBSCRIPTION".into(),
            locale: session.locale.clone(),
            purchase_country: session.cart.country.code().into(),
            purchase_currency: session.cart.currency.code().into(),
            billing_address: billing,
            customer: Some(TokenCustomer {
                kind: cart.customer_type.name().into(),
            }),
        },
        purchase_country: session.cart.country.code().into(),
        purchase_currency: session.cart.currency.code().into(),
        locale: session.locale.clone(),
        state: "pending".into(),
        token_sealed: None,
        error: None,
        cancel_sent: false,
        tries: 1,
        created_at: now,
    };
    // A rejected order gets no token; a row it has already is finished (and cancelled).
    let rejected = order.order.state == klarna::api::OrderState::Rejected;
    let held = if !rejected && app.store.insert_token(&row, now, LEASE_SECS).await? {
        Some(row)
    } else {
        app.store.take_token(session_id, now, LEASE_SECS).await?
    };
    if let Some(row) = held {
        ask_klarna(app, row).await?;
    }
    Ok(())
}

/// Asks Klarna for the token of a row this caller holds, and writes down how it ended.
async fn ask_klarna(app: &AppState, row: TokenRow) -> Result<(), sqlx::Error> {
    let now = app.clock.now();
    match app
        .klarna
        .create_customer_token(&row.authorization_token, &row.request, &row.idempotency_key)
        .await
    {
        Ok(created) => {
            let sealed = app.consent.seal(&created.token_id);
            app.store.activate_token(&row.id, &sealed, now).await?;
            tracing::info!(customer_token = %row.id, session = %row.session_id, "customer token created");
            // Cancelled meanwhile (by the merchant, or a rejected review): cancelled at Klarna
            // now, or by the worker later.
            if let Some(now_row) = app.store.token(&row.id).await? {
                if now_row.state == "cancelled" && !now_row.cancel_sent {
                    send_cancel(app, &now_row).await?;
                }
            }
        }
        Err(e)
            if e.is_transient()
                || matches!(e, crate::klarna_client::KlarnaCallError::Decode(_)) =>
        {
            tracing::warn!(customer_token = %row.id, tries = row.tries, "creating a customer token: {e}; will ask again");
            app.store
                .release_token(&row.id, now + retry_delay_secs(row.tries))
                .await?;
        }
        Err(e) => {
            tracing::warn!(customer_token = %row.id, "Klarna refused a customer token: {e}");
            app.store.fail_token(&row.id, &e.to_string(), now).await?;
        }
    }
    Ok(())
}

/// Klarna's token id of an issued token.
pub(crate) fn klarna_token(app: &AppState, row: &TokenRow) -> Option<String> {
    let sealed = row.token_sealed.as_deref()?;
    match app.consent.open(sealed) {
        Ok(token) => Some(token),
        Err(e) => {
            tracing::error!(customer_token = %row.id, "a sealed customer token cannot be opened: {e}");
            None
        }
    }
}

/// Tells Klarna a token is cancelled (ours is already); `true` once Klarna agreed.
pub(crate) async fn send_cancel(app: &AppState, row: &TokenRow) -> Result<bool, sqlx::Error> {
    let Some(token) = klarna_token(app, row) else {
        return Ok(false);
    };
    let key = idempotency_key(&format!("customer-token-cancel:{}", row.id));
    match app.klarna.cancel_customer_token(&token, &key).await {
        // Klarna no longer knows the token: nothing left to cancel.
        Ok(()) | Err(crate::klarna_client::KlarnaCallError::Api { status: 404, .. }) => {
            app.store.cancel_sent(&row.id).await?;
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(customer_token = %row.id, "cancelling a customer token at Klarna: {e}; will try again");
            Ok(false)
        }
    }
}

/// An order's fraud review ended (`state` as Klarna's Order Management says): its token, held
/// `pending` until then, becomes chargeable, or is cancelled here and at Klarna (the worker
/// retries what Klarna does not confirm). Never fails the caller.
pub async fn review_ended(app: &AppState, order_id: &str, state: klarna::api::OrderState) {
    let accepted = match state {
        klarna::api::OrderState::Accepted => true,
        klarna::api::OrderState::Rejected => false,
        klarna::api::OrderState::Pending => return,
    };
    let changed = match app
        .store
        .token_review_ended(order_id, accepted, app.clock.now())
        .await
    {
        Ok(ids) => ids,
        Err(e) => return tracing::warn!(order_id, "customer token after a review: {e}"),
    };
    for id in changed {
        tracing::info!(customer_token = %id, order_id, accepted, "customer token: the order's review ended");
        if accepted {
            continue;
        }
        match app.store.token(&id).await {
            Ok(Some(row)) => {
                if let Err(e) = send_cancel(app, &row).await {
                    tracing::warn!("customer token cancel: {e}");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("customer token cancel: {e}"),
        }
    }
}

/// The worker's part: tokens not yet asked for (a crash between the order and the token),
/// tokens whose answer was lost (also cancelled ones, to cancel them at Klarna), charges whose
/// answer was lost, cancellations Klarna has not confirmed.
pub async fn recover(app: &AppState) {
    let now = app.clock.now();
    let (sessions, cancels) = match app.store.token_work(now).await {
        Ok(work) => work,
        Err(e) => return tracing::warn!("reading customer-token work: {e}"),
    };
    for session in sessions {
        ensure_token(app, &session).await;
    }
    for id in cancels {
        match app.store.token(&id).await {
            Ok(Some(row)) => {
                if let Err(e) = send_cancel(app, &row).await {
                    tracing::warn!("customer token cancel: {e}");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("customer token cancel: {e}"),
        }
    }
    charge::recover(app).await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn retries_back_off_to_five_minutes() {
        assert_eq!(super::retry_delay_secs(1), 5);
        assert_eq!(super::retry_delay_secs(30), 300);
    }
}
