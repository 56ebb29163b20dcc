//! A sync runs as a task of the server, not inside the request that started it: the request
//! claims the connection's lease for a new job, records the job (dates, the language of whoever
//! started it; their psu stays in the task's memory) and answers 202; the page polls the progress. A bookkeeper who
//! closes the tab loses nothing, and the job ends with an outcome stored for every instance.
//! A job whose server stopped is ended `failed` once its lease runs out (at the next read of
//! its progress, and durably by the worker rounds): progress is never stuck "running". A job
//! that lost its lease writes nothing more (its token writes are refused by generation, its
//! progress writes by job).

use crate::bank_store::SyncTarget;
use crate::error::AppError;
use crate::lang::{say, within};
use crate::state::AppState;
use axum::http::StatusCode;
use klarna::api::{ApiError, ErrorCode, SyncOutcome, SyncProgress};
use klarna::xs2a::Psu;
use klarna::{FieldProblem, Lang};

/// Why a job stopped before its end.
#[derive(Debug)]
pub enum SyncStop {
    /// It failed; the bookkeeper is told why.
    Failed(AppError),
    /// Another sync holds the connection's lease (or this job was ended): it writes no more.
    Lost,
}

impl From<AppError> for SyncStop {
    fn from(e: AppError) -> SyncStop {
        SyncStop::Failed(e)
    }
}

impl From<sqlx::Error> for SyncStop {
    fn from(e: sqlx::Error) -> SyncStop {
        SyncStop::Failed(e.into())
    }
}

/// The refusal of a second sync of the same bank.
pub fn running() -> AppError {
    AppError::new(
        StatusCode::CONFLICT,
        ErrorCode::SyncRunning,
        say(
            "A sync of this bank is already running. Please wait until it has finished.",
            "Für diese Bank läuft bereits ein Abgleich. Bitte warten Sie, bis er fertig ist.",
        ),
    )
    .on("account", FieldProblem::Invalid)
}

/// What a job whose server stopped ends with, in the language of whoever started it.
pub fn interrupted(lang: Lang) -> SyncOutcome {
    SyncOutcome::Failed {
        error: ApiError::new(
            ErrorCode::Internal,
            lang.pick(
                "The sync stopped before it finished (the server was restarted). Please sync again.",
                "Der Abgleich wurde vor dem Ende unterbrochen (der Server wurde neu gestartet). Bitte starten Sie ihn erneut.",
            ),
        ),
    }
}

/// Claims the connection for a new job, records it and runs it in the background; the
/// answer is the job's first progress. 409 `SYNC_RUNNING` when a sync of the bank runs.
pub async fn start(
    app: &AppState,
    t: SyncTarget,
    progress: SyncProgress,
    psu: Option<Psu>,
    lang: Lang,
) -> Result<SyncProgress, AppError> {
    let job = begin(app, &t, &progress, lang).await?;
    let task = {
        let (app, progress) = (app.clone(), progress.clone());
        tokio::spawn(within(lang, async move {
            run(&app, &t, &job, progress, psu.as_ref()).await;
        }))
    };
    app.keep_task(task);
    Ok(progress)
}

/// Claims the connection's lease for a new job and records the job; its id.
pub async fn begin(
    app: &AppState,
    t: &SyncTarget,
    progress: &SyncProgress,
    lang: Lang,
) -> Result<String, AppError> {
    let job = claim(app, t).await?;
    record(app, t, &job, progress, lang).await?;
    Ok(job)
}

/// Claims the connection's lease for a new job; its id. 409 `SYNC_RUNNING` when another holds it.
pub async fn claim(app: &AppState, t: &SyncTarget) -> Result<String, AppError> {
    let job = uuid::Uuid::new_v4().to_string();
    // One sync per connection, whichever instance and account asks: the consent token is the
    // connection's, and Klarna rotates it on every call.
    if !app
        .store
        .claim_sync(&t.connection.id, &job, app.clock.now())
        .await?
    {
        return Err(running());
    }
    Ok(job)
}

/// Records the claimed `job` as the account's sync; gives the lease back when it cannot.
pub async fn record(
    app: &AppState,
    t: &SyncTarget,
    job: &str,
    progress: &SyncProgress,
    lang: Lang,
) -> Result<(), AppError> {
    let recorded = app
        .store
        .start_sync(&t.account.id, job, progress, lang, app.clock.now())
        .await;
    if let Err(e) = recorded {
        app.store.release_sync(&t.connection.id, job).await?;
        return Err(e.into());
    }
    Ok(())
}

/// Runs a claimed job to its end and stores how it ended (unless it lost its lease).
pub async fn run(
    app: &AppState,
    t: &SyncTarget,
    job: &str,
    mut progress: SyncProgress,
    psu: Option<&Psu>,
) -> Option<SyncOutcome> {
    let (account, connection) = (&t.account.id, &t.connection.id);
    let outcome = match super::fetch_all(app, t, job, &mut progress, psu).await {
        Ok(()) => match app.store.set_last_synced(account, &progress.to_date).await {
            Ok(()) => SyncOutcome::Ok,
            Err(e) => failed(e.into()),
        },
        Err(SyncStop::Failed(e)) => failed(e),
        Err(SyncStop::Lost) => {
            tracing::warn!(%account, %job, "a sync lost its lease to another and stopped");
            return None;
        }
    };
    progress.running = false;
    progress.outcome = Some(outcome.clone());
    match app
        .store
        .end_sync(account, connection, job, &progress, app.clock.now())
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(%account, %job, "a sync ended after it was taken over"),
        // Its lease runs out by itself, and the worker rounds end it.
        Err(e) => tracing::error!(%account, %job, "storing a sync's end: {e}"),
    }
    Some(outcome)
}

fn failed(e: AppError) -> SyncOutcome {
    SyncOutcome::Failed { error: e.body }
}

/// The account's sync as the page sees it: one whose server stopped reads as ended.
pub async fn progress(app: &AppState, account: &str) -> Result<SyncProgress, AppError> {
    let Some(stored) = app.store.stored_sync(account, app.clock.now()).await? else {
        return Ok(SyncProgress::default());
    };
    let mut p = stored.progress;
    if stored.abandoned {
        p.running = false;
        p.outcome = Some(interrupted(stored.lang));
    }
    Ok(p)
}

/// Worker round: ends, for good, the jobs whose server stopped (every instance may try; the
/// database lets one do each).
pub async fn end_abandoned(app: &AppState) {
    let now = app.clock.now();
    let accounts = match app.store.abandoned_syncs(now).await {
        Ok(a) => a,
        Err(e) => return tracing::warn!("reading abandoned syncs: {e}"),
    };
    for account in accounts {
        let ended = match app.store.stored_sync(&account, now).await {
            Ok(Some(s)) if s.abandoned => {
                let job = s.job.unwrap_or_default();
                app.store
                    .end_abandoned_sync(&account, &job, &interrupted(s.lang), now)
                    .await
            }
            Ok(_) => Ok(false),
            Err(e) => Err(e),
        };
        match ended {
            Ok(true) => tracing::warn!(%account, "ended a sync whose server stopped"),
            Ok(false) => {}
            Err(e) => tracing::warn!(%account, "ending an abandoned sync: {e}"),
        }
    }
}
