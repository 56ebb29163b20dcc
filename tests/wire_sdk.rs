//! Klarna's `load()` and `authorize()` callback results read without serde (issue 11), in
//! headless Chromium: every member may be missing, `null` is `None`, and a member of the wrong
//! type makes the result unreadable (the callback then takes the default: nothing shown,
//! nothing approved), as the serde derive with `#[serde(default)]` did.
#![cfg(target_arch = "wasm32")]

use klarna_checkout::sdk::payments::{AuthorizeResult, LoadResult, SdkError};
use klarna_checkout::wire::decode;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A JS object literal, as Klarna's script hands it to the callback.
fn js(literal: &str) -> wasm_bindgen::JsValue {
    js_sys::eval(&format!("({literal})")).unwrap()
}

#[wasm_bindgen_test]
fn load_results() {
    assert_eq!(
        decode(&js("{ show_form: true }")),
        Some(LoadResult {
            show_form: true,
            error: None
        })
    );
    assert_eq!(decode(&js("{}")), Some(LoadResult::default()));
    assert_eq!(
        decode(&js(
            "{ show_form: false, error: { invalid_fields: ['billing_address.email'] } }"
        )),
        Some(LoadResult {
            show_form: false,
            error: Some(SdkError {
                invalid_fields: vec!["billing_address.email".into()]
            })
        })
    );
    assert_eq!(
        decode(&js("{ show_form: true, error: null }")),
        Some(LoadResult {
            show_form: true,
            error: None
        })
    );
    for refused in [
        "undefined",
        "null",
        "'ok'",
        "{ show_form: 'true' }",
        "{ show_form: null }",
        "{ show_form: true, error: 'x' }",
        "{ show_form: true, error: { invalid_fields: 'billing_address.email' } }",
        "{ show_form: undefined }",
    ] {
        assert_eq!(decode::<LoadResult>(&js(refused)), None, "{refused}");
    }
}

#[wasm_bindgen_test]
fn authorize_results() {
    assert_eq!(
        decode(&js(
            "{ approved: true, show_form: true, authorization_token: 'b4bd3423-24e3' }"
        )),
        Some(AuthorizeResult {
            approved: true,
            show_form: true,
            authorization_token: Some("b4bd3423-24e3".into()),
            finalize_required: None,
            error: None,
        })
    );
    assert_eq!(
        decode(&js(
            "{ approved: true, show_form: true, finalize_required: true, authorization_token: null }"
        )),
        Some(AuthorizeResult {
            approved: true,
            show_form: true,
            authorization_token: None,
            finalize_required: Some(true),
            error: None,
        })
    );
    assert_eq!(
        decode(&js("{ approved: false, show_form: false }")),
        Some(AuthorizeResult::default())
    );
    // Klarna's script adds members of its own: ignored.
    assert_eq!(
        decode(&js(
            "{ approved: false, show_form: true, error: { invalid_fields: ['billing_address.postal_code', 'billing_address.city'] }, extra: 1 }"
        )),
        Some(AuthorizeResult {
            show_form: true,
            error: Some(SdkError {
                invalid_fields: vec![
                    "billing_address.postal_code".into(),
                    "billing_address.city".into()
                ]
            }),
            ..AuthorizeResult::default()
        })
    );
    for refused in [
        "{ approved: 1 }",
        "{ approved: true, authorization_token: 42 }",
        "{ approved: true, finalize_required: 'yes' }",
        "{ error: { invalid_fields: [1] } }",
    ] {
        assert_eq!(decode::<AuthorizeResult>(&js(refused)), None, "{refused}");
    }
}
