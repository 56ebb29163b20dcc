//! The merchant API (`/api/merchant/…`): the shop's own systems (ERP, warehouse, scripts) call
//! it to manage orders after checkout (capture on shipment, refund, cancel, release, extend,
//! update), each with an API key (`keys.rs`) that an operator creates and revokes with the
//! server's `api-key` subcommand (`cli.rs`); a batch file does the same from the command line
//! (`batch.rs`, `batch_run.rs`).

pub mod api;
mod api_doc;
pub mod batch;
pub mod batch_run;
pub mod cli;
pub mod errors;
pub mod keys;
pub mod ledger;
pub mod operations;
pub mod rules;
pub mod shapes;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Json;
use errors::MerchantError;
use keys::MerchantKey;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `GET /api/merchant/whoami`: which key the caller used, so a merchant can check its set-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WhoAmI {
    pub key_id: String,
    pub name: String,
}

/// The merchant API takes bigger bodies than the shopper's endpoints: a capture may carry up to
/// 500 shipping entries and an order's lines.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(whoami))
        .merge(api::routes())
        .merge(crate::carts::api::routes())
        .merge(crate::recurring::api::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Which API key the call was made with.
#[utoipa::path(
    get,
    path = "/api/merchant/whoami",
    tag = "merchant",
    security(("merchant_api_key" = [])),
    responses(
        (status = 200, description = "The key's id and name.", body = WhoAmI),
        (status = 401, description = "No API key, or a wrong, revoked or malformed one.", body = MerchantError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = MerchantError),
    ),
)]
async fn whoami(MerchantKey(key): MerchantKey) -> Json<WhoAmI> {
    Json(WhoAmI {
        key_id: key.id,
        name: key.name,
    })
}
