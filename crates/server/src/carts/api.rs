//! `POST /api/merchant/carts` (register a cart) and `GET /api/merchant/carts/{cart}` (read it
//! back), for the storefront's backend with a merchant API key. Registering is not guarded by
//! an `Idempotency-Key`: it moves no money, and a retry only leaves an unused cart behind.

use super::{new_id, problems, refusal, Cart, CartLine, CustomerType, Intent, RegisterCart};
use crate::klarna_client::is_plain_id;
use crate::merchant::api::Body;
use crate::merchant::errors::{MerchantCode, MerchantError};
use crate::merchant::keys::MerchantKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use klarna::{Country, Currency};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Each `routes!` line registers a handler and documents it (`crate::openapi`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(read))
}

/// Answer to registering a cart: the reference the browser sends, and where it sells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registered {
    pub cart: String,
    pub currencies: Vec<Currency>,
    /// The countries whose currency the cart has prices in (Klarna never converts).
    pub countries: Vec<Country>,
}

/// A stored cart as the merchant reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CartView {
    pub cart: String,
    pub customer_type: CustomerType,
    pub intent: Intent,
    pub lines: Vec<CartLine>,
    pub currencies: Vec<Currency>,
    pub countries: Vec<Country>,
    /// Unix seconds.
    pub created_at: i64,
}

pub(crate) fn cart_not_found() -> MerchantError {
    MerchantError::on(
        MerchantCode::CartNotFound,
        "cart",
        "No cart with this reference was registered.",
    )
}

/// Registers a cart: its lines, with a price list per currency, for the browser to buy by its
/// reference. Not guarded by an `Idempotency-Key`: it moves no money, and a retry only leaves
/// an unused cart behind.
#[utoipa::path(
    post,
    path = "/api/merchant/carts",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    request_body = RegisterCart,
    responses(
        (status = 201, description = "Registered: the reference the browser sends, and the currencies and countries it sells in.", body = Registered),
        (status = 400, description = "Malformed JSON, an unknown field or a wrong type; `fields` names it (`body` for the whole).", body = MerchantError),
        (status = 401, description = "No API key, or a wrong, revoked or malformed one.", body = MerchantError),
        (status = 422, description = "A value is refused (`invalid_fields`); `fields` names each, as `lines[2].prices.EUR.unit_price`.", body = MerchantError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = MerchantError),
    ),
)]
async fn register(
    State(app): State<AppState>,
    _: MerchantKey,
    Body(body): Body<RegisterCart>,
) -> Result<(StatusCode, Json<Registered>), MerchantError> {
    let found = problems(&body, app.config.us_sales_tax_rate);
    if !found.is_empty() {
        return Err(refusal(found));
    }
    let cart = Cart {
        id: new_id(),
        lines: body.lines,
        customer_type: body.customer_type,
        intent: body.intent,
        created_at: app.clock.now(),
    };
    app.store.insert_cart(&cart).await?;
    tracing::info!(cart = %cart.id, lines = cart.lines.len(), "cart registered");
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            currencies: cart.currencies(),
            countries: crate::catalog::countries(&cart),
            cart: cart.id,
        }),
    ))
}

/// A registered cart, as stored.
#[utoipa::path(
    get,
    path = "/api/merchant/carts/{cart}",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    params(
        ("cart" = String, Path, description = "The cart's reference, as `POST /api/merchant/carts` answered it (`c_…`, or a demo cart's id)."),
    ),
    responses(
        (status = 200, description = "The cart.", body = CartView),
        (status = 401, description = "No API key, or a wrong, revoked or malformed one.", body = MerchantError),
        (status = 404, description = "`cart_not_found`: no cart with this reference.", body = MerchantError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = MerchantError),
    ),
)]
async fn read(
    State(app): State<AppState>,
    _: MerchantKey,
    Path(id): Path<String>,
) -> Result<Json<CartView>, MerchantError> {
    if !is_plain_id(&id) {
        return Err(cart_not_found());
    }
    let cart = app.store.cart(&id).await?.ok_or_else(cart_not_found)?;
    Ok(Json(CartView {
        currencies: cart.currencies(),
        countries: crate::catalog::countries(&cart),
        cart: cart.id,
        customer_type: cart.customer_type,
        intent: cart.intent,
        lines: cart.lines,
        created_at: cart.created_at,
    }))
}
