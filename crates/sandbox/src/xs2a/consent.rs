//! The Consent API: `POST /xs2a/v1/consents/{consent_id}/accounts/get`, `…/transactions/get` and
//! `…/transactions/list`, used without the consumer once a session yielded a consent.
//!
//! **Token rotation.** Every call that presents the consent's current token rotates it: the
//! answer, success or error, carries a new `consent_token` (in `data` on success, next to `error`
//! otherwise) and the presented one stops working — so a client must store the token of every
//! answer, as Klarna asks.
//!
//! A call presenting a token that is *not* the current one (`403 CONSENT.INVALID_TOKEN`), or a
//! consent id we do not know (`404`), rotates nothing: the answer echoes the presented token.
//! The caller proved no possession of the consent, so it must not obtain a working token (a
//! replayed old token gains nothing) nor be able to revoke the holder's token; the answer keeps
//! the `consent_token` field so clients that always store it keep the shape they expect.
//! A body without any `consent_token` gets a 400 without one.
//!
//! **psu and window.** A `psu` is optional here (absent on an unattended refresh) but checked
//! when present (`psu.rs`), and recorded either way; a transactions query must lie inside the
//! session's `consent_scope.transactions` window, both ends included (400 `VALIDATION` naming
//! `from_date` or `to_date` otherwise).

use super::api::check_range;
use super::bank::{self, Booked};
use super::dates::Date;
use super::model::{Consent, TxQuery};
use super::psu::{self, PsuSeen};
use super::{
    authenticate, data, date_field, offset_field, page_size, parse, transactions_page, Xs2a,
    Xs2aError, Xs2aResult, API_BASE,
};
use crate::state::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use serde_json::{json, Value};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/xs2a/v1/consents/{id}/accounts/get", post(accounts_get))
        .route(
            "/xs2a/v1/consents/{id}/transactions/get",
            post(transactions_get),
        )
        .route(
            "/xs2a/v1/consents/{id}/transactions/list",
            post(transactions_list),
        )
}

/// Consent tokens are long and opaque.
pub(crate) fn new_token() -> String {
    format!(
        "ct.{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn forbidden(code: &'static str, message: &str) -> Xs2aError {
    Xs2aError::new(StatusCode::FORBIDDEN, code, message)
}

/// Authenticates the API call and the consent token, rotates the token, checks and records the
/// `psu` (optional here: absent on an unattended call), then runs `op` and answers with the new
/// token whatever `op` decided.
fn consent_call(
    sandbox: &Sandbox,
    xs2a: &Xs2a,
    headers: &HeaderMap,
    call: &'static str,
    consent_id: &str,
    body: &[u8],
    op: impl FnOnce(&Consent, &Value, Date, &[Booked]) -> Xs2aResult<Value>,
) -> Response {
    if let Err(e) = authenticate(headers) {
        return e.into_response();
    }
    let req: Value = match parse(body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Some(presented) = req.get("consent_token").and_then(Value::as_str) else {
        return Xs2aError::validation("consent_token", "consent_token is required").into_response();
    };
    let now = sandbox.clock.now();
    let mut psu_errors = Vec::new();
    let (consent, booked) = {
        let mut state = xs2a.state(now);
        let booked = state.booked.clone();
        let Some(consent) = state.consents.get_mut(consent_id) else {
            return Xs2aError::not_found("No consent with the provided id")
                .with_token(presented.to_string())
                .into_response();
        };
        if consent.token != presented {
            return forbidden(
                "CONSENT.INVALID_TOKEN",
                "The consent token is not valid: use the token of the latest answer",
            )
            .with_token(presented.to_string())
            .into_response();
        }
        consent.token = new_token();
        let consent = consent.clone();
        let psu = psu::check(req.get("psu"), false, &mut psu_errors);
        if psu_errors.is_empty() {
            state.psu_seen.push(PsuSeen { call, psu });
        }
        (consent, booked)
    };
    let token = consent.token.clone();
    let outcome = if !psu_errors.is_empty() {
        Err(Xs2aError::invalid(psu_errors))
    } else if now >= consent.expires_at {
        Err(forbidden(
            "CONSENT.EXPIRED",
            "The consent has expired: link the bank account again",
        ))
    } else {
        op(&consent, &req, Date::from_unix(now), &booked)
    };
    match outcome {
        Ok(result) => data(
            StatusCode::OK,
            json!({ "result": result, "consent_token": token }),
        ),
        Err(e) => e.with_token(token).into_response(),
    }
}

fn not_granted(what: &str) -> Xs2aError {
    forbidden(
        "CONSENT.RESOURCE_NOT_GRANTED",
        &format!("The consent does not grant access to {what}"),
    )
}

async fn accounts_get(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    consent_call(
        &sandbox,
        &xs2a,
        &headers,
        "accounts/get",
        &id,
        &body,
        |consent, _, today, _| {
            if !(consent.scope.accounts || consent.scope.balances) {
                return Err(not_granted("accounts"));
            }
            Ok(super::accounts_result("accounts", today))
        },
    )
}

fn list_url(consent_id: &str) -> String {
    format!("{API_BASE}/consents/{consent_id}/transactions/list")
}

/// The query must stay inside what the consent grants: the account and the date range.
fn granted_query(consent: &Consent, q: &TxQuery) -> Xs2aResult<()> {
    let scope = consent
        .scope
        .transactions
        .as_ref()
        .ok_or_else(|| not_granted("transactions"))?;
    if !scope.grants(q.account) {
        return Err(not_granted("this account"));
    }
    check_range(Some(q.from), Some(q.to), Some(scope.from), Some(scope.to))
}

fn string_field<'a>(req: &'a Value, name: &str) -> Xs2aResult<&'a str> {
    req.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Xs2aError::validation(name, format!("{name} is required")))
}

async fn transactions_get(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    consent_call(
        &sandbox,
        &xs2a,
        &headers,
        "transactions/get",
        &id,
        &body,
        |consent, req, today, booked| {
            if consent.scope.transactions.is_none() {
                return Err(not_granted("transactions"));
            }
            let account_id = string_field(req, "account_id")?;
            // An account id the consent does not know is refused as Klarna does after an id change.
            let account = bank::find_account(Some(account_id), None)
                .ok_or_else(|| not_granted("this account"))?;
            let from = date_field(Some(string_field(req, "from_date")?), "from_date")?;
            let to = date_field(Some(string_field(req, "to_date")?), "to_date")?;
            let size = match req.get("preferred_pagination_size") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_i64().ok_or_else(|| {
                    Xs2aError::validation("preferred_pagination_size", "must be an integer")
                })?),
            };
            let (Some(from), Some(to)) = (from, to) else {
                return Err(Xs2aError::validation(
                    "from_date",
                    "from_date and to_date are required",
                ));
            };
            let q = TxQuery {
                account,
                from,
                to,
                page_size: page_size(size)?,
            };
            granted_query(consent, &q)?;
            Ok(transactions_page(
                &q,
                0,
                today,
                &list_url(&consent.id),
                booked,
            ))
        },
    )
}

async fn transactions_list(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    consent_call(
        &sandbox,
        &xs2a,
        &headers,
        "transactions/list",
        &id,
        &body,
        |consent, req, today, booked| {
            let (q, position) = offset_field(req)?;
            granted_query(consent, &q)?;
            Ok(transactions_page(
                &q,
                position,
                today,
                &list_url(&consent.id),
                booked,
            ))
        },
    )
}
