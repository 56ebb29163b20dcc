//! Bookkeeper endpoints for linking bank accounts through Klarna Open Banking (design §3):
//! the server opens the XS2A session and flow, hands the browser only the flow's client token,
//! reads the outcome itself when the launcher reports it finished (never trusting the
//! browser), stores bank, accounts and the sealed consent, and closes the XS2A session on every
//! path: finished, aborted, failed, and abandoned (the sweeper).

use crate::auth::Bookkeeper;
use crate::bank_psu::Attended;
use crate::bank_store::{StoredAccount, StoredConnection, StoredLink};
use crate::error::{ApiJson, AppError};
use crate::lang::{self, say};
use crate::state::AppState;
use crate::xs2a_client::Xs2aError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use klarna::api::{ApiError, BankLinkStarted, ErrorCode, LinkedAccount, LinkedBank, StartBankLink};
use klarna::date::Date;
use klarna::xs2a::{mask_iban, FlowState};
use klarna::FieldProblem;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod dates;
mod session;

pub use dates::{consent_end, CONSENT_DAYS};
use dates::{consent_status, start_date, today};
use session::session_request;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(complete))
        .routes(routes!(abort))
        .routes(routes!(banks))
}

fn xs2a_failure(what: &str, e: Xs2aError) -> AppError {
    match e {
        e if e.is_transient() => {
            tracing::warn!("{what}: {e}");
            AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::KlarnaUnavailable,
                say(
                    "Klarna Open Banking is not reachable right now. Please try again in a moment.",
                    "Klarna Open Banking ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.",
                ),
            )
        }
        other => AppError::internal(what, other),
    }
}

/// Opens an XS2A session and its accounts flow; the browser starts Klarna's launcher with the
/// answer's client token.
#[utoipa::path(
    post,
    path = "/api/bank-links",
    tag = "bank links",
    security(("bookkeeper_session" = [], "csrf_token" = [])),
    request_body = StartBankLink,
    responses(
        (status = 200, description = "The link, and the flow's client token for the launcher.", body = BankLinkStarted),
        (status = 400, description = "Malformed body, or no `User-Agent` (Klarna needs the bookkeeper's); `fields` names the field or header.", body = ApiError),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 403, description = "Missing or wrong `X-CSRF-Token`, or a cross-site request.", body = ApiError),
        (status = 413, description = "The body is over 16 KiB.", body = ApiError),
        (status = 422, description = "`company` or `start_date` refused; `fields` names it.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id` (also: outside the sandbox, the bookkeeper's address is loopback because `KC_TRUSTED_PROXIES` does not name the reverse proxy).", body = ApiError),
        (status = 503, description = "Klarna Open Banking is not reachable; try again.", body = ApiError),
    ),
)]
async fn start(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Attended(psu): Attended,
    ApiJson(req): ApiJson<StartBankLink>,
) -> Result<Json<BankLinkStarted>, AppError> {
    let company = req.company.trim().to_string();
    if company.is_empty() || company.chars().count() > 140 {
        return Err(AppError::field(
            "company",
            FieldProblem::Required,
            say(
                "company: name the company (1 to 140 characters).",
                "company: Bitte die Firma angeben (1 bis 140 Zeichen).",
            ),
        ));
    }
    let from = start_date(req.start_date.as_deref(), today(&app))?;
    let request = session_request(psu, from, today(&app), lang::current().code());
    let session = app
        .xs2a
        .create_session(&request)
        .await
        .map_err(|e| xs2a_failure("opening an XS2A session", e))?;
    let mut link = StoredLink {
        id: uuid::Uuid::new_v4().to_string(),
        company,
        start_date: from.to_string(),
        xs2a_session_id: session.session_id.clone(),
        flow_id: String::new(),
        state: "failed".into(),
        created_at: app.clock.now(),
    };
    let flow = match app.xs2a.start_accounts_flow(&session).await {
        Ok(flow) => flow,
        Err(e) => {
            // Recorded as a failed link first: if the close does not reach Klarna either, the
            // sweeper finds the session and closes it later.
            let _ = app.store.insert_link(&link).await;
            close_session(&app, &session.session_id).await;
            return Err(xs2a_failure("starting the accounts flow", e));
        }
    };
    link.flow_id = flow.flow_id;
    link.state = "started".into();
    if let Err(e) = app.store.insert_link(&link).await {
        close_session(&app, &session.session_id).await;
        return Err(e.into());
    }
    Ok(Json(BankLinkStarted {
        link: link.id,
        client_token: flow.client_token,
        launcher_url: app.config.xs2a_launcher_url().into(),
        start_date: link.start_date,
    }))
}

/// Deletes the XS2A session. When Klarna cannot be reached (or answers 5xx/429) the session
/// stays marked open and the sweeper tries again; a refusal that repeating cannot change (a
/// wrong API token, say) is logged as an error for the operator and not retried.
async fn close_session(app: &AppState, session_id: &str) {
    match app.xs2a.delete_session(session_id).await {
        Err(e) if e.is_transient() => {
            tracing::warn!("closing XS2A session failed, will retry: {e}");
            return;
        }
        Err(e) => tracing::error!("closing XS2A session refused, not retried: {e}"),
        Ok(()) => {}
    }
    if let Err(e) = app.store.mark_session_closed(session_id).await {
        tracing::warn!("recording a closed XS2A session failed: {e}");
    }
}

async fn find_link(app: &AppState, id: &str) -> Result<StoredLink, AppError> {
    app.store.link(id).await?.ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownSession,
            format!("link: no bank link {id:?}."),
        )
        .on("link", FieldProblem::NotFound)
    })
}

/// A refusal about the link in the path: its state does not allow the call.
fn link_error(code: ErrorCode, message: &str) -> AppError {
    AppError::new(crate::checkout::status_of(code), code, message).on("link", FieldProblem::Invalid)
}

/// The launcher reported the flow finished: reads its outcome from Klarna and stores the bank.
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
        (status = 409, description = "The bank has not finished yet.", body = ApiError),
        (status = 422, description = "The link failed, was aborted or is closed.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
        (status = 503, description = "Klarna Open Banking is not reachable; try again.", body = ApiError),
    ),
)]
async fn complete(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
) -> Result<Json<LinkedBank>, AppError> {
    let link = find_link(&app, &id).await?;
    if link.state != "started" {
        return Err(link_error(
            ErrorCode::LinkFailed,
            &say(
                "This bank link is already closed. Start a new one.",
                "Diese Bankverknüpfung ist bereits beendet. Bitte starten Sie eine neue.",
            ),
        ));
    }
    let flow = app
        .xs2a
        .read_flow(&link.xs2a_session_id, &link.flow_id)
        .await
        .map_err(|e| xs2a_failure("reading the flow", e))?;
    let outcome = match flow.state {
        FlowState::Finished => {
            finish(
                &app,
                &link,
                flow.result.map(|r| r.accounts).unwrap_or_default(),
            )
            .await
        }
        FlowState::Aborted => Err(link_error(
            ErrorCode::LinkAborted,
            &say(
                "You closed the bank's window. Nothing was linked.",
                "Sie haben das Fenster der Bank geschlossen. Es wurde nichts verknüpft.",
            ),
        )),
        FlowState::ConsumerInputNeeded | FlowState::Processing => {
            // The launcher is still open: keep the session for the bookkeeper.
            return Err(link_error(
                ErrorCode::LinkNotFinished,
                &say(
                    "The bank has not finished yet.",
                    "Die Bank ist noch nicht fertig.",
                ),
            ));
        }
        FlowState::Exception | FlowState::Unknown => {
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
                        &format!("The bank stopped the linking: {m}. Check your login details and start again."),
                        &format!("Die Bank hat die Verknüpfung abgebrochen: {m}. Prüfen Sie Ihre Zugangsdaten und beginnen Sie neu."),
                    )
                }
                None => say(
                    "The bank reported a problem (for example maintenance). Please try again later.",
                    "Die Bank meldet ein Problem (zum Beispiel Wartungsarbeiten). Bitte versuchen Sie es später erneut.",
                ),
            };
            Err(link_error(ErrorCode::LinkFailed, &message))
        }
    };
    if matches!(&outcome, Err(e) if e.body.code == ErrorCode::KlarnaUnavailable) {
        // Klarna stumbled after the bank said yes: keep the link and its session, so the
        // bookkeeper's "try again" completes it instead of meeting a closed link.
        return outcome.map(Json);
    }
    close_session(&app, &link.xs2a_session_id).await;
    let state = match &outcome {
        Ok(_) => "linked",
        Err(e) if e.body.code == ErrorCode::LinkAborted => "aborted",
        Err(_) => "failed",
    };
    let connection = outcome.as_ref().ok().map(|b| b.connection.clone());
    app.store
        .set_link_state(&link.id, state, connection.as_deref())
        .await?;
    outcome.map(Json)
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

fn view(c: StoredConnection, accounts: Vec<StoredAccount>, today: Date) -> LinkedBank {
    LinkedBank {
        consent: consent_status(&c.consent_expires_on, today),
        connection: c.id,
        company: c.company,
        bank_name: c.bank_name,
        start_date: c.consent_start,
        schedule_skipped_on: None,
        accounts: accounts
            .into_iter()
            .map(|a| LinkedAccount {
                masked_iban: mask_iban(&a.iban),
                id: a.id,
                name: a.name,
                holder_name: a.holder_name,
                balance: a.balance,
                currency: a.currency,
            })
            .collect(),
    }
}

/// The bookkeeper closed the launcher: ends the link and closes its XS2A session.
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
    ),
)]
async fn abort(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let link = find_link(&app, &id).await?;
    if link.state == "started" {
        close_session(&app, &link.xs2a_session_id).await;
        app.store.set_link_state(&link.id, "aborted", None).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Every linked bank with its accounts and consent.
#[utoipa::path(
    get,
    path = "/api/banks",
    tag = "bank links",
    security(("bookkeeper_session" = [])),
    responses(
        (status = 200, description = "The linked banks.", body = Vec<LinkedBank>),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
async fn banks(
    State(app): State<AppState>,
    _who: Bookkeeper,
) -> Result<Json<Vec<LinkedBank>>, AppError> {
    let mut out = Vec::new();
    for c in app.store.connections().await? {
        let accounts = app.store.accounts_of(&c.id).await?;
        let skipped = app.store.schedule_skipped_on(&c.id).await?;
        out.push(LinkedBank {
            schedule_skipped_on: skipped,
            ..view(c, accounts, today(&app))
        });
    }
    Ok(Json(out))
}

/// Closes the XS2A sessions of links the browser abandoned (tab closed mid-flow): nothing
/// stays open at Klarna longer than `timeout`.
pub fn spawn_sweeper(app: AppState, timeout: Duration) {
    let every = (timeout / 2).clamp(Duration::from_millis(500), Duration::from_secs(60));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let before = app.clock.now() - timeout.as_secs() as i64;
            let Ok(stale) = app.store.stale_links(before).await else {
                continue;
            };
            // An abandoned link is ended here; its session is then closed below with every
            // other session whose close has not reached Klarna yet, once per round.
            for link in stale {
                let _ = app.store.set_link_state(&link.id, "timed_out", None).await;
                tracing::info!(link = %link.id, "abandoned bank link ended");
            }
            for session in app.store.sessions_left_open().await.unwrap_or_default() {
                // Another instance may be closing it right now: once is enough.
                if app
                    .store
                    .claim_session_close(&session, app.clock.now())
                    .await
                    .unwrap_or(false)
                {
                    close_session(&app, &session).await;
                }
            }
        }
    });
}
