//! Transaction sync for one linked account: from the last synced day (never before the
//! consent's start, which Klarna refuses) to today (never after the consent's last day), page by
//! page, every page's rotated consent token stored at once (also when a call fails); once the
//! last page is in, its transactions are stored in one go (`entry_store.rs`): each booked one
//! once, the pending ones apart. Every call carries the psu of whoever started the sync (`None`
//! for a sync nobody started, as Klarna's unattended calls go).

use crate::auth::Bookkeeper;
use crate::bank_entries::Sorted;
use crate::bank_psu::Attended;
use crate::bank_store::SyncTarget;
use crate::error::{ApiJson, AppError};
use crate::lang::say;
use crate::state::AppState;
use crate::xs2a_client::Xs2aError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use klarna::api::{ApiError, BookedTransaction, ErrorCode, SyncProgress, SyncRequest};
use klarna::date::Date;
use klarna::xs2a::{Psu, TransactionsPage};
use klarna::FieldProblem;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync, progress))
        .routes(routes!(list))
}

pub(crate) async fn target(app: &AppState, id: &str) -> Result<SyncTarget, AppError> {
    app.store.sync_target(id).await?.ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownSession,
            format!("account: no linked account {id:?}."),
        )
        .on("account", FieldProblem::NotFound)
    })
}

/// The first day to fetch: asked for, or where the last sync ended (earlier if a transaction
/// of an earlier day is still pending, so the bank says whether it booked), never before the
/// consent (a relink with a later start date moves the consent's start past the last synced
/// day) and never after `today`.
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
    Ok(date.to_string())
}

/// The last day to fetch: today, but never after the consent's last day (its window's end).
fn last_day(t: &SyncTarget, today: Date) -> String {
    let today = today.to_string();
    today.min(t.connection.consent_expires_on.clone())
}

/// Written for every instance to read (the page polls whichever it reaches).
async fn set_progress(app: &AppState, id: &str, p: &SyncProgress) -> Result<(), AppError> {
    app.store.save_sync_progress(id, p, app.clock.now()).await?;
    Ok(())
}

/// Fetches the account's new transactions (its whole connection's, one sync at a time).
#[utoipa::path(
    post,
    path = "/api/accounts/{account}/sync",
    tag = "bank links",
    security(("bookkeeper_session" = [], "csrf_token" = [])),
    params(("account" = String, Path, description = "A linked account's id.")),
    request_body = SyncRequest,
    responses(
        (status = 200, description = "The finished sync.", body = SyncProgress),
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
) -> Result<Json<SyncProgress>, AppError> {
    let t = target(&app, &id).await?;
    let today = Date::from_unix(app.clock.now());
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
    let asked = body.from_date.as_deref();
    let mut progress = SyncProgress {
        running: true,
        from_date: first_day(&t, asked, today)?,
        to_date: last_day(&t, today),
        ..SyncProgress::default()
    };
    // One sync per connection, whichever instance and account asks: the consent token is the
    // connection's, and Klarna rotates it on every call.
    if !app
        .store
        .claim_sync(&t.connection.id, app.clock.now())
        .await?
    {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::SyncRunning,
            say(
                "A sync of this bank is already running. Please wait until it has finished.",
                "Für diese Bank läuft bereits ein Abgleich. Bitte warten Sie, bis er fertig ist.",
            ),
        )
        .on("account", FieldProblem::Invalid));
    }
    let result = match set_progress(&app, &id, &progress).await {
        Ok(()) => fetch_all(&app, &t, &mut progress, Some(&psu)).await,
        Err(e) => Err(e),
    };
    progress.running = false;
    let saved = set_progress(&app, &id, &progress).await;
    app.store.release_sync(&t.connection.id).await?;
    result?;
    saved?;
    app.store.set_last_synced(&id, &progress.to_date).await?;
    Ok(Json(progress))
}

/// Keeps the consent token current: Klarna rotates it on every answer, errors included.
async fn remember_token(app: &AppState, t: &SyncTarget, token: &str) -> Result<(), AppError> {
    let sealed = app.consent.seal(token);
    app.store
        .rotate_consent_token(&t.connection.id, &sealed)
        .await?;
    Ok(())
}

async fn fetch_all(
    app: &AppState,
    t: &SyncTarget,
    progress: &mut SyncProgress,
    psu: Option<&Psu>,
) -> Result<(), AppError> {
    let c = &t.connection;
    let mut page: Option<TransactionsPage> = None;
    // Stored together once the last page is in: the pending ones of these days are replaced.
    let mut sorted = Sorted::default();
    loop {
        // Read the current token each time: it changed with the previous page.
        let token = current_token(app, &c.id).await?;
        let call = match page
            .as_ref()
            .and_then(|p| p.result.pagination.as_ref())
            .and_then(|p| p.next.as_ref())
        {
            None if page.is_some() => {
                progress.added = app
                    .store
                    .record_sync(
                        &t.account.id,
                        &sorted,
                        &progress.from_date,
                        &c.consent_start,
                    )
                    .await?;
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
                    remember_token(app, t, rotated).await?;
                }
                return Err(sync_failure(e));
            }
        };
        remember_token(app, t, &fetched.consent_token).await?;
        progress.pages += 1;
        progress.fetched += fetched.result.transactions.len() as u32;
        sorted
            .add(std::mem::take(&mut fetched.result.transactions))
            .map_err(|e| AppError::internal("reading Klarna's transactions", e))?;
        set_progress(app, &t.account.id, progress).await?;
        app.store.renew_sync(&c.id, app.clock.now()).await?;
        page = Some(fetched);
    }
}

async fn current_token(app: &AppState, connection_id: &str) -> Result<String, AppError> {
    let sealed = app
        .store
        .connection(connection_id)
        .await?
        .map(|c| c.consent_token_sealed)
        .unwrap_or_default();
    app.consent
        .open(&sealed)
        .map_err(|e| AppError::internal("opening a consent token", e))
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
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
async fn progress(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
) -> Result<Json<SyncProgress>, AppError> {
    Ok(Json(app.store.sync_progress(&id, app.clock.now()).await?))
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
mod tests {
    use super::{first_day, last_day, Date};
    use crate::bank_store::{StoredAccount, StoredConnection, SyncTarget};

    fn target(consent_start: &str, last_synced: Option<&str>) -> SyncTarget {
        SyncTarget {
            account: StoredAccount {
                id: "a".into(),
                xs2a_account_id: "x".into(),
                iban: "DE00".into(),
                name: "Giro".into(),
                holder_name: "H".into(),
                balance: 0,
                currency: "EUR".into(),
            },
            connection: StoredConnection {
                id: "c".into(),
                company: "C".into(),
                bank_name: "B".into(),
                bank_code: "88888888".into(),
                consent_id: "k".into(),
                consent_token_sealed: String::new(),
                consent_start: consent_start.into(),
                consent_expires_on: "2999-01-01".into(),
            },
            last_synced_date: last_synced.map(Into::into),
            pending_since: None,
        }
    }

    #[test]
    fn a_sync_resumes_where_it_ended_but_never_before_the_consent() {
        let today = Date::parse("2026-06-15").unwrap();
        let first = |start, last| first_day(&target(start, last), None, today).ok();
        assert_eq!(first("2026-01-01", None).as_deref(), Some("2026-01-01"));
        assert_eq!(
            first("2026-01-01", Some("2026-03-10")).as_deref(),
            Some("2026-03-10")
        );
        // Relinked with a later start after the last sync: Klarna would refuse the old date.
        assert_eq!(
            first("2026-05-01", Some("2026-03-10")).as_deref(),
            Some("2026-05-01")
        );
        let t = target("2026-01-01", None);
        assert!(first_day(&t, Some("2025-12-31"), today).is_err());
        assert!(first_day(&t, Some("2026-06-16"), today).is_err(), "future");
        assert_eq!(
            first_day(&t, Some("2026-06-15"), today).ok().as_deref(),
            Some("2026-06-15")
        );
        assert_eq!(
            first_day(&t, Some("2026-02-01"), today).ok().as_deref(),
            Some("2026-02-01")
        );
    }

    #[test]
    fn a_sync_ends_today_but_never_after_the_consents_last_day() {
        let mut t = target("2026-01-01", None);
        t.connection.consent_expires_on = "2026-06-20".into();
        let last = |today| last_day(&t, Date::parse(today).unwrap());
        assert_eq!(last("2026-06-15"), "2026-06-15");
        assert_eq!(last("2026-06-20"), "2026-06-20");
        assert_eq!(last("2026-06-21"), "2026-06-20");
    }

    #[test]
    fn a_sync_goes_back_to_the_oldest_pending_transaction() {
        let today = Date::parse("2026-06-15").unwrap();
        let first = |start, last: Option<&str>, pending: &str| {
            let mut t = target(start, last);
            t.pending_since = Some(pending.into());
            first_day(&t, None, today).ok()
        };
        assert_eq!(
            first("2026-01-01", Some("2026-03-10"), "2026-03-08").as_deref(),
            Some("2026-03-08")
        );
        assert_eq!(
            first("2026-01-01", Some("2026-03-10"), "2026-03-12").as_deref(),
            Some("2026-03-10")
        );
        assert_eq!(
            first("2026-01-01", None, "2026-03-12").as_deref(),
            Some("2026-03-12")
        );
        assert_eq!(
            first("2026-05-01", Some("2026-05-10"), "2026-03-08").as_deref(),
            Some("2026-05-01"),
            "never before the consent"
        );
    }
}
