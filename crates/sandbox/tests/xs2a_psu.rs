//! What the XS2A emulator demands of the consumer data (`psu`) and of the consented date
//! window, as Klarna does (contract §3.2, §3.4): a session needs the consumer's real address and
//! user agent, a consent call may go without (unattended) but never with placeholders, every
//! psu received is listed for tests, and consent transaction calls must stay inside
//! `consent_scope.transactions` — whose end, when a session names none, is the session's day.

mod xs2a_env;

use serde_json::{json, Value};
use xs2a_env::*;

impl Env {
    async fn psu_seen(&self) -> Vec<Value> {
        let (s, v) = self
            .send(reqwest::Method::GET, "/_control/xs2a/psu", None, None)
            .await;
        assert_eq!(s, 200, "{v}");
        v["calls"].as_array().expect("calls").clone()
    }

    /// A linked session's consent: its transactions URL, token and first account's id.
    async fn consented(&self, scope: Value) -> (String, String, String) {
        let session = self.session(Some(scope)).await;
        let linked = self.link(&session, "accounts", json!({})).await;
        let account = linked["result"]["accounts"][0]["id"].as_str().expect("id");
        let consent = self.consent(&session).await;
        (
            consent["consents"]["transactions"]
                .as_str()
                .expect("url")
                .into(),
            consent["consent_token"].as_str().expect("token").into(),
            account.into(),
        )
    }
}

fn location(v: &Value) -> Option<&str> {
    v["error"]["errors"][0]["location"].as_str()
}

#[tokio::test]
async fn a_session_for_the_servers_own_address_or_without_a_user_agent_is_refused() {
    let env = spawn().await;
    for (psu, field) in [
        (
            json!({"user_agent": "Mozilla/5.0", "ip_address": "127.0.0.1"}),
            "psu.ip_address",
        ),
        (
            json!({"user_agent": "Mozilla/5.0", "ip_address": "::1"}),
            "psu.ip_address",
        ),
        (
            json!({"user_agent": "Mozilla/5.0", "ip_address": "0.0.0.0"}),
            "psu.ip_address",
        ),
        (
            json!({"user_agent": "", "ip_address": "203.0.113.7"}),
            "psu.user_agent",
        ),
        (json!({"ip_address": "203.0.113.7"}), "psu.user_agent"),
    ] {
        let (s, v) = env
            .api("PUT", "/xs2a/v1/sessions", Some(json!({"psu": psu})))
            .await;
        assert_eq!((s, location(&v)), (400, Some(field)), "{psu} → {v}");
        // Klarna's validation shape: a message, and each field with its own.
        assert!(v["error"]["message"].is_string(), "{v}");
        assert!(v["error"]["errors"][0]["message"].is_string(), "{v}");
    }
    assert!(
        env.psu_seen().await.is_empty(),
        "refused calls are not listed"
    );
    env.session(None).await;
    assert_eq!(
        env.psu_seen().await,
        [json!({"call": "session", "psu": psu()})]
    );
}

#[tokio::test]
async fn consent_calls_may_go_unattended_but_never_with_a_placeholder_psu() {
    let env = spawn().await;
    let from = date(-30);
    let (url, token, account) = env
        .consented(
            json!({"accounts": {}, "transactions": {"from_date": from, "to_date": date(90)}}),
        )
        .await;
    let ask = |token: String, psu: Option<Value>| {
        let mut body = json!({"consent_token": token, "account_id": account, "from_date": from, "to_date": date(0)});
        if let Some(psu) = psu {
            body["psu"] = psu;
        }
        let (env, url) = (&env, &url);
        async move { env.api("POST", url, Some(body)).await }
    };
    let (s, v) = ask(token, Some(psu())).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = ask(v["data"]["consent_token"].as_str().unwrap().into(), None).await;
    assert_eq!(s, 200, "unattended: {v}");
    let local = json!({"user_agent": "Mozilla/5.0", "ip_address": "127.0.0.1"});
    let (s, v) = ask(
        v["data"]["consent_token"].as_str().unwrap().into(),
        Some(local),
    )
    .await;
    assert_eq!((s, location(&v)), (400, Some("psu.ip_address")), "{v}");
    assert!(
        v["consent_token"].is_string(),
        "the error carries the rotated token: {v}"
    );

    let seen = env.psu_seen().await;
    let calls: Vec<(&str, bool)> = seen
        .iter()
        .map(|c| (c["call"].as_str().unwrap(), c["psu"].is_object()))
        .collect();
    assert_eq!(
        calls,
        [
            ("session", true),
            ("transactions/get", true),
            ("transactions/get", false)
        ]
    );
    assert_eq!(seen[1]["psu"], psu());
}

#[tokio::test]
async fn consent_transactions_outside_the_consented_window_are_refused() {
    let env = spawn().await;
    let (from, to) = (date(-30), date(10));
    let (url, token, account) = env
        .consented(json!({"accounts": {}, "transactions": {"from_date": from, "to_date": to}}))
        .await;
    let mut token = token;
    for (ask_from, ask_to, refused) in [
        (date(-31), date(0), Some("from_date")),
        (from.clone(), date(11), Some("to_date")),
        (from.clone(), to.clone(), None),
    ] {
        let body = json!({"consent_token": token, "account_id": account, "from_date": ask_from, "to_date": ask_to, "psu": psu()});
        let (s, v) = env.api("POST", &url, Some(body)).await;
        match refused {
            Some(field) => {
                assert_eq!(
                    (s, v["error"]["code"].as_str()),
                    (400, Some("VALIDATION")),
                    "{v}"
                );
                assert_eq!(location(&v), Some(field), "{v}");
                token = v["consent_token"].as_str().expect("token").into();
            }
            None => {
                assert_eq!(s, 200, "{v}");
                token = v["data"]["consent_token"].as_str().expect("token").into();
            }
        }
    }
}

#[tokio::test]
async fn a_session_without_to_date_consents_to_nothing_after_its_day() {
    let env = spawn().await;
    let from = date(-30);
    let (url, token, account) = env
        .consented(json!({"accounts": {}, "transactions": {"from_date": from}}))
        .await;
    // A week later the bookkeeper syncs up to that day: outside the window Klarna gave.
    env.advance(7 * 86_400).await;
    let body = json!({"consent_token": token, "account_id": account, "from_date": from, "to_date": date(7), "psu": psu()});
    let (s, v) = env.api("POST", &url, Some(body)).await;
    assert_eq!((s, location(&v)), (400, Some("to_date")), "{v}");
    assert_eq!(
        v["error"]["errors"][0]["message"],
        format!("to_date must be equal or before {}", date(0))
    );
}

/// The session's `language`: Klarna's example is `"en"` and it names no other form, so the
/// sandbox takes two lower-case ISO 639-1 letters only (what our server sends: `en`, `de`).
#[tokio::test]
async fn a_session_language_other_than_a_two_letter_code_is_refused() {
    let env = spawn().await;
    for bad in ["en-GB", "EN", "e", "eng", ""] {
        let (s, v) = env
            .api(
                "PUT",
                "/xs2a/v1/sessions",
                Some(json!({"psu": psu(), "language": bad})),
            )
            .await;
        assert_eq!((s, location(&v)), (400, Some("language")), "{bad:?} → {v}");
    }
    for good in ["en", "de"] {
        let (s, v) = env
            .api(
                "PUT",
                "/xs2a/v1/sessions",
                Some(json!({"psu": psu(), "language": good})),
            )
            .await;
        assert_eq!(s, 201, "{good} → {v}");
    }
}
