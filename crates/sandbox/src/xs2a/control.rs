//! Test-only knobs for XS2A, next to the sandbox's own `/_control/*`: count open sessions (a
//! server must close every session it opens), book a transaction with a payee and reference of
//! the test's choosing (what a payer may type into a transfer, formulas included), choose how
//! the launcher stand-in ends its flows (the undocumented orders and arguments of its
//! callbacks), and forget everything.

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

async fn reset(Extension(xs2a): Extension<Xs2a>) -> StatusCode {
    xs2a.reset();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookInput {
    /// A Demo Bank account's IBAN.
    iban: String,
    booking_date: String,
    /// Minor units of euros; negative for a debit.
    amount: i64,
    counterparty: String,
    reference: String,
}

/// `{iban, booking_date, amount, counterparty, reference}` → `201 {"transaction_id"}`: from then
/// on every transaction list of that account (flows and Consent API) includes it. Dates and
/// amounts are checked as the bank would have them; the texts are taken as they are.
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
    let booked = Booked::new(
        account,
        day,
        input.amount,
        input.counterparty,
        input.reference,
    );
    let id = booked.transaction.transaction_id.clone();
    xs2a.state(sandbox.clock.now()).booked.push(booked);
    Ok((StatusCode::CREATED, Json(json!({"transaction_id": id}))))
}
