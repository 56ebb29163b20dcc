//! Mounting into a storefront's page: every `<klarna-checkout>` element becomes a checkout.
//! Attributes: `endpoint` (server base URL, default: this page's origin), `cart` (cart
//! reference), `locale` (default: the page's `lang`, else the browser's languages, else
//! English; see `i18n::locale`).

use crate::api::Endpoint;
use crate::checkout::state::Options;
use crate::checkout::Checkout;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

pub const TAG: &str = "klarna-checkout";

/// Reads an element's options.
pub fn options_of(element: &web_sys::HtmlElement) -> Options {
    let attr = |name: &str| element.get_attribute(name).filter(|v| !v.trim().is_empty());
    Options {
        endpoint: Endpoint(attr("endpoint").unwrap_or_default()),
        cart: attr("cart").unwrap_or_else(|| "demo".into()),
        locale: crate::i18n::page_locale(attr("locale"), "GB").1,
        host: Some(element.clone()),
    }
}

/// Fires the DOM event `name` on `host`: bubbling and composed, so a storefront's listener on
/// the element, an ancestor or the document hears it.
pub fn dispatch(host: &web_sys::HtmlElement, name: &str, detail: &wasm_bindgen::JsValue) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(detail);
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = host.dispatch_event(&event);
    }
}

/// Calls `mount` once for every `<tag>` element of the page not mounted yet.
pub fn mount_each(tag: &str, mount: impl Fn(web_sys::HtmlElement)) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(nodes) = document.query_selector_all(&format!("{tag}:not([data-kc-mounted])")) else {
        return;
    };
    for i in 0..nodes.length() {
        let Some(element) = nodes
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        else {
            continue;
        };
        let _ = element.set_attribute("data-kc-mounted", "");
        mount(element);
    }
}

/// Mounts a checkout into every `<klarna-checkout>` element of the page.
pub fn mount_all() {
    mount_each(TAG, |element| {
        let options = options_of(&element);
        leptos::mount::mount_to(
            element,
            move || view! { <Checkout options=options.clone() /> },
        )
        .forget();
    });
}
