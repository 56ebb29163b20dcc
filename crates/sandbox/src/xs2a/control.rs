//! Test-only knobs for XS2A, next to the sandbox's own `/_control/*`: count open sessions (a
//! server must close every session it opens), list the psu each session and consent call
//! carried (a server must send the bookkeeper's, on every call the bookkeeper started), count the
//! consents handed out (each read kills the token before: a server reads one per link), book a
//! transaction with a payee and reference of the test's choosing (what a payer may type into a
//! transfer, formulas included) or of a shape Klarna's documentation does not describe (`wire`:
//! how a server copes with an undocumented state, type or field), choose how the launcher
//! stand-in ends its flows (the undocumented orders and arguments of its callbacks), and forget
//! everything.

use super::bank::{self, Booked};
use super::dates::Date;
use super::model::LauncherEndings;
use super::{parse, Xs2a, Xs2aError, Xs2aResult};
use crate::state::Sandbox;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/_control/xs2a/open-sessions", get(open_sessions))
        .route("/_control/xs2a/psu", get(psu_seen))
        .route("/_control/xs2a/consent-reads", get(consent_reads))
        .route("/_control/xs2a/transactions", post(book))
        .route(
            "/_control/xs2a/launcher-endings",
            get(launcher_endings).post(set_launcher_endings),
        )
        .route("/_control/xs2a/reset", post(reset))
}

/// `{"open": N, "sessions": [ids]}`: sessions neither deleted nor timed out, so a failing test
/// can say which one was left open.
async fn open_sessions(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
) -> Json<Value> {
    let open = xs2a.open_sessions(&sandbox.clock);
    Json(json!({"open": open.len(), "sessions": open}))
}

/// `{"calls": [{"call": "session" | "accounts/get" | "transactions/get" | "transactions/list",
/// "psu": {"user_agent", "ip_address"} | null}]}`, oldest first; `null` is an unattended
/// consent call. Refused calls are not listed.
async fn psu_seen(State(sandbox): State<Sandbox>, Extension(xs2a): Extension<Xs2a>) -> Json<Value> {
    let state = xs2a.state(sandbox.clock.now());
    Json(json!({"calls": state.psu_seen}))
}

/// `{"endings": "as_documented" | "close_first" | "finish_unfinished" |
/// "error_without_argument"}`: how the launcher stand-in ends the flows it shows from now on
/// (see [`LauncherEndings`]); `/_control/xs2a/reset` sets `as_documented` again.
async fn launcher_endings(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
) -> Json<Value> {
    Json(json!({"endings": xs2a.state(sandbox.clock.now()).launcher_endings}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EndingsInput {
    endings: Value,
}

async fn set_launcher_endings(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    body: Bytes,
) -> Xs2aResult<Json<Value>> {
    let input: EndingsInput = parse(&body)?;
    let endings: LauncherEndings = serde_json::from_value(input.endings).map_err(|_| {
        Xs2aError::validation(
            "endings",
            "must be one of as_documented, close_first, finish_unfinished, error_without_argument",
        )
    })?;
    xs2a.state(sandbox.clock.now()).launcher_endings = endings;
    Ok(Json(json!({ "endings": endings })))
}

/// `{"reads": N}`: consents handed out by `consent/get` (each with a new token that kills the
/// one before), over every session.
async fn consent_reads(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
) -> Json<Value> {
    let reads = xs2a.state(sandbox.clock.now()).consent_reads;
    Json(json!({ "reads": reads }))
}

async fn reset(Extension(xs2a): Extension<Xs2a>) -> StatusCode {
    xs2a.reset();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookInput {
    /// A Demo Bank account's IBAN.
    iban: String,
    /// The day it is dated (a pending one's value date).
    booking_date: String,
    /// Minor units of euros; negative for a debit. Sent unsigned, with `type`, as Klarna does.
    amount: i64,
    counterparty: String,
    reference: String,
    /// `PROCESSED` (the default), `PENDING`, `CANCELED` or `FAILED`.
    #[serde(default)]
    state: Option<String>,
    /// A `PENDING` one's settling day on the sandbox clock: from then on it is listed in
    /// `settles_as` (default `PROCESSED`), dated that day, with an id of its own.
    #[serde(default)]
    settles_on: Option<String>,
    #[serde(default)]
    settles_as: Option<String>,
    /// Test-only: fields of the transaction's JSON replaced as every list sends it, `null`
    /// dropping one (`{"state": "REVERSED"}`, `{"transaction_id": null}`, `{"amount": "1,00"}`).
    /// The sandbox's own bank never sends such; a test books one to see a server cope with what
    /// Klarna's documentation does not describe.
    #[serde(default)]
    wire: Option<serde_json::Map<String, Value>>,
}

/// One of Klarna's transaction states, or an error naming `field`.
fn state_field(value: Option<&str>, field: &str) -> Xs2aResult<&'static str> {
    let value = value.unwrap_or("PROCESSED");
    bank::STATES
        .into_iter()
        .find(|s| *s == value)
        .ok_or_else(|| {
            Xs2aError::validation(field, "must be PROCESSED, PENDING, CANCELED or FAILED")
        })
}

/// `{iban, booking_date, amount, counterparty, reference, state?, settles_on?, settles_as?, wire?}` →
/// `201 {"transaction_id"}` (`null` for a pending one): from then on every transaction list of
/// that account (flows and Consent API) includes it. Dates and amounts are checked as the bank
/// would have them; the texts are taken as they are.
async fn book(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    body: Bytes,
) -> Xs2aResult<(StatusCode, Json<Value>)> {
    let input: BookInput = parse(&body)?;
    let account = bank::find_account(None, Some(&input.iban))
        .ok_or_else(|| Xs2aError::validation("iban", "not a Demo Bank account"))?;
    let day = Date::parse(&input.booking_date)
        .ok_or_else(|| Xs2aError::validation("booking_date", "must be a date YYYY-MM-DD"))?;
    if input.amount == 0 {
        return Err(Xs2aError::validation("amount", "must not be zero"));
    }
    let state = state_field(input.state.as_deref(), "state")?;
    let settles = match (&input.settles_on, state) {
        (None, _) if input.settles_as.is_none() => None,
        (Some(on), "PENDING") => {
            let on = Date::parse(on).filter(|on| *on >= day).ok_or_else(|| {
                Xs2aError::validation(
                    "settles_on",
                    "must be a date YYYY-MM-DD, not before booking_date",
                )
            })?;
            let to = state_field(input.settles_as.as_deref(), "settles_as")?;
            if to == "PENDING" {
                return Err(Xs2aError::validation("settles_as", "must not be PENDING"));
            }
            Some((on, to))
        }
        _ => {
            return Err(Xs2aError::validation(
                "settles_on",
                "only a PENDING transaction settles, and it needs settles_on",
            ))
        }
    };
    let booked = Booked::new(
        account,
        day,
        input.amount,
        input.counterparty,
        input.reference,
    )
    .in_state(state, settles)
    .on_the_wire(input.wire);
    let id = booked.transaction.transaction_id.clone();
    xs2a.state(sandbox.clock.now()).booked.push(booked);
    Ok((StatusCode::CREATED, Json(json!({"transaction_id": id}))))
}
