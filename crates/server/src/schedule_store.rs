//! What the daily schedule (`bank_schedule.rs`) keeps in the database, so every instance's
//! worker round agrees on what is left of the day: per account the day the schedule synced it
//! (`schedule_done_on`, written with the sync's `ok` end under its lease, see
//! [`Store::end_sync`]) and its tries that day; per connection the day the schedule skipped it
//! for an expired consent (the bank page shows it until the bank is linked again).

use crate::store::Store;

impl Store {
    /// Accounts the schedule of `day` has not done yet and may try now: not synced `ok` by it,
    /// their bank not skipped that day, fewer than `max_tries` tries that day, the last before
    /// `tried_before`, and no sync of their bank running. Banks, then accounts, by name.
    pub async fn schedule_due(
        &self,
        day: &str,
        max_tries: i64,
        tried_before: i64,
        now: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT a.id FROM bank_accounts a JOIN bank_connections c ON c.id = a.connection_id
             WHERE COALESCE(a.schedule_done_on, '') <> $1 AND COALESCE(c.schedule_skipped_on, '') <> $2
               AND (COALESCE(a.schedule_tried_on, '') <> $3 OR (a.schedule_tries < $4 AND a.schedule_tried_at < $5))
               AND c.sync_lease_until < $6
             ORDER BY c.company, c.bank_name, a.name, a.id",
        )
        .bind(day)
        .bind(day)
        .bind(day)
        .bind(max_tries)
        .bind(tried_before)
        .bind(now)
        .fetch_all(&self.pool)
        .await
    }

    /// Counts a try of the schedule of `day` on the account, unless it is done for the day or
    /// out of tries; false then. Called while holding the bank's sync lease: a done mark
    /// written by the previous holder is seen here.
    pub async fn try_scheduled(
        &self,
        account_id: &str,
        day: &str,
        max_tries: i64,
        tried_before: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE bank_accounts SET
                 schedule_tries = CASE WHEN schedule_tried_on = $1 THEN schedule_tries + 1 ELSE 1 END,
                 schedule_tried_on = $2, schedule_tried_at = $3
             WHERE id = $4 AND COALESCE(schedule_done_on, '') <> $5
               AND (COALESCE(schedule_tried_on, '') <> $6 OR (schedule_tries < $7 AND schedule_tried_at < $8))",
        )
        .bind(day)
        .bind(day)
        .bind(now)
        .bind(account_id)
        .bind(day)
        .bind(day)
        .bind(max_tries)
        .bind(tried_before)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The scheduled run of `date` skipped the connection: its consent had expired.
    pub async fn mark_schedule_skipped(
        &self,
        connection_id: &str,
        date: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE bank_connections SET schedule_skipped_on = $1 WHERE id = $2")
            .bind(date)
            .bind(connection_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn schedule_skipped_on(
        &self,
        connection_id: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let day: Option<Option<String>> =
            sqlx::query_scalar("SELECT schedule_skipped_on FROM bank_connections WHERE id = $1")
                .bind(connection_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(day.flatten())
    }
}
