//! Our server's checkout session read without serde (`klarna_checkout::wire`, issue 11), in
//! headless Chromium (orders and errors: `wire_orders.rs`): literal JSON as the server writes
//! it decodes into the browser's types, missing `#[serde(default)]` fields take their
//! defaults, a missing required field or a value of the wrong type is no answer, and whatever
//! serde writes for these types reads back unchanged.
#![cfg(target_arch = "wasm32")]

mod browser;

use klarna::api::{CheckoutSession, ErrorCode, OrderState, PaymentCategory};
use klarna::{Country, Currency, CustomerType, OrderLineType};
use klarna_checkout::wire::{decode, FromJs};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn parse(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

/// `json` with `path` (`cart.order_lines.0.name`) deleted or, with `Some`, set to that JSON.
fn edited(json: &str, path: &str, to: Option<&str>) -> JsValue {
    let root = parse(json);
    let (parents, last) = path.rsplit_once('.').unwrap_or(("", path));
    let mut target = root.clone();
    for key in parents.split('.').filter(|k| !k.is_empty()) {
        target = js_sys::Reflect::get(&target, &key.into()).unwrap();
    }
    match to {
        Some(v) => js_sys::Reflect::set(&target, &last.into(), &parse(v)).unwrap(),
        None => {
            js_sys::Reflect::delete_property(target.unchecked_ref::<js_sys::Object>(), &last.into())
                .unwrap()
        }
    };
    root
}

/// `POST /api/checkout/sessions` for the demo cart in Germany, as the server answers it.
const SESSION: &str = r#"{
  "session": "cs_5f0c8a1e2b7d4c39",
  "client_token": "eyJhbGciOiJSUzI1NiJ9.sandbox.sig",
  "categories": [
    {"identifier": "pay_later", "name": "Pay later.",
     "badge_url": "https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg"},
    {"identifier": "pay_over_time", "name": "Financing"}
  ],
  "cart": {
    "currency": "EUR",
    "country": "DE",
    "order_lines": [
      {"type": "physical", "reference": "TSHIRT-ORG-M", "name": "Organic cotton T-shirt",
       "quantity": 2, "unit_price": 2490, "tax_rate": 1900, "total_amount": 4980,
       "total_discount_amount": 0, "total_tax_amount": 795},
      {"type": "physical", "reference": "MUG-ENAMEL", "name": "Enamel camping mug",
       "quantity": 1, "unit_price": 1295, "tax_rate": 1900, "total_amount": 1165,
       "total_discount_amount": 130, "total_tax_amount": 186},
      {"type": "shipping_fee", "reference": "SHIP-STD", "name": "Standard shipping",
       "quantity": 1, "unit_price": 495, "tax_rate": 1900, "total_amount": 495,
       "total_discount_amount": 0, "total_tax_amount": 79}
    ],
    "order_amount": 6640,
    "order_tax_amount": 1060
  },
  "locale": "de-DE",
  "sdk_url": "/sandbox/kp/lib/v1/api.js",
  "expires_in_secs": 172800,
  "countries": ["AT", "DE", "FI"],
  "customer_type": "person"
}"#;

fn line(
    kind: OrderLineType,
    reference: &str,
    name: &str,
    quantity: i64,
    price: (i64, i64, i64, i64),
) -> klarna::OrderLine {
    let (unit_price, total_amount, discount, tax) = price;
    klarna::OrderLine {
        kind: Some(kind),
        reference: Some(reference.into()),
        name: name.into(),
        quantity,
        quantity_unit: None,
        unit_price,
        tax_rate: 1900,
        total_amount,
        total_discount_amount: discount,
        total_tax_amount: tax,
        image_url: None,
        product_url: None,
    }
}

fn expected_session() -> CheckoutSession {
    use OrderLineType::{Physical, ShippingFee};
    CheckoutSession {
        session: "cs_5f0c8a1e2b7d4c39".into(),
        client_token: "eyJhbGciOiJSUzI1NiJ9.sandbox.sig".into(),
        categories: vec![
            PaymentCategory {
                identifier: "pay_later".into(),
                name: "Pay later.".into(),
                badge_url: Some(
                    "https://x.klarnacdn.net/payment-method/assets/badges/generic/klarna.svg"
                        .into(),
                ),
            },
            PaymentCategory {
                identifier: "pay_over_time".into(),
                name: "Financing".into(),
                badge_url: None,
            },
        ],
        cart: klarna::PricedCart {
            currency: Currency::EUR,
            country: Country::DE,
            order_lines: vec![
                line(
                    Physical,
                    "TSHIRT-ORG-M",
                    "Organic cotton T-shirt",
                    2,
                    (2490, 4980, 0, 795),
                ),
                line(
                    Physical,
                    "MUG-ENAMEL",
                    "Enamel camping mug",
                    1,
                    (1295, 1165, 130, 186),
                ),
                line(
                    ShippingFee,
                    "SHIP-STD",
                    "Standard shipping",
                    1,
                    (495, 495, 0, 79),
                ),
            ],
            order_amount: 6640,
            order_tax_amount: 1060,
        },
        locale: "de-DE".into(),
        sdk_url: "/sandbox/kp/lib/v1/api.js".into(),
        expires_in_secs: 172_800,
        countries: vec![Country::AT, Country::DE, Country::FI],
        customer_type: CustomerType::Person,
    }
}

#[wasm_bindgen_test]
fn a_session_reads_as_the_server_wrote_it() {
    assert_eq!(decode(&parse(SESSION)), Some(expected_session()));
}

#[wasm_bindgen_test]
fn every_required_field_is_required() {
    for path in [
        "session",
        "client_token",
        "categories",
        "cart",
        "locale",
        "sdk_url",
        "expires_in_secs",
        "categories.0.identifier",
        "categories.0.name",
        "cart.currency",
        "cart.country",
        "cart.order_lines",
        "cart.order_amount",
        "cart.order_tax_amount",
        "cart.order_lines.0.name",
        "cart.order_lines.0.quantity",
        "cart.order_lines.0.unit_price",
        "cart.order_lines.0.total_amount",
    ] {
        assert_eq!(
            decode::<CheckoutSession>(&edited(SESSION, path, None)),
            None,
            "{path} missing"
        );
    }
}

#[wasm_bindgen_test]
fn defaulted_fields_may_be_missing() {
    // An older server sent neither the countries nor the customer type.
    let mut expected = expected_session();
    expected.countries = Vec::new();
    let session = edited(SESSION, "countries", None);
    assert_eq!(decode::<CheckoutSession>(&session), Some(expected.clone()));
    let session = edited(SESSION, "customer_type", None);
    expected = expected_session();
    expected.customer_type = CustomerType::Person;
    assert_eq!(decode::<CheckoutSession>(&session), Some(expected));
    // A bare order line: only name, quantity, unit price and total.
    let bare = r#"{"currency": "SEK", "country": "SE", "order_lines": [
        {"name": "Gift", "quantity": 1, "unit_price": 100, "total_amount": 100}],
        "order_amount": 100, "order_tax_amount": 0}"#;
    let cart: klarna::PricedCart = decode(&parse(bare)).unwrap();
    let l = &cart.order_lines[0];
    assert_eq!(
        (l.kind, l.reference.as_deref(), l.tax_rate),
        (None, None, 0)
    );
    assert_eq!((l.total_discount_amount, l.total_tax_amount), (0, 0));
    // `null` is `None` for an optional field.
    let session = edited(SESSION, "categories.0.badge_url", Some("null"));
    let decoded: CheckoutSession = decode(&session).unwrap();
    assert_eq!(decoded.categories[0].badge_url, None);
    let b2b = edited(SESSION, "customer_type", Some(r#""organization""#));
    let decoded: CheckoutSession = decode(&b2b).unwrap();
    assert_eq!(decoded.customer_type, CustomerType::Organization);
}

#[wasm_bindgen_test]
fn values_of_the_wrong_type_are_refused() {
    for (path, value) in [
        ("expires_in_secs", r#""172800""#),
        ("expires_in_secs", "1.5"),
        ("expires_in_secs", "9007199254740993"),
        ("expires_in_secs", "null"),
        ("session", "42"),
        ("categories", r#""pay_later""#),
        ("categories", "{}"),
        ("countries", "null"),
        ("countries", r#"["DE", "XX"]"#),
        ("customer_type", r#""company""#),
        ("customer_type", "null"),
        ("cart", "[]"),
        ("cart.country", r#""de""#),
        ("cart.currency", r#""eur""#),
        ("cart.order_amount", "66.4"),
        ("cart.order_lines.0.type", r#""service""#),
        ("cart.order_lines.0.tax_rate", "null"),
        ("cart.order_lines.0.quantity", "true"),
        ("categories.0.badge_url", "false"),
    ] {
        assert_eq!(
            decode::<CheckoutSession>(&edited(SESSION, path, Some(value))),
            None,
            "{path} = {value}"
        );
    }
    assert_eq!(decode::<CheckoutSession>(&JsValue::NULL), None);
    assert_eq!(decode::<CheckoutSession>(&parse(r#""session""#)), None);
}

#[wasm_bindgen_test]
fn whatever_serde_writes_reads_back() {
    let mut session = expected_session();
    assert_eq!(decode(&browser::server_js(&session)), Some(session.clone()));
    session.customer_type = CustomerType::Organization;
    session.countries = Country::ALL.to_vec();
    let l = &mut session.cart.order_lines[0];
    l.quantity_unit = Some("pcs".into());
    l.image_url = Some("https://shop.example/t.png".into());
    l.product_url = Some("https://shop.example/t".into());
    session.cart.order_lines[1].kind = None;
    session.cart.order_lines[1].reference = None;
    assert_eq!(decode(&browser::server_js(&session)), Some(session.clone()));
    for currency in Currency::ALL {
        session.cart.currency = currency;
        assert_eq!(decode(&browser::server_js(&session)), Some(session.clone()));
    }
}

/// Every wire name of every enum the browser reads is the one serde reads.
#[wasm_bindgen_test]
fn enum_names_are_serdes() {
    fn same<T>(name: &str)
    where
        T: FromJs + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let value = JsValue::from_str(name);
        let serde: Option<T> = serde_wasm_bindgen::from_value(value.clone()).ok();
        assert!(
            serde.is_some(),
            "{name} is no {}",
            std::any::type_name::<T>()
        );
        assert_eq!(decode::<T>(&value), serde, "{name}");
    }
    for name in [
        "bad_request",
        "invalid_fields",
        "unknown_cart",
        "unknown_session",
        "session_expired",
        "authorization_expired",
        "authorization_mismatch",
        "rejected",
        "klarna_unavailable",
        "too_many_requests",
        "internal",
        // The bank page's (this test crate is built with `bank-link`).
        "sign_in_required",
        "too_many_attempts",
        "csrf_rejected",
        "link_not_finished",
        "link_failed",
        "link_aborted",
        "sync_running",
    ] {
        same::<ErrorCode>(name);
    }
    for name in [
        "physical",
        "discount",
        "shipping_fee",
        "sales_tax",
        "digital",
        "gift_card",
        "store_credit",
        "surcharge",
    ] {
        same::<OrderLineType>(name);
    }
    for name in ["accepted", "pending", "rejected"] {
        same::<OrderState>(name);
    }
    for name in ["person", "organization"] {
        same::<CustomerType>(name);
    }
    for c in Country::ALL {
        same::<Country>(c.code());
    }
    for c in Currency::ALL {
        same::<Currency>(c.code());
    }
    for unknown in ["Accepted", "PENDING", "", "pay_later"] {
        assert_eq!(decode::<OrderState>(&JsValue::from_str(unknown)), None);
        assert_eq!(decode::<ErrorCode>(&JsValue::from_str(unknown)), None);
    }
}
