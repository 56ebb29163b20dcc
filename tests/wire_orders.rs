//! Our server's order and error answers read without serde (`klarna_checkout::wire`, issue 11),
//! in headless Chromium: a placed order with and without its optional members, the order
//! status before and after the order exists, an error with its refused fields (a problem
//! code a newer server invented is still a refused field); anything missing or of the wrong
//! type is no answer.
#![cfg(target_arch = "wasm32")]

mod browser;

use klarna::api::{ApiError, ErrorCode, OrderState, OrderStatus, PlacedOrder};
use klarna::{FieldError, FieldProblem};
use klarna_checkout::wire::decode;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn parse(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

#[wasm_bindgen_test]
fn orders_read_with_and_without_the_optional_members() {
    let placed = r#"{"order_id": "b5c1d7e2-order", "state": "pending", "order_amount": 6640}"#;
    let order = PlacedOrder {
        order_id: "b5c1d7e2-order".into(),
        state: OrderState::Pending,
        order_amount: 6640,
        redirect_url: None,
    };
    assert_eq!(decode(&parse(placed)), Some(order.clone()));
    let redirected = r#"{"order_id": "b5c1d7e2-order", "state": "accepted", "order_amount": 6640,
        "redirect_url": "https://shop.example/thanks"}"#;
    let accepted: PlacedOrder = decode(&parse(redirected)).unwrap();
    assert_eq!(accepted.state, OrderState::Accepted);
    assert_eq!(
        accepted.redirect_url.as_deref(),
        Some("https://shop.example/thanks")
    );
    for refused in [
        r#"{"order_id": "o", "state": "shipped", "order_amount": 1}"#,
        r#"{"order_id": "o", "order_amount": 1}"#,
        r#"{"order_id": "o", "state": "accepted", "order_amount": "1"}"#,
        r#"{"state": "accepted", "order_amount": 1}"#,
    ] {
        assert_eq!(decode::<PlacedOrder>(&parse(refused)), None, "{refused}");
    }
    // `GET …/order`: none yet (`{}`, as serde skips `None`), or the order.
    assert_eq!(decode(&parse("{}")), Some(OrderStatus { order: None }));
    assert_eq!(
        decode(&parse(r#"{"order": null}"#)),
        Some(OrderStatus { order: None })
    );
    assert_eq!(
        decode(&parse(&format!(r#"{{"order": {placed}}}"#))),
        Some(OrderStatus { order: Some(order) })
    );
    assert_eq!(
        decode::<OrderStatus>(&parse(r#"{"order": {"order_id": "o"}}"#)),
        None
    );
}

#[wasm_bindgen_test]
fn errors_read_with_their_fields() {
    let body = r#"{"code": "invalid_fields", "message": "Some fields were refused.",
      "fields": [
        {"field": "billing_address.postal_code", "problem": "invalid_postal_code"},
        {"field": "billing_address.street_address", "problem": "too_long", "max": 99},
        {"field": "customer.vat_id", "problem": "a_problem_from_a_newer_server"}
      ]}"#;
    let error: ApiError = decode(&parse(body)).unwrap();
    assert_eq!(error.code, ErrorCode::InvalidFields);
    assert_eq!(error.support_id, None);
    assert_eq!(
        error.fields,
        [
            FieldError::new(
                "billing_address.postal_code",
                FieldProblem::InvalidPostalCode
            ),
            FieldError::new(
                "billing_address.street_address",
                FieldProblem::TooLong { max: 99 }
            ),
            FieldError::new("customer.vat_id", FieldProblem::RejectedByKlarna),
        ]
    );
    let internal = r#"{"code": "internal", "message": "Something went wrong.",
        "support_id": "req-8f2c"}"#;
    let error: ApiError = decode(&parse(internal)).unwrap();
    assert_eq!(
        (error.code, error.fields.len(), error.support_id.as_deref()),
        (ErrorCode::Internal, 0, Some("req-8f2c"))
    );
    // As serde writes it, too.
    let mut written = ApiError::new(ErrorCode::TooManyRequests, "Slow down.");
    written.fields = vec![FieldError::new("cart", FieldProblem::TooLong { max: 64 })];
    assert_eq!(decode(&browser::server_js(&written)), Some(written));
    for refused in [
        r#"{"code": "teapot", "message": "?"}"#,
        r#"{"message": "no code"}"#,
        r#"{"code": "internal"}"#,
        r#"{"code": "invalid_fields", "message": "m", "fields": [{"field": "x"}]}"#,
        r#"{"code": "invalid_fields", "message": "m", "fields": [{"field": "x", "problem": "too_long", "max": -1}]}"#,
    ] {
        assert_eq!(decode::<ApiError>(&parse(refused)), None, "{refused}");
    }
}
