//! Bookkeeper sign-in for the banking endpoints: an Argon2-verified password, a random session
//! id in an HttpOnly SameSite=Strict cookie, and a CSRF token that every state-changing call
//! must repeat in `X-CSRF-Token`. Sessions and the sign-in throttle live in the database
//! (`bookkeeper_sessions.rs`, `sign_in_throttle.rs`), shared by every instance. Shopper
//! endpoints stay public.

use crate::bookkeeper_sessions::digest;
use crate::client_addr::ClientKey;
use crate::error::{ApiJson, AppError};
use crate::lang::say;
use crate::security::same_secret;
use crate::state::AppState;
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use klarna::api::{ApiError, ErrorCode, SignIn, SignedIn};
use klarna::FieldProblem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub const COOKIE: &str = "kc_bookkeeper";
const SESSION_SECS: i64 = 8 * 3600;

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Argon2id PHC string for `password` (used for the sandbox's default password, and by
/// operators through `klarna-checkout-server hash-password`).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

fn password_ok(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_out))
}

/// The bookkeeper signs in: sets the session cookie and answers the CSRF token.
#[utoipa::path(
    post,
    path = "/api/auth/sign-in",
    tag = "bank links",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in: `Set-Cookie` carries the session; repeat `csrf_token` in `X-CSRF-Token`.", body = SignedIn,
            headers(("Set-Cookie" = String, description = "`kc_bookkeeper`, HttpOnly, SameSite=Strict."))),
        (status = 400, description = "Malformed body; `fields` names the field.", body = ApiError),
        (status = 401, description = "Wrong user name or password.", body = ApiError),
        (status = 413, description = "The body is over 16 KiB.", body = ApiError),
        (status = 429, description = "Too many wrong passwords from this client; see `Retry-After`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
async fn sign_in(
    State(app): State<AppState>,
    client: ClientKey,
    ApiJson(req): ApiJson<SignIn>,
) -> Result<Response, AppError> {
    if let Err(wait) = app.store.sign_in_attempt(client, app.clock.now()).await? {
        let mut e = AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyAttempts,
            say(
                &format!("Too many wrong passwords. Please wait {wait} seconds, then sign in again."),
                &format!("Zu viele falsche Passwörter. Bitte warten Sie {wait} Sekunden und melden Sie sich dann erneut an."),
            ),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    let user_ok = same_secret(&req.user, &app.config.bookkeeper_user);
    // Verify even for a wrong user name, so the answer takes as long either way. Argon2 is
    // deliberately slow: off the async workers, so sign-ins never stall shoppers' requests.
    let hash = app.config.bookkeeper_password_hash.expose().to_string();
    let password = req.password.clone();
    // At most two verifications at a time: each takes Argon2's memory and a core for a while.
    let permit = app.password_checks.acquire().await;
    let password_ok = tokio::task::spawn_blocking(move || password_ok(&hash, &password))
        .await
        .unwrap_or(false);
    drop(permit);
    if !(user_ok && password_ok) {
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::SignInRequired,
            say(
                "Wrong user name or password.",
                "Benutzername oder Passwort ist falsch.",
            ),
        )
        .on("user", FieldProblem::Invalid)
        .on("password", FieldProblem::Invalid));
    }
    app.store.sign_in_succeeded(client).await?;
    let id = random_token();
    let csrf = random_token();
    app.store
        .insert_bookkeeper_session(&id, &req.user, &csrf, app.clock.now() + SESSION_SECS)
        .await?;
    // Outside the sandbox the server is reached over TLS (maybe through a proxy, so the public
    // URL is the only hint and may be unset): the cookie is always `Secure` there.
    let secure = if app.config.mode != crate::config::Mode::Sandbox
        || app
            .config
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={SESSION_SECS}{secure}");
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(SignedIn {
            user: req.user,
            csrf_token: csrf,
            today: klarna::date::Date::from_unix(app.clock.now()).to_string(),
        }),
    )
        .into_response())
}

/// Ends the bookkeeper's session.
#[utoipa::path(
    post,
    path = "/api/auth/sign-out",
    tag = "bank links",
    security(("bookkeeper_session" = [], "csrf_token" = [])),
    responses(
        (status = 204, description = "Signed out; the cookie is cleared."),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 403, description = "Missing or wrong `X-CSRF-Token`, or a cross-site request.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
async fn sign_out(State(app): State<AppState>, who: Bookkeeper) -> Result<Response, AppError> {
    app.store.delete_bookkeeper_session(&who.session).await?;
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A request from another site: its `Origin` (browsers send it on every POST) is not ours.
fn cross_site(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin.split("://").nth(1).unwrap_or_default();
    origin_host != host
}

/// A signed-in bookkeeper; as an extractor it refuses everyone else, and refuses
/// state-changing requests without the session's CSRF token or from another site.
pub struct Bookkeeper {
    pub user: String,
    session: String,
}

impl FromRequestParts<AppState> for Bookkeeper {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let sign_in = |problem| {
            AppError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::SignInRequired,
                say(
                    "Please sign in (again).",
                    "Bitte melden Sie sich (erneut) an.",
                ),
            )
            .on(COOKIE, problem)
        };
        let id =
            cookie_value(&parts.headers, COOKIE).ok_or_else(|| sign_in(FieldProblem::Required))?;
        let session = app
            .store
            .bookkeeper_session(&id, app.clock.now())
            .await?
            .ok_or_else(|| sign_in(FieldProblem::Invalid))?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let token = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !same_secret(&digest(token), &session.csrf_digest) || cross_site(&parts.headers) {
                return Err(AppError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::CsrfRejected,
                    say(
                        "This request did not come from your signed-in page. Reload it and try again.",
                        "Diese Anfrage kam nicht von Ihrer angemeldeten Seite. Laden Sie die Seite neu und versuchen Sie es erneut.",
                    ),
                )
                .on("X-CSRF-Token", FieldProblem::Invalid));
            }
        }
        Ok(Bookkeeper {
            user: session.user,
            session: id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2"));
        assert!(password_ok(&h, "correct horse"));
        assert!(!password_ok(&h, "Correct horse"));
        assert!(!password_ok("not a hash", "x"));
    }

    #[test]
    fn reads_cookies_and_spots_other_sites() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; kc_bookkeeper=xyz".parse().unwrap());
        assert_eq!(cookie_value(&h, COOKIE).as_deref(), Some("xyz"));
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(!cross_site(&h));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(cross_site(&h));
    }
}
