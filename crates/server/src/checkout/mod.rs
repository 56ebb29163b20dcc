//! Shopper endpoints: start a checkout for a cart reference, follow the shopper's billing
//! country, and (in `orders.rs`) place the order for an authorization. The server alone
//! decides prices, currency and Klarna's locale; the browser names a cart and a language.

mod errors;
mod orders;

pub use errors::status_of;
pub(crate) use orders::call_klarna;
pub use orders::{create_order_once, OrderWait, ATTEMPT_LEASE_SECS};

use crate::carts::Cart;
use crate::catalog::{self, CatalogError};
use crate::error::{ApiJson, AppError};
use crate::klarna_client::{idempotency_key, is_plain_id, KlarnaCallError};
use crate::state::AppState;
use crate::store::StoredSession;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use errors::klarna_failure;
use klarna::api::{
    ApiError, ChangeCountry, CheckoutSession, ErrorCode, PaymentCategory, StartCheckout,
};
use klarna::payments::{MerchantUrls, PaymentMethodCategory, SessionRequest};
use klarna::{
    price_cart, Country, Customer, CustomerType, FieldProblem, PricedCart, TaxMode, WidgetOptions,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Klarna keeps a payment session open for 48 hours.
const KLARNA_SESSION_LIFETIME_SECS: i64 = 48 * 3600;

/// The shopper's endpoints; each `routes!` line registers a handler and documents it
/// (`crate::openapi`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_checkout))
        .routes(routes!(change_country))
        .routes(routes!(orders::order_status))
        .routes(routes!(orders::place_order))
}

/// `de-DE` → (`de`, Germany). The locale's region decides the purchase country until the
/// shopper's billing country is known; its language decides Klarna's locale there.
fn read_locale(locale: &str) -> Result<(String, Country), AppError> {
    let mut parts = locale.split(['-', '_']);
    let language = parts.next().unwrap_or_default();
    let country = parts.next().and_then(Country::from_code);
    match country {
        Some(c)
            if language.len() == 2
                && language.bytes().all(|b| b.is_ascii_alphabetic())
                && parts.next().is_none() =>
        {
            Ok((language.to_ascii_lowercase(), c))
        }
        _ => Err(AppError::field(
            "locale",
            FieldProblem::UnsupportedCountry,
            format!("locale: {locale:?} is not a language-COUNTRY tag of a Klarna country, such as \"de-DE\"."),
        )),
    }
}

pub(crate) fn unknown_session(id: &str) -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::UnknownSession,
        format!("session: no checkout session {id:?}."),
    )
    .on("session", FieldProblem::NotFound)
}

/// The registered cart the browser named: unknown and malformed references alike are
/// `unknown_cart`.
pub(crate) async fn load_cart(app: &AppState, cart_ref: &str) -> Result<Cart, AppError> {
    let unknown = || {
        AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownCart,
            format!("cart: no cart with reference {cart_ref:?}."),
        )
        .on("cart", FieldProblem::NotFound)
    };
    if !is_plain_id(cart_ref) {
        return Err(unknown());
    }
    app.store.cart(cart_ref).await?.ok_or_else(unknown)
}

/// The countries a cart sells in: those whose currency it has prices in and, for a business
/// purchase, where Klarna offers B2B.
fn sellable(cart: &Cart) -> Vec<Country> {
    let b2b = cart.customer_type == CustomerType::Organization;
    catalog::countries(cart)
        .into_iter()
        .filter(|c| !b2b || c.offers_b2b())
        .collect()
}

/// Prices a registered cart for a country, from the price list of that country's currency,
/// and builds Klarna's session body for it (a business purchase opens Klarna's B2B session:
/// `customer.type = organization`, refused in a country without B2B). `field` names the
/// request field that chose the country, for the error when the shop has no prices in its
/// currency.
fn priced_request(
    app: &AppState,
    id: &str,
    stored_cart: &Cart,
    country: Country,
    language: &str,
    field: &str,
    widget: Option<&WidgetOptions>,
) -> Result<(PricedCart, SessionRequest), AppError> {
    let items = catalog::cart(stored_cart, country).map_err(|e| match e {
        CatalogError::NoPrices(currency) => AppError::field(
            field,
            FieldProblem::UnsupportedCountry,
            format!(
                "{field}: Klarna sells in {} only in {}, and this shop has no prices in {} for this cart.",
                country.name(),
                currency.code(),
                currency.code()
            ),
        ),
    })?;
    let organization = stored_cart.customer_type == CustomerType::Organization;
    if organization && !country.offers_b2b() {
        return Err(AppError::field(
            field,
            FieldProblem::UnsupportedCountry,
            format!(
                "{field}: Klarna offers no purchases for businesses in {}.",
                country.name()
            ),
        ));
    }
    let cart = price_cart(
        &items,
        country,
        TaxMode::for_country(country, app.config.us_sales_tax_rate),
    )
    .map_err(|e| AppError::internal("pricing a cart", e))?;
    let request = SessionRequest {
        purchase_country: country.code().into(),
        purchase_currency: cart.currency.code().into(),
        locale: country.klarna_locale(language).into(),
        order_amount: cart.order_amount,
        order_tax_amount: cart.order_tax_amount,
        order_lines: cart.order_lines.clone(),
        intent: Some(stored_cart.intent.name().into()),
        merchant_reference1: Some(id.into()),
        merchant_urls: merchant_urls(app),
        customer: organization.then(Customer::organization),
        options: widget.cloned(),
    };
    Ok((cart, request))
}

/// Klarna's server callbacks: the authorization callback (Klarna calls it required) and the
/// notification of a pending order's fraud decision.
pub(crate) fn merchant_urls(app: &AppState) -> Option<MerchantUrls> {
    let authorization = app.config.authorization_callback_url();
    let notification = app.config.notification_url();
    (authorization.is_some() || notification.is_some()).then_some(MerchantUrls {
        authorization,
        notification,
        ..MerchantUrls::default()
    })
}

fn answer(
    app: &AppState,
    stored: StoredSession,
    stored_cart: &Cart,
    categories: Vec<PaymentMethodCategory>,
) -> Json<CheckoutSession> {
    let expires_in_secs =
        (stored.created_at + KLARNA_SESSION_LIFETIME_SECS - app.clock.now()).max(0);
    Json(CheckoutSession {
        countries: sellable(stored_cart),
        customer_type: stored_cart.customer_type,
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

/// Starts a checkout for a cart reference: prices it for the locale's country and opens a
/// Klarna payment session.
#[utoipa::path(
    post,
    path = "/api/checkout/sessions",
    tag = "checkout",
    request_body = StartCheckout,
    responses(
        (status = 200, description = "The session, its priced cart and Klarna's client token.", body = CheckoutSession),
        (status = 400, description = "Malformed body; `fields` names the field.", body = ApiError),
        (status = 404, description = "Unknown `cart`.", body = ApiError),
        (status = 413, description = "The body is over 16 KiB.", body = ApiError),
        (status = 422, description = "A `locale` of no Klarna country, one whose currency the cart has no prices in, or a `widget` colour Klarna would refuse (`#RRGGBB` only).", body = ApiError),
        (status = 429, description = "Too many sessions from this client; see `Retry-After`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
        (status = 503, description = "Klarna is not reachable; try again.", body = ApiError),
    ),
)]
async fn start_checkout(
    State(app): State<AppState>,
    ApiJson(req): ApiJson<StartCheckout>,
) -> Result<Json<CheckoutSession>, AppError> {
    let (language, country) = read_locale(&req.locale)?;
    // The widget's colours, checked here so that Klarna never refuses the session for them.
    if let Some(widget) = &req.widget {
        let errors = widget.validate("widget");
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(errors));
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let stored_cart = load_cart(&app, &req.cart).await?;
    let (cart, request) = priced_request(
        &app,
        &id,
        &stored_cart,
        country,
        &language,
        "locale",
        req.widget.as_ref(),
    )?;
    let session = app
        .klarna
        .create_session(&request, &idempotency_key(&format!("session:{id}:create")))
        .await
        .map_err(|e| klarna_failure("creating a session", e))?;
    let stored = StoredSession {
        id,
        klarna_session_id: session.session_id,
        client_token: session.client_token,
        cart_ref: req.cart,
        locale: request.locale,
        language,
        cart,
        created_at: app.clock.now(),
        widget: req.widget,
    };
    app.store.insert_session(&stored).await?;
    Ok(answer(
        &app,
        stored,
        &stored_cart,
        session.payment_method_categories,
    ))
}

/// The shopper picked another billing country: Klarna's purchase country, its locale and the
/// VAT inside the prices follow it. Within one currency Klarna's session is updated (the
/// client token stays valid). Another currency is priced from that currency's own price list
/// (never converted) in a new Klarna session; Klarna documents no call to cancel a payment
/// session, so the old one is left to expire, as WooCommerce's and Klarna's own SFCC
/// integrations do. A country whose currency the cart has no prices in is refused.
#[utoipa::path(
    patch,
    path = "/api/checkout/sessions/{session}",
    tag = "checkout",
    params(("session" = String, Path, description = "Our checkout session id.")),
    request_body = ChangeCountry,
    responses(
        (status = 200, description = "The session, priced for the new country.", body = CheckoutSession),
        (status = 400, description = "Malformed body; `fields` names the field.", body = ApiError),
        (status = 404, description = "Unknown `session`.", body = ApiError),
        (status = 410, description = "Klarna's session expired: start a new checkout.", body = ApiError),
        (status = 413, description = "The body is over 16 KiB.", body = ApiError),
        (status = 422, description = "A `country` Klarna does not sell in, or whose currency the cart has no prices in.", body = ApiError),
        (status = 429, description = "Too many country changes from this client; see `Retry-After`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
        (status = 503, description = "Klarna is not reachable; try again.", body = ApiError),
    ),
)]
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
    let mut stored = app
        .store
        .session(&id)
        .await?
        .ok_or_else(|| unknown_session(&id))?;
    let stored_cart = load_cart(&app, &stored.cart_ref).await?;
    // A new Klarna session (another currency) looks like the first one.
    let (cart, request) = priced_request(
        &app,
        &id,
        &stored_cart,
        country,
        &stored.language,
        "country",
        stored.widget.as_ref(),
    )?;
    let same_currency = cart.currency == stored.cart.currency;
    let updated = if same_currency {
        // One key per update: the shopper's next change is another operation, even when it
        // sends the same body as an earlier one (DE → AT → DE → AT), and Klarna would replay
        // that earlier answer for a repeated key.
        let key = idempotency_key(&format!(
            "session:{}:update:{}",
            stored.klarna_session_id,
            uuid::Uuid::new_v4()
        ));
        match app
            .klarna
            .update_session(&stored.klarna_session_id, &request, &key)
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
            let generation = uuid::Uuid::new_v4();
            let session = app
                .klarna
                .create_session(
                    &request,
                    &idempotency_key(&format!("session:{id}:create:{generation}")),
                )
                .await
                .map_err(|e| klarna_failure("creating a session", e))?;
            stored.klarna_session_id = session.session_id;
            stored.client_token = session.client_token;
            stored.created_at = app.clock.now();
            session.payment_method_categories
        }
    };
    stored.locale = request.locale;
    stored.cart = cart;
    app.store.update_session(&stored).await?;
    Ok(answer(&app, stored, &stored_cart, categories))
}
