//! API keys for the merchant API: created and revoked by an operator (`api-key` subcommand),
//! presented as `Authorization: Bearer kc_sk_<id>_<secret>`. The database holds only the
//! SHA-256 digest of each key's secret, so a copy of it authenticates nobody; a key is looked
//! up by its id and its digest compared in constant time. The full key is shown once, when it
//! is created, and never logged.

use super::errors::{MerchantCode, MerchantError};
use crate::bookkeeper_sessions::digest;
use crate::security::same_secret;
use crate::state::AppState;
use crate::store::Store;
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sqlx::Row;
use thiserror::Error;

/// What every key starts with: ours (`kc_`), and secret (`sk_`), so a leaked one is recognised
/// by secret scanners and by people.
pub const PREFIX: &str = "kc_sk_";
/// Letters and digits of a key's id.
pub const ID_LEN: usize = 12;
/// Random bytes of a key's secret.
const SECRET_BYTES: usize = 32;
/// Characters of the secret in unpadded base64url.
const SECRET_LEN: usize = 43;
/// Longest name of a key, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// `last_used_at` is written at most this often per key, so checking a key is not a write on
/// every request.
const LAST_USED_EVERY_SECS: i64 = 60;

/// A key as the operator and the routes see it: never its secret nor its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// Unix seconds, to the minute: when the key last opened a request.
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("a key's name must be 1 to {MAX_NAME_CHARS} characters without control characters")]
    InvalidName,
    #[error("storage: {0}")]
    Storage(#[from] sqlx::Error),
}

pub type Result<T> = std::result::Result<T, KeyError>;

/// `count` random letters and digits (rejection sampling, so each is equally likely).
pub(crate) fn random_alphanumeric(count: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // The largest multiple of 62 that fits in a byte: bytes from it on would favour some letters.
    const LIMIT: u8 = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut out = String::with_capacity(count);
    let mut buf = [0u8; 32];
    while out.len() < count {
        OsRng.fill_bytes(&mut buf);
        for b in buf.iter().filter(|b| **b < LIMIT) {
            if out.len() == count {
                break;
            }
            out.push(ALPHABET[usize::from(*b) % ALPHABET.len()] as char);
        }
    }
    out
}

fn random_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The id and secret of a presented key; `None` when it is not of our format. Never panics,
/// whatever the text (the id is fixed-length, the secret may contain `_`).
fn parse(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let id = rest.get(..ID_LEN)?;
    let secret = rest.get(ID_LEN..)?.strip_prefix('_')?;
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    (id.bytes().all(|b| b.is_ascii_alphanumeric())
        && secret.len() == SECRET_LEN
        && secret.bytes().all(base64url))
    .then_some((id, secret))
}

fn valid_name(name: &str) -> bool {
    let chars = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&chars) && !name.chars().any(char::is_control)
}

fn key_info(row: &sqlx::any::AnyRow) -> std::result::Result<KeyInfo, sqlx::Error> {
    Ok(KeyInfo {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

/// A new key named `name` (trimmed): its description, and the full key, which exists nowhere
/// else from now on: show it to the operator once.
pub async fn create(store: &Store, name: &str, now: i64) -> Result<(KeyInfo, String)> {
    let name = name.trim();
    if !valid_name(name) {
        return Err(KeyError::InvalidName);
    }
    let id = random_alphanumeric(ID_LEN);
    let secret = random_secret();
    // The secret is 256 random bits: nobody can guess it from its digest, however fast the
    // hash, so plain SHA-256 is right here (a slow password hash would only slow every request).
    sqlx::query(
        "INSERT INTO merchant_api_keys (id, name, secret_digest, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(name)
    .bind(digest(&secret))
    .bind(now)
    .execute(&store.pool)
    .await?;
    let key = format!("{PREFIX}{id}_{secret}");
    let info = KeyInfo {
        id,
        name: name.to_string(),
        created_at: now,
        revoked_at: None,
        last_used_at: None,
    };
    Ok((info, key))
}

/// Revokes the key `id` at `now`: `true` if it was active, `false` if there is no such key or
/// it was revoked before (its revocation time stays).
pub async fn revoke(store: &Store, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE merchant_api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&store.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Every key, revoked ones included, oldest first.
pub async fn list(store: &Store) -> Result<Vec<KeyInfo>> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, revoked_at, last_used_at FROM merchant_api_keys
         ORDER BY created_at, id",
    )
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .iter()
        .map(key_info)
        .collect::<std::result::Result<_, _>>()?)
}

/// The active key `presented` is, or `None` (not of our format, unknown id, wrong secret,
/// revoked). Notes at `now` that the key was used.
pub async fn verify(store: &Store, presented: &str, now: i64) -> Result<Option<KeyInfo>> {
    let Some((id, secret)) = parse(presented) else {
        return Ok(None);
    };
    let presented_digest = digest(secret);
    let row = sqlx::query(
        "SELECT id, name, secret_digest, created_at, revoked_at, last_used_at
         FROM merchant_api_keys WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&store.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let stored_digest: String = row.try_get("secret_digest")?;
    let mut info = key_info(&row)?;
    if !same_secret(&presented_digest, &stored_digest) || info.revoked_at.is_some() {
        return Ok(None);
    }
    if info
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_EVERY_SECS)
    {
        // Bookkeeping only: a failed write does not refuse a valid key.
        let noted = sqlx::query("UPDATE merchant_api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&info.id)
            .execute(&store.pool)
            .await;
        match noted {
            Ok(_) => info.last_used_at = Some(now),
            Err(e) => tracing::warn!(key_id = %info.id, "noting an API key's use: {e}"),
        }
    }
    Ok(Some(info))
}

/// The caller of a merchant route, by its API key (`Authorization: Bearer kc_sk_…`); as an
/// extractor it refuses requests without an active key (401, `api_key_missing` or
/// `api_key_invalid`, with a `WWW-Authenticate` challenge).
#[derive(Clone, Debug)]
pub struct MerchantKey(pub KeyInfo);

/// Why no key was accepted: none was presented, or the one presented is not a live key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refused {
    Missing,
    Invalid,
}

/// The key in an `Authorization: Bearer <key>` header (the scheme in any case), or why not:
/// no bearer credentials at all, or a header that is not even text.
fn bearer(parts: &Parts) -> std::result::Result<&str, Refused> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(Refused::Missing);
    };
    let value = value.to_str().map_err(|_| Refused::Invalid)?;
    match value.trim().split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => {
            Ok(key.trim())
        }
        _ => Err(Refused::Missing),
    }
}

fn refusal(why: Refused) -> MerchantError {
    match why {
        Refused::Missing => MerchantError::on(
            MerchantCode::ApiKeyMissing,
            "Authorization",
            "This endpoint needs an API key: send it in the Authorization header, as `Authorization: Bearer kc_sk_…`.",
        ),
        Refused::Invalid => MerchantError::on(
            MerchantCode::ApiKeyInvalid,
            "Authorization",
            "The API key in the Authorization header is not valid: it is wrong, revoked or malformed.",
        ),
    }
}

impl FromRequestParts<AppState> for MerchantKey {
    type Rejection = MerchantError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> std::result::Result<Self, Self::Rejection> {
        let presented = bearer(parts).map_err(refusal)?;
        // Never log `presented`: it may be a valid key with a typo, or another system's secret.
        match verify(&app.store, presented, app.clock.now()).await {
            Ok(Some(key)) => Ok(MerchantKey(key)),
            Ok(None) => Err(refusal(Refused::Invalid)),
            Err(e) => Err(MerchantError::internal("checking an API key", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(id: &str, secret: &str) -> String {
        format!("{PREFIX}{id}_{secret}")
    }

    #[test]
    fn a_new_key_is_prefix_id_and_secret() {
        let id = random_alphanumeric(ID_LEN);
        let secret = random_secret();
        assert_eq!(id.len(), ID_LEN);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(secret.len(), SECRET_LEN);
        let key = key_of(&id, &secret);
        assert_eq!(parse(&key), Some((id.as_str(), secret.as_str())));
        assert_ne!(random_alphanumeric(ID_LEN), id);
        assert_ne!(random_secret(), secret);
    }

    #[test]
    fn a_secret_with_underscores_parses() {
        let secret = "_".repeat(SECRET_LEN);
        assert_eq!(
            parse(&key_of("abcDEF123456", &secret)),
            Some(("abcDEF123456", secret.as_str()))
        );
    }

    #[test]
    fn malformed_keys_are_not_keys() {
        let secret = "a".repeat(SECRET_LEN);
        for bad in [
            String::new(),
            "kc_sk_".into(),
            "hello".into(),
            key_of("abcDEF12345", &secret),   // id too short
            key_of("abcDEF1234567", &secret), // id too long
            key_of("abcDEF12345!", &secret),
            key_of("abcDEF123456", &secret[1..]),
            key_of("abcDEF123456", &format!("{secret}a")),
            key_of("abcDEF123456", &format!("{}=", &secret[1..])),
            format!("kc_pk_abcDEF123456_{secret}"),
            // Multi-byte characters where the id or the separator would be: no panic.
            key_of("ääääää", &secret),
            format!("{PREFIX}abcDEF12345ä{secret}"),
            format!("{PREFIX}abcDEF123456ä{}", &secret[1..]),
        ] {
            assert_eq!(parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_short_printable_text() {
        assert!(valid_name("ERP (production)"));
        assert!(valid_name(&"x".repeat(MAX_NAME_CHARS)));
        assert!(!valid_name(""));
        assert!(!valid_name(&"x".repeat(MAX_NAME_CHARS + 1)));
        assert!(!valid_name("two\nlines"));
    }

    #[test]
    fn ids_use_every_letter_and_digit() {
        let many: String = (0..200).map(|_| random_alphanumeric(ID_LEN)).collect();
        let distinct: std::collections::BTreeSet<char> = many.chars().collect();
        assert_eq!(distinct.len(), 62);
    }
}
