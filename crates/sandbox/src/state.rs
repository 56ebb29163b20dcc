//! The sandbox's memory: sessions, authorizations and orders, as Klarna keeps them.

use crate::clock::Clock;
use crate::faults::{Faults, Taken};
use klarna::payments::{CreateOrderRequest, KlarnaErrorBody, KlarnaOrder, SessionRequest};
use klarna::Address;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Klarna's lifetimes.
pub const SESSION_LIFETIME_SECS: i64 = 48 * 3600;
pub const AUTHORIZATION_LIFETIME_SECS: i64 = 60 * 60;

/// The API username and password the sandbox accepts (HTTP Basic), like a Klarna merchant account.
#[derive(Clone, Debug)]
pub struct SandboxCredentials {
    pub username: String,
    pub password: String,
}

impl Default for SandboxCredentials {
    fn default() -> Self {
        SandboxCredentials {
            username: "PK_SANDBOX_test".into(),
            password: "sandbox-shared-secret".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub request: SessionRequest,
    pub client_token: String,
    pub created_at: i64,
    pub completed: bool,
}

/// What the shopper approved: the session's data at that moment plus the addresses given to
/// `authorize()`. Order creation must repeat it exactly.
#[derive(Clone, Debug)]
pub(crate) struct Authorization {
    pub session_id: String,
    pub category: String,
    pub approved: SessionRequest,
    pub billing_address: Address,
    pub shipping_address: Address,
    pub created_at: i64,
    pub pending_review: bool,
    /// How a pending review ends: `customer+…+pending+rejected@…` is turned down.
    pub review_rejects: bool,
    /// Klarna's create order is idempotent per token: the first answer is repeated.
    pub outcome: Option<Result<KlarnaOrder, (u16, KlarnaErrorBody)>>,
    pub released: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct StoredOrder {
    pub order: KlarnaOrder,
    pub request: CreateOrderRequest,
    pub authorization_token: String,
    pub created_at: i64,
    /// A pending order's review ends at `created_at + REVIEW_SECS`, accepted or not.
    pub review_rejects: bool,
    /// The review's end was notified to `merchant_urls.notification`.
    pub notified: bool,
}

/// How long Klarna's fraud review of a pending order takes on the sandbox clock (Klarna:
/// "4 to 8 business hours, at most 24").
pub const REVIEW_SECS: i64 = 4 * 3600;

impl StoredOrder {
    /// The fraud status as Klarna reports it at `now`.
    pub fn fraud_status_at(&self, now: i64) -> klarna::payments::FraudStatus {
        use klarna::payments::FraudStatus;
        match self.order.fraud_status {
            FraudStatus::Pending if now >= self.created_at + REVIEW_SECS => {
                if self.review_rejects {
                    FraudStatus::Rejected
                } else {
                    FraudStatus::Accepted
                }
            }
            other => other,
        }
    }
}

/// A request the merchant's server sent to the Payments or Order Management API.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    /// The JSON body as sent (`null` when there was none).
    pub body: serde_json::Value,
}

/// How many requests the log keeps (the newest).
const REQUEST_LOG_LEN: usize = 1000;

/// A `Klarna-Idempotency-Key`'s first answer, replayed for 24 hours.
#[derive(Clone, Debug)]
pub(crate) struct FirstAnswer {
    pub at: i64,
    pub status: u16,
    pub body: bytes::Bytes,
}

/// Per key: the first answer once there is one. The async lock makes a duplicate that
/// arrives while the first is still being handled wait for it, then replay it.
pub(crate) type IdempotencyKeys =
    Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<FirstAnswer>>>>>>;

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub sessions: HashMap<String, Session>,
    pub authorizations: HashMap<String, Authorization>,
    /// Authorizations waiting for `finalize()` (`auto_finalize: false`), by session and category.
    pub finalize_pending: HashMap<(String, String), Authorization>,
    pub orders: Vec<StoredOrder>,
    pub faults: Faults,
    /// `authorize()` calls the browser made (each opens the purchase flow once).
    pub authorize_calls: usize,
    pub requests: std::collections::VecDeque<RecordedRequest>,
}

/// Cheap to clone: all clones share one state.
#[derive(Clone, Debug, Default)]
pub struct Sandbox {
    pub(crate) inner: Arc<Mutex<Inner>>,
    pub(crate) idempotency: IdempotencyKeys,
    pub clock: Clock,
    pub credentials: SandboxCredentials,
    /// Answers handled but held back by `answer_delay_ms` right now (kept across `reset`,
    /// since the requests it counts are still running).
    held_answers: Arc<AtomicUsize>,
}

/// Counts one held-back answer for as long as it lives, also when the request is abandoned.
pub(crate) struct HeldAnswer(Arc<AtomicUsize>);

impl Drop for HeldAnswer {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Sandbox {
    pub fn new(credentials: SandboxCredentials) -> Sandbox {
        Sandbox {
            credentials,
            ..Sandbox::default()
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-written in a way that
        // matters for an emulator; keep serving rather than poisoning every later request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    pub(crate) fn take_fault(&self, path: &str) -> Taken {
        self.lock().faults.take(path)
    }

    pub(crate) fn hold_answer(&self) -> HeldAnswer {
        self.held_answers.fetch_add(1, Ordering::SeqCst);
        HeldAnswer(self.held_answers.clone())
    }

    /// How many requests Klarna has handled whose answer `answer_delay_ms` still holds back:
    /// the bench reads it to tell whether a kill landed between Klarna's commit and our write.
    pub fn held_answers(&self) -> usize {
        self.held_answers.load(Ordering::SeqCst)
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        let mut inner = self.lock();
        if inner.requests.len() >= REQUEST_LOG_LEN {
            inner.requests.pop_front();
        }
        inner.requests.push_back(request);
    }

    /// The requests the merchant's server sent to the Payments and Order Management APIs,
    /// oldest first (the newest 1,000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    /// Number of orders Klarna created: tests use it to prove "exactly one order".
    pub fn order_count(&self) -> usize {
        self.lock().orders.len()
    }

    /// How often a page called `Klarna.Payments.authorize()`: tests use it to prove that a
    /// double click asks Klarna once.
    pub fn authorize_calls(&self) -> usize {
        self.lock().authorize_calls
    }

    /// Clears everything but the credentials; the clock returns to real time.
    pub fn reset(&self) {
        *self.lock() = Inner::default();
        self.idempotency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.clock.reset();
    }

    /// What moves on the sandbox clock without a request: fraud reviews that ended are
    /// notified to the merchant's `merchant_urls.notification`, as Klarna does. A delivery that
    /// fails is tried again on the next tick.
    pub async fn tick(&self) {
        let now = self.clock.now();
        let due: Vec<(usize, String, String, &'static str)> = {
            let inner = self.lock();
            inner
                .orders
                .iter()
                .enumerate()
                .filter(|(_, o)| {
                    !o.notified && o.order.fraud_status == klarna::payments::FraudStatus::Pending
                })
                .filter_map(|(i, o)| {
                    let event = match o.fraud_status_at(now) {
                        klarna::payments::FraudStatus::Accepted => "FRAUD_RISK_ACCEPTED",
                        klarna::payments::FraudStatus::Rejected => "FRAUD_RISK_REJECTED",
                        klarna::payments::FraudStatus::Pending => return None,
                    };
                    let url = o.request.merchant_urls.as_ref()?.notification.clone()?;
                    Some((i, o.order.order_id.clone(), url, event))
                })
                .collect()
        };
        for (i, order_id, url, event) in due {
            let url = url.replace("{order.id}", &order_id);
            let body = serde_json::json!({"order_id": order_id, "event_type": event});
            let delivered = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if delivered {
                if let Some(o) = self.lock().orders.get_mut(i) {
                    o.notified = true;
                }
            }
        }
    }
}
