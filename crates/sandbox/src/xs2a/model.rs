//! What the XS2A emulator remembers: sessions, their flows and the consents they yielded, plus
//! the rules that move them along the sandbox clock.
//!
//! Time-driven changes (session timeout, decoupled approval) are applied lazily by
//! [`Xs2aState::refresh`] at the start of every request, from the sandbox clock alone: no
//! background task, so moving the clock in a test has exactly the effect waiting would have.

use super::bank;
use super::dates::Date;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// A session with no finished flow for this long is closed. Klarna documents that sessions time
/// out but not after how long; 15 minutes of the sandbox clock is our choice. The window starts
/// at creation and again at each finished flow.
pub const SESSION_TIMEOUT_SECS: i64 = 15 * 60;

/// A `decoupled` login is approved "in the banking app" this long after it was submitted.
pub(crate) const DECOUPLED_APPROVAL_SECS: i64 = 2;

/// Failed logins or TANs after which the bank blocks the attempt (flow `EXCEPTION`).
pub(crate) const MAX_AUTH_FAILURES: u32 = 3;

/// Consent lifetime in days when the session's `consent_scope` names none (ALYF requests 90).
pub(crate) const DEFAULT_CONSENT_LIFETIME_DAYS: i64 = 90;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum FlowState {
    ConsumerInputNeeded,
    Processing,
    Finished,
    Aborted,
    Exception,
}

impl FlowState {
    pub fn is_running(self) -> bool {
        matches!(self, FlowState::ConsumerInputNeeded | FlowState::Processing)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlowKind {
    Accounts,
    Balances,
    Transactions,
}

impl FlowKind {
    pub fn from_path(s: &str) -> Option<FlowKind> {
        match s {
            "accounts" => Some(FlowKind::Accounts),
            "balances" => Some(FlowKind::Balances),
            "transactions" => Some(FlowKind::Transactions),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FlowKind::Accounts => "accounts",
            FlowKind::Balances => "balances",
            FlowKind::Transactions => "transactions",
        }
    }
}

/// Where the consumer is in the test bank's dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Country,
    Bank,
    Login,
    Otp,
    /// Waiting for approval in the banking app until the sandbox clock reaches `approve_at`.
    Decoupled {
        approve_at: i64,
    },
    Ended,
}

/// A transactions query: one account, an inclusive date range, a page size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TxQuery {
    pub account: usize,
    pub from: Date,
    pub to: Date,
    pub page_size: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Flow {
    pub id: String,
    pub kind: FlowKind,
    pub state: FlowState,
    pub client_token: String,
    pub step: Step,
    pub failures: u32,
    /// The last message for the consumer (wrong password, bank error…), shown by the overlay.
    pub error: Option<String>,
    pub query: Option<TxQuery>,
    pub result: Option<Value>,
}

/// What the consent may be used for, fixed when the session is created.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    pub accounts: bool,
    pub balances: bool,
    pub transactions: Option<TxScope>,
    pub lifetime_days: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct TxScope {
    /// The consented window, both days included: consent calls outside it are refused.
    pub from: Date,
    pub to: Date,
    /// When set, only these accounts' transactions are granted.
    pub ibans: Option<Vec<String>>,
}

impl TxScope {
    pub fn grants(&self, account: usize) -> bool {
        let iban = bank::account_iban(account);
        self.ibans.as_ref().is_none_or(|list| {
            list.iter()
                .any(|x| x.replace(' ', "").eq_ignore_ascii_case(&iban))
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    Deleted,
    TimedOut,
}

#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub id: String,
    pub short_id: String,
    pub created_at: i64,
    pub language: Option<String>,
    pub scope: Scope,
    pub closed: Option<Closed>,
    /// Set when the consumer picked the Demo Bank (or `selected_bank` named it).
    pub bank_chosen: bool,
    pub last_finished_at: Option<i64>,
    pub flows: Vec<Flow>,
    pub consent_id: Option<String>,
}

impl Session {
    pub fn flow(&self, flow_id: &str) -> Option<&Flow> {
        self.flows.iter().find(|f| f.id == flow_id)
    }

    pub fn flow_mut(&mut self, flow_id: &str) -> Option<&mut Flow> {
        self.flows.iter_mut().find(|f| f.id == flow_id)
    }

    pub fn running_flow(&self) -> Option<&Flow> {
        self.flows.iter().find(|f| f.state.is_running())
    }

    fn deadline(&self) -> i64 {
        self.last_finished_at
            .unwrap_or(self.created_at)
            .max(self.created_at)
            + SESSION_TIMEOUT_SECS
    }

    /// Closing a session aborts the flow that was still running.
    pub fn close(&mut self, how: Closed) {
        if self.closed.is_none() {
            self.closed = Some(how);
        }
        for f in &mut self.flows {
            if f.state.is_running() {
                f.state = FlowState::Aborted;
                f.step = Step::Ended;
                f.error = Some(match how {
                    Closed::Deleted => "The session was closed.".into(),
                    Closed::TimedOut => "The session timed out.".into(),
                });
            }
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Consent {
    pub id: String,
    pub token: String,
    pub expires_at: i64,
    pub scope: Scope,
}

#[derive(Debug, Default)]
pub(crate) struct Xs2aState {
    pub sessions: HashMap<String, Session>,
    /// Client token → (session id, flow id): the browser side knows only the token.
    pub tokens: HashMap<String, (String, String)>,
    pub consents: HashMap<String, Consent>,
    /// The psu of every session and consent call, in order (`/_control/xs2a/psu`).
    pub psu_seen: Vec<super::psu::PsuSeen>,
    /// Transactions tests booked (`/_control/xs2a/transactions`), on top of the generated ones.
    pub booked: Vec<bank::Booked>,
    /// How the launcher stand-in ends its flows (`/_control/xs2a/launcher-endings`).
    pub launcher_endings: LauncherEndings,
    /// Consents handed out by `consent/get`, each with a new token that kills the one before
    /// (`/_control/xs2a/consent-reads`): tests count them to prove "read once".
    pub consent_reads: u64,
}

/// Endings of the launcher stand-in that Klarna does not document but an integration must
/// survive (contract §0 "Launcher endings"). Set by a test, read by `xs2a-app-launcher.js`
/// from the dialog's state (`launcher_endings`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LauncherEndings {
    /// As documented: `onFinished` (then `onClose`), `onAbort` (then `onClose`), `onError({message})`.
    #[default]
    AsDocumented,
    /// A finished flow calls `onClose` first, then `onFinished`.
    CloseFirst,
    /// Once the login is submitted (TAN or banking-app step), `onFinished` comes although the
    /// bank has not finished the flow, and the window closes.
    FinishUnfinished,
    /// Once the login is submitted, `onError()` comes without an argument; the window stays
    /// until the page closes it.
    ErrorWithoutArgument,
}

impl Xs2aState {
    /// Applies what the clock decided since the last request: decoupled approvals that fell due
    /// (each at its own instant, so one due before the timeout still counts), then timeouts.
    pub fn refresh(&mut self, now: i64) {
        for session in self.sessions.values_mut() {
            if session.closed.is_some() {
                continue;
            }
            let due: Vec<(String, i64)> = session
                .flows
                .iter()
                .filter_map(|f| match f.step {
                    Step::Decoupled { approve_at } if f.state.is_running() => {
                        Some((f.id.clone(), approve_at))
                    }
                    _ => None,
                })
                .filter(|(_, at)| *at <= now && *at <= session.deadline())
                .collect();
            for (flow_id, at) in due {
                finish_flow(session, &flow_id, at, &self.booked);
            }
            if now > session.deadline() {
                session.close(Closed::TimedOut);
            }
        }
    }

    /// Ids of the sessions neither deleted nor timed out, sorted.
    pub fn open_sessions(&self) -> Vec<String> {
        let mut open: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.closed.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        open.sort();
        open
    }

    pub fn by_token(&mut self, client_token: &str) -> Option<(&mut Session, String)> {
        let (sid, fid) = self.tokens.get(client_token)?.clone();
        let session = self.sessions.get_mut(&sid)?;
        Some((session, fid))
    }
}

/// The flow's result as of `at`, and the flow marked `FINISHED`.
pub(crate) fn finish_flow(session: &mut Session, flow_id: &str, at: i64, booked: &[bank::Booked]) {
    let session_id = session.id.clone();
    let Some(flow) = session.flow_mut(flow_id) else {
        return;
    };
    let today = Date::from_unix(at);
    flow.result = Some(match (flow.kind, flow.query) {
        (FlowKind::Transactions, Some(q)) => {
            let list_url = format!(
                "{}/sessions/{session_id}/flows/{flow_id}/list",
                super::API_BASE
            );
            super::transactions_page(&q, 0, today, &list_url, booked)
        }
        (kind, _) => super::accounts_result(kind.name(), today),
    });
    flow.state = FlowState::Finished;
    flow.step = Step::Ended;
    flow.error = None;
    session.last_finished_at = Some(at);
}
