//! Every order operation a merchant asks for, written down before Klarna is called.
//!
//! A row per (order, merchant's `Idempotency-Key`): the same key again gets the first answer,
//! never a second capture; a key reused for another operation or another body is refused.
//! While Klarna has not answered, the row is `pending` and its amount counts as spent, so two
//! captures in flight at once cannot together exceed the authorization. The Klarna request is
//! stored as sent, with its own `Klarna-Idempotency-Key`, so whoever sends it again (the
//! merchant's retry, the worker after a restart, another instance) sends exactly the same,
//! one sender at a time (a lease), with a growing pause between tries. Klarna remembers a key
//! for 24 hours only: a row still unanswered after [`RESEND_WINDOW_SECS`] is never sent again
//! but marked `unresolved`, since a late resend could capture twice.
//!
//! Rows are inserted under a lock on the order's row (`UPDATE orders … WHERE klarna_order_id`),
//! which PostgreSQL holds per row and SQLite as its one writer: the rules are checked, and a
//! capture or refund of "all" is settled, against what is in flight inside that transaction.

mod op;

pub use op::{Kind, OpState, Planned, StoredOp};

use super::errors::MerchantError;
use super::rules::{self, Facts, InFlight};
use crate::store::Store;
use sqlx::Row;

/// How long a sender holds a pending operation before another may send it again.
pub const LEASE_SECS: i64 = 30;
/// Klarna keeps an idempotency key's first answer 24 hours; we resend within 23.
pub const RESEND_WINDOW_SECS: i64 = 23 * 3600;

/// The pause before the worker sends an unanswered operation again: 5 s doubling to 10 min.
/// (Customer-token charges wait the same way: `recurring::charge`.)
pub(crate) fn backoff_secs(tries: i64) -> i64 {
    (5_i64 << tries.clamp(0, 7)).min(600)
}

/// The outcome of [`Store::begin_operation`].
#[derive(Debug)]
pub enum Begun {
    /// A new row, held by the caller for [`LEASE_SECS`]: send it.
    New(StoredOp),
    /// The key was used before (a racing request wrote it first): its row as it stands.
    Seen(StoredOp),
}

fn op_of(row: &sqlx::any::AnyRow) -> Result<StoredOp, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let state: String = row.try_get("state")?;
    let result: Option<String> = row.try_get("result")?;
    let request: String = row.try_get("request")?;
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    let state = match state.as_str() {
        "done" => OpState::Done {
            klarna_id: result.filter(|r| !r.is_empty()),
        },
        "refused" => OpState::Refused(
            serde_json::from_str(result.as_deref().unwrap_or_default()).map_err(decode)?,
        ),
        "unresolved" => OpState::Unresolved,
        _ => OpState::Pending,
    };
    Ok(StoredOp {
        id: row.try_get("id")?,
        order_id: row.try_get("klarna_order_id")?,
        kind: Kind::from_name(&kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown operation {kind}").into()))?,
        amount: row.try_get("amount")?,
        target: row.try_get("target")?,
        request: serde_json::from_str(&request).map_err(decode)?,
        klarna_key: row.try_get("klarna_key")?,
        state,
        digest: row.try_get("request_digest")?,
        created_at: row.try_get("created_at")?,
        tries: row.try_get("tries")?,
    })
}

const COLUMNS: &str = "id, klarna_order_id, kind, amount, target, request, klarna_key, state, result, request_digest, created_at, tries";

/// Sums of the order's operations that Klarna did not refuse.
#[derive(Default)]
struct Ours {
    in_flight: InFlight,
    captured: i64,
    refunded: i64,
}

impl Store {
    /// Whether an order with this Klarna id was placed through this server.
    pub async fn has_order(&self, klarna_order_id: &str) -> Result<bool, sqlx::Error> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT klarna_order_id FROM orders WHERE klarna_order_id = $1")
                .bind(klarna_order_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    pub async fn operation(
        &self,
        order_id: &str,
        merchant_key: &str,
    ) -> Result<Option<StoredOp>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM merchant_operations WHERE klarna_order_id = $1 AND idempotency_key = $2"
        ))
        .bind(order_id)
        .bind(merchant_key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(op_of).transpose()
    }

    /// Writes `planned` under `merchant_key` if the rules allow it against `facts` and what is
    /// in flight (settling a capture or refund of "all" there); or returns the row the key
    /// already has.
    pub async fn begin_operation(
        &self,
        order_id: &str,
        merchant_key: &str,
        planned: &Planned,
        facts: &Facts,
        now: i64,
    ) -> Result<Result<Begun, MerchantError>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // The lock: everything below runs one writer at a time per order.
        sqlx::query("UPDATE orders SET updated_at = updated_at WHERE klarna_order_id = $1")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        let seen = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM merchant_operations WHERE klarna_order_id = $1 AND idempotency_key = $2"
        ))
        .bind(order_id)
        .bind(merchant_key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = seen {
            tx.commit().await?;
            return Ok(Ok(Begun::Seen(op_of(&row)?)));
        }
        let rows = sqlx::query(
            "SELECT kind, amount, state FROM merchant_operations WHERE klarna_order_id = $1 AND state != 'refused'",
        )
        .bind(order_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut ours = Ours::default();
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let amount: i64 = row.try_get("amount")?;
            // Pending and unresolved ones may yet turn out done: they count as spent.
            let open = row.try_get::<String, _>("state")? != "done";
            match (Kind::from_name(&kind), open) {
                (Some(Kind::Capture), true) => ours.in_flight.capturing += amount,
                (Some(Kind::Refund), true) => ours.in_flight.refunding += amount,
                (Some(Kind::Capture), false) => ours.captured += amount,
                (Some(Kind::Refund), false) => ours.refunded += amount,
                _ => {}
            }
        }
        // What Klarna said may predate an operation of ours that finished since: our own
        // finished captures and refunds count at least as much as Klarna's figures.
        let facts = facts.at_least(ours.captured, ours.refunded);
        let in_flight = ours.in_flight;
        let settled = match planned.kind {
            Kind::Capture if planned.is_all() => planned
                .clone()
                .with_amount(facts.remaining - in_flight.capturing),
            Kind::Refund if planned.is_all() => planned
                .clone()
                .with_amount(facts.captured - facts.refunded - in_flight.refunding),
            _ => planned.clone(),
        };
        if let Err(refusal) = rules::check(settled.operation, &facts, in_flight) {
            tx.rollback().await?;
            return Ok(Err(refusal));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let klarna_key = crate::klarna_client::idempotency_key(&format!("merchant-operation:{id}"));
        let op = StoredOp {
            id,
            order_id: order_id.to_string(),
            kind: settled.kind,
            amount: settled.amount,
            target: settled.target.clone(),
            request: settled.request.clone(),
            klarna_key,
            state: OpState::Pending,
            digest: planned.digest(),
            created_at: now,
            tries: 0,
        };
        sqlx::query(
            "INSERT INTO merchant_operations (id, klarna_order_id, idempotency_key, kind, amount, target, request, request_digest, klarna_key, state, lease_until, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $11)",
        )
        .bind(&op.id)
        .bind(order_id)
        .bind(merchant_key)
        .bind(op.kind.name())
        .bind(op.amount)
        .bind(&op.target)
        .bind(op.request.to_string())
        .bind(&op.digest)
        .bind(&op.klarna_key)
        .bind(now + LEASE_SECS)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(Begun::New(op)))
    }

    /// Records the end of an operation. A pending row takes it; a refusal gives way to a later
    /// "done" for the same Klarna key (the first answer that came back may have been a
    /// duplicate's); nothing else changes a finished row.
    pub async fn finish_operation(
        &self,
        id: &str,
        state: &OpState,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let result = match state {
            OpState::Pending => return Ok(()),
            OpState::Done { klarna_id } => klarna_id.clone().unwrap_or_default(),
            OpState::Refused(e) => {
                serde_json::to_string(e).map_err(|e| sqlx::Error::Encode(Box::new(e)))?
            }
            OpState::Unresolved => String::new(),
        };
        sqlx::query(
            "UPDATE merchant_operations SET state = $1, result = $2, updated_at = $3
             WHERE id = $4 AND (state = 'pending' OR (state = 'refused' AND $1 = 'done'))",
        )
        .bind(state.name())
        .bind(result)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the lease of a pending operation: `false` if someone else holds it, or if it waits
    /// for its next try.
    pub async fn claim_operation(&self, id: &str, now: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE merchant_operations SET lease_until = $1 WHERE id = $2 AND state = 'pending' AND lease_until <= $3",
        )
        .bind(now + LEASE_SECS)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Klarna gave no usable answer: the operation waits for its next try, a while longer each
    /// time, then whoever comes first (a merchant's retry, the worker) sends it.
    pub async fn retry_operation_later(&self, op: &StoredOp, now: i64) -> Result<(), sqlx::Error> {
        self.retry_later("merchant_operations", &op.id, op.tries, now)
            .await
    }

    /// The pause before the next try of a pending row of `table` (a table of this server's
    /// with `lease_until`, `tries`, `updated_at` and `state` columns): 5 s doubling to 10 min.
    pub(crate) async fn retry_later(
        &self,
        table: &'static str,
        id: &str,
        tries: i64,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(&format!(
            "UPDATE {table} SET lease_until = $1, tries = tries + 1, updated_at = $2 WHERE id = $3 AND state = 'pending'"
        ))
        .bind(now + backoff_secs(tries))
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pending operations due for another try, the longest waiting first.
    pub async fn due_operations(&self, now: i64) -> Result<Vec<StoredOp>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM merchant_operations WHERE state = 'pending' AND lease_until <= $1 ORDER BY lease_until LIMIT 20"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(op_of).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_secs;

    #[test]
    fn the_pause_between_tries_grows_to_ten_minutes() {
        let pauses: Vec<i64> = (0..9).map(backoff_secs).collect();
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 320, 600, 600]);
    }
}
