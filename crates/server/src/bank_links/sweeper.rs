//! The sweeper: ends the bank links nobody reports on any more (the tab closed mid-flow, a
//! report's holder died, a link given back to "check again") and closes every XS2A session
//! whose close has not reached Klarna yet. A stale link is decided as if given up
//! (`ending.rs`), so a flow that finished without its browser is stored, never thrown away.

use super::close_session;
use super::ending::{decide_on, read, settle, Decided};
use super::refusals::gone;
use crate::bank_store::StoredLink;
use crate::error::AppError;
use crate::state::AppState;
use klarna::api::LinkEnding;
use std::time::Duration;

/// Ends the links the browser abandoned (tab closed mid-flow), storing those whose flow
/// finished, and closes their XS2A sessions: nothing stays open at Klarna much longer than
/// `timeout`.
pub fn spawn_sweeper(app: AppState, timeout: Duration) {
    let every = (timeout / 2).clamp(Duration::from_millis(500), Duration::from_secs(60));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let now = app.clock.now();
            let before = now - timeout.as_secs() as i64;
            let Ok(stale) = app.store.stale_links(before, now).await else {
                continue;
            };
            // An abandoned link (the browser never reported, a report's holder died, or the
            // link was given back to check again) is ended here as if given up, unless a
            // request is ending it right now: a flow that finished is stored, anything else
            // ends (`timed_out`) and its session is closed below with every other session
            // whose close has not reached Klarna yet, once per round.
            for link in stale {
                match sweep(&app, &link).await {
                    Ok(true) => tracing::info!(link = %link.id, "abandoned bank link ended"),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(link = %link.id, "abandoned bank link kept: {}", e.body.message)
                    }
                }
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

/// The sweeper's ending of a stale link (the browser never reported, its holder died, or it
/// was given back to "check again"): claimed like a report, and decided like giving up, so a
/// flow that finished meanwhile is stored, never thrown away. Only when Klarna cannot say how
/// the flow is does the link time out. True when the link was ended (linked or not).
async fn sweep(app: &AppState, link: &StoredLink) -> Result<bool, AppError> {
    let claim = uuid::Uuid::new_v4().to_string();
    if !app
        .store
        .claim_link_end(&link.id, &claim, app.clock.now())
        .await?
    {
        return Ok(false);
    }
    let decided = match read(app, link).await {
        Ok(flow) => decide_on(app, link, &claim, LinkEnding::GivenUp, flow)
            .await
            .unwrap_or_else(Decided::Keep),
        Err(e) => {
            tracing::warn!(link = %link.id, "timing a link out without reading its flow: {}", e.body.message);
            Decided::End(gone(LinkEnding::GivenUp))
        }
    };
    let ended = !matches!(decided, Decided::Keep(_) | Decided::Lost);
    match settle(app, link, &claim, decided, Some("timed_out")).await {
        Ok(_) => Ok(ended),
        Err(e) if e.status.is_server_error() => Err(e),
        // A refusal is the answer a report would have got: the link ended all the same.
        Err(_) => Ok(ended),
    }
}
