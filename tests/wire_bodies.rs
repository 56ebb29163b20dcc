//! What the checkout writes without serde (`klarna_checkout::wire`, issue 11), in headless
//! Chromium: the bodies our server reads (it refuses unknown fields), `authorize()`'s `data`
//! and the `ready`/`change` event detail are, after `JSON.stringify`, the JSON written here
//! from the API's documentation, and the JSON serde wrote for the same values before. Key
//! order is irrelevant: both sides are compared with their keys sorted.
#![cfg(target_arch = "wasm32")]

mod browser;

use klarna::api::{ChangeCountry, PaymentCategory, PlaceOrder, StartCheckout};
use klarna::{Address, Customer, CustomerType, OrganizationEntityType, WidgetOptions};
use klarna_checkout::checkout::events::state_detail;
use klarna_checkout::wire::{authorize_data, ToJs};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `value` as sent (`JSON.stringify`, which is what goes over the wire), parsed again and
/// written with sorted keys.
fn canonical(value: &JsValue) -> String {
    let sent = js_sys::JSON::stringify(value).unwrap();
    let sort = js_sys::Function::new_with_args(
        "json",
        "const sort = v => Array.isArray(v) ? v.map(sort) : (v && typeof v === 'object')
           ? Object.fromEntries(Object.keys(v).sort().map(k => [k, sort(v[k])])) : v;
         return JSON.stringify(sort(JSON.parse(json)));",
    );
    sort.call1(&JsValue::NULL, &sent)
        .unwrap()
        .as_string()
        .unwrap()
}

/// `built` is `literal`, and `serde` (what serde wrote) is too.
fn same(built: JsValue, literal: &str, serde: JsValue) {
    let literal = canonical(&js_sys::JSON::parse(literal).unwrap());
    assert_eq!(canonical(&built), literal);
    assert_eq!(canonical(&serde), literal, "serde wrote otherwise");
}

fn billing() -> Address {
    Address {
        given_name: "Testperson-de".into(),
        family_name: "Approved".into(),
        email: "customer@email.de".into(),
        phone: "+4930123456".into(),
        street_address: "Hellersbergstraße 14".into(),
        postal_code: "41460".into(),
        city: "Neuss".into(),
        country: "DE".into(),
        ..Address::default()
    }
}

const BILLING: &str = r#"{"given_name": "Testperson-de", "family_name": "Approved",
  "email": "customer@email.de", "phone": "+4930123456",
  "street_address": "Hellersbergstraße 14", "postal_code": "41460", "city": "Neuss",
  "country": "DE"}"#;

fn company() -> Customer {
    Customer {
        kind: Some(CustomerType::Organization),
        organization_entity_type: Some(OrganizationEntityType::LimitedCompany),
        organization_registration_id: Some("HRB 12345".into()),
        vat_id: Some("DE123456789".into()),
    }
}

const COMPANY: &str = r#"{"type": "organization", "organization_entity_type": "LIMITED_COMPANY",
  "organization_registration_id": "HRB 12345", "vat_id": "DE123456789"}"#;

#[wasm_bindgen_test]
fn starting_a_checkout() {
    let mut body = StartCheckout {
        cart: "demo".into(),
        locale: "de-DE".into(),
        widget: None,
    };
    same(
        body.to_js(),
        r#"{"cart": "demo", "locale": "de-DE"}"#,
        browser::server_js(&body),
    );
    body.widget = Some(WidgetOptions {
        color_border: Some("#857F79".into()),
        color_text: Some("#17120F".into()),
        radius_border: Some("3px".into()),
        ..WidgetOptions::default()
    });
    same(
        body.to_js(),
        r##"{"cart": "demo", "locale": "de-DE",
            "widget": {"color_border": "#857F79", "color_text": "#17120F", "radius_border": "3px"}}"##,
        browser::server_js(&body),
    );
    body.widget = Some(WidgetOptions {
        color_border_selected: Some("#010203".into()),
        color_details: Some("#5C5752".into()),
        ..WidgetOptions::default()
    });
    same(
        body.to_js(),
        r##"{"cart": "demo", "locale": "de-DE",
            "widget": {"color_border_selected": "#010203", "color_details": "#5C5752"}}"##,
        browser::server_js(&body),
    );
}

#[wasm_bindgen_test]
fn changing_the_country() {
    let body = ChangeCountry {
        country: "AT".into(),
    };
    same(
        body.to_js(),
        r#"{"country": "AT"}"#,
        browser::server_js(&body),
    );
}

#[wasm_bindgen_test]
fn placing_a_consumers_order_leaves_out_what_is_not_there() {
    let body = PlaceOrder {
        session: "cs_5f0c8a1e2b7d4c39".into(),
        authorization_token: "b4bd3423-24e3".into(),
        billing_address: billing(),
        shipping_address: None,
        customer: None,
    };
    same(
        body.to_js(),
        &format!(
            r#"{{"session": "cs_5f0c8a1e2b7d4c39", "authorization_token": "b4bd3423-24e3",
                "billing_address": {BILLING}}}"#
        ),
        browser::server_js(&body),
    );
    // Every address field, each under its wire name.
    let mut full = billing();
    full.street_address2 = "c/o Klarna".into();
    full.region = "NW".into();
    full.organization_name = "Klarna Bank AB".into();
    let body = PlaceOrder {
        shipping_address: Some(full),
        ..body
    };
    same(
        body.to_js(),
        &format!(
            r#"{{"session": "cs_5f0c8a1e2b7d4c39", "authorization_token": "b4bd3423-24e3",
                "billing_address": {BILLING},
                "shipping_address": {{"given_name": "Testperson-de", "family_name": "Approved",
                  "email": "customer@email.de", "phone": "+4930123456",
                  "street_address": "Hellersbergstraße 14", "street_address2": "c/o Klarna",
                  "postal_code": "41460", "city": "Neuss", "region": "NW", "country": "DE",
                  "organization_name": "Klarna Bank AB"}}}}"#
        ),
        browser::server_js(&body),
    );
}

#[wasm_bindgen_test]
fn placing_a_companys_order_and_authorizing_it() {
    let body = PlaceOrder {
        session: "cs_1".into(),
        authorization_token: "tok".into(),
        billing_address: billing(),
        shipping_address: Some(billing()),
        customer: Some(company()),
    };
    same(
        body.to_js(),
        &format!(
            r#"{{"session": "cs_1", "authorization_token": "tok", "billing_address": {BILLING},
                "shipping_address": {BILLING}, "customer": {COMPANY}}}"#
        ),
        browser::server_js(&body),
    );
    let data = authorize_data(&billing(), Some(&billing()), Some(&company()));
    let literal = format!(
        r#"{{"billing_address": {BILLING}, "shipping_address": {BILLING}, "customer": {COMPANY}}}"#
    );
    let serde = browser::server_js(&authorize_data_of(&body));
    same(data, &literal, serde);
    // A consumer's: the billing address alone.
    same(
        authorize_data(&billing(), None, None),
        &format!(r#"{{"billing_address": {BILLING}}}"#),
        browser::server_js(&AuthorizeData {
            billing_address: &billing(),
            shipping_address: None,
            customer: None,
        }),
    );
    // A customer with only its type (a company the form could not complete).
    let bare = Customer {
        kind: Some(CustomerType::Organization),
        ..Customer::default()
    };
    same(
        bare.to_js(),
        r#"{"type": "organization"}"#,
        browser::server_js(&bare),
    );
}

/// The serde struct the checkout used for `authorize()`'s `data` before issue 11.
#[derive(serde::Serialize)]
struct AuthorizeData<'a> {
    billing_address: &'a Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_address: Option<&'a Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<&'a Customer>,
}

fn authorize_data_of(order: &PlaceOrder) -> AuthorizeData<'_> {
    AuthorizeData {
        billing_address: &order.billing_address,
        shipping_address: order.shipping_address.as_ref(),
        customer: order.customer.as_ref(),
    }
}

/// The serde struct of the `ready`/`change` detail before issue 11.
#[derive(serde::Serialize)]
struct State {
    cart: String,
    country: &'static str,
    currency: &'static str,
    total: i64,
    category: Option<String>,
    categories: Vec<String>,
}

#[wasm_bindgen_test]
fn the_ready_detail_names_no_category_as_null() {
    let mut session = browser::session("s", "ct", "Mug", 2, &["pay_now", "pay_later"]);
    session.categories.push(PaymentCategory {
        identifier: "pay_over_time".into(),
        name: "Financing".into(),
        badge_url: None,
    });
    let serde = |category: Option<&str>, categories: &[&str]| {
        browser::server_js(&State {
            cart: "c_42".into(),
            country: "DE",
            currency: "EUR",
            total: 4980,
            category: category.map(str::to_string),
            categories: categories.iter().map(|c| c.to_string()).collect(),
        })
    };
    same(
        state_detail("c_42", &session, None, &["pay_now".into()]),
        r#"{"cart": "c_42", "country": "DE", "currency": "EUR", "total": 4980,
            "category": null, "categories": ["pay_later", "pay_over_time"]}"#,
        serde(None, &["pay_later", "pay_over_time"]),
    );
    same(
        state_detail("c_42", &session, Some("pay_later"), &[]),
        r#"{"cart": "c_42", "country": "DE", "currency": "EUR", "total": 4980,
            "category": "pay_later", "categories": ["pay_now", "pay_later", "pay_over_time"]}"#,
        serde(
            Some("pay_later"),
            &["pay_now", "pay_later", "pay_over_time"],
        ),
    );
}
