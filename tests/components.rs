//! Components in headless Chromium (wasm-bindgen-test): the checkout renders the right state
//! for each outcome of Klarna's SDK and of our server. Klarna's script and `fetch` are replaced
//! by scripted fakes, so every branch is reached deterministically.
#![cfg(target_arch = "wasm32")]

use klarna::api::CheckoutSession;
use klarna::{Address, Country};
use klarna_checkout::api::{sleep, Endpoint};
use klarna_checkout::checkout::flow;
use klarna_checkout::checkout::state::{Ctx, Options, Phase, SdkState};
use klarna_checkout::checkout::CheckoutView;
use leptos::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod browser;

use browser::{click, until};
mod texts;

/// Installs a fake `Klarna.Payments` whose `authorize` answers `result`, and a fake `fetch`
/// answering `status` with `body`. Calls are recorded in `window.__kc_calls`.
fn fake_klarna(result: &str, status: u16, body: &str) {
    let script = format!(
        r#"
        window.__kc_calls = [];
        window.Klarna = {{ Payments: {{
          init: function (o) {{ window.__kc_calls.push('init'); }},
          load: function (o, d, cb) {{ window.__kc_calls.push('load:' + o.payment_method_category); setTimeout(function () {{ cb({{ show_form: true }}); }}, 0); }},
          authorize: function (o, d, cb) {{ window.__kc_calls.push('authorize:' + o.payment_method_category + ':' + d.billing_address.email); setTimeout(function () {{ cb({result}); }}, 0); }},
          finalize: function (o, d, cb) {{ window.__kc_calls.push('finalize'); setTimeout(function () {{ cb({{ approved: true, show_form: true, authorization_token: 'tok-final' }}); }}, 0); }}
        }} }};
        window.fetch = function (url) {{
          var u = typeof url === 'string' ? url : url.url;
          window.__kc_calls.push('fetch:' + new URL(u, location.href).pathname);
          if ({status} === 0) return Promise.reject(new TypeError('Failed to fetch'));
          return Promise.resolve(new Response({body:?}, {{ status: {status}, headers: {{ 'Content-Type': 'application/json' }} }}));
        }};
        "#
    );
    js_sys::eval(&script).unwrap();
}

fn calls() -> Vec<String> {
    recorded("window.__kc_calls")
}

/// The strings a fake pushed into the array `global`.
fn recorded(global: &str) -> Vec<String> {
    let v = js_sys::eval(global).unwrap();
    js_sys::Array::from(&v)
        .iter()
        .filter_map(|c| c.as_string())
        .collect()
}

fn session() -> CheckoutSession {
    browser::session(
        "s-1",
        "a.b.c",
        "Organic cotton T-shirt",
        2,
        &["pay_now", "pay_later"],
    )
}

fn valid_billing() -> Address {
    Address {
        given_name: "Testperson-de".into(),
        family_name: "Approved".into(),
        email: "customer+de@klarna.com".into(),
        street_address: "Hellersbergstraße 14".into(),
        postal_code: "41460".into(),
        city: "Neuss".into(),
        country: "DE".into(),
        ..Address::default()
    }
}

struct Mounted {
    ctx: Ctx,
    root: web_sys::HtmlElement,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.root.remove();
    }
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A checkout in the shopping phase with Klarna loaded.
async fn mount(session: CheckoutSession) -> Mounted {
    mount_in(session, "en-DE").await
}

async fn mount_in(session: CheckoutSession, locale: &str) -> Mounted {
    texts::install_checkout();
    let root = browser::fresh_test_root();
    let ctx = Ctx::new(Options {
        endpoint: Endpoint(String::new()),
        cart: "demo".into(),
        locale: locale.into(),
        host: Some(root.clone()),
        ..Options::default()
    });
    ctx.selected
        .set(Some(session.categories[0].identifier.clone()));
    ctx.session.set(Some(session));
    ctx.phase.set(Phase::Shopping);
    leptos::mount::mount_to(root.clone(), move || view! { <CheckoutView ctx=ctx /> }).forget();
    browser::drained().await;
    flow::load_sdk(ctx);
    // Klarna's (fake) script answers in the page's own time: wait for that, not for a fixed
    // while, which a loaded machine overruns.
    until("Klarna's script to load or fail", || {
        ctx.sdk.get_untracked() != SdkState::Loading
    })
    .await;
    settle().await;
    Mounted { ctx, root }
}

/// Lets every pending timer, promise, reactive update and animation frame run: the checkout
/// moves focus on the next frame, which a fixed sleep would race on a loaded machine.
async fn settle() {
    sleep(30).await;
    for _ in 0..2 {
        let frame = js_sys::Promise::new(&mut |resolve, _| {
            let _ = web_sys::window().unwrap().request_animation_frame(&resolve);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(frame).await;
    }
    sleep(30).await;
}

fn text(css: &str) -> String {
    document()
        .query_selector(css)
        .unwrap()
        .map(|e| e.text_content().unwrap_or_default())
        .unwrap_or_default()
}

fn exists(css: &str) -> bool {
    document().query_selector(css).unwrap().is_some()
}

fn attr(css: &str, name: &str) -> Option<String> {
    document()
        .query_selector(css)
        .unwrap()
        .and_then(|e| e.get_attribute(name))
}

fn buy_disabled() -> bool {
    attr(".kc-buy", "disabled").is_some()
}

const ORDER: &str = r#"{"order_id":"order-123","state":"accepted","order_amount":4980}"#;

#[wasm_bindgen_test]
async fn approved_authorization_places_the_order_and_confirms() {
    fake_klarna(
        "{ approved: true, show_form: true, authorization_token: 'tok-1' }",
        200,
        ORDER,
    );
    let m = mount(session()).await;
    assert!(calls().contains(&"load:pay_now".to_string()));
    assert!(!buy_disabled());
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    // Klarna was called synchronously inside the click, before anything async happened.
    assert_eq!(
        calls().last().unwrap(),
        "authorize:pay_now:customer+de@klarna.com"
    );
    settle().await;
    assert!(calls().contains(&"fetch:/api/checkout/orders".to_string()));
    assert_eq!(text(".kc-order-id"), "order-123");
    assert!(text(".kc-confirmation").contains("Thank you"));
    assert!(!exists(".kc-notice-pending"));
    // Focus follows the shopper to the news, and the confirmation repeats what was bought.
    let focused = document()
        .active_element()
        .map(|e| e.tag_name())
        .unwrap_or_default();
    assert_eq!(focused, "H2");
    assert!(text(".kc-confirmation-cart").contains("Organic cotton T-shirt"));
}

#[wasm_bindgen_test]
async fn an_approval_without_a_token_waits_for_the_order_the_server_creates() {
    // Klarna approved in the bank's app: the page has no token; the server has the order.
    fake_klarna(
        "{ approved: true, show_form: true }",
        200,
        &format!(r#"{{"order":{ORDER}}}"#),
    );
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    until("the confirmation", || exists(".kc-order-id")).await;
    assert_eq!(text(".kc-order-id"), "order-123");
    assert!(calls().contains(&"fetch:/api/checkout/sessions/s-1/order".to_string()));
    assert!(
        !calls().contains(&"fetch:/api/checkout/orders".to_string()),
        "no token, so nothing to place: the server's callback made the order"
    );
    assert!(
        !exists(".kc-notice-rejected"),
        "an approval is never shown as a refusal"
    );
}

/// Klarna approves, and our server answers the order in `state`: the page after Buy.
async fn buy_with_order_in(state: &str) -> Mounted {
    fake_klarna(
        "{ approved: true, show_form: true, authorization_token: 'tok-2' }",
        200,
        &format!(r#"{{"order_id":"order-p","state":"{state}","order_amount":4980}}"#),
    );
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    m
}

#[wasm_bindgen_test]
async fn pending_fraud_review_is_announced() {
    let _m = buy_with_order_in("pending").await;
    assert_eq!(text(".kc-order-id"), "order-p");
    assert!(text(".kc-notice-pending").contains("reviewing"));
}

#[wasm_bindgen_test]
async fn an_order_klarna_rejects_after_approval_is_not_confirmed() {
    let _m = buy_with_order_in("rejected").await;
    assert!(!exists(".kc-order-id"), "no thank-you for a rejected order");
    assert!(
        text(".kc-notice-area").contains("can't be used"),
        "{}",
        text(".kc-notice-area")
    );
    assert!(buy_disabled());
}

#[wasm_bindgen_test]
async fn finalize_required_confirms_once_more_then_orders() {
    fake_klarna(
        "{ approved: true, show_form: true, finalize_required: true }",
        200,
        ORDER,
    );
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(!exists(".kc-order-id"));
    assert!(text(".kc-buy").contains("Confirm payment again"));
    click(".kc-buy");
    settle().await;
    assert!(calls().contains(&"finalize".to_string()), "{:?}", calls());
    assert_eq!(text(".kc-order-id"), "order-123");
}

#[wasm_bindgen_test]
async fn a_klarna_call_that_throws_offers_a_retry_that_works() {
    fake_klarna(
        "{ approved: true, show_form: true, authorization_token: 'tok-t' }",
        200,
        ORDER,
    );
    let m = mount(session()).await;
    js_sys::eval(
        "window.__kc_authorize = Klarna.Payments.authorize;
         Klarna.Payments.authorize = function () { Klarna.Payments.authorize = window.__kc_authorize; throw new Error('ApplicationNotLoadedError'); };",
    )
    .unwrap();
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(exists(".kc-retry"), "{}", text(".kc-notice-area"));
    click(".kc-retry");
    settle().await;
    assert!(!exists(".kc-retry"));
    assert!(!buy_disabled());
    click(".kc-buy");
    settle().await;
    assert_eq!(text(".kc-order-id"), "order-123");
}

#[wasm_bindgen_test]
async fn a_country_change_lost_on_the_network_is_sent_again_on_retry() {
    fake_klarna("{ approved: false, show_form: true }", 0, "");
    let m = mount(session()).await;
    flow::change_country(m.ctx, "AT".into());
    settle().await;
    assert!(exists(".kc-retry"), "{}", text(".kc-notice-area"));
    let mut austria = session();
    austria.cart.country = Country::AT;
    let body = browser::server_json(&austria);
    fake_klarna("{ approved: false, show_form: true }", 200, &body);
    click(".kc-retry");
    settle().await;
    assert!(
        calls().contains(&"fetch:/api/checkout/sessions/s-1".to_string()),
        "{:?}",
        calls()
    );
    assert!(!exists(".kc-retry"));
    assert_eq!(
        m.ctx.session.get_untracked().map(|s| s.cart.country),
        Some(Country::AT)
    );
}

#[wasm_bindgen_test]
async fn rejection_hides_the_category_and_offers_the_next() {
    fake_klarna("{ approved: false, show_form: false }", 200, ORDER);
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(exists(".kc-notice-rejected"));
    let li = document()
        .query_selector(".kc-category input[value=pay_now]")
        .unwrap()
        .unwrap()
        .closest("li")
        .unwrap()
        .unwrap();
    assert!(li.has_attribute("hidden"));
    assert_eq!(m.ctx.selected.get_untracked().as_deref(), Some("pay_later"));
    assert!(calls().contains(&"load:pay_later".to_string()));
    assert!(!calls().iter().any(|c| c.starts_with("fetch:")));
}

#[wasm_bindgen_test]
async fn abort_keeps_klarna_available() {
    fake_klarna("{ approved: false, show_form: true }", 200, ORDER);
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(text(".kc-notice-cancelled").contains("You closed Klarna"));
    assert!(!buy_disabled());
    assert_eq!(m.ctx.selected.get_untracked().as_deref(), Some("pay_now"));
}

#[wasm_bindgen_test]
async fn invalid_fields_from_klarna_mark_and_focus_the_field() {
    fake_klarna("{ approved: false, show_form: true, error: { invalid_fields: ['billing_address.email'] } }", 200, ORDER);
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(text("[id$='-billing_address-email-error']").contains("Klarna could not accept"));
    assert_eq!(
        attr("[data-kc-field='billing_address.email']", "aria-invalid").as_deref(),
        Some("true")
    );
    let focused = document()
        .active_element()
        .and_then(|e| e.get_attribute("data-kc-field"))
        .unwrap_or_default();
    assert_eq!(focused, "billing_address.email");
    assert!(text(".kc-notice-area").contains("check the marked fields"));
}

#[wasm_bindgen_test]
async fn local_rules_stop_a_bad_form_before_klarna() {
    fake_klarna(
        "{ approved: true, show_form: true, authorization_token: 'x' }",
        200,
        ORDER,
    );
    let m = mount(session()).await;
    let mut billing = valid_billing();
    billing.postal_code = " 4146 ".into();
    billing.given_name = String::new();
    m.ctx.billing.set(billing);
    click(".kc-buy");
    settle().await;
    assert!(!calls().iter().any(|c| c.starts_with("authorize")));
    assert!(text("[id$='-billing_address-given_name-error']").contains("required"));
    assert!(text("[id$='-billing_address-postal_code-error']").contains("postal code"));
    // Trimmed once on submit, so what Klarna would see is what the shopper sees.
    assert_eq!(m.ctx.billing.get_untracked().postal_code, "4146");
}

#[wasm_bindgen_test]
async fn network_failure_on_order_offers_a_retry_that_resends() {
    fake_klarna(
        "{ approved: true, show_form: true, authorization_token: 'tok-n' }",
        0,
        ORDER,
    );
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(text(".kc-notice-network").contains("couldn't reach"));
    assert!(exists(".kc-retry"));
    fake_klarna("{}", 200, ORDER);
    click(".kc-retry");
    settle().await;
    // The retry re-sent the order without asking Klarna again.
    assert_eq!(calls(), vec!["fetch:/api/checkout/orders".to_string()]);
    assert_eq!(text(".kc-order-id"), "order-123");
}

#[wasm_bindgen_test]
async fn too_many_orders_from_one_connection_ask_to_wait_without_a_retry() {
    fake_klarna(
        "{ approved: true, show_form: true, authorization_token: 'tok-r' }",
        429,
        r#"{"code":"too_many_requests","message":"Too many requests from your connection. Please wait 20 seconds and try again."}"#,
    );
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(
        text(".kc-notice-too_many_requests").contains("Please wait a minute"),
        "{}",
        text(".kc-notice-area")
    );
    // Trying again at once would only be refused again.
    assert!(!exists(".kc-retry"));
}

#[wasm_bindgen_test]
async fn expired_authorization_asks_to_confirm_again() {
    fake_klarna(
        "{ approved: true, show_form: true, authorization_token: 'old' }",
        410,
        r#"{"code":"authorization_expired","message":"expired"}"#,
    );
    let m = mount(session()).await;
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(text(".kc-notice-area").contains("approval has expired"));
    assert!(text(".kc-buy").contains("Confirm payment again"));
    assert!(!buy_disabled());
}

#[wasm_bindgen_test]
async fn script_load_failure_offers_a_retry() {
    js_sys::eval("delete window.Klarna;").unwrap();
    let m = mount(session()).await;
    until("the script failure notice", || {
        exists(".kc-notice-script_load_failed")
    })
    .await;
    assert!(text(".kc-notice-script_load_failed").contains("could not be loaded"));
    assert!(exists(".kc-retry"));
    assert!(buy_disabled());
    drop(m);
}

#[wasm_bindgen_test]
async fn german_locale_speaks_german_and_formats_euros_the_german_way() {
    fake_klarna("{ approved: false, show_form: true }", 200, ORDER);
    let m = mount_in(session(), "de-DE").await;
    assert_eq!(text(".kc-buy"), "Kaufen");
    assert!(text("legend").contains("Rechnungsadresse"));
    assert!(
        text(".kc-total").contains("49,80\u{a0}€"),
        "{}",
        text(".kc-total")
    );
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    assert!(text(".kc-notice-area").contains("Sie haben Klarna geschlossen"));
}

#[wasm_bindgen_test]
async fn a_session_past_its_48_hours_is_renewed_on_buy_keeping_the_form() {
    let fresh = browser::server_json(&session());
    fake_klarna("{ approved: false, show_form: true }", 200, &fresh);
    let mut old = session();
    old.expires_in_secs = 0;
    let m = mount(old.clone()).await;
    flow::watch_expiry(m.ctx, &old);
    sleep(20).await;
    assert!(m.ctx.session_stale.get_untracked());
    m.ctx.billing.set(valid_billing());
    click(".kc-buy");
    settle().await;
    // Klarna was not asked with the dead session; a new one was started and the form kept.
    assert!(!calls().iter().any(|c| c.starts_with("authorize")));
    assert!(calls().contains(&"fetch:/api/checkout/sessions".to_string()));
    assert!(text(".kc-notice-area").contains("started a new one"));
    assert_eq!(
        m.ctx.billing.get_untracked().email,
        "customer+de@klarna.com"
    );
    assert!(!m.ctx.session_stale.get_untracked());
    click(".kc-buy");
    settle().await;
    assert!(calls().iter().any(|c| c.starts_with("authorize:pay_now")));
}
