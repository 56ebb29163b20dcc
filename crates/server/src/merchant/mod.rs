//! The merchant's side of the server: managing orders after checkout (capture on shipment,
//! refund, cancel, release, extend, update), behind API keys, from HTTP or a batch file.

pub mod api;
pub mod batch;
pub mod errors;
pub mod keys;
pub mod ledger;
pub mod operations;
pub mod rules;
pub mod shapes;

use crate::state::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    api::routes()
}
