//! Storing one sync's transactions (`bank_entries.rs`) in one database transaction: the booked
//! ones once per account (`UNIQUE (account_id, transaction_id)`), and the pending ones of the
//! fetched days replaced by what the bank reports as pending now. So a pending transaction the
//! bank booked in the meantime is gone when its booked self arrives, one that vanished is
//! dropped, and nobody ever reads the same money as booked and pending at once.

use crate::bank_entries::Sorted;
use crate::store::Store;
use crate::sync_store::{renew_unexpired, SyncLease};
use klarna::api::PendingTransaction;
use sqlx::Row;

impl Store {
    /// Stores a finished sync of the days from `from` on; returns how many booked transactions
    /// were new. Pending transactions dated before `consent_start` go too: no sync can fetch
    /// those days again.
    pub async fn record_sync(
        &self,
        account_id: &str,
        sorted: &Sorted,
        from: &str,
        consent_start: &str,
        lease: &SyncLease<'_>,
    ) -> Result<Option<u32>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // Only while this sync still holds its connection's lease, checked and renewed in the
        // same transaction: a sync that lost it (its instance stalled past the lease, another
        // sync took over) writes nothing, so its older pages never replace a newer sync's
        // pending rows. `None`: the lease was lost.
        if !renew_unexpired(&mut *tx, lease).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let mut added = 0;
        for t in &sorted.booked {
            let result = sqlx::query(
                "INSERT INTO bank_transactions (id, account_id, transaction_id, booking_date, amount, currency, counterparty, reference)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(account_id)
            .bind(&t.transaction_id)
            .bind(&t.booking_date)
            .bind(t.amount)
            .bind(&t.currency)
            .bind(&t.counterparty)
            .bind(&t.reference)
            .execute(&mut *tx)
            .await?;
            added += result.rows_affected() as u32;
        }
        // A sync that skipped a transaction it could not read does not know whether that one
        // was a pending transaction's later self: the fetched days' pending rows stay (and with
        // them the next sync's start at the oldest of them), so a booking is never lost behind
        // the last synced day. A clean sync replaces them.
        let replaced_from = if sorted.skipped > 0 {
            "9999-12-31"
        } else {
            from
        };
        sqlx::query(
            "DELETE FROM bank_pending_transactions
             WHERE account_id = $1 AND (value_date >= $2 OR value_date < $3)",
        )
        .bind(account_id)
        .bind(replaced_from)
        .bind(consent_start)
        .execute(&mut *tx)
        .await?;
        for (key, p) in sorted.pending_keyed() {
            sqlx::query(
                "INSERT INTO bank_pending_transactions (id, account_id, pending_key, value_date, amount, currency, counterparty, reference)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account_id, pending_key) DO NOTHING",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(account_id)
            .bind(key)
            .bind(&p.date)
            .bind(p.amount)
            .bind(&p.currency)
            .bind(&p.counterparty)
            .bind(&p.reference)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(added))
    }

    /// The account's pending transactions, newest first.
    pub async fn pending_transactions(
        &self,
        account_id: &str,
    ) -> Result<Vec<PendingTransaction>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT value_date, amount, currency, counterparty, reference FROM bank_pending_transactions
             WHERE account_id = $1 ORDER BY value_date DESC, pending_key",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingTransaction {
                    date: r.try_get("value_date")?,
                    amount: r.try_get("amount")?,
                    currency: r.try_get("currency")?,
                    counterparty: r.try_get("counterparty")?,
                    reference: r.try_get("reference")?,
                })
            })
            .collect()
    }

    /// The oldest day with a pending transaction, if any.
    pub async fn pending_since(&self, account_id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MIN(value_date) FROM bank_pending_transactions WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_one(&self.pool)
        .await
    }
}

#[cfg(test)]
mod tests {
    use crate::bank_entries::{NewPending, Sorted};
    use crate::store::Store;
    use crate::sync_store::SyncLease;

    /// The lease the tests' sync holds (`job-1` until far after `now`).
    const LEASE: SyncLease<'static> = SyncLease {
        connection_id: "c1",
        job: "job-1",
        now: 100,
    };

    /// A store with one connection (its lease held by `job-1`) and one account.
    async fn store_with_account() -> (std::path::PathBuf, Store) {
        let dir = std::env::temp_dir().join(format!("kc-entries-{}", uuid::Uuid::new_v4()));
        let store = Store::open(&dir.join("db.sqlite")).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO bank_connections (id, company, bank_name, bank_code, consent_id, consent_token_sealed, consent_start, consent_expires_on, created_at, sync_job, sync_lease_until)
               VALUES ('c1', 'ACME', 'Demo Bank', '88888888', 'k', 's', '2026-01-01', '2026-09-13', 0, 'job-1', 1000);
             INSERT INTO bank_accounts (id, connection_id, xs2a_account_id, iban, name, holder_name, balance, currency)
               VALUES ('a1', 'c1', 'x1', 'DE00', 'Giro', 'ACME', 0, 'EUR');",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        (dir, store)
    }

    fn pending(date: &str) -> NewPending {
        NewPending {
            transaction_id: None,
            date: date.into(),
            amount: -450,
            currency: "EUR".into(),
            counterparty: "Bäckerei".into(),
            reference: "Karte".into(),
        }
    }

    /// A pending transaction is replaced by a clean sync of its days, but kept by a sync that
    /// skipped something unreadable: that one may have been its later self, and dropping the
    /// pending row would move the next sync's start past the day it books on.
    #[tokio::test]
    async fn a_sync_that_skipped_an_entry_keeps_the_pending_rows() {
        let (dir, store) = store_with_account().await;
        let first = Sorted {
            pending: vec![pending("2026-06-14")],
            ..Sorted::default()
        };
        store
            .record_sync("a1", &first, "2026-06-01", "2026-01-01", &LEASE)
            .await
            .unwrap();
        let since = || store.pending_since("a1");
        assert_eq!(since().await.unwrap().as_deref(), Some("2026-06-14"));
        let odd = Sorted {
            skipped: 1,
            ..Sorted::default()
        };
        store
            .record_sync("a1", &odd, "2026-06-14", "2026-01-01", &LEASE)
            .await
            .unwrap();
        assert_eq!(
            since().await.unwrap().as_deref(),
            Some("2026-06-14"),
            "kept while something went unread"
        );
        store
            .record_sync("a1", &Sorted::default(), "2026-06-14", "2026-01-01", &LEASE)
            .await
            .unwrap();
        assert_eq!(since().await.unwrap(), None, "a clean sync replaces it");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A sync whose lease another sync took (or that ran out) writes nothing: neither its
    /// booked transactions nor a replacement of the newer sync's pending rows.
    #[tokio::test]
    async fn a_sync_that_lost_its_lease_writes_nothing() {
        let (dir, store) = store_with_account().await;
        let newer = Sorted {
            pending: vec![pending("2026-06-14")],
            ..Sorted::default()
        };
        let written = store
            .record_sync("a1", &newer, "2026-06-01", "2026-01-01", &LEASE)
            .await
            .unwrap();
        assert_eq!(written, Some(0));
        // Another sync takes the lease; the first one's last page arrives late.
        sqlx::query("UPDATE bank_connections SET sync_job = 'job-2' WHERE id = 'c1'")
            .execute(&store.pool)
            .await
            .unwrap();
        let stale = Sorted::default();
        let written = store
            .record_sync("a1", &stale, "2026-06-01", "2026-01-01", &LEASE)
            .await
            .unwrap();
        assert_eq!(written, None, "lost lease");
        assert_eq!(
            store.pending_since("a1").await.unwrap().as_deref(),
            Some("2026-06-14"),
            "the newer sync's pending row stays"
        );
        // A lease that ran out is lost too, even with no one else holding it.
        sqlx::query(
            "UPDATE bank_connections SET sync_job = 'job-1', sync_lease_until = 99 WHERE id = 'c1'",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let written = store
            .record_sync("a1", &stale, "2026-06-01", "2026-01-01", &LEASE)
            .await
            .unwrap();
        assert_eq!(written, None, "run out");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
