//! Klarna's customer tokens, emulated: created from an authorization whose session asked for
//! one (`intent` `tokenize` or `buy_and_tokenize`), read, charged with new orders (which Order
//! Management then handles like any other), and cancelled for good. Where Klarna's documents
//! are silent the sandbox refuses rather than allows: a session without a tokenizing intent is
//! `403 INVALID_OPERATION`, a charge of a cancelled token too.

use crate::payments::{authenticate, parse, KlarnaError, KlarnaResult};
use crate::state::{Authorization, Sandbox, StoredOrder, AUTHORIZATION_LIFETIME_SECS};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use klarna::customer_token::{
    CustomerTokenCreated, CustomerTokenRead, CustomerTokenRequest, TokenOrderRequest,
    TokenStatusUpdate,
};
use klarna::payments::{AuthorizedPaymentMethod, CreateOrderRequest, FraudStatus, KlarnaOrder};
use klarna::rules::check_order;
use klarna::Country;

/// A token as Klarna keeps it: the authorization it came from (the shopper's addresses, the
/// purchase country) and whether it was cancelled.
#[derive(Clone, Debug)]
pub(crate) struct StoredToken {
    pub authorization: Authorization,
    pub request: CustomerTokenRequest,
    pub cancelled: bool,
}

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route(
            "/payments/v1/authorizations/{token}/customer-token",
            post(create_token),
        )
        .route("/customer-token/v1/tokens/{token}", get(read_token))
        .route("/customer-token/v1/tokens/{token}/order", post(charge))
        .route(
            "/customer-token/v1/tokens/{token}/status",
            patch(set_status),
        )
}

fn invalid_operation(message: &str) -> KlarnaError {
    KlarnaError::new(
        StatusCode::FORBIDDEN,
        "INVALID_OPERATION",
        vec![message.into()],
    )
}

fn no_token() -> KlarnaError {
    KlarnaError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        vec!["Invalid customer-token ID".into()],
    )
}

async fn create_token(
    State(sandbox): State<Sandbox>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<Json<CustomerTokenCreated>> {
    authenticate(&sandbox, &headers)?;
    let request: CustomerTokenRequest = parse(&body)?;
    let now = sandbox.clock.now();
    let mut inner = sandbox.lock();
    let auth = inner
        .authorizations
        .get(&token)
        .cloned()
        .filter(|a| !a.released && now <= a.created_at + AUTHORIZATION_LIFETIME_SECS)
        .ok_or_else(|| {
            KlarnaError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                vec!["Invalid authorization token".into()],
            )
        })?;
    if !matches!(
        auth.approved.intent.as_deref(),
        Some("tokenize" | "buy_and_tokenize")
    ) {
        return Err(invalid_operation(
            "The session's intent does not allow creating a customer token",
        ));
    }
    let mut bad = Vec::new();
    let description = request.description.chars().count();
    if !(1..=255).contains(&description) {
        bad.push("description".to_string());
    }
    if request.intended_use != "SUBSCRIPTION" {
        bad.push("intended_use".into());
    }
    match Country::from_code(&request.purchase_country) {
        Some(c) if !c.accepts_locale(&request.locale) => bad.push("locale".into()),
        None => bad.push("purchase_country".into()),
        Some(_) => {}
    }
    if !bad.is_empty() {
        return Err(KlarnaError::bad_values(bad));
    }
    let approved = &auth.approved;
    let mut differ = Vec::new();
    if !approved
        .purchase_country
        .eq_ignore_ascii_case(&request.purchase_country)
    {
        differ.push("purchase_country");
    }
    if !approved
        .purchase_currency
        .eq_ignore_ascii_case(&request.purchase_currency)
    {
        differ.push("purchase_currency");
    }
    if !differ.is_empty() {
        return Err(KlarnaError::new(
            StatusCode::CONFLICT,
            "BAD_VALUE",
            vec![format!("Not matching fields: [{}]", differ.join(", "))],
        ));
    }
    // One token per authorization: asking again answers with the same token.
    let token_id = match inner.token_of_authorization.get(&token) {
        Some(id) => id.clone(),
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            inner.customer_tokens.insert(
                id.clone(),
                StoredToken {
                    authorization: auth,
                    request,
                    cancelled: false,
                },
            );
            inner.token_of_authorization.insert(token, id.clone());
            id
        }
    };
    Ok(Json(CustomerTokenCreated {
        payment_method_reference: Some(uuid::Uuid::new_v4().to_string()),
        token_id,
        redirect_url: None,
    }))
}

async fn read_token(
    State(sandbox): State<Sandbox>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> KlarnaResult<Json<CustomerTokenRead>> {
    authenticate(&sandbox, &headers)?;
    let inner = sandbox.lock();
    let stored = inner.customer_tokens.get(&token).ok_or_else(no_token)?;
    Ok(Json(CustomerTokenRead {
        status: if stored.cancelled {
            "CANCELLED"
        } else {
            "ACTIVE"
        }
        .into(),
        payment_method_type: "INVOICE".into(),
    }))
}

async fn charge(
    State(sandbox): State<Sandbox>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<Json<KlarnaOrder>> {
    authenticate(&sandbox, &headers)?;
    let request: TokenOrderRequest = parse(&body)?;
    let now = sandbox.clock.now();
    let mut inner = sandbox.lock();
    let stored = inner
        .customer_tokens
        .get(&token)
        .cloned()
        .ok_or_else(no_token)?;
    if stored.cancelled {
        return Err(invalid_operation("The customer token is not active"));
    }
    let country = stored.request.purchase_country.clone();
    let mut bad = Vec::new();
    if !stored
        .request
        .purchase_currency
        .eq_ignore_ascii_case(&request.purchase_currency)
    {
        bad.push("purchase_currency".to_string());
    }
    if request.order_amount < 1 {
        bad.push("order_amount".into());
    }
    if request.order_lines.is_empty() || request.order_lines.len() > 1000 {
        bad.push("order_lines".into());
    }
    let sales_tax = Country::from_code(&country).is_some_and(Country::uses_sales_tax);
    for field in check_order(
        &request.order_lines,
        request.order_amount,
        request.order_tax_amount,
        sales_tax,
    ) {
        if !bad.contains(&field) {
            bad.push(field);
        }
    }
    if !bad.is_empty() {
        return Err(KlarnaError::bad_values(bad));
    }
    let order = KlarnaOrder {
        order_id: uuid::Uuid::new_v4().to_string(),
        redirect_url: None,
        fraud_status: FraudStatus::Accepted,
        authorized_payment_method: Some(AuthorizedPaymentMethod::Detailed {
            kind: "invoice".into(),
            number_of_days: Some(30),
            number_of_installments: None,
        }),
    };
    // Order Management sees it like an order from an authorization: the token's country and
    // locale, the addresses the shopper authorized when the token was made.
    let as_order = CreateOrderRequest {
        purchase_country: country,
        purchase_currency: request.purchase_currency,
        locale: stored.request.locale.clone(),
        order_amount: request.order_amount,
        order_tax_amount: request.order_tax_amount,
        order_lines: request.order_lines,
        billing_address: None,
        shipping_address: None,
        merchant_reference1: request.merchant_reference1,
        merchant_reference2: request.merchant_reference2,
        merchant_urls: request.merchant_urls,
        auto_capture: request.auto_capture,
        customer: None,
    };
    let mut auth = stored.authorization;
    auth.review_rejects = false;
    inner
        .orders
        .push(StoredOrder::new(order.clone(), as_order, &auth, token, now));
    Ok(Json(order))
}

async fn set_status(
    State(sandbox): State<Sandbox>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KlarnaResult<(StatusCode, &'static str)> {
    authenticate(&sandbox, &headers)?;
    let update: TokenStatusUpdate = parse(&body)?;
    if update.status != "CANCELLED" {
        return Err(KlarnaError::bad_values(vec!["status".into()]));
    }
    let mut inner = sandbox.lock();
    let stored = inner.customer_tokens.get_mut(&token).ok_or_else(|| {
        KlarnaError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            vec!["Invalid token ID".into()],
        )
    })?;
    // Cancelled for good; cancelling again changes nothing.
    stored.cancelled = true;
    Ok((
        StatusCode::ACCEPTED,
        "Token patch request has been accepted and is being processed.",
    ))
}
