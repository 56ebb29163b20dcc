//! What Klarna's browser script talks to: the `api.js` stand-in itself and the endpoints behind
//! its widget and purchase dialog. Test customers decide the outcome, as on Klarna's playground:
//! `customer+<cc>@klarna.com` approved, `…+denied@…` rejected, `…+pending@…` approved but held
//! for fraud review (`…+pending+rejected@…` turned down when the review ends), `…+bankapp@…`
//! approved in a bank app so that the browser gets no token (only the server's authorization
//! callback brings it); a postal code of only zeros "does not exist" and is reported as invalid.
//! An organization's session (B2B) asks at `authorize()` for the company: its name in the
//! addresses and `customer` with legal form and registration number.

use crate::payments::{categories, host, live_session, organization_problems, KlarnaError};
use crate::state::{Authorization, Sandbox, Session};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use klarna::address::validate_addresses;
use klarna::{Address, Country, Customer};
use serde::{Deserialize, Serialize};

const API_JS: &str = include_str!("api.js");
const BADGE_SVG: &str = include_str!("klarna-badge.svg");

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/kp/lib/v1/api.js", get(api_js))
        .route("/badges/klarna.svg", get(badge))
        .route("/kp/widget", post(widget))
        .route("/kp/authorize", post(authorize))
        .route("/kp/finalize", post(finalize))
}

async fn api_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        API_JS,
    )
        .into_response()
}

async fn badge() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], BADGE_SVG).into_response()
}

/// Reads the session id out of the JWT-shaped client token.
fn session_of(client_token: &str) -> Option<String> {
    let payload = client_token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("session_id")?.as_str().map(str::to_string)
}

fn session_for(sandbox: &Sandbox, client_token: &str) -> Result<(String, Session), KlarnaError> {
    let id = session_of(client_token).ok_or_else(|| {
        KlarnaError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CLIENT_TOKEN",
            vec!["Invalid client token".into()],
        )
    })?;
    let session = live_session(sandbox, &id)?;
    if session.client_token != client_token {
        return Err(KlarnaError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CLIENT_TOKEN",
            vec!["Invalid client token".into()],
        ));
    }
    Ok((id, session))
}

#[derive(Deserialize)]
struct WidgetRequest {
    client_token: String,
}

#[derive(Serialize)]
struct WidgetInfo {
    categories: Vec<klarna::payments::PaymentMethodCategory>,
    order_amount: i64,
    purchase_currency: String,
    locale: String,
    /// The session's `options`: the widget is drawn in the merchant's colours, as Klarna's is.
    options: Option<klarna::WidgetOptions>,
}

/// What the widget shows: the categories and the amount of the live session.
async fn widget(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Json(req): Json<WidgetRequest>,
) -> Result<Json<WidgetInfo>, KlarnaError> {
    let (_, session) = session_for(&sandbox, &req.client_token)?;
    Ok(Json(WidgetInfo {
        categories: categories(&host(&headers), &session.request),
        order_amount: session.request.order_amount,
        purchase_currency: session.request.purchase_currency,
        locale: session.request.locale,
        options: session.request.options,
    }))
}

#[derive(Deserialize)]
struct AuthorizeRequest {
    client_token: String,
    payment_method_category: String,
    #[serde(default = "yes")]
    auto_finalize: bool,
    /// `check` runs Klarna's assessment before the dialog asks to confirm; `confirm` issues the token.
    stage: Stage,
    #[serde(default)]
    data: serde_json::Value,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Stage {
    Check,
    Confirm,
}

/// The outcome the script turns into the SDK's callback object.
#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum Outcome {
    Ok {
        order_amount: i64,
        purchase_currency: String,
    },
    Invalid {
        invalid_fields: Vec<String>,
    },
    Denied,
    Approved {
        authorization_token: String,
    },
    /// `approved: true` without a token (bank-app switching): the callback carries it.
    ApprovedWithoutToken,
    FinalizeRequired,
}

fn from_data<T: serde::de::DeserializeOwned>(
    data: &serde_json::Value,
    key: &str,
) -> Result<Option<T>, String> {
    match data.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| key.to_string()),
    }
}

/// Klarna's assessment at `authorize()`: the organization of a B2B session, address rules,
/// address existence, country/currency, then the test customer's fate.
fn assess(
    session: &Session,
    billing: &Address,
    shipping: Option<&Address>,
    customer: &Customer,
) -> Option<Outcome> {
    let mut invalid: Vec<String> = if session.request.is_organization() {
        organization_problems(billing, shipping, customer)
    } else {
        Vec::new()
    };
    invalid.extend(
        validate_addresses(billing, shipping)
            .into_iter()
            .map(|e| e.field),
    );
    for (prefix, address) in [
        ("billing_address", Some(billing)),
        ("shipping_address", shipping),
    ] {
        if let Some(a) = address {
            if !a.postal_code.is_empty()
                && a.postal_code
                    .chars()
                    .all(|c| c == '0' || c == ' ' || c == '-')
            {
                invalid.push(format!("{prefix}.postal_code"));
            }
        }
    }
    if let Some(c) = Country::from_code(&billing.country) {
        if !c
            .currency()
            .code()
            .eq_ignore_ascii_case(&session.request.purchase_currency)
        {
            invalid.push("billing_address.country".into());
        }
    }
    if !invalid.is_empty() {
        invalid.dedup();
        return Some(Outcome::Invalid {
            invalid_fields: invalid,
        });
    }
    billing
        .email
        .contains("+denied@")
        .then_some(Outcome::Denied)
}

async fn authorize(
    State(sandbox): State<Sandbox>,
    Json(req): Json<AuthorizeRequest>,
) -> Result<Json<Outcome>, KlarnaError> {
    let (session_id, session) = session_for(&sandbox, &req.client_token)?;
    if req.stage == Stage::Check {
        sandbox.lock().authorize_calls += 1;
    }
    let billing: Address = from_data(&req.data, "billing_address")
        .map_err(|f| bad_field(&f))?
        .unwrap_or_default();
    let shipping: Option<Address> =
        from_data(&req.data, "shipping_address").map_err(|f| bad_field(&f))?;
    let mut customer: Customer = from_data(&req.data, "customer")
        .map_err(|f| bad_field(&f))?
        .unwrap_or_default();
    // The session's type holds unless `authorize()` names one.
    customer.kind = customer
        .kind
        .or(session.request.customer.as_ref().and_then(|c| c.kind));
    if let Some(outcome) = assess(&session, &billing, shipping.as_ref(), &customer) {
        return Ok(Json(outcome));
    }
    if req.stage == Stage::Check {
        return Ok(Json(Outcome::Ok {
            order_amount: session.request.order_amount,
            purchase_currency: session.request.purchase_currency,
        }));
    }
    let authorization = Authorization {
        session_id: session_id.clone(),
        category: req.payment_method_category.clone(),
        approved: session.request.clone(),
        // Without a shipping address Klarna copies the billing address.
        shipping_address: shipping.unwrap_or_else(|| billing.clone()),
        customer,
        pending_review: billing.email.contains("+pending"),
        review_rejects: billing.email.contains("+rejected@"),
        billing_address: billing,
        created_at: sandbox.clock.now(),
        outcome: None,
        released: false,
    };
    let without_token = authorization.billing_address.email.contains("+bankapp@");
    let mut inner = sandbox.lock();
    if req.auto_finalize {
        let token = uuid::Uuid::new_v4().to_string();
        inner.authorizations.insert(token.clone(), authorization);
        notify_authorization(&session, &session_id, &token);
        if without_token {
            return Ok(Json(Outcome::ApprovedWithoutToken));
        }
        Ok(Json(Outcome::Approved {
            authorization_token: token,
        }))
    } else {
        inner
            .finalize_pending
            .insert((session_id, req.payment_method_category), authorization);
        Ok(Json(Outcome::FinalizeRequired))
    }
}

#[derive(Deserialize)]
struct FinalizeRequest {
    client_token: String,
    payment_method_category: String,
}

async fn finalize(
    State(sandbox): State<Sandbox>,
    Json(req): Json<FinalizeRequest>,
) -> Result<Json<Outcome>, KlarnaError> {
    let (session_id, _) = session_for(&sandbox, &req.client_token)?;
    let mut inner = sandbox.lock();
    let Some(mut authorization) = inner
        .finalize_pending
        .remove(&(session_id, req.payment_method_category))
    else {
        return Ok(Json(Outcome::Denied));
    };
    authorization.created_at = sandbox.clock.now();
    let token = uuid::Uuid::new_v4().to_string();
    if let Some(session) = inner.sessions.get(&authorization.session_id) {
        notify_authorization(session, &authorization.session_id, &token);
    }
    inner.authorizations.insert(token.clone(), authorization);
    Ok(Json(Outcome::Approved {
        authorization_token: token,
    }))
}

/// Klarna posts `{authorization_token, session_id}` to `merchant_urls.authorization` after a
/// successful authorization, independently of the browser.
fn notify_authorization(session: &Session, session_id: &str, token: &str) {
    let Some(url) = session
        .request
        .merchant_urls
        .as_ref()
        .and_then(|u| u.authorization.clone())
    else {
        return;
    };
    let url = url.replace("{session.id}", session_id);
    let body = serde_json::json!({"authorization_token": token, "session_id": session_id});
    tokio::spawn(async move {
        let _ = reqwest::Client::new().post(url).json(&body).send().await;
    });
}

fn bad_field(field: &str) -> KlarnaError {
    KlarnaError::new(
        StatusCode::BAD_REQUEST,
        "BAD_VALUE",
        vec![format!("Bad value: {field}")],
    )
}
