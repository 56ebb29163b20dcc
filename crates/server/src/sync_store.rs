//! What a transaction sync shares with every instance: a lease per bank connection naming the
//! sync (job) that holds it (one sync at a time, so one consent token is never rotated by two
//! syncs at once; a crashed sync's lease runs out, and a sync that lost its lease writes
//! nothing more), the consent token's generation (replaced only by whoever read the current
//! one), and each account's last sync: its progress (any instance answers the page's poll),
//! what it needs to report (the language of whoever started it; the bookkeeper's address and
//! browser stay in the running task's memory, never in the database) and how it ended. A sync is "running" only while its
//! job holds the lease.

use crate::store::Store;
use klarna::api::{SyncOutcome, SyncProgress};
use sqlx::Row;

/// How long a sync may go without a page before its lease runs out; every page renews it.
pub const SYNC_LEASE_SECS: i64 = 120;

/// The sync lease a write claims to hold: its connection, its job, and the time now.
pub struct SyncLease<'a> {
    pub connection_id: &'a str,
    pub job: &'a str,
    pub now: i64,
}

/// Renews `lease` only while its job still holds it and it has not run out; false when lost.
/// On any executor: a transaction that writes under the lease checks it first, in itself.
pub(crate) async fn renew_unexpired<'e, E>(
    db: E,
    lease: &SyncLease<'_>,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query(
        "UPDATE bank_connections SET sync_lease_until = $1
         WHERE id = $2 AND sync_job = $3 AND sync_lease_until >= $4",
    )
    .bind(lease.now + SYNC_LEASE_SECS)
    .bind(lease.connection_id)
    .bind(lease.job)
    .bind(lease.now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Gives the lease back if `job` still holds it, on any executor (alone, or with the sync's end).
async fn release<'e, E>(db: E, connection_id: &str, job: &str) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE bank_connections SET sync_lease_until = 0, sync_job = NULL WHERE id = $1 AND sync_job = $2",
    )
    .bind(connection_id)
    .bind(job)
    .execute(db)
    .await?;
    Ok(())
}

/// An account's last sync as stored.
#[derive(Clone, Debug)]
pub struct StoredSync {
    pub progress: SyncProgress,
    pub job: Option<String>,
    pub lang: klarna::Lang,
    /// Marked running, but its job no longer holds the lease: its server stopped.
    pub abandoned: bool,
}

impl Store {
    /// Takes the connection's sync lease for `job`, unless another sync holds it.
    pub async fn claim_sync(
        &self,
        connection_id: &str,
        job: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_connections SET sync_lease_until = $1, sync_job = $2 WHERE id = $3 AND sync_lease_until < $4",
        )
        .bind(now + SYNC_LEASE_SECS)
        .bind(job)
        .bind(connection_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Extends `job`'s lease; false when another sync took it (or it was ended).
    pub async fn renew_sync(
        &self,
        connection_id: &str,
        job: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_connections SET sync_lease_until = $1 WHERE id = $2 AND sync_job = $3",
        )
        .bind(now + SYNC_LEASE_SECS)
        .bind(connection_id)
        .bind(job)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Gives the lease back, if `job` still holds it.
    pub async fn release_sync(&self, connection_id: &str, job: &str) -> Result<(), sqlx::Error> {
        release(&self.pool, connection_id, job).await
    }

    /// The sealed consent token, its generation and its consent's id.
    pub async fn consent_token(
        &self,
        connection_id: &str,
    ) -> Result<Option<(String, i64, String)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT consent_token_sealed, token_generation, consent_id FROM bank_connections WHERE id = $1",
        )
        .bind(connection_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .transpose()
    }

    /// Replaces the sealed consent token after a consent call rotated it, only if the token is
    /// still the one of `generation` (the one the call presented): a sync that read an older
    /// token never overwrites a newer one. False when it was not replaced.
    pub async fn rotate_consent_token(
        &self,
        connection_id: &str,
        sealed: &str,
        generation: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_connections SET consent_token_sealed = $1, token_generation = token_generation + 1
             WHERE id = $2 AND token_generation = $3",
        )
        .bind(sealed)
        .bind(connection_id)
        .bind(generation)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a new sync of the account (after its job claimed the lease), replacing the last.
    pub async fn start_sync(
        &self,
        account_id: &str,
        job: &str,
        p: &SyncProgress,
        lang: klarna::Lang,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let lang = lang.pick("en", "de");
        sqlx::query(
            "INSERT INTO sync_progress (account_id, running, pages, fetched, added, from_date, to_date, updated_at, job, lang, scheduled, outcome)
             VALUES ($1, 1, 0, 0, 0, $2, $3, $4, $5, $6, $7, NULL)
             ON CONFLICT (account_id) DO UPDATE SET running = 1, pages = 0, fetched = 0, added = 0, skipped = 0,
                 from_date = excluded.from_date, to_date = excluded.to_date, updated_at = excluded.updated_at,
                 job = excluded.job, lang = excluded.lang, scheduled = excluded.scheduled, outcome = NULL",
        )
        .bind(account_id)
        .bind(&p.from_date)
        .bind(&p.to_date)
        .bind(now)
        .bind(job)
        .bind(lang)
        .bind(i64::from(p.scheduled))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Writes `job`'s progress while it runs; false when the account's row belongs to another
    /// sync now (or this one was ended).
    pub async fn save_sync_progress(
        &self,
        account_id: &str,
        job: &str,
        p: &SyncProgress,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE sync_progress SET pages = $1, fetched = $2, added = $3, skipped = $4, updated_at = $5
             WHERE account_id = $6 AND job = $7 AND running = 1",
        )
        .bind(i64::from(p.pages))
        .bind(i64::from(p.fetched))
        .bind(i64::from(p.added))
        .bind(i64::from(p.skipped))
        .bind(now)
        .bind(account_id)
        .bind(job)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Stores `job`'s end and gives its lease back, together: whoever reads the end can start
    /// the next sync. A scheduled sync that ended `ok` marks its account done for the day
    /// it was tried on, in the same transaction. False when the account's row belongs to another sync now.
    pub async fn end_sync(
        &self,
        account_id: &str,
        connection_id: &str,
        job: &str,
        p: &SyncProgress,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        release(&mut *tx, connection_id, job).await?;
        let r = sqlx::query(
            "UPDATE sync_progress SET running = 0, pages = $1, fetched = $2, added = $3, skipped = $4, outcome = $5, updated_at = $6
             WHERE account_id = $7 AND job = $8 AND running = 1",
        )
        .bind(i64::from(p.pages))
        .bind(i64::from(p.fetched))
        .bind(i64::from(p.added))
        .bind(i64::from(p.skipped))
        .bind(
            p.outcome
                .as_ref()
                .map(|o| serde_json::to_string(o).unwrap_or_default()),
        )
        .bind(now)
        .bind(account_id)
        .bind(job)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 1 && p.scheduled && matches!(p.outcome, Some(SyncOutcome::Ok)) {
            // Still under the lease: whoever claims it next sees the account done.
            sqlx::query(
                "UPDATE bank_accounts SET schedule_done_on = schedule_tried_on WHERE id = $1",
            )
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Ends a sync whose job lost its lease (its server stopped) with `outcome`, unless it
    /// ended meanwhile or holds the lease again; every instance may try, one does it.
    pub async fn end_abandoned_sync(
        &self,
        account_id: &str,
        job: &str,
        outcome: &SyncOutcome,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE sync_progress SET running = 0, outcome = $1, updated_at = $2
             WHERE account_id = $3 AND COALESCE(job, '') = $4 AND running = 1
               AND NOT EXISTS (SELECT 1 FROM bank_connections WHERE sync_job = $5 AND sync_lease_until >= $6)",
        )
        .bind(serde_json::to_string(outcome).unwrap_or_default())
        .bind(now)
        .bind(account_id)
        .bind(job)
        .bind(job)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if r.rows_affected() == 1 {
            // The stopped sync can no longer renew a lease it might still have a claim on.
            sqlx::query(
                "UPDATE bank_connections SET sync_job = NULL WHERE sync_job = $1 AND sync_lease_until < $2",
            )
            .bind(job)
            .bind(now)
            .execute(&self.pool)
            .await?;
        }
        Ok(r.rows_affected() == 1)
    }

    /// Accounts whose sync is marked running but whose job no longer holds its lease.
    pub async fn abandoned_syncs(&self, now: i64) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT p.account_id FROM sync_progress p
             JOIN bank_accounts a ON a.id = p.account_id
             JOIN bank_connections c ON c.id = a.connection_id
             WHERE p.running = 1 AND (p.job IS NULL OR c.sync_job IS NULL OR c.sync_job <> p.job OR c.sync_lease_until < $1)
             LIMIT 50",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
    }

    /// The account's last sync as of `now`: "running" only while its job holds the lease.
    pub async fn stored_sync(
        &self,
        account_id: &str,
        now: i64,
    ) -> Result<Option<StoredSync>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT p.running, p.pages, p.fetched, p.added, p.skipped, p.from_date, p.to_date, p.job, p.lang,
                    p.scheduled, p.outcome, c.sync_job, c.sync_lease_until
             FROM sync_progress p
             JOIN bank_accounts a ON a.id = p.account_id
             JOIN bank_connections c ON c.id = a.connection_id
             WHERE p.account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let count = |name: &str| -> Result<u32, sqlx::Error> {
            Ok(u32::try_from(r.try_get::<i64, _>(name)?).unwrap_or(u32::MAX))
        };
        let job: Option<String> = r.try_get("job")?;
        let holder: Option<String> = r.try_get("sync_job")?;
        let lease_until: i64 = r.try_get("sync_lease_until")?;
        let marked = r.try_get::<i64, _>("running")? != 0;
        let holds = job.is_some() && holder == job && lease_until >= now;
        let outcome: Option<String> = r.try_get("outcome")?;
        let lang: String = r.try_get("lang")?;
        Ok(Some(StoredSync {
            progress: SyncProgress {
                running: marked && holds,
                pages: count("pages")?,
                fetched: count("fetched")?,
                added: count("added")?,
                skipped: count("skipped")?,
                from_date: r.try_get("from_date")?,
                to_date: r.try_get("to_date")?,
                outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
                scheduled: r.try_get::<i64, _>("scheduled")? != 0,
            },
            job,
            lang: klarna::Lang::of_tag(&lang).unwrap_or(klarna::Lang::En),
            abandoned: marked && !holds,
        }))
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
        assert!(store.claim_sync("c1", "j1", 1000).await.unwrap());
        assert!(!store.claim_sync("c1", "j2", 1001).await.unwrap(), "held");
        assert!(
            store
                .claim_sync("c1", "j2", 1001 + super::SYNC_LEASE_SECS)
                .await
                .unwrap(),
            "a crashed sync's lease runs out"
        );
        assert!(
            !store.renew_sync("c1", "j1", 1200).await.unwrap(),
            "the old job lost it"
        );
        store.release_sync("c1", "j1").await.unwrap();
        assert!(
            !store.claim_sync("c1", "j3", 1200).await.unwrap(),
            "not j1's to release"
        );
        store.release_sync("c1", "j2").await.unwrap();
        assert!(
            store.claim_sync("c1", "j3", 1200).await.unwrap(),
            "released"
        );

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

    /// A token is replaced only by whoever read its generation: of two syncs that read the
    /// same token, the second to answer cannot write its (older) token over the first's.
    #[tokio::test]
    async fn an_older_consent_token_never_overwrites_a_newer_one() {
        let dir = std::env::temp_dir().join(format!("kc-tokens-{}", uuid::Uuid::new_v4()));
        let store = Store::open(&dir.join("db.sqlite")).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO bank_connections (id, company, bank_name, bank_code, consent_id, consent_token_sealed, consent_start, consent_expires_on, created_at)
               VALUES ('c1', 'ACME', 'Demo Bank', '88888888', 'k', 't0', '2026-01-01', '2026-04-01', 0);",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let (t0, g0, _) = store.consent_token("c1").await.unwrap().unwrap();
        assert_eq!(t0, "t0");
        assert!(store.rotate_consent_token("c1", "t1", g0).await.unwrap());
        assert!(
            !store.rotate_consent_token("c1", "stale", g0).await.unwrap(),
            "read before t1 was written"
        );
        let (t1, g1, _) = store.consent_token("c1").await.unwrap().unwrap();
        assert_eq!((t1.as_str(), g1), ("t1", g0 + 1));
        let _ = std::fs::remove_dir_all(dir);
    }
}
