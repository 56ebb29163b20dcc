//! Scheduled syncs (`KC_SYNC_SCHEDULE`, issue 10): two instances on one database run the
//! day's sync once, unattended (no psu), skip a bank whose consent expired and report it on
//! `GET /api/banks`; the next day runs again.

mod bank;
mod common;

use bank::*;
use klarna::api::{ConsentState, LinkedBank, SyncOutcome};
use serde_json::Value;
use server::bank_schedule::SyncSchedule;

/// Noon (UTC): the test links its banks in the morning, then the schedule is due.
const NOON: SyncSchedule = SyncSchedule::Daily { minute: 12 * 60 };

/// Consent calls Klarna accepted: `(call, psu)`, oldest first (sessions left out).
async fn consent_calls(env: &Env) -> Vec<(String, Value)> {
    let mut calls = env.psu_seen().await;
    calls.retain(|(call, _)| call != "session");
    calls
}

async fn banks(env: &Env) -> Vec<LinkedBank> {
    env.get_ok("/api/banks").await
}

/// Sets every clock (both instances', Klarna's) to `t`.
fn set_clocks(env: &Env, other: &server::Running, t: i64) {
    env.clock.set(t);
    other.clock.set(t);
    env.sandbox.clock.set(t);
}

/// Both instances run a round at once; then the scheduled syncs of `accounts` up to `day`
/// are awaited.
async fn run_rounds_and_wait(
    env: &Env,
    other: &server::Running,
    accounts: &[String],
    day: &str,
) -> u32 {
    tokio::join!(
        server::workers::run_round(&env.server.state, false),
        server::workers::run_round(&other.state, false)
    );
    let mut pages = 0;
    for account in accounts {
        for _ in 0..1500 {
            let p = env.sync_progress(account).await;
            if p.scheduled && !p.running && p.to_date == day {
                assert_eq!(p.outcome, Some(SyncOutcome::Ok), "{p:?}");
                pages += p.pages;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            env.sync_progress(account).await.to_date == day,
            "the scheduled sync of {day} did not end"
        );
    }
    pages
}

#[tokio::test]
async fn the_daily_sync_runs_once_across_instances_and_reports_expired_consents() {
    let env = klarna_apart_with(|cfg| cfg.sync_schedule = NOON).await;
    // A bank linked 100 days ago: its 90-day consent is over today.
    let long_ago = JUNE_15 - 100 * DAY;
    env.clock.set(long_ago);
    env.sandbox.clock.set(long_ago);
    let env = env.signed_in().await;
    let expired = env.linked_bank_of("Altbestand AG").await;
    env.clock.set(JUNE_15);
    env.sandbox.clock.set(JUNE_15);
    let env = env.signed_in().await;
    let valid = env.linked_bank().await;
    let accounts: Vec<String> = valid.accounts.iter().map(|a| a.id.clone()).collect();

    let other = server::spawn(env.config.clone()).await.unwrap();
    set_clocks(&env, &other, JUNE_15 + 2 * 3600);
    let before = consent_calls(&env).await.len();
    let pages = run_rounds_and_wait(&env, &other, &accounts, "2026-06-15").await;
    let calls = consent_calls(&env).await;
    assert_eq!(
        (calls.len() - before) as u32,
        pages,
        "one sync per account, by one instance: {calls:?}"
    );
    assert!(pages >= accounts.len() as u32);
    assert!(
        calls[before..].iter().all(|(_, psu)| psu.is_null()),
        "unattended: no psu {calls:?}"
    );

    // The expired bank was not asked, and the page can say so.
    let listed = banks(&env).await;
    let old = listed
        .iter()
        .find(|b| b.connection == expired.connection)
        .unwrap();
    assert_eq!(old.consent.state, ConsentState::Expired);
    assert_eq!(old.schedule_skipped_on.as_deref(), Some("2026-06-15"));
    let new = listed
        .iter()
        .find(|b| b.connection == valid.connection)
        .unwrap();
    assert_eq!(new.schedule_skipped_on, None);
    for a in &expired.accounts {
        assert_eq!(env.sync_progress(&a.id).await.pages, 0, "never synced");
    }

    // Later the same day: nothing runs again, on either instance.
    set_clocks(&env, &other, JUNE_15 + 8 * 3600);
    tokio::join!(
        server::workers::run_round(&env.server.state, false),
        server::workers::run_round(&other.state, false)
    );
    assert_eq!(consent_calls(&env).await.len(), calls.len());

    // The next day runs once more.
    set_clocks(&env, &other, JUNE_15 + DAY + 2 * 3600);
    let env = env.signed_in().await;
    let pages = run_rounds_and_wait(&env, &other, &accounts, "2026-06-16").await;
    assert_eq!(
        consent_calls(&env).await.len() - calls.len(),
        pages as usize
    );
    let old = banks(&env).await;
    let old = old
        .iter()
        .find(|b| b.connection == expired.connection)
        .unwrap();
    assert_eq!(old.schedule_skipped_on.as_deref(), Some("2026-06-16"));
}
