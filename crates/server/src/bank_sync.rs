//! Transaction sync for one linked account: from the last synced day (never before the
//! consent's start, which Klarna refuses) to today (never after the consent's last day), page by
//! page, every page's rotated consent token stored at once (also when a call fails; never over
//! a newer one); once the last page is in, its transactions are stored in one go
//! (`entry_store.rs`): each booked one once, the pending ones apart. Every call carries the psu
//! of whoever started the sync (`None` for a sync nobody started, as Klarna's unattended calls
//! go). The sync runs as a server task (`task.rs`): the request answers 202 and the page polls
//! the progress.

pub mod task;

use crate::auth::Bookkeeper;
use crate::bank_entries::{Page, Sorted};
use crate::bank_psu::Attended;
use crate::bank_store::SyncTarget;
use crate::error::{ApiJson, AppError};
use crate::lang::{self, say};
use crate::state::AppState;
use crate::xs2a_client::Xs2aError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use klarna::api::{ApiError, BookedTransaction, ErrorCode, SyncProgress, SyncRequest};
use klarna::date::Date;
use klarna::xs2a::Psu;
use klarna::FieldProblem;
use task::SyncStop;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync, progress))
        .routes(routes!(list))
}

/// The account `id` from the browser names. Our ids are UUIDs: anything else (a NUL byte that
/// PostgreSQL would refuse, say) is unknown without asking the database.
pub(crate) async fn target(app: &AppState, id: &str) -> Result<SyncTarget, AppError> {
    let known = match uuid::Uuid::try_parse(id) {
        Ok(_) => app.store.sync_target(id).await?,
        Err(_) => None,
    };
    known.ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownSession,
            format!("account: no linked account {id:?}."),
        )
        .on("account", FieldProblem::NotFound)
    })
}

/// The first day to fetch: asked for, or where the last sync ended; either way earlier if a
/// transaction of an earlier day is still pending, so the bank says whether it booked (a sync
/// replaces the pending transactions of the days it fetched: starting later, it would book a
/// transaction and leave its pending self listed). Never before the consent (a relink with a
/// later start date moves the consent's start past the last synced day) and never after
/// `today`.
fn first_day(t: &SyncTarget, asked: Option<&str>, today: Date) -> Result<String, AppError> {
    let start = &t.connection.consent_start;
    let Some(asked) = asked.map(str::trim).filter(|a| !a.is_empty()) else {
        let resume = match (&t.last_synced_date, &t.pending_since) {
            (Some(last), Some(pending)) => Some(last.min(pending)),
            (last, pending) => last.as_ref().or(pending.as_ref()),
        };
        return Ok(resume.filter(|d| *d > start).unwrap_or(start).clone());
    };
    let date = Date::parse(asked).ok_or_else(|| {
        AppError::field(
            "from_date",
            FieldProblem::RejectedByKlarna,
            say(
                "from_date: use a date like 2026-01-01.",
                "from_date: Bitte ein Datum wie 2026-01-01 angeben.",
            ),
        )
    })?;
    if date.to_string() < *start {
        return Err(AppError::field(
            "from_date",
            FieldProblem::RejectedByKlarna,
            say(
                &format!(
                    "from_date: the bank's consent starts on {start}, so transactions before it cannot be fetched. \
                     Choose {start} or later, or link the bank again with an earlier start date."
                ),
                &format!(
                    "from_date: Die Einwilligung der Bank beginnt am {start}; frühere Umsätze können nicht abgerufen werden. \
                     Wählen Sie {start} oder später, oder verknüpfen Sie die Bank erneut mit einem früheren Startdatum."
                ),
            ),
        ));
    }
    if date > today {
        return Err(AppError::field(
            "from_date",
            FieldProblem::RejectedByKlarna,
            say(
                "from_date: the date cannot be in the future.",
                "from_date: Das Datum darf nicht in der Zukunft liegen.",
            ),
        ));
    }
    let date = date.to_string();
    Ok(match &t.pending_since {
        Some(pending) if *pending < date => pending.max(start).clone(),
        _ => date,
    })
}

/// The last day to fetch: today, but never after the consent's last day (its window's end).
fn last_day(t: &SyncTarget, today: Date) -> String {
    let today = today.to_string();
    today.min(t.connection.consent_expires_on.clone())
}

/// Written for every instance to read (the page polls whichever it reaches); a job that
/// lost its lease stops here.
async fn set_progress(
    app: &AppState,
    t: &SyncTarget,
    job: &str,
    p: &SyncProgress,
) -> Result<(), SyncStop> {
    let now = app.clock.now();
    if !app
        .store
        .save_sync_progress(&t.account.id, job, p, now)
        .await?
        || !app.store.renew_sync(&t.connection.id, job, now).await?
    {
        return Err(SyncStop::Lost);
    }
    Ok(())
}

/// The consent's state for a sync starting `today`: refused once its last day has passed.
pub(crate) fn check_consent(t: &SyncTarget, today: Date) -> Result<(), AppError> {
    let expires = Date::parse(&t.connection.consent_expires_on)
        .map(|d| d.days())
        .unwrap_or(0);
    if expires <= today.days() {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::LinkFailed,
            say(
                "The bank's consent has expired. Link the bank again to keep syncing.",
                "Die Einwilligung bei der Bank ist abgelaufen. Verknüpfen Sie die Bank erneut, um weiter abzugleichen.",
            ),
        )
        .on("account", FieldProblem::Invalid));
    }
    Ok(())
}

/// The days a sync starting `today` fetches, and its first progress.
pub(crate) fn plan(
    t: &SyncTarget,
    asked: Option<&str>,
    today: Date,
) -> Result<SyncProgress, AppError> {
    Ok(SyncProgress {
        running: true,
        from_date: first_day(t, asked, today)?,
        to_date: last_day(t, today),
        ..SyncProgress::default()
    })
}

/// Starts fetching the account's new transactions (its whole connection's, one sync at a
/// time) as a task of the server; the page polls the progress until it ends.
#[utoipa::path(
    post,
    path = "/api/accounts/{account}/sync",
    tag = "bank links",
    security(("bookkeeper_session" = [], "csrf_token" = [])),
    params(("account" = String, Path, description = "A linked account's id.")),
    request_body = SyncRequest,
    responses(
        (status = 202, description = "The sync started; poll `GET` for its progress and outcome.", body = SyncProgress),
        (status = 400, description = "Malformed body, or no `User-Agent` (Klarna needs the bookkeeper's); `fields` names the field or header.", body = ApiError),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 403, description = "Missing or wrong `X-CSRF-Token`, or a cross-site request.", body = ApiError),
        (status = 404, description = "Unknown `account`.", body = ApiError),
        (status = 409, description = "The consent expired or was refused, or a sync of this bank is running.", body = ApiError),
        (status = 413, description = "The body is over 16 KiB.", body = ApiError),
        (status = 422, description = "A `from_date` that is malformed, before the consent or in the future.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
        (status = 503, description = "Klarna Open Banking is not reachable; try again.", body = ApiError),
    ),
)]
async fn sync(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Attended(psu): Attended,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SyncRequest>,
) -> Result<(StatusCode, Json<SyncProgress>), AppError> {
    let t = target(&app, &id).await?;
    let today = Date::from_unix(app.clock.now());
    check_consent(&t, today)?;
    let progress = plan(&t, body.from_date.as_deref(), today)?;
    let started = task::start(&app, t, progress, Some(psu), lang::current()).await?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// Keeps the consent token current: Klarna rotates it on every answer, errors included. A
/// token the answer only echoed (Klarna refused the one presented and rotated nothing) is not
/// news, and a token is replaced only while it is still the one presented (`generation`):
/// a sync that lost the race never writes its older token over a newer one.
async fn remember_token(
    app: &AppState,
    t: &SyncTarget,
    job: &str,
    (presented, generation): (&str, i64),
    token: &str,
) -> Result<(), SyncStop> {
    if token == presented {
        return Ok(());
    }
    let sealed = app.consent.seal(token);
    if app
        .store
        .rotate_consent_token(&t.connection.id, &sealed, generation)
        .await?
    {
        return Ok(());
    }
    // Not replaced. While this job still holds the lease, no other sync rotated the token:
    // the bank was linked again meanwhile, and this sync ends with the reason. Else another
    // sync took over, and this one writes no more.
    if app
        .store
        .renew_sync(&t.connection.id, job, app.clock.now())
        .await?
    {
        Err(SyncStop::Failed(relinked()))
    } else {
        Err(SyncStop::Lost)
    }
}

/// A sync that met a new consent: the bank was linked again (renewed) while it ran.
fn relinked() -> AppError {
    AppError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Internal,
        say(
            "The bank was linked again while this sync ran. Please sync again.",
            "Die Bank wurde während dieses Abgleichs neu verknüpft. Bitte starten Sie den Abgleich erneut.",
        ),
    )
}

async fn fetch_all(
    app: &AppState,
    t: &SyncTarget,
    job: &str,
    progress: &mut SyncProgress,
    psu: Option<&Psu>,
) -> Result<(), SyncStop> {
    let c = &t.connection;
    let mut page: Option<Page> = None;
    // Stored together once the last page is in: the pending ones of these days are replaced.
    let mut sorted = Sorted::default();
    loop {
        // Read the current token each time: it changed with the previous page.
        let (token, generation) = current_token(app, t).await?;
        let presented = (token.as_str(), generation);
        let call = match page
            .as_ref()
            .and_then(|p| p.result.pagination.as_ref())
            .and_then(|p| p.next.as_ref())
        {
            None if page.is_some() => {
                let lease = crate::sync_store::SyncLease {
                    connection_id: &c.id,
                    job,
                    now: app.clock.now(),
                };
                progress.added = app
                    .store
                    .record_sync(
                        &t.account.id,
                        &sorted,
                        &progress.from_date,
                        &c.consent_start,
                        &lease,
                    )
                    .await?
                    // Another sync holds the connection now: this one writes nothing.
                    .ok_or(SyncStop::Lost)?;
                return Ok(());
            }
            None => {
                app.xs2a
                    .consent_transactions(
                        &c.consent_id,
                        &token,
                        &t.account.xs2a_account_id,
                        &progress.from_date,
                        &progress.to_date,
                        psu,
                    )
                    .await
            }
            Some(next) => {
                app.xs2a
                    .consent_transactions_next(&c.consent_id, &token, &next.offset, psu)
                    .await
            }
        };
        let mut fetched = match call {
            Ok(p) => p,
            Err(e) => {
                if let Some(rotated) = e.rotated_token() {
                    remember_token(app, t, job, presented, rotated).await?;
                }
                return Err(sync_failure(e).into());
            }
        };
        remember_token(app, t, job, presented, &fetched.consent_token).await?;
        progress.pages += 1;
        progress.fetched += fetched.result.transactions.len() as u32;
        for problem in sorted.add(std::mem::take(&mut fetched.result.transactions)) {
            // Skipped, not the sync: one odd entry would fail every later sync the same way.
            // The problem names a field, never a payee, IBAN or reference.
            tracing::warn!(account = %t.account.id, %job, %problem, "skipped a transaction Klarna sent");
        }
        progress.skipped = sorted.skipped;
        set_progress(app, t, job, progress).await?;
        page = Some(fetched);
    }
}

/// The consent token and its generation, for the consent this sync started with: after a
/// relink the connection holds another consent, whose token must never be sent with this
/// sync's consent id (nor its answers' tokens stored over the new consent's).
async fn current_token(app: &AppState, t: &SyncTarget) -> Result<(String, i64), SyncStop> {
    let (sealed, generation, consent_id) = app
        .store
        .consent_token(&t.connection.id)
        .await?
        .unwrap_or_default();
    if consent_id != t.connection.consent_id {
        return Err(SyncStop::Failed(relinked()));
    }
    let token = app
        .consent
        .open(&sealed)
        .map_err(|e| AppError::internal("opening a consent token", e))?;
    Ok((token, generation))
}

fn sync_failure(e: Xs2aError) -> AppError {
    match &e {
        e if e.is_transient() => AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::KlarnaUnavailable,
            say(
                "Klarna Open Banking is not reachable right now. Please sync again in a moment.",
                "Klarna Open Banking ist gerade nicht erreichbar. Bitte starten Sie den Abgleich gleich noch einmal.",
            ),
        ),
        Xs2aError::Api { body, .. } if body.error.code.starts_with("CONSENT") => AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::LinkFailed,
            say(
                "The bank no longer accepts this consent. Link the bank again to keep syncing.",
                "Die Bank akzeptiert diese Einwilligung nicht mehr. Verknüpfen Sie die Bank erneut, um weiter abzugleichen.",
            ),
        )
        .on("account", FieldProblem::Invalid),
        _ => AppError::internal("syncing transactions", e),
    }
}

/// The account's sync as it runs (or as it last ended).
#[utoipa::path(
    get,
    path = "/api/accounts/{account}/sync",
    tag = "bank links",
    security(("bookkeeper_session" = [])),
    params(("account" = String, Path, description = "A linked account's id.")),
    responses(
        (status = 200, description = "The sync's progress.", body = SyncProgress),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 404, description = "Unknown `account`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
async fn progress(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
) -> Result<Json<SyncProgress>, AppError> {
    target(&app, &id).await?;
    Ok(Json(task::progress(&app, &id).await?))
}

/// The account's stored transactions.
#[utoipa::path(
    get,
    path = "/api/accounts/{account}/transactions",
    tag = "bank links",
    security(("bookkeeper_session" = [])),
    params(("account" = String, Path, description = "A linked account's id.")),
    responses(
        (status = 200, description = "The transactions.", body = Vec<BookedTransaction>),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 404, description = "Unknown `account`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
async fn list(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
) -> Result<Json<Vec<BookedTransaction>>, AppError> {
    target(&app, &id).await?;
    Ok(Json(app.store.transactions(&id).await?))
}

#[cfg(test)]
mod tests;
