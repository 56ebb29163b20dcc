//! Typed bindings for `Klarna.Payments` (contract §2.2). The namespace is looked up at each
//! call, so the functions work whichever script (Klarna's or the sandbox's) defined it.

use crate::wire::{Fields, FromJs};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["Klarna", "Payments"], js_name = init, catch)]
    fn js_init(options: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(js_namespace = ["Klarna", "Payments"], js_name = load, catch)]
    fn js_load(options: &JsValue, data: &JsValue, callback: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(js_namespace = ["Klarna", "Payments"], js_name = authorize, catch)]
    fn js_authorize(options: &JsValue, data: &JsValue, callback: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(js_namespace = ["Klarna", "Payments"], js_name = finalize, catch)]
    fn js_finalize(options: &JsValue, data: &JsValue, callback: &JsValue) -> Result<(), JsValue>;
}

/// The `error` member of a callback result: only for errors the shopper can fix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdkError {
    pub invalid_fields: Vec<String>,
}

/// `load()`'s callback argument.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadResult {
    pub show_form: bool,
    pub error: Option<SdkError>,
}

/// `authorize()` / `finalize()`'s callback argument.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizeResult {
    pub approved: bool,
    pub show_form: bool,
    pub authorization_token: Option<String>,
    pub finalize_required: Option<bool>,
    pub error: Option<SdkError>,
}

// Every member may be missing (it is then false or `None`); one of the wrong type makes the
// whole result unreadable, which the callback takes as the default: not shown, not approved.
impl FromJs for SdkError {
    fn from_js(value: &JsValue) -> Option<SdkError> {
        let f = Fields::of(value)?;
        Some(SdkError {
            invalid_fields: f.or_default("invalid_fields")?,
        })
    }
}

impl FromJs for LoadResult {
    fn from_js(value: &JsValue) -> Option<LoadResult> {
        let f = Fields::of(value)?;
        Some(LoadResult {
            show_form: f.or_default("show_form")?,
            error: f.or_default("error")?,
        })
    }
}

impl FromJs for AuthorizeResult {
    fn from_js(value: &JsValue) -> Option<AuthorizeResult> {
        let f = Fields::of(value)?;
        Some(AuthorizeResult {
            approved: f.or_default("approved")?,
            show_form: f.or_default("show_form")?,
            authorization_token: f.or_default("authorization_token")?,
            finalize_required: f.or_default("finalize_required")?,
            error: f.or_default("error")?,
        })
    }
}

/// What an authorization result means for the shopper (contract §2.2, "documented outcomes").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    Approved {
        authorization_token: String,
    },
    FinalizeRequired,
    /// Approved, but the token went to our server only (the shopper confirmed in a bank's
    /// app): Klarna's authorization callback brings it there; the page waits for the order.
    ApprovedWithoutToken,
    InvalidFields(Vec<String>),
    /// The shopper closed Klarna's dialog: keep Klarna on offer.
    Aborted,
    /// Final: hide this category, offer the others.
    Rejected,
}

impl AuthorizeResult {
    pub fn outcome(&self) -> AuthorizeOutcome {
        match (
            self.approved,
            &self.authorization_token,
            self.finalize_required,
            &self.error,
        ) {
            (true, Some(token), _, _) if !token.is_empty() => AuthorizeOutcome::Approved {
                authorization_token: token.clone(),
            },
            (true, _, Some(true), _) => AuthorizeOutcome::FinalizeRequired,
            (true, _, _, _) => AuthorizeOutcome::ApprovedWithoutToken,
            (false, _, _, Some(e)) if self.show_form && !e.invalid_fields.is_empty() => {
                AuthorizeOutcome::InvalidFields(e.invalid_fields.clone())
            }
            (false, _, _, _) if self.show_form => AuthorizeOutcome::Aborted,
            _ => AuthorizeOutcome::Rejected,
        }
    }
}

/// The name of a JS exception (`InvalidClientTokenError`, …) for messages and logs.
pub fn error_name(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| "Error".into())
}

fn options(category: &str, extra: Option<(&str, JsValue)>) -> JsValue {
    let o = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&o, &"payment_method_category".into(), &category.into());
    if let Some((k, v)) = extra {
        let _ = js_sys::Reflect::set(&o, &k.into(), &v);
    }
    o.into()
}

pub fn init(client_token: &str) -> Result<(), String> {
    let o = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&o, &"client_token".into(), &client_token.into());
    js_init(&o).map_err(|e| error_name(&e))
}

/// Loads the widget for `category` into `container`.
pub fn load(
    container: &web_sys::HtmlElement,
    category: &str,
    done: impl FnOnce(LoadResult) + 'static,
) -> Result<(), String> {
    js_load(
        &options(category, Some(("container", container.clone().into()))),
        &js_sys::Object::new().into(),
        &callback(done),
    )
    .map_err(|e| error_name(&e))
}

/// The SDK's callback as a one-shot JS function handing `done` the decoded result.
fn callback<T: FromJs + Default>(done: impl FnOnce(T) + 'static) -> JsValue {
    Closure::once_into_js(move |res: JsValue| done(T::from_js(&res).unwrap_or_default()))
}

/// Starts Klarna's purchase flow. Must run synchronously inside the click handler: browsers
/// block the pop-up Klarna may open once the click's user activation is spent on an `await`.
pub fn authorize(
    category: &str,
    data: &JsValue,
    done: impl FnOnce(AuthorizeResult) + 'static,
) -> Result<(), String> {
    js_authorize(&options(category, None), data, &callback(done)).map_err(|e| error_name(&e))
}

/// Completes a two-step authorization (`finalize_required`); same rule as [`authorize`].
pub fn finalize(
    category: &str,
    data: &JsValue,
    done: impl FnOnce(AuthorizeResult) + 'static,
) -> Result<(), String> {
    js_finalize(&options(category, None), data, &callback(done)).map_err(|e| error_name(&e))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn res(
        approved: bool,
        show_form: bool,
        token: Option<&str>,
        invalid: &[&str],
    ) -> AuthorizeResult {
        AuthorizeResult {
            approved,
            show_form,
            authorization_token: token.map(str::to_string),
            finalize_required: None,
            error: (!invalid.is_empty()).then(|| SdkError {
                invalid_fields: invalid.iter().map(|s| s.to_string()).collect(),
            }),
        }
    }

    #[test]
    fn documented_outcomes() {
        assert_eq!(
            res(true, true, Some("t"), &[]).outcome(),
            AuthorizeOutcome::Approved {
                authorization_token: "t".into()
            }
        );
        assert_eq!(
            res(false, true, None, &[]).outcome(),
            AuthorizeOutcome::Aborted
        );
        assert_eq!(
            res(false, false, None, &[]).outcome(),
            AuthorizeOutcome::Rejected
        );
        assert_eq!(
            res(false, true, None, &["billing_address.email"]).outcome(),
            AuthorizeOutcome::InvalidFields(vec!["billing_address.email".into()])
        );
        let mut f = res(true, true, None, &[]);
        f.finalize_required = Some(true);
        assert_eq!(f.outcome(), AuthorizeOutcome::FinalizeRequired);
    }
}
