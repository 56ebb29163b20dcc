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
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod browser;

use browser::until;
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
    let root: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&root).unwrap();
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

fn click(css: &str) {
    let el: web_sys::HtmlElement = document()
        .query_selector(css)
        .unwrap()
        .unwrap()
        .unchecked_into();
    el.click();
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

// The bookkeeper's bank-linking page (its own bundle; here through the same crate).

/// Replaces `fetch` with a fake server: sign-in succeeds, one bank with one account is linked,
/// and syncing that account answers `sync_status` with `sync_body`. Each request's method,
/// path and headers are recorded in `window.__kc_requests`, each POST's path and body in
/// `window.__kc_bodies`.
#[cfg(feature = "bank-link")]
fn fake_bank_server(sync_status: u16, sync_body: &str) {
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
          if (req.method === 'POST') req.clone().text().then(function (b) {{ window.__kc_bodies.push(path + ' ' + b); }});
          var r = window.__kc_routes[req.method + ' ' + path] || [500, '{{"code":"internal","message":"no route"}}'];
          var body = r[0] === 204 ? null : r[1];
          return Promise.resolve(new Response(body, {{ status: r[0], headers: {{ 'Content-Type': 'application/json' }} }}));
        }};
        "#
    );
    js_sys::eval(&script).unwrap();
}

#[cfg(feature = "bank-link")]
fn requests() -> Vec<String> {
    recorded("window.__kc_requests")
}

#[cfg(feature = "bank-link")]
fn type_in(css: &str, value: &str) {
    let el: web_sys::HtmlInputElement = document()
        .query_selector(css)
        .unwrap()
        .unwrap()
        .unchecked_into();
    el.set_value(value);
    let event = web_sys::Event::new("input").unwrap();
    el.dispatch_event(&event).unwrap();
}

#[cfg(feature = "bank-link")]
const LINKED_BANK: &str = r#"[{"connection":"c-1","company":"Nordlicht Outdoor GmbH","bank_name":"Demo Bank","start_date":"2026-01-01","consent":{"state":"valid","expires_on":"2027-02-21","days_left":90},"accounts":[{"id":"a-1","name":"Girokonto","masked_iban":"DE•••• 3000","holder_name":"Nordlicht Outdoor GmbH","balance":123456,"currency":"EUR"}]}]"#;

#[cfg(feature = "bank-link")]
async fn mount_bank_page(locale: &str) -> web_sys::HtmlElement {
    use klarna_checkout::bank_link::{BankLinkApp, Ctx as BankCtx};
    texts::install_bank();
    let root: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&root).unwrap();
    let ctx = BankCtx::new(Endpoint(String::new()), locale.into(), Some(root.clone()));
    leptos::mount::mount_to(root.clone(), move || view! { <BankLinkApp ctx=ctx /> }).forget();
    settle().await;
    root
}

#[cfg(feature = "bank-link")]
async fn sign_in_as_bookkeeper() {
    type_in("#kc-user", "bookkeeper");
    type_in("#kc-password", "sandbox-password");
    click("#kc-sign-in");
    until("the link form", || exists("#kc-company")).await;
    until("the linked banks", || exists(".kc-bank-card")).await;
}

#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn a_german_bank_page_speaks_german_and_asks_the_server_in_german() {
    fake_bank_server(
        409,
        r#"{"code":"link_failed","message":"Die Einwilligung bei der Bank ist abgelaufen."}"#,
    );
    // Written the way some back offices do; the page uses `de-DE`.
    let root = mount_bank_page("de_DE").await;
    assert!(text("h2").contains("Anmelden"), "{}", text("h2"));
    sign_in_as_bookkeeper().await;
    let card = text(".kc-bank-card");
    assert!(card.contains("läuft in 90 Tagen ab"), "{card}");
    assert!(card.contains("1.234,56"), "German money: {card}");
    assert!(text("#kc-continue").contains("Weiter zu Ihrer Bank"));
    click(".kc-sync");
    until("the server's reason", || {
        text(".kc-notice-area").contains("abgelaufen")
    })
    .await;
    // Every call carried the page's language; state-changing ones after sign-in the CSRF token.
    let sent = requests();
    assert!(sent.iter().all(|r| r.contains("lang=de-DE")), "{sent:?}");
    assert!(
        sent.contains(&"POST /api/accounts/a-1/sync lang=de-DE csrf=csrf-1".to_string()),
        "{sent:?}"
    );
    root.remove();
}

/// "Today" is the server's date (UTC), never the browser's: just after midnight on New Year's
/// Day east of UTC, the browser's calendar is already in 2027 while the server's (and the
/// bank's checks) are still on 31 December 2026. The page must offer 2026's start and no day
/// after the server's today, or the default link would be refused as "in the future".
#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn the_start_date_follows_the_servers_today_not_the_browsers() {
    fake_bank_server(200, "{}");
    js_sys::eval(
        r#"
        window.__kc_routes["POST /api/auth/sign-in"] =
          [200, '{"user":"bookkeeper","csrf_token":"csrf-1","today":"2026-12-31"}'];
        window.__kc_real_date = window.Date;
        // The browser's clock: 1 January 2027, 00:30 on its local calendar.
        window.Date = class extends window.__kc_real_date {
          constructor(...args) {
            if (args.length) { super(...args); } else { super(2027, 0, 1, 0, 30); }
          }
          static now() { return new window.Date().getTime(); }
        };
        "#,
    )
    .unwrap();
    let root = mount_bank_page("de-DE").await;
    sign_in_as_bookkeeper().await;
    let start = attr("#kc-start-date", "max");
    let value: web_sys::HtmlInputElement = document()
        .query_selector("#kc-start-date")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let value = value.value();
    js_sys::eval("window.Date = window.__kc_real_date;").unwrap();
    root.remove();
    assert_eq!(
        start.as_deref(),
        Some("2026-12-31"),
        "the latest start date"
    );
    assert_eq!(value, "2026-01-01", "the default start date");
}

#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn an_expired_sign_in_leads_back_to_sign_in_keeping_the_link_form() {
    fake_bank_server(
        401,
        r#"{"code":"sign_in_required","message":"Please sign in (again)."}"#,
    );
    let root = mount_bank_page("en-DE").await;
    sign_in_as_bookkeeper().await;
    type_in("#kc-company", "Nordlicht Outdoor GmbH");
    click(".kc-sync");
    until("the sign-in form", || exists("#kc-sign-in")).await;
    assert!(text(".kc-notice-area").contains("sign-in has expired"));
    assert!(!exists("#kc-company"));
    sign_in_as_bookkeeper().await;
    let company: web_sys::HtmlInputElement = document()
        .query_selector("#kc-company")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(company.value(), "Nordlicht Outdoor GmbH");
    root.remove();
}

/// The server runs the sync; the page polls it. A poll the server refuses (the sign-in ran out
/// meanwhile) ends the polling with its reason, instead of polling every 300 ms for ever with
/// the bank's Sync buttons disabled.
#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn a_refused_progress_poll_ends_the_polling_and_says_why() {
    fake_bank_server(
        202,
        r#"{"running":true,"pages":0,"fetched":0,"added":0,"from_date":"2026-01-01","to_date":"2026-06-15"}"#,
    );
    js_sys::eval(
        r#"window.__kc_routes["GET /api/accounts/a-1/sync"] =
             [401, '{"code":"sign_in_required","message":"Please sign in (again)."}'];"#,
    )
    .unwrap();
    let root = mount_bank_page("en-DE").await;
    sign_in_as_bookkeeper().await;
    click(".kc-sync");
    until("the sign-in form", || exists("#kc-sign-in")).await;
    assert!(text(".kc-notice-area").contains("sign-in has expired"));
    let polls = requests()
        .iter()
        .filter(|r| r.starts_with("GET /api/accounts/a-1/sync"))
        .count();
    root.remove();
    assert_eq!(polls, 1, "polled once, then stopped");
}

#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn pending_transactions_are_shown_apart_from_the_booked_ones_and_marked() {
    fake_bank_server(
        200,
        r#"{"running":false,"pages":1,"fetched":4,"added":1,"skipped":1,"from_date":"2026-06-01","to_date":"2026-06-15"}"#,
    );
    js_sys::eval(
        r#"window.__kc_routes["GET /api/accounts/a-1/transactions"] = [200, '[{"booking_date":"2026-06-12","amount":-1999,"currency":"EUR","counterparty":"Stadtwerke Musterstadt","reference":"Abschlag Strom"}]'];
           window.__kc_routes["GET /api/accounts/a-1/transactions/pending"] = [200, '[{"date":"2026-06-15","amount":-2340,"currency":"EUR","counterparty":"REWE Markt GmbH","reference":"REWE SAGT DANKE"}]'];"#,
    )
    .unwrap();
    let root = mount_bank_page("en-DE").await;
    sign_in_as_bookkeeper().await;
    click(".kc-sync");
    until("the pending transactions", || exists(".kc-pending")).await;
    until("the booked transactions", || {
        exists(".kc-transactions:not(.kc-pending)")
    })
    .await;
    let pending = text(".kc-pending");
    assert!(pending.contains("Pending, not booked yet"), "{pending}");
    assert!(
        pending.contains("REWE Markt GmbH") && pending.contains("23.40"),
        "{pending}"
    );
    assert!(!pending.contains("Stadtwerke"), "{pending}");
    let mark = text(".kc-pending-transaction .kc-pending-mark");
    assert_eq!(mark, "pending", "each pending row is marked");
    assert!(text("#kc-pending-help").contains("not in the books or the CSV export"));
    let booked = text(".kc-transactions:not(.kc-pending)");
    assert!(booked.contains("Stadtwerke Musterstadt"), "{booked}");
    assert!(!booked.contains("REWE"), "never among the booked: {booked}");
    // One the server could not read was left out, and the page says so.
    assert!(
        text(".kc-sync-unreadable").contains("left out"),
        "{}",
        text(".kc-sync-row")
    );
    root.remove();
}

/// Records the bank page's DOM events, as a back office listening on `document` hears them.
#[cfg(feature = "bank-link")]
fn record_bank_events() {
    js_sys::eval(
        "window.__kc_events = [];
         if (!window.__kc_listening) {
           window.__kc_listening = true;
           ['linked', 'synced', 'exit', 'error'].forEach(function (n) {
             document.addEventListener('klarna-bank-link:' + n, function (e) {
               window.__kc_events.push(n + ' ' + JSON.stringify(e.detail));
             });
           });
         }",
    )
    .unwrap();
}

/// A stand-in for Klarna's XS2A app launcher that keeps the options `startFlow` got, so a
/// test can play its callbacks.
#[cfg(feature = "bank-link")]
fn fake_launcher() {
    js_sys::eval(
        "window.XS2A = { startFlow: function (token, options) { window.__kc_flow = options; },
                         close: function () { window.__kc_closed = true; } };",
    )
    .unwrap();
}

/// A signed-in bank page that has just pressed Continue: the fake launcher holds the flow.
/// Syncing answers `sync_status` with `sync_body`.
#[cfg(feature = "bank-link")]
async fn bank_page_in_the_launcher(sync_status: u16, sync_body: &str) -> web_sys::HtmlElement {
    fake_bank_server(sync_status, sync_body);
    fake_launcher();
    record_bank_events();
    let root = mount_bank_page("en-DE").await;
    sign_in_as_bookkeeper().await;
    type_in("#kc-company", "Nordlicht Outdoor GmbH");
    click("#kc-continue");
    until("the launcher", || {
        js_sys::eval("!!window.__kc_flow").unwrap().is_truthy()
    })
    .await;
    root
}

/// What the fake server answers for the link's ending from now on.
#[cfg(feature = "bank-link")]
fn answer_ending(status: u16, body: &str) {
    let script = format!(
        "window.__kc_routes['POST /api/bank-links/l-1/end'] = [{status}, {}];",
        String::from(js_sys::JSON::stringify(&body.into()).unwrap())
    );
    js_sys::eval(&script).unwrap();
}

/// The endings the page reported, as `{"ending": …}` bodies.
#[cfg(feature = "bank-link")]
fn endings_sent() -> Vec<String> {
    recorded("window.__kc_bodies")
        .into_iter()
        .filter_map(|b| {
            b.strip_prefix("/api/bank-links/l-1/end ")
                .map(str::to_string)
        })
        .collect()
}

#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn the_launchers_progress_shows_and_a_window_that_just_closes_is_reported() {
    let root = bank_page_in_the_launcher(200, "{}").await;
    assert!(text("#kc-continue").contains("Opening your bank"));
    js_sys::eval("window.__kc_flow.onLoad(); window.__kc_flow.onReady();").unwrap();
    settle().await;
    assert!(text("#kc-continue").contains("Continue in your bank's window"));
    assert!(text("#kc-link-status").contains("Continue in your bank's window"));
    // The window goes away without onAbort or onFinished: the page reports it and shows what
    // the server read from Klarna (here: the flow was aborted), not left waiting.
    answer_ending(
        422,
        r#"{"code":"link_aborted","message":"You closed the bank's window. Nothing was linked."}"#,
    );
    js_sys::eval("window.__kc_flow.onClose();").unwrap();
    until("the server's answer", || {
        text(".kc-notice-area").contains("You closed the bank's window")
    })
    .await;
    assert_eq!(
        recorded("window.__kc_events"),
        [r#"exit {"reason":"aborted"}"#]
    );
    assert!(text("#kc-continue").contains("Continue to your bank"));
    assert_eq!(endings_sent(), [r#"{"ending":"closed"}"#]);
    assert!(
        !exists("#kc-check-again"),
        "the link is closed: nothing to check"
    );
    js_sys::eval("delete window.XS2A; delete window.__kc_flow;").unwrap();
    root.remove();
}

#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn on_close_before_on_finished_still_links_the_bank() {
    let root = bank_page_in_the_launcher(200, "{}").await;
    js_sys::eval("window.__kc_flow.onClose(); window.__kc_flow.onFinished();").unwrap();
    until("the linked event", || {
        recorded("window.__kc_events")
            .iter()
            .any(|e| e.starts_with("linked "))
    })
    .await;
    settle().await;
    assert_eq!(endings_sent(), [r#"{"ending":"closed"}"#], "one report");
    assert_eq!(recorded("window.__kc_events").len(), 1);
    assert!(!text(".kc-notice-area").contains("closed"));
    js_sys::eval("delete window.XS2A; delete window.__kc_flow; delete window.__kc_closed;")
        .unwrap();
    root.remove();
}

#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn check_again_is_offered_while_the_bank_confirms_and_an_argumentless_error_closes() {
    let root = bank_page_in_the_launcher(200, "{}").await;
    answer_ending(
        409,
        r#"{"code":"link_not_finished","message":"Your bank has not confirmed the link yet. Check again in a moment."}"#,
    );
    js_sys::eval("window.__kc_flow.onFinished();").unwrap();
    until("check again", || exists("#kc-check-again")).await;
    assert!(text(".kc-notice-area").contains("not confirmed the link yet"));
    answer_ending(200, &LINKED_BANK[1..LINKED_BANK.len() - 1]);
    click("#kc-check-again");
    until("the linked event", || {
        recorded("window.__kc_events")
            .iter()
            .any(|e| e.starts_with("linked "))
    })
    .await;
    assert!(!exists("#kc-check-again"));
    assert_eq!(
        endings_sent(),
        [r#"{"ending":"finished"}"#, r#"{"ending":"finished"}"#]
    );
    // A second link: the launcher calls onError() without an argument.
    js_sys::eval("delete window.__kc_flow; window.__kc_bodies = [];").unwrap();
    answer_ending(
        422,
        r#"{"code":"link_failed","message":"The bank's window stopped with an error. Nothing was linked; please start again."}"#,
    );
    click("#kc-continue");
    until("the launcher", || {
        js_sys::eval("!!window.__kc_flow").unwrap().is_truthy()
    })
    .await;
    js_sys::eval("window.__kc_flow.onError();").unwrap();
    until("the server's reason", || {
        text(".kc-notice-area").contains("stopped with an error")
    })
    .await;
    assert_eq!(endings_sent(), [r#"{"ending":"error"}"#]);
    assert!(
        !exists("#kc-check-again"),
        "the server closed it: no way to finish"
    );
    js_sys::eval("delete window.XS2A; delete window.__kc_flow; delete window.__kc_closed;")
        .unwrap();
    root.remove();
}

#[cfg(feature = "bank-link")]
#[wasm_bindgen_test]
async fn a_finished_link_tells_the_back_office_and_a_refused_sync_says_why() {
    let root = bank_page_in_the_launcher(
        409,
        r#"{"code":"link_failed","message":"The consent at the bank has expired."}"#,
    )
    .await;
    js_sys::eval("window.__kc_flow.onFinished();").unwrap();
    until("the linked event", || {
        recorded("window.__kc_events")
            .iter()
            .any(|e| e.starts_with("linked "))
    })
    .await;
    let linked = recorded("window.__kc_events").join("\n");
    assert!(
        linked.contains("Demo Bank") && linked.contains("DE•••• 3000"),
        "{linked}"
    );
    // Enough to refer to the bank; no balances or holder names in an event.
    assert!(
        !linked.contains("balance") && !linked.contains("holder_name"),
        "{linked}"
    );
    assert!(
        js_sys::eval("!!window.__kc_closed").unwrap().is_truthy(),
        "XS2A.close() called"
    );
    click(".kc-sync");
    until("the error event", || {
        recorded("window.__kc_events").contains(&r#"error {"code":"link_failed"}"#.to_string())
    })
    .await;
    assert!(text(".kc-notice-area").contains("consent at the bank has expired"));
    js_sys::eval("delete window.XS2A; delete window.__kc_flow; delete window.__kc_closed;")
        .unwrap();
    root.remove();
}
