//! Languages in headless Chromium (wasm-bindgen-test): catalogs, `Intl` plurals and country
//! names, where the locale comes from, and what a shopper sees while the texts are on their
//! way or cannot be fetched.
#![cfg(target_arch = "wasm32")]

mod browser;

use browser::until;
mod texts;

use klarna::api::CheckoutSession;
use klarna::Country;
use klarna_checkout::api::Endpoint;
use klarna_checkout::checkout::state::{Ctx, Options, Phase};
use klarna_checkout::checkout::CheckoutView;
use klarna_checkout::i18n::catalog::{install, state, Flow, Load};
use klarna_checkout::i18n::{page_locale, plural, Lang};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn session() -> CheckoutSession {
    CheckoutSession {
        locale: "sv-DE".into(),
        countries: vec![Country::DE, Country::AT, Country::SE],
        ..browser::session("s-1", "a.b.c", "Organic cotton T-shirt", 2, &["pay_later"])
    }
}

/// A checkout in the shopping phase, in `locale`, without touching Klarna.
fn mount(locale: &str) -> web_sys::HtmlElement {
    let root: web_sys::HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&root).unwrap();
    let ctx = Ctx::new(Options {
        endpoint: Endpoint(String::new()),
        cart: "demo".into(),
        locale: locale.into(),
        host: Some(root.clone()),
        ..Options::default()
    });
    ctx.session.set(Some(session()));
    ctx.phase.set(Phase::Shopping);
    leptos::mount::mount_to(root.clone(), move || view! { <CheckoutView ctx=ctx /> }).forget();
    root
}

#[wasm_bindgen_test]
async fn a_swedish_checkout_speaks_swedish_and_names_countries_in_swedish() {
    install(
        Flow::Checkout,
        Lang::Sv,
        include_str!("../i18n/checkout/sv.txt"),
    )
    .unwrap();
    let root = mount("sv-SE");
    until("the cart", || {
        root.text_content()
            .unwrap_or_default()
            .contains("Din varukorg")
    })
    .await;
    let all = root.text_content().unwrap_or_default();
    assert!(
        all.contains("Faktureringsadress") && all.contains("Köp"),
        "{all}"
    );
    let options: Vec<String> = {
        let list = root
            .query_selector_all("select[name=country] option")
            .unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i).and_then(|n| n.text_content()))
            .collect()
    };
    // From Intl.DisplayNames, not from a catalog.
    for name in ["Tyskland", "Österrike", "Sverige"] {
        assert!(options.iter().any(|o| o == name), "{options:?}");
    }
    root.remove();
}

#[wasm_bindgen_test]
fn plural_forms_follow_intl_plural_rules() {
    texts::install_bank();
    let running = |lang, locale, n| plural(Flow::Bank, lang, locale, "sync.running", n);
    assert!(running(Lang::De, "de-DE", 1).ends_with("bisher 1 Umsatz"));
    assert!(running(Lang::De, "de-DE", 2).ends_with("bisher 2 Umsätze"));
    assert!(running(Lang::En, "en-US", 1).ends_with("1 transaction so far"));
    assert!(running(Lang::En, "en-US", 1234).ends_with("1,234 transactions so far"));
    assert!(running(Lang::Pl, "pl-PL", 2).ends_with("2 transakcje"));
    assert!(running(Lang::Pl, "pl-PL", 5).ends_with("5 transakcji"));
    assert!(running(Lang::Pl, "pl-PL", 22).ends_with("22 transakcje"));
    assert!(running(Lang::Cs, "cs-CZ", 3).ends_with("3 transakce"));
    let pages = |lang, locale, n| plural(Flow::Bank, lang, locale, "sync.pages", n);
    assert_eq!(pages(Lang::Ro, "ro-RO", 20), "20 de pagini");
    assert_eq!(pages(Lang::Ro, "ro-RO", 2), "2 pagini");
    // The forms each catalog must have (the native completeness test) are the browser's own.
    for lang in Lang::ALL {
        let intl = js_sys::eval(&format!(
            "new Intl.PluralRules('{}').resolvedOptions().pluralCategories.slice().sort().join(',')",
            lang.code()
        ))
        .unwrap()
        .as_string()
        .unwrap();
        assert_eq!(intl, lang.plural_categories().join(","), "{lang:?}");
    }
}

#[wasm_bindgen_test]
fn the_locale_comes_from_the_attribute_then_the_page_then_the_browser() {
    let html = document().document_element().unwrap();
    let before = html.get_attribute("lang");
    html.set_attribute("lang", "fi-FI").unwrap();
    assert_eq!(
        page_locale(Some("de-AT".into()), "GB"),
        (Lang::De, "de-AT".into())
    );
    assert_eq!(page_locale(None, "GB"), (Lang::Fi, "fi-FI".into()));
    html.remove_attribute("lang").unwrap();
    let browser = js_sys::eval("navigator.languages.join(',')")
        .unwrap()
        .as_string()
        .unwrap();
    let expected = klarna_checkout::i18n::locale::resolve(browser.split(','), "GB");
    assert_eq!(
        page_locale(None, "GB"),
        expected,
        "navigator.languages = {browser}"
    );
    if let Some(lang) = before {
        html.set_attribute("lang", &lang).unwrap();
    }
}

#[wasm_bindgen_test]
async fn texts_that_cannot_be_fetched_show_no_key_and_a_retry_that_loads_them() {
    // Romanian is installed by no other test of this file (each installs only what it
    // needs): the component fetches it.
    js_sys::eval(
        r#"
        window.__kc_fetched = [];
        window.__kc_catalog = null;
        window.fetch = function (url) {
          window.__kc_fetched.push(new URL(url, location.href).pathname);
          if (window.__kc_catalog === null) return Promise.resolve(new Response('<!DOCTYPE html>', { status: 200 }));
          return Promise.resolve(new Response(window.__kc_catalog, { status: 200 }));
        };
        "#,
    )
    .unwrap();
    let root = mount("ro-RO");
    // An HTML page where the catalog should be (a server's fallback) is no catalog.
    until("the built-in notice", || {
        root.query_selector("[data-kc=\"texts-failed\"]")
            .unwrap()
            .is_some()
    })
    .await;
    let shown = root.text_content().unwrap_or_default();
    assert!(
        !shown.contains("billing_address") && !shown.contains("Your cart"),
        "{shown}"
    );
    let catalog = include_str!("../i18n/checkout/ro.txt");
    js_sys::Reflect::set(
        &web_sys::window().unwrap(),
        &"__kc_catalog".into(),
        &catalog.into(),
    )
    .unwrap();
    let retry: web_sys::HtmlElement = root
        .query_selector("[data-kc=\"texts-failed\"] button")
        .unwrap()
        .unwrap()
        .unchecked_into();
    retry.click();
    until("Romanian texts", || {
        root.text_content()
            .unwrap_or_default()
            .contains("Coșul dumneavoastră")
    })
    .await;
    assert_eq!(state(Flow::Checkout, Lang::Ro), Load::Ready);
    let fetched = js_sys::eval("window.__kc_fetched.filter(p => p.endsWith('.txt')).join(' ')")
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(fetched, "/i18n/ro.txt /i18n/ro.txt");
    root.remove();
}
