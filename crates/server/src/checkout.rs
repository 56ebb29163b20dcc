//! Shopper endpoints: start a checkout for a cart reference, place the order for an authorization.

use crate::catalog;
use crate::error::{ApiJson, AppError};
use crate::klarna_client::KlarnaCallError;
use crate::state::AppState;
use crate::store::StoredSession;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};
use klarna::address::validate_addresses;
use klarna::api::ChangeCountry;
use klarna::api::{
    CheckoutSession, ErrorCode, OrderState, PaymentCategory, PlaceOrder, PlacedOrder, StartCheckout,
};
use klarna::payments::MerchantUrls;
use klarna::payments::{CreateOrderRequest, FraudStatus, PaymentMethodCategory, SessionRequest};
use klarna::{price_cart, Address, Country, FieldError, FieldProblem, PricedCart, TaxMode};

/// Klarna keeps a payment session open for 48 hours.
const KLARNA_SESSION_LIFETIME_SECS: i64 = 48 * 3600;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/checkout/sessions", post(start_checkout))
        .route("/api/checkout/sessions/{id}", patch(change_country))
        .route("/api/checkout/orders", post(place_order))
}

/// `de-DE` → Germany. The locale decides the purchase country until the shopper's billing
/// country is known.
fn country_of_locale(locale: &str) -> Result<Country, AppError> {
    let country = locale.split('-').nth(1).and_then(Country::from_code);
    match country {
        Some(c) if c.accepts_locale(locale) => Ok(c),
        _ => Err(AppError::field(
            "locale",
            FieldProblem::UnsupportedCountry,
            format!("locale: {locale:?} is not a language-COUNTRY tag of a Klarna country, such as \"de-DE\"."),
        )),
    }
}

/// Prices a cart reference for a country and builds Klarna's session body for it.
fn priced_request(
    app: &AppState,
    id: &str,
    cart_ref: &str,
    country: Country,
    locale: &str,
) -> Result<(PricedCart, SessionRequest), AppError> {
    let items = catalog::cart(cart_ref, country).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownCart,
            format!("cart: no cart with reference {cart_ref:?}."),
        )
    })?;
    let cart = price_cart(
        &items,
        country,
        TaxMode::for_country(country, app.config.us_sales_tax_rate),
    )
    .map_err(|e| AppError::internal("pricing a cart", e))?;
    let request = SessionRequest {
        purchase_country: country.code().into(),
        purchase_currency: cart.currency.code().into(),
        locale: locale.into(),
        order_amount: cart.order_amount,
        order_tax_amount: cart.order_tax_amount,
        order_lines: cart.order_lines.clone(),
        intent: Some("buy".into()),
        merchant_reference1: Some(id.into()),
        merchant_urls: app
            .config
            .authorization_callback_url()
            .map(|url| MerchantUrls {
                authorization: Some(url),
                ..MerchantUrls::default()
            }),
    };
    Ok((cart, request))
}

fn answer(
    app: &AppState,
    stored: StoredSession,
    categories: Vec<PaymentMethodCategory>,
) -> Json<CheckoutSession> {
    let expires_in_secs =
        (stored.created_at + KLARNA_SESSION_LIFETIME_SECS - crate::state::now()).max(0);
    Json(CheckoutSession {
        session: stored.id,
        client_token: stored.client_token,
        categories: categories
            .into_iter()
            .map(|c| PaymentCategory {
                identifier: c.identifier,
                name: c.name,
                badge_url: c.asset_urls.map(|a| a.standard),
            })
            .collect(),
        cart: stored.cart,
        locale: stored.locale,
        sdk_url: app.config.payments_sdk_url().into(),
        expires_in_secs,
    })
}

async fn start_checkout(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<StartCheckout>,
) -> Result<Json<CheckoutSession>, AppError> {
    let country = country_of_locale(&req.locale)?;
    let id = uuid::Uuid::new_v4().to_string();
    let (cart, request) = priced_request(&app, &id, &req.cart, country, &req.locale)?;
    let session = app
        .klarna
        .create_session(&request)
        .await
        .map_err(|e| klarna_failure("creating a session", e))?;
    let stored = StoredSession {
        id,
        klarna_session_id: session.session_id,
        client_token: session.client_token,
        cart_ref: req.cart,
        locale: req.locale,
        cart,
        created_at: crate::state::now(),
    };
    app.store.insert_session(&stored).await?;
    Ok(answer(&app, stored, session.payment_method_categories))
}

/// The shopper picked another billing country: Klarna's purchase country, the locale's region
/// and the VAT inside the prices follow it. Within one currency Klarna's session is updated
/// (the client token stays valid); another currency, or a session Klarna no longer knows,
/// gets a new Klarna session.
async fn change_country(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ChangeCountry>,
) -> Result<Json<CheckoutSession>, AppError> {
    let country = Country::from_code(&req.country).ok_or_else(|| {
        AppError::field(
            "country",
            FieldProblem::UnsupportedCountry,
            format!("country: Klarna does not sell in {:?}.", req.country),
        )
    })?;
    let mut stored = app.store.session(&id).await?.ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownSession,
            format!("session: no checkout session {id:?}."),
        )
    })?;
    let language = stored.locale.split('-').next().unwrap_or("en").to_string();
    let locale = format!("{language}-{}", country.code());
    let (cart, request) = priced_request(&app, &id, &stored.cart_ref, country, &locale)?;
    let same_currency = cart.currency == stored.cart.currency;
    let updated = if same_currency {
        match app
            .klarna
            .update_session(&stored.klarna_session_id, &request)
            .await
        {
            Ok(()) => Some(
                app.klarna
                    .read_session(&stored.klarna_session_id)
                    .await
                    .map_err(|e| klarna_failure("reading a session", e))?,
            ),
            Err(KlarnaCallError::Api { status: 404, .. }) => None,
            Err(e) => return Err(klarna_failure("updating a session", e)),
        }
    } else {
        None
    };
    let categories = match updated {
        Some(read) => read.payment_method_categories,
        None => {
            let session = app
                .klarna
                .create_session(&request)
                .await
                .map_err(|e| klarna_failure("creating a session", e))?;
            stored.klarna_session_id = session.session_id;
            stored.client_token = session.client_token;
            stored.created_at = crate::state::now();
            session.payment_method_categories
        }
    };
    stored.locale = locale;
    stored.cart = cart;
    app.store.update_session(&stored).await?;
    Ok(answer(&app, stored, categories))
}

async fn place_order(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<PlaceOrder>,
) -> Result<Json<PlacedOrder>, AppError> {
    let token = req.authorization_token.trim();
    if !crate::klarna_client::is_plain_id(token) {
        return Err(AppError::bad_request(
            "authorization_token: must be Klarna's token, 1 to 255 letters, digits, '-' or '_'.",
        ));
    }
    let errors = validate_addresses(&req.billing_address, req.shipping_address.as_ref());
    if !errors.is_empty() {
        return Err(AppError::invalid_fields(errors));
    }
    let session = app.store.session(&req.session).await?.ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownSession,
            format!("session: no checkout session {:?}.", req.session),
        )
    })?;

    create_order_once(
        &app,
        &session,
        token,
        Some(req.billing_address),
        req.shipping_address,
    )
    .await
    .map(Json)
}

/// Creates the Klarna order for `token` at most once, whichever path asks (the browser, or
/// Klarna's authorization callback) and however often. Without addresses (the callback path)
/// Klarna keeps the ones it authorized.
pub async fn create_order_once(
    app: &AppState,
    session: &StoredSession,
    token: &str,
    billing: Option<Address>,
    shipping: Option<Address>,
) -> Result<PlacedOrder, AppError> {
    // The session's lock, then the token's (always in this order, so no two requests wait on
    // each other): one order per session, and one Klarna call per token even if a token is
    // sent with another session's id.
    let session_lock = app.order_lock(&format!("session:{}", session.id));
    let _session = session_lock.lock().await;
    let token_lock = app.order_lock(&format!("token:{token}"));
    let _token = token_lock.lock().await;
    if let Some(order) = app.store.order_for_token(token).await? {
        return Ok(order);
    }
    if let Some(error) = app.store.failed_authorization(token).await? {
        return Err(AppError {
            status: status_of(error.code),
            body: error,
            retry_after: None,
        });
    }
    if let Some(existing) = app.store.order_token_of_session(&session.id).await? {
        // This cart is already ordered under another approval (the shopper approved twice):
        // keep the one order and release this approval, so no money stays reserved for nothing.
        if let Err(e) = app.klarna.cancel_authorization(token).await {
            tracing::warn!(session = %session.id, "releasing a superseded authorization failed: {e}");
        }
        return app
            .store
            .order_for_token(&existing)
            .await?
            .ok_or_else(|| AppError::internal("reading an order", "vanished"));
    }
    let request = CreateOrderRequest {
        purchase_country: session.cart.country.code().into(),
        purchase_currency: session.cart.currency.code().into(),
        locale: session.locale.clone(),
        order_amount: session.cart.order_amount,
        order_tax_amount: session.cart.order_tax_amount,
        order_lines: session.cart.order_lines.clone(),
        billing_address: billing,
        shipping_address: shipping,
        merchant_reference1: Some(session.id.clone()),
        merchant_urls: None,
        auto_capture: false,
    };
    let order = match app.klarna.create_order(token, &request).await {
        Ok(order) => order,
        Err(e) => {
            let transient = e.is_transient();
            let error = klarna_failure("creating an order", e);
            if !transient && error.body.code != ErrorCode::Internal {
                app.store
                    .insert_failed_authorization(token, &error.body, crate::state::now())
                    .await?;
            }
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
        order_amount: request.order_amount,
        redirect_url: order.redirect_url,
    };
    let body = serde_json::to_string(&request).unwrap_or_default();
    if let Err(e) = app
        .store
        .insert_order(token, &session.id, &placed, &body, crate::state::now())
        .await
    {
        // Klarna repeats the same order for the same token, so a retry records it.
        return Err(AppError::internal(
            &format!("recording Klarna order {}", placed.order_id),
            e,
        ));
    }
    tracing::info!(order_id = %placed.order_id, session = %session.id, state = ?placed.state, "order created");
    Ok(placed)
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::InvalidFields => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::UnknownCart | ErrorCode::UnknownSession => StatusCode::NOT_FOUND,
        ErrorCode::SessionExpired | ErrorCode::AuthorizationExpired => StatusCode::GONE,
        ErrorCode::AuthorizationMismatch => StatusCode::CONFLICT,
        ErrorCode::Rejected => StatusCode::FORBIDDEN,
        ErrorCode::KlarnaUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SignInRequired => StatusCode::UNAUTHORIZED,
        ErrorCode::CsrfRejected => StatusCode::FORBIDDEN,
        ErrorCode::TooManyAttempts | ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::LinkNotFinished => StatusCode::CONFLICT,
        ErrorCode::LinkFailed | ErrorCode::LinkAborted => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn coded(code: ErrorCode, message: &str) -> AppError {
    AppError::new(status_of(code), code, message)
}

/// Klarna's answers, in our error model (design §5).
fn klarna_failure(what: &str, e: KlarnaCallError) -> AppError {
    if e.is_transient() {
        tracing::warn!("{what}: {e}");
        return coded(
            ErrorCode::KlarnaUnavailable,
            "Klarna is not reachable right now. Please try again in a moment.",
        );
    }
    let KlarnaCallError::Api { status, body } = &e else {
        return AppError::internal(what, e);
    };
    tracing::warn!(status, code = %body.error_code, correlation_id = ?body.correlation_id, "{what}: {}", body.messages().join("; "));
    match (*status, body.error_code.as_str()) {
        (404, "SESSION_COMPLETED") | (404, _) if what.contains("order") => coded(
            ErrorCode::AuthorizationExpired,
            "Your Klarna approval has expired. Please confirm the payment again.",
        ),
        (404, _) => coded(ErrorCode::SessionExpired, "This checkout has expired. We started a new one for you."),
        (409, _) => coded(
            ErrorCode::AuthorizationMismatch,
            "Your cart or address changed after Klarna approved it. Please confirm the payment again.",
        ),
        (403, "REJECTED") => coded(ErrorCode::Rejected, "Klarna could not approve this purchase."),
        (400, _) => {
            let fields = body.fields();
            if !fields.is_empty() && fields.iter().all(|f| f.starts_with("billing_address.") || f.starts_with("shipping_address.")) {
                AppError::invalid_fields(fields.into_iter().map(|f| FieldError::new(f, FieldProblem::RejectedByKlarna)).collect())
            } else {
                AppError::internal(what, &e)
            }
        }
        _ => AppError::internal(what, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use klarna::payments::KlarnaErrorBody;

    fn answer(status: u16, code: &str, messages: &[&str]) -> KlarnaCallError {
        KlarnaCallError::Api {
            status,
            body: KlarnaErrorBody {
                error_code: code.into(),
                error_messages: Some(messages.iter().map(|m| m.to_string()).collect()),
                error_message: None,
                correlation_id: None,
            },
        }
    }

    fn mapped(e: KlarnaCallError) -> (u16, ErrorCode, Vec<String>) {
        let e = klarna_failure("creating an order", e);
        let fields = e.body.fields.iter().map(|f| f.field.clone()).collect();
        (e.status.as_u16(), e.body.code, fields)
    }

    #[test]
    fn each_klarna_refusal_at_order_time_has_its_own_next_step() {
        assert_eq!(
            mapped(answer(
                400,
                "BAD_VALUE",
                &["Bad value: billing_address.postal_code"]
            )),
            (
                422,
                ErrorCode::InvalidFields,
                vec!["billing_address.postal_code".into()]
            )
        );
        // A bad value that is not the shopper's to fix is our failure, with a support id.
        assert_eq!(
            mapped(answer(
                400,
                "BAD_VALUE",
                &["Bad value: order_lines[0].tax_rate"]
            ))
            .1,
            ErrorCode::Internal
        );
        assert_eq!(
            mapped(answer(403, "REJECTED", &["Rejected"])).1,
            ErrorCode::Rejected
        );
        assert_eq!(
            mapped(answer(404, "NOT_FOUND", &["Invalid authorization token"])).1,
            ErrorCode::AuthorizationExpired
        );
        assert_eq!(
            mapped(answer(
                409,
                "BAD_VALUE",
                &["Not matching fields: [billing_address.city]"]
            ))
            .1,
            ErrorCode::AuthorizationMismatch
        );
        for status in [500, 503, 429] {
            assert_eq!(
                mapped(answer(status, "INTERNAL_SERVER_ERROR", &["x"])),
                (503, ErrorCode::KlarnaUnavailable, vec![])
            );
        }
        assert_eq!(
            mapped(KlarnaCallError::Unreachable("timeout".into())).1,
            ErrorCode::KlarnaUnavailable
        );
    }
}
