//! What a transaction sync shares with every instance: a lease per bank connection (one sync
//! at a time, so one consent token is never rotated by two syncs at once; a crashed sync's
//! lease runs out) and its progress (any instance answers the page's progress poll, and a
//! progress whose sync died is never left "running").

use crate::store::Store;
use klarna::api::SyncProgress;
use sqlx::Row;

/// How long a sync may go without a page before its lease runs out; every page renews it.
pub const SYNC_LEASE_SECS: i64 = 120;

impl Store {
    /// Takes the connection's sync lease, unless another sync holds it.
    pub async fn claim_sync(&self, connection_id: &str, now: i64) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_connections SET sync_lease_until = ? WHERE id = ? AND sync_lease_until < ?",
        )
        .bind(now + SYNC_LEASE_SECS)
        .bind(connection_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn renew_sync(&self, connection_id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE bank_connections SET sync_lease_until = ? WHERE id = ?")
            .bind(now + SYNC_LEASE_SECS)
            .bind(connection_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn release_sync(&self, connection_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE bank_connections SET sync_lease_until = 0 WHERE id = ?")
            .bind(connection_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn save_sync_progress(
        &self,
        account_id: &str,
        p: &SyncProgress,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sync_progress (account_id, running, pages, fetched, added, from_date, to_date, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (account_id) DO UPDATE SET running = excluded.running, pages = excluded.pages,
                 fetched = excluded.fetched, added = excluded.added, from_date = excluded.from_date,
                 to_date = excluded.to_date, updated_at = excluded.updated_at",
        )
        .bind(account_id)
        .bind(i64::from(p.running))
        .bind(i64::from(p.pages))
        .bind(i64::from(p.fetched))
        .bind(i64::from(p.added))
        .bind(&p.from_date)
        .bind(&p.to_date)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account's last sync as of `now`: "running" only while its lease could still hold.
    pub async fn sync_progress(
        &self,
        account_id: &str,
        now: i64,
    ) -> Result<SyncProgress, sqlx::Error> {
        let row = sqlx::query(
            "SELECT running, pages, fetched, added, from_date, to_date, updated_at FROM sync_progress WHERE account_id = ?",
        )
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(SyncProgress::default());
        };
        let count = |name: &str| -> Result<u32, sqlx::Error> {
            Ok(u32::try_from(r.try_get::<i64, _>(name)?).unwrap_or(u32::MAX))
        };
        let updated_at: i64 = r.try_get("updated_at")?;
        Ok(SyncProgress {
            running: r.try_get::<i64, _>("running")? != 0 && now - updated_at < SYNC_LEASE_SECS,
            pages: count("pages")?,
            fetched: count("fetched")?,
            added: count("added")?,
            from_date: r.try_get("from_date")?,
            to_date: r.try_get("to_date")?,
        })
    }
}
