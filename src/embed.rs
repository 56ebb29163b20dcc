//! Mounting into a storefront's page. `<klarna-checkout>` is a custom element, and
//! `window.KlarnaCheckout.mount(element, options)` mounts the same checkout from a script; both
//! take the same path ([`mount`]) and give back a [`CheckoutHandle`] with `update` and
//! `destroy`. Attributes and options: `endpoint` (server base URL, default: this page's
//! origin), `cart` (cart reference), `locale` (else the page's `lang`, else the browser's
//! languages, else English; see `i18n::locale`), `theme` (`light` or `dark`). docs/embedding.md has the details.

use crate::api::Endpoint;
use crate::checkout::state::{Options, Theme};
use crate::checkout::Checkout;
use leptos::mount::UnmountHandle;
use leptos::prelude::*;
use leptos::tachys::view::any_view::AnyViewState;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub const TAG: &str = "klarna-checkout";

/// The attributes a mounted element watches; a change updates the checkout.
pub const ATTRIBUTES: [&str; 4] = ["cart", "locale", "endpoint", "theme"];

#[wasm_bindgen(inline_js = r#"
export function define(tag, attributes, mount) {
  if (customElements.get(tag)) return;
  customElements.define(tag, class extends HTMLElement {
    static get observedAttributes() { return attributes; }
    connectedCallback() { if (!this.kcHandle) mount(this, null); }
    disconnectedCallback() {
      // Moved within the page (removed, then inserted again in the same task): keep it.
      queueMicrotask(() => {
        if (!this.isConnected && this.kcHandle) { this.kcHandle.destroy(); this.kcHandle = null; }
      });
    }
    // Several attributes set in a row (cart, then locale) make one update, not one each.
    attributeChangedCallback() {
      if (!this.kcHandle || this.kcQueued) return;
      this.kcQueued = true;
      queueMicrotask(() => { this.kcQueued = false; if (this.kcHandle) this.kcHandle.update(null); });
    }
  });
}
"#)]
extern "C" {
    /// Defines `<tag>`: connecting it mounts, disconnecting destroys, attributes update.
    fn define(tag: &str, attributes: Vec<JsValue>, mount: &js_sys::Function);
}

/// A string option: the JS object's own property, else the element's attribute.
fn option(element: &web_sys::HtmlElement, options: &JsValue, name: &str) -> Option<String> {
    js_sys::Reflect::get(options, &name.into())
        .ok()
        .and_then(|v| v.as_string())
        .or_else(|| element.get_attribute(name))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The language tag to use: `locale`, else the page's `lang`, else the browser's languages,
/// else English (`i18n::locale` has the rule).
fn locale(element: &web_sys::HtmlElement, options: &JsValue) -> String {
    crate::i18n::page_locale(option(element, options, "locale"), "GB").1
}

/// Reads an element's options, the script's `options` (a JS object, or `null`) first.
pub fn options_of(element: &web_sys::HtmlElement, options: &JsValue) -> Options {
    Options {
        endpoint: Endpoint(option(element, options, "endpoint").unwrap_or_default()),
        // No cart, no checkout: an element whose `cart` is set a moment later (as frameworks
        // do) starts then, and never on a cart it was not given.
        cart: option(element, options, "cart").unwrap_or_default(),
        locale: locale(element, options),
        theme: Theme::parse(&option(element, options, "theme").unwrap_or_default()),
        host: Some(element.clone()),
        life: crate::checkout::life::Life::new(),
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

/// A mounted checkout, as the storefront's script holds it: a plain object with `update` and
/// `destroy` ([`to_js`]). Not a `#[wasm_bindgen]` export: exports are kept in every bundle of
/// the crate, and the bank page's would then carry the whole checkout.
pub struct CheckoutHandle {
    element: web_sys::HtmlElement,
    /// The options given to `mount` (the script's), merged with attributes at every update.
    given: RefCell<JsValue>,
    current: RefCell<Options>,
    mounted: RefCell<Option<UnmountHandle<AnyViewState>>>,
    destroyed: std::cell::Cell<bool>,
    /// The running checkout's requests and timers.
    life: RefCell<crate::checkout::life::Life>,
}

/// The element's property that holds its handle, whichever path mounted it: mounting again
/// replaces the checkout, and removing a `<klarna-checkout>` ends the one a script mounted.
const HANDLE: &str = "kcHandle";

impl CheckoutHandle {
    /// Applies new options (`null`: re-read the attributes). Another cart, locale or endpoint
    /// starts a new checkout in the same element; another theme just recolours it.
    pub fn update(&self, options: JsValue) {
        if !options.is_null() && !options.is_undefined() {
            let merged = js_sys::Object::new();
            js_sys::Object::assign(&merged, self.given.borrow().unchecked_ref());
            js_sys::Object::assign(&merged, options.unchecked_ref());
            *self.given.borrow_mut() = merged.into();
        }
        if self.destroyed.get() {
            return;
        }
        let next = options_of(&self.element, &self.given.borrow());
        let previous = self.current.replace(next.clone());
        if (&next.cart, &next.locale, &next.endpoint)
            != (&previous.cart, &previous.locale, &previous.endpoint)
            || self.mounted.borrow().is_none()
        {
            self.start(next);
        } else if next.theme != previous.theme {
            // The preset is the root's `data-theme`: recolour in place, keep what was typed.
            if let Ok(Some(root)) = self.element.query_selector(":scope > .kc") {
                let _ = root.set_attribute("data-theme", next.theme.name());
            }
        }
    }

    /// Removes the checkout: its DOM, listeners, timers and requests. Safe to call twice.
    pub fn destroy(&self) {
        // Dropping the handle unmounts the view and disposes its owner, whose cleanup ends
        // the checkout's requests and timers and frees Klarna's script for other checkouts.
        // Twice, or after a newer mount replaced it: nothing more to do (and the element's
        // handle is the newer one's).
        if self.destroyed.replace(true) {
            return;
        }
        // Ended first, synchronously: a task of the checkout still running (this may be
        // called from one of its own event listeners) stops at its next step.
        self.end_life();
        drop(self.mounted.borrow_mut().take());
        let _ = self.element.remove_attribute("data-kc-mounted");
        // The element forgets its handle (a new mount or connect starts afresh).
        let _ = js_sys::Reflect::delete_property(
            self.element.unchecked_ref::<js_sys::Object>(),
            &HANDLE.into(),
        );
    }
}

impl CheckoutHandle {
    fn end_life(&self) {
        self.life.borrow().end();
    }

    fn start(&self, options: Options) {
        self.end_life();
        drop(self.mounted.borrow_mut().take());
        if options.cart.is_empty() {
            let _ = self.element.remove_attribute("data-kc-mounted");
            return;
        }
        *self.life.borrow_mut() = options.life.clone();
        let handle = leptos::mount::mount_to(self.element.clone(), move || {
            view! { <Checkout options=options.clone() /> }.into_any()
        });
        *self.mounted.borrow_mut() = Some(handle);
        let _ = self.element.set_attribute("data-kc-mounted", "");
    }
}

/// Mounts a checkout into `element` with `options` (a JS object, or `null` for the element's
/// attributes alone).
pub fn mount(element: web_sys::HtmlElement, options: JsValue) -> Rc<CheckoutHandle> {
    // One checkout per element: a second mount replaces the first.
    if let Ok(previous) = js_sys::Reflect::get(&element, &HANDLE.into()) {
        if let Some(destroy) = js_sys::Reflect::get(&previous, &"destroy".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        {
            let _ = destroy.call0(&previous);
        }
    }
    let current = options_of(&element, &options);
    let handle = CheckoutHandle {
        element,
        given: RefCell::new(options),
        current: RefCell::new(current.clone()),
        mounted: RefCell::new(None),
        destroyed: std::cell::Cell::new(false),
        life: RefCell::new(crate::checkout::life::Life::new()),
    };
    handle.start(current);
    Rc::new(handle)
}

/// The handle as the page's scripts hold it: `{update(options), destroy()}`.
pub fn to_js(handle: Rc<CheckoutHandle>) -> JsValue {
    let object = js_sys::Object::new();
    let h = handle.clone();
    let update = Closure::<dyn Fn(JsValue)>::new(move |options| h.update(options));
    let destroy = Closure::<dyn Fn()>::new(move || handle.destroy());
    let _ = js_sys::Reflect::set(&object, &"update".into(), &update.into_js_value());
    let _ = js_sys::Reflect::set(&object, &"destroy".into(), &destroy.into_js_value());
    object.into()
}

/// Defines `<klarna-checkout>` (every such element, now or later, becomes a checkout) and
/// `window.KlarnaCheckout.mount`.
pub fn define_all() {
    let mount_js = Closure::<dyn Fn(web_sys::HtmlElement, JsValue) -> JsValue>::new(
        |element: web_sys::HtmlElement, options| {
            let handle = to_js(mount(element.clone(), options));
            let _ = js_sys::Reflect::set(&element, &HANDLE.into(), &handle);
            handle
        },
    )
    .into_js_value();
    let attributes = ATTRIBUTES.iter().map(|a| JsValue::from_str(a)).collect();
    define(TAG, attributes, mount_js.unchecked_ref());
    if let Some(window) = web_sys::window() {
        let api = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&api, &"mount".into(), &mount_js);
        let _ = js_sys::Reflect::set(&window, &"KlarnaCheckout".into(), &api);
    }
}

/// Calls `mount` once for every `<tag>` element of the page not mounted yet (the bank page).
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
