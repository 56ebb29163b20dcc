//! Syncs as server tasks (issue 10): a sync that lost its lease never writes its older
//! consent token over the newer one, and a sync whose server stopped ends (failed, with a
//! reason) instead of staying "running"; another instance on the same database takes over.

mod bank;
mod common;

use bank::*;
use klarna::api::SyncOutcome;
use serde_json::json;
use server::sync_store::SYNC_LEASE_SECS;
use std::time::Duration;

/// Waits (up to ten seconds) until the connection's consent token is past `generation`: a
/// sync stored a new one.
async fn token_past(env: &Env, connection: &str, generation: i64) -> i64 {
    common::until("a new consent token", Duration::from_secs(10), || async {
        let store = &env.server.state.store;
        let (_, g, _) = store.consent_token(connection).await.unwrap().unwrap();
        (g > generation).then_some(g)
    })
    .await
}

#[tokio::test]
async fn a_sync_that_lost_its_lease_never_overwrites_the_newer_token() {
    let env = start_with(|_| {}).await.signed_in().await;
    let bank = env.linked_bank().await;
    let account = &bank.accounts[0].id;
    let (_, before, _) = env
        .server
        .state
        .store
        .consent_token(&bank.connection)
        .await
        .unwrap()
        .unwrap();
    env.sandbox.set_faults(sandbox::Faults {
        answer_delay_ms: 400,
        path_contains: "/transactions".into(),
        ..Default::default()
    });
    // A's first call reached Klarna (which rotated the token) but its answer is still on its
    // way when A's lease runs out (its server seems gone) and B starts with the same token:
    // B's is refused and answered with the token it presented.
    let seen = env.psu_seen().await.len();
    assert_eq!(env.sync(account, json!({})).await.status(), 202);
    common::until(
        "A's call to reach Klarna",
        Duration::from_secs(10),
        || async { (env.psu_seen().await.len() > seen).then_some(()) },
    )
    .await;
    env.clock.advance(SYNC_LEASE_SECS + 1);
    let b = env.sync(account, json!({})).await;
    assert_eq!(b.status(), 202, "A's lease ran out");
    let b = env.sync_ended(account).await;
    assert!(
        matches!(b.outcome, Some(SyncOutcome::Failed { .. })),
        "Klarna refused B's token: {b:?}"
    );
    // A stores the token Klarna rotated (the newest), then stops: its lease is gone.
    token_past(&env, &bank.connection, before).await;
    env.sandbox.set_faults(sandbox::Faults::default());
    let c = env.synced(account, json!({})).await;
    assert_eq!(
        c.outcome,
        Some(SyncOutcome::Ok),
        "the newest token was kept: {c:?}"
    );
    assert!(c.pages > 0);
}

#[tokio::test]
async fn a_sync_whose_server_stopped_ends_with_a_reason_and_another_instance_syncs() {
    let env = start_with_klarna_apart().await.signed_in().await;
    let bank = env.linked_bank().await;
    let account = &bank.accounts[0].id;
    env.sandbox.set_faults(sandbox::Faults {
        latency_ms: 60_000,
        path_contains: "/transactions".into(),
        ..Default::default()
    });
    assert_eq!(env.sync(account, json!({})).await.status(), 202);
    assert!(env.sync_progress(account).await.running);
    env.server.crash();
    env.sandbox.set_faults(sandbox::Faults::default());

    // Another instance on the same database, after the lease ran out.
    let other = env
        .another_instance(env.clock.now() + SYNC_LEASE_SECS + 5)
        .await;
    let on_other = env.on(other);
    let ended = on_other.sync_progress(account).await;
    assert!(!ended.running, "never stuck running: {ended:?}");
    match &ended.outcome {
        Some(SyncOutcome::Failed { error }) => {
            assert!(
                error.message.contains("stopped before it finished"),
                "{error:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The worker rounds end it for good, once, in the database.
    server::workers::run_round(&on_other.server.state, false).await;
    let stored = on_other
        .server
        .state
        .store
        .stored_sync(account, on_other.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.abandoned && !stored.progress.running, "{stored:?}");
    assert_eq!(stored.progress.outcome, ended.outcome);
    // The bank can be synced again at once.
    let again = on_other.sync(account, json!({})).await;
    assert_eq!(again.status(), 202);
    let again = on_other.sync_ended(account).await;
    assert!(again.outcome.is_some(), "{again:?}");
}

/// The bookkeeper renews the bank (a new consent and token) while a sync of it runs: the sync
/// ends at once with the reason instead of hanging "running" until its lease runs out, never
/// sends the new token with the old consent, and the next sync works on the new consent.
#[tokio::test]
async fn a_sync_that_meets_a_renewed_consent_ends_with_the_reason() {
    let env = start_with(|_| {}).await.signed_in().await;
    let bank = env.linked_bank().await;
    let account = &bank.accounts[0].id;
    // The sync's first call waits at Klarna's door until the renewal is done: the renewal
    // takes well under a second; the wait is long so that a loaded machine cannot outrun it.
    env.sandbox.set_faults(sandbox::Faults {
        latency_ms: 8_000,
        path_contains: "/transactions".into(),
        ..Default::default()
    });
    assert_eq!(env.sync(account, json!({})).await.status(), 202);
    let renewed = env.linked_bank().await;
    assert_eq!(
        renewed.connection, bank.connection,
        "renewed, not linked twice"
    );
    let ended = env.sync_ended(account).await;
    match &ended.outcome {
        Some(SyncOutcome::Failed { error }) => {
            assert!(error.message.contains("linked again"), "{error:?}")
        }
        other => panic!("{other:?}"),
    }
    env.sandbox.set_faults(sandbox::Faults::default());
    let next = env.synced(account, json!({})).await;
    assert_eq!(next.outcome, Some(SyncOutcome::Ok), "{next:?}");
}
