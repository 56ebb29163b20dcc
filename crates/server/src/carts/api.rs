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
use axum::routing::{get, post};
use axum::{Json, Router};
use klarna::{Country, Currency};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/merchant/carts", post(register))
        .route("/api/merchant/carts/{cart}", get(read))
}

/// Answer to registering a cart: the reference the browser sends, and where it sells.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub cart: String,
    pub currencies: Vec<Currency>,
    /// The countries whose currency the cart has prices in (Klarna never converts).
    pub countries: Vec<Country>,
}

/// A stored cart as the merchant reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
