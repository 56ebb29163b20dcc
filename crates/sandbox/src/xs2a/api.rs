//! The XS2A REST API for sessions and flows: `PUT /xs2a/v1/sessions`, `GET|DELETE
//! /xs2a/v1/sessions/{id}`, `PUT /xs2a/v1/sessions/{id}/flows/{accounts|balances|transactions}`,
//! `GET|DELETE /xs2a/v1/sessions/{id}/flows/{flow_id}`, `POST …/flows/{flow_id}/list` and
//! `POST /xs2a/v1/sessions/{id}/consent/get`.
//!
//! A closed session (deleted, or timed out after [`SESSION_TIMEOUT_SECS`] without a finished
//! flow) stays readable with `GET`, so a caller can still see how its flow ended (`ABORTED`), but
//! refuses everything else with 409; `DELETE` is idempotent.

use super::bank;
use super::dates::Date;
use super::model::{
    Closed, Consent, Flow, FlowKind, FlowState, Scope, Session, Step, TxQuery, TxScope,
    DEFAULT_CONSENT_LIFETIME_DAYS, SESSION_TIMEOUT_SECS,
};
use super::psu::{self, PsuSeen};
use super::{
    authenticate, data, date_field, offset_field, page_size, parse, random_id, transactions_page,
    Xs2a, Xs2aError, Xs2aResult, API_BASE,
};
use crate::state::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{post, put};
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/xs2a/v1/sessions", put(create_session))
        .route(
            "/xs2a/v1/sessions/{id}",
            axum::routing::get(read_session).delete(delete_session),
        )
        .route(
            "/xs2a/v1/sessions/{id}/flows/{flow}",
            put(start_flow).get(read_flow).delete(abort_flow),
        )
        .route(
            "/xs2a/v1/sessions/{id}/flows/{flow}/list",
            post(list_flow).get(list_flow),
        )
        .route("/xs2a/v1/sessions/{id}/consent/get", post(get_consent))
}

#[derive(Deserialize)]
struct CreateSession {
    psu: Option<Value>,
    language: Option<String>,
    consent_scope: Option<ScopeRequest>,
    selected_bank: Option<SelectedBank>,
}

#[derive(Deserialize)]
struct ScopeRequest {
    accounts: Option<Value>,
    balances: Option<Value>,
    transactions: Option<TxScopeRequest>,
    lifetime: Option<i64>,
}

#[derive(Deserialize)]
struct TxScopeRequest {
    from_date: Option<String>,
    to_date: Option<String>,
    last_days: Option<i64>,
    ibans: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct SelectedBank {
    bank_code: Option<String>,
    country_code: Option<String>,
}

/// The session's consent scope. Without `consent_scope` everything the bank offers is granted
/// (accounts, balances, a year of transactions) for 90 days — our choice, Klarna documents no
/// default. A `transactions` scope without `from_date` starts at the oldest day the bank holds.
///
/// **The window's end.** Klarna documents no default `to_date` either, and ERPNext Banking
/// always sends one (today + 90 days). The sandbox takes the narrowest reading: without
/// `to_date` the window ends on the day the session was created, so a client that leaves it
/// out can fetch nothing booked after the link, here as it may not at Klarna.
fn scope_from(req: Option<ScopeRequest>, today: Date, errors: &mut Vec<(String, String)>) -> Scope {
    let Some(req) = req else {
        return Scope {
            accounts: true,
            balances: true,
            transactions: Some(TxScope {
                from: bank::first_day(today),
                to: today,
                ibans: None,
            }),
            lifetime_days: DEFAULT_CONSENT_LIFETIME_DAYS,
        };
    };
    let lifetime_days = req.lifetime.unwrap_or(DEFAULT_CONSENT_LIFETIME_DAYS);
    if lifetime_days < 0 {
        errors.push((
            "consent_scope.lifetime".into(),
            "must be a number of days, 0 or more".into(),
        ));
    }
    let transactions = req.transactions.map(|t| {
        let loc = "consent_scope.transactions";
        let mut field = |r: Xs2aResult<Option<Date>>| {
            r.unwrap_or_else(|e| {
                errors.extend(e.errors.into_iter().map(|f| (f.location, f.message)));
                None
            })
        };
        let from = field(date_field(
            t.from_date.as_deref(),
            &format!("{loc}.from_date"),
        ));
        let to = field(date_field(t.to_date.as_deref(), &format!("{loc}.to_date")));
        let from = match (from, t.last_days) {
            (Some(_), Some(_)) => {
                errors.push((
                    format!("{loc}.last_days"),
                    "give either from_date or last_days".into(),
                ));
                from
            }
            (None, Some(days)) if days < 1 => {
                errors.push((format!("{loc}.last_days"), "must be 1 or more".into()));
                None
            }
            (None, Some(days)) => Some(today.plus_days(-days)),
            (from, None) => from,
        };
        let from = from.unwrap_or_else(|| bank::first_day(today));
        let to = to.unwrap_or(today);
        if from > to {
            errors.push((
                format!("{loc}.from_date"),
                "from_date must be before or equal to to_date".into(),
            ));
        }
        TxScope {
            from,
            to,
            ibans: t.ibans,
        }
    });
    Scope {
        accounts: req.accounts.is_some(),
        balances: req.balances.is_some(),
        transactions,
        lifetime_days: lifetime_days.max(0),
    }
}

/// Klarna's short id: 8 characters from `A-Z0-9`, unique among the sandbox's sessions.
fn short_id(taken: impl Fn(&str) -> bool) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    loop {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        let id: String = bytes[..8]
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        if !taken(&id) {
            return id;
        }
    }
}

fn session_urls(id: &str) -> Value {
    let base = format!("{API_BASE}/sessions/{id}");
    json!({
        "self": base,
        "consent": format!("{base}/consent/get"),
        "flows": {
            "accounts": format!("{base}/flows/accounts"),
            "balances": format!("{base}/flows/balances"),
            "transactions": format!("{base}/flows/transactions"),
        },
    })
}

fn session_json(s: &Session) -> Value {
    let mut v = session_urls(&s.id);
    v["session_id"] = json!(s.id);
    v["session_id_short"] = json!(s.short_id);
    if let Some(lang) = &s.language {
        v["language"] = json!(lang);
    }
    if s.bank_chosen {
        v["bank"] = bank::bank_json();
    }
    v
}

async fn create_session(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    headers: HeaderMap,
    body: Bytes,
) -> Xs2aResult<Response> {
    authenticate(&headers)?;
    let req: CreateSession = parse(&body)?;
    let now = sandbox.clock.now();
    let mut errors = Vec::new();
    let psu = psu::check(req.psu.as_ref(), true, &mut errors);
    let scope = scope_from(req.consent_scope, Date::from_unix(now), &mut errors);
    // Klarna documents `language` as the app's language with the example `"en"`, and lists no
    // other form: anything but a two-letter ISO 639-1 code is refused here, so a caller that
    // sends `en-GB`, `EN` or an empty string learns it from the sandbox, not from Klarna.
    if let Some(lang) = &req.language {
        if lang.len() != 2 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
            errors.push((
                "language".into(),
                "must be a two-letter ISO 639-1 code in lower case, such as \"en\"".into(),
            ));
        }
    }
    let bank_chosen = match &req.selected_bank {
        None => false,
        Some(b)
            if b.bank_code.as_deref() == Some(bank::BANK_CODE)
                && b.country_code
                    .as_deref()
                    .is_none_or(|c| c.eq_ignore_ascii_case(bank::COUNTRY_CODE)) =>
        {
            true
        }
        Some(_) => {
            errors.push((
                "selected_bank".into(),
                "the sandbox knows one bank: bank_code 88888888, country_code DE".into(),
            ));
            false
        }
    };
    if !errors.is_empty() {
        return Err(Xs2aError::invalid(errors));
    }
    let mut state = xs2a.state(now);
    state.psu_seen.push(PsuSeen {
        call: "session",
        psu,
    });
    let id = random_id();
    let short = short_id(|s| state.sessions.values().any(|x| x.short_id == s));
    let session = Session {
        id: id.clone(),
        short_id: short,
        created_at: now,
        language: req.language,
        scope,
        closed: None,
        bank_chosen,
        last_finished_at: None,
        flows: Vec::new(),
        consent_id: None,
    };
    let body = session_json(&session);
    state.sessions.insert(id, session);
    Ok(data(StatusCode::CREATED, body))
}

fn closed_message(how: Closed) -> String {
    match how {
        Closed::Deleted => "The session is closed".into(),
        Closed::TimedOut => format!(
            "The session timed out ({} minutes without a finished flow)",
            SESSION_TIMEOUT_SECS / 60
        ),
    }
}

fn session_not_found() -> Xs2aError {
    Xs2aError::not_found("No session with the provided id")
}

fn open_session<'a>(
    sessions: &'a mut std::collections::HashMap<String, Session>,
    id: &str,
) -> Xs2aResult<&'a mut Session> {
    let s = sessions.get_mut(id).ok_or_else(session_not_found)?;
    match s.closed {
        Some(how) => Err(Xs2aError::conflict(closed_message(how))),
        None => Ok(s),
    }
}

async fn read_session(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Xs2aResult<Response> {
    authenticate(&headers)?;
    let state = xs2a.state(sandbox.clock.now());
    let s = state.sessions.get(&id).ok_or_else(session_not_found)?;
    Ok(data(StatusCode::OK, session_json(s)))
}

async fn delete_session(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Xs2aResult<StatusCode> {
    authenticate(&headers)?;
    let mut state = xs2a.state(sandbox.clock.now());
    let s = state.sessions.get_mut(&id).ok_or_else(session_not_found)?;
    s.close(Closed::Deleted);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct FlowRequest {
    account_id: Option<String>,
    iban: Option<String>,
    account_number: Option<String>,
    from_date: Option<String>,
    to_date: Option<String>,
    last_days: Option<i64>,
    preferred_pagination_size: Option<i64>,
}

/// A transactions flow's query: the account named by `account_id`, `iban` or `account_number`,
/// dates defaulting to the last 30 days (Klarna's default), all inside the consent scope.
fn transactions_query(req: &FlowRequest, scope: &Scope, today: Date) -> Xs2aResult<TxQuery> {
    let by_number = req.account_number.as_deref().and_then(|n| {
        (0..bank::account_count()).find(|&i| bank::account_iban(i).ends_with(&format!("{n:0>10}")))
    });
    let account = match (&req.account_id, &req.iban, &req.account_number) {
        (None, None, None) => {
            return Err(Xs2aError::validation(
                "account_id",
                "name the account: account_id or iban is required",
            ))
        }
        (None, None, Some(_)) => by_number,
        (id, iban, _) => bank::find_account(id.as_deref(), iban.as_deref()),
    }
    .ok_or_else(|| {
        Xs2aError::validation("account_id", "no account with this id or iban at the bank")
    })?;
    let tx_scope = scope.transactions.as_ref();
    if tx_scope.is_some_and(|t| !t.grants(account)) {
        return Err(Xs2aError::validation(
            "account_id",
            "the account is not in consent_scope.transactions.ibans",
        ));
    }
    let scope_from = tx_scope.map(|t| t.from);
    let scope_to = tx_scope.map(|t| t.to);
    let to = date_field(req.to_date.as_deref(), "to_date")?;
    let from = date_field(req.from_date.as_deref(), "from_date")?;
    let from = match (from, req.last_days) {
        (Some(_), Some(_)) => {
            return Err(Xs2aError::validation(
                "last_days",
                "give either from_date or last_days",
            ))
        }
        (None, Some(days)) if days < 1 => {
            return Err(Xs2aError::validation("last_days", "must be 1 or more"))
        }
        (None, Some(days)) => Some(today.plus_days(-days)),
        (from, None) => from,
    };
    check_range(from, to, scope_from, scope_to)?;
    let to = to.unwrap_or_else(|| scope_to.map_or(today, |s| s.min(today)));
    let from = from.unwrap_or_else(|| {
        let default = today.plus_days(-30);
        scope_from.map_or(default, |s| s.max(default))
    });
    if from > to {
        return Err(Xs2aError::validation(
            "from_date",
            "from_date must be before or equal to to_date",
        ));
    }
    Ok(TxQuery {
        account,
        from,
        to,
        page_size: page_size(req.preferred_pagination_size)?,
    })
}

/// Requested dates must lie inside the consent scope's transactions range.
pub(crate) fn check_range(
    from: Option<Date>,
    to: Option<Date>,
    scope_from: Option<Date>,
    scope_to: Option<Date>,
) -> Xs2aResult<()> {
    if let (Some(from), Some(min)) = (from, scope_from) {
        if from < min {
            return Err(Xs2aError::validation(
                "from_date",
                format!("from_date must be equal or after {min}"),
            ));
        }
    }
    if let (Some(to), Some(max)) = (to, scope_to) {
        if to > max {
            return Err(Xs2aError::validation(
                "to_date",
                format!("to_date must be equal or before {max}"),
            ));
        }
    }
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(Xs2aError::validation(
                "from_date",
                "from_date must be before or equal to to_date",
            ));
        }
    }
    Ok(())
}

fn flow_url(session_id: &str, flow_id: &str) -> String {
    format!("{API_BASE}/sessions/{session_id}/flows/{flow_id}")
}

/// Klarna's XS2A client tokens are opaque, dot-separated strings.
fn client_token() -> String {
    format!("xs2a.{}.{}", random_id(), random_id())
}

async fn start_flow(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path((id, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Xs2aResult<Response> {
    authenticate(&headers)?;
    let kind = FlowKind::from_path(&kind).ok_or_else(|| {
        Xs2aError::not_found(format!(
            "Unknown flow type '{kind}': the sandbox offers accounts, balances and transactions"
        ))
    })?;
    let req: FlowRequest = parse(&body)?;
    let now = sandbox.clock.now();
    let mut state = xs2a.state(now);
    let session = open_session(&mut state.sessions, &id)?;
    if session.running_flow().is_some() {
        return Err(Xs2aError::conflict(
            "A new flow cannot be started for session with the provided id as long as there is a running flow",
        ));
    }
    let query = match kind {
        FlowKind::Transactions => Some(transactions_query(
            &req,
            &session.scope,
            Date::from_unix(now),
        )?),
        _ => None,
    };
    let flow = Flow {
        id: random_id(),
        kind,
        state: FlowState::ConsumerInputNeeded,
        client_token: client_token(),
        // A session is bound to one bank: later flows start at its login.
        step: if session.bank_chosen {
            Step::Login
        } else {
            Step::Country
        },
        failures: 0,
        error: None,
        query,
        result: None,
    };
    let body = json!({
        "flow_id": flow.id,
        "state": flow.state,
        "self": flow_url(&id, &flow.id),
        "client_token": flow.client_token,
    });
    let token = (flow.client_token.clone(), flow.id.clone());
    session.flows.push(flow);
    state.tokens.insert(token.0, (id, token.1));
    Ok(data(StatusCode::CREATED, body))
}

/// A flow as `GET self` shows it. `error` (sandbox addition) says why a flow is `EXCEPTION`.
fn flow_json(flow: &Flow) -> Value {
    let mut v = json!({
        "flow_id": flow.id,
        "type": flow.kind.name(),
        "state": flow.state,
        "client_token": flow.client_token,
    });
    if let Some(result) = &flow.result {
        v["result"] = result.clone();
    }
    if flow.state == FlowState::Exception {
        v["error"] = json!({
            "code": "BANK_ERROR",
            "message": flow.error.clone().unwrap_or_else(|| "The bank reported an error".into()),
        });
    }
    v
}

fn flow_not_found() -> Xs2aError {
    Xs2aError::not_found("No flow with the provided id in this session")
}

async fn read_flow(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path((id, flow_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Xs2aResult<Response> {
    authenticate(&headers)?;
    let state = xs2a.state(sandbox.clock.now());
    let session = state.sessions.get(&id).ok_or_else(session_not_found)?;
    let flow = session.flow(&flow_id).ok_or_else(flow_not_found)?;
    Ok(data(StatusCode::OK, flow_json(flow)))
}

/// `DELETE self` aborts a running flow; a flow that already ended keeps its state.
async fn abort_flow(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path((id, flow_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Xs2aResult<StatusCode> {
    authenticate(&headers)?;
    let mut state = xs2a.state(sandbox.clock.now());
    let session = state.sessions.get_mut(&id).ok_or_else(session_not_found)?;
    let flow = session.flow_mut(&flow_id).ok_or_else(flow_not_found)?;
    if flow.state.is_running() {
        flow.state = FlowState::Aborted;
        flow.step = Step::Ended;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The next page of a finished transactions flow: `{"offset": <pagination.next.offset>}`.
async fn list_flow(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path((id, flow_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Xs2aResult<Response> {
    authenticate(&headers)?;
    let req: Value = parse(&body)?;
    let now = sandbox.clock.now();
    let mut guard = xs2a.state(now);
    let state = &mut *guard;
    let session = open_session(&mut state.sessions, &id)?;
    let flow = session.flow(&flow_id).ok_or_else(flow_not_found)?;
    let Some(query) = flow.query.filter(|_| flow.state == FlowState::Finished) else {
        return Err(Xs2aError::conflict(
            "Only a finished transactions flow has pages to list",
        ));
    };
    let (asked, position) = offset_field(&req)?;
    if asked != query {
        return Err(Xs2aError::validation(
            "offset",
            "the offset belongs to another query",
        ));
    }
    let url = format!("{}/list", flow_url(&id, &flow_id));
    let page = transactions_page(&query, position, Date::from_unix(now), &url, &state.booked);
    Ok(data(
        StatusCode::OK,
        json!({"state": flow.state, "result": page}),
    ))
}

/// The consent of a session: only after a flow finished, while the session is open, and when
/// its lifetime is above zero. A second call returns the same consent with a new token (the
/// previous one stops working), like every consent call does.
async fn get_consent(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Xs2aResult<Response> {
    authenticate(&headers)?;
    // Klarna answers 403 to a body here, even `{}` (ERPNext Banking's connector notes it:
    // contract §3): the call carries none.
    if !body.is_empty() {
        return Err(Xs2aError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "consent/get takes no body",
        ));
    }
    let now = sandbox.clock.now();
    let mut state = xs2a.state(now);
    let session = open_session(&mut state.sessions, &id)?;
    if session.last_finished_at.is_none() {
        return Err(Xs2aError::conflict(
            "No consent yet: a consent is available only after a flow of this session finished",
        ));
    }
    if session.scope.lifetime_days == 0 {
        return Err(Xs2aError::validation(
            "consent_scope.lifetime",
            "a consent with a lifetime of zero is not retrievable",
        ));
    }
    let scope = session.scope.clone();
    let consent_id = session.consent_id.get_or_insert_with(random_id).clone();
    let token = super::consent::new_token();
    let consent = state
        .consents
        .entry(consent_id.clone())
        .or_insert_with(|| Consent {
            id: consent_id.clone(),
            token: String::new(),
            expires_at: now.saturating_add(scope.lifetime_days.saturating_mul(86_400)),
            scope: scope.clone(),
        });
    consent.token = token.clone();
    state.consent_reads += 1;
    let base = format!("{API_BASE}/consents/{consent_id}");
    let mut consents = json!({});
    if scope.accounts || scope.balances {
        consents["accounts"] = json!(format!("{base}/accounts/get"));
    }
    if scope.transactions.is_some() {
        consents["transactions"] = json!(format!("{base}/transactions/get"));
    }
    Ok(data(
        StatusCode::OK,
        json!({"consent_id": consent_id, "consent_token": token, "consents": consents}),
    ))
}
