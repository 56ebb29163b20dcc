//! Who ends a bank link. Two reports of one link's ending (a retry after a timeout while the
//! first still runs, two tabs, two instances) must not both read the consent from Klarna: each
//! read issues a new token and kills the one before. So the ending is claimed in the database
//! first (`state = 'ending'`, a claim id and a lease), and every later change of the link is
//! made only by the claim's holder, in one statement conditional on it. A holder that died
//! leaves a claim that runs out: another report, or the sweeper, takes the link over.

use super::{StoredAccount, StoredConnection};
use crate::store::Store;

/// How long a claim holds without being renewed; the holder renews it before every call to
/// Klarna (each is bounded by the XS2A client's 30-second timeout).
pub const LINK_END_LEASE_SECS: i64 = 60;

impl Store {
    /// Claims the ending of a link still `started`, or one whose claim ran out by `now`.
    pub async fn claim_link_end(
        &self,
        id: &str,
        claim: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_links SET state = 'ending', end_claim = $1, end_lease_until = $2
             WHERE id = $3 AND (state = 'started' OR (state = 'ending' AND end_lease_until < $4))",
        )
        .bind(claim)
        .bind(now + LINK_END_LEASE_SECS)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Renews the claim; false when it is no longer this holder's (it ran out and was taken).
    pub async fn hold_link_end(
        &self,
        id: &str,
        claim: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_links SET end_lease_until = $1 WHERE id = $2 AND state = 'ending' AND end_claim = $3",
        )
        .bind(now + LINK_END_LEASE_SECS)
        .bind(id)
        .bind(claim)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Gives the link back (`started`): the bank may still finish, a later report checks again.
    pub async fn release_link_end(&self, id: &str, claim: &str) -> Result<bool, sqlx::Error> {
        self.leave_ending(id, claim, "started").await
    }

    /// Ends the link without a bank (`aborted`, `failed`); false when the claim was lost.
    pub async fn end_link_unlinked(
        &self,
        id: &str,
        claim: &str,
        state: &str,
    ) -> Result<bool, sqlx::Error> {
        self.leave_ending(id, claim, state).await
    }

    async fn leave_ending(&self, id: &str, claim: &str, state: &str) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_links SET state = $1, end_claim = NULL, end_lease_until = 0
             WHERE id = $2 AND state = 'ending' AND end_claim = $3",
        )
        .bind(state)
        .bind(id)
        .bind(claim)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Marks the link `linked` and stores its bank, accounts and consent, in one transaction
    /// and only while `claim` holds: the connection's id, or `None` (nothing written) when the
    /// claim was lost.
    pub async fn save_linked(
        &self,
        link_id: &str,
        claim: &str,
        c: &StoredConnection,
        accounts: &[StoredAccount],
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        // First: the row is locked (PostgreSQL) or the database written (SQLite) before the
        // connection is, so a second holder can never get this far for the same link.
        let held = sqlx::query(
            "UPDATE bank_links SET state = 'linked', end_claim = NULL, end_lease_until = 0
             WHERE id = $1 AND state = 'ending' AND end_claim = $2",
        )
        .bind(link_id)
        .bind(claim)
        .execute(&mut *tx)
        .await?;
        if held.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let id = Store::upsert_connection(&mut tx, c, accounts, now).await?;
        sqlx::query("UPDATE bank_links SET connection_id = $1 WHERE id = $2")
            .bind(&id)
            .bind(link_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(id))
    }
}

#[cfg(test)]
mod tests {
    use crate::bank_store::{StoredConnection, StoredLink};
    use crate::store::Store;

    /// A claim holds against a second report and the sweeper; once its holder died and the
    /// lease ran out, another report (or the sweeper) takes the link, and the old holder can
    /// change nothing any more.
    #[tokio::test]
    async fn a_link_is_ended_by_one_claim_and_a_dead_claim_is_retaken() {
        let dir = std::env::temp_dir().join(format!("kc-claims-{}", uuid::Uuid::new_v4()));
        let store = Store::open(&dir.join("db.sqlite")).await.unwrap();
        store
            .insert_link(&StoredLink {
                id: "l1".into(),
                company: "ACME".into(),
                start_date: "2026-01-01".into(),
                xs2a_session_id: "x1".into(),
                flow_id: "f1".into(),
                state: "started".into(),
                created_at: 0,
            })
            .await
            .unwrap();
        assert!(store.claim_link_end("l1", "a", 1000).await.unwrap());
        assert!(
            !store.claim_link_end("l1", "b", 1001).await.unwrap(),
            "held"
        );
        assert!(store.stale_links(5000, 1001).await.unwrap().is_empty());
        assert!(
            !store.claim_link_end("l1", "sweeper", 1001).await.unwrap(),
            "nor the sweeper"
        );
        assert!(
            store.sessions_left_open().await.unwrap().is_empty(),
            "the session of a link being ended stays open"
        );
        assert!(store.hold_link_end("l1", "a", 1030).await.unwrap());
        let until = 1030 + super::LINK_END_LEASE_SECS;
        assert!(!store.claim_link_end("l1", "b", until - 1).await.unwrap());
        // The holder died: its lease runs out and the link is taken over.
        assert!(store.claim_link_end("l1", "b", until + 1).await.unwrap());
        assert!(!store.hold_link_end("l1", "a", until + 2).await.unwrap());
        assert!(!store.release_link_end("l1", "a").await.unwrap());
        assert!(!store.end_link_unlinked("l1", "a", "failed").await.unwrap());
        let c = StoredConnection {
            id: "c1".into(),
            company: "ACME".into(),
            bank_name: "Demo Bank".into(),
            bank_code: "88888888".into(),
            consent_id: "k".into(),
            consent_token_sealed: "s".into(),
            consent_start: "2026-01-01".into(),
            consent_expires_on: "2026-04-01".into(),
        };
        assert_eq!(
            store.save_linked("l1", "a", &c, &[], 0).await.unwrap(),
            None
        );
        assert!(
            store.connections().await.unwrap().is_empty(),
            "nothing written"
        );
        assert_eq!(store.link("l1").await.unwrap().unwrap().state, "ending");
        // The new holder gives it back (the bank still confirms); then it dies holding it
        // again, and the sweeper ends the link and closes its session.
        assert!(store.release_link_end("l1", "b").await.unwrap());
        assert!(store.claim_link_end("l1", "c", until + 3).await.unwrap());
        let later = until + 3 + super::LINK_END_LEASE_SECS + 1;
        let stale = store.stale_links(later, later).await.unwrap();
        assert_eq!(stale.len(), 1);
        assert!(store.claim_link_end("l1", "sweeper", later).await.unwrap());
        assert!(store
            .end_link_unlinked("l1", "sweeper", "timed_out")
            .await
            .unwrap());
        assert_eq!(store.sessions_left_open().await.unwrap(), vec!["x1"]);
        assert!(!store.end_link_unlinked("l1", "c", "failed").await.unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
