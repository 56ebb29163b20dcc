//! The browser's `Intl` does what no catalog should: country names (`Intl.DisplayNames`),
//! plural categories (`Intl.PluralRules`), numbers and dates (`Intl.NumberFormat`,
//! `Intl.DateTimeFormat`), for every language at no cost to the bundle. Bound here by hand
//! (js-sys has no `DisplayNames`), each constructor with `catch`: a tag `Intl` refuses must
//! not take the page down.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Intl)]
    type DisplayNames;
    #[wasm_bindgen(constructor, js_namespace = Intl, catch)]
    fn new(locales: &str, options: &Object) -> Result<DisplayNames, JsValue>;
    #[wasm_bindgen(method)]
    fn of(this: &DisplayNames, code: &str) -> Option<String>;

    #[wasm_bindgen(js_namespace = Intl)]
    type PluralRules;
    #[wasm_bindgen(constructor, js_namespace = Intl, catch)]
    fn new(locales: &str) -> Result<PluralRules, JsValue>;
    #[wasm_bindgen(method)]
    fn select(this: &PluralRules, n: f64) -> String;

    #[wasm_bindgen(js_namespace = Intl)]
    type NumberFormat;
    #[wasm_bindgen(constructor, js_namespace = Intl, catch)]
    fn new(locales: &str) -> Result<NumberFormat, JsValue>;
    #[wasm_bindgen(method, js_name = format)]
    fn format_number(this: &NumberFormat, n: f64) -> String;

    #[wasm_bindgen(js_namespace = Intl)]
    type DateTimeFormat;
    #[wasm_bindgen(constructor, js_namespace = Intl, catch)]
    fn new(locales: &str, options: &Object) -> Result<DateTimeFormat, JsValue>;
    #[wasm_bindgen(method, js_name = format)]
    fn format_date(this: &DateTimeFormat, date: &js_sys::Date) -> String;
}

fn options(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), &(*v).into());
    }
    o
}

/// A country's name in `locale`'s language (`SE` in Swedish: "Sverige"), if `Intl` knows it.
pub fn country_name(locale: &str, code: &str) -> Option<String> {
    DisplayNames::new(locale, &options(&[("type", "region")]))
        .ok()?
        .of(code)
        .filter(|n| n != code)
}

/// CLDR's plural category of `n` in `locale` (`one`, `few`, `many`, `other`, …).
pub fn plural_category(locale: &str, n: i64) -> String {
    PluralRules::new(locale)
        .map(|r| r.select(n as f64))
        .unwrap_or_else(|_| if n == 1 { "one" } else { "other" }.into())
}

/// `n` with `locale`'s digit grouping ("1.234" in German).
pub fn number(locale: &str, n: i64) -> String {
    NumberFormat::new(locale)
        .map(|f| f.format_number(n as f64))
        .unwrap_or_else(|_| n.to_string())
}

/// A calendar date (`YYYY-MM-DD`, as the server sends it) in `locale`'s short numeric form
/// ("15.06.2026", "06/15/2026"). Formatted in UTC from UTC midnight: the date shown is the
/// server's date whatever the browser's time zone, as when the page showed the ISO text.
pub fn date(locale: &str, iso: &str) -> String {
    let parsed = js_sys::Date::new(&format!("{iso}T00:00:00Z").into());
    if parsed.get_time().is_nan() {
        return iso.to_string();
    }
    let opts = options(&[
        ("year", "numeric"),
        ("month", "2-digit"),
        ("day", "2-digit"),
        ("timeZone", "UTC"),
    ]);
    DateTimeFormat::new(locale, &opts)
        .map(|f| f.format_date(&parsed))
        .unwrap_or_else(|_| iso.to_string())
}
