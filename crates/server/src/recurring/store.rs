//! The `customer_tokens` and `token_charges` tables: leases and states, so that a token's
//! creation and every charge is asked of Klarna by one holder at a time and retried with the
//! same key after a lost answer, a crash or on another instance.

use crate::store::Store;
use klarna::customer_token::{CustomerTokenRequest, TokenOrderRequest};
use sqlx::Row;

fn decode(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// A customer token row. `state`: `pending` (Klarna not asked or no answer yet), `active`,
/// `failed` (Klarna refused for good), `cancelled`.
#[derive(Clone, Debug)]
pub struct TokenRow {
    pub id: String,
    pub session_id: String,
    pub klarna_order_id: String,
    pub authorization_token: String,
    pub idempotency_key: String,
    pub request: CustomerTokenRequest,
    pub purchase_country: String,
    pub purchase_currency: String,
    pub locale: String,
    pub state: String,
    pub token_sealed: Option<String>,
    pub error: Option<String>,
    pub cancel_sent: bool,
    pub tries: i64,
    pub created_at: i64,
}

const TOKEN_COLUMNS: &str = "id, session_id, klarna_order_id, authorization_token, idempotency_key, request, purchase_country, purchase_currency, locale, state, token_sealed, error, cancel_sent, tries, created_at";

fn token_of(row: &sqlx::any::AnyRow) -> Result<TokenRow, sqlx::Error> {
    let request: String = row.try_get("request")?;
    Ok(TokenRow {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        klarna_order_id: row.try_get("klarna_order_id")?,
        authorization_token: row.try_get("authorization_token")?,
        idempotency_key: row.try_get("idempotency_key")?,
        request: serde_json::from_str(&request).map_err(decode)?,
        purchase_country: row.try_get("purchase_country")?,
        purchase_currency: row.try_get("purchase_currency")?,
        locale: row.try_get("locale")?,
        state: row.try_get("state")?,
        token_sealed: row.try_get("token_sealed")?,
        error: row.try_get("error")?,
        cancel_sent: row.try_get::<i64, _>("cancel_sent")? != 0,
        tries: row.try_get("tries")?,
        created_at: row.try_get("created_at")?,
    })
}

/// One charge of a token. `state`: `pending`, `done` (with the order), `refused` (`result`
/// holds the refusal as the merchant was told).
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
}

const CHARGE_COLUMNS: &str =
    "id, customer_token, request, request_digest, klarna_key, state, klarna_order_id, result";

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
    })
}

impl Store {
    /// Writes a pending token before Klarna is asked, leased to the caller; `false` when the
    /// session has its token row already.
    pub async fn insert_token(
        &self,
        t: &TokenRow,
        now: i64,
        lease_secs: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO customer_tokens (id, session_id, klarna_order_id, authorization_token, idempotency_key, request,
                 purchase_country, purchase_currency, locale, state, lease_until, retry_at, tries, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, 0, 1, $11, $11)
             ON CONFLICT DO NOTHING",
        )
        .bind(&t.id)
        .bind(&t.session_id)
        .bind(&t.klarna_order_id)
        .bind(&t.authorization_token)
        .bind(&t.idempotency_key)
        .bind(encode(&t.request)?)
        .bind(&t.purchase_country)
        .bind(&t.purchase_currency)
        .bind(&t.locale)
        .bind(now + lease_secs)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes the lease of the session's pending token whose lease ran out and whose retry is due.
    pub async fn take_token(
        &self,
        session_id: &str,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<TokenRow>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "UPDATE customer_tokens SET lease_until = $1, tries = tries + 1
             WHERE session_id = $2 AND state = 'pending' AND lease_until < $3 AND retry_at <= $4
             RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(now + lease_secs)
        .bind(session_id)
        .bind(now)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_of).transpose()
    }

    pub async fn token(&self, id: &str) -> Result<Option<TokenRow>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM customer_tokens WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_of).transpose()
    }

    pub async fn token_of_order(&self, order_id: &str) -> Result<Option<TokenRow>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM customer_tokens WHERE klarna_order_id = $1"
        ))
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_of).transpose()
    }

    /// Klarna issued the token: kept sealed. A token cancelled meanwhile stays cancelled (the
    /// worker then cancels it at Klarna too).
    pub async fn activate_token(
        &self,
        id: &str,
        sealed: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customer_tokens SET token_sealed = $1, lease_until = 0, updated_at = $2,
                 state = CASE WHEN state = 'pending' THEN 'active' ELSE state END
             WHERE id = $3 AND token_sealed IS NULL",
        )
        .bind(sealed)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Klarna did not answer: the worker asks again from `retry_at`, with the same key.
    pub async fn release_token(&self, id: &str, retry_at: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE customer_tokens SET lease_until = 0, retry_at = $1 WHERE id = $2")
            .bind(retry_at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Klarna refused the token for good.
    pub async fn fail_token(&self, id: &str, error: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customer_tokens SET state = 'failed', error = $1, lease_until = 0, updated_at = $2
             WHERE id = $3 AND state = 'pending'",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Cancelled on our side at once (no charge from now on); `cancel_sent` once Klarna agreed.
    pub async fn cancel_token(&self, id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customer_tokens SET state = 'cancelled', updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn cancel_sent(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE customer_tokens SET cancel_sent = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The worker's list: sessions whose order wants a token and has no row yet (within
    /// Klarna's hour of the authorization), pending tokens due again, cancellations Klarna has
    /// not confirmed.
    pub async fn token_work(&self, now: i64) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
        let sessions: Vec<String> = sqlx::query_scalar(
            "SELECT o.session_id FROM orders o
               JOIN checkout_sessions s ON s.id = o.session_id
               JOIN carts c ON c.id = s.cart_ref
             WHERE c.intent = 'buy_and_tokenize' AND o.created_at >= $1
               AND o.authorization_token NOT LIKE 'token-charge:%'
               AND NOT EXISTS (SELECT 1 FROM customer_tokens t WHERE t.session_id = o.session_id)
             LIMIT 20",
        )
        .bind(now - 3600)
        .fetch_all(&self.pool)
        .await?;
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT session_id FROM customer_tokens WHERE state = 'pending' AND lease_until < $1 AND retry_at <= $2 LIMIT 20",
        )
        .bind(now)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let cancels: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM customer_tokens WHERE state = 'cancelled' AND cancel_sent = 0 AND token_sealed IS NOT NULL LIMIT 20",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok((sessions.into_iter().chain(due).collect(), cancels))
    }

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

    /// Writes a pending charge, leased to the caller; `false` if the key was used already.
    pub async fn insert_charge(
        &self,
        c: &ChargeRow,
        merchant_key: &str,
        now: i64,
        lease_secs: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO token_charges (id, customer_token, idempotency_key, request, request_digest, klarna_key, state, lease_until, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8) ON CONFLICT DO NOTHING",
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

    /// Takes the lease of a pending charge: `false` if someone else holds it.
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

    /// Ends a pending charge: `done` with its order, or `refused` with the refusal (JSON).
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

    pub async fn release_charge(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE token_charges SET lease_until = 0 WHERE id = $1 AND state = 'pending'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Pending charges whose holder died or got no answer.
    pub async fn stale_charges(&self, now: i64) -> Result<Vec<ChargeRow>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {CHARGE_COLUMNS} FROM token_charges WHERE state = 'pending' AND lease_until <= $1 LIMIT 20"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(charge_of).collect()
    }

    /// The checkout session a charge's order is recorded under (the `orders` table's one
    /// order per session): no Klarna session, no client token, the charge's priced lines.
    pub async fn insert_charge_session(
        &self,
        session: &crate::store::StoredSession,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO checkout_sessions (id, klarna_session_id, client_token, cart_ref, locale, language, priced_cart, created_at)
             VALUES ($1, $2, '', $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&session.id)
        .bind(&session.klarna_session_id)
        .bind(&session.cart_ref)
        .bind(&session.locale)
        .bind(&session.language)
        .bind(encode(&session.cart)?)
        .bind(session.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// What an order recorded of Klarna's request (to take the billing address into a token).
    pub async fn order_request(
        &self,
        order_id: &str,
    ) -> Result<Option<klarna::payments::CreateOrderRequest>, sqlx::Error> {
        let raw: Option<String> =
            sqlx::query_scalar("SELECT request FROM orders WHERE klarna_order_id = $1")
                .bind(order_id)
                .fetch_optional(&self.pool)
                .await?;
        raw.map(|r| serde_json::from_str(&r).map_err(decode))
            .transpose()
    }
}
