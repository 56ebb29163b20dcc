//! Loads Klarna's browser scripts (`api.js`, the XS2A app launcher) once per page, however many
//! components ask, reusing a tag a storefront may already have, and failing with a typed error
//! that the UI can retry.

use js_sys::{Function, Reflect};
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

    /// Loads the script from `url` unless its global is already there.
    pub async fn load(self, url: &str) -> Result<(), ScriptLoadError> {
        if self.present() {
            return Ok(());
        }
        let window = web_sys::window().ok_or(ScriptLoadError::Failed)?;
        let document = window.document().ok_or(ScriptLoadError::Failed)?;
        let promise = js_sys::Promise::new(&mut |resolve: Function, reject: Function| {
            let previous =
                Reflect::get(&window, &self.ready_callback.into()).unwrap_or(JsValue::UNDEFINED);
            let on_ready = Closure::once_into_js(move |arg: JsValue| {
                if let Some(f) = previous.dyn_ref::<Function>() {
                    let _ = f.call1(&JsValue::NULL, &arg);
                }
                let _ = resolve.call0(&JsValue::NULL);
            });
            let _ = Reflect::set(&window, &self.ready_callback.into(), &on_ready);
            let existing = document.get_element_by_id(self.tag_id);
            let script: web_sys::HtmlScriptElement = match existing.and_then(|e| e.dyn_into().ok())
            {
                Some(s) => s,
                None => {
                    let Ok(s) = document.create_element("script") else {
                        return;
                    };
                    let s: web_sys::HtmlScriptElement = s.unchecked_into();
                    s.set_id(self.tag_id);
                    s.set_async(true);
                    s.set_src(url);
                    if let Some(head) = document.head() {
                        let _ = head.append_child(&s);
                    }
                    s
                }
            };
            // A script that loads but never calls back (a URL serving HTML, say) must not hang us.
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&reject, LOAD_TIMEOUT_MS);
            let on_error = Closure::once_into_js(move || {
                let _ = reject.call0(&JsValue::NULL);
            });
            let _ = script.add_event_listener_with_callback("error", on_error.unchecked_ref());
        });
        let result = JsFuture::from(promise).await;
        if result.is_err() {
            // Remove the failed tag so that a retry inserts a fresh one.
            if let Some(tag) = document.get_element_by_id(self.tag_id) {
                tag.remove();
            }
            return Err(ScriptLoadError::Failed);
        }
        if self.present() {
            Ok(())
        } else {
            Err(ScriptLoadError::Missing)
        }
    }
}
