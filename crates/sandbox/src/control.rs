//! Test-only knobs: move or set the clock, inject faults, reset, count Klarna's orders (with
//! the checkout each belongs to) and the answers a fault holds back.

use crate::faults::Faults;
use crate::state::Sandbox;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/_control/clock", post(change_clock))
        .route("/_control/faults", put(set_faults))
        .route("/_control/reset", post(reset))
        .route("/_control/orders", get(orders))
        .route("/_control/held_answers", get(held_answers))
}

/// `{"advance_secs": N}` moves the clock by N seconds, `{"set": T}` to the Unix time T; one of
/// the two, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_secs: Option<i64>,
    set: Option<i64>,
}

#[derive(Serialize)]
struct Now {
    now: i64,
}

async fn change_clock(
    State(sandbox): State<Sandbox>,
    Json(body): Json<ClockChange>,
) -> Result<Json<Now>, (StatusCode, &'static str)> {
    match (body.advance_secs, body.set) {
        (Some(secs), None) => sandbox.clock.advance(secs),
        (None, Some(at)) => sandbox.clock.set(at),
        _ => {
            return Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "give exactly one of advance_secs and set",
            ))
        }
    }
    Ok(Json(Now {
        now: sandbox.clock.now(),
    }))
}

async fn set_faults(State(sandbox): State<Sandbox>, Json(faults): Json<Faults>) -> StatusCode {
    sandbox.set_faults(faults);
    StatusCode::NO_CONTENT
}

async fn reset(State(sandbox): State<Sandbox>) -> StatusCode {
    sandbox.reset();
    StatusCode::NO_CONTENT
}

/// The orders Klarna created, as a merchant portal would list them.
#[derive(Serialize)]
struct OrderSummary {
    order_id: String,
    authorization_token: String,
    order_amount: i64,
    /// Our checkout session id, as the order request carried it: doubles per checkout show here.
    merchant_reference1: Option<String>,
    fraud_status: klarna::payments::FraudStatus,
    created_at: i64,
}

#[derive(Serialize)]
struct Held {
    held_answers: usize,
}

/// Orders committed whose answer is still held back (`answer_delay_ms`).
async fn held_answers(State(sandbox): State<Sandbox>) -> Json<Held> {
    Json(Held {
        held_answers: sandbox.held_answers(),
    })
}

async fn orders(State(sandbox): State<Sandbox>) -> Json<Vec<OrderSummary>> {
    let inner = sandbox.lock();
    Json(
        inner
            .orders
            .iter()
            .map(|o| OrderSummary {
                order_id: o.order.order_id.clone(),
                authorization_token: o.authorization_token.clone(),
                order_amount: o.request.order_amount,
                merchant_reference1: o.request.merchant_reference1.clone(),
                fraud_status: o.order.fraud_status,
                created_at: o.created_at,
            })
            .collect(),
    )
}
