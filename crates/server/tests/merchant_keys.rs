//! The merchant API's keys end to end: the routes under `/api/merchant/` refuse a request
//! without an active key (missing, wrong, wrong secret for a real id, revoked), accept a good
//! one, the database holds only a digest, and the server binary's `api-key` subcommand creates,
//! lists and revokes keys that a server on the same database then honours.

mod common;

use common::TempDir;
use serde_json::Value;
use server::merchant::errors::{MerchantCode as ErrorCode, MerchantError};
use server::merchant::keys;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const WHOAMI: &str = "/api/merchant/whoami";

async fn whoami(http: &reqwest::Client, url: &str, key: Option<&str>) -> reqwest::Response {
    let mut request = http.get(format!("{url}{WHOAMI}"));
    if let Some(key) = key {
        request = request.header("Authorization", format!("Bearer {key}"));
    }
    request.send().await.unwrap()
}

/// A 401 with `code`, the `WWW-Authenticate` challenge and our error body.
async fn assert_refused(r: reqwest::Response, code: ErrorCode) -> String {
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge:?}");
    let status = r.status().as_u16();
    let body: MerchantError = r.json().await.unwrap();
    assert_eq!((status, body.code), (401, code), "{}", body.message);
    assert_eq!(body.fields, ["Authorization"]);
    body.message
}

/// The key's secret part (after `kc_sk_<id>_`).
fn secret_of(key: &str) -> &str {
    &key[keys::PREFIX.len() + keys::ID_LEN + 1..]
}

#[tokio::test]
async fn without_a_key_the_answer_is_api_key_missing_naming_the_header() {
    let env = common::start().await;
    let message = assert_refused(
        whoami(&env.http, &env.url, None).await,
        ErrorCode::ApiKeyMissing,
    )
    .await;
    assert!(message.contains("Authorization"), "{message}");
    let r = whoami(&env.http, &env.url, None).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    // Another scheme, or an empty bearer, is no key either.
    for header in ["Basic dXNlcjpwYXNz", "Bearer ", "Bearer"] {
        let r = env
            .http
            .get(format!("{}{WHOAMI}", env.url))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_refused(r, ErrorCode::ApiKeyMissing).await;
    }
}

#[tokio::test]
async fn a_wrong_or_malformed_key_is_api_key_invalid() {
    let env = common::start().await;
    keys::create(&env.state.store, "ERP", env.state.clock.now())
        .await
        .unwrap();
    let unknown = format!("kc_sk_AAAAAAAAAAAA_{}", "A".repeat(43));
    for key in [unknown.as_str(), "hello", "kc_sk_", "kc_sk_AAAAAAAAAAAA_"] {
        let message = assert_refused(
            whoami(&env.http, &env.url, Some(key)).await,
            ErrorCode::ApiKeyInvalid,
        )
        .await;
        assert!(!message.contains(key), "the key is echoed: {message}");
    }
    let r = whoami(&env.http, &env.url, Some("hello")).await;
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    // A header that is not even text (UTF-8 where a key would be) is a bad key, not none.
    let r = env
        .http
        .get(format!("{}{WHOAMI}", env.url))
        .header(
            "Authorization",
            reqwest::header::HeaderValue::from_bytes("Bearer kc_sk_ääääää".as_bytes()).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_refused(r, ErrorCode::ApiKeyInvalid).await;
}

#[tokio::test]
async fn the_right_id_with_a_wrong_secret_is_refused() {
    let env = common::start().await;
    let (info, key) = keys::create(&env.state.store, "ERP", env.state.clock.now())
        .await
        .unwrap();
    let secret = secret_of(&key);
    // Same length, last character changed; and another key's secret under this id.
    let last = if secret.ends_with('A') { "B" } else { "A" };
    let altered = format!("{}{last}", &key[..key.len() - 1]);
    let (_, other) = keys::create(&env.state.store, "Other", env.state.clock.now())
        .await
        .unwrap();
    let swapped = format!("kc_sk_{}_{}", info.id, secret_of(&other));
    for wrong in [altered, swapped] {
        assert_ne!(wrong, key);
        assert_refused(
            whoami(&env.http, &env.url, Some(&wrong)).await,
            ErrorCode::ApiKeyInvalid,
        )
        .await;
    }
}

#[tokio::test]
async fn a_good_key_is_answered_with_its_id_and_name() {
    let env = common::start().await;
    let (info, key) = keys::create(&env.state.store, "  Warehouse (prod)  ", 1_000)
        .await
        .unwrap();
    assert_eq!(info.name, "Warehouse (prod)");
    assert!(key.starts_with("kc_sk_"));
    let r = whoami(&env.http, &env.url, Some(&key)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["key_id"], info.id.as_str());
    assert_eq!(body["name"], "Warehouse (prod)");
    // The scheme in any case, as RFC 9110 allows.
    let r = env
        .http
        .get(format!("{}{WHOAMI}", env.url))
        .header("Authorization", format!("bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Its use is noted, on the server's clock.
    let listed = keys::list(&env.state.store).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some());
    // A name of nothing but spaces is refused.
    assert!(matches!(
        keys::create(&env.state.store, "   ", 1_000).await,
        Err(keys::KeyError::InvalidName)
    ));
}

#[tokio::test]
async fn a_revoked_key_is_refused_and_stays_listed() {
    let env = common::start().await;
    let store = &env.state.store;
    let (info, key) = keys::create(store, "ERP", 1_000).await.unwrap();
    let (_, kept) = keys::create(store, "Warehouse", 1_001).await.unwrap();
    assert_eq!(whoami(&env.http, &env.url, Some(&key)).await.status(), 200);
    assert!(keys::revoke(store, &info.id, 2_000).await.unwrap());
    assert_refused(
        whoami(&env.http, &env.url, Some(&key)).await,
        ErrorCode::ApiKeyInvalid,
    )
    .await;
    // Revoking again, or an unknown id, changes nothing.
    assert!(!keys::revoke(store, &info.id, 3_000).await.unwrap());
    assert!(!keys::revoke(store, "nosuchkey123", 3_000).await.unwrap());
    let listed = keys::list(store).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[0].id.as_str(), listed[0].revoked_at),
        (info.id.as_str(), Some(2_000))
    );
    assert_eq!(listed[1].revoked_at, None);
    // The other key still works.
    assert_eq!(whoami(&env.http, &env.url, Some(&kept)).await.status(), 200);
}

/// Every row of `merchant_api_keys` as text, read straight from the database.
async fn key_rows(database: &Path) -> Vec<String> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let text = database.to_string_lossy();
    let url = if text.starts_with("postgres") {
        text.to_string()
    } else {
        format!("sqlite://{text}")
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let rows = sqlx::query(
        "SELECT id, name, secret_digest, created_at, revoked_at, last_used_at FROM merchant_api_keys",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}|{:?}|{:?}",
                r.get::<String, _>("id"),
                r.get::<String, _>("name"),
                r.get::<String, _>("secret_digest"),
                r.get::<i64, _>("created_at"),
                r.get::<Option<i64>, _>("revoked_at"),
                r.get::<Option<i64>, _>("last_used_at"),
            )
        })
        .collect()
}

#[tokio::test]
async fn only_a_digest_of_the_secret_is_stored() {
    let env = common::start().await;
    let (info, key) = keys::create(&env.state.store, "ERP", 1_000).await.unwrap();
    assert_eq!(whoami(&env.http, &env.url, Some(&key)).await.status(), 200);
    let secret = secret_of(&key);
    let digest: String = Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let database = env.state.config.database.clone();
    let rows = key_rows(&database).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert!(row.starts_with(&format!("{}|ERP|{digest}|1000|None|", info.id)));
    assert!(!row.contains(&key) && !row.contains(secret), "{row}");
    // Nor anywhere in the SQLite file and its WAL as they lie on disk.
    let on_disk = common::stored_text(&database).await;
    assert!(!on_disk.contains(secret));
}

/// Runs the server binary with `args` on `database`, with nothing else in its environment (the
/// sandbox's defaults), and waits for it to exit.
async fn cli(database: &Path, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_klarna-checkout-server"));
    command.args(args).env_clear().env("KC_DATABASE", database);
    let run = tokio::task::spawn_blocking(move || command.output().unwrap());
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the subcommand did not exit")
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_subcommand_creates_lists_and_revokes_keys_a_server_honours() {
    let dir = TempDir::new();
    let database = common::database_in(&dir.0).await;

    let created = cli(&database, &["api-key", "create", "ERP (prod)"]).await;
    assert!(created.status.success(), "{}", text(&created.stderr));
    let stdout = text(&created.stdout);
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {stdout:?}"))
            .to_string()
    };
    let (id, key) = (field("id: "), field("key: "));
    assert!(key.starts_with(&format!("kc_sk_{id}_")), "{key}");
    assert!(text(&created.stderr).contains("only time"));

    let listed = cli(&database, &["api-key", "list"]).await;
    assert!(listed.status.success());
    let listing = text(&listed.stdout);
    assert_eq!(listing.lines().count(), 1, "{listing}");
    assert!(listing.starts_with(&format!("{id}\t")), "{listing}");
    assert!(listing.contains("\tactive\tERP (prod)"), "{listing}");
    assert!(!listing.contains(secret_of(&key)));

    // A server on the same database honours the key.
    let mut config = server::config::Config::sandbox(dir.0.join("dist"), database.clone());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let running = server::spawn(config).await.unwrap();
    let http = reqwest::Client::new();
    let r = whoami(&http, &running.url(), Some(&key)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (body["key_id"].as_str(), body["name"].as_str()),
        (Some(id.as_str()), Some("ERP (prod)"))
    );

    // Revoked while the server runs: refused at the next request.
    let revoked = cli(&database, &["api-key", "revoke", &id]).await;
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert_eq!(text(&revoked.stdout).trim(), format!("revoked {id}"));
    assert_refused(
        whoami(&http, &running.url(), Some(&key)).await,
        ErrorCode::ApiKeyInvalid,
    )
    .await;
    let again = cli(&database, &["api-key", "revoke", &id]).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("no active API key"));
    let listing = text(&cli(&database, &["api-key", "list"]).await.stdout);
    assert!(listing.contains("\trevoked "), "{listing}");
    running.crash();
}

#[tokio::test]
async fn a_wrong_call_prints_the_usage_and_exits_2() {
    let dir = TempDir::new();
    let database = dir.0.join("db.sqlite");
    for args in [
        &["api-key"][..],
        &["api-key", "create"][..],
        &["api-key", "rotate", "x"][..],
        &["api-key", "list", "extra"][..],
    ] {
        let out = cli(&database, args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).starts_with("usage:"), "{args:?}");
        assert!(out.stdout.is_empty());
    }
    // A wrong call touches no database.
    assert!(!database.exists());
}
