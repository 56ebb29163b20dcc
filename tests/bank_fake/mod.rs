//! What the bank page's browser tests share: a fake of our server's bank API (answered in the
//! page, through a replaced `fetch`), a bank page mounted into a `div`, and reading and
//! driving the page's DOM.
#![allow(dead_code)]

use crate::browser::until;
use crate::texts;
use klarna_checkout::api::Endpoint;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

pub fn text(css: &str) -> String {
    document()
        .query_selector(css)
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

pub fn exists(css: &str) -> bool {
    document().query_selector(css).unwrap().is_some()
}

pub fn attr(css: &str, name: &str) -> Option<String> {
    document()
        .query_selector(css)
        .unwrap()
        .and_then(|e| e.get_attribute(name))
}

pub use crate::browser::click;

/// The strings a fake pushed into the array `global`.
pub fn recorded(global: &str) -> Vec<String> {
    let v = js_sys::eval(global).unwrap();
    js_sys::Array::from(&v)
        .iter()
        .filter_map(|c| c.as_string())
        .collect()
}

/// Replaces `fetch` with a fake server: sign-in succeeds, one bank with one account is linked,
/// and syncing that account answers `sync_status` with `sync_body`. Each request's method,
/// path and headers are recorded in `window.__kc_requests`, each POST's path and body in
/// `window.__kc_bodies`.
pub fn fake_bank_server(sync_status: u16, sync_body: &str) {
    let script = format!(
        r#"
        window.__kc_routes = {{
          "POST /api/auth/sign-in": [200, '{{"user":"bookkeeper","csrf_token":"csrf-1","today":"2026-06-15"}}'],
          "GET /api/banks": [200, '{LINKED_BANK}'],
          "POST /api/accounts/a-1/sync": [{sync_status}, '{sync_body}'],
          "POST /api/bank-links": [200, '{{"link":"l-1","client_token":"ct-1","launcher_url":"/xs2a.js","start_date":"2026-01-01"}}'],
          "POST /api/bank-links/l-1/end": [200, '{LINKED_BANK}'.slice(1, -1)]
        }};
        window.__kc_requests = [];
        window.__kc_bodies = [];
        window.fetch = function (req) {{
          var path = new URL(req.url, location.href).pathname;
          window.__kc_requests.push(req.method + ' ' + path + ' lang=' + req.headers.get('Accept-Language') + ' csrf=' + req.headers.get('X-CSRF-Token'));
          // Answered once the body is read and recorded, as a server reads before it answers:
          // a test that saw the answer sees the body too.
          var read = req.method === 'POST'
            ? req.clone().text().then(function (b) {{ window.__kc_bodies.push(path + ' ' + b); }})
            : Promise.resolve();
          var r = window.__kc_routes[req.method + ' ' + path] || [500, '{{"code":"internal","message":"no route"}}'];
          var body = r[0] === 204 ? null : r[1];
          return read.then(function () {{
            return new Response(body, {{ status: r[0], headers: {{ 'Content-Type': 'application/json' }} }});
          }});
        }};
        "#
    );
    js_sys::eval(&script).unwrap();
}

pub fn requests() -> Vec<String> {
    recorded("window.__kc_requests")
}

pub fn type_in(css: &str, value: &str) {
    let el: web_sys::HtmlInputElement = document()
        .query_selector(css)
        .unwrap()
        .unwrap()
        .unchecked_into();
    el.set_value(value);
    let event = web_sys::Event::new("input").unwrap();
    el.dispatch_event(&event).unwrap();
}

pub const LINKED_BANK: &str = r#"[{"connection":"c-1","company":"Nordlicht Outdoor GmbH","bank_name":"Demo Bank","start_date":"2026-01-01","consent":{"state":"valid","expires_on":"2027-02-21","days_left":90},"accounts":[{"id":"a-1","name":"Girokonto","masked_iban":"DE•••• 3000","holder_name":"Nordlicht Outdoor GmbH","balance":123456,"currency":"EUR"}]}]"#;

pub async fn mount_bank_page(locale: &str) -> web_sys::HtmlElement {
    use klarna_checkout::bank_link::{BankLinkApp, Ctx as BankCtx};
    texts::install_bank();
    let root = crate::browser::fresh_test_root();
    let ctx = BankCtx::new(Endpoint(String::new()), locale.into(), Some(root.clone()));
    leptos::mount::mount_to(root.clone(), move || view! { <BankLinkApp ctx=ctx /> }).forget();
    crate::browser::drained().await;
    root
}

pub async fn sign_in_as_bookkeeper() {
    type_in("[data-kc-field='user']", "bookkeeper");
    type_in("[data-kc-field='password']", "sandbox-password");
    click(".kc-sign-in");
    until("the link form", || exists("[data-kc-field='company']")).await;
    until("the linked banks", || exists(".kc-bank-card")).await;
}
