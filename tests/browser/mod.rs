//! What the browser test crates share: the checkout session our server answers (so they
//! agree on its shape: one priced line, sold in Germany), that answer written as the server
//! writes it (serde), and waiting on a condition.
#![allow(dead_code)]

use klarna::api::{CheckoutSession, PaymentCategory};
use klarna::{price_cart, CartItem, Country, OrderLineType, TaxMode};
use klarna_checkout::api::sleep;

/// Session `id` with Klarna's `client_token`, `quantity` × `item` at 24.90 € (19 % VAT), and
/// the payment `categories` Klarna offers.
pub fn session(
    id: &str,
    client_token: &str,
    item: &str,
    quantity: i64,
    categories: &[&str],
) -> CheckoutSession {
    let items = vec![CartItem {
        kind: OrderLineType::Physical,
        reference: format!("SKU-{item}"),
        name: item.into(),
        quantity,
        unit_price: 2490,
        tax_rate: 1900,
        discount: 0,
    }];
    CheckoutSession {
        session: id.into(),
        client_token: client_token.into(),
        categories: categories
            .iter()
            .map(|&c| PaymentCategory {
                identifier: c.into(),
                name: c.into(),
                badge_url: None,
            })
            .collect(),
        cart: price_cart(&items, Country::DE, TaxMode::Included).unwrap(),
        locale: "en-DE".into(),
        sdk_url: "/never-loaded.js".into(),
        expires_in_secs: 48 * 3600,
        countries: Vec::new(),
        customer_type: Default::default(),
    }
}

/// `value` as our server sends it: written by serde (as `axum::Json` does), as a JS value and
/// as JSON text. The checkout reads it without serde (`klarna_checkout::wire`).
pub fn server_js<T: serde::Serialize>(value: &T) -> wasm_bindgen::JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

pub fn server_json<T: serde::Serialize>(value: &T) -> String {
    js_sys::JSON::stringify(&server_js(value))
        .unwrap()
        .as_string()
        .unwrap()
}

/// Polls `done` for up to five seconds (the page moves on after promises and timers); on
/// timeout the panic says what was awaited and `context()`.
pub async fn until_or(what: &str, done: impl Fn() -> bool, context: impl Fn() -> String) {
    for _ in 0..500 {
        if done() {
            return;
        }
        sleep(10).await;
    }
    panic!("timed out waiting for {what}{}", context());
}

/// A new element for a test's component, appended to the body. A test that failed never
/// removed its own: those are taken away first, or the next test's document-wide queries
/// would read them and one failure would fail every test after it.
pub fn fresh_test_root() -> web_sys::HtmlElement {
    use wasm_bindgen::JsCast;
    let document = web_sys::window().unwrap().document().unwrap();
    let left = document.query_selector_all("[data-kc-test-page]").unwrap();
    for i in 0..left.length() {
        if let Some(page) = left
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        {
            page.remove();
        }
    }
    let root: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    root.set_attribute("data-kc-test-page", "").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

/// Clicks the page's first element matching `css` (which must be there).
pub fn click(css: &str) {
    use wasm_bindgen::JsCast;
    let el: web_sys::HtmlElement = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .query_selector(css)
        .unwrap()
        .unwrap()
        .unchecked_into();
    el.click();
}

pub async fn until(what: &str, done: impl Fn() -> bool) {
    until_or(what, done, String::new).await;
}

/// Resolves once everything the page had queued has run: the microtasks (answered fetches,
/// resolved promises), the tasks queued before this one (zero-delay timers, callbacks), and
/// an animation frame. Not a wait for time: for checking that nothing more happens.
pub async fn drained() {
    for _ in 0..2 {
        let task = js_sys::Promise::new(&mut |resolve, _| {
            let _ = web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(task).await;
        let frame = js_sys::Promise::new(&mut |resolve, _| {
            let _ = web_sys::window().unwrap().request_animation_frame(&resolve);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    }
}
