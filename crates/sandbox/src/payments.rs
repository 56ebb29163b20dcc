//! Klarna Payments API v1, emulated: `/payments/v1/sessions[/{id}]`,
//! `/payments/v1/authorizations/{token}/order` and `DELETE /payments/v1/authorizations/{token}`.

use crate::clock::rfc3339;
use crate::state::{
    Sandbox, Session, StoredOrder, AUTHORIZATION_LIFETIME_SECS, SESSION_LIFETIME_SECS,
};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use klarna::payments::{
    AssetUrls, AuthorizedPaymentMethod, CreateOrderRequest, FraudStatus, KlarnaErrorBody,
    KlarnaOrder, MerchantSession, PaymentMethodCategory, SessionRead, SessionRequest,
    SessionStatus,
};
use klarna::rules::check_order;
use klarna::Country;
use serde::de::DeserializeOwned;

pub(crate) use crate::order_checks::{
    mismatches, organization_order_problems, organization_problems,
};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/payments/v1/sessions", post(create_session))
        .route(
            "/payments/v1/sessions/{id}",
            post(update_session).get(read_session),
        )
        .route(
            "/payments/v1/authorizations/{token}/order",
            post(create_order),
        )
        .route(
            "/payments/v1/authorizations/{token}",
            delete(cancel_authorization),
        )
}

/// Klarna's error answer: status plus `{error_code, error_messages, correlation_id}`.
#[derive(Debug)]
pub(crate) struct KlarnaError(pub StatusCode, pub KlarnaErrorBody);

impl KlarnaError {
    pub fn new(status: StatusCode, code: &str, messages: Vec<String>) -> KlarnaError {
        KlarnaError(
            status,
            KlarnaErrorBody {
                error_code: code.into(),
                error_messages: Some(messages),
                error_message: None,
                correlation_id: Some(uuid::Uuid::new_v4().to_string()),
            },
        )
    }

    pub fn bad_values(fields: Vec<String>) -> KlarnaError {
        KlarnaError::new(
            StatusCode::BAD_REQUEST,
            "BAD_VALUE",
            fields
                .into_iter()
                .map(|f| format!("Bad value: {f}"))
                .collect(),
        )
    }

    fn not_found(message: &str) -> KlarnaError {
        KlarnaError::new(StatusCode::NOT_FOUND, "NOT_FOUND", vec![message.into()])
    }
}

impl IntoResponse for KlarnaError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

pub(crate) type KlarnaResult<T> = Result<T, KlarnaError>;

pub(crate) fn authenticate(sandbox: &Sandbox, headers: &HeaderMap) -> KlarnaResult<()> {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!(
            "{}:{}",
            sandbox.credentials.username, sandbox.credentials.password
        ))
    );
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(given) if given == expected => Ok(()),
        _ => Err(KlarnaError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            vec!["Invalid credentials".into()],
        )),
    }
}

pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> KlarnaResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        KlarnaError::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            vec![format!("Invalid JSON: {e}")],
        )
    })
}

/// Klarna's checks at session create/update: country, currency, locale alignment, sums and tax;
/// an organization's session only where Klarna offers B2B.
fn validate_session(request: &SessionRequest) -> KlarnaResult<Country> {
    let mut bad = Vec::new();
    let country = Country::from_code(&request.purchase_country);
    match country {
        None => bad.push("purchase_country".to_string()),
        Some(c) => {
            if request.is_organization() && !c.offers_b2b() {
                bad.push("customer.type".into());
            }
            // Billie issues no customer tokens: no recurring for organizations.
            if request.is_organization()
                && matches!(
                    request.intent.as_deref(),
                    Some("tokenize" | "buy_and_tokenize")
                )
            {
                bad.push("intent".into());
            }
            if !c
                .currency()
                .code()
                .eq_ignore_ascii_case(&request.purchase_currency)
            {
                bad.push("purchase_currency".into());
            }
            if !c.accepts_locale(&request.locale) {
                bad.push("locale".into());
            }
        }
    }
    // Klarna's schema: colours `^#[A-Fa-f0-9]{6}$` (contract §1.2).
    if let Some(options) = &request.options {
        bad.extend(options.validate("options").into_iter().map(|e| e.field));
    }
    let sales_tax = country.is_some_and(Country::uses_sales_tax);
    bad.extend(check_order(
        &request.order_lines,
        request.order_amount,
        request.order_tax_amount,
        sales_tax,
    ));
    match country {
        Some(c) if bad.is_empty() => Ok(c),
        _ => Err(KlarnaError::bad_values(bad)),
    }
}

/// What Klarna offers: to consumers three categories; to an organization (Billie through
/// Klarna) Pay Later alone, an invoice due in 30 days.
pub(crate) fn categories(host: &str, session: &SessionRequest) -> Vec<PaymentMethodCategory> {
    let badge = format!("http://{host}{}/badges/klarna.svg", crate::MOUNT_PATH);
    let offered: &[(&str, &str)] = if session.is_organization() {
        &[("pay_later", "Pay later by invoice for businesses.")]
    } else {
        &[
            ("pay_now", "Pay now."),
            ("pay_later", "Pay later."),
            ("pay_over_time", "Financing."),
        ]
    };
    offered
        .iter()
        .copied()
        .map(|(identifier, name)| PaymentMethodCategory {
            identifier: identifier.into(),
            name: name.into(),
            asset_urls: Some(AssetUrls {
                descriptive: badge.clone(),
                standard: badge.clone(),
            }),
        })
        .collect()
}

pub(crate) fn host(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string()
}

/// A JWT-shaped client token (the real SDK refuses anything that is not a JWT) carrying the
/// session id, which the `api.js` stand-in reads back.
fn client_token(session_id: &str, expires_at: i64) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        serde_json::json!({"session_id": session_id, "exp": expires_at, "iss": "klarna-sandbox"})
            .to_string(),
    );
    let signature = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
    format!("{header}.{payload}.{signature}")
}

async fn create_session(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<Json<MerchantSession>> {
    authenticate(&sandbox, &headers)?;
    let request: SessionRequest = parse(&body)?;
    validate_session(&request)?;
    let offered = categories(&host(&headers), &request);
    let now = sandbox.clock.now();
    let session_id = uuid::Uuid::new_v4().to_string();
    let token = client_token(&session_id, now + SESSION_LIFETIME_SECS);
    sandbox.lock().sessions.insert(
        session_id.clone(),
        Session {
            request,
            client_token: token.clone(),
            created_at: now,
            completed: false,
        },
    );
    Ok(Json(MerchantSession {
        session_id,
        client_token: token,
        payment_method_categories: offered,
    }))
}

/// Finds a live session, answering as Klarna does for unknown, expired and completed ones.
pub(crate) fn live_session(sandbox: &Sandbox, id: &str) -> KlarnaResult<Session> {
    let now = sandbox.clock.now();
    let inner = sandbox.lock();
    let session = inner
        .sessions
        .get(id)
        .ok_or_else(|| KlarnaError::not_found("Session not found"))?;
    if now > session.created_at + SESSION_LIFETIME_SECS {
        return Err(KlarnaError::not_found("Session expired"));
    }
    if session.completed {
        return Err(KlarnaError::new(
            StatusCode::NOT_FOUND,
            "SESSION_COMPLETED",
            vec!["Session already completed".into()],
        ));
    }
    Ok(session.clone())
}

async fn update_session(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<StatusCode> {
    authenticate(&sandbox, &headers)?;
    let session = live_session(&sandbox, &id)?;
    // An update carries only the fields that change.
    let patch: serde_json::Value = parse(&body)?;
    let mut merged = serde_json::to_value(&session.request)
        .map_err(|_| KlarnaError::not_found("Session not found"))?;
    if let (Some(target), Some(patch)) = (merged.as_object_mut(), patch.as_object()) {
        for (k, v) in patch {
            target.insert(k.clone(), v.clone());
        }
    }
    let request: SessionRequest = parse(merged.to_string().as_bytes())?;
    validate_session(&request)?;
    if let Some(s) = sandbox.lock().sessions.get_mut(&id) {
        s.request = request;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn read_session(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> KlarnaResult<Json<SessionRead>> {
    authenticate(&sandbox, &headers)?;
    let now = sandbox.clock.now();
    let session = {
        let inner = sandbox.lock();
        inner
            .sessions
            .get(&id)
            .cloned()
            .ok_or_else(|| KlarnaError::not_found("Session not found"))?
    };
    if now > session.created_at + SESSION_LIFETIME_SECS {
        return Err(KlarnaError::not_found("Session expired"));
    }
    let offered = categories(&host(&headers), &session.request);
    let r = session.request;
    Ok(Json(SessionRead {
        status: Some(if session.completed {
            SessionStatus::Complete
        } else {
            SessionStatus::Incomplete
        }),
        client_token: Some(session.client_token),
        purchase_country: Some(r.purchase_country),
        purchase_currency: Some(r.purchase_currency),
        locale: Some(r.locale),
        order_amount: Some(r.order_amount),
        order_tax_amount: Some(r.order_tax_amount),
        order_lines: r.order_lines,
        payment_method_categories: offered,
        expires_at: Some(rfc3339(session.created_at + SESSION_LIFETIME_SECS)),
        authorization_token: None,
    }))
}

fn payment_method(category: &str, organization: bool) -> AuthorizedPaymentMethod {
    match category {
        _ if organization => AuthorizedPaymentMethod::Detailed {
            kind: "b2b_invoice".into(),
            number_of_days: Some(30),
            number_of_installments: None,
        },
        "pay_over_time" => AuthorizedPaymentMethod::Detailed {
            kind: "fixed_amount".into(),
            number_of_days: None,
            number_of_installments: Some(3),
        },
        "pay_now" => AuthorizedPaymentMethod::Plain("direct_debit".into()),
        _ => AuthorizedPaymentMethod::Detailed {
            kind: "invoice".into(),
            number_of_days: Some(30),
            number_of_installments: None,
        },
    }
}

async fn create_order(
    State(sandbox): State<Sandbox>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(e) = authenticate(&sandbox, &headers) {
        return e.into_response();
    }
    let request: CreateOrderRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let now = sandbox.clock.now();
    let mut inner = sandbox.lock();
    let Some(auth) = inner.authorizations.get(&token).cloned() else {
        return KlarnaError::not_found("Invalid authorization token").into_response();
    };
    if let Some(previous) = &auth.outcome {
        return match previous {
            Ok(order) => Json(order.clone()).into_response(),
            Err((status, body)) => KlarnaError(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::CONFLICT),
                body.clone(),
            )
            .into_response(),
        };
    }
    if auth.released || now > auth.created_at + AUTHORIZATION_LIFETIME_SECS {
        return KlarnaError::not_found("Invalid authorization token").into_response();
    }
    let sales_tax =
        Country::from_code(&request.purchase_country).is_some_and(Country::uses_sales_tax);
    let mut bad = check_order(
        &request.order_lines,
        request.order_amount,
        request.order_tax_amount,
        sales_tax,
    );
    bad.extend(organization_order_problems(&auth, &request));
    let outcome = if !bad.is_empty() {
        let e = KlarnaError::bad_values(bad);
        Err((e.0.as_u16(), e.1))
    } else {
        let diff = mismatches(&auth, &request);
        if diff.is_empty() {
            Ok(KlarnaOrder {
                order_id: uuid::Uuid::new_v4().to_string(),
                redirect_url: None,
                fraud_status: if auth.pending_review {
                    FraudStatus::Pending
                } else {
                    FraudStatus::Accepted
                },
                authorized_payment_method: Some(payment_method(
                    &auth.category,
                    auth.approved.is_organization(),
                )),
            })
        } else {
            let e = KlarnaError::new(
                StatusCode::CONFLICT,
                "BAD_VALUE",
                vec![format!("Not matching fields: [{}]", diff.join(", "))],
            );
            Err((e.0.as_u16(), e.1))
        }
    };
    if let Ok(order) = &outcome {
        inner.orders.push(StoredOrder::new(
            order.clone(),
            request,
            &auth,
            token.clone(),
            now,
        ));
        if let Some(s) = inner.sessions.get_mut(&auth.session_id) {
            s.completed = true;
        }
    }
    if let Some(a) = inner.authorizations.get_mut(&token) {
        a.outcome = Some(outcome.clone());
    }
    match outcome {
        Ok(order) => Json(order).into_response(),
        Err((status, body)) => KlarnaError(
            StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT),
            body,
        )
        .into_response(),
    }
}

async fn cancel_authorization(
    State(sandbox): State<Sandbox>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> KlarnaResult<StatusCode> {
    authenticate(&sandbox, &headers)?;
    let mut inner = sandbox.lock();
    match inner.authorizations.get_mut(&token) {
        Some(a) if !a.released && a.outcome.is_none() => {
            a.released = true;
            Ok(StatusCode::NO_CONTENT)
        }
        _ => Err(KlarnaError::not_found("Invalid authorization token")),
    }
}
