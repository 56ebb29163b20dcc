//! What Klarna's documentation does not describe, over HTTP: a transaction of an undocumented
//! state, type or shape, or one the documentation rules out (a negative amount, a processed
//! one without id, one without any date), is skipped and counted (`skipped`), never booked nor
//! listed as pending, and the sync goes on (the account's syncs are not stopped for good). An
//! answer the server cannot read at all still has its rotated consent token stored, so the next
//! sync presents the token Klarna expects.

mod bank;
mod common;

use bank::*;
use klarna::api::SyncOutcome;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Syncs `account`, expects it to end well, and returns how many it skipped.
async fn synced_ok(env: &Env, account: &str, body: Value) -> klarna::api::SyncProgress {
    let p = env.synced(account, body).await;
    assert_eq!(p.outcome, Some(SyncOutcome::Ok), "{p:?}");
    p
}

#[tokio::test]
async fn undocumented_states_types_and_shapes_are_skipped_and_the_token_kept() {
    let env = start_with(|_| {}).await.signed_in().await;
    let odd = [
        ("REVERSED-ONE", json!({"wire": {"state": "REVERSED"}})),
        (
            "FEE-ONE",
            json!({"state": "PENDING", "wire": {"type": "FEE"}}),
        ),
        ("TEXT-AMOUNT", json!({"wire": {"amount": "12,00 EUR"}})),
    ];
    for (reference, extra) in &odd {
        env.seed("2026-06-12", -1_200, reference, extra.clone())
            .await;
    }
    env.seed("2026-06-12", 3_300, "PLAIN-ONE", json!({})).await;
    let account = env.giro().await;
    let first = synced_ok(&env, &account, json!({})).await;
    assert_eq!(first.skipped, 3, "{first:?}");
    assert_eq!(
        env.sync_progress(&account).await.skipped,
        3,
        "as GET shows it"
    );
    let booked = env.booked(&account).await;
    let pending = env.pending(&account).await;
    for (reference, _) in &odd {
        assert!(
            booked.iter().all(|t| t.reference != *reference),
            "{booked:?}"
        );
        assert!(
            pending.iter().all(|t| t.reference != *reference),
            "{pending:?}"
        );
    }
    assert!(booked.iter().any(|t| t.reference == "PLAIN-ONE"));
    // The page's rotated token was stored: the next sync (the same days) is accepted.
    let again = synced_ok(&env, &account, json!({"from_date": "2026-06-12"})).await;
    assert_eq!((again.skipped, again.added), (3, 0));
}

#[tokio::test]
async fn transactions_the_documentation_rules_out_do_not_stop_the_accounts_syncs() {
    let env = start_with(|_| {}).await.signed_in().await;
    env.seed(
        "2026-06-12",
        -500,
        "NEGATIVE",
        json!({"wire": {"amount": {"amount": -500, "currency": "EUR"}}}),
    )
    .await;
    env.seed(
        "2026-06-12",
        700,
        "NO-ID",
        json!({"wire": {"transaction_id": null, "id": null}}),
    )
    .await;
    env.seed(
        "2026-06-13",
        900,
        "NO-DATE",
        json!({"wire": {"date": null, "booking_date": null, "value_date": null}}),
    )
    .await;
    env.seed("2026-06-13", 1_100, "PLAIN-ONE", json!({})).await;
    let account = env.giro().await;
    let first = synced_ok(&env, &account, json!({})).await;
    assert_eq!(first.skipped, 3, "{first:?}");
    let booked = env.booked(&account).await;
    for odd in ["NEGATIVE", "NO-ID", "NO-DATE"] {
        assert!(booked.iter().all(|t| t.reference != odd), "{booked:?}");
    }
    assert!(booked.iter().any(|t| t.reference == "PLAIN-ONE"));
    // The sync ended, so the next one (as the schedule's) goes on from where it ended.
    env.clock.set(JUNE_15 + DAY);
    let env = env.signed_in().await;
    let next = synced_ok(&env, &account, json!({})).await;
    assert!(
        next.from_date.as_str() >= "2026-06-15",
        "resumed where the last sync ended: {next:?}"
    );
}

/// Klarna's Open Banking behind a proxy that, while `mangle` is set, answers the first page of
/// transactions with a result we cannot read (`pagination` of another type), everything else
/// (the rotated `consent_token` included) as Klarna sent it.
async fn klarna_behind_a_mangling_proxy(mangle: Arc<AtomicBool>) -> Env {
    let klarna = sandbox::Sandbox::default();
    klarna.clock.set(JUNE_15);
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_base = format!("http://{}", upstream.local_addr().unwrap());
    let router = axum::Router::new().nest(sandbox::MOUNT_PATH, sandbox::router(klarna.clone()));
    tokio::spawn(async move { axum::serve(upstream, router).await.unwrap() });

    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_base = format!(
        "http://{}{}",
        proxy.local_addr().unwrap(),
        sandbox::MOUNT_PATH
    );
    let forward = {
        let upstream_base = upstream_base.clone();
        move |req: axum::extract::Request| {
            let (upstream_base, mangle) = (upstream_base.clone(), mangle.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let mut out = reqwest::Client::new().request(
                    parts.method.clone(),
                    format!("{upstream_base}{}", parts.uri),
                );
                for (k, v) in &parts.headers {
                    if k != "host" && k != "content-length" {
                        out = out.header(k, v);
                    }
                }
                let answer = out.body(body).send().await.unwrap();
                let status = answer.status();
                let mut bytes = answer.bytes().await.unwrap().to_vec();
                if status.is_success()
                    && parts.uri.path().ends_with("/transactions/get")
                    && mangle.load(Ordering::SeqCst)
                {
                    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
                    v["data"]["result"]["pagination"] = json!("not an object");
                    bytes = serde_json::to_vec(&v).unwrap();
                }
                (
                    status,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    bytes,
                )
            }
        }
    };
    let router = axum::Router::new().fallback(forward);
    tokio::spawn(async move { axum::serve(proxy, router).await.unwrap() });

    let mut env = start_with(|cfg| cfg.xs2a_api_url = Some(proxy_base)).await;
    env.klarna = format!("{upstream_base}{}", sandbox::MOUNT_PATH);
    env.sandbox = klarna;
    env
}

/// How many times the account's consent token was replaced.
async fn token_generation(env: &Env, account: &str) -> i64 {
    let store = &env.server.state.store;
    let target = store.sync_target(account).await.unwrap().unwrap();
    store
        .consent_token(&target.connection.id)
        .await
        .unwrap()
        .unwrap()
        .1
}

#[tokio::test]
async fn an_answer_we_cannot_read_still_has_its_rotated_token_stored() {
    let mangle = Arc::new(AtomicBool::new(false));
    let env = klarna_behind_a_mangling_proxy(mangle.clone())
        .await
        .signed_in()
        .await;
    let account = env.giro().await;
    let before = token_generation(&env, &account).await;
    mangle.store(true, Ordering::SeqCst);
    let failed = env.sync_failure(&account, json!({})).await;
    assert!(failed.support_id.is_some(), "a failure of ours: {failed:?}");
    assert_eq!(
        token_generation(&env, &account).await,
        before + 1,
        "the token Klarna rotated with the unreadable page is stored"
    );
    // Klarna answers readably again: the stored token is the one it expects.
    mangle.store(false, Ordering::SeqCst);
    synced_ok(&env, &account, json!({})).await;
}
