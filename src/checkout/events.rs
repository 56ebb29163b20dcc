//! The DOM events a storefront hears from `<klarna-checkout>`, each with a typed `detail`
//! (docs/embedding.md lists them). They bubble and are composed, so a listener on the element,
//! any ancestor or the document hears them. No detail ever carries a token: not Klarna's
//! client token, nor the authorization token, nor our server's session id; tests check that.

use super::state::Ctx;
use crate::error::CheckoutError;
use crate::wire::{strings, Obj};
use klarna::api::{CheckoutSession, OrderState, PlacedOrder};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// The `detail` of `ready` (the checkout has its session and shows the cart) and `change`
/// (the shopper chose another payment category, or another billing country re-priced the
/// cart): `{cart, country, currency, total, category, categories}`. `total` is in minor units,
/// tax included; `category` is the one chosen (`pay_now`, `pay_later`, `pay_over_time`) or
/// `null`; `categories` are those Klarna offers for this purchase.
fn state(ctx: Ctx) -> Option<JsValue> {
    let session = ctx.session.get_untracked()?;
    let refused = ctx.refused.get_untracked();
    let category = ctx.selected.get_untracked();
    Some(state_detail(
        &ctx.cart_ref.get_value(),
        &session,
        category.as_deref(),
        &refused,
    ))
}

/// The `detail` of `ready` and `change` for the storefront's cart reference `cart`.
pub fn state_detail(
    cart: &str,
    session: &CheckoutSession,
    category: Option<&str>,
    refused: &[String],
) -> JsValue {
    let categories = session
        .categories
        .iter()
        .map(|c| c.identifier.as_str())
        .filter(|c| !refused.iter().any(|r| r == c));
    Obj::new()
        .str("cart", cart)
        .str("country", session.cart.country.code())
        .str("currency", session.cart.currency.code())
        .int("total", session.cart.order_amount)
        .set(
            "category",
            &category.map_or(JsValue::NULL, JsValue::from_str),
        )
        .set("categories", &strings(categories))
        .js()
}

pub fn ready(ctx: Ctx) {
    if let Some(state) = state(ctx) {
        ctx.emit("ready", state);
    }
}

pub fn changed(ctx: Ctx) {
    if let Some(state) = state(ctx) {
        ctx.emit("change", state);
    }
}

/// `order-created` (Klarna accepted) and `order-pending` (Klarna's fraud review):
/// `{order_id, state, total, currency}`.
pub fn order(ctx: Ctx, order: &PlacedOrder) {
    let currency = ctx
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.cart.currency.code()))
        .unwrap_or_default();
    let (name, state) = match order.state {
        OrderState::Pending => ("order-pending", "pending"),
        OrderState::Accepted => ("order-created", "accepted"),
        OrderState::Rejected => ("order-created", "rejected"),
    };
    ctx.emit(
        name,
        Obj::new()
            .str("order_id", &order.order_id)
            .str("state", state)
            .int("total", order.order_amount)
            .str("currency", currency)
            .js(),
    );
}

/// `cancel`: the shopper closed Klarna's dialog; the checkout stays ready. `{category}`.
pub fn cancelled(ctx: Ctx, category: &str) {
    ctx.emit("cancel", Obj::new().str("category", category).js());
}

/// `error`: something the shopper was told about, `{code, retryable}`. `code` is stable (see
/// docs/embedding.md).
pub fn error(ctx: Ctx, error: &CheckoutError) {
    ctx.emit(
        "error",
        Obj::new()
            .str("code", error.code())
            .bool("retryable", error.retryable())
            .js(),
    );
}
