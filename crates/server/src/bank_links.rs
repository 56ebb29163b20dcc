//! Bookkeeper endpoints for linking bank accounts through Klarna Open Banking (design §3):
//! the server opens the XS2A session and flow, hands the browser only the flow's client token,
//! reads the outcome itself on every ending the launcher reports (never trusting the browser;
//! `ending.rs`), stores bank, accounts and the sealed consent, and closes the XS2A session on
//! every path: finished, aborted, failed, given up, and abandoned (the sweeper).

use crate::auth::Bookkeeper;
use crate::bank_psu::Attended;
use crate::bank_store::{StoredAccount, StoredConnection, StoredLink};
use crate::error::{ApiJson, AppError};
use crate::lang::{self, say};
use crate::state::AppState;
use crate::xs2a_client::Xs2aError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klarna::api::{ApiError, BankLinkStarted, ErrorCode, LinkedAccount, LinkedBank, StartBankLink};
use klarna::date::Date;
use klarna::xs2a::mask_iban;
use klarna::FieldProblem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod dates;
mod ending;
mod refusals;
mod session;
mod sweeper;

pub use dates::{consent_end, CONSENT_DAYS};
use dates::{consent_status, start_date, today};
use session::session_request;
pub use sweeper::spawn_sweeper;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(ending::end))
        .routes(routes!(ending::complete))
        .routes(routes!(ending::abort))
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

/// The link `id` from the browser names. Our ids are UUIDs: anything else (a NUL byte that
/// PostgreSQL would refuse, say) is unknown without asking the database.
async fn find_link(app: &AppState, id: &str) -> Result<StoredLink, AppError> {
    let known = match uuid::Uuid::try_parse(id) {
        Ok(_) => app.store.link(id).await?,
        Err(_) => None,
    };
    known.ok_or_else(|| {
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
