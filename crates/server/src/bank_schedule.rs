//! Scheduled syncs (`KC_SYNC_SCHEDULE`): once a day, at a set time (UTC), every linked
//! account whose consent is still valid is synced, unattended (no psu: nobody is at the
//! keyboard). Every instance's worker round looks; the day's run is one row in the database,
//! unique by date, so one instance does it. A bank whose consent has expired is skipped and
//! marked with the day, so the page can say it was not synced and ask for a renewal.

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

/// Worker round: starts the day's run when it is due and no instance has taken it yet.
pub async fn run_due(app: &AppState) {
    let Some(day) = app.config.sync_schedule.due(app.clock.now()) else {
        return;
    };
    let day = day.to_string();
    match app.store.schedule_ran(&day).await {
        Ok(false) => {}
        Ok(true) => return,
        Err(e) => return tracing::warn!("reading the sync schedule: {e}"),
    }
    match app.store.claim_schedule_run(&day, app.clock.now()).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => return tracing::warn!("claiming the scheduled sync of {day}: {e}"),
    }
    tracing::info!(%day, "scheduled sync starts");
    let task = {
        let app = app.clone();
        tokio::spawn(crate::lang::within(Lang::En, async move {
            if let Err(e) = run_day(&app).await {
                tracing::error!("scheduled sync: {e}");
            }
        }))
    };
    app.keep_task(task);
}

/// Syncs every account whose consent is valid, one after another; marks the expired.
pub async fn run_day(app: &AppState) -> Result<(), sqlx::Error> {
    for c in app.store.connections().await? {
        let today = Date::from_unix(app.clock.now());
        for account in app.store.accounts_of(&c.id).await? {
            let Some(t) = app.store.sync_target(&account.id).await? else {
                continue;
            };
            if check_consent(&t, today).is_err() {
                tracing::warn!(connection = %c.id, "scheduled sync skipped: the consent expired");
                app.store
                    .mark_schedule_skipped(&c.id, &today.to_string())
                    .await?;
                break;
            }
            let Ok(mut progress) = plan(&t, None, today) else {
                continue;
            };
            progress.scheduled = true;
            match task::begin(app, &t, &progress, Lang::En).await {
                Ok(job) => {
                    task::run(app, &t, &job, progress, None).await;
                }
                Err(e) => {
                    tracing::warn!(account = %account.id, code = ?e.body.code, "scheduled sync not started")
                }
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
