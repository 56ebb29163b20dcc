//! What every request handler shares.

use crate::auth::Sessions;
use crate::config::Config;
use crate::consent_crypto::ConsentCipher;
use crate::klarna_client::KlarnaClient;
use crate::store::Store;
use crate::xs2a_client::Xs2aClient;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub klarna: KlarnaClient,
    pub xs2a: Xs2aClient,
    pub consent: ConsentCipher,
    pub bookkeepers: Sessions,
    pub sign_in_throttle: crate::sign_in_throttle::SignInThrottle,
    /// Per-client budgets of the checkout endpoints.
    pub rate_limiter: crate::rate_limit::RateLimiter,
    /// Permits for Argon2 verifications running at once.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// Progress of running and finished syncs, by account.
    pub sync_progress: Arc<Mutex<HashMap<String, klarna::api::SyncProgress>>>,
    pub store: Store,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl AppState {
    pub fn new(
        config: Config,
        klarna: KlarnaClient,
        xs2a: Xs2aClient,
        consent: ConsentCipher,
        store: Store,
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
            bookkeepers: Sessions::default(),
            sign_in_throttle: Default::default(),
            rate_limiter,
            password_checks: Arc::new(tokio::sync::Semaphore::new(2)),
            sync_progress: Arc::default(),
            store,
            locks: Arc::default(),
        }
    }

    /// A lock per key (a checkout session, an authorization token): every way to an order
    /// (the browser's retries, a second approval, Klarna's callback) queues here. Entries
    /// nobody holds any more are dropped on the way.
    pub fn order_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        locks.entry(key.to_string()).or_default().clone()
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
