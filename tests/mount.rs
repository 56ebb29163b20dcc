//! The storefront's side of embedding, in headless Chromium (wasm-bindgen-test): the custom
//! element and `window.KlarnaCheckout.mount`, several checkouts on one page, `destroy()`,
//! attribute updates, the events' typed `detail`, and theming from an ancestor. Our server and
//! Klarna's script are scripted fakes that behave as the real ones do where it matters: Klarna
//! holds one client token per page, and `init` with another forgets the widgets loaded before.
#![cfg(target_arch = "wasm32")]

mod browser;

use klarna::api::CheckoutSession;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn session(cart: &str) -> CheckoutSession {
    browser::session(
        &format!("sess-{cart}"),
        &format!("ct.{cart}.secret"),
        &format!("Item of cart {cart}"),
        1,
        &["pay_now", "pay_later"],
    )
}

/// Installs the fakes, the component's stylesheet and the custom element (once per page).
fn setup() {
    let sessions = js_sys::Object::new();
    for cart in ["a", "b"] {
        let _ = js_sys::Reflect::set(&sessions, &cart.into(), &browser::server_js(&session(cart)));
    }
    let _ = js_sys::Reflect::set(&js_sys::global(), &"__kcSessions".into(), &sessions);
    // The catalogs the component fetches (`/i18n/<lang>.txt`), as the server would serve them.
    let catalogs = js_sys::Object::new();
    for (lang, text) in [
        ("en", include_str!("../i18n/checkout/en.txt")),
        ("sv", include_str!("../i18n/checkout/sv.txt")),
    ] {
        let _ = js_sys::Reflect::set(&catalogs, &lang.into(), &text.into());
    }
    let _ = js_sys::Reflect::set(&js_sys::global(), &"__kcCatalogs".into(), &catalogs);
    js_sys::eval(FAKES).unwrap();
    let document = document();
    if document.get_element_by_id("kc-test-style").is_none() {
        let style = document.create_element("style").unwrap();
        style.set_id("kc-test-style");
        style.set_text_content(Some(include_str!("../style/checkout.css")));
        document.head().unwrap().append_child(&style).unwrap();
    }
    klarna_checkout::embed::define_all();
}

const FAKES: &str = r#"
window.__kc = { calls: [], bodies: [], events: [], timers: {}, hang: false, token: null, loaded: {} };
const kc = window.__kc;
window.fetch = function (request) {
  const url = typeof request === 'string' ? request : request.url;
  const path = new URL(url, location.href).pathname;
  kc.calls.push((request.method || 'GET') + ' ' + path);
  const json = (body, status) => new Response(JSON.stringify(body), { status: status || 200, headers: { 'Content-Type': 'application/json' } });
  if (path.startsWith('/i18n/')) {
    const text = window.__kcCatalogs[path.slice(6, -4)];
    const answer = () => new Response(text || '', { status: text ? 200 : 404 });
    return new Promise((resolve) => setTimeout(() => resolve(answer()), kc.catalogDelay || 0));
  }
  if (kc.hang) {
    return new Promise(function (_, reject) {
      request.signal.addEventListener('abort', function () {
        kc.calls.push('aborted ' + path);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }
  return request.text().then(function (text) {
    const body = text ? JSON.parse(text) : {};
    kc.bodies.push(text);
    if (path === '/api/checkout/sessions') return json(window.__kcSessions[body.cart]);
    if (path === '/api/checkout/orders') {
      const cart = body.session.replace('sess-', '');
      return json({ order_id: 'order-' + cart, state: kc.orderState || 'accepted', order_amount: 2490 });
    }
    return json({ code: 'not_found', message: 'no' }, 404);
  });
};
// A panic in the component surfaces as an uncaught error ("unreachable"): recorded.
kc.errors = [];
window.addEventListener('error', function (e) { kc.errors.push(String(e.message)); });
window.addEventListener('unhandledrejection', function (e) { kc.errors.push(String(e.reason)); });
const notLoaded = function () { const e = new Error('not loaded'); e.name = 'ApplicationNotLoadedError'; return e; };
window.Klarna = { Payments: {
  init: function (o) {
    if (o.client_token !== kc.token) kc.loaded = {};
    kc.token = o.client_token;
    kc.calls.push('init ' + o.client_token);
  },
  load: function (o, d, cb) {
    const token = kc.token;
    o.container.textContent = 'Klarna widget for ' + token;
    o.container.setAttribute('data-token', token);
    kc.calls.push('load ' + token + ' ' + o.payment_method_category);
    setTimeout(function () {
      if (kc.token === token) kc.loaded[o.payment_method_category] = true;
      cb({ show_form: true });
    }, kc.loadDelay || 0);
  },
  authorize: function (o, d, cb) {
    if (!kc.loaded[o.payment_method_category]) throw notLoaded();
    const token = kc.token;
    kc.calls.push('authorize ' + token);
    if (kc.authorizeHang) return;
    setTimeout(function () {
      cb(kc.reject ? { approved: false, show_form: false }
         : kc.abort ? { approved: false, show_form: true }
         : { approved: true, show_form: true, authorization_token: 'auth.' + token });
    }, 0);
  }
} };
// Every event of the component anywhere in the page, as the document hears it.
for (const name of ['ready', 'change', 'order-created', 'order-pending', 'cancel', 'error']) {
  document.addEventListener('klarna-checkout:' + name, function (e) {
    kc.events.push({ name: name, target: e.target.getAttribute('cart') || e.target.id,
                     bubbles: e.bubbles, composed: e.composed, detail: JSON.stringify(e.detail) });
  });
}
"#;

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn eval(js: &str) -> wasm_bindgen::JsValue {
    js_sys::eval(js).unwrap_or_else(|e| panic!("{js}: {e:?}"))
}

fn strings(js: &str) -> Vec<String> {
    js_sys::Array::from(&eval(js))
        .iter()
        .filter_map(|v| v.as_string())
        .collect()
}

fn calls() -> Vec<String> {
    strings("window.__kc.calls")
}

/// `name@target detail` of every event heard so far.
fn events() -> Vec<String> {
    strings("window.__kc.events.map(e => e.name + '@' + e.target + ' ' + e.detail)")
}

/// [`browser::until_or`], saying what the fakes were asked when it times out.
async fn until(what: &str, done: impl Fn() -> bool) {
    browser::until_or(what, done, || format!("; calls: {:?}", calls())).await;
}

fn within(host: &web_sys::Element, css: &str) -> Option<web_sys::HtmlElement> {
    host.query_selector(css)
        .unwrap()
        .map(|e| e.unchecked_into::<web_sys::HtmlElement>())
}

fn text_in(host: &web_sys::Element, css: &str) -> String {
    within(host, css)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// A `<klarna-checkout cart=…>` appended to the page (under `parent`, else the body).
fn element(cart: &str, parent: Option<&web_sys::Element>) -> web_sys::Element {
    let el = document().create_element("klarna-checkout").unwrap();
    el.set_attribute("cart", cart).unwrap();
    el.set_attribute("locale", "en-DE").unwrap();
    match parent {
        Some(p) => p.append_child(&el).unwrap(),
        None => document().body().unwrap().append_child(&el).unwrap(),
    };
    el
}

/// Fills the billing address of the checkout in `host` as a shopper types.
fn fill(host: &web_sys::Element) {
    for (field, value) in [
        ("given_name", "Testperson-de"),
        ("family_name", "Approved"),
        ("email", "customer+de@klarna.com"),
        ("street_address", "Hellersbergstraße 14"),
        ("postal_code", "41460"),
        ("city", "Neuss"),
    ] {
        let input: web_sys::HtmlInputElement = host
            .query_selector(&format!("[data-kc-field='billing_address.{field}']"))
            .unwrap()
            .unwrap()
            .unchecked_into();
        input.set_value(value);
        let _ = input.dispatch_event(&web_sys::Event::new("input").unwrap());
    }
}

fn buy_enabled(host: &web_sys::Element) -> bool {
    within(host, ".kc-buy").is_some_and(|b| !b.has_attribute("disabled"))
}

#[wasm_bindgen_test]
async fn two_checkouts_on_one_page_work_independently() {
    setup();
    let a = element("a", None);
    let b = element("b", None);
    // Both shopping; the one that loaded last holds Klarna (its Buy works), and the other says
    // so and waits for the shopper to come back to it (its Buy waits too).
    until("both shopping", || {
        within(&a, ".kc-buy").is_some()
            && within(&b, ".kc-buy").is_some()
            && (buy_enabled(&a) != buy_enabled(&b))
    })
    .await;
    let (owner, paused) = if eval("window.__kc.token")
        .as_string()
        .unwrap()
        .contains(".b.")
    {
        (&b, &a)
    } else {
        (&a, &b)
    };
    assert!(within(paused, ".kc-paused").is_some_and(|p| !p.hidden()));
    assert!(within(owner, ".kc-paused").is_some_and(|p| p.hidden()));
    assert!(!buy_enabled(paused));
    // No id is used twice, and each radio group is its own.
    let ids = strings("[...document.querySelectorAll('[id]')].map(e => e.id)");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "duplicate ids: {ids:?}");
    let group = |host: &web_sys::Element| {
        within(host, ".kc-category input")
            .unwrap()
            .get_attribute("name")
    };
    assert_ne!(group(&a), group(&b));
    // Each cart in its own checkout.
    assert!(text_in(&a, ".kc-cart").contains("Item of cart a"));
    assert!(text_in(&b, ".kc-cart").contains("Item of cart b"));

    // The shopper goes to A: A takes Klarna back and loads its own widget in its container.
    within(&a, "[data-kc-field='billing_address.given_name']")
        .unwrap()
        .focus()
        .unwrap();
    until("A's widget", || {
        within(&a, ".kc-widget:not([hidden])")
            .and_then(|w| w.get_attribute("data-token"))
            .as_deref()
            == Some("ct.a.secret")
            && eval("window.__kc.loaded.pay_now === true").is_truthy()
    })
    .await;
    until("A's Buy", || buy_enabled(&a)).await;
    // B gave Klarna up to A, and says so.
    assert!(within(&b, ".kc-paused").is_some_and(|p| !p.hidden()));
    assert!(!buy_enabled(&b));
    fill(&a);
    within(&a, ".kc-buy").unwrap().click();
    until("A's order", || !text_in(&a, ".kc-order-id").is_empty()).await;
    assert_eq!(text_in(&a, ".kc-order-id"), "order-a");
    assert!(calls().contains(&"authorize ct.a.secret".to_string()));
    // B is untouched: still shopping, no order, and A's order event came from A alone.
    assert!(within(&b, ".kc-order-id").is_none());
    assert!(within(&b, ".kc-buy").is_some());
    let orders: Vec<String> = events()
        .into_iter()
        .filter(|e| e.starts_with("order-created"))
        .collect();
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert!(orders[0].starts_with("order-created@a "), "{orders:?}");
    a.remove();
    b.remove();
}

#[wasm_bindgen_test]
async fn destroy_ends_requests_and_timers_and_mount_again_works() {
    setup();
    // setTimeout/clearTimeout watched: which timers of ours are still pending after destroy.
    eval(
        "const kc = window.__kc; const set = window.setTimeout, clear = window.clearTimeout;
         window.setTimeout = function (f, ms) { const h = set.apply(window, arguments);
           if (ms >= 1000) kc.timers[h] = ms; return h; };
         window.clearTimeout = function (h) { delete kc.timers[h]; return clear.call(window, h); };",
    );
    let host = document().create_element("div").unwrap();
    host.set_id("mounted-by-script");
    document().body().unwrap().append_child(&host).unwrap();
    let mount = |options: &str| {
        let f = js_sys::Function::new_with_args(
            "el, options",
            "return window.KlarnaCheckout.mount(el, options);",
        );
        f.call2(
            &wasm_bindgen::JsValue::NULL,
            &host,
            &js_sys::JSON::parse(options).unwrap(),
        )
        .unwrap()
    };
    let destroy = |handle: &wasm_bindgen::JsValue| {
        let f = js_sys::Reflect::get(handle, &"destroy".into()).unwrap();
        f.unchecked_ref::<js_sys::Function>().call0(handle).unwrap();
    };

    // 1. Destroyed while its first request is in flight: the request is aborted.
    eval("window.__kc.hang = true");
    let handle = mount(r#"{"cart":"a","locale":"en-DE"}"#);
    until("the session request", || {
        calls().contains(&"POST /api/checkout/sessions".to_string())
    })
    .await;
    destroy(&handle);
    until("the abort", || {
        calls().contains(&"aborted /api/checkout/sessions".to_string())
    })
    .await;
    assert_eq!(host.child_element_count(), 0, "its DOM is gone");
    destroy(&handle); // twice is harmless

    // 2. Mounted again: a new checkout, which starts its session-expiry timer.
    eval("window.__kc.hang = false; window.__kc.events = [];");
    let handle = mount(r#"{"cart":"a","locale":"en-DE"}"#);
    until("ready", || buy_enabled(&host)).await;
    assert!(
        eval("Object.values(window.__kc.timers).length")
            .as_f64()
            .unwrap()
            >= 1.0,
        "the 48-hour session timer runs"
    );
    destroy(&handle);
    assert_eq!(
        eval("Object.values(window.__kc.timers).length").as_f64(),
        Some(0.0),
        "every timer of the checkout is cleared"
    );
    // Nothing it started says anything after it is gone, once all the page had queued ran.
    let heard = events().len();
    browser::drained().await;
    assert_eq!(events().len(), heard);
    assert_eq!(host.child_element_count(), 0);

    // 3. Mounted again, with other options: it works, and goes again.
    let handle = mount(r#"{"cart":"b","locale":"en-DE","theme":"dark"}"#);
    until("ready again", || buy_enabled(&host)).await;
    assert!(within(&host, ".kc[data-theme='dark']").is_some());
    destroy(&handle);
    host.remove();
}

#[wasm_bindgen_test]
async fn attribute_changes_update_a_mounted_checkout() {
    setup();
    let el = element("a", None);
    until("ready", || buy_enabled(&el)).await;
    assert!(text_in(&el, ".kc-cart").contains("Item of cart a"));
    el.set_attribute("theme", "dark").unwrap();
    until("recoloured", || {
        within(&el, ".kc[data-theme='dark']").is_some()
    })
    .await;
    let sessions = || {
        calls()
            .iter()
            .filter(|c| *c == "POST /api/checkout/sessions")
            .count()
    };
    let before = sessions();
    el.set_attribute("cart", "b").unwrap();
    until("cart b", || {
        text_in(&el, ".kc-cart").contains("Item of cart b")
    })
    .await;
    assert_eq!(sessions(), before + 1, "a new cart starts a new session");
    // Removed from the page: destroyed (its requests and timers end, as above).
    el.remove();
    until("unmounted", || el.child_element_count() == 0).await;
}

#[wasm_bindgen_test]
async fn events_bubble_composed_with_a_typed_detail_and_never_a_token() {
    setup();
    eval("window.__kc.events = [];");
    let el = element("a", None);
    until("ready", || buy_enabled(&el)).await;
    // Another category: `change`.
    let later: web_sys::HtmlInputElement = el
        .query_selector(".kc-category input[value=pay_later]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    later.click();
    until("A's pay_later widget", || {
        eval("window.__kc.loaded.pay_later === true").is_truthy()
    })
    .await;
    // The shopper closes Klarna: `cancel`; then buys: `order-created`.
    fill(&el);
    eval("window.__kc.abort = true");
    within(&el, ".kc-buy").unwrap().click();
    until("cancel", || {
        events().iter().any(|e| e.starts_with("cancel@"))
    })
    .await;
    eval("window.__kc.abort = false");
    until("Buy again", || buy_enabled(&el)).await;
    within(&el, ".kc-buy").unwrap().click();
    until("order", || {
        events().iter().any(|e| e.starts_with("order-created@"))
    })
    .await;
    let heard = events();
    let detail = |name: &str| {
        heard
            .iter()
            .find(|e| e.starts_with(&format!("{name}@a ")))
            .unwrap_or_else(|| panic!("no {name} in {heard:?}"))
            .split_once(' ')
            .unwrap()
            .1
            .to_string()
    };
    assert_eq!(
        detail("ready"),
        r#"{"cart":"a","country":"DE","currency":"EUR","total":2490,"category":"pay_now","categories":["pay_now","pay_later"]}"#
    );
    assert_eq!(
        detail("change"),
        r#"{"cart":"a","country":"DE","currency":"EUR","total":2490,"category":"pay_later","categories":["pay_now","pay_later"]}"#
    );
    assert_eq!(detail("cancel"), r#"{"category":"pay_later"}"#);
    assert_eq!(
        detail("order-created"),
        r#"{"order_id":"order-a","state":"accepted","total":2490,"currency":"EUR"}"#
    );
    assert!(
        eval("window.__kc.events.every(e => e.bubbles && e.composed)").is_truthy(),
        "every event bubbles and is composed"
    );
    for e in &heard {
        for secret in ["ct.a.secret", "auth.", "sess-a"] {
            assert!(!e.contains(secret), "{secret} leaked in {e}");
        }
    }
    el.remove();
}

#[wasm_bindgen_test]
async fn theme_variables_on_an_ancestor_take_effect_and_presets_apply() {
    setup();
    let shop = document().create_element("div").unwrap();
    shop.set_attribute(
        "style",
        "--kc-font: Georgia, serif; --kc-color-accent: rgb(1, 2, 3); --kc-border-radius: 3px",
    )
    .unwrap();
    document().body().unwrap().append_child(&shop).unwrap();
    let el = element("a", Some(&shop));
    until("ready", || buy_enabled(&el)).await;
    let style = |css: &str, property: &str| {
        let e = within(&el, css).unwrap();
        web_sys::window()
            .unwrap()
            .get_computed_style(&e)
            .unwrap()
            .unwrap()
            .get_property_value(property)
            .unwrap()
    };
    assert!(style(".kc", "font-family").starts_with("Georgia"));
    // Klarna's widget is asked for the same look (the session's `options`).
    assert_eq!(
        strings("window.__kc.bodies.filter(b => b.includes('\"cart\"')).map(b => JSON.stringify(JSON.parse(b).widget))"),
        [r##"{"color_border":"#857F79","color_border_selected":"#010203","color_details":"#5C5752","color_text":"#17120F","radius_border":"3px"}"##]
    );
    assert_eq!(style(".kc-buy", "background-color"), "rgb(1, 2, 3)");
    assert_eq!(style(".kc-payment", "border-top-left-radius"), "3px");
    // The light preset by default; the dark preset turns text light and surfaces dark,
    // while the storefront's own accent still wins.
    assert_eq!(style(".kc", "color"), "rgb(23, 18, 15)");
    el.set_attribute("theme", "dark").unwrap();
    until("the dark preset", || {
        within(&el, ".kc[data-theme='dark']").is_some()
    })
    .await;
    assert_eq!(style(".kc", "color"), "rgb(243, 241, 238)");
    assert_eq!(style(".kc-payment", "background-color"), "rgb(31, 27, 24)");
    assert_eq!(style(".kc-buy", "background-color"), "rgb(1, 2, 3)");
    shop.remove();
}

#[wasm_bindgen_test]
async fn klarnas_script_loads_once_for_two_checkouts_and_its_callback_is_put_back() {
    setup();
    // Klarna's script is not there yet: a stand-in that defines it a little later and calls
    // `klarnaAsyncCallback`, as api.js does. The storefront has its own callback already.
    eval(
        "window.__kcFake = window.Klarna; delete window.Klarna;
         window.__kc.runs = 0;
         window.storefrontCallback = function () { window.__kc.storefrontCalled = true; };
         window.klarnaAsyncCallback = window.storefrontCallback;
         const src = 'window.__kc.runs++; setTimeout(function () { window.Klarna = window.__kcFake; \
           if (window.klarnaAsyncCallback) window.klarnaAsyncCallback(); }, 30);';
         window.__kcScript = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
         for (const cart of ['a', 'b']) window.__kcSessions[cart].sdk_url = window.__kcScript;",
    );
    let a = element("a", None);
    let b = element("b", None);
    until("both shopping with Klarna", || {
        buy_enabled(&a) != buy_enabled(&b) && eval("!!window.Klarna").is_truthy()
    })
    .await;
    assert_eq!(
        eval("document.querySelectorAll('script[src=\"' + window.__kcScript + '\"]').length")
            .as_f64(),
        Some(1.0),
        "one tag for both checkouts"
    );
    assert_eq!(eval("window.__kc.runs").as_f64(), Some(1.0));
    assert!(eval("window.__kc.storefrontCalled === true").is_truthy());
    assert!(
        eval("window.klarnaAsyncCallback === window.storefrontCallback").is_truthy(),
        "the storefront's callback is back in place"
    );
    a.remove();
    b.remove();
    eval("delete window.klarnaAsyncCallback; for (const c of ['a', 'b']) window.__kcSessions[c].sdk_url = '/never-loaded.js';");
}

#[wasm_bindgen_test]
async fn a_refusal_and_a_fraud_review_have_their_own_event_details() {
    setup();
    eval("window.__kc.events = []; window.__kc.reject = true; window.__kc.orderState = 'pending';");
    let el = element("b", None);
    until("ready", || buy_enabled(&el)).await;
    fill(&el);
    // Klarna refuses this category for good: `error`, and the next category is offered.
    within(&el, ".kc-buy").unwrap().click();
    until("error", || {
        events().iter().any(|e| e.starts_with("error@b "))
    })
    .await;
    eval("window.__kc.reject = false");
    until("the next category's widget", || {
        eval("window.__kc.loaded.pay_later === true").is_truthy() && buy_enabled(&el)
    })
    .await;
    within(&el, ".kc-buy").unwrap().click();
    until("order-pending", || {
        events().iter().any(|e| e.starts_with("order-pending@b "))
    })
    .await;
    let heard = events();
    let detail = |name: &str| {
        heard
            .iter()
            .find(|e| e.starts_with(&format!("{name}@b ")))
            .unwrap()
            .split_once(' ')
            .unwrap()
            .1
            .to_string()
    };
    assert_eq!(detail("error"), r#"{"code":"rejected","retryable":false}"#);
    assert_eq!(
        detail("order-pending"),
        r#"{"order_id":"order-b","state":"pending","total":2490,"currency":"EUR"}"#
    );
    assert!(
        !heard.iter().any(|e| e.starts_with("order-created@b")),
        "a review is not an accepted order: {heard:?}"
    );
    eval("window.__kc.orderState = null");
    el.remove();
}

/// The texts may arrive after Klarna is ready (a slow catalog, a fast API): the widget still
/// loads once its container is there.
#[wasm_bindgen_test]
async fn the_widget_loads_when_the_texts_arrive_after_klarna() {
    setup();
    eval("window.__kc.catalogDelay = 300;");
    let el = document().create_element("klarna-checkout").unwrap();
    el.set_attribute("cart", "a").unwrap();
    el.set_attribute("locale", "sv-DE").unwrap();
    document().body().unwrap().append_child(&el).unwrap();
    until("Klarna initialised before the texts", || {
        calls().iter().any(|c| c.starts_with("init "))
    })
    .await;
    assert!(within(&el, ".kc-buy").is_none(), "texts not there yet");
    until("the widget in its container", || {
        within(&el, ".kc-widget:not([hidden])")
            .and_then(|w| w.get_attribute("data-token"))
            .is_some()
    })
    .await;
    assert_eq!(text_in(&el, ".kc-buy"), "Köp");
    eval("window.__kc.catalogDelay = 0;");
    el.remove();
}

fn mount_by_script(host: &web_sys::Element, options: &str) -> wasm_bindgen::JsValue {
    let f = js_sys::Function::new_with_args(
        "el, options",
        "return window.KlarnaCheckout.mount(el, options);",
    );
    f.call2(
        &wasm_bindgen::JsValue::NULL,
        host,
        &js_sys::JSON::parse(options).unwrap(),
    )
    .unwrap()
}

fn session_requests() -> usize {
    calls()
        .iter()
        .filter(|c| *c == "POST /api/checkout/sessions")
        .count()
}

/// A storefront that destroys (or re-carts) the checkout from inside one of its event
/// listeners must not take the page down: the checkout stops there, and another one on the
/// page still works.
#[wasm_bindgen_test]
async fn destroying_from_inside_an_event_listener_is_safe() {
    setup();
    eval(
        "document.addEventListener('klarna-checkout:ready', function once(e) {
           if (e.target.getAttribute('cart') !== 'a') return;
           document.removeEventListener('klarna-checkout:ready', once);
           e.target.kcHandle.destroy();
           window.__kc.destroyedInListener = true;
         });",
    );
    let a = element("a", None);
    until("destroyed by the listener", || {
        eval("window.__kc.destroyedInListener === true").is_truthy()
    })
    .await;
    assert_eq!(a.child_element_count(), 0);
    // The page (and its wasm) lives on.
    let b = element("b", None);
    until("another checkout works", || buy_enabled(&b)).await;
    assert!(
        !calls().contains(&"init ct.a.secret".to_string()),
        "the destroyed checkout went no further (it never took Klarna): {:?}",
        calls()
    );
    assert_eq!(strings("window.__kc.errors"), Vec::<String>::new());
    a.remove();
    b.remove();
}

#[wasm_bindgen_test]
async fn buy_waits_until_klarna_has_shown_the_widget() {
    setup();
    eval("window.__kc.loadDelay = 300;");
    let el = element("a", None);
    until("the widget asked for", || {
        calls().iter().any(|c| c.starts_with("load ct.a"))
    })
    .await;
    assert!(
        within(&el, ".kc-buy").is_some() && !buy_enabled(&el),
        "Buy waits while Klarna has not answered load()"
    );
    until("Klarna's answer", || buy_enabled(&el)).await;
    eval("window.__kc.loadDelay = 0;");
    el.remove();
}

#[wasm_bindgen_test]
async fn one_checkout_per_element_however_often_it_is_mounted() {
    setup();
    let host = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    mount_by_script(&host, r#"{"cart":"a"}"#);
    let second = mount_by_script(&host, r#"{"cart":"b"}"#);
    until("the second mount", || {
        text_in(&host, ".kc-cart").contains("Item of cart b")
    })
    .await;
    assert_eq!(
        host.query_selector_all(".kc").unwrap().length(),
        1,
        "the second mount replaced the first"
    );
    // A script's mount on a <klarna-checkout> replaces the element's own checkout too, and
    // removing the element ends it.
    let el = element("a", None);
    until("the element's checkout", || buy_enabled(&el)).await;
    mount_by_script(&el, r#"{"cart":"b"}"#);
    until("replaced", || {
        text_in(&el, ".kc-cart").contains("Item of cart b")
    })
    .await;
    assert_eq!(el.query_selector_all(".kc").unwrap().length(), 1);
    el.remove();
    until("ended with its element", || el.child_element_count() == 0).await;
    let destroy = js_sys::Reflect::get(&second, &"destroy".into()).unwrap();
    destroy
        .unchecked_ref::<js_sys::Function>()
        .call0(&second)
        .unwrap();
    assert_eq!(host.child_element_count(), 0);
    host.remove();
}

#[wasm_bindgen_test]
async fn no_cart_no_checkout_and_attributes_set_together_start_one() {
    setup();
    let el = document().create_element("klarna-checkout").unwrap();
    document().body().unwrap().append_child(&el).unwrap();
    let before = session_requests();
    // A framework sets the attributes after inserting the element, several at once.
    el.set_attribute("cart", "b").unwrap();
    el.set_attribute("locale", "en-DE").unwrap();
    el.set_attribute("theme", "dark").unwrap();
    until("started", || buy_enabled(&el)).await;
    assert_eq!(
        session_requests(),
        before + 1,
        "one session, on the cart it was given"
    );
    assert!(text_in(&el, ".kc-cart").contains("Item of cart b"));
    el.remove();
}

#[wasm_bindgen_test]
async fn klarna_goes_back_to_the_waiting_checkout_and_never_mid_purchase() {
    setup();
    let a = element("a", None);
    until("A ready", || buy_enabled(&a)).await;
    // A's shopper is in Klarna's dialog (authorize has not answered): B, arriving now, waits.
    fill(&a);
    eval("window.__kc.authorizeHang = true;");
    within(&a, ".kc-buy").unwrap().click();
    let b = element("b", None);
    until("B waiting", || {
        within(&b, ".kc-paused").is_some_and(|p| !p.hidden())
    })
    .await;
    assert!(
        !calls().contains(&"init ct.b.secret".to_string()),
        "Klarna is not taken from a purchase under way: {:?}",
        calls()
    );
    // A goes (the storefront removes it): B takes Klarna back by itself.
    eval("window.__kc.authorizeHang = false;");
    a.remove();
    until("B took Klarna", || buy_enabled(&b)).await;
    assert!(within(&b, ".kc-paused").is_some_and(|p| p.hidden()));
    b.remove();
}
