//! What the XS2A App talks to: the `xs2a-app-launcher.js` stand-in and the Demo Bank's dialog
//! behind it, addressed by the flow's client token (like Klarna's Auth API, no API token).
//!
//! `GET /xs2a/app/{client_token}` answers the dialog's state; `POST …/country {country_code}`,
//! `…/bank {bank_code}`, `…/login {username, password}`, `…/otp {otp}` and `…/abort` move it.
//! Each answers that state again (200), also when the bank refused the input: the refusal is in
//! `error` and the consumer may try again.
//!
//! The test usernames, as on Klarna's PSD2 test bank: `embedded` — and any other name — asks for
//! password `12345` and then the TAN `12345`; `wrong` always fails the login; `bank-maintenance`
//! ends the flow in `EXCEPTION`; `decoupled` (any password) waits for an approval "in the banking
//! app" that arrives [`DECOUPLED_APPROVAL_SECS`] later on the sandbox clock (the flow is
//! `PROCESSING` meanwhile; the overlay polls, a test may move the clock instead). Three failed
//! logins or TANs end the flow in `EXCEPTION`. Other keywords of Klarna's test bank are not
//! emulated and behave like `embedded`.
//!
//! The state also carries `launcher_endings`, the test's choice of how the launcher stand-in
//! calls its ending callbacks (`/_control/xs2a/launcher-endings`, see `control.rs`).

use super::bank::{self, Booked};
use super::model::{
    finish_flow, Flow, FlowState, LauncherEndings, Session, Step, DECOUPLED_APPROVAL_SECS,
    MAX_AUTH_FAILURES,
};
use super::{parse, Xs2a, Xs2aError, Xs2aResult, TEST_OTP, TEST_PASSWORD};
use crate::state::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use klarna::Lang;
use serde::Deserialize;
use serde_json::{json, Value};

const LAUNCHER_JS: &str = include_str!("xs2a-app-launcher.js");

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route(
            "/xs2a/app-launcher/v0/xs2a-app-launcher.js",
            get(launcher_js),
        )
        .route("/xs2a/app/{token}", get(view))
        .route("/xs2a/app/{token}/country", post(country))
        .route("/xs2a/app/{token}/bank", post(choose_bank))
        .route("/xs2a/app/{token}/login", post(login))
        .route("/xs2a/app/{token}/otp", post(otp))
        .route("/xs2a/app/{token}/abort", post(abort))
}

async fn launcher_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        LAUNCHER_JS,
    )
        .into_response()
}

fn step_name(flow: &Flow) -> &'static str {
    match (flow.step, flow.state) {
        (Step::Country, _) => "country",
        (Step::Bank, _) => "bank",
        (Step::Login, _) => "login",
        (Step::Otp, _) => "otp",
        (Step::Decoupled { .. }, _) => "decoupled",
        (Step::Ended, FlowState::Finished) => "finished",
        (Step::Ended, FlowState::Exception) => "exception",
        (Step::Ended, _) => "aborted",
    }
}

/// Everything the overlay needs to draw the current step.
fn view_json(session: &Session, flow: &Flow, endings: LauncherEndings) -> Value {
    json!({
        "launcher_endings": endings,
        "flow_id": flow.id,
        "flow_type": flow.kind.name(),
        "state": flow.state,
        "step": step_name(flow),
        "error": flow.error,
        "attempts_left": MAX_AUTH_FAILURES.saturating_sub(flow.failures),
        "language": lang_of(session).code(),
        "countries": [{"country_code": bank::COUNTRY_CODE, "name": "Germany"}],
        "banks": [{"bank_code": bank::BANK_CODE, "bank_name": bank::BANK_NAME, "country_code": bank::COUNTRY_CODE}],
        "bank": if session.bank_chosen { bank::bank_json() } else { Value::Null },
    })
}

/// Runs `step` on the flow of `token` (if it is still running) and answers the new view.
fn with_flow(
    sandbox: &Sandbox,
    xs2a: &Xs2a,
    token: &str,
    step: impl FnOnce(&mut Session, &str, i64, &[Booked]) -> Xs2aResult<()>,
) -> Xs2aResult<Json<Value>> {
    let now = sandbox.clock.now();
    let mut state = xs2a.state(now);
    let booked = state.booked.clone();
    let endings = state.launcher_endings;
    let (session, flow_id) = state
        .by_token(token)
        .ok_or_else(|| Xs2aError::not_found("Unknown client token"))?;
    let running = session.flow(&flow_id).is_some_and(|f| f.state.is_running());
    if !running {
        return Err(Xs2aError::conflict("The flow has ended"));
    }
    step(session, &flow_id, now, &booked)?;
    let flow = session
        .flow(&flow_id)
        .ok_or_else(|| Xs2aError::not_found("Unknown client token"))?;
    Ok(Json(view_json(session, flow, endings)))
}

fn expect(flow: &Flow, step: Step) -> Xs2aResult<()> {
    if flow.step == step {
        Ok(())
    } else {
        Err(Xs2aError::conflict(format!(
            "This step is not expected now: the dialog is at '{}'",
            step_name(flow)
        )))
    }
}

fn flow_of<'a>(session: &'a mut Session, flow_id: &str) -> Xs2aResult<&'a mut Flow> {
    session
        .flow_mut(flow_id)
        .ok_or_else(|| Xs2aError::not_found("Unknown client token"))
}

/// The session's `language` (ISO 639-1): the test bank speaks German or English, like the
/// real app, which follows the session's language.
fn lang_of(session: &Session) -> Lang {
    Lang::of(session.language.as_deref().unwrap_or_default())
}

fn say(lang: Lang, en: &str, de: &str) -> String {
    lang.pick(en, de).into()
}

/// Counts a failed login or TAN; the third ends the flow.
fn fail(flow: &mut Flow, lang: Lang, message: &str) {
    flow.failures += 1;
    if flow.failures >= MAX_AUTH_FAILURES {
        flow.state = FlowState::Exception;
        flow.step = Step::Ended;
        flow.error = Some(say(
            lang,
            "Too many failed attempts: the bank blocked this login.",
            "Zu viele Fehlversuche: Die Bank hat diesen Zugang gesperrt.",
        ));
    } else {
        let left = MAX_AUTH_FAILURES - flow.failures;
        flow.error = Some(match lang {
            Lang::En => format!("{message} {left} attempt(s) left."),
            Lang::De => format!("{message} Noch {left} Versuch(e)."),
        });
    }
}

async fn view(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(token): Path<String>,
) -> Xs2aResult<Json<Value>> {
    let mut state = xs2a.state(sandbox.clock.now());
    let endings = state.launcher_endings;
    let (session, flow_id) = state
        .by_token(&token)
        .ok_or_else(|| Xs2aError::not_found("Unknown client token"))?;
    let flow = session
        .flow(&flow_id)
        .ok_or_else(|| Xs2aError::not_found("Unknown client token"))?;
    Ok(Json(view_json(session, flow, endings)))
}

#[derive(Deserialize)]
struct CountryInput {
    country_code: Option<String>,
}

async fn country(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(token): Path<String>,
    body: Bytes,
) -> Xs2aResult<Json<Value>> {
    let input: CountryInput = parse(&body)?;
    with_flow(&sandbox, &xs2a, &token, |session, flow_id, _, _| {
        let lang = lang_of(session);
        let flow = flow_of(session, flow_id)?;
        expect(flow, Step::Country)?;
        if input
            .country_code
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(bank::COUNTRY_CODE))
        {
            flow.step = Step::Bank;
            flow.error = None;
        } else {
            flow.error = Some(say(
                lang,
                "Choose Germany: the sandbox's test bank is in Germany.",
                "Wählen Sie Deutschland: Die Testbank der Sandbox ist in Deutschland.",
            ));
        }
        Ok(())
    })
}

#[derive(Deserialize)]
struct BankInput {
    bank_code: Option<String>,
}

async fn choose_bank(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(token): Path<String>,
    body: Bytes,
) -> Xs2aResult<Json<Value>> {
    let input: BankInput = parse(&body)?;
    with_flow(&sandbox, &xs2a, &token, |session, flow_id, _, _| {
        let lang = lang_of(session);
        expect(flow_of(session, flow_id)?, Step::Bank)?;
        let known = input.bank_code.as_deref() == Some(bank::BANK_CODE);
        if known {
            session.bank_chosen = true;
        }
        let flow = flow_of(session, flow_id)?;
        if known {
            flow.step = Step::Login;
            flow.error = None;
        } else {
            flow.error = Some(say(
                lang,
                "Unknown bank: choose Demo Bank (88888888).",
                "Unbekannte Bank: Wählen Sie die Demo Bank (88888888).",
            ));
        }
        Ok(())
    })
}

#[derive(Deserialize)]
struct LoginInput {
    username: Option<String>,
    password: Option<String>,
}

async fn login(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(token): Path<String>,
    body: Bytes,
) -> Xs2aResult<Json<Value>> {
    let input: LoginInput = parse(&body)?;
    with_flow(&sandbox, &xs2a, &token, |session, flow_id, now, _| {
        let lang = lang_of(session);
        let flow = flow_of(session, flow_id)?;
        expect(flow, Step::Login)?;
        let username = input.username.as_deref().unwrap_or_default().trim();
        let password = input.password.as_deref().unwrap_or_default();
        if username.is_empty() || password.is_empty() {
            flow.error = Some(say(
                lang,
                "Enter your username and password.",
                "Geben Sie Benutzername und Passwort ein.",
            ));
            return Ok(());
        }
        match username {
            "bank-maintenance" => {
                flow.state = FlowState::Exception;
                flow.step = Step::Ended;
                flow.error = Some(say(
                    lang,
                    "Demo Bank is currently unavailable due to maintenance. Please try again later.",
                    "Die Demo Bank ist wegen Wartungsarbeiten derzeit nicht erreichbar. Bitte versuchen Sie es später erneut.",
                ));
            }
            "wrong" => fail(flow, lang, &wrong_login(lang)),
            "decoupled" => {
                flow.state = FlowState::Processing;
                flow.step = Step::Decoupled {
                    approve_at: now + DECOUPLED_APPROVAL_SECS,
                };
                flow.error = None;
            }
            _ if password != TEST_PASSWORD => fail(flow, lang, &wrong_login(lang)),
            _ => {
                flow.step = Step::Otp;
                flow.error = None;
            }
        }
        Ok(())
    })
}

fn wrong_login(lang: Lang) -> String {
    say(
        lang,
        "Login failed: username or password is wrong.",
        "Anmeldung fehlgeschlagen: Benutzername oder Passwort ist falsch.",
    )
}

#[derive(Deserialize)]
struct OtpInput {
    otp: Option<String>,
}

async fn otp(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(token): Path<String>,
    body: Bytes,
) -> Xs2aResult<Json<Value>> {
    let input: OtpInput = parse(&body)?;
    with_flow(&sandbox, &xs2a, &token, |session, flow_id, now, booked| {
        let lang = lang_of(session);
        let flow = flow_of(session, flow_id)?;
        expect(flow, Step::Otp)?;
        match input.otp.as_deref().map(str::trim) {
            None | Some("") => {
                flow.error = Some(say(lang, "Enter the TAN.", "Geben Sie die TAN ein."))
            }
            Some(TEST_OTP) => finish_flow(session, flow_id, now, booked),
            Some(_) => fail(flow, lang, &say(lang, "Wrong TAN.", "Falsche TAN.")),
        }
        Ok(())
    })
}

/// The consumer closed the overlay: the flow is `ABORTED`.
async fn abort(
    State(sandbox): State<Sandbox>,
    Extension(xs2a): Extension<Xs2a>,
    Path(token): Path<String>,
) -> Xs2aResult<Json<Value>> {
    with_flow(&sandbox, &xs2a, &token, |session, flow_id, _, _| {
        let flow = flow_of(session, flow_id)?;
        flow.state = FlowState::Aborted;
        flow.step = Step::Ended;
        flow.error = None;
        Ok(())
    })
}
