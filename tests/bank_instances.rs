//! Two `<klarna-bank-link>` elements on one page, mounted the way the bank bundle mounts them
//! (`bank_link::mount_all`): each one's ids are its own (every label's `for` and every
//! `aria-describedby`/`aria-labelledby` points into the same instance, no id twice), focus
//! moves within the instance that has the news, and each follows its own `theme` (the light
//! and dark presets, under the storefront's `--kc-*` variables set on an ancestor).
#![cfg(all(target_arch = "wasm32", feature = "bank-link"))]

use bank_fake::*;
use browser::until;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod bank_fake;
mod browser;
mod texts;

/// A `<klarna-bank-link>` with `attributes`, appended to `parent` (else the body).
fn element(attributes: &[(&str, &str)], parent: Option<&web_sys::Element>) -> web_sys::HtmlElement {
    let el: web_sys::HtmlElement = document()
        .create_element("klarna-bank-link")
        .unwrap()
        .unchecked_into();
    el.set_attribute("locale", "en-DE").unwrap();
    for (name, value) in attributes {
        el.set_attribute(name, value).unwrap();
    }
    match parent {
        Some(p) => p.append_child(&el).unwrap(),
        None => document().body().unwrap().append_child(&el).unwrap(),
    };
    el
}

fn within(host: &web_sys::HtmlElement, css: &str) -> Option<web_sys::HtmlElement> {
    host.query_selector(css)
        .unwrap()
        .map(|e| e.unchecked_into())
}

fn type_within(host: &web_sys::HtmlElement, css: &str, value: &str) {
    let input: web_sys::HtmlInputElement = within(host, css).unwrap().unchecked_into();
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

async fn sign_in(host: &web_sys::HtmlElement) {
    type_within(host, "[data-kc-field='user']", "bookkeeper");
    type_within(host, "[data-kc-field='password']", "sandbox-password");
    within(host, ".kc-sign-in").unwrap().click();
    until("the linked banks", || {
        within(host, ".kc-bank-card").is_some()
    })
    .await;
}

/// The references (`for`, `aria-describedby`, `aria-labelledby`) made inside the `hosts`,
/// and what is wrong with them: an id on the page twice, a reference to no element, or to an
/// element of another instance.
fn references(hosts: &[&web_sys::HtmlElement]) -> (u32, Vec<String>) {
    let array = js_sys::Array::new();
    for host in hosts {
        array.push(host);
    }
    js_sys::Reflect::set(&js_sys::global(), &"__kc_hosts".into(), &array).unwrap();
    let found = js_sys::eval(
        r#"(function () {
          const problems = [], seen = {};
          let refs = 0;
          for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;
          for (const id in seen) if (seen[id] > 1) problems.push('id ' + id + ' is on the page ' + seen[id] + ' times');
          window.__kc_hosts.forEach(function (host, i) {
            for (const e of host.querySelectorAll('[for], [aria-describedby], [aria-labelledby]')) {
              for (const name of ['for', 'aria-describedby', 'aria-labelledby']) {
                for (const id of (e.getAttribute(name) || '').split(/\s+/).filter(Boolean)) {
                  refs++;
                  const target = document.getElementById(id);
                  if (!target) problems.push('instance ' + i + ': ' + name + '=' + id + ' names no element');
                  else if (!host.contains(target)) problems.push('instance ' + i + ': ' + name + '=' + id + ' points into another instance');
                }
              }
            }
          });
          return JSON.stringify({ refs: refs, problems: problems });
        })()"#,
    )
    .unwrap()
    .as_string()
    .unwrap();
    let parsed = js_sys::JSON::parse(&found).unwrap();
    let refs = js_sys::Reflect::get(&parsed, &"refs".into())
        .unwrap()
        .as_f64()
        .unwrap() as u32;
    let problems = js_sys::Array::from(&js_sys::Reflect::get(&parsed, &"problems".into()).unwrap())
        .iter()
        .filter_map(|p| p.as_string())
        .collect();
    (refs, problems)
}

/// Every reference of both instances stays inside its own instance; `at_least` of them were
/// checked (so a state without any would not pass by checking nothing).
fn assert_own_ids(state: &str, hosts: &[&web_sys::HtmlElement], at_least: u32) {
    let (refs, problems) = references(hosts);
    assert!(problems.is_empty(), "{state}: {problems:#?}");
    assert!(refs >= at_least, "{state}: only {refs} references checked");
}

#[wasm_bindgen_test]
async fn two_bank_pages_on_one_page_keep_their_ids_and_focus_to_themselves() {
    fake_bank_server(
        200,
        r#"{"running":false,"pages":1,"fetched":2,"added":1,"from_date":"2026-06-01","to_date":"2026-06-15"}"#,
    );
    js_sys::eval(
        r#"window.__kc_routes["GET /api/accounts/a-1/transactions"] = [200, '[{"booking_date":"2026-06-12","amount":-1999,"currency":"EUR","counterparty":"Stadtwerke Musterstadt","reference":"Abschlag Strom"}]'];
           window.__kc_routes["GET /api/accounts/a-1/transactions/pending"] = [200, '[{"date":"2026-06-15","amount":-2340,"currency":"EUR","counterparty":"REWE Markt GmbH","reference":"REWE SAGT DANKE"}]'];"#,
    )
    .unwrap();
    texts::install_bank();
    let a = element(&[], None);
    let b = element(&[], None);
    klarna_checkout::bank_link::mount_all();
    until("both sign-in forms", || {
        within(&a, ".kc-sign-in").is_some() && within(&b, ".kc-sign-in").is_some()
    })
    .await;
    // User name and password: a label each, in each instance.
    assert_own_ids("sign-in", &[&a, &b], 4);
    sign_in(&a).await;
    sign_in(&b).await;
    // The second sign-in moves focus to the second page's company field, not the first's.
    // (The first sign-in put it on the first page's: wait for it to move, or time out.)
    until("focus on the second page's company field", || {
        document().active_element().is_some_and(|f| {
            b.contains(Some(&f)) && f.get_attribute("data-kc-field").as_deref() == Some("company")
        })
    })
    .await;
    let focused = document().active_element().unwrap();
    assert!(
        b.contains(Some(&focused))
            && focused.get_attribute("data-kc-field").as_deref() == Some("company"),
        "focus is on {:?} in {}",
        focused.outer_html(),
        if a.contains(Some(&focused)) {
            "the first instance"
        } else {
            "neither instance"
        }
    );
    // Company and start date (labels, the date's help), the linked banks' heading.
    assert_own_ids("link form and banks", &[&a, &b], 8);
    for host in [&a, &b] {
        within(host, ".kc-sync").unwrap().click();
    }
    until("both pending tables", || {
        within(&a, ".kc-pending").is_some() && within(&b, ".kc-pending").is_some()
    })
    .await;
    // Each pending table is described by its own help text.
    assert_own_ids("pending transactions", &[&a, &b], 10);
    for host in [&a, &b] {
        let table = within(host, ".kc-pending").unwrap();
        let help = table.get_attribute("aria-describedby").unwrap();
        let text = document()
            .get_element_by_id(&help)
            .unwrap()
            .text_content()
            .unwrap();
        assert!(
            text.contains("not in the books or the CSV export"),
            "{text}"
        );
    }
    a.remove();
    b.remove();
}

/// The stylesheets the bank bundle ships, once per page.
fn install_styles() {
    if document().get_element_by_id("kc-test-style").is_none() {
        let style = document().create_element("style").unwrap();
        style.set_id("kc-test-style");
        let css = [
            include_str!("../style/checkout.css"),
            include_str!("../style/bank-link.css"),
        ]
        .concat();
        style.set_text_content(Some(&css));
        document().head().unwrap().append_child(&style).unwrap();
    }
}

fn style(host: &web_sys::HtmlElement, css: &str, property: &str) -> String {
    web_sys::window()
        .unwrap()
        .get_computed_style(&within(host, css).unwrap())
        .unwrap()
        .unwrap()
        .get_property_value(property)
        .unwrap()
}

#[wasm_bindgen_test]
async fn each_bank_page_follows_its_theme_under_an_ancestors_variables() {
    fake_bank_server(200, "{}");
    texts::install_bank();
    install_styles();
    let shop = document().create_element("div").unwrap();
    shop.set_attribute(
        "style",
        "--kc-font: Georgia, serif; --kc-color-accent: rgb(1, 2, 3); --kc-border-radius: 3px",
    )
    .unwrap();
    document().body().unwrap().append_child(&shop).unwrap();
    let dark = element(&[("theme", "dark")], Some(&shop));
    let light = element(&[], None);
    klarna_checkout::bank_link::mount_all();
    until("both sign-in forms", || {
        within(&dark, ".kc-sign-in").is_some() && within(&light, ".kc-sign-in").is_some()
    })
    .await;
    assert_eq!(attr_of(&dark, ".kc", "data-theme").as_deref(), Some("dark"));
    assert_eq!(
        attr_of(&light, ".kc", "data-theme").as_deref(),
        Some("light")
    );
    // The presets: light text on dark surfaces, and the reverse.
    assert_eq!(style(&dark, ".kc", "color"), "rgb(243, 241, 238)");
    assert_eq!(
        style(&dark, ".kc-fieldset", "background-color"),
        "rgb(31, 27, 24)"
    );
    assert_eq!(style(&light, ".kc", "color"), "rgb(23, 18, 15)");
    assert_eq!(
        style(&light, ".kc-fieldset", "background-color"),
        "rgb(255, 255, 255)"
    );
    // The storefront's variables on an ancestor win over the preset.
    assert!(style(&dark, ".kc", "font-family").starts_with("Georgia"));
    assert_eq!(
        style(&dark, ".kc-sign-in", "background-color"),
        "rgb(1, 2, 3)"
    );
    assert_eq!(
        style(&dark, ".kc-fieldset", "border-top-left-radius"),
        "3px"
    );
    assert_eq!(
        style(&light, ".kc-sign-in", "background-color"),
        "rgb(23, 18, 15)"
    );
    // The consent badge has its dark colours (9.8:1).
    sign_in(&dark).await;
    assert_eq!(
        style(&dark, ".kc-consent-valid", "color"),
        "rgb(185, 230, 191)"
    );
    assert_eq!(
        style(&dark, ".kc-consent-valid", "background-color"),
        "rgb(29, 51, 34)"
    );
    // A `theme` changed later recolours the page in place.
    light.set_attribute("theme", "dark").unwrap();
    until("the dark preset", || {
        attr_of(&light, ".kc", "data-theme").as_deref() == Some("dark")
    })
    .await;
    assert_eq!(style(&light, ".kc", "color"), "rgb(243, 241, 238)");
    shop.remove();
    light.remove();
}

fn attr_of(host: &web_sys::HtmlElement, css: &str, name: &str) -> Option<String> {
    within(host, css).and_then(|e| e.get_attribute(name))
}
