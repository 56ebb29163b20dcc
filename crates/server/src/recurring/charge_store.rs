//! The `token_charges` table: one row per token and merchant `Idempotency-Key`, written before
//! Klarna is called; a lease so that one holder at a time sends it, a growing pause between
//! sends that got no usable answer (as the order operations: [`crate::merchant::ledger`]); and
//! the charge's order, recorded as an ordinary order ([`record`]).

use super::store::TokenRow;
use super::store::{decode, encode};
use crate::order_store::Attempt;
use crate::state::AppState;
use crate::store::{Store, StoredSession};
use klarna::api::{OrderState, PlacedOrder};
use klarna::customer_token::TokenOrderRequest;
use klarna::payments::CreateOrderRequest;
use klarna::{Country, PricedCart};
use sqlx::Row;

/// One charge of a token. `state`: `pending`, `done` (with the order), `refused` (`result`
/// holds the refusal as the merchant was told), `unresolved` (Klarna never answered within its
/// 24 hours of idempotency: never sent again, a person checks).
#[derive(Clone, Debug)]
pub struct ChargeRow {
    pub id: String,
    pub customer_token: String,
    pub request: TokenOrderRequest,
    pub request_digest: String,
    pub klarna_key: String,
    pub state: String,
    pub klarna_order_id: Option<String>,
    pub result: Option<String>,
    /// When it was written: Klarna's key is good for 24 hours from its first use.
    pub created_at: i64,
    /// Sends that got no usable answer so far.
    pub tries: i64,
    /// Whether it was ever handed to Klarna (it may then have reached Klarna).
    pub sent: bool,
}

const CHARGE_COLUMNS: &str = "id, customer_token, request, request_digest, klarna_key, state, klarna_order_id, result, created_at, tries, sent";

fn charge_of(row: &sqlx::any::AnyRow) -> Result<ChargeRow, sqlx::Error> {
    let request: String = row.try_get("request")?;
    Ok(ChargeRow {
        id: row.try_get("id")?,
        customer_token: row.try_get("customer_token")?,
        request: serde_json::from_str(&request).map_err(decode)?,
        request_digest: row.try_get("request_digest")?,
        klarna_key: row.try_get("klarna_key")?,
        state: row.try_get("state")?,
        klarna_order_id: row.try_get("klarna_order_id")?,
        result: row.try_get("result")?,
        created_at: row.try_get("created_at")?,
        tries: row.try_get("tries")?,
        sent: row.try_get::<i64, _>("sent")? != 0,
    })
}

impl Store {
    pub async fn charge(&self, token: &str, key: &str) -> Result<Option<ChargeRow>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {CHARGE_COLUMNS} FROM token_charges WHERE customer_token = $1 AND idempotency_key = $2"
        ))
        .bind(token)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(charge_of).transpose()
    }

    /// Writes a pending charge, not sent yet, leased to the caller; `false` if the key was used
    /// already.
    pub async fn insert_charge(
        &self,
        c: &ChargeRow,
        merchant_key: &str,
        now: i64,
        lease_secs: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO token_charges (id, customer_token, idempotency_key, request, request_digest, klarna_key, state, lease_until, created_at, updated_at, tries, sent)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8, 0, 0) ON CONFLICT DO NOTHING",
        )
        .bind(&c.id)
        .bind(&c.customer_token)
        .bind(merchant_key)
        .bind(encode(&c.request)?)
        .bind(&c.request_digest)
        .bind(&c.klarna_key)
        .bind(now + lease_secs)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes the lease of a pending charge: `false` if someone else holds it, or if it waits
    /// for its next try.
    pub async fn claim_charge(
        &self,
        id: &str,
        now: i64,
        lease_secs: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE token_charges SET lease_until = $1 WHERE id = $2 AND state = 'pending' AND lease_until <= $3",
        )
        .bind(now + lease_secs)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Written down just before the charge is handed to Klarna for the first time.
    pub async fn charge_sent(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE token_charges SET sent = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends a pending charge: `done` with its order, `refused` with the refusal (JSON), or
    /// `unresolved`.
    pub async fn finish_charge(
        &self,
        id: &str,
        state: &str,
        order_id: Option<&str>,
        result: Option<&str>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE token_charges SET state = $1, klarna_order_id = $2, result = $3, updated_at = $4, lease_until = 0
             WHERE id = $5 AND state = 'pending'",
        )
        .bind(state)
        .bind(order_id)
        .bind(result)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// No usable answer (or nothing sent yet, waiting for Klarna's word on a cancel): the
    /// charge waits for its next try, a while longer each time (5 s doubling to 10 minutes).
    pub async fn retry_charge_later(&self, c: &ChargeRow, now: i64) -> Result<(), sqlx::Error> {
        self.retry_later("token_charges", &c.id, c.tries, now).await
    }

    /// Pending charges due for another try (their holder died, or their pause is over), the
    /// longest waiting first.
    pub async fn due_charges(&self, now: i64) -> Result<Vec<ChargeRow>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {CHARGE_COLUMNS} FROM token_charges WHERE state = 'pending' AND lease_until <= $1 ORDER BY lease_until LIMIT 20"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(charge_of).collect()
    }
}

/// The charge's order in `orders`, under its own checkout session; then the charge is done.
/// Every step is idempotent, so a repeat after a crash in between finishes the job.
pub(super) async fn record(
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
        widget: None,
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
            merchant_reference2: r.merchant_reference2.clone(),
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
