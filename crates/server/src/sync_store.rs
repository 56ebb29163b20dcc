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
            "UPDATE bank_connections SET sync_lease_until = $1 WHERE id = $2 AND sync_lease_until < $3",
        )
        .bind(now + SYNC_LEASE_SECS)
        .bind(connection_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn renew_sync(&self, connection_id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE bank_connections SET sync_lease_until = $1 WHERE id = $2")
            .bind(now + SYNC_LEASE_SECS)
            .bind(connection_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn release_sync(&self, connection_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE bank_connections SET sync_lease_until = 0 WHERE id = $1")
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
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
            "SELECT running, pages, fetched, added, from_date, to_date, updated_at FROM sync_progress WHERE account_id = $1",
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

#[cfg(test)]
mod tests {
    use crate::store::Store;

    /// Leases in the database decide which instance does a piece of work: the second claim
    /// fails while the first holds, and succeeds once the lease ran out or was released.
    #[tokio::test]
    async fn one_sync_per_connection_and_one_close_per_session() {
        let dir = std::env::temp_dir().join(format!("kc-leases-{}", uuid::Uuid::new_v4()));
        let store = Store::open(&dir.join("db.sqlite")).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO bank_connections (id, company, bank_name, bank_code, consent_id, consent_token_sealed, consent_start, consent_expires_on, created_at)
               VALUES ('c1', 'ACME', 'Demo Bank', '88888888', 'k', 's', '2026-01-01', '2026-04-01', 0);
             INSERT INTO bank_links (id, company, start_date, xs2a_session_id, flow_id, state, connection_id, created_at, session_open)
               VALUES ('l1', 'ACME', '2026-01-01', 'x1', 'f1', 'timed_out', NULL, 0, 1);",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        assert!(store.claim_sync("c1", 1000).await.unwrap());
        assert!(!store.claim_sync("c1", 1001).await.unwrap(), "held");
        assert!(
            store
                .claim_sync("c1", 1001 + super::SYNC_LEASE_SECS)
                .await
                .unwrap(),
            "a crashed sync's lease runs out"
        );
        store.release_sync("c1").await.unwrap();
        assert!(store.claim_sync("c1", 1200).await.unwrap(), "released");

        assert!(store.claim_session_close("x1", 1000).await.unwrap());
        assert!(
            !store.claim_session_close("x1", 1010).await.unwrap(),
            "another instance"
        );
        assert!(
            store.claim_session_close("x1", 1061).await.unwrap(),
            "after a minute"
        );
        store.mark_session_closed("x1").await.unwrap();
        assert!(
            !store.claim_session_close("x1", 2000).await.unwrap(),
            "closed"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
