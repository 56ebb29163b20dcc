//! Limits on the public endpoints that cost us (and Klarna) real work: starting a checkout
//! session and placing an order. Each client ([`ClientKey`]) gets a budget per endpoint, kept
//! in memory as a token bucket: `n` requests at once, refilled at `n` per minute. Over budget,
//! the answer is 429 with `Retry-After` and our error body, before the handler runs. A
//! middleware matching method and path, so the checkout handlers know nothing of it.
//!
//! One server process only: several instances would each give a client its own budget.

use crate::client_addr::ClientKey;
use crate::error::AppError;
use crate::lang::{current, Lang};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use klarna::api::ErrorCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The budgets are per minute.
const WINDOW: Duration = Duration::from_secs(60);
/// Clients remembered at most; an entry lives at most one [`WINDOW`] after its last request.
pub const MAX_CLIENTS: usize = 100_000;

/// A limited endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// `POST /api/checkout/sessions`
    Sessions,
    /// `PATCH /api/checkout/sessions/{id}`: a country change may start a Klarna session too
    /// (another currency); budgeted like session creation, apart from it.
    CountryChanges,
    /// `POST /api/checkout/orders`
    Orders,
}

impl Bucket {
    /// The limited endpoint a request goes to, if any. Paths are compared as the router sees
    /// them (undecoded), so `/api/checkout/%73essions` reaches no handler and needs no limit.
    pub fn of(method: &Method, path: &str) -> Option<Bucket> {
        match (method.as_str(), path) {
            ("POST", "/api/checkout/sessions") => Some(Bucket::Sessions),
            ("POST", "/api/checkout/orders") => Some(Bucket::Orders),
            ("PATCH", p)
                if p.strip_prefix("/api/checkout/sessions/")
                    .is_some_and(|id| !id.is_empty() && !id.contains('/')) =>
            {
                Some(Bucket::CountryChanges)
            }
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Bucket::Sessions => "checkout sessions",
            Bucket::CountryChanges => "country changes",
            Bucket::Orders => "orders",
        }
    }
}

struct Entry {
    /// When this client's bucket is full again (the "theoretical arrival time" of GCRA); each
    /// request moves it one interval later, and a request that would move it more than a
    /// window past now is refused.
    full_at: Instant,
    /// The refusal has been logged since the last request that passed.
    reported: bool,
}

struct Table {
    entries: HashMap<(Bucket, ClientKey), Entry>,
    last_sweep: Instant,
}

/// The budgets and what each client has used of them.
#[derive(Clone)]
pub struct RateLimiter {
    sessions_interval: Duration,
    orders_interval: Duration,
    table: Arc<Mutex<Table>>,
}

impl RateLimiter {
    /// Budgets in requests per minute (at least 1; the configuration ensures it).
    pub fn new(sessions_per_min: u32, orders_per_min: u32) -> RateLimiter {
        RateLimiter {
            sessions_interval: WINDOW / sessions_per_min.max(1),
            orders_interval: WINDOW / orders_per_min.max(1),
            table: Arc::new(Mutex::new(Table {
                entries: HashMap::new(),
                last_sweep: Instant::now(),
            })),
        }
    }

    /// Counts a request of `client` to `bucket`, or says how long it must wait.
    pub fn check(&self, bucket: Bucket, client: ClientKey, now: Instant) -> Result<(), Duration> {
        let interval = match bucket {
            Bucket::Sessions | Bucket::CountryChanges => self.sessions_interval,
            Bucket::Orders => self.orders_interval,
        };
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let since_sweep = now.saturating_duration_since(table.last_sweep);
        let full = table.entries.len() >= MAX_CLIENTS;
        if since_sweep >= WINDOW || (full && since_sweep >= Duration::from_secs(1)) {
            // A full bucket is the same as none.
            table.entries.retain(|_, e| e.full_at > now);
            table.last_sweep = now;
            if table.entries.len() >= MAX_CLIENTS {
                tracing::warn!(
                    "rate limits: {MAX_CLIENTS} clients active within a minute; new ones pass unlimited until some fall idle"
                );
            }
        }
        let key = (bucket, client);
        if !table.entries.contains_key(&key) && table.entries.len() >= MAX_CLIENTS {
            // Refusing would shut every new shopper out; memory stays bounded either way.
            return Ok(());
        }
        let entry = table.entries.entry(key).or_insert(Entry {
            full_at: now,
            reported: false,
        });
        let next = entry.full_at.max(now) + interval;
        let backlog = next.duration_since(now);
        if backlog > WINDOW {
            if !entry.reported {
                entry.reported = true;
                tracing::warn!(%client, bucket = bucket.name(), "rate limit reached");
            }
            return Err(backlog - WINDOW);
        }
        entry.full_at = next;
        entry.reported = false;
        Ok(())
    }

    #[cfg(test)]
    fn clients(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .len()
    }
}

/// The 429 answer: wait `wait` (rounded up to whole seconds), then try again.
fn too_many_requests(wait: Duration) -> AppError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let message = match (current(), secs) {
        (Lang::De, 1) => "Zu viele Anfragen von Ihrer Verbindung. Bitte warten Sie eine Sekunde und versuchen Sie es dann erneut.".to_string(),
        (Lang::De, n) => format!("Zu viele Anfragen von Ihrer Verbindung. Bitte warten Sie {n} Sekunden und versuchen Sie es dann erneut."),
        (_, 1) => "Too many requests from your connection. Please wait a second and try again.".to_string(),
        (_, n) => format!("Too many requests from your connection. Please wait {n} seconds and try again."),
    };
    let mut e = AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyRequests,
        message,
    );
    e.retry_after = Some(secs as i64);
    e
}

/// Middleware on the API router: refuses a limited endpoint's request over its client's budget.
pub async fn enforce(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let Some(bucket) = Bucket::of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let client = match ClientKey::of_parts(
        request.extensions(),
        request.headers(),
        &app.config.trusted_proxies,
    ) {
        Ok(client) => client,
        Err(e) => return e.into_response(),
    };
    if let Err(wait) = app.rate_limiter.check(bucket, client, Instant::now()) {
        return too_many_requests(wait).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(s: &str) -> ClientKey {
        ClientKey::of(s.parse().unwrap())
    }

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn only_session_creation_country_changes_and_order_placement_are_limited() {
        assert_eq!(
            Bucket::of(&Method::POST, "/api/checkout/sessions"),
            Some(Bucket::Sessions)
        );
        assert_eq!(
            Bucket::of(&Method::POST, "/api/checkout/orders"),
            Some(Bucket::Orders)
        );
        assert_eq!(Bucket::of(&Method::GET, "/api/checkout/sessions"), None);
        assert_eq!(
            Bucket::of(&Method::PATCH, "/api/checkout/sessions/x"),
            Some(Bucket::CountryChanges)
        );
        assert_eq!(
            Bucket::of(&Method::GET, "/api/checkout/sessions/x/order"),
            None
        );
        assert_eq!(Bucket::of(&Method::POST, "/api/health"), None);
    }

    #[test]
    fn a_client_gets_its_budget_at_once_then_one_more_per_interval() {
        let limits = RateLimiter::new(3, 30);
        let t0 = Instant::now();
        let me = client("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limits.check(Bucket::Sessions, me, t0), Ok(()));
        }
        // 3 per minute: one more every 20 seconds.
        assert_eq!(limits.check(Bucket::Sessions, me, t0), Err(20 * SEC));
        assert_eq!(
            limits.check(Bucket::Sessions, me, t0 + 5 * SEC),
            Err(15 * SEC)
        );
        assert_eq!(limits.check(Bucket::Sessions, me, t0 + 20 * SEC), Ok(()));
        assert!(limits.check(Bucket::Sessions, me, t0 + 20 * SEC).is_err());
        // Other clients, and the other endpoint, have their own budgets.
        assert_eq!(
            limits.check(Bucket::Sessions, client("192.0.2.2"), t0),
            Ok(())
        );
        assert_eq!(limits.check(Bucket::Orders, me, t0), Ok(()));
        // A minute idle fills the bucket again.
        for _ in 0..3 {
            assert_eq!(limits.check(Bucket::Sessions, me, t0 + 80 * SEC), Ok(()));
        }
        assert!(limits.check(Bucket::Sessions, me, t0 + 80 * SEC).is_err());
    }

    #[test]
    fn refused_requests_do_not_lengthen_the_wait() {
        let limits = RateLimiter::new(1, 1);
        let t0 = Instant::now();
        let me = client("2001:db8::1");
        assert_eq!(limits.check(Bucket::Orders, me, t0), Ok(()));
        for s in 1..60 {
            assert!(limits.check(Bucket::Orders, me, t0 + s * SEC).is_err());
        }
        assert_eq!(limits.check(Bucket::Orders, me, t0 + 60 * SEC), Ok(()));
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let limits = RateLimiter::new(30, 30);
        let t0 = Instant::now();
        for i in 0..100u8 {
            let ip = format!("198.51.100.{i}");
            limits.check(Bucket::Sessions, client(&ip), t0).unwrap();
        }
        assert_eq!(limits.clients(), 100);
        limits
            .check(Bucket::Sessions, client("192.0.2.1"), t0 + 2 * WINDOW)
            .unwrap();
        assert_eq!(limits.clients(), 1);
    }

    #[test]
    fn the_answer_says_how_long_to_wait_in_whole_seconds() {
        let e = too_many_requests(Duration::from_millis(1500));
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.body.code, ErrorCode::TooManyRequests);
        assert_eq!(e.retry_after, Some(2));
        assert!(e.body.message.contains("wait 2 seconds and try again"));
        assert_eq!(too_many_requests(Duration::ZERO).retry_after, Some(1));
    }
}
