//! Sign-in attempts per client ([`ClientKey`]: the same address, or IPv6 /64, that the checkout
//! rate limits count by; behind a trusted proxy, the client it forwards for). Argon2 makes each
//! guess slow for us too, so after a few wrong passwords a client waits before the server
//! verifies another one: guessing stays hopeless and nobody can keep the machine busy with it.
//! An attempt counts when it starts, in one atomic statement, so parallel guesses cannot all
//! slip through before the first one is judged; a right password clears the count. The counts
//! live in the database, so they hold across instances and restarts.

use crate::client_addr::ClientKey;
use crate::store::Store;

/// Wrong passwords allowed per window before the client must wait.
pub const MAX_FAILURES: i64 = 5;
/// The window, and the wait once it is used up.
pub const WINDOW_SECS: i64 = 60;

impl Store {
    /// Counts an attempt of `client`, or says how many seconds it must still wait.
    pub async fn sign_in_attempt(
        &self,
        client: ClientKey,
        now: i64,
    ) -> Result<Result<(), i64>, sqlx::Error> {
        // A window that has passed starts over; otherwise the attempt is counted in it.
        let (attempts, since): (i64, i64) = sqlx::query_as(
            "INSERT INTO sign_in_attempts (client_key, attempts, window_start) VALUES ($1, 1, $2)
             ON CONFLICT (client_key) DO UPDATE SET
                 attempts = CASE WHEN $3 - sign_in_attempts.window_start >= $4 THEN 1
                                 ELSE sign_in_attempts.attempts + 1 END,
                 window_start = CASE WHEN $5 - sign_in_attempts.window_start >= $6 THEN $7
                                     ELSE sign_in_attempts.window_start END
             RETURNING attempts, window_start",
        )
        .bind(client.to_string())
        .bind(now)
        .bind(now)
        .bind(WINDOW_SECS)
        .bind(now)
        .bind(WINDOW_SECS)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(if attempts > MAX_FAILURES {
            Err((WINDOW_SECS - (now - since)).max(1))
        } else {
            Ok(())
        })
    }

    pub async fn sign_in_succeeded(&self, client: ClientKey) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE client_key = $1")
            .bind(client.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets windows that have passed.
    pub async fn purge_sign_in_attempts(&self, now: i64) -> Result<u64, sqlx::Error> {
        sqlx::query("DELETE FROM sign_in_attempts WHERE window_start < $1")
            .bind(now - WINDOW_SECS)
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn five_failures_make_an_address_wait_a_minute_and_others_not() {
        let dir = std::env::temp_dir().join(format!("kc-throttle-{}", uuid::Uuid::new_v4()));
        let t = Store::open(&dir.join("db.sqlite")).await.unwrap();
        let key = |s: &str| ClientKey::of(s.parse().unwrap());
        let ip = key("192.0.2.1");
        let other = key("192.0.2.2");
        for s in 0..MAX_FAILURES {
            assert_eq!(t.sign_in_attempt(ip, 100 + s).await.unwrap(), Ok(()));
        }
        assert_eq!(t.sign_in_attempt(ip, 110).await.unwrap(), Err(50));
        assert_eq!(t.sign_in_attempt(other, 110).await.unwrap(), Ok(()));
        assert_eq!(
            t.sign_in_attempt(ip, 100 + WINDOW_SECS).await.unwrap(),
            Ok(()),
            "the window passed"
        );
        t.sign_in_succeeded(ip).await.unwrap();
        for s in 0..MAX_FAILURES {
            assert_eq!(
                t.sign_in_attempt(ip, 200 + s).await.unwrap(),
                Ok(()),
                "a right password cleared the count"
            );
        }
        // IPv6 is counted per /64: the neighbour in the same /64 shares the count.
        let a = key("2001:db8:1:2::1");
        let b = key("2001:db8:1:2::ffff");
        for s in 0..MAX_FAILURES {
            assert_eq!(t.sign_in_attempt(a, 300 + s).await.unwrap(), Ok(()));
        }
        assert!(t.sign_in_attempt(b, 306).await.unwrap().is_err());
        let next_net = key("2001:db8:1:3::1");
        assert_eq!(t.sign_in_attempt(next_net, 306).await.unwrap(), Ok(()));
        let _ = std::fs::remove_dir_all(dir);
    }
}
