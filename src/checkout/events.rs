//! The DOM events a storefront hears from `<klarna-checkout>`, each with a typed `detail`
//! (docs/embedding.md lists them). They bubble and are composed, so a listener on the element,
//! any ancestor or the document hears them. No detail ever carries a token: not Klarna's
//! client token, nor the authorization token, nor our server's session id; tests check that.

use super::state::Ctx;
use crate::api::to_js;
use crate::error::CheckoutError;
use klarna::api::{OrderState, PlacedOrder};
use leptos::prelude::*;
use serde::Serialize;

/// `ready`: the checkout has its session and shows the cart. `change`: the shopper chose
/// another payment category, or another billing country re-priced the cart.
#[derive(Serialize)]
pub struct State {
    pub cart: String,
    pub country: &'static str,
    pub currency: &'static str,
    /// In minor units, tax included.
    pub total: i64,
    /// The payment category chosen (`pay_now`, `pay_later`, `pay_over_time`), if any.
    pub category: Option<String>,
    /// The categories Klarna offers for this purchase.
    pub categories: Vec<String>,
}

/// `order-created` (Klarna accepted) and `order-pending` (Klarna's fraud review).
#[derive(Serialize)]
pub struct Order<'a> {
    pub order_id: &'a str,
    pub state: OrderState,
    pub total: i64,
    pub currency: &'static str,
}

/// `cancel`: the shopper closed Klarna's dialog; the checkout stays ready.
#[derive(Serialize)]
pub struct Cancel<'a> {
    pub category: &'a str,
}

/// `error`: something the shopper was told about. `code` is stable (see docs/embedding.md).
#[derive(Serialize)]
pub struct Error {
    pub code: &'static str,
    pub retryable: bool,
}

fn state(ctx: Ctx) -> Option<State> {
    let session = ctx.session.get_untracked()?;
    let refused = ctx.refused.get_untracked();
    Some(State {
        cart: ctx.cart_ref.get_value(),
        country: session.cart.country.code(),
        currency: session.cart.currency.code(),
        total: session.cart.order_amount,
        category: ctx.selected.get_untracked(),
        categories: session
            .categories
            .into_iter()
            .map(|c| c.identifier)
            .filter(|c| !refused.contains(c))
            .collect(),
    })
}

pub fn ready(ctx: Ctx) {
    if let Some(state) = state(ctx) {
        ctx.emit("ready", to_js(&state));
    }
}

pub fn changed(ctx: Ctx) {
    if let Some(state) = state(ctx) {
        ctx.emit("change", to_js(&state));
    }
}

pub fn order(ctx: Ctx, order: &PlacedOrder) {
    let currency = ctx
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.cart.currency.code()))
        .unwrap_or_default();
    let name = if order.state == OrderState::Pending {
        "order-pending"
    } else {
        "order-created"
    };
    ctx.emit(
        name,
        to_js(&Order {
            order_id: &order.order_id,
            state: order.state,
            total: order.order_amount,
            currency,
        }),
    );
}

pub fn cancelled(ctx: Ctx, category: &str) {
    ctx.emit("cancel", to_js(&Cancel { category }));
}

pub fn error(ctx: Ctx, error: &CheckoutError) {
    ctx.emit(
        "error",
        to_js(&Error {
            code: error.code(),
            retryable: error.retryable(),
        }),
    );
}
