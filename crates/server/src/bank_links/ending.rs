//! Every ending of Klarna's XS2A app launcher (`onFinished`, `onClose`, `onAbort`, `onError`,
//! in any order, and the bookkeeper starting over) comes here. The browser only says which
//! callback it heard; the server reads the flow's state from Klarna and decides (contract §0
//! "Launcher endings", §3.3, §3.5; ERPNext Banking ends the session on every ending too):
//!
//! - `FINISHED`: the bank, its accounts and the consent are stored, whatever the callback was,
//!   so a finished link is never lost because `onClose` came before `onFinished`. A second
//!   report for a linked link answers the same bank. Any failure on the way (Klarna, an
//!   unreadable answer, our database) keeps the link and its session for the retry.
//! - `PROCESSING` (a decoupled approval under way) after any ending but giving up: read again
//!   a few times, then `409 link_not_finished` with the session kept, so the bookkeeper can
//!   check again; Klarna does not say whether `onClose` may come before `onFinished`. The
//!   sweeper ends it if the bank never finishes, deciding as for giving up (`sweep`): a flow
//!   that finished by then is stored.
//! - Anything else: the launcher is gone, so nobody can finish the flow any more. The XS2A
//!   session is closed at once and the answer says why.
//!
//! One request at a time ends a link: it claims the link in the database first
//! (`bank_store/claims.rs`), since each consent read at Klarna kills the token read before. A
//! second report meanwhile waits briefly for the first's outcome (the same bank), else answers
//! `link_not_finished` ("check again").

use super::refusals::{bank_failure, being_ended, closed_already, gone, not_finished};
use super::{close_session, consent_end, find_link, today, view, xs2a_failure};
use crate::auth::Bookkeeper;
use crate::bank_store::{StoredAccount, StoredConnection, StoredLink};
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use klarna::api::{ApiError, EndBankLink, ErrorCode, LinkEnding, LinkedBank};
use klarna::date::Date;
use klarna::xs2a::{FlowRead, FlowState};
use std::time::{Duration, Instant};

/// After any ending but giving up, a flow still `PROCESSING` is read this many more times,
/// this far apart, before the bookkeeper is offered "check again".
const PROCESSING_REREADS: u32 = 3;
const REREAD_PAUSE: Duration = Duration::from_millis(300);
/// A second report of the same ending waits this long for the request ending the link (one
/// flow read with its re-reads and the consent, normally), re-reading the link this often,
/// before it answers "check again".
const CLAIM_WAIT: Duration = Duration::from_secs(5);
const CLAIM_POLL: Duration = Duration::from_millis(50);

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
        (status = 409, description = "`link_not_finished`: the bank is still confirming (or another report of this link's ending is being handled); the session stays open, end again to check.", body = ApiError),
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

pub(super) async fn read(app: &AppState, link: &StoredLink) -> Result<FlowRead, AppError> {
    app.xs2a
        .read_flow(&link.xs2a_session_id, &link.flow_id)
        .await
        .map_err(|e| xs2a_failure("reading the flow", e))
}

/// Renews this request's claim on the link before Klarna is asked again; false when the claim
/// ran out and another request took the link over.
async fn hold(app: &AppState, link: &StoredLink, claim: &str) -> Result<bool, AppError> {
    Ok(app
        .store
        .hold_link_end(&link.id, claim, app.clock.now())
        .await?)
}

pub(super) async fn end_link(
    app: &AppState,
    id: &str,
    ending: LinkEnding,
) -> Result<LinkedBank, AppError> {
    let link = find_link(app, id).await?;
    let claim = uuid::Uuid::new_v4().to_string();
    let give_up_waiting = Instant::now() + CLAIM_WAIT;
    loop {
        if app
            .store
            .claim_link_end(&link.id, &claim, app.clock.now())
            .await?
        {
            if let Some(bank) = end_claimed(app, &link, &claim, ending).await? {
                return Ok(bank);
            }
            // The claim ran out while Klarna was slow and another request took the link
            // over: its outcome is the answer.
        } else {
            let current = find_link(app, id).await?;
            match current.state.as_str() {
                // Another report is ending it (or just gave it back): wait for it.
                "ending" | "started" => {}
                "linked" => return linked_already(app, &current).await,
                _ => return Err(closed_already()),
            }
        }
        if Instant::now() >= give_up_waiting {
            return Err(being_ended());
        }
        tokio::time::sleep(CLAIM_POLL).await;
    }
}

/// What the flow's state decided, for a request holding the link's claim.
pub(super) enum Decided {
    /// Stored: the link is `linked`.
    Linked(LinkedBank),
    /// The bank may still finish, or Klarna stumbled: the link is given back with its session.
    Keep(AppError),
    /// Nothing can be linked any more: the link ends and its session is closed.
    End(AppError),
    /// The claim was lost to another request: nothing more is done here.
    Lost,
}

/// Ends a link this request claimed: `Ok(None)` when the claim was lost meanwhile.
async fn end_claimed(
    app: &AppState,
    link: &StoredLink,
    claim: &str,
    ending: LinkEnding,
) -> Result<Option<LinkedBank>, AppError> {
    let decided = decide(app, link, claim, ending)
        .await
        .unwrap_or_else(Decided::Keep);
    settle(app, link, claim, decided, None).await
}

/// Carries out what was decided for the claim's holder. `ended_as` names the state of a link
/// ended without a bank (the sweeper's `timed_out`); by default it follows the error's code.
pub(super) async fn settle(
    app: &AppState,
    link: &StoredLink,
    claim: &str,
    decided: Decided,
    ended_as: Option<&str>,
) -> Result<Option<LinkedBank>, AppError> {
    match decided {
        Decided::Linked(bank) => {
            close_session(app, &link.xs2a_session_id).await;
            Ok(Some(bank))
        }
        Decided::Keep(e) => {
            app.store.release_link_end(&link.id, claim).await?;
            Err(e)
        }
        Decided::End(e) => {
            let state = match ended_as {
                Some(state) => state,
                None if e.body.code == ErrorCode::LinkAborted => "aborted",
                None => "failed",
            };
            // The state first: a session whose close does not reach Klarna is then the
            // sweeper's; a claim lost meanwhile leaves the session to its new holder.
            if !app.store.end_link_unlinked(&link.id, claim, state).await? {
                return Ok(None);
            }
            close_session(app, &link.xs2a_session_id).await;
            tracing::info!(link = %link.id, state, code = ?e.body.code, "bank link ended");
            Err(e)
        }
        Decided::Lost => Ok(None),
    }
}

async fn decide(
    app: &AppState,
    link: &StoredLink,
    claim: &str,
    ending: LinkEnding,
) -> Result<Decided, AppError> {
    let flow = match read(app, link).await {
        Ok(flow) => flow,
        Err(e) if ending == LinkEnding::GivenUp => {
            // The bookkeeper moved on: the link ends even when Klarna cannot say how the flow
            // is; a close that does not reach Klarna now is retried by the sweeper.
            tracing::warn!(link = %link.id, "giving a link up without reading its flow: {}", e.body.message);
            return Ok(Decided::End(gone(ending)));
        }
        Err(e) => return Err(e),
    };
    decide_on(app, link, claim, ending, flow).await
}

/// The decision on a flow read once (re-read while a bank still confirms, unless given up).
pub(super) async fn decide_on(
    app: &AppState,
    link: &StoredLink,
    claim: &str,
    ending: LinkEnding,
    mut flow: FlowRead,
) -> Result<Decided, AppError> {
    // Klarna does not say in which order the launcher's callbacks come (contract §0): a bank
    // still confirming may be followed by `onClose`, `onAbort` or `onError` before
    // `onFinished`, and the page reports only the first. Only giving up ends it.
    if ending != LinkEnding::GivenUp {
        for _ in 0..PROCESSING_REREADS {
            if flow.state != FlowState::Processing {
                break;
            }
            tokio::time::sleep(REREAD_PAUSE).await;
            if !hold(app, link, claim).await? {
                return Ok(Decided::Lost);
            }
            flow = read(app, link).await?;
        }
    }
    tracing::debug!(link = %link.id, ?ending, state = ?flow.state, "bank link flow read");
    Ok(match flow.state {
        FlowState::Finished => {
            let accounts = flow.result.map(|r| r.accounts).unwrap_or_default();
            match finish(app, link, claim, accounts).await {
                Ok(Some(bank)) => Decided::Linked(bank),
                Ok(None) => Decided::Lost,
                // The bank said yes and Klarna issued (or will issue) the consent: whatever
                // failed after that (Klarna stumbling, an answer we could not read, our own
                // database), the link and its session are kept, so "try again", "check
                // again" or the sweeper completes it instead of meeting a closed link.
                Err(e) => Decided::Keep(e),
            }
        }
        FlowState::Processing if ending != LinkEnding::GivenUp => Decided::Keep(not_finished()),
        // Nobody can give input once the launcher is gone.
        FlowState::ConsumerInputNeeded | FlowState::Processing | FlowState::Aborted => {
            Decided::End(gone(ending))
        }
        FlowState::Exception | FlowState::Unknown => Decided::End(bank_failure(flow)),
    })
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

/// Reads bank and consent from Klarna (not from the browser) and stores them.
/// `Ok(None)` when the claim was lost on the way: then nothing is stored, and the consent is
/// not fetched once another request may be fetching it.
async fn finish(
    app: &AppState,
    link: &StoredLink,
    claim: &str,
    accounts: Vec<klarna::xs2a::Account>,
) -> Result<Option<LinkedBank>, AppError> {
    if !hold(app, link, claim).await? {
        return Ok(None);
    }
    let session = app
        .xs2a
        .read_session(&link.xs2a_session_id)
        .await
        .map_err(|e| xs2a_failure("reading the XS2A session", e))?;
    // Each consent read issues a new token and kills the one before: only the claim's holder
    // reads it, and stores what it read only while it still holds the claim.
    if !hold(app, link, claim).await? {
        return Ok(None);
    }
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
    let Some(id) = app
        .store
        .save_linked(&link.id, claim, &connection, &stored, app.clock.now())
        .await?
    else {
        return Ok(None);
    };
    tracing::info!(company = %link.company, bank = %connection.bank_name, accounts = stored.len(), "bank linked");
    let accounts = app.store.accounts_of(&id).await?;
    Ok(Some(view(
        StoredConnection { id, ..connection },
        accounts,
        today(app),
    )))
}
