//! Scheduled syncs (`KC_SYNC_SCHEDULE`): once a day, at a set time (UTC), every linked
//! account whose consent is still valid is synced, unattended (no psu: nobody is at the
//! keyboard). At least once, never twice: from the set time on, every worker round of every
//! instance syncs the accounts not yet done that day (`schedule_store.rs`); an account is done
//! once a scheduled sync of it ended `ok` (marked under the bank's sync lease, so the next
//! holder sees it). A bank busy with another sync, or a run cut short by a crash or redeploy,
//! is picked up by a later round; a scheduled sync that failed is tried again at most
//! [`TRIES_PER_DAY`] times a day, [`RETRY_AFTER_SECS`] apart. A bank whose consent has expired
//! is skipped and marked with the day, so the page can say it was not synced and ask for a
//! renewal.

use crate::bank_sync::{check_consent, plan, task};
use crate::state::AppState;
use klarna::date::Date;
use klarna::Lang;

/// When scheduled syncs run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncSchedule {
    Off,
    /// Every day once `minute` minutes of the UTC day have passed (a server that was down
    /// then runs the day's sync when it starts).
    Daily {
        minute: u32,
    },
}

/// `daily` runs at this time (UTC): a quiet hour for banks and bookkeepers.
pub const DAILY_DEFAULT: SyncSchedule = SyncSchedule::Daily { minute: 3 * 60 };

impl SyncSchedule {
    /// `off`, `daily` (03:00 UTC) or a time of day `HH:MM` (UTC, daily).
    pub fn parse(text: &str) -> Option<SyncSchedule> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "off" => return Some(SyncSchedule::Off),
            "daily" => return Some(DAILY_DEFAULT),
            _ => {}
        }
        let (h, m) = text.split_once(':')?;
        let number = |s: &str, below: u32| {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
                .filter(|n| *n < below)
        };
        Some(SyncSchedule::Daily {
            minute: number(h, 24)? * 60 + number(m, 60)?,
        })
    }

    /// The day whose run is due at `now`, if any.
    pub fn due(self, now: i64) -> Option<Date> {
        match self {
            SyncSchedule::Off => None,
            SyncSchedule::Daily { minute } => {
                (now.rem_euclid(86_400) >= i64::from(minute) * 60).then(|| Date::from_unix(now))
            }
        }
    }
}

/// Scheduled syncs of one account a day, at most (a crash mid-sync counts as one).
pub const TRIES_PER_DAY: i64 = 3;
/// Time between two tries of one account (Klarna down: later, not at every round).
pub const RETRY_AFTER_SECS: i64 = 15 * 60;

/// Worker round: while the day's schedule is due, syncs what is left of it in a task of
/// this instance (one at a time; the next round looks again).
pub async fn run_due(app: &AppState) {
    let Some(day) = app.config.sync_schedule.due(app.clock.now()) else {
        return;
    };
    let Ok(guard) = app.schedule_running.clone().try_lock_owned() else {
        return;
    };
    let now = app.clock.now();
    let due = match app
        .store
        .schedule_due(&day.to_string(), TRIES_PER_DAY, now - RETRY_AFTER_SECS, now)
        .await
    {
        Ok(due) if due.is_empty() => return,
        Ok(due) => due,
        Err(e) => return tracing::warn!("reading the sync schedule: {e}"),
    };
    tracing::info!(%day, accounts = due.len(), "scheduled syncs start");
    let task = {
        let app = app.clone();
        tokio::spawn(crate::lang::within(Lang::En, async move {
            if let Err(e) = run_day(&app, day, &due).await {
                tracing::error!("scheduled sync: {e}");
            }
            drop(guard);
        }))
    };
    app.keep_task(task);
}

/// Syncs the `accounts` due on `day` whose consent is valid, one after another; marks the
/// expired. A bank busy with another sync is left for a later round.
pub async fn run_day(app: &AppState, day: Date, accounts: &[String]) -> Result<(), sqlx::Error> {
    let day_text = day.to_string();
    for account in accounts {
        let Some(t) = app.store.sync_target(account).await? else {
            continue;
        };
        let connection = &t.connection.id;
        if check_consent(&t, day).is_err() {
            tracing::warn!(%connection, "scheduled sync skipped: the consent expired");
            app.store
                .mark_schedule_skipped(connection, &day_text)
                .await?;
            continue;
        }
        let Ok(mut progress) = plan(&t, None, day) else {
            continue;
        };
        progress.scheduled = true;
        let job = match task::claim(app, &t).await {
            Ok(job) => job,
            Err(e) => {
                tracing::info!(%account, code = ?e.body.code, "scheduled sync later: the bank is busy");
                continue;
            }
        };
        let now = app.clock.now();
        let tried = app
            .store
            .try_scheduled(
                account,
                &day_text,
                TRIES_PER_DAY,
                now - RETRY_AFTER_SECS,
                now,
            )
            .await;
        if !matches!(tried, Ok(true)) {
            // Done meanwhile (by another instance), or out of tries.
            app.store.release_sync(connection, &job).await?;
            tried?;
            continue;
        }
        match task::record(app, &t, &job, &progress, Lang::En).await {
            Ok(()) => {
                task::run(app, &t, &job, progress, None).await;
            }
            Err(e) => {
                tracing::warn!(%account, code = ?e.body.code, "scheduled sync not started")
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_off_daily_and_a_time_of_day() {
        assert_eq!(SyncSchedule::parse("off"), Some(SyncSchedule::Off));
        assert_eq!(SyncSchedule::parse(" Daily "), Some(DAILY_DEFAULT));
        assert_eq!(
            SyncSchedule::parse("06:30"),
            Some(SyncSchedule::Daily { minute: 390 })
        );
        for bad in ["", "24:00", "6:30", "06:60", "06-30", "weekly", "+6:30"] {
            assert_eq!(SyncSchedule::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_day_is_due_from_its_time_on() {
        // 2026-06-15T10:00:00Z
        let ten = 1_781_517_600;
        let at = |minute| SyncSchedule::Daily { minute }.due(ten);
        assert_eq!(
            at(600).map(|d| d.to_string()).as_deref(),
            Some("2026-06-15")
        );
        assert_eq!(at(601), None);
        assert_eq!(SyncSchedule::Off.due(ten), None);
    }
}
