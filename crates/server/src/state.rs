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
    /// Permits for Argon2 verifications running at once.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// Progress of running and finished syncs, by account.
    pub sync_progress: Arc<Mutex<HashMap<String, klarna::api::SyncProgress>>>,
    pub store: Store,
    /// "Now" for the bank-linking side (sign-in sessions and throttle, links, consents, syncs).
    /// In sandbox mode it is the embedded sandbox's own clock, one "now" for Klarna and for us,
    /// so a test sets the date once; otherwise real time.
    pub clock: sandbox::Clock,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
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
        AppState {
            config: Arc::new(config),
            klarna,
            xs2a,
            consent,
            bookkeepers: Sessions::default(),
            sign_in_throttle: Default::default(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(2)),
            sync_progress: Arc::default(),
            store,
            clock,
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

/// Real time, for the checkout side (which reads it directly for now).
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
