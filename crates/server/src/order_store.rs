//! Orders, order attempts, refused authorizations and Klarna's authorization callbacks, in the
//! database, so that nothing about money lives in one process: one order per checkout session
//! is a `UNIQUE` constraint, an attempt is written before Klarna is called and is taken over
//! by whoever finds its lease expired (a retry, another instance, the recovery worker after a
//! restart), and a callback is stored before Klarna is told 200.

use crate::store::Store;
use klarna::api::{ApiError, OrderState, PlacedOrder};
use klarna::payments::CreateOrderRequest;
use sqlx::Row;

/// Klarna's payment sessions live 48 hours; our records of sessions that never became an
/// order, and of refused authorizations, are kept as long and then purged.
pub const KEEP_UNORDERED_SECS: i64 = 48 * 3600;

/// An order attempt this process holds the lease of: call Klarna with exactly this.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub session_id: String,
    pub authorization_token: String,
    pub idempotency_key: String,
    pub request: CreateOrderRequest,
    /// Calls to Klarna made for it so far, this one included (for the retry back-off).
    pub tries: i64,
}

/// Whether this caller may call Klarna for a session's order now.
#[derive(Debug)]
pub enum Claim {
    Ours(Box<Attempt>),
    /// Someone else holds the session's attempt (this token's or another approval's).
    Busy,
}

/// A stored order and the checkout session it belongs to.
#[derive(Clone, Debug)]
pub struct OrderRecord {
    pub session_id: String,
    pub authorization_token: String,
    pub order: PlacedOrder,
}

/// A value bound into a filter of [`Store::take_attempt`].
enum Arg<'a> {
    Text(&'a str),
    Int(i64),
}

fn decode(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

fn order_of(row: &sqlx::any::AnyRow) -> Result<OrderRecord, sqlx::Error> {
    let state: String = row.try_get("state")?;
    Ok(OrderRecord {
        session_id: row.try_get("session_id")?,
        authorization_token: row.try_get("authorization_token")?,
        order: PlacedOrder {
            order_id: row.try_get("klarna_order_id")?,
            state: parse_state(&state),
            order_amount: row.try_get("order_amount")?,
            redirect_url: None,
        },
    })
}

const ORDER_COLUMNS: &str = "session_id, authorization_token, klarna_order_id, state, order_amount";

impl Store {
    pub async fn order_for_token(&self, token: &str) -> Result<Option<OrderRecord>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE authorization_token = $1"
        ))
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(order_of).transpose()
    }

    pub async fn order_of_session(
        &self,
        session_id: &str,
    ) -> Result<Option<OrderRecord>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(order_of).transpose()
    }

    pub async fn order_by_klarna_id(
        &self,
        order_id: &str,
    ) -> Result<Option<OrderRecord>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE klarna_order_id = $1"
        ))
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(order_of).transpose()
    }

    /// Writes the attempt for `token` before Klarna is called, or takes over this token's
    /// attempt whose lease ran out (its holder died or gave up). A session has one attempt at
    /// a time, so two approvals of one cart never both reach Klarna.
    pub async fn claim_attempt(
        &self,
        attempt: &Attempt,
        now: i64,
        lease_secs: i64,
    ) -> Result<Claim, sqlx::Error> {
        let request = serde_json::to_string(&attempt.request).map_err(decode)?;
        // Not for a session that has its order already (it may have been recorded a moment
        // after the caller looked).
        let inserted = sqlx::query(
            "INSERT INTO order_attempts (session_id, authorization_token, idempotency_key, request, lease_until, retry_at, tries, created_at)
             SELECT $1, $2, $3, $4, $5, 0, 1, $6 WHERE NOT EXISTS (SELECT 1 FROM orders WHERE session_id = $7)
             ON CONFLICT DO NOTHING",
        )
        .bind(&attempt.session_id)
        .bind(&attempt.authorization_token)
        .bind(&attempt.idempotency_key)
        .bind(&request)
        .bind(now + lease_secs)
        .bind(now)
        .bind(&attempt.session_id)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::Ours(Box::new(attempt.clone())));
        }
        let taken = self
            .take_attempt(
                "session_id = $2 AND authorization_token = $3",
                &[
                    Arg::Text(&attempt.session_id),
                    Arg::Text(&attempt.authorization_token),
                ],
                now,
                lease_secs,
            )
            .await?;
        Ok(taken.map_or(Claim::Busy, |a| Claim::Ours(Box::new(a))))
    }

    /// The recovery worker's claim: one attempt whose lease expired and whose retry is due.
    pub async fn claim_stale_attempt(
        &self,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<Attempt>, sqlx::Error> {
        self.take_attempt(
            "session_id = (SELECT session_id FROM order_attempts WHERE done = 0 AND lease_until < $2 AND retry_at <= $2 LIMIT 1) AND retry_at <= $2",
            &[Arg::Int(now)],
            now,
            lease_secs,
        )
        .await
    }

    /// Sets a fresh lease on the attempt `filter` names, if its lease has expired; the attempt's
    /// recorded request and key are what the new holder sends.
    async fn take_attempt(
        &self,
        filter: &str,
        args: &[Arg<'_>],
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<Attempt>, sqlx::Error> {
        // `$1` is the new lease, `$2`… the filter's values, the last one now.
        let sql = format!(
            "UPDATE order_attempts SET lease_until = $1, tries = tries + 1
             WHERE {filter} AND done = 0 AND lease_until < ${}
             RETURNING session_id, authorization_token, idempotency_key, request, tries",
            args.len() + 2
        );
        let mut query = sqlx::query(&sql).bind(now + lease_secs);
        for a in args {
            query = match a {
                Arg::Text(t) => query.bind(*t),
                Arg::Int(i) => query.bind(*i),
            };
        }
        let Some(row) = query.bind(now).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let request: String = row.try_get("request")?;
        Ok(Some(Attempt {
            session_id: row.try_get("session_id")?,
            authorization_token: row.try_get("authorization_token")?,
            idempotency_key: row.try_get("idempotency_key")?,
            request: serde_json::from_str(&request).map_err(decode)?,
            tries: row.try_get("tries")?,
        }))
    }

    /// Klarna did not answer: anyone may try again at once, the recovery worker from `retry_at`.
    pub async fn release_attempt(
        &self,
        attempt: &Attempt,
        retry_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE order_attempts SET lease_until = 0, retry_at = $1 WHERE session_id = $2 AND authorization_token = $3",
        )
        .bind(retry_at)
        .bind(&attempt.session_id)
        .bind(&attempt.authorization_token)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the order Klarna created, exactly as Klarna was asked, and ends the attempt, in
    /// one transaction. The session's `UNIQUE` constraint refuses a second order; the same
    /// order recorded twice (a takeover that raced the first holder) is recorded once.
    pub async fn record_order(
        &self,
        attempt: &Attempt,
        order: &PlacedOrder,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let r = &attempt.request;
        let body = serde_json::to_string(r).map_err(decode)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO orders (authorization_token, session_id, klarna_order_id, state, purchase_country, purchase_currency,
                                 order_amount, order_tax_amount, request, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (authorization_token) DO NOTHING",
        )
        .bind(&attempt.authorization_token)
        .bind(&attempt.session_id)
        .bind(&order.order_id)
        .bind(state_name(order.state))
        .bind(&r.purchase_country)
        .bind(&r.purchase_currency)
        .bind(r.order_amount)
        .bind(r.order_tax_amount)
        .bind(body)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // Already recorded (a takeover raced the first holder): it must be this session's.
        let owner: String =
            sqlx::query_scalar("SELECT session_id FROM orders WHERE authorization_token = $1")
                .bind(&attempt.authorization_token)
                .fetch_one(&mut *tx)
                .await?;
        if owner != attempt.session_id {
            return Err(sqlx::Error::Protocol(format!(
                "authorization token already ordered for checkout session {owner}"
            )));
        }
        // The attempt stays, done and never to be taken over: its row keeps the session's key,
        // so an approval racing this commit cannot start a second attempt (on PostgreSQL a
        // concurrent insert may have checked for the order before this commit).
        sqlx::query("UPDATE order_attempts SET done = 1, lease_until = $1 WHERE session_id = $2")
            .bind(i64::MAX)
            .bind(&attempt.session_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Klarna refused the order for good: remember its answer for the token and free the
    /// session for another approval, in one transaction.
    pub async fn fail_attempt(
        &self,
        attempt: &Attempt,
        error: &ApiError,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let raw = serde_json::to_string(error).map_err(decode)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO failed_authorizations (authorization_token, error, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (authorization_token) DO UPDATE SET error = excluded.error",
        )
        .bind(&attempt.authorization_token)
        .bind(raw)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM order_attempts WHERE session_id = $1 AND authorization_token = $2",
        )
        .bind(&attempt.session_id)
        .bind(&attempt.authorization_token)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Klarna repeats a create-order error for the same token forever; remembering it spares a call.
    pub async fn failed_authorization(&self, token: &str) -> Result<Option<ApiError>, sqlx::Error> {
        let raw: Option<String> = sqlx::query_scalar(
            "SELECT error FROM failed_authorizations WHERE authorization_token = $1",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    /// The fraud decision Klarna's Order Management reports now (never a notification's word).
    pub async fn set_order_state(
        &self,
        order_id: &str,
        state: OrderState,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE orders SET state = $1, updated_at = $2 WHERE klarna_order_id = $3")
            .bind(state_name(state))
            .bind(now)
            .bind(order_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// What an order recorded of Klarna's request: `(country, currency, amount, tax)`.
    pub async fn order_facts(
        &self,
        order_id: &str,
    ) -> Result<Option<(String, String, i64, i64)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT purchase_country, purchase_currency, order_amount, order_tax_amount FROM orders WHERE klarna_order_id = $1",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok((
                r.try_get("purchase_country")?,
                r.try_get("purchase_currency")?,
                r.try_get("order_amount")?,
                r.try_get("order_tax_amount")?,
            ))
        })
        .transpose()
    }

    /// Pending orders Klarna was last asked about before `before`, oldest first.
    pub async fn stale_pending_orders(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT klarna_order_id FROM orders WHERE state = 'pending' AND updated_at < $1
             ORDER BY updated_at LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn attempts_in_flight(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM order_attempts WHERE done = 0")
            .fetch_one(&self.pool)
            .await
    }

    pub async fn order_count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM orders")
            .fetch_one(&self.pool)
            .await
    }

    /// Stores Klarna's callback (once per token, however often Klarna repeats it).
    pub async fn insert_callback(
        &self,
        token: &str,
        klarna_session_id: &str,
        process_after: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO authorization_callbacks (authorization_token, klarna_session_id, process_after, received_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(token)
        .bind(klarna_session_id)
        .bind(process_after)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The shopper is waiting for this session's order: its callbacks need not wait any more.
    pub async fn bring_callbacks_forward(
        &self,
        klarna_session_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE authorization_callbacks SET process_after = $1 WHERE klarna_session_id = $2 AND process_after > $3",
        )
        .bind(now)
        .bind(klarna_session_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One due callback nobody is handling, leased to the caller: `(token, Klarna session id, tries)`.
    pub async fn claim_due_callback(
        &self,
        now: i64,
        lease_secs: i64,
    ) -> Result<Option<(String, String, i64)>, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE authorization_callbacks SET lease_until = $1, tries = tries + 1
             WHERE authorization_token = (SELECT authorization_token FROM authorization_callbacks
                                          WHERE process_after <= $2 AND lease_until < $3 LIMIT 1)
               AND lease_until < $4
             RETURNING authorization_token, klarna_session_id, tries",
        )
        .bind(now + lease_secs)
        .bind(now)
        .bind(now)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok((
                r.try_get("authorization_token")?,
                r.try_get("klarna_session_id")?,
                r.try_get("tries")?,
            ))
        })
        .transpose()
    }

    pub async fn finish_callback(&self, token: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM authorization_callbacks WHERE authorization_token = $1")
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn retry_callback(&self, token: &str, at: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE authorization_callbacks SET process_after = $1, lease_until = 0 WHERE authorization_token = $2",
        )
        .bind(at)
        .bind(token)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn pending_callbacks(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM authorization_callbacks")
            .fetch_one(&self.pool)
            .await
    }

    /// Forgets what Klarna has forgotten: refused authorizations, callbacks (their
    /// authorizations lasted an hour) and checkout sessions that never became an order, 48
    /// hours on. Sessions with an order, an attempt or a newer callback are kept. Answers how
    /// many rows went.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, sqlx::Error> {
        let before = now - KEEP_UNORDERED_SECS;
        let failed = sqlx::query("DELETE FROM failed_authorizations WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        let callbacks = sqlx::query("DELETE FROM authorization_callbacks WHERE received_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        let sessions = sqlx::query(
            "DELETE FROM checkout_sessions WHERE created_at < $1
               AND id NOT IN (SELECT session_id FROM orders)
               AND id NOT IN (SELECT session_id FROM order_attempts)
               AND klarna_session_id NOT IN (SELECT klarna_session_id FROM authorization_callbacks)",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(failed.rows_affected() + callbacks.rows_affected() + sessions.rows_affected())
    }
}

pub fn state_name(state: OrderState) -> &'static str {
    match state {
        OrderState::Accepted => "accepted",
        OrderState::Pending => "pending",
        OrderState::Rejected => "rejected",
    }
}

fn parse_state(raw: &str) -> OrderState {
    match raw {
        "accepted" => OrderState::Accepted,
        "rejected" => OrderState::Rejected,
        _ => OrderState::Pending,
    }
}
