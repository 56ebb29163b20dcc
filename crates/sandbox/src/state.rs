//! The sandbox's memory: sessions, authorizations and orders, as Klarna keeps them.

use crate::clock::Clock;
use crate::faults::{Faults, Taken};
use klarna::order_management::OrderManagementOrder;
use klarna::payments::{CreateOrderRequest, KlarnaErrorBody, KlarnaOrder, SessionRequest};
use klarna::{Address, Customer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Klarna's lifetimes.
pub const SESSION_LIFETIME_SECS: i64 = 48 * 3600;
pub const AUTHORIZATION_LIFETIME_SECS: i64 = 60 * 60;
/// An order's authorization: Klarna's standard 28 days from creation, and what
/// `extend-authorization-time` adds to today…
pub const ORDER_AUTHORIZATION_SECS: i64 = 28 * 86_400;
/// …never beyond 180 days after the order was created.
pub const ORDER_AUTHORIZATION_CAP_SECS: i64 = 180 * 86_400;

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
    /// The `customer` given to `authorize()`, else the session's (`type` only).
    pub customer: Customer,
    pub created_at: i64,
    pub pending_review: bool,
    /// How a pending review ends: `customer+…+pending+rejected@…` is turned down.
    pub review_rejects: bool,
    /// Klarna's create order is idempotent per token: the first answer is repeated.
    pub outcome: Option<Result<KlarnaOrder, (u16, KlarnaErrorBody)>>,
    pub released: bool,
}

/// An order as Klarna keeps it: what created it, and what Order Management changed since
/// (`request` stays as created; the current values live beside it).
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
    /// Order Management's view: the current amount, lines, addresses and references.
    pub order_amount: i64,
    pub order_lines: Vec<klarna::OrderLine>,
    pub billing_address: Address,
    pub shipping_address: Address,
    pub merchant_reference1: Option<String>,
    pub merchant_reference2: Option<String>,
    pub klarna_reference: String,
    pub captures: Vec<klarna::order_management::Capture>,
    pub refunds: Vec<klarna::order_management::Refund>,
    pub cancelled: bool,
    /// `release-remaining-authorization` was called: nothing more can be captured.
    pub released: bool,
    /// The authorization ends here (Unix secs); moved by `extend-authorization-time`.
    pub expires_at: i64,
}

/// How long Klarna's fraud review of a pending order takes on the sandbox clock (Klarna:
/// "4 to 8 business hours, at most 24").
pub const REVIEW_SECS: i64 = 4 * 3600;

impl StoredOrder {
    /// A new order as create order stores it: authorized for
    /// [`ORDER_AUTHORIZATION_SECS`], with the addresses the shopper authorized unless the
    /// request names them.
    pub fn new(
        order: KlarnaOrder,
        request: CreateOrderRequest,
        auth: &Authorization,
        authorization_token: String,
        now: i64,
    ) -> StoredOrder {
        let klarna_reference = order
            .order_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(7)
            .collect::<String>()
            .to_ascii_uppercase();
        StoredOrder {
            order_amount: request.order_amount,
            order_lines: request.order_lines.clone(),
            billing_address: request
                .billing_address
                .clone()
                .unwrap_or_else(|| auth.billing_address.clone()),
            shipping_address: request
                .shipping_address
                .clone()
                .unwrap_or_else(|| auth.shipping_address.clone()),
            merchant_reference1: request.merchant_reference1.clone(),
            merchant_reference2: request.merchant_reference2.clone(),
            klarna_reference,
            captures: Vec::new(),
            refunds: Vec::new(),
            cancelled: false,
            released: false,
            expires_at: now + ORDER_AUTHORIZATION_SECS,
            order,
            request,
            authorization_token,
            created_at: now,
            review_rejects: auth.review_rejects,
            notified: false,
        }
    }

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
    /// The answer's headers too: a capture's or refund's id comes only in `Capture-Id` /
    /// `Refund-Id` and `Location`, so a replay without them would lose it.
    pub headers: axum::http::HeaderMap,
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
    /// Customer tokens by token id, and the token each authorization made.
    pub customer_tokens: HashMap<String, crate::customer_tokens::StoredToken>,
    pub token_of_authorization: HashMap<String, String>,
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

    /// Orders created by charging customer tokens: tests use it to prove "one charge".
    pub fn token_order_count(&self) -> usize {
        let inner = self.lock();
        inner
            .orders
            .iter()
            .filter(|o| inner.customer_tokens.contains_key(&o.authorization_token))
            .count()
    }

    /// Number of orders Klarna created: tests use it to prove "exactly one order".
    pub fn order_count(&self) -> usize {
        self.lock().orders.len()
    }

    /// An order as `GET /ordermanagement/v1/orders/{order_id}` would show it now.
    pub fn order_snapshot(&self, order_id: &str) -> Option<OrderManagementOrder> {
        let now = self.clock.now();
        let inner = self.lock();
        inner
            .orders
            .iter()
            .find(|o| o.order.order_id == order_id)
            .map(|o| o.view(now))
    }

    /// How many captures an order has (0 for an unknown order): tests use it to prove that a
    /// repeated capture captured once.
    pub fn capture_count(&self, order_id: &str) -> usize {
        let inner = self.lock();
        inner
            .orders
            .iter()
            .find(|o| o.order.order_id == order_id)
            .map_or(0, |o| o.captures.len())
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
