//! The XS2A emulator over HTTP, as a server (REST, `Authorization: Token`) and the launcher's
//! overlay (the `/xs2a/app/{client_token}` endpoints) would drive it. The sandbox clock is set
//! to a fixed day first, so the bank's history and every date below are the same on any day
//! the tests run. The helpers are in `xs2a_env`; psu and the consent window in `xs2a_psu.rs`.

mod xs2a_env;

use sandbox::xs2a::Xs2a;
use sandbox::Sandbox;
use serde_json::{json, Value};
use xs2a_env::*;

#[tokio::test]
async fn the_clock_is_set_or_advanced_and_refuses_anything_else() {
    let env = spawn().await;
    let clock = |body: Value| {
        let env = &env;
        async move {
            env.send(reqwest::Method::POST, "/_control/clock", None, Some(body))
                .await
        }
    };
    let (s, v) = clock(json!({"advance_secs": 86_400})).await;
    assert_eq!(s, 200, "{v}");
    let now = v["now"].as_i64().expect("now");
    assert!((JUNE_15 + 86_400..JUNE_15 + 86_460).contains(&now), "{now}");
    for wrong in [
        json!({}),
        json!({"set": JUNE_15, "advance_secs": 1}),
        json!({"set_to": JUNE_15}),
        json!({"set": "2026-06-15"}),
    ] {
        let (s, v) = clock(wrong.clone()).await;
        assert!((400..500).contains(&s), "{wrong} → {s} {v}");
    }
    let (s, v) = clock(json!({"set": 0})).await;
    assert_eq!(s, 200, "{v}");
    assert!((0..60).contains(&v["now"].as_i64().expect("now")), "{v}");
}

#[tokio::test]
async fn happy_path_links_accounts_and_rotates_the_consent_token() {
    let env = spawn().await;
    let from = date(-90);
    let session = env
        .session(Some(json!({"accounts": {}, "balances": {}, "transactions": {"from_date": from}, "lifetime": 90})))
        .await;
    let id = session["session_id"].as_str().expect("id");
    let short = session["session_id_short"].as_str().expect("short");
    assert_eq!(short.len(), 8);
    assert!(
        short
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{short}"
    );
    assert_eq!(session["self"], format!("/xs2a/v1/sessions/{id}"));
    assert_eq!(
        session["consent"],
        format!("/xs2a/v1/sessions/{id}/consent/get")
    );
    assert_eq!(
        session["flows"]["transactions"],
        format!("/xs2a/v1/sessions/{id}/flows/transactions")
    );
    assert_eq!(env.open_sessions().await, 1);

    let (_, before) = env
        .api("GET", &format!("/xs2a/v1/sessions/{id}"), None)
        .await;
    assert!(before["data"].get("bank").is_none(), "{before}");

    let flow = env.flow(&session, "accounts", json!({})).await;
    assert_eq!(flow["state"], "CONSUMER_INPUT_NEEDED");
    assert!(flow["self"]
        .as_str()
        .is_some_and(|s| s.starts_with(&format!("/xs2a/v1/sessions/{id}/flows/"))));
    let token = flow["client_token"].as_str().expect("token");
    let v = env.login(token, "embedded", "12345").await;
    assert_eq!(
        (v["step"].as_str(), v["error"].is_null()),
        (Some("otp"), true),
        "{v}"
    );
    assert_eq!(
        env.flow_state(&flow).await["state"],
        "CONSUMER_INPUT_NEEDED"
    );
    let (_, chosen) = env
        .api("GET", &format!("/xs2a/v1/sessions/{id}"), None)
        .await;
    let bank = &chosen["data"]["bank"];
    assert_eq!(
        (
            &bank["bank_name"],
            &bank["bank_code"],
            &bank["country_code"],
            &bank["connection"]
        ),
        (
            &json!("Demo Bank"),
            &json!("88888888"),
            &json!("DE"),
            &json!("PSD2")
        )
    );
    let (s, v) = env.app(token, "otp", json!({"otp": "12345"})).await;
    assert_eq!((s, v["state"].as_str()), (200, Some("FINISHED")));

    let done = env.flow_state(&flow).await;
    assert_eq!(done["state"], "FINISHED");
    let accounts = done["result"]["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["alias"], "Geschäftskonto");
    assert_eq!(accounts[0]["account_type"], "DEFAULT");
    assert_eq!(accounts[1]["account_type"], "SAVING");
    for a in accounts {
        let iban = a["iban"].as_str().expect("iban");
        assert!(
            iban.starts_with("DE") && iban.len() == 22 && iban[4..12] == *"88888888",
            "{iban}"
        );
        assert_eq!(a["bank_name"], "Demo Bank");
        assert_eq!(a["balance"]["currency"], "EUR");
        assert!(
            a["balance"]["amount"].as_i64().is_some_and(|x| x > 0),
            "{a}"
        );
        assert_eq!(a["capabilities"]["transactions"]["available"], true);
        assert!(a["id"].as_str().is_some_and(|s| !s.is_empty()));
    }

    let consent = env.consent(&session).await;
    let consent_id = consent["consent_id"].as_str().expect("consent id");
    let first = consent["consent_token"]
        .as_str()
        .expect("consent token")
        .to_string();
    let accounts_url = format!("/xs2a/v1/consents/{consent_id}/accounts/get");
    assert_eq!(consent["consents"]["accounts"], accounts_url);
    assert_eq!(
        consent["consents"]["transactions"],
        format!("/xs2a/v1/consents/{consent_id}/transactions/get")
    );

    let (s, v) = env
        .api(
            "POST",
            &accounts_url,
            Some(json!({"consent_token": first, "psu": psu()})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["data"]["result"]["accounts"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        v["data"]["result"]["accounts"][0]["iban"],
        accounts[0]["iban"]
    );
    let second = v["data"]["consent_token"]
        .as_str()
        .expect("rotated")
        .to_string();
    assert_ne!(second, first);

    // The old token is refused and rotates nothing: the current one still works.
    let (s, v) = env
        .api("POST", &accounts_url, Some(json!({"consent_token": first})))
        .await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"]["code"], "CONSENT.INVALID_TOKEN");
    assert_eq!(v["consent_token"], first.as_str());
    let (s, v) = env
        .api(
            "POST",
            &accounts_url,
            Some(json!({"consent_token": second})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_ne!(v["data"]["consent_token"], second.as_str());

    let (s, _) = env
        .api("DELETE", &format!("/xs2a/v1/sessions/{id}"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(env.open_sessions().await, 0);
}

#[tokio::test]
async fn injected_failures_answer_in_xs2a_error_shape_then_recover() {
    let sandbox = Sandbox::default();
    sandbox.set_faults(sandbox::Faults {
        fail_next: 1,
        path_contains: "/xs2a/v1/".into(),
        ..Default::default()
    });
    let env = serve(axum::Router::new().nest("/sandbox", sandbox::router(sandbox))).await;
    let body = json!({"psu": psu()});
    let (s, v) = env
        .api("PUT", "/xs2a/v1/sessions", Some(body.clone()))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (503, Some("TEMPORARILY_UNAVAILABLE")),
        "{v}"
    );
    let (s, v) = env.api("PUT", "/xs2a/v1/sessions", Some(body)).await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test]
async fn refuses_missing_or_wrong_api_token_and_missing_psu() {
    let env = spawn().await;
    let body = json!({"psu": psu()});
    let (s, v) = env
        .send(
            reqwest::Method::PUT,
            "/xs2a/v1/sessions",
            None,
            Some(body.clone()),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );
    let (s, v) = env
        .send(
            reqwest::Method::PUT,
            "/xs2a/v1/sessions",
            Some("not-the-token"),
            Some(body),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );

    let (s, v) = env
        .api("PUT", "/xs2a/v1/sessions", Some(json!({"language": "de"})))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["code"], "VALIDATION");
    assert_eq!(v["error"]["errors"][0]["location"], "psu");
    assert!(v["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("psu")));

    let (s, v) = env
        .api(
            "PUT",
            "/xs2a/v1/sessions",
            Some(json!({"psu": {"user_agent": "x", "ip_address": "not-an-ip"}})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["errors"][0]["location"].as_str()),
        (400, Some("psu.ip_address"))
    );
    assert_eq!(env.open_sessions().await, 0);
}

#[tokio::test]
async fn a_second_running_flow_conflicts_until_the_first_is_aborted() {
    let env = spawn().await;
    let session = env.session(None).await;
    let first = env.flow(&session, "accounts", json!({})).await;
    let (s, v) = env
        .api(
            "PUT",
            session["flows"]["balances"].as_str().expect("url"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        v,
        json!({"error": {"code": "CONFLICT", "message": "A new flow cannot be started for session with the provided id as long as there is a running flow"}})
    );
    let (s, _) = env
        .api("DELETE", first["self"].as_str().expect("self"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(env.flow_state(&first).await["state"], "ABORTED");
    let second = env.flow(&session, "balances", json!({})).await;
    assert_eq!(second["state"], "CONSUMER_INPUT_NEEDED");
    assert_ne!(second["flow_id"], first["flow_id"]);
}

#[tokio::test]
async fn the_test_bank_speaks_the_sessions_language() {
    let env = spawn().await;
    let session = env.session_in("de", None).await;
    let flow = env.flow(&session, "accounts", json!({})).await;
    let token = flow["client_token"].as_str().expect("token");
    let v = env.login(token, "wrong", "12345").await;
    assert_eq!(v["language"], "de");
    assert_eq!(
        v["error"],
        "Anmeldung fehlgeschlagen: Benutzername oder Passwort ist falsch. Noch 2 Versuch(e).",
        "{v}"
    );
    let launcher = env.launcher().await.text().await.expect("js");
    assert!(
        launcher.contains("\"Log in\": \"Anmelden\""),
        "the launcher carries German texts"
    );
}

#[tokio::test]
async fn wrong_login_is_shown_and_retried_and_three_failures_end_in_exception() {
    let env = spawn().await;
    let session = env.session(None).await;
    let flow = env.flow(&session, "accounts", json!({})).await;
    let token = flow["client_token"].as_str().expect("token");

    let v = env.login(token, "wrong", "12345").await;
    assert_eq!(v["step"], "login");
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("Login failed")),
        "{v}"
    );
    assert_eq!(v["attempts_left"], 2);
    assert_eq!(
        env.flow_state(&flow).await["state"],
        "CONSUMER_INPUT_NEEDED"
    );

    // A wrong password for the happy user fails too; a wrong TAN as well; then the TAN is right.
    let v = env.login(token, "embedded", "54321").await;
    assert_eq!(
        (v["step"].as_str(), v["attempts_left"].as_i64()),
        (Some("login"), Some(1)),
        "{v}"
    );
    let v = env.login(token, "embedded", "12345").await;
    assert_eq!(v["step"], "otp");
    let (_, v) = env.app(token, "otp", json!({"otp": "00000"})).await;
    assert_eq!(v["state"], "EXCEPTION", "{v}");
    assert_eq!(v["step"], "exception");
    let state = env.flow_state(&flow).await;
    assert_eq!(state["state"], "EXCEPTION");
    assert!(
        state["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Too many failed attempts")),
        "{state}"
    );
    let (s, _) = env.app(token, "otp", json!({"otp": "12345"})).await;
    assert_eq!(s, 409);

    // One failure only, then success: a retry after a wrong password works.
    let flow = env.flow(&session, "accounts", json!({})).await;
    let token = flow["client_token"].as_str().expect("token");
    let v = env.login(token, "someone", "nope").await;
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("Login failed")),
        "{v}"
    );
    let v = env.login(token, "someone", "12345").await;
    assert_eq!(v["step"], "otp");
    let (_, v) = env.app(token, "otp", json!({"otp": "99999"})).await;
    assert_eq!(
        (v["step"].as_str(), v["state"].as_str()),
        (Some("otp"), Some("CONSUMER_INPUT_NEEDED"))
    );
    assert!(v["error"].as_str().is_some_and(|e| e.contains("Wrong TAN")));
    let (_, v) = env.app(token, "otp", json!({"otp": "12345"})).await;
    assert_eq!(v["state"], "FINISHED");
}

#[tokio::test]
async fn bank_maintenance_ends_the_flow_in_exception() {
    let env = spawn().await;
    let session = env.session(None).await;
    let flow = env.flow(&session, "accounts", json!({})).await;
    let v = env
        .login(
            flow["client_token"].as_str().expect("token"),
            "bank-maintenance",
            "x",
        )
        .await;
    assert_eq!(
        (v["step"].as_str(), v["state"].as_str()),
        (Some("exception"), Some("EXCEPTION"))
    );
    assert!(
        v["error"]
            .as_str()
            .is_some_and(|e| e.contains("maintenance")),
        "{v}"
    );
    let state = env.flow_state(&flow).await;
    assert_eq!(state["state"], "EXCEPTION");
    assert!(state.get("result").is_none());
    // No finished flow, no consent.
    let (s, v) = env
        .api("POST", session["consent"].as_str().expect("url"), None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("CONFLICT")),
        "{v}"
    );
}

#[tokio::test]
async fn closing_the_overlay_aborts_the_flow() {
    let env = spawn().await;
    let session = env.session(None).await;
    let flow = env.flow(&session, "accounts", json!({})).await;
    let token = flow["client_token"].as_str().expect("token");
    let (_, v) = env
        .app(token, "country", json!({"country_code": "DE"}))
        .await;
    assert_eq!(v["step"], "bank");
    let (s, v) = env.app(token, "abort", json!({})).await;
    assert_eq!(
        (s, v["state"].as_str(), v["step"].as_str()),
        (200, Some("ABORTED"), Some("aborted"))
    );
    assert_eq!(env.flow_state(&flow).await["state"], "ABORTED");
    let (s, v) = env
        .app(token, "bank", json!({"bank_code": "88888888"}))
        .await;
    assert_eq!(
        (s, v["error"]["message"].as_str()),
        (409, Some("The flow has ended"))
    );
    let (s, _) = env.app("xs2a.unknown.token", "", Value::Null).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn decoupled_login_finishes_after_two_seconds_of_sandbox_clock() {
    let env = spawn().await;
    let session = env.session(None).await;
    let flow = env.flow(&session, "accounts", json!({})).await;
    let token = flow["client_token"].as_str().expect("token");
    let v = env.login(token, "decoupled", "anything").await;
    assert_eq!(
        (v["step"].as_str(), v["state"].as_str()),
        (Some("decoupled"), Some("PROCESSING")),
        "{v}"
    );
    env.advance(3).await;
    let (_, v) = env.app(token, "", Value::Null).await;
    assert_eq!(v["step"], "finished");
    let state = env.flow_state(&flow).await;
    assert_eq!(state["state"], "FINISHED");
    assert_eq!(
        state["result"]["accounts"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn transactions_before_the_consent_start_are_refused() {
    let env = spawn().await;
    let from = date(-60);
    let session = env
        .session(Some(
            json!({"accounts": {}, "transactions": {"from_date": from}}),
        ))
        .await;
    let linked = env.link(&session, "accounts", json!({})).await;
    let account_id = linked["result"]["accounts"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();

    let (s, v) = env
        .api(
            "PUT",
            session["flows"]["transactions"].as_str().expect("url"),
            Some(json!({"account_id": account_id, "from_date": date(-61)})),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["code"], "VALIDATION");
    assert_eq!(
        v["error"]["message"],
        format!("from_date must be equal or after {from}")
    );

    let consent = env.consent(&session).await;
    let url = consent["consents"]["transactions"]
        .as_str()
        .expect("url")
        .to_string();
    let token = consent["consent_token"]
        .as_str()
        .expect("token")
        .to_string();
    let (s, v) = env
        .api("POST", &url, Some(json!({"consent_token": token, "account_id": account_id, "from_date": date(-61), "to_date": date(0)})))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"]["code"], "VALIDATION");
    assert_eq!(
        v["error"]["errors"][0]["message"],
        format!("from_date must be equal or after {from}")
    );
    let rotated = v["consent_token"]
        .as_str()
        .expect("token on error")
        .to_string();
    assert_ne!(rotated, token);

    // With the token of the error answer, the same range minus one day is served.
    let (s, v) = env
        .api("POST", &url, Some(json!({"consent_token": rotated, "account_id": account_id, "from_date": from, "to_date": date(0)})))
        .await;
    assert_eq!(s, 200, "{v}");
    let list = v["data"]["result"]["transactions"]
        .as_array()
        .expect("transactions");
    assert!(!list.is_empty());
    assert!(list
        .iter()
        .all(|t| t["date"].as_str().is_some_and(|d| d >= from.as_str())));
    assert_eq!(v["data"]["result"]["from_date"], from.as_str());
}

#[tokio::test]
async fn transactions_are_paginated_newest_first_in_flows_and_consents() {
    let env = spawn().await;
    let session = env.session(None).await;
    let linked = env.link(&session, "accounts", json!({})).await;
    let account = linked["result"]["accounts"][0].clone();
    let (from, to) = (date(-45), date(0));

    let flow = env
        .link(&session, "transactions", json!({"iban": account["iban"], "from_date": from, "to_date": to, "preferred_pagination_size": 10}))
        .await;
    let mut page = flow["result"].clone();
    assert_eq!(page["account"]["id"], account["id"]);
    assert_eq!(
        (page["from_date"].as_str(), page["to_date"].as_str()),
        (Some(from.as_str()), Some(to.as_str()))
    );
    let list_url = page["pagination"]["url"]
        .as_str()
        .expect("pagination url")
        .to_string();
    assert!(list_url.ends_with("/list"), "{list_url}");
    let mut all: Vec<Value> = Vec::new();
    loop {
        let items = page["transactions"]
            .as_array()
            .expect("transactions")
            .clone();
        assert!(items.len() <= 10);
        all.extend(items);
        let Some(offset) = page["pagination"]["next"]["offset"]
            .as_str()
            .map(str::to_string)
        else {
            break;
        };
        let (s, v) = env
            .api("POST", &list_url, Some(json!({"offset": offset})))
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["data"]["state"], "FINISHED");
        page = v["data"]["result"].clone();
    }
    assert!(all.len() > 20, "{}", all.len());
    let dates: Vec<&str> = all.iter().filter_map(|t| t["date"].as_str()).collect();
    assert_eq!(dates.len(), all.len());
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(dates
        .iter()
        .all(|d| *d >= from.as_str() && *d <= to.as_str()));
    let processed: Vec<&Value> = all.iter().filter(|t| t["state"] == "PROCESSED").collect();
    let mut ids: Vec<&str> = processed
        .iter()
        .filter_map(|t| t["transaction_id"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), processed.len(), "no transaction twice");
    for t in &all {
        assert_eq!(t["amount"]["currency"], "EUR");
        let amount = t["amount"]["amount"].as_i64().expect("minor units");
        assert!(amount > 0, "unsigned, as Klarna sends it: {t}");
        assert!(t["type"] == "DEBIT" || t["type"] == "CREDIT", "{t}");
        // Pending (today's card payments) have neither id nor booking date, as Klarna allows.
        match t["state"].as_str() {
            Some("PROCESSED") => assert!(t["booking_date"].is_string(), "{t}"),
            Some("PENDING") => {
                assert!(t.get("transaction_id").is_none() && t.get("booking_date").is_none());
                assert_eq!(t["date"], to.as_str(), "only today's are pending: {t}");
            }
            other => panic!("state {other:?}"),
        }
        assert!(t["counter_party"]["holder_name"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        assert!(t["reference"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(t["value_date"].as_str().is_some());
    }
    assert!(all.iter().any(|t| t["reference"]
        .as_str()
        .is_some_and(|r| r.starts_with("Miete"))));

    // The consent API pages the same data with the same offsets' meaning.
    let consent = env.consent(&session).await;
    let mut token = consent["consent_token"]
        .as_str()
        .expect("token")
        .to_string();
    let (s, v) = env
        .api(
            "POST",
            consent["consents"]["transactions"].as_str().expect("url"),
            Some(json!({"consent_token": token, "account_id": account["id"], "from_date": from, "to_date": to, "preferred_pagination_size": 25})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let mut seen: Vec<Value> = v["data"]["result"]["transactions"]
        .as_array()
        .expect("list")
        .clone();
    let mut next = v["data"]["result"]["pagination"].clone();
    token = v["data"]["consent_token"]
        .as_str()
        .expect("token")
        .to_string();
    while let Some(offset) = next["next"]["offset"].as_str() {
        let (s, v) = env
            .api(
                "POST",
                next["url"].as_str().expect("url"),
                Some(json!({"offset": offset, "consent_token": token})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        seen.extend(
            v["data"]["result"]["transactions"]
                .as_array()
                .expect("list")
                .clone(),
        );
        next = v["data"]["result"]["pagination"].clone();
        token = v["data"]["consent_token"]
            .as_str()
            .expect("token")
            .to_string();
    }
    assert_eq!(seen, all);

    let (s, v) = env
        .api("POST", &list_url, Some(json!({"offset": "bogus"})))
        .await;
    assert_eq!(
        (s, v["error"]["errors"][0]["location"].as_str()),
        (400, Some("offset"))
    );
}

#[tokio::test]
async fn deleting_the_session_closes_it_and_its_flows() {
    let env = spawn().await;
    let session = env.session(None).await;
    let other = env.session(None).await;
    let flow = env.flow(&session, "accounts", json!({})).await;
    assert_eq!(env.open_sessions().await, 2);
    let (s, _) = env
        .api("DELETE", session["self"].as_str().expect("self"), None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = env
        .api("DELETE", session["self"].as_str().expect("self"), None)
        .await;
    assert_eq!(s, 204, "idempotent");
    assert_eq!(env.open_sessions().await, 1);
    assert_eq!(env.flow_state(&flow).await["state"], "ABORTED");
    let (s, v) = env
        .api(
            "PUT",
            session["flows"]["accounts"].as_str().expect("url"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["message"].as_str()),
        (409, Some("The session is closed"))
    );
    let (s, _) = env
        .api("DELETE", other["self"].as_str().expect("self"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(env.open_sessions().await, 0);
    let (s, _) = env.api("GET", "/xs2a/v1/sessions/unknown", None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn sessions_time_out_after_fifteen_minutes_of_sandbox_clock() {
    let env = spawn().await;
    let session = env.session(None).await;
    let flow = env.flow(&session, "accounts", json!({})).await;
    env.advance(14 * 60).await;
    assert_eq!(env.open_sessions().await, 1);
    env.advance(2 * 60).await;
    assert_eq!(env.open_sessions().await, 0);
    assert_eq!(env.flow_state(&flow).await["state"], "ABORTED");
    let (s, v) = env
        .api(
            "PUT",
            session["flows"]["balances"].as_str().expect("url"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 409);
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("timed out")),
        "{v}"
    );
    let (s, v) = env
        .app(
            flow["client_token"].as_str().expect("token"),
            "",
            Value::Null,
        )
        .await;
    assert_eq!((s, v["step"].as_str()), (200, Some("aborted")));

    // A finished flow restarts the window.
    let session = env.session(None).await;
    env.advance(10 * 60).await;
    env.link(&session, "accounts", json!({})).await;
    env.advance(10 * 60).await;
    assert_eq!(env.open_sessions().await, 1);
    env.consent(&session).await;
}

#[tokio::test]
async fn consents_expire_with_their_lifetime_and_need_one() {
    let env = spawn().await;
    let session = env
        .session(Some(json!({"accounts": {}, "lifetime": 1})))
        .await;
    let (s, _) = env
        .api("POST", session["consent"].as_str().expect("url"), None)
        .await;
    assert_eq!(s, 409, "no finished flow yet");
    env.link(&session, "accounts", json!({})).await;
    let consent = env.consent(&session).await;
    assert!(
        consent["consents"].get("transactions").is_none(),
        "{consent}"
    );
    let url = consent["consents"]["accounts"]
        .as_str()
        .expect("url")
        .to_string();
    env.advance(2 * 86_400).await;
    let (s, v) = env
        .api(
            "POST",
            &url,
            Some(json!({"consent_token": consent["consent_token"]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("CONSENT.EXPIRED")),
        "{v}"
    );
    assert!(v["consent_token"]
        .as_str()
        .is_some_and(|t| Some(t) != consent["consent_token"].as_str()));

    let zero = env
        .session(Some(json!({"accounts": {}, "lifetime": 0})))
        .await;
    env.link(&zero, "accounts", json!({})).await;
    let (s, v) = env
        .api("POST", zero["consent"].as_str().expect("url"), None)
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("lifetime of zero")),
        "{v}"
    );
}

#[tokio::test]
async fn serves_the_launcher_and_a_handle_counts_open_sessions() {
    let sb = Sandbox::default();
    sb.clock.set(JUNE_15);
    let xs2a = Xs2a::new();
    let env = serve(axum::Router::new().nest(
        "/sandbox",
        sandbox::xs2a::routes_with(xs2a.clone()).with_state(sb.clone()),
    ))
    .await;
    let res = env.launcher().await;
    assert_eq!(res.status(), 200);
    let ctype = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ctype.starts_with("text/javascript"), "{ctype}");
    let js = res.text().await.expect("js");
    for id in [
        "xs2a-sandbox-dialog",
        "xs2a-sandbox-country",
        "xs2a-sandbox-bank-",
        "xs2a-sandbox-username",
        "xs2a-sandbox-password",
        "xs2a-sandbox-otp",
        "xs2a-sandbox-submit",
        "xs2a-sandbox-close",
        "xs2a-sandbox-message",
        "onXS2AReady",
        "startFlow",
    ] {
        assert!(js.contains(id), "{id}");
    }

    let session = env.session(None).await;
    let id = session["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    assert_eq!(xs2a.open_sessions(&sb.clock), vec![id.clone()]);
    assert_eq!(
        env.open_sessions_listed().await,
        json!({"open": 1, "sessions": [id]})
    );
    env.api("DELETE", session["self"].as_str().expect("self"), None)
        .await;
    assert!(xs2a.open_sessions(&sb.clock).is_empty());
    env.session(None).await;
    sb.clock.advance(16 * 60);
    assert!(xs2a.open_sessions(&sb.clock).is_empty());
}

#[tokio::test]
async fn a_test_books_a_transaction_with_its_own_texts_and_bad_bookings_are_refused() {
    let env = spawn().await;
    let session = env.session(None).await;
    let linked = env.link(&session, "accounts", json!({})).await;
    let account = linked["result"]["accounts"][0].clone();
    let book = |body: Value| {
        env.send(
            reqwest::Method::POST,
            "/_control/xs2a/transactions",
            None,
            Some(body),
        )
    };
    let good = json!({"iban": account["iban"], "booking_date": date(-3), "amount": -1234,
        "counterparty": "@SUM(1+9)", "reference": "x;=WEBSERVICE(1)\r\n-2"});
    for (field, value) in [
        ("iban", json!("DE00123456780000000000")),
        ("booking_date", json!("15.06.2026")),
        ("amount", json!(0)),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        let (s, v) = book(bad).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(v["error"]["errors"][0]["location"], field, "{v}");
    }
    let (s, v) = book(good).await;
    assert_eq!(s, 201, "{v}");
    let id = v["transaction_id"].as_str().expect("id").to_string();
    let flow = env
        .link(
            &session,
            "transactions",
            json!({"iban": account["iban"], "from_date": date(-3), "to_date": date(-3)}),
        )
        .await;
    let list = flow["result"]["transactions"].as_array().expect("list");
    let booked = list
        .iter()
        .find(|t| t["transaction_id"] == id.as_str())
        .expect("the booked transaction is listed");
    assert_eq!(
        booked["amount"],
        json!({"amount": 1234, "currency": "EUR"}),
        "unsigned"
    );
    assert_eq!(booked["type"], "DEBIT");
    assert_eq!(booked["counter_party"]["holder_name"], "@SUM(1+9)");
    assert_eq!(booked["reference"], "x;=WEBSERVICE(1)\r\n-2");
}
