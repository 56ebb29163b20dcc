//! What Klarna Open Banking learns about the bookkeeper (`psu`) and the consent window, seen
//! from the sandbox's side (`/_control/xs2a/psu` lists the psu of every session and consent
//! call): the address is the checkout's client address (`X-Forwarded-For` believed only from a
//! proxy in `KC_TRUSTED_PROXIES`), a loopback bookkeeper is sent as TEST-NET-1 in the sandbox,
//! every consent call of a sync the bookkeeper started carries them, and the consent's window
//! reaches far enough for syncs on later days.

mod bank;
mod common;

use bank::*;
use serde_json::{json, Value};
use server::client_addr::TrustedProxies;

impl Env {
    async fn start_link_from(&self, forwarded_for: &str) -> reqwest::Response {
        self.post("/api/bank-links")
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"company": "Nordlicht Outdoor GmbH"}))
            .send()
            .await
            .unwrap()
    }
}

fn bookkeeper_at(ip: &str) -> Value {
    json!({"user_agent": BROWSER, "ip_address": ip})
}

/// Our server behind a reverse proxy on this machine (the test's client is that proxy).
async fn behind_a_proxy() -> Env {
    start_with(|cfg| cfg.trusted_proxies = TrustedProxies::parse("127.0.0.1, ::1").unwrap())
        .await
        .signed_in()
        .await
}

#[tokio::test]
async fn x_forwarded_for_from_a_trusted_proxy_reaches_klarna() {
    let env = behind_a_proxy().await;
    let r = env.start_link_from("203.0.113.99, 198.51.100.7").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    // The proxy appended what it saw; whatever the client wrote left of it is not believed.
    assert_eq!(
        env.psu_seen().await,
        [("session".to_string(), bookkeeper_at("198.51.100.7"))]
    );
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_not_believed() {
    let env = start_with(|_| {}).await.signed_in().await;
    let r = env.start_link_from("198.51.100.7").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    // The peer is loopback and trusted by nobody: in the sandbox it is sent as TEST-NET-1,
    // never as 127.0.0.1 and never as the address the header claims.
    assert_eq!(
        env.psu_seen().await,
        [("session".to_string(), bookkeeper_at("192.0.2.1"))]
    );
}

#[tokio::test]
async fn a_bank_link_without_a_user_agent_is_refused_before_klarna_is_asked() {
    let mut env = start_with(|_| {}).await;
    env.http = reqwest::Client::new();
    let env = env.signed_in().await;
    let r = env.start_link_from("198.51.100.7").await;
    let (status, e) = common::error_of(r).await;
    assert_eq!(status, 400, "{e:?}");
    assert_eq!(e.fields[0].field, "user-agent");
    assert!(env.psu_seen().await.is_empty());
    assert_eq!(env.open_xs2a_sessions().await, 0);
}

#[tokio::test]
async fn each_consent_call_of_a_bookkeeper_sync_carries_psu() {
    let env = behind_a_proxy().await;
    let bank = env.linked_bank().await;
    let r = env
        .post(&format!("/api/accounts/{}/sync", bank.accounts[0].id))
        .header("x-forwarded-for", "2001:db8:1::5")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap_or_default());
    let synced = env.sync_ended(&bank.accounts[0].id).await;
    assert!(synced.pages > 1, "first page and list pages: {synced:?}");
    let calls: Vec<(String, Value)> = env
        .psu_seen()
        .await
        .into_iter()
        .filter(|(call, _)| call != "session")
        .collect();
    assert_eq!(calls.len() as u32, synced.pages, "{calls:?}");
    assert_eq!(calls[0].0, "transactions/get");
    assert!(calls[1..]
        .iter()
        .all(|(call, _)| call == "transactions/list"));
    for (call, psu) in &calls {
        assert_eq!(psu, &bookkeeper_at("2001:db8:1::5"), "{call}");
    }
}

#[tokio::test]
async fn a_sync_weeks_after_the_link_is_inside_the_consented_window() {
    let env = start_with(|_| {}).await.signed_in().await;
    let bank = env.linked_bank().await;
    assert_eq!(bank.consent.expires_on, "2026-09-13", "today + 90 days");
    // Klarna grants only the window the session asked for: a session without its end would
    // not reach this day (the sandbox then ends it on the link's day).
    env.clock.set(JUNE_15 + 60 * DAY);
    let env = env.signed_in().await;
    let synced = env.synced(&bank.accounts[0].id, json!({})).await;
    assert_eq!(synced.outcome, Some(klarna::api::SyncOutcome::Ok));
    assert_eq!(
        (synced.from_date.as_str(), synced.to_date.as_str()),
        ("2026-01-01", "2026-08-14")
    );
}
