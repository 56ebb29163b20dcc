//! Background work that survives a restart, because all of it is read from the database:
//! order attempts whose holder died or got no answer from Klarna (asked again with the same
//! idempotency key), Klarna's stored authorization callbacks, the merchant's order operations
//! Klarna has not answered yet (sent again with their own keys), and the purge of what Klarna
//! has forgotten, bank syncs whose server stopped (ended, never left "running") and the day's
//! scheduled sync. Every instance runs it; leases in the database make each item one
//! instance's at a time.

use crate::checkout::{create_order_once, OrderWait};
use crate::state::AppState;
use std::time::Duration;

/// How long a worker may hold a callback before another may take it.
const CALLBACK_LEASE_SECS: i64 = 60;
/// Time between two purges (real time: the first comes a minute after start).
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Starts the worker: a round every `every`, or at once when woken.
pub fn spawn(app: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_purge = tokio::time::Instant::now();
        loop {
            let purge = last_purge.elapsed() >= PURGE_EVERY;
            if purge {
                last_purge = tokio::time::Instant::now();
            }
            run_round(&app, purge).await;
            app.rounds.send_modify(|n| *n = n.wrapping_add(1));
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = app.wake.notified() => {}
            }
        }
    })
}

/// One round: everything due now. Public so tests can drive rounds without waiting.
pub async fn run_round(app: &AppState, purge: bool) {
    recover_attempts(app).await;
    handle_callbacks(app).await;
    crate::merchant::operations::recover(crate::merchant::operations::Ops {
        store: &app.store,
        klarna: &app.klarna,
        clock: &app.clock,
    })
    .await;
    crate::recurring::recover(app).await;
    crate::bank_sync::task::end_abandoned(app).await;
    crate::bank_schedule::run_due(app).await;
    if purge {
        reread_pending(app).await;
        let now = app.clock.now();
        if let Err(e) = app.store.purge_bookkeeper_sessions(now).await {
            tracing::warn!("purging sign-in sessions: {e}");
        }
        if let Err(e) = app.store.purge_sign_in_attempts(now).await {
            tracing::warn!("purging sign-in attempts: {e}");
        }
        match app.store.purge_expired(now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "purged expired checkout sessions and refusals"),
            Err(e) => tracing::warn!("purging: {e}"),
        }
    }
}

/// Orders still under fraud review whose notification may have been lost (Klarna gave up, the
/// hook secret changed, the order was recorded after the notification came): Order Management
/// is asked again, at most every 15 minutes per order.
async fn reread_pending(app: &AppState) {
    let before = app.clock.now() - 15 * 60;
    let due = match app.store.stale_pending_orders(before, 20).await {
        Ok(due) => due,
        Err(e) => return tracing::warn!("reading pending orders: {e}"),
    };
    for order_id in due {
        if let Err(e) = crate::hooks::refresh_order(app, &order_id).await {
            tracing::warn!(%order_id, "re-reading a pending order: {e}");
        }
    }
}

/// Attempts whose lease expired: their holder crashed, or Klarna gave no usable answer.
async fn recover_attempts(app: &AppState) {
    // Bounded per round, so one round never runs away.
    for _ in 0..50 {
        let attempt = match app
            .store
            .claim_stale_attempt(app.clock.now(), crate::checkout::ATTEMPT_LEASE_SECS)
            .await
        {
            Ok(Some(a)) => a,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("recovering order attempts: {e}");
                return;
            }
        };
        let session = attempt.session_id.clone();
        match crate::checkout::call_klarna(app, attempt).await {
            Ok(order) => {
                tracing::info!(order_id = %order.order_id, %session, "order recovered")
            }
            Err(e) => {
                tracing::warn!(%session, code = ?e.body.code, "order attempt not settled yet")
            }
        }
    }
}

async fn handle_callbacks(app: &AppState) {
    for _ in 0..50 {
        let (token, klarna_session, tries) = match app
            .store
            .claim_due_callback(app.clock.now(), CALLBACK_LEASE_SECS)
            .await
        {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("reading authorization callbacks: {e}");
                return;
            }
        };
        let done = match app.store.session_by_klarna_id(&klarna_session).await {
            Ok(None) => {
                tracing::warn!(%klarna_session, "authorization callback for an unknown session");
                true
            }
            Err(e) => {
                tracing::warn!("authorization callback: {e}");
                false
            }
            Ok(Some(session)) => {
                match create_order_once(app, &session, &token, None, None, None, OrderWait::Worker)
                    .await
                {
                    Ok(order) => {
                        tracing::info!(order_id = %order.order_id, session = %session.id, "order ensured by authorization callback");
                        true
                    }
                    // Klarna or another holder is still busy with it, or our own storage
                    // stumbled: later. For an approval the browser got no token for, this
                    // callback is the only way to the order.
                    Err(e)
                        if matches!(
                            e.body.code,
                            klarna::api::ErrorCode::KlarnaUnavailable
                                | klarna::api::ErrorCode::Internal
                        ) =>
                    {
                        false
                    }
                    Err(e) => {
                        tracing::warn!(session = %session.id, code = ?e.body.code, "authorization callback could not create the order");
                        true
                    }
                }
            }
        };
        let result = if done {
            app.store.finish_callback(&token).await
        } else {
            let later = app.clock.now() + (2_i64 << tries.clamp(0, 8)).min(600);
            app.store.retry_callback(&token, later).await
        };
        if let Err(e) = result {
            tracing::warn!("authorization callback bookkeeping: {e}");
        }
    }
}
