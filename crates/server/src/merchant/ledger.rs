//! Every order operation a merchant asks for, written down before Klarna is called.
//!
//! A row per (order, merchant's `Idempotency-Key`): the same key again gets the first answer,
//! never a second capture; a key reused for another operation or another body is refused.
//! While Klarna has not answered, the row is `pending` and its amount counts as spent, so two
//! captures in flight at once cannot together exceed the authorization. The Klarna request is
//! stored as sent, with its own `Klarna-Idempotency-Key`, so whoever sends it again (the
//! merchant's retry, the worker after a restart, another instance) sends exactly the same.
//!
//! Rows are inserted under a lock on the order's row (`UPDATE orders … WHERE klarna_order_id`),
//! which PostgreSQL holds per row and SQLite as its one writer: the rules are checked against
//! what is in flight inside that transaction.

use super::errors::MerchantError;
use super::rules::{self, Facts, InFlight, Operation};
use crate::store::Store;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// How long a sender holds a pending operation before the worker may send it again.
pub const LEASE_SECS: i64 = 30;

/// What kind of call an operation is; stored as its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Capture,
    Refund,
    Cancel,
    Release,
    Extend,
    UpdateAuthorization,
    UpdateCustomerDetails,
    UpdateReferences,
    SendOut,
}

impl Kind {
    const ALL: [(Kind, &'static str); 9] = [
        (Kind::Capture, "capture"),
        (Kind::Refund, "refund"),
        (Kind::Cancel, "cancel"),
        (Kind::Release, "release"),
        (Kind::Extend, "extend"),
        (Kind::UpdateAuthorization, "update_authorization"),
        (Kind::UpdateCustomerDetails, "update_customer_details"),
        (Kind::UpdateReferences, "update_merchant_references"),
        (Kind::SendOut, "send_out"),
    ];

    pub fn name(self) -> &'static str {
        Kind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, n)| n)
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpState {
    /// Written; Klarna's answer not in yet.
    Pending,
    /// Klarna did it; `result` holds the capture or refund id, if any.
    Done { klarna_id: Option<String> },
    /// Klarna refused; the refusal is answered again to a retry.
    Refused(MerchantError),
}

/// One stored operation.
#[derive(Clone, Debug)]
pub struct StoredOp {
    pub id: String,
    pub order_id: String,
    pub kind: Kind,
    pub amount: i64,
    /// The capture a send-out is about; empty for every other kind.
    pub target: String,
    /// The JSON body for Klarna (`null`: none).
    pub request: serde_json::Value,
    pub klarna_key: String,
    pub state: OpState,
    pub digest: String,
}

/// What the merchant asked for, before it is written.
#[derive(Clone, Debug)]
pub struct Planned {
    pub kind: Kind,
    pub operation: Operation,
    pub amount: i64,
    pub target: String,
    pub request: serde_json::Value,
}

impl Planned {
    /// The same request for `amount` (a capture or refund of "all" once "all" is known).
    pub fn with_amount(mut self, amount: i64) -> Planned {
        let field = match self.kind {
            Kind::Capture => {
                self.operation = Operation::Capture(amount);
                "captured_amount"
            }
            Kind::Refund => {
                self.operation = Operation::Refund(amount);
                "refunded_amount"
            }
            _ => return self,
        };
        self.amount = amount;
        if let Some(body) = self.request.as_object_mut() {
            body.insert(field.into(), amount.into());
        }
        self
    }

    /// Identifies the request's content: the same key with another body is another request.
    pub fn digest(&self) -> String {
        let text = format!("{}|{}|{}", self.kind.name(), self.target, self.request);
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The outcome of [`Store::begin_operation`].
#[derive(Debug)]
pub enum Begun {
    /// A new row, held by the caller for [`LEASE_SECS`]: send it.
    New(StoredOp),
    /// The key was used before for exactly this request: its row as it stands.
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
    })
}

const COLUMNS: &str =
    "id, klarna_order_id, kind, amount, target, request, klarna_key, state, result, request_digest";

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
    /// in flight; or returns the row the key already has.
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
        let mut in_flight = InFlight::default();
        let (mut captured, mut refunded) = (0, 0);
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let amount: i64 = row.try_get("amount")?;
            let pending = row.try_get::<String, _>("state")? == "pending";
            match (Kind::from_name(&kind), pending) {
                (Some(Kind::Capture), true) => in_flight.capturing += amount,
                (Some(Kind::Refund), true) => in_flight.refunding += amount,
                (Some(Kind::Capture), false) => captured += amount,
                (Some(Kind::Refund), false) => refunded += amount,
                _ => {}
            }
        }
        // What Klarna said may predate an operation of ours that finished since: our own
        // finished captures and refunds count at least as much as Klarna's figures.
        let facts = &facts.at_least(captured, refunded);
        if let Err(refusal) = rules::check(planned.operation, facts, in_flight) {
            tx.rollback().await?;
            return Ok(Err(refusal));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let klarna_key = crate::klarna_client::idempotency_key(&format!("merchant-operation:{id}"));
        let op = StoredOp {
            id,
            order_id: order_id.to_string(),
            kind: planned.kind,
            amount: planned.amount,
            target: planned.target.clone(),
            request: planned.request.clone(),
            klarna_key,
            state: OpState::Pending,
            digest: planned.digest(),
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

    /// Records Klarna's answer. Only a pending row changes: the first answer stands.
    pub async fn finish_operation(
        &self,
        id: &str,
        state: &OpState,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let (name, result) = match state {
            OpState::Pending => return Ok(()),
            OpState::Done { klarna_id } => ("done", klarna_id.clone().unwrap_or_default()),
            OpState::Refused(e) => (
                "refused",
                serde_json::to_string(e).map_err(|e| sqlx::Error::Encode(Box::new(e)))?,
            ),
        };
        sqlx::query(
            "UPDATE merchant_operations SET state = $1, result = $2, updated_at = $3 WHERE id = $4 AND state = 'pending'",
        )
        .bind(name)
        .bind(result)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the lease of a pending operation: `false` if someone else holds it.
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

    /// Lets the next sender take a pending operation at once (Klarna did not answer).
    pub async fn release_operation(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE merchant_operations SET lease_until = 0 WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pending operations whose lease ran out: their sender died or Klarna did not answer.
    pub async fn stale_operations(&self, now: i64) -> Result<Vec<StoredOp>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM merchant_operations WHERE state = 'pending' AND lease_until <= $1 ORDER BY created_at LIMIT 50"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(op_of).collect()
    }
}
