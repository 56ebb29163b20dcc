//! Every ending of Klarna's XS2A app launcher (`onFinished`, `onClose`, `onAbort`, `onError`,
//! in any order, and the bookkeeper starting over) comes here. The browser only says which
//! callback it heard; the server reads the flow's state from Klarna and decides (contract §0
//! "Launcher endings", §3.3, §3.5; ERPNext Banking ends the session on every ending too):
//!
//! - `FINISHED`: the bank, its accounts and the consent are stored, whatever the callback was,
//!   so a finished link is never lost because `onClose` came before `onFinished`. A second
//!   report for a linked link answers the same bank.
//! - `PROCESSING` after `onFinished` (a decoupled approval under way): read again a few times,
//!   then `409 link_not_finished` with the session kept, so the bookkeeper can check again. The
//!   sweeper ends it if the bank never finishes.
//! - Anything else: the launcher is gone, so nobody can finish the flow any more. The XS2A
//!   session is closed at once and the answer says why.

use super::{close_session, consent_end, find_link, link_error, today, view, xs2a_failure};
use crate::auth::Bookkeeper;
use crate::bank_store::{StoredAccount, StoredConnection, StoredLink};
use crate::error::{ApiJson, AppError};
use crate::lang::say;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use klarna::api::{ApiError, EndBankLink, ErrorCode, LinkEnding, LinkedBank};
use klarna::date::Date;
use klarna::xs2a::{FlowRead, FlowState};
use std::time::Duration;

/// After `onFinished`, a flow still `PROCESSING` is read this many more times, this far apart,
/// before the bookkeeper is offered "check again".
const PROCESSING_REREADS: u32 = 3;
const REREAD_PAUSE: Duration = Duration::from_millis(300);

/// The launcher ended; the answer is the outcome Klarna's flow says.
#[utoipa::path(
    post,
    path = "/api/bank-links/{link}/end",
    tag = "bank links",
    security(("bookkeeper_session" = [], "csrf_token" = [])),
    params(("link" = String, Path, description = "The link's id from `POST /api/bank-links`.")),
    request_body = EndBankLink,
    responses(
        (status = 200, description = "The flow finished: the linked bank and its accounts (the same bank again for a link already linked).", body = LinkedBank),
        (status = 400, description = "Malformed body; `fields` names the field.", body = ApiError),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 403, description = "Missing or wrong `X-CSRF-Token`, or a cross-site request.", body = ApiError),
        (status = 404, description = "Unknown `link`.", body = ApiError),
        (status = 409, description = "`link_not_finished`: the bank is still confirming; the session stays open, end with `finished` again to check.", body = ApiError),
        (status = 422, description = "`link_aborted` or `link_failed`: nothing was linked and the session is closed; `message` says why.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
        (status = 503, description = "Klarna Open Banking is not reachable; the link is kept, try again.", body = ApiError),
    ),
)]
pub(super) async fn end(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<EndBankLink>,
) -> Result<Json<LinkedBank>, AppError> {
    end_link(&app, &id, req.ending).await.map(Json)
}

/// `onFinished`: the same as `/end` with `finished`, kept for callers of the first API.
#[utoipa::path(
    post,
    path = "/api/bank-links/{link}/complete",
    tag = "bank links",
    security(("bookkeeper_session" = [], "csrf_token" = [])),
    params(("link" = String, Path, description = "The link's id from `POST /api/bank-links`.")),
    responses(
        (status = 200, description = "The linked bank and its accounts.", body = LinkedBank),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 403, description = "Missing or wrong `X-CSRF-Token`, or a cross-site request.", body = ApiError),
        (status = 404, description = "Unknown `link`.", body = ApiError),
        (status = 409, description = "The bank is still confirming; check again.", body = ApiError),
        (status = 422, description = "Nothing was linked and the session is closed.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
        (status = 503, description = "Klarna Open Banking is not reachable; try again.", body = ApiError),
    ),
)]
pub(super) async fn complete(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
) -> Result<Json<LinkedBank>, AppError> {
    end_link(&app, &id, LinkEnding::Finished).await.map(Json)
}

/// The bookkeeper gave the link up: the same as `/end` with `given_up` (a flow that finished
/// meanwhile is still stored), answered without a body.
#[utoipa::path(
    post,
    path = "/api/bank-links/{link}/abort",
    tag = "bank links",
    security(("bookkeeper_session" = [], "csrf_token" = [])),
    params(("link" = String, Path, description = "The link's id from `POST /api/bank-links`.")),
    responses(
        (status = 204, description = "Ended (or ended already)."),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 403, description = "Missing or wrong `X-CSRF-Token`, or a cross-site request.", body = ApiError),
        (status = 404, description = "Unknown `link`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
        (status = 503, description = "Klarna Open Banking is not reachable; the sweeper closes the session later.", body = ApiError),
    ),
)]
pub(super) async fn abort(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    match end_link(&app, &id, LinkEnding::GivenUp).await {
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status.is_server_error() => Err(e),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

async fn read(app: &AppState, link: &StoredLink) -> Result<FlowRead, AppError> {
    app.xs2a
        .read_flow(&link.xs2a_session_id, &link.flow_id)
        .await
        .map_err(|e| xs2a_failure("reading the flow", e))
}

pub(super) async fn end_link(
    app: &AppState,
    id: &str,
    ending: LinkEnding,
) -> Result<LinkedBank, AppError> {
    let link = find_link(app, id).await?;
    match link.state.as_str() {
        "started" => {}
        "linked" => return linked_already(app, &link).await,
        _ => {
            return Err(link_error(
                ErrorCode::LinkFailed,
                &say(
                    "This bank link is already closed. Start a new one.",
                    "Diese Bankverknüpfung ist bereits beendet. Bitte starten Sie eine neue.",
                ),
            ))
        }
    }
    let mut flow = match read(app, &link).await {
        Ok(flow) => flow,
        Err(e) if ending == LinkEnding::GivenUp => {
            // The bookkeeper moved on: the link ends even when Klarna cannot say how the flow
            // is; a close that does not reach Klarna now is retried by the sweeper.
            tracing::warn!(link = %link.id, "giving a link up without reading its flow: {}", e.body.message);
            close_session(app, &link.xs2a_session_id).await;
            app.store.set_link_state(&link.id, "aborted", None).await?;
            return Err(gone(ending));
        }
        Err(e) => return Err(e),
    };
    if ending == LinkEnding::Finished {
        for _ in 0..PROCESSING_REREADS {
            if flow.state != FlowState::Processing {
                break;
            }
            tokio::time::sleep(REREAD_PAUSE).await;
            flow = read(app, &link).await?;
        }
    }
    let read_state = flow.state;
    let outcome = match read_state {
        FlowState::Finished => {
            finish(
                app,
                &link,
                flow.result.map(|r| r.accounts).unwrap_or_default(),
            )
            .await
        }
        FlowState::Processing if ending == LinkEnding::Finished => {
            // The bank is still confirming (a decoupled approval): it may finish yet.
            return Err(link_error(
                ErrorCode::LinkNotFinished,
                &say(
                    "Your bank has not confirmed the link yet. Check again in a moment.",
                    "Ihre Bank hat die Verknüpfung noch nicht bestätigt. Bitte prüfen Sie es gleich noch einmal.",
                ),
            ));
        }
        FlowState::ConsumerInputNeeded | FlowState::Processing | FlowState::Aborted => {
            Err(gone(ending))
        }
        FlowState::Exception | FlowState::Unknown => Err(bank_failure(flow)),
    };
    if matches!(&outcome, Err(e) if e.body.code == ErrorCode::KlarnaUnavailable) {
        // Klarna stumbled after the bank said yes: keep the link and its session, so the
        // bookkeeper's "try again" completes it instead of meeting a closed link.
        return outcome;
    }
    close_session(app, &link.xs2a_session_id).await;
    let state = match &outcome {
        Ok(_) => "linked",
        Err(e) if e.body.code == ErrorCode::LinkAborted => "aborted",
        Err(_) => "failed",
    };
    let connection = outcome.as_ref().ok().map(|b| b.connection.clone());
    app.store
        .set_link_state(&link.id, state, connection.as_deref())
        .await?;
    if let Err(e) = &outcome {
        tracing::info!(link = %link.id, ?ending, state = ?read_state, code = ?e.body.code, "bank link ended");
    }
    outcome
}

/// A second report of an ending (`onFinished` after `onClose`, a retry): the bank it linked.
async fn linked_already(app: &AppState, link: &StoredLink) -> Result<LinkedBank, AppError> {
    let connection = match app.store.connection_of_link(&link.id).await? {
        Some(id) => app.store.connection(&id).await?,
        None => None,
    };
    let Some(connection) = connection else {
        return Err(AppError::internal(
            "a linked bank link without its connection",
            link.id.clone(),
        ));
    };
    let accounts = app.store.accounts_of(&connection.id).await?;
    Ok(view(connection, accounts, today(app)))
}

/// The flow did not finish and the launcher that could finish it is gone.
fn gone(ending: LinkEnding) -> AppError {
    match ending {
        LinkEnding::Finished => link_error(
            ErrorCode::LinkFailed,
            &say(
                "The bank's window closed before your bank confirmed the link. Nothing was linked; please start again.",
                "Das Fenster der Bank wurde geschlossen, bevor Ihre Bank die Verknüpfung bestätigt hat. Es wurde nichts verknüpft; bitte beginnen Sie neu.",
            ),
        ),
        LinkEnding::Error => link_error(
            ErrorCode::LinkFailed,
            &say(
                "The bank's window stopped with an error. Nothing was linked; please start again.",
                "Das Fenster der Bank wurde mit einem Fehler beendet. Es wurde nichts verknüpft; bitte beginnen Sie neu.",
            ),
        ),
        LinkEnding::Closed | LinkEnding::Aborted => link_error(
            ErrorCode::LinkAborted,
            &say(
                "You closed the bank's window. Nothing was linked.",
                "Sie haben das Fenster der Bank geschlossen. Es wurde nichts verknüpft.",
            ),
        ),
        LinkEnding::GivenUp => link_error(
            ErrorCode::LinkAborted,
            &say(
                "The link was given up. Nothing was linked.",
                "Die Verknüpfung wurde aufgegeben. Es wurde nichts verknüpft.",
            ),
        ),
    }
}

/// The flow ended in `EXCEPTION`: the bank's own words when it gave any.
fn bank_failure(flow: FlowRead) -> AppError {
    let said = flow
        .error
        .map(|e| e.message)
        .filter(|m| !m.trim().is_empty());
    let message = match said {
        // The bank's own words stay as the bank wrote them.
        // A bank that already says "try again later" needs no hint about login details.
        Some(m)
            if ["try again", "später erneut", "erneut versuchen"]
                .iter()
                .any(|w| m.to_lowercase().contains(w)) =>
        {
            say(
                &format!("The bank stopped the linking: {}", m.trim()),
                &format!("Die Bank hat die Verknüpfung abgebrochen: {}", m.trim()),
            )
        }
        Some(m) => {
            let m = m.trim().trim_end_matches('.');
            say(
                &format!(
                    "The bank stopped the linking: {m}. Check your login details and start again."
                ),
                &format!("Die Bank hat die Verknüpfung abgebrochen: {m}. Prüfen Sie Ihre Zugangsdaten und beginnen Sie neu."),
            )
        }
        None => say(
            "The bank reported a problem (for example maintenance). Please try again later.",
            "Die Bank meldet ein Problem (zum Beispiel Wartungsarbeiten). Bitte versuchen Sie es später erneut.",
        ),
    };
    link_error(ErrorCode::LinkFailed, &message)
}

/// Reads bank and consent from Klarna (not from the browser) and stores them.
async fn finish(
    app: &AppState,
    link: &StoredLink,
    accounts: Vec<klarna::xs2a::Account>,
) -> Result<LinkedBank, AppError> {
    let session = app
        .xs2a
        .read_session(&link.xs2a_session_id)
        .await
        .map_err(|e| xs2a_failure("reading the XS2A session", e))?;
    let consent = app
        .xs2a
        .get_consent(&link.xs2a_session_id)
        .await
        .map_err(|e| xs2a_failure("fetching the consent", e))?;
    let bank = session.bank.unwrap_or_default();
    let connection = StoredConnection {
        id: uuid::Uuid::new_v4().to_string(),
        company: link.company.clone(),
        bank_name: if bank.bank_name.is_empty() {
            "Bank".into()
        } else {
            bank.bank_name
        },
        bank_code: bank.bank_code,
        consent_id: consent.consent_id,
        consent_token_sealed: app.consent.seal(&consent.consent_token),
        consent_start: link.start_date.clone(),
        // The window's last day, from the day the session asked for it: the consent may live
        // a day longer when the bank finished after midnight, but nothing after it is granted.
        consent_expires_on: consent_end(Date::from_unix(link.created_at)).to_string(),
    };
    let stored: Vec<StoredAccount> = accounts
        .into_iter()
        .map(|a| StoredAccount {
            id: uuid::Uuid::new_v4().to_string(),
            name: a.alias.clone().unwrap_or_else(|| "Account".into()),
            iban: a.iban.unwrap_or_default(),
            holder_name: a.holder_name.unwrap_or_default(),
            balance: a.balance.as_ref().map(|b| b.amount).unwrap_or_default(),
            currency: a
                .balance
                .map(|b| b.currency)
                .unwrap_or_else(|| "EUR".into()),
            xs2a_account_id: a.id,
        })
        .collect();
    let id = app
        .store
        .save_connection(&connection, &stored, app.clock.now())
        .await?;
    tracing::info!(company = %link.company, bank = %connection.bank_name, accounts = stored.len(), "bank linked");
    let accounts = app.store.accounts_of(&id).await?;
    Ok(view(
        StoredConnection { id, ..connection },
        accounts,
        today(app),
    ))
}
