//! The merchant API for customer tokens: read a token (`GET /api/merchant/customer-tokens/{ref}`,
//! or the one an order made: `GET /api/merchant/orders/{order_id}/customer-token`), charge it
//! (`POST …/{ref}/orders`, `Idempotency-Key` required; `201`, or `202` while Klarna's answer is
//! not in), cancel it (`POST …/{ref}/cancel`, idempotent by nature: no key needed).

use super::charge::{charge, Charged, Outcome};
use super::store::TokenRow;
use super::{klarna_token, send_cancel};
use crate::carts::api::cart_not_found;
use crate::klarna_client::is_plain_id;
use crate::merchant::api::{Body, IdempotencyKey};
use crate::merchant::errors::{MerchantCode, MerchantError};
use crate::merchant::keys::MerchantKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use klarna::customer_token::TokenOrderRequest;
use klarna::rules::check_order;
use klarna::{price_cart, Country, OrderLine, TaxMode};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Each `routes!` line registers a handler and documents it (`crate::openapi`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read))
        .routes(routes!(charge_token))
        .routes(routes!(cancel))
        .routes(routes!(of_order))
}

/// A customer token as the merchant sees it (never Klarna's token id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenView {
    pub customer_token: String,
    /// `pending`, `active`, `failed` or `cancelled`.
    pub state: String,
    /// The order whose authorization made the token.
    pub order_id: String,
    pub purchase_country: String,
    pub purchase_currency: String,
    pub created_at: i64,
    /// Klarna's own status (`ACTIVE`, `CANCELLED`, `SUSPENDED`) when Klarna answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub klarna_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_type: Option<String>,
}

/// `POST …/{ref}/orders`: a registered cart (priced for the token's country), or the lines
/// and amounts themselves, in the token's currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeBody {
    #[serde(default)]
    pub cart: Option<String>,
    #[serde(default)]
    pub order_lines: Option<Vec<OrderLine>>,
    #[serde(default)]
    pub order_amount: Option<i64>,
    #[serde(default)]
    pub order_tax_amount: Option<i64>,
    #[serde(default)]
    pub purchase_currency: Option<String>,
    #[serde(default)]
    pub merchant_reference1: Option<String>,
    #[serde(default)]
    pub merchant_reference2: Option<String>,
    #[serde(default)]
    pub auto_capture: bool,
}

fn not_found() -> MerchantError {
    MerchantError::on(
        MerchantCode::CustomerTokenNotFound,
        "customer_token",
        "No customer token with this reference.",
    )
}

async fn token_row(app: &AppState, id: &str) -> Result<TokenRow, MerchantError> {
    if !is_plain_id(id) {
        return Err(not_found());
    }
    app.store.token(id).await?.ok_or_else(not_found)
}

async fn view(app: &AppState, row: TokenRow) -> TokenView {
    // Klarna's word on an issued token, if Klarna answers; the row stands either way.
    let klarna = match klarna_token(app, &row) {
        Some(token) => app.klarna.read_customer_token(&token).await.ok(),
        None => None,
    };
    TokenView {
        customer_token: row.id,
        state: row.state,
        order_id: row.klarna_order_id,
        purchase_country: row.purchase_country,
        purchase_currency: row.purchase_currency,
        created_at: row.created_at,
        klarna_status: klarna.as_ref().map(|k| k.status.clone()),
        payment_method_type: klarna.map(|k| k.payment_method_type),
    }
}

/// A customer token: its state here and, when Klarna answers, Klarna's.
#[utoipa::path(
    get,
    path = "/api/merchant/customer-tokens/{customer_token}",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(
        ("customer_token" = String, Path, description = "The customer token's reference (`ctk_…`), as `GET /api/merchant/orders/{order_id}/customer-token` gives it; never Klarna's token id."),
    ),
    responses(
        (status = 200, description = "The token.", body = TokenView),
        (status = 401, description = "No API key, or a wrong, revoked or malformed one.", body = MerchantError),
        (status = 404, description = "`customer_token_not_found`: no customer token with this reference.", body = MerchantError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = MerchantError),
    ),
)]
async fn read(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, MerchantError> {
    let row = token_row(&app, &id).await?;
    Ok(Json(view(&app, row).await))
}

/// The customer token an order's purchase (`intent: buy_and_tokenize`) made.
#[utoipa::path(
    get,
    path = "/api/merchant/orders/{order_id}/customer-token",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(
        ("order_id" = String, Path, description = "Klarna's order id of an order placed through this shop."),
    ),
    responses(
        (status = 200, description = "The order's token.", body = TokenView),
        (status = 401, description = "No API key, or a wrong, revoked or malformed one.", body = MerchantError),
        (status = 404, description = "`customer_token_not_found`: no such order, or its purchase made no customer token (`fields` names `order_id`).", body = MerchantError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = MerchantError),
    ),
)]
async fn of_order(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(order_id): Path<String>,
) -> Result<Json<TokenView>, MerchantError> {
    // The input at fault is the order: it names `order_id`.
    let none = || {
        MerchantError::on(
            MerchantCode::CustomerTokenNotFound,
            "order_id",
            "No customer token was made for an order with this id.",
        )
    };
    if !is_plain_id(&order_id) {
        return Err(none());
    }
    let row = app
        .store
        .token_of_order(&order_id)
        .await?
        .ok_or_else(none)?;
    Ok(Json(view(&app, row).await))
}

fn text_ok(field: &str, value: &Option<String>) -> Result<(), MerchantError> {
    match value {
        Some(v) if v.chars().count() > 255 || v.chars().any(char::is_control) => {
            Err(MerchantError::invalid(
                field,
                format!("{field}: at most 255 characters, no control characters."),
            ))
        }
        _ => Ok(()),
    }
}

/// Klarna's order body for the charge, checked as Klarna checks it.
async fn order_request(
    app: &AppState,
    token: &TokenRow,
    body: ChargeBody,
) -> Result<TokenOrderRequest, MerchantError> {
    text_ok("merchant_reference1", &body.merchant_reference1)?;
    text_ok("merchant_reference2", &body.merchant_reference2)?;
    if let Some(currency) = &body.purchase_currency {
        if currency != &token.purchase_currency {
            return Err(MerchantError::invalid(
                "purchase_currency",
                format!(
                    "purchase_currency: this token charges in {} only.",
                    token.purchase_currency
                ),
            ));
        }
    }
    let country = Country::from_code(&token.purchase_country)
        .ok_or_else(|| MerchantError::internal("a charge", "the token's country is unknown"))?;
    let (order_lines, order_amount, order_tax_amount) = match (body.cart, body.order_lines) {
        (Some(cart_ref), None) => {
            if body.order_amount.is_some() || body.order_tax_amount.is_some() {
                return Err(MerchantError::invalid(
                    "order_amount",
                    "order_amount: a cart's amounts come from the cart; send the cart or the lines, not both.",
                ));
            }
            if !is_plain_id(&cart_ref) {
                return Err(cart_not_found());
            }
            let cart = app.store.cart(&cart_ref).await?.ok_or_else(cart_not_found)?;
            let items = crate::catalog::cart(&cart, country).map_err(|_| {
                MerchantError::invalid(
                    "cart",
                    format!("cart: has no prices in {}, the token's currency.", token.purchase_currency),
                )
            })?;
            let priced = price_cart(
                &items,
                country,
                TaxMode::for_country(country, app.config.us_sales_tax_rate),
            )
            .map_err(|e| MerchantError::invalid("cart", format!("cart: {e}")))?;
            (priced.order_lines, priced.order_amount, priced.order_tax_amount)
        }
        (None, Some(lines)) => {
            let (Some(amount), Some(tax)) = (body.order_amount, body.order_tax_amount) else {
                return Err(MerchantError::invalid(
                    "order_amount",
                    "order_amount and order_tax_amount are required with order_lines.",
                ));
            };
            let mut bad = check_order(&lines, amount, tax, country.uses_sales_tax());
            if lines.is_empty() && !bad.contains(&"order_lines".to_string()) {
                bad.push("order_lines".into());
            }
            if amount < 1 {
                bad.push("order_amount".into());
            }
            if !bad.is_empty() {
                let mut e = MerchantError::new(
                    MerchantCode::InvalidFields,
                    format!("Klarna would refuse these values: {}", bad.join(", ")),
                );
                e.fields = bad;
                return Err(e);
            }
            (lines, amount, tax)
        }
        _ => {
            return Err(MerchantError::invalid(
                "cart",
                "Send either a registered cart (`cart`) or `order_lines` with `order_amount` and `order_tax_amount`.",
            ))
        }
    };
    Ok(TokenOrderRequest {
        purchase_currency: token.purchase_currency.clone(),
        order_amount,
        order_tax_amount,
        order_lines,
        merchant_reference1: body.merchant_reference1,
        merchant_reference2: body.merchant_reference2,
        merchant_urls: None,
        auto_capture: body.auto_capture,
    })
}

/// Charges the token: a new Klarna order for a registered cart (priced for the token's
/// country) or for the lines and amounts given, in the token's currency.
#[utoipa::path(
    post,
    path = "/api/merchant/customer-tokens/{customer_token}/orders",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(
        ("customer_token" = String, Path, description = "The customer token's reference (`ctk_…`), as `GET /api/merchant/orders/{order_id}/customer-token` gives it; never Klarna's token id."),
        ("Idempotency-Key" = String, Header, description = "The merchant's name for this one charge (1 to 255 visible ASCII characters); a retry with the same key charges once."),
    ),
    request_body = ChargeBody,
    responses(
        (status = 201, description = "Charged (`state` `done`): Klarna's order.", body = Charged),
        (status = 202, description = "Sent, Klarna's answer not in yet (`state` `pending`): it is sent again with the same key until Klarna answers; the same request with the same `Idempotency-Key` tells how it ended. Never a reason to charge under a new key.", body = Charged),
        (status = 400, description = "Malformed body, or no `Idempotency-Key`; `fields` names the input.", body = MerchantError),
        (status = 401, description = "No API key, or a wrong, revoked or malformed one.", body = MerchantError),
        (status = 404, description = "`customer_token_not_found` (no such token) or `cart_not_found` (no such `cart`).", body = MerchantError),
        (status = 409, description = "`not_allowed`: the token is cancelled, refused, or its order is in Klarna's fraud review, or Klarna refused the charge; `idempotency_key_reused`: the key was used for another charge; `operation_unresolved`: Klarna never answered this charge within its 24 hours of idempotency, so it is not sent again.", body = MerchantError),
        (status = 422, description = "A value is refused (`invalid_fields`); `fields` names each.", body = MerchantError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = MerchantError),
        (status = 503, description = "Klarna did not answer, or has not issued the token yet; retry with the same `Idempotency-Key`.", body = MerchantError),
    ),
)]
async fn charge_token(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(id): Path<String>,
    key: IdempotencyKey,
    Body(body): Body<ChargeBody>,
) -> Result<(StatusCode, Json<Charged>), MerchantError> {
    let token = token_row(&app, &id).await?;
    let request = order_request(&app, &token, body).await?;
    match charge(&app, &token, &key.0, request).await? {
        Outcome::Done(done) => Ok((StatusCode::CREATED, Json(done))),
        // Klarna's answer is not in yet: it will be finished; the same request with the same
        // key tells how it ended. Never a reason to charge under a new key.
        Outcome::Pending(pending) => Ok((StatusCode::ACCEPTED, Json(pending))),
    }
}

/// Cancels the token here at once (no new charge from now on) and at Klarna; if Klarna does
/// not answer, the worker tells it later. Cancelling again changes nothing, so no
/// `Idempotency-Key` is needed (one sent is ignored).
#[utoipa::path(
    post,
    path = "/api/merchant/customer-tokens/{customer_token}/cancel",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(
        ("customer_token" = String, Path, description = "The customer token's reference (`ctk_…`), as `GET /api/merchant/orders/{order_id}/customer-token` gives it; never Klarna's token id."),
    ),
    responses(
        (status = 200, description = "Cancelled (or already so): the token afterwards.", body = TokenView),
        (status = 401, description = "No API key, or a wrong, revoked or malformed one.", body = MerchantError),
        (status = 404, description = "`customer_token_not_found`: no customer token with this reference.", body = MerchantError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = MerchantError),
    ),
)]
async fn cancel(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, MerchantError> {
    let row = token_row(&app, &id).await?;
    if row.state != "cancelled" {
        app.store.cancel_token(&row.id, app.clock.now()).await?;
    }
    if !row.cancel_sent {
        send_cancel(&app, &row).await?;
    }
    let row = token_row(&app, &id).await?;
    Ok(Json(view(&app, row).await))
}
