//! Scheduled syncs (`KC_SYNC_SCHEDULE`, issue 10): two instances on one database run the
//! day's sync once, unattended (no psu), skip a bank whose consent expired and report it on
//! `GET /api/banks`; the next day runs again. At least once: a bank busy with the bookkeeper's
//! sync, or a run cut short by a crash, is synced by a later round, once.

mod bank;
mod common;

use bank::*;
use klarna::api::{ConsentState, LinkedBank, SyncOutcome};
use serde_json::Value;
use server::bank_schedule::SyncSchedule;
use std::time::Duration;

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
    scheduled_pages(env, accounts, day).await
}

/// Waits (as `env` sees it) for the scheduled syncs of `accounts` up to `day` to end `ok`
/// (one that was cut short is tried again); their pages.
async fn scheduled_pages(env: &Env, accounts: &[String], day: &str) -> u32 {
    let mut pages = 0;
    for account in accounts {
        let what = format!("the scheduled sync of {day} to end ok");
        let p = common::until(&what, Duration::from_secs(30), || async {
            let p = env.sync_progress(account).await;
            let done =
                p.scheduled && !p.running && p.to_date == day && p.outcome == Some(SyncOutcome::Ok);
            done.then_some(p)
        })
        .await;
        pages += p.pages;
    }
    pages
}

fn ids(bank: &LinkedBank) -> Vec<String> {
    bank.accounts.iter().map(|a| a.id.clone()).collect()
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
    let accounts = ids(&valid);

    let other = env.another_instance(env.clock.now()).await;
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

#[tokio::test]
async fn a_bank_busy_with_the_bookkeepers_sync_is_synced_by_a_later_round_once() {
    let env = klarna_apart_with(|cfg| cfg.sync_schedule = NOON)
        .await
        .signed_in()
        .await;
    let bank = env.linked_bank().await;
    let accounts = ids(&bank);
    let other = env.another_instance(env.clock.now()).await;
    // The bookkeeper's sync holds the bank's lease when the schedule comes.
    let two = JUNE_15 + 2 * 3600;
    let store = &env.server.state.store;
    assert!(store
        .claim_sync(&bank.connection, "bookkeeper", two)
        .await
        .unwrap());
    set_clocks(&env, &other, two);
    let before = consent_calls(&env).await.len();
    tokio::join!(
        server::workers::run_round(&env.server.state, false),
        server::workers::run_round(&other.state, false)
    );
    assert_eq!(consent_calls(&env).await.len(), before, "busy: not now");
    for a in &accounts {
        assert!(!env.sync_progress(a).await.scheduled);
    }

    // The bookkeeper's sync ends; a later round of the same day syncs the bank.
    store
        .release_sync(&bank.connection, "bookkeeper")
        .await
        .unwrap();
    set_clocks(&env, &other, two + 600);
    let pages = run_rounds_and_wait(&env, &other, &accounts, "2026-06-15").await;
    let calls = consent_calls(&env).await.len();
    assert_eq!((calls - before) as u32, pages, "one sync per account");
    assert!(pages >= accounts.len() as u32);

    // Once: later rounds that day leave it alone.
    set_clocks(&env, &other, two + 4 * 3600);
    tokio::join!(
        server::workers::run_round(&env.server.state, false),
        server::workers::run_round(&other.state, false)
    );
    assert_eq!(consent_calls(&env).await.len(), calls);
}

#[tokio::test]
async fn a_run_cut_short_by_a_crash_is_finished_by_another_instance() {
    let env = klarna_apart_with(|cfg| cfg.sync_schedule = NOON)
        .await
        .signed_in()
        .await;
    // Banks run by company: Altbestand's first, then Nordlicht's, whose Klarna hangs.
    let first = env.linked_bank_of("Altbestand AG").await;
    let second = env.linked_bank().await;
    let (_, _, consent) = env
        .server
        .state
        .store
        .consent_token(&second.connection)
        .await
        .unwrap()
        .unwrap();
    env.sandbox.set_faults(sandbox::Faults {
        latency_ms: 60_000,
        path_contains: format!("/consents/{consent}/transactions"),
        ..Default::default()
    });
    // Only this instance's clock reaches the schedule's time.
    let other = env.another_instance(env.clock.now()).await;
    let two = JUNE_15 + 2 * 3600;
    env.clock.set(two);
    env.sandbox.clock.set(two);
    server::workers::run_round(&env.server.state, false).await;
    let first_pages = scheduled_pages(&env, &ids(&first), "2026-06-15").await;
    common::until(
        "the second bank's sync to start",
        Duration::from_secs(30),
        || async {
            for a in &second.accounts {
                let p = env.sync_progress(&a.id).await;
                if p.scheduled && p.running {
                    return Some(());
                }
            }
            None
        },
    )
    .await;
    env.server.crash();
    env.sandbox.set_faults(sandbox::Faults::default());
    let before = consent_calls(&env).await.len();

    // Later the same day the other instance syncs the rest, and only the rest.
    let on_other = env.on(other);
    let later = two + 20 * 60;
    on_other.clock.set(later);
    env.sandbox.clock.set(later);
    server::workers::run_round(&on_other.server.state, false).await;
    let pages = scheduled_pages(&on_other, &ids(&second), "2026-06-15").await;
    assert!(pages >= second.accounts.len() as u32);
    assert_eq!(
        (consent_calls(&env).await.len() - before) as u32,
        pages,
        "the first bank was not synced again"
    );
    let mut again = 0;
    for a in &first.accounts {
        again += on_other.sync_progress(&a.id).await.pages;
    }
    assert_eq!(again, first_pages);
}
