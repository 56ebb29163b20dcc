//! What every request handler shares.

use crate::config::Config;
use crate::consent_crypto::ConsentCipher;
use crate::klarna_client::KlarnaClient;
use crate::store::Store;
use crate::xs2a_client::Xs2aClient;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub klarna: KlarnaClient,
    pub xs2a: Xs2aClient,
    pub consent: ConsentCipher,
    /// Per-client budgets of the checkout endpoints.
    pub rate_limiter: crate::rate_limit::RateLimiter,
    /// Permits for Argon2 verifications running at once.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    pub store: Store,
    /// Wakes the background workers (a shopper is waiting for an order).
    pub wake: Arc<tokio::sync::Notify>,
    /// Rounds the order worker has finished: whoever waits for its work (the tests) waits
    /// for the next round instead of a fixed time.
    pub rounds: Arc<tokio::sync::watch::Sender<u64>>,
    /// Held while this instance's scheduled-sync task runs: a round starts no second one.
    pub schedule_running: Arc<tokio::sync::Mutex<()>>,
    /// This instance's background tasks, stopped by [`AppState::stop_tasks`].
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    /// "Now" for the bank-linking side (sign-in sessions and throttle, links, consents, syncs).
    /// In sandbox mode it is the embedded sandbox's own clock, one "now" for Klarna and for us,
    /// so a test sets the date once; otherwise real time.
    pub clock: sandbox::Clock,
}

impl AppState {
    pub fn new(
        config: Config,
        klarna: KlarnaClient,
        xs2a: Xs2aClient,
        consent: ConsentCipher,
        store: Store,
        clock: sandbox::Clock,
    ) -> AppState {
        let rate_limiter = crate::rate_limit::RateLimiter::new(
            config.rate_sessions_per_min,
            config.rate_orders_per_min,
        );
        AppState {
            config: Arc::new(config),
            klarna,
            xs2a,
            consent,
            rate_limiter,
            password_checks: Arc::new(tokio::sync::Semaphore::new(2)),
            store,
            wake: Arc::default(),
            rounds: Arc::new(tokio::sync::watch::Sender::new(0)),
            schedule_running: Arc::default(),
            tasks: Arc::default(),
            clock,
        }
    }

    /// Keeps a task to stop with the others; finished ones are let go (a sync per click).
    pub fn keep_task(&self, task: tokio::task::JoinHandle<()>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    pub fn stop_tasks(&self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }

    pub fn wake_workers(&self) {
        self.wake.notify_one();
    }
}
