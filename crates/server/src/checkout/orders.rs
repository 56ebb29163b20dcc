//! From an authorization to an order, exactly once. Every way to an order (the browser, its
//! retries, a second approval of the same cart, Klarna's authorization callback, the recovery
//! worker after a restart, another instance) goes through [`create_order_once`]: the attempt is
//! written to the database before Klarna is called, with a `Klarna-Idempotency-Key` derived
//! from the checkout session and the token, so whoever repeats the call gets Klarna's first
//! answer, and the order is recorded under a one-order-per-session constraint.

use super::errors::{coded, klarna_failure};
use super::unknown_session;
use crate::error::{ApiJson, AppError};
use crate::klarna_client::{idempotency_key, KlarnaCallError};
use crate::order_store::{Attempt, Claim};
use crate::state::AppState;
use crate::store::StoredSession;
use axum::extract::{Path, State};
use axum::Json;
use klarna::address::validate_addresses;
use klarna::api::{ApiError, ErrorCode, OrderState, OrderStatus, PlaceOrder, PlacedOrder};
use klarna::customer::validate_organization;
use klarna::payments::{CreateOrderRequest, FraudStatus, MerchantUrls};
use klarna::{Address, Country, Customer, CustomerType, FieldProblem};
use std::time::Duration;
use tokio::time::Instant;

/// How long an attempt's holder may take before anyone may take it over: longer than the
/// Klarna client's whole timeout (20 s), so a slow answer is normally not raced by a second
/// call, and short, because a holder that crashed blocks its session's retries that long. A
/// race would be harmless anyway: the same idempotency key gets Klarna's first answer.
pub const ATTEMPT_LEASE_SECS: i64 = 30;

/// How long a caller waits for someone else's attempt on the same session to end.
#[derive(Clone, Copy, Debug)]
pub enum OrderWait {
    /// A shopper's request: wait a while, the other attempt usually ends within a second.
    Shopper,
    /// A background worker: never wait; the attempt's holder or a later round finishes it.
    Worker,
}

impl OrderWait {
    fn patience(self) -> Duration {
        match self {
            OrderWait::Shopper => Duration::from_secs(10),
            OrderWait::Worker => Duration::ZERO,
        }
    }
}

/// Places the order for Klarna's authorization, exactly once per `authorization_token`.
#[utoipa::path(
    post,
    path = "/api/checkout/orders",
    tag = "checkout",
    request_body = PlaceOrder,
    responses(
        (status = 200, description = "The order (also when it existed already).", body = PlacedOrder),
        (status = 400, description = "Malformed body or token; `fields` names the field.", body = ApiError),
        (status = 403, description = "Klarna rejected the purchase.", body = ApiError),
        (status = 404, description = "Unknown `session`.", body = ApiError),
        (status = 409, description = "The cart or address changed after Klarna's approval: authorize again.", body = ApiError),
        (status = 410, description = "The approval or the session expired: authorize again.", body = ApiError),
        (status = 413, description = "The body is over 16 KiB.", body = ApiError),
        (status = 422, description = "An address field is refused; `fields` names it.", body = ApiError),
        (status = 429, description = "Too many orders from this client; see `Retry-After`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
        (status = 503, description = "Klarna is not reachable, or the order is still being confirmed; try again.", body = ApiError),
    ),
)]
pub(super) async fn place_order(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<PlaceOrder>,
) -> Result<Json<PlacedOrder>, AppError> {
    let token = req.authorization_token.trim();
    if !crate::klarna_client::is_plain_id(token) {
        return Err(AppError::bad_request(
            "authorization_token: must be Klarna's token, 1 to 255 letters, digits, '-' or '_'.",
        )
        .on("authorization_token", FieldProblem::Invalid));
    }
    let session = app
        .store
        .session(&req.session)
        .await?
        .ok_or_else(|| unknown_session(&req.session))?;
    let organization = super::load_cart(&app, &session.cart_ref)
        .await?
        .customer_type
        == CustomerType::Organization;
    // A consumer's cart has no company: a `customer` here is a caller's bug, not a typo.
    if !organization && req.customer.is_some() {
        return Err(AppError::bad_request(
            "customer: this cart is bought by a consumer; only a business cart takes an organization.",
        ));
    }
    // Cleaned as the component cleaned it before `authorize()` (spaces out of the VAT id and a
    // fixed-format registration number): what Klarna gets is what was checked.
    let country = Country::from_code(req.billing_address.country.trim());
    let customer = organization.then(|| Customer {
        kind: Some(CustomerType::Organization),
        ..req.customer.unwrap_or_default().cleaned(country)
    });
    let mut errors = customer
        .as_ref()
        .map(|c| validate_organization(&req.billing_address, req.shipping_address.as_ref(), c))
        .unwrap_or_default();
    errors.extend(validate_addresses(
        &req.billing_address,
        req.shipping_address.as_ref(),
    ));
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    // The company's name must reach Klarna in both addresses of every call (WooCommerce #132):
    // without a separate shipping address, the billing address is sent as both, as the
    // component gave it to `authorize()`.
    let shipping = match &customer {
        Some(_) => Some(
            req.shipping_address
                .unwrap_or_else(|| req.billing_address.clone()),
        ),
        None => req.shipping_address,
    };
    create_order_once(
        &app,
        &session,
        token,
        Some(req.billing_address),
        shipping,
        customer,
        OrderWait::Shopper,
    )
    .await
    .map(Json)
}

/// `GET /api/checkout/sessions/{session}/order`: the session's order, once there is one. A
/// shopper whom Klarna approved without a token waits here; asking also tells the server to
/// handle Klarna's callback for the session now instead of after the usual delay.
#[utoipa::path(
    get,
    path = "/api/checkout/sessions/{session}/order",
    tag = "checkout",
    params(("session" = String, Path, description = "Our checkout session id.")),
    responses(
        (status = 200, description = "The session's order, or none yet.", body = OrderStatus),
        (status = 404, description = "Unknown `session`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
pub(super) async fn order_status(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<OrderStatus>, AppError> {
    let session = app
        .store
        .session(&id)
        .await?
        .ok_or_else(|| unknown_session(&id))?;
    if let Some(record) = app.store.order_of_session(&session.id).await? {
        return Ok(Json(OrderStatus {
            order: Some(record.order),
        }));
    }
    app.store
        .bring_callbacks_forward(&session.klarna_session_id, app.clock.now())
        .await?;
    app.wake_workers();
    Ok(Json(OrderStatus { order: None }))
}

/// Creates the Klarna order for `token` at most once, whichever path asks and however often.
/// Without addresses and customer (the callback path) Klarna keeps the ones it authorized.
pub async fn create_order_once(
    app: &AppState,
    session: &StoredSession,
    token: &str,
    billing: Option<Address>,
    shipping: Option<Address>,
    customer: Option<Customer>,
    wait: OrderWait,
) -> Result<PlacedOrder, AppError> {
    let mut request = order_request(app, session, billing, shipping);
    request.customer = customer;
    let attempt = Attempt {
        session_id: session.id.clone(),
        authorization_token: token.to_string(),
        idempotency_key: idempotency_key(&format!("order:{}:{token}", session.id)),
        request,
        // A new attempt's first call; a takeover reads the count from the database.
        tries: 1,
    };
    let deadline = Instant::now() + wait.patience();
    let mut pause = Duration::from_millis(20);
    loop {
        if let Some(done) = settled(app, session, token).await? {
            return done;
        }
        match app
            .store
            .claim_attempt(&attempt, app.clock.now(), ATTEMPT_LEASE_SECS)
            .await?
        {
            Claim::Ours(attempt) => return call_klarna(app, *attempt).await,
            // Someone else is asking Klarna for this session's order: wait for the database
            // to show how that ended (an order, a refusal, or an expired lease to take over).
            Claim::Busy if Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            Claim::Busy => return Err(still_confirming()),
        }
    }
}

/// What the database already says about this token and session: an order, a refusal, or
/// the session's order under another approval (which releases this one).
async fn settled(
    app: &AppState,
    session: &StoredSession,
    token: &str,
) -> Result<Option<Result<PlacedOrder, AppError>>, AppError> {
    if let Some(record) = app.store.order_for_token(token).await? {
        if record.session_id != session.id {
            return Ok(Some(Err(AppError::bad_request(
                "authorization_token: belongs to another checkout session.",
            )
            .on("authorization_token", FieldProblem::Invalid))));
        }
        return Ok(Some(Ok(record.order)));
    }
    if let Some(error) = app.store.failed_authorization(token).await? {
        return Ok(Some(Err(AppError {
            status: super::status_of(error.code),
            body: error,
            retry_after: None,
        })));
    }
    if let Some(record) = app.store.order_of_session(&session.id).await? {
        if record.authorization_token == token {
            // Recorded a moment after the first look.
            return Ok(Some(Ok(record.order)));
        }
        // This cart is already ordered under another approval (the shopper approved twice):
        // keep the one order and release this approval, so no money stays reserved for nothing.
        if let Err(e) = app.klarna.cancel_authorization(token).await {
            tracing::warn!(session = %session.id, "releasing a superseded authorization failed: {e}");
        }
        return Ok(Some(Ok(record.order)));
    }
    Ok(None)
}

/// Exactly what was authorized: the session's priced cart as Klarna has it.
fn order_request(
    app: &AppState,
    session: &StoredSession,
    billing: Option<Address>,
    shipping: Option<Address>,
) -> CreateOrderRequest {
    CreateOrderRequest {
        purchase_country: session.cart.country.code().into(),
        purchase_currency: session.cart.currency.code().into(),
        locale: session.locale.clone(),
        order_amount: session.cart.order_amount,
        order_tax_amount: session.cart.order_tax_amount,
        order_lines: session.cart.order_lines.clone(),
        billing_address: billing,
        shipping_address: shipping,
        customer: None,
        merchant_reference1: Some(session.id.clone()),
        merchant_reference2: None,
        merchant_urls: app
            .config
            .notification_url()
            .map(|notification| MerchantUrls {
                notification: Some(notification),
                ..MerchantUrls::default()
            }),
        auto_capture: false,
    }
}

/// Calls Klarna for an attempt this caller holds, and writes down how it ended.
pub(crate) async fn call_klarna(app: &AppState, attempt: Attempt) -> Result<PlacedOrder, AppError> {
    let now = app.clock.now();
    let result = app
        .klarna
        .create_order(
            &attempt.authorization_token,
            &attempt.request,
            &attempt.idempotency_key,
        )
        .await;
    let order = match result {
        Ok(order) => order,
        // No answer, Klarna's own trouble, or an answer we cannot read: Klarna may have
        // created the order. The attempt stays; a retry with the same key learns the outcome.
        Err(e) if e.is_transient() || matches!(e, KlarnaCallError::Decode(_)) => {
            let tries = attempt.tries;
            let retry_at = now + retry_delay_secs(tries);
            app.store.release_attempt(&attempt, retry_at).await?;
            tracing::warn!(session = %attempt.session_id, tries, "creating an order: no usable answer from Klarna ({e}); will ask again");
            return Err(still_confirming());
        }
        Err(e) => {
            let error = klarna_failure("creating an order", e);
            app.store.fail_attempt(&attempt, &error.body, now).await?;
            return Err(error);
        }
    };
    let placed = PlacedOrder {
        order_id: order.order_id,
        state: match order.fraud_status {
            FraudStatus::Accepted => OrderState::Accepted,
            FraudStatus::Pending => OrderState::Pending,
            FraudStatus::Rejected => OrderState::Rejected,
        },
        order_amount: attempt.request.order_amount,
        redirect_url: order.redirect_url,
    };
    if let Err(e) = app.store.record_order(&attempt, &placed, now).await {
        // The attempt keeps its lease until it runs out; then a retry or the recovery worker
        // asks Klarna again with the same key, gets this same order, and records it.
        return Err(AppError::internal(
            &format!("recording Klarna order {}", placed.order_id),
            e,
        ));
    }
    tracing::info!(order_id = %placed.order_id, session = %attempt.session_id, state = ?placed.state, "order created");
    // A cart that asked for a customer token gets it now (never failing the order; what does
    // not work now the worker finishes).
    crate::recurring::ensure_token(app, &attempt.session_id).await;
    Ok(placed)
}

/// Klarna's idempotency keys hold for 24 hours; retries back off well inside that: 5 s after
/// the first try, doubling to 10 minutes.
fn retry_delay_secs(tries: i64) -> i64 {
    (5_i64 << (tries - 1).clamp(0, 7)).min(600)
}

fn still_confirming() -> AppError {
    coded(
        ErrorCode::KlarnaUnavailable,
        "We are still confirming your order with Klarna. Please try again in a moment.",
    )
}

#[cfg(test)]
mod tests {
    use super::retry_delay_secs;

    #[test]
    fn retries_back_off_to_ten_minutes() {
        assert_eq!(retry_delay_secs(1), 5);
        assert_eq!(retry_delay_secs(2), 10);
        assert_eq!(retry_delay_secs(20), 600);
    }
}
