//! Loads Klarna's browser scripts (`api.js`, the XS2A app launcher) once per page, however many
//! components ask (one memoised promise per script, as stripe-js's `shared.ts` does), reusing a
//! tag a storefront may already have (found by its `src`), and failing with a typed error that
//! the UI can retry.

use js_sys::{Function, Reflect};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptLoadError {
    /// The tag failed to load (offline, blocked by CSP or an ad blocker).
    Failed,
    /// The script loaded but its global never appeared.
    Missing,
}

/// One of Klarna's scripts: the global it defines and the callback it calls when ready.
#[derive(Clone, Copy)]
pub struct Script {
    tag_id: &'static str,
    /// Path of the global, e.g. `["Klarna", "Payments"]`.
    global: &'static [&'static str],
    /// `window.<ready_callback>` is called once the global exists; set before the tag.
    ready_callback: &'static str,
}

pub const PAYMENTS: Script = Script {
    tag_id: "klarna-payments-sdk",
    global: &["Klarna", "Payments"],
    ready_callback: "klarnaAsyncCallback",
};

#[cfg(feature = "bank-link")]
pub const XS2A_LAUNCHER: Script = Script {
    tag_id: "klarna-xs2a-launcher",
    global: &["XS2A"],
    ready_callback: "onXS2AReady",
};

const LOAD_TIMEOUT_MS: i32 = 20_000;

thread_local! {
    /// The load in progress (or done) per script, shared by every checkout of the page.
    static LOADS: std::cell::RefCell<Vec<(&'static str, js_sys::Promise)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl Script {
    /// `true` when the script's global exists.
    pub fn present(self) -> bool {
        let Some(window) = web_sys::window() else {
            return false;
        };
        let mut value: JsValue = window.into();
        for key in self.global {
            value = match Reflect::get(&value, &(*key).into()) {
                Ok(v) if v.is_object() => v,
                _ => return false,
            };
        }
        true
    }

    /// Loads the script from `url` unless its global is already there. One load per script
    /// and page, however many checkouts ask at once (a memoised promise, as stripe-js does),
    /// forgotten on failure so that "Try again" loads afresh.
    pub async fn load(self, url: &str) -> Result<(), ScriptLoadError> {
        if self.present() {
            return Ok(());
        }
        let promise = self.loading(url);
        let result = JsFuture::from(promise).await;
        if result.is_err() {
            LOADS.with(|loads| loads.borrow_mut().retain(|(id, _)| *id != self.tag_id));
            return Err(ScriptLoadError::Failed);
        }
        if self.present() {
            Ok(())
        } else {
            LOADS.with(|loads| loads.borrow_mut().retain(|(id, _)| *id != self.tag_id));
            Err(ScriptLoadError::Missing)
        }
    }

    /// Starts loading the script now without waiting for it: it travels while the checkout
    /// renders, and the [`load`](Self::load) that follows takes the same promise.
    pub fn prefetch(self, url: &str) {
        if !self.present() {
            let _ = self.loading(url);
        }
    }

    /// The page's one load of this script, started if none is under way.
    fn loading(self, url: &str) -> js_sys::Promise {
        LOADS.with(|loads| {
            let mut loads = loads.borrow_mut();
            loads
                .iter()
                .find(|(id, _)| *id == self.tag_id)
                .map(|(_, p)| p.clone())
                .unwrap_or_else(|| {
                    let p = self.start(url);
                    loads.push((self.tag_id, p.clone()));
                    p
                })
        })
    }

    /// Inserts the tag (or finds the storefront's own by its `src`) and resolves once the
    /// global is there. The script-global ready callback is ours only while loading: the one
    /// that was there before is called too, and put back as soon as the load is settled
    /// (ready, failed or timed out), whichever comes first; what comes later changes nothing.
    fn start(self, url: &str) -> js_sys::Promise {
        let url = url.to_string();
        js_sys::Promise::new(&mut |resolve: Function, reject: Function| {
            let Some(window) = web_sys::window() else {
                let _ = reject.call0(&JsValue::NULL);
                return;
            };
            let Some(document) = window.document() else {
                let _ = reject.call0(&JsValue::NULL);
                return;
            };
            let key: JsValue = self.ready_callback.into();
            let previous = Reflect::get(&window, &key).unwrap_or(JsValue::UNDEFINED);
            let settled = Rc::new(Cell::new(false));
            let timer = Rc::new(Cell::new(None::<i32>));
            // Ends the load once: the timer goes, the callback that was there is put back.
            let settle = {
                let (window, key, previous) = (window.clone(), key.clone(), previous.clone());
                let (settled, timer) = (settled.clone(), timer.clone());
                move || -> bool {
                    if settled.replace(true) {
                        return false;
                    }
                    if let Some(handle) = timer.take() {
                        window.clear_timeout_with_handle(handle);
                    }
                    if Reflect::get(&window, &key).ok().as_ref() != Some(&previous) {
                        if previous.is_undefined() {
                            let _ = Reflect::delete_property(
                                window.unchecked_ref::<js_sys::Object>(),
                                &key,
                            );
                        } else {
                            let _ = Reflect::set(&window, &key, &previous);
                        }
                    }
                    true
                }
            };
            let ready = {
                let (settle, resolve) = (settle.clone(), resolve.clone());
                move || {
                    if self.present() && settle() {
                        let _ = resolve.call0(&JsValue::NULL);
                    }
                }
            };
            let on_ready = {
                let ready = ready.clone();
                Closure::once_into_js(move |arg: JsValue| {
                    ready();
                    if let Some(f) = previous.dyn_ref::<Function>() {
                        let _ = f.call1(&JsValue::NULL, &arg);
                    }
                })
            };
            let _ = Reflect::set(&window, &key, &on_ready);
            let selector = format!("script[src=\"{}\"]", web_sys::css::escape(&url));
            let existing = document.query_selector(&selector).ok().flatten();
            let inserted = existing.is_none();
            let script: web_sys::HtmlScriptElement = match existing.and_then(|e| e.dyn_into().ok())
            {
                Some(s) => s,
                None => {
                    let Ok(s) = document.create_element("script") else {
                        settle();
                        let _ = reject.call0(&JsValue::NULL);
                        return;
                    };
                    let s: web_sys::HtmlScriptElement = s.unchecked_into();
                    s.set_id(self.tag_id);
                    s.set_async(true);
                    s.set_src(&url);
                    if let Some(head) = document.head() {
                        let _ = head.append_child(&s);
                    }
                    s
                }
            };
            // The script may define its global without calling back (or before we listened).
            let on_load = Closure::once_into_js(ready);
            let _ = script.add_event_listener_with_callback("load", on_load.unchecked_ref());
            let fail = {
                let script = script.clone();
                move || {
                    if !settle() {
                        return;
                    }
                    // A tag we added goes, so that a retry inserts a fresh one.
                    if inserted {
                        script.remove();
                    }
                    let _ = reject.call0(&JsValue::NULL);
                }
            };
            let fail_later = fail.clone();
            let on_error = Closure::once_into_js(fail);
            let _ = script.add_event_listener_with_callback("error", on_error.unchecked_ref());
            // A script that loads but never calls back (a URL serving HTML, say) must not hang
            // us; cleared once the load is settled.
            let on_timeout = Closure::once_into_js(fail_later);
            if let Ok(handle) = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                on_timeout.unchecked_ref(),
                LOAD_TIMEOUT_MS,
            ) {
                timer.set(Some(handle));
            }
        })
    }
}
