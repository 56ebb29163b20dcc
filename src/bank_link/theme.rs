//! The bank page's colour preset follows its element's `theme` attribute (`light`, the
//! default, or `dark`), also when the attribute changes later, as the checkout's does: the
//! root's `data-theme` picks the preset in `style/checkout.css` and `style/bank-link.css`.

use super::Ctx;
use crate::checkout::state::Theme;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(inline_js = r#"
export function observe(element, changed) {
  const observer = new MutationObserver(() => changed(element.getAttribute("theme") || ""));
  observer.observe(element, { attributes: true, attributeFilter: ["theme"] });
  return observer;
}
export function disconnect(observer) { observer.disconnect(); }
"#)]
extern "C" {
    /// Calls `changed` with the `theme` attribute's value whenever it changes.
    fn observe(element: &web_sys::HtmlElement, changed: &js_sys::Function) -> JsValue;
    fn disconnect(observer: &JsValue);
}

/// Recolours the page when its element's `theme` changes; stops when the page is unmounted.
pub(super) fn watch(ctx: Ctx) {
    let Some(host) = ctx.host.get_value() else {
        return;
    };
    let theme = ctx.theme;
    // Owned by the observer (JS): after the page is gone the signal is too, and `try_set`
    // does nothing.
    let changed = Closure::<dyn Fn(String)>::new(move |value: String| {
        theme.try_set(Theme::parse(&value));
    })
    .into_js_value();
    let observer = StoredValue::new_local(observe(&host, changed.unchecked_ref()));
    on_cleanup(move || {
        observer.try_with_value(disconnect);
    });
}
