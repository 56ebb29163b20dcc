//! The bodies the checkout sends our server and the `data` it gives Klarna's `authorize()`,
//! as plain JS objects with exactly the names and omissions serde wrote for the `crates/klarna`
//! types (`skip_serializing_if`, `rename = "type"`), so the server's serde reads them as
//! before (it refuses unknown fields). `tests/wire_bodies.rs` compares them with literal JSON.

use super::Obj;
use klarna::address::AddressField;
use klarna::api::{ChangeCountry, PlaceOrder, StartCheckout};
use klarna::{Address, Customer, WidgetOptions};
use wasm_bindgen::JsValue;

/// A type written as a JS value.
pub trait ToJs {
    fn to_js(&self) -> JsValue;
}

/// Every non-empty field, under its wire name (`skip_serializing_if = "String::is_empty"`).
impl ToJs for Address {
    fn to_js(&self) -> JsValue {
        AddressField::ALL
            .into_iter()
            .filter(|field| !self.get(*field).is_empty())
            .fold(Obj::new(), |o, field| {
                o.str(field.wire_name(), self.get(field))
            })
            .js()
    }
}

impl ToJs for Customer {
    fn to_js(&self) -> JsValue {
        Obj::new()
            .some_str("type", self.kind.map(|k| k.name()))
            .some_str(
                "organization_entity_type",
                self.organization_entity_type.map(|t| t.wire_name()),
            )
            .some_str(
                "organization_registration_id",
                self.organization_registration_id.as_deref(),
            )
            .some_str("vat_id", self.vat_id.as_deref())
            .js()
    }
}

impl ToJs for WidgetOptions {
    fn to_js(&self) -> JsValue {
        self.colors()
            .into_iter()
            .fold(Obj::new(), |o, (name, value)| {
                o.some_str(name, value.as_deref())
            })
            .some_str("radius_border", self.radius_border.as_deref())
            .js()
    }
}

impl ToJs for StartCheckout {
    fn to_js(&self) -> JsValue {
        Obj::new()
            .str("cart", &self.cart)
            .str("locale", &self.locale)
            .some("widget", self.widget.as_ref())
            .js()
    }
}

impl ToJs for ChangeCountry {
    fn to_js(&self) -> JsValue {
        Obj::new().str("country", &self.country).js()
    }
}

impl ToJs for PlaceOrder {
    fn to_js(&self) -> JsValue {
        Obj::new()
            .str("session", &self.session)
            .str("authorization_token", &self.authorization_token)
            .set("billing_address", &self.billing_address.to_js())
            .some("shipping_address", self.shipping_address.as_ref())
            .some("customer", self.customer.as_ref())
            .js()
    }
}

/// `authorize()`'s `data`: exactly what the order will repeat (the addresses and the company
/// of a B2B cart, as in [`PlaceOrder`]).
pub fn authorize_data(
    billing: &Address,
    shipping: Option<&Address>,
    customer: Option<&Customer>,
) -> JsValue {
    Obj::new()
        .set("billing_address", &billing.to_js())
        .some("shipping_address", shipping)
        .some("customer", customer)
        .js()
}
