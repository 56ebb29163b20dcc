//! Bookkeepers' sign-in sessions, in the database, so that every instance behind a load
//! balancer knows who is signed in, and a restart signs nobody out before their eight hours.
//! The cookie's session id and the CSRF token are random 256-bit values; only their SHA-256
//! digests are stored, so the database alone signs nobody in.

use crate::store::Store;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// A signed-in bookkeeper as stored: who, and the digest of their CSRF token.
#[derive(Clone, Debug)]
pub struct StoredBookkeeper {
    pub user: String,
    pub csrf_digest: String,
}

/// Hex SHA-256 of a session id or CSRF token.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    pub async fn insert_bookkeeper_session(
        &self,
        id: &str,
        user: &str,
        csrf: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO bookkeeper_sessions (id_digest, user_name, csrf_digest, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(digest(id))
        .bind(user)
        .bind(digest(csrf))
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session behind a cookie's id, if it has not expired at `now`.
    pub async fn bookkeeper_session(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<StoredBookkeeper>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT user_name, csrf_digest FROM bookkeeper_sessions WHERE id_digest = $1 AND expires_at > $2",
        )
        .bind(digest(id))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(StoredBookkeeper {
                user: r.try_get("user_name")?,
                csrf_digest: r.try_get("csrf_digest")?,
            })
        })
        .transpose()
    }

    pub async fn delete_bookkeeper_session(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM bookkeeper_sessions WHERE id_digest = $1")
            .bind(digest(id))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn purge_bookkeeper_sessions(&self, now: i64) -> Result<u64, sqlx::Error> {
        sqlx::query("DELETE FROM bookkeeper_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::digest;

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
