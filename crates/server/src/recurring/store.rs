//! The `customer_tokens` table: leases and states, so that a token's creation is asked of
//! Klarna by one holder at a time and retried with the same key after a lost answer, a crash or
//! on another instance. (Charges: [`super::charge_store`].)

use crate::store::Store;
use klarna::customer_token::CustomerTokenRequest;
use sqlx::Row;

pub(super) fn decode(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

pub(super) fn encode<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// A customer token row. `state`: `pending` (Klarna not asked or no answer yet; or issued, kept
/// in `token_sealed`, while its order is in Klarna's fraud review), `active`, `failed` (Klarna
/// refused for good), `cancelled` (by the merchant, or its order's review ended rejected).
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

    /// Takes the lease of the session's token still to be asked of Klarna (pending, or
    /// cancelled before Klarna issued it: asked again with the same key, then cancelled at
    /// Klarna) whose lease ran out and whose retry is due.
    pub async fn take_token(
        &self,
        session_id: &str,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<TokenRow>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "UPDATE customer_tokens SET lease_until = $1, tries = tries + 1
             WHERE session_id = $2 AND token_sealed IS NULL AND lease_until < $3 AND retry_at <= $4
               AND (state = 'pending' OR (state = 'cancelled' AND cancel_sent = 0))
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

    /// Klarna issued the token: kept sealed. It is `active` only if its order is accepted; it
    /// stays `pending` while the order is in fraud review, and is `cancelled` if the review
    /// ended rejected. A token cancelled meanwhile stays cancelled (then cancelled at Klarna).
    pub async fn activate_token(
        &self,
        id: &str,
        sealed: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customer_tokens SET token_sealed = $1, lease_until = 0, updated_at = $2,
                 state = CASE WHEN state <> 'pending' THEN state
                     ELSE COALESCE((SELECT CASE o.state WHEN 'accepted' THEN 'active'
                                        WHEN 'rejected' THEN 'cancelled' END
                                    FROM orders o WHERE o.klarna_order_id = customer_tokens.klarna_order_id),
                                   'pending') END
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

    /// Klarna refused the token for good: nothing of it at Klarna to cancel either.
    pub async fn fail_token(&self, id: &str, error: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customer_tokens SET state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END,
                 cancel_sent = CASE WHEN state = 'cancelled' THEN 1 ELSE cancel_sent END,
                 error = $1, lease_until = 0, updated_at = $2
             WHERE id = $3 AND token_sealed IS NULL AND state IN ('pending', 'cancelled')",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Cancelled on our side at once (no charge from now on); `cancel_sent` once Klarna agreed
    /// (at once for a token Klarna refused to issue: nothing to cancel there).
    pub async fn cancel_token(&self, id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE customer_tokens SET state = 'cancelled', updated_at = $1,
                 cancel_sent = CASE WHEN state = 'failed' THEN 1 ELSE cancel_sent END
             WHERE id = $2",
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

    /// A token's order ended its fraud review: accepted, an issued token held `pending` becomes
    /// `active`; rejected, the token is cancelled (the caller cancels it at Klarna). The ids of
    /// the tokens changed.
    pub async fn token_review_ended(
        &self,
        order_id: &str,
        accepted: bool,
        now: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let query = if accepted {
            "UPDATE customer_tokens SET state = 'active', updated_at = $1
             WHERE klarna_order_id = $2 AND state = 'pending' AND token_sealed IS NOT NULL RETURNING id"
        } else {
            "UPDATE customer_tokens SET state = 'cancelled', updated_at = $1
             WHERE klarna_order_id = $2 AND state IN ('pending', 'active') RETURNING id"
        };
        sqlx::query_scalar(query)
            .bind(now)
            .bind(order_id)
            .fetch_all(&self.pool)
            .await
    }

    /// The worker's list: sessions whose order wants a token and has no row yet (within
    /// Klarna's hour of the authorization; never for a rejected order), tokens still to be
    /// asked of Klarna and due again, cancellations Klarna has not confirmed.
    pub async fn token_work(&self, now: i64) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
        let sessions: Vec<String> = sqlx::query_scalar(
            "SELECT o.session_id FROM orders o
               JOIN checkout_sessions s ON s.id = o.session_id
               JOIN carts c ON c.id = s.cart_ref
             WHERE c.intent = 'buy_and_tokenize' AND o.created_at >= $1 AND o.state <> 'rejected'
               AND o.authorization_token NOT LIKE 'token-charge:%'
               AND NOT EXISTS (SELECT 1 FROM customer_tokens t WHERE t.session_id = o.session_id)
             LIMIT 20",
        )
        .bind(now - 3600)
        .fetch_all(&self.pool)
        .await?;
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT session_id FROM customer_tokens
             WHERE token_sealed IS NULL AND (state = 'pending' OR (state = 'cancelled' AND cancel_sent = 0))
               AND lease_until < $1 AND retry_at <= $2 LIMIT 20",
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
