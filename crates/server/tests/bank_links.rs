//! Bookkeeper endpoints: sign-in, CSRF, and bank linking against the sandbox's XS2A emulator.
//! Every test runs on a fixed date (the server's clock, which in sandbox mode is Klarna's too),
//! so a bank's history, a consent's 90 days and "1 January of this year" read the same on any
//! day the tests run.

mod bank;
mod common;

use bank::*;
use klarna::api::{ApiError, ErrorCode};
use serde_json::{json, Value};
use server::config::{SANDBOX_BOOKKEEPER, SANDBOX_BOOKKEEPER_PASSWORD};

#[tokio::test]
async fn banking_refuses_strangers_wrong_passwords_and_cross_site_requests() {
    let mut env = start_with(|_| {}).await;
    assert_eq!(
        code_of(env.get("/api/banks").send().await.unwrap()).await,
        (401, ErrorCode::SignInRequired)
    );
    assert_eq!(
        code_of(
            env.post("/api/bank-links")
                .json(&json!({"company": "ACME"}))
                .send()
                .await
                .unwrap()
        )
        .await,
        (401, ErrorCode::SignInRequired)
    );
    assert_eq!(env.sign_in("wrong").await.status(), 401);
    let env = env.signed_in().await;
    let banks: Value = env.get_ok("/api/banks").await;
    assert_eq!(banks, json!([]));
    // Signed in, but without the CSRF token, or from another site: refused.
    let no_token = env
        .http
        .post(format!("{}/api/bank-links", env.url))
        .header("cookie", &env.cookie)
        .json(&json!({"company": "ACME"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(no_token).await, (403, ErrorCode::CsrfRejected));
    let cross = env
        .post("/api/bank-links")
        .header("origin", "https://evil.example")
        .json(&json!({"company": "ACME"}))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(cross).await, (403, ErrorCode::CsrfRejected));
    // Shopper endpoints stay public.
    let shop = env
        .http
        .post(format!("{}/api/checkout/sessions", env.url))
        .json(&json!({"cart": "demo", "locale": "de-DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(shop.status(), 200);
}

#[tokio::test]
async fn after_five_wrong_passwords_even_the_right_one_waits() {
    let mut env = start_with(|_| {}).await;
    for _ in 0..5 {
        assert_eq!(env.sign_in("guess").await.status(), 401);
    }
    let r = env.sign_in(SANDBOX_BOOKKEEPER_PASSWORD).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, ErrorCode::TooManyAttempts);
    assert!(e.message.contains("wait"), "{}", e.message);
}

#[tokio::test]
async fn parallel_guesses_cannot_slip_past_the_limit() {
    let env = start_with(|_| {}).await;
    let guess = |n: usize| {
        env.http
            .post(format!("{}/api/auth/sign-in", env.url))
            .json(&json!({"user": SANDBOX_BOOKKEEPER, "password": format!("guess-{n}")}))
            .send()
    };
    let answers = futures_util::future::join_all((0..12).map(guess)).await;
    let verified = answers
        .iter()
        .filter(|r| r.as_ref().unwrap().status() == 401)
        .count();
    assert_eq!(verified, 5, "only five guesses were verified");
}

#[tokio::test]
async fn a_start_date_in_the_future_is_refused_with_the_reason() {
    let env = start_with(|_| {}).await.signed_in().await;
    let r = env
        .post("/api/bank-links")
        .json(&json!({"company": "ACME GmbH", "start_date": "2999-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.fields[0].field, "start_date");
    assert!(e.message.contains("future"), "{}", e.message);
    // The bookkeeper's page asks in its own language; the reason comes back in it.
    let r = env
        .post("/api/bank-links")
        .header("Accept-Language", "de-DE")
        .json(&json!({"company": "ACME GmbH", "start_date": "2999-01-01"}))
        .send()
        .await
        .unwrap();
    let e: ApiError = r.json().await.unwrap();
    assert!(e.message.contains("Zukunft"), "{}", e.message);
    let r = env
        .post("/api/bank-links")
        .json(&json!({"company": " "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

/// "Today" is the server's UTC date: at 23:30 UTC on 31 December, Berlin's bookkeeper is
/// already in the new year, but sign-in tells the page 2026-12-31, the start of 2026 links, and
/// the browser's 1 January 2027 would be refused as the future, naming the field.
#[tokio::test]
async fn sign_in_tells_the_page_the_servers_today_in_utc() {
    let mut env = start_with(|_| {}).await;
    let new_years_eve = klarna::date::Date::parse("2026-12-31").unwrap().days() * 86_400;
    env.clock.set(new_years_eve + 23 * 3600 + 1800);
    let r = env.sign_in(SANDBOX_BOOKKEEPER_PASSWORD).await;
    let signed_in: klarna::api::SignedIn = r.json().await.unwrap();
    assert_eq!(signed_in.today, "2026-12-31");
    let env = env.signed_in().await;
    let ahead = env
        .post("/api/bank-links")
        .json(&json!({"company": "ACME GmbH", "start_date": "2027-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ahead.status(), 422);
    let e: ApiError = ahead.json().await.unwrap();
    assert_eq!(e.fields[0].field, "start_date");
    let ok = env
        .post("/api/bank-links")
        .json(&json!({"company": "ACME GmbH", "start_date": "2026-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn linking_the_demo_bank_stores_accounts_and_a_sealed_consent_and_closes_the_session() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    assert_eq!(
        started.start_date, "2026-01-01",
        "defaults to the fiscal year's start"
    );
    assert_eq!(env.open_xs2a_sessions().await, 1);
    env.run_test_bank(&started.client_token, "embedded").await;
    let r = env
        .post(&format!("/api/bank-links/{}/complete", started.link))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bank: klarna::api::LinkedBank = r.json().await.unwrap();
    assert_eq!(bank.bank_name, "Demo Bank");
    assert_eq!(bank.accounts.len(), 2);
    assert!(bank.accounts.iter().all(|a| a.masked_iban.contains("••••")));
    assert_eq!(bank.consent.days_left, 90);
    assert_eq!(bank.consent.expires_on, "2026-09-13");
    assert_eq!(bank.consent.state, klarna::api::ConsentState::Valid);
    assert_eq!(
        env.open_xs2a_sessions().await,
        0,
        "the XS2A session is closed after linking"
    );

    // The database file holds no consent token in plain text, only the sealed one.
    let text = common::stored_text(&env.database).await;
    assert!(text.contains("Demo Bank"), "the bank is stored");
    // The sandbox's consent tokens look like `ct.<64 hex digits>`.
    let plain = text.match_indices("ct.").any(|(i, _)| {
        text[i + 3..]
            .chars()
            .take(64)
            .filter(|c| c.is_ascii_hexdigit())
            .count()
            == 64
    });
    assert!(!plain, "a consent token is stored in plain text");

    let banks: Vec<klarna::api::LinkedBank> = env.get_ok("/api/banks").await;
    assert_eq!(banks, vec![bank]);
}

#[tokio::test]
async fn bank_failures_and_aborts_close_the_session_with_a_reason() {
    let env = start_with(|_| {}).await.signed_in().await;
    let failing = env.start_link().await;
    env.run_test_bank(&failing.client_token, "bank-maintenance")
        .await;
    let r = env
        .post(&format!("/api/bank-links/{}/complete", failing.link))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, ErrorCode::LinkFailed);
    assert!(
        e.message.contains("maintenance"),
        "the bank's reason reaches the bookkeeper: {}",
        e.message
    );

    let aborted = env.start_link().await;
    let r = env
        .post(&format!("/api/bank-links/{}/abort", aborted.link))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(env.open_xs2a_sessions().await, 0);
}

#[tokio::test]
async fn a_link_the_browser_abandons_is_closed_by_the_server() {
    let env = start_with(|cfg| cfg.link_timeout_secs = 1)
        .await
        .signed_in()
        .await;
    env.start_link().await;
    assert_eq!(env.open_xs2a_sessions().await, 1);
    env.wait_until_no_session_is_open().await;
}

#[tokio::test]
async fn a_close_that_klarna_missed_is_retried_until_the_session_is_gone() {
    let env = start_with(|cfg| cfg.link_timeout_secs = 2)
        .await
        .signed_in()
        .await;
    let started = env.start_link().await;
    // Klarna is unreachable for the flow's read and the DELETE that the abort sends.
    env.sandbox.set_faults(sandbox::Faults {
        fail_next: 2,
        path_contains: "/xs2a/v1/sessions/".into(),
        ..Default::default()
    });
    let r = env
        .post(&format!("/api/bank-links/{}/abort", started.link))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    env.wait_until_no_session_is_open().await;
}

#[tokio::test]
async fn a_session_whose_flow_and_close_both_failed_is_closed_later() {
    let env = start_with(|cfg| cfg.link_timeout_secs = 2)
        .await
        .signed_in()
        .await;
    // The session opens, then Klarna fails the flow's start and the DELETE that follows.
    env.sandbox.set_faults(sandbox::Faults {
        fail_next: 2,
        path_contains: "/xs2a/v1/sessions/".into(),
        ..Default::default()
    });
    let r = env
        .post("/api/bank-links")
        .json(&json!({"company": "Nordlicht Outdoor GmbH"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, ErrorCode::KlarnaUnavailable);
    env.wait_until_no_session_is_open().await;
}

#[tokio::test]
async fn klarna_stumbling_after_the_bank_said_yes_loses_nothing() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    env.run_test_bank(&started.client_token, "embedded").await;
    env.sandbox.set_faults(sandbox::Faults {
        fail_next: 1,
        path_contains: "/consent/get".into(),
        ..Default::default()
    });
    let complete = || {
        env.post(&format!("/api/bank-links/{}/complete", started.link))
            .send()
    };
    let r = complete().await.unwrap();
    assert_eq!(r.status(), 503);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, ErrorCode::KlarnaUnavailable);
    assert_eq!(env.open_xs2a_sessions().await, 1, "kept for the retry");
    // The bookkeeper's "try again" completes the same link.
    let r = complete().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("Demo Bank"), "{text}");
    assert!(
        !text.contains("token"),
        "no token of any kind reaches the browser: {text}"
    );
    let banks = env
        .get("/api/banks")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!banks.contains("token"), "{banks}");
    assert_eq!(env.open_xs2a_sessions().await, 0);
}

#[tokio::test]
async fn a_token_rotated_in_a_failed_answer_is_kept_for_the_next_call() {
    let env = start_with_klarna_apart().await.signed_in().await;
    let bank = env.linked_bank().await;
    let account = &bank.accounts[0].id;
    // Klarna's clock past the consent's 90 days (ours is not): it refuses, and rotates the
    // token anyway.
    env.sandbox.clock.advance(91 * DAY);
    let e = env.sync_failure(account, json!({})).await;
    assert_eq!(e.code, ErrorCode::LinkFailed);
    assert!(
        e.message.contains("no longer accepts this consent"),
        "Klarna was asked and refused: {}",
        e.message
    );
    // Back in time, the next call works only with the token from that error answer.
    env.sandbox.clock.set(JUNE_15);
    let synced = env.synced(account, json!({})).await;
    assert_eq!(synced.outcome, Some(klarna::api::SyncOutcome::Ok));
}

#[tokio::test]
async fn a_consent_counts_down_its_90_days_and_then_refuses_to_sync() {
    let env = start_with(|_| {}).await.signed_in().await;
    let bank = env.linked_bank().await;
    // 76 days later (a new sign-in: the last one lasted eight hours), 14 days are left.
    env.clock.set(JUNE_15 + 76 * DAY);
    let env = env.signed_in().await;
    let banks: Vec<klarna::api::LinkedBank> = env.get_ok("/api/banks").await;
    assert_eq!(banks[0].consent.state, klarna::api::ConsentState::Expiring);
    assert_eq!(banks[0].consent.days_left, 14);
    // On the 90th day the consent is over: the page says so, and a sync is refused without
    // asking Klarna.
    env.clock.set(JUNE_15 + 90 * DAY);
    let env = env.signed_in().await;
    let banks: Vec<klarna::api::LinkedBank> = env.get_ok("/api/banks").await;
    assert_eq!(banks[0].consent.state, klarna::api::ConsentState::Expired);
    assert_eq!(banks[0].consent.days_left, 0);
    let r = env.sync(&bank.accounts[0].id, json!({})).await;
    assert_eq!(r.status(), 409);
    let e: ApiError = r.json().await.unwrap();
    assert!(e.message.contains("consent has expired"), "{}", e.message);
}

#[tokio::test]
async fn on_2_january_a_link_starts_on_1_january_and_syncs_the_new_year() {
    let env = start_with(|_| {}).await;
    env.clock.set(JANUARY_2);
    let env = env.signed_in().await;
    let bank = env.linked_bank().await;
    assert_eq!(bank.start_date, "2027-01-01");
    assert_eq!(bank.consent.expires_on, "2027-04-02");
    let synced = env.synced(&bank.accounts[0].id, json!({})).await;
    assert_eq!(
        (synced.from_date.as_str(), synced.to_date.as_str()),
        ("2027-01-01", "2027-01-02")
    );
    let list: Vec<klarna::api::BookedTransaction> = env
        .get_ok(&format!(
            "/api/accounts/{}/transactions",
            bank.accounts[0].id
        ))
        .await;
    assert_eq!(list.len() as u32, synced.added);
    assert!(
        list.iter().all(|t| t.booking_date.as_str() >= "2027-01-01"),
        "nothing of last year: {list:?}"
    );
}

#[tokio::test]
async fn syncing_twice_stores_each_transaction_once_and_rotates_the_consent_token() {
    let env = start_with(|_| {}).await.signed_in().await;
    let bank = env.linked_bank().await;
    let account = &bank.accounts[0].id;
    let before = env.sealed_token().await;
    let first = env.synced(account, json!({})).await;
    // Today's card payments are still pending: fetched, but not booked.
    let pending = env.pending(account).await.len() as u32;
    assert!(
        first.added > 0 && first.added + pending == first.fetched,
        "{first:?}"
    );
    assert!(
        first.pages > 1,
        "the year of demo data spans several pages: {first:?}"
    );
    assert_eq!(first.from_date, bank.start_date);
    assert!(!first.running);
    assert_ne!(
        env.sealed_token().await,
        before,
        "every consent call stored the rotated token"
    );
    // Again from the start: Klarna answers the same transactions, none is stored twice. The
    // second run works only because the rotated token was kept (the old one is refused).
    let again = env
        .synced(account, json!({"from_date": bank.start_date}))
        .await;
    assert_eq!(again.added, 0);
    assert_eq!(again.fetched, first.fetched);
    let list: Vec<klarna::api::BookedTransaction> = env
        .get_ok(&format!("/api/accounts/{account}/transactions"))
        .await;
    assert_eq!(list.len() as u32, first.added);
    assert!(
        list.windows(2)
            .all(|w| w[0].booking_date >= w[1].booking_date),
        "newest first"
    );
    assert!(
        list.iter().any(|t| t.amount < 0) && list.iter().any(|t| t.amount > 0),
        "debits and credits"
    );

    let csv = env
        .get(&format!("/api/accounts/{account}/transactions.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with(
        "\"booking_date\",\"amount\",\"currency\",\"counterparty\",\"reference\"\r\n"
    ));
    assert_eq!(text.lines().count(), list.len() + 1);
}

#[tokio::test]
async fn a_sync_before_the_consent_start_is_refused_with_the_explanation() {
    let env = start_with(|_| {}).await.signed_in().await;
    let bank = env.linked_bank().await;
    let r = env
        .sync(&bank.accounts[0].id, json!({"from_date": "2000-01-01"}))
        .await;
    assert_eq!(r.status(), 422);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.fields[0].field, "from_date");
    assert!(
        e.message
            .contains(&format!("consent starts on {}", bank.start_date)),
        "{}",
        e.message
    );
    // Signed-out callers get nothing.
    let anon = env
        .http
        .post(format!(
            "{}/api/accounts/{}/sync",
            env.url, bank.accounts[0].id
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
}

#[tokio::test]
async fn relinking_the_same_bank_replaces_the_consent_and_keeps_the_accounts() {
    let env = start_with(|_| {}).await.signed_in().await;
    let first = env.linked_bank().await;
    let second = env.linked_bank().await;
    assert_eq!(second.connection, first.connection);
    let ids =
        |b: &klarna::api::LinkedBank| b.accounts.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(&second),
        ids(&first),
        "accounts matched by IBAN, not duplicated"
    );
    let banks: Vec<klarna::api::LinkedBank> = env.get_ok("/api/banks").await;
    assert_eq!(banks.len(), 1);
}

#[tokio::test]
async fn three_wrong_logins_end_the_link_with_the_banks_reason() {
    let env = start_with(|_| {}).await.signed_in().await;
    let started = env.start_link().await;
    for _ in 0..3 {
        env.run_test_bank(&started.client_token, "wrong").await;
    }
    let r = env
        .post(&format!("/api/bank-links/{}/complete", started.link))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: ApiError = r.json().await.unwrap();
    assert_eq!(e.code, ErrorCode::LinkFailed);
    assert!(
        e.message.starts_with("The bank stopped the linking"),
        "{}",
        e.message
    );
    assert_eq!(env.open_xs2a_sessions().await, 0);
}

#[tokio::test]
async fn two_syncs_started_at_once_run_one_at_a_time_and_a_third_succeeds() {
    let env = start_with(|_| {}).await.signed_in().await;
    let bank = env.linked_bank().await;
    let account = &bank.accounts[0].id;
    // A slow bank, so that the two overlap.
    env.sandbox.set_faults(sandbox::Faults {
        latency_ms: 300,
        path_contains: "/transactions".into(),
        ..Default::default()
    });
    let (a, b) = tokio::join!(env.sync(account, json!({})), env.sync(account, json!({})));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(
        statuses,
        [202, 409],
        "one starts, the other is told one is running"
    );
    let refused = if a.status() == 409 { a } else { b };
    let e: ApiError = refused.json().await.unwrap();
    assert_eq!(e.code, ErrorCode::SyncRunning);
    assert!(e.message.contains("already running"), "{}", e.message);
    // While it runs, a third is refused too; once it ended (never left "running"), a third
    // gets the lease and fetches.
    assert_eq!(env.sync(account, json!({})).await.status(), 409);
    let first = env.sync_ended(account).await;
    assert_eq!(first.outcome, Some(klarna::api::SyncOutcome::Ok));
    assert!(first.pages > 0, "{first:?}");
    env.sandbox.set_faults(sandbox::Faults::default());
    let third = env
        .synced(account, json!({"from_date": bank.start_date}))
        .await;
    assert_eq!(third.outcome, Some(klarna::api::SyncOutcome::Ok));
    assert_eq!(third.fetched, first.fetched, "{third:?}");
}
