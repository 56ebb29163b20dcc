//! Every ending of the XS2A app launcher, as the page reports it to `/api/bank-links/{id}/end`
//! (issue 10): whatever callback came, and in whatever order, the server reads the flow from
//! Klarna. A finished flow is linked (once, also when `onClose` came first); a flow the
//! launcher can no longer finish has its XS2A session closed at once, never left to the
//! sweeper; "check again" is offered while the bank is still confirming, whichever callback
//! came first. Two reports of one ending at once read the consent once. After each kind of
//! ending the sandbox counts the sessions left open.

mod bank;
mod common;

use bank::*;
use klarna::api::{ApiError, ErrorCode, LinkedBank, SyncOutcome};
use serde_json::json;

async fn error_of(r: reqwest::Response) -> (u16, ApiError) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// How the sandbox's launcher stand-in ends its flows from now on.
async fn launcher_endings(env: &Env, endings: &str) {
    let r = env
        .http
        .post(format!("{}/_control/xs2a/launcher-endings", env.klarna))
        .json(&json!({ "endings": endings }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{endings}");
}

/// Consents Klarna handed out so far: each read issued a new token and killed the one before.
async fn consent_reads(env: &Env) -> i64 {
    env.klarna_json("/_control/xs2a/consent-reads").await["reads"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn an_unfinished_flow_is_closed_at_once_on_every_ending_that_gives_it_up() {
    let env = start_with(|_| {}).await.signed_in().await;
    let cases = [
        // onFinished for a flow the bank never finished: the launcher is gone, nobody can.
        (
            "finished",
            422,
            ErrorCode::LinkFailed,
            "before your bank confirmed",
        ),
        (
            "closed",
            422,
            ErrorCode::LinkAborted,
            "You closed the bank's window",
        ),
        (
            "aborted",
            422,
            ErrorCode::LinkAborted,
            "You closed the bank's window",
        ),
        // onError() without an argument: the page reports it all the same.
        ("error", 422, ErrorCode::LinkFailed, "stopped with an error"),
        // The bookkeeper started over.
        ("given_up", 422, ErrorCode::LinkAborted, "given up"),
    ];
    for (ending, status, code, says) in cases {
        let started = env.start_link().await;
        assert_eq!(env.open_xs2a_sessions().await, 1, "{ending}");
        let r = env.end(&started.link, ending).await;
        let (got, e) = error_of(r).await;
        assert_eq!((got, e.code), (status, code), "{ending}: {e:?}");
        assert!(e.message.contains(says), "{ending}: {}", e.message);
        assert_eq!(
            env.open_xs2a_sessions().await,
            0,
            "{ending}: the session is closed at once, not by the sweeper"
        );
        assert_eq!(env.flow_state(&started.client_token).await, "ABORTED");
        // A late second callback meets a closed link, and no check-again.
        let again = env.end(&started.link, "finished").await;
        assert_eq!(
            code_of(again).await,
            (422, ErrorCode::LinkFailed),
            "{ending}"
        );
    }
}

#[tokio::test]
async fn on_close_before_on_finished_links_the_bank_once() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    env.run_test_bank(&started.client_token, "embedded").await;
    let r = env.end(&started.link, "closed").await;
    assert_eq!(
        r.status(),
        200,
        "onClose came first: the flow finished all the same"
    );
    let first: LinkedBank = r.json().await.unwrap();
    assert_eq!(first.bank_name, "Demo Bank");
    assert_eq!(env.open_xs2a_sessions().await, 0);
    // onFinished follows: the same bank, not a second connection, not an error.
    for ending in ["finished", "closed", "error"] {
        let r = env.end(&started.link, ending).await;
        assert_eq!(r.status(), 200, "{ending}");
        let again: LinkedBank = r.json().await.unwrap();
        assert_eq!(again, first, "{ending}");
    }
    let banks: Vec<LinkedBank> = env.get_ok("/api/banks").await;
    assert_eq!(banks, vec![first]);
}

#[tokio::test]
async fn a_bank_still_confirming_after_on_finished_can_be_checked_again() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    env.run_test_bank(&started.client_token, "decoupled").await;
    // The approval in the banking app is due two seconds after the login: held off here by
    // turning the clock back an hour, so the flow stays PROCESSING however slow the test runs.
    env.clock.set(JUNE_15 - 3600);
    assert_eq!(env.flow_state(&started.client_token).await, "PROCESSING");
    let r = env.end(&started.link, "finished").await;
    let (status, e) = error_of(r).await;
    assert_eq!((status, e.code), (409, ErrorCode::LinkNotFinished), "{e:?}");
    assert!(e.message.contains("Check again"), "{}", e.message);
    assert_eq!(
        env.open_xs2a_sessions().await,
        1,
        "kept while the bank may still confirm"
    );
    // The bank confirms; the bookkeeper's "check again" links it.
    env.clock.set(JUNE_15 + 60);
    let r = env.end(&started.link, "finished").await;
    assert_eq!(r.status(), 200);
    let bank: LinkedBank = r.json().await.unwrap();
    assert_eq!(bank.accounts.len(), 2);
    assert_eq!(env.open_xs2a_sessions().await, 0);
}

#[tokio::test]
async fn starting_over_while_the_bank_confirms_closes_the_old_session() {
    let env = start_with(|_| {}).await.signed_in().await;
    let old = env.start_link().await;
    env.run_test_bank(&old.client_token, "decoupled").await;
    env.clock.set(JUNE_15 - 3600);
    let r = env.end(&old.link, "finished").await;
    assert_eq!(code_of(r).await, (409, ErrorCode::LinkNotFinished));
    // The page gives the old link up before it starts the new one.
    let r = env.end(&old.link, "given_up").await;
    assert_eq!(code_of(r).await, (422, ErrorCode::LinkAborted));
    assert_eq!(env.open_xs2a_sessions().await, 0);
    let new = env.start_link().await;
    env.run_test_bank(&new.client_token, "embedded").await;
    let r = env.end(&new.link, "finished").await;
    assert_eq!(r.status(), 200);
    assert_eq!(env.open_xs2a_sessions().await, 0);
    // The old link stays given up: its bank's late approval links nothing.
    env.clock.set(JUNE_15 + 60);
    let r = env.end(&old.link, "finished").await;
    assert_eq!(code_of(r).await, (422, ErrorCode::LinkFailed));
}

#[tokio::test]
async fn a_bank_error_without_an_argument_says_the_banks_reason_and_closes() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    env.run_test_bank(&started.client_token, "bank-maintenance")
        .await;
    let (status, e) = error_of(env.end(&started.link, "error").await).await;
    assert_eq!((status, e.code), (422, ErrorCode::LinkFailed));
    assert!(e.message.contains("maintenance"), "{}", e.message);
    assert_eq!(env.open_xs2a_sessions().await, 0);
}

#[tokio::test]
async fn an_ending_the_server_does_not_know_is_refused_naming_the_field() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    let r = env.end(&started.link, "vanished").await;
    let (status, e) = error_of(r).await;
    assert_eq!(status, 400, "{e:?}");
    assert!(
        e.fields.iter().any(|f| f.field == "ending") || e.message.contains("ending"),
        "{e:?}"
    );
    assert_eq!(env.open_xs2a_sessions().await, 1, "nothing ended");
    // Hostile ids are only ever a value in a query: unknown links.
    for id in ["..%2F..%2Fsandbox%2F_control", "%27%3B--", "x%00y"] {
        let r = env.end(id, "closed").await;
        assert_eq!(code_of(r).await, (404, ErrorCode::UnknownSession), "{id}");
    }
    assert_eq!(env.open_xs2a_sessions().await, 1);
    // And on every account path, read or write.
    for id in ["..%2F..%2Fsandbox%2F_control", "%27%3B--", "x%00y"] {
        for (method, path) in [
            ("GET", format!("/api/accounts/{id}/sync")),
            ("POST", format!("/api/accounts/{id}/sync")),
            ("GET", format!("/api/accounts/{id}/transactions")),
            ("GET", format!("/api/accounts/{id}/transactions/pending")),
            ("GET", format!("/api/accounts/{id}/transactions.csv")),
        ] {
            let r = match method {
                "GET" => env.get(&path),
                _ => env.post(&path).json(&json!({})),
            };
            let r = r.send().await.unwrap();
            assert_eq!(
                code_of(r).await,
                (404, ErrorCode::UnknownSession),
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn two_reports_of_one_ending_at_once_read_the_consent_once() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    env.run_test_bank(&started.client_token, "embedded").await;
    // A slow consent read: the second report (a retry after a timeout, a second tab) surely
    // arrives while the first is still reading it.
    env.sandbox.set_faults(sandbox::Faults {
        latency_ms: 600,
        path_contains: "/consent/get".into(),
        ..Default::default()
    });
    let (a, b) = tokio::join!(
        env.end(&started.link, "finished"),
        env.end(&started.link, "closed")
    );
    let (a_status, b_status) = (a.status().as_u16(), b.status().as_u16());
    assert_eq!(
        (a_status, b_status),
        (200, 200),
        "neither fails, both say the bank"
    );
    let a: LinkedBank = a.json().await.unwrap();
    let b: LinkedBank = b.json().await.unwrap();
    assert_eq!(a, b);
    env.sandbox.set_faults(sandbox::Faults::default());
    assert_eq!(
        consent_reads(&env).await,
        1,
        "a second read would have killed the first token"
    );
    let banks: Vec<LinkedBank> = env.get_ok("/api/banks").await;
    assert_eq!(banks, vec![a.clone()], "one connection");
    assert_eq!(env.open_xs2a_sessions().await, 0);
    // The link stays linked: a later report answers the same bank.
    let r = env.end(&started.link, "error").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<LinkedBank>().await.unwrap(), a);
    // The stored token is the one Klarna holds current.
    let synced = env.synced(&a.accounts[0].id, json!({})).await;
    assert_eq!(synced.outcome, Some(SyncOutcome::Ok), "{synced:?}");
}

#[tokio::test]
async fn on_close_while_the_bank_confirms_keeps_the_session_to_check_again() {
    let env = start_with(|_| {}).await.signed_in().await;
    // Klarna does not say whether onClose may come before onFinished (contract §0): the page
    // reports only the first callback it hears.
    launcher_endings(&env, "close_first").await;
    let started = env.start_link().await;
    env.run_test_bank(&started.client_token, "decoupled").await;
    // The banking app's approval is held off by turning the clock back an hour.
    env.clock.set(JUNE_15 - 3600);
    assert_eq!(env.flow_state(&started.client_token).await, "PROCESSING");
    for ending in ["closed", "aborted", "error"] {
        let (status, e) = error_of(env.end(&started.link, ending).await).await;
        assert_eq!(
            (status, e.code),
            (409, ErrorCode::LinkNotFinished),
            "{ending}: {e:?}"
        );
        assert!(e.message.contains("Check again"), "{}", e.message);
        assert_eq!(
            env.open_xs2a_sessions().await,
            1,
            "{ending}: kept while the bank may still confirm"
        );
    }
    assert_eq!(env.flow_state(&started.client_token).await, "PROCESSING");
    // The bank confirms; "check again" repeats the ending it reported, and links once.
    env.clock.set(JUNE_15 + 60);
    let r = env.end(&started.link, "closed").await;
    assert_eq!(r.status(), 200);
    let bank: LinkedBank = r.json().await.unwrap();
    assert_eq!(bank.accounts.len(), 2);
    assert_eq!(env.open_xs2a_sessions().await, 0);
    let r = env.end(&started.link, "finished").await;
    assert_eq!(r.status(), 200, "the late onFinished: the same bank");
    assert_eq!(r.json::<LinkedBank>().await.unwrap(), bank);
    assert_eq!(consent_reads(&env).await, 1);
}

#[tokio::test]
async fn a_failure_after_the_bank_said_yes_keeps_the_link_for_the_retry() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    env.run_test_bank(&started.client_token, "embedded").await;
    // Klarna issues the consent, but its answer cannot be read: not a refusal, not Klarna
    // being down, so nothing says the link is lost.
    env.sandbox.set_faults(sandbox::Faults {
        garble_next: 1,
        path_contains: "/consent/get".into(),
        ..Default::default()
    });
    let (status, e) = error_of(env.end(&started.link, "finished").await).await;
    assert_eq!(status, 500, "{e:?}");
    assert!(e.support_id.is_some(), "{e:?}");
    assert_eq!(consent_reads(&env).await, 1);
    assert_eq!(
        env.open_xs2a_sessions().await,
        1,
        "the session is kept for the retry"
    );
    // The retry reads the consent again and links the bank.
    let r = env.end(&started.link, "closed").await;
    assert_eq!(r.status(), 200);
    let bank: LinkedBank = r.json().await.unwrap();
    assert_eq!(
        (bank.bank_name.as_str(), bank.accounts.len()),
        ("Demo Bank", 2)
    );
    assert_eq!(env.open_xs2a_sessions().await, 0);
}

#[tokio::test]
async fn two_links_of_the_same_new_bank_at_once_make_one_connection() {
    let env = start_with(|_| {}).await.signed_in().await;
    let (a, b) = (env.start_link().await, env.start_link().await);
    env.run_test_bank(&a.client_token, "embedded").await;
    env.run_test_bank(&b.client_token, "embedded").await;
    let (ra, rb) = tokio::join!(env.end(&a.link, "finished"), env.end(&b.link, "finished"));
    assert_eq!((ra.status().as_u16(), rb.status().as_u16()), (200, 200));
    let (ba, bb): (LinkedBank, LinkedBank) = (ra.json().await.unwrap(), rb.json().await.unwrap());
    assert_eq!(ba.connection, bb.connection);
    let banks: Vec<LinkedBank> = env.get_ok("/api/banks").await;
    assert_eq!(banks.len(), 1, "{banks:?}");
    assert_eq!(banks[0].accounts.len(), 2);
    assert_eq!(env.open_xs2a_sessions().await, 0);
}

#[tokio::test]
async fn the_sweeper_links_a_finished_flow_whose_tab_closed_and_ends_an_unfinished_one() {
    let env = start_with(|cfg| cfg.link_timeout_secs = 2)
        .await
        .signed_in()
        .await;
    let finished = env.start_link().await;
    // Nothing is stale while the clock stands a minute back, however slow the test runs.
    env.clock.set(JUNE_15 - 60);
    let unfinished = env.start_link().await;
    env.run_test_bank(&finished.client_token, "embedded").await;
    assert_eq!(env.open_xs2a_sessions().await, 2);
    // Neither browser ever reports; the sweeper comes (before Klarna's own session timeout).
    env.clock.set(JUNE_15 + 60);
    env.wait_until_no_session_is_open().await;
    let banks: Vec<LinkedBank> = env.get_ok("/api/banks").await;
    assert_eq!(banks.len(), 1, "the finished flow is linked: {banks:?}");
    assert_eq!(banks[0].accounts.len(), 2);
    // A late report of either: the bank linked, and a closed link.
    let r = env.end(&finished.link, "finished").await;
    assert_eq!(r.status(), 200);
    let again: LinkedBank = r.json().await.unwrap();
    assert_eq!(again.connection, banks[0].connection);
    let r = env.end(&unfinished.link, "finished").await;
    assert_eq!(code_of(r).await, (422, ErrorCode::LinkFailed));
    assert_eq!(env.flow_state(&unfinished.client_token).await, "ABORTED");
}
