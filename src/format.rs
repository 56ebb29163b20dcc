//! Money for people: `Intl.NumberFormat` knows every locale's symbol, separators and order, and
//! costs the bundle nothing.

use klarna::money::{to_decimal_string, Currency};

pub fn money(minor: i64, currency: Currency, locale: &str) -> String {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"style".into(), &"currency".into());
    let _ = js_sys::Reflect::set(&options, &"currency".into(), &currency.code().into());
    let locales = js_sys::Array::of1(&locale.into());
    let scale = 10f64.powi(currency.exponent() as i32);
    let formatter = js_sys::Intl::NumberFormat::new(&locales, &options);
    let formatted = formatter
        .format()
        .call1(&formatter, &(minor as f64 / scale).into());
    formatted
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| format!("{} {}", to_decimal_string(minor, currency), currency.code()))
}
