//! What one mounted checkout has running in the page: its requests and its timers. `destroy()`
//! (or the element leaving the page) ends them all at once, so a removed checkout never
//! answers late, fires an event, or keeps a timer alive; a second checkout on the page is not
//! touched.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[derive(Clone, Default)]
pub struct Life(Rc<Inner>);

#[derive(Default)]
struct Inner {
    /// Aborts every request of this checkout (gloo-net takes its signal).
    abort: RefCell<Option<web_sys::AbortController>>,
    /// Pending timers: the browser's handle and, for a `sleep`, the resolver that ends it.
    timers: RefCell<Vec<(i32, Option<js_sys::Function>)>>,
    ended: Cell<bool>,
}

impl Life {
    pub fn new() -> Life {
        let life = Life::default();
        *life.0.abort.borrow_mut() = web_sys::AbortController::new().ok();
        life
    }

    /// `true` once the checkout was destroyed: no state to update, nobody to tell.
    pub fn ended(&self) -> bool {
        self.0.ended.get()
    }

    /// The signal this checkout's requests carry.
    pub fn signal(&self) -> Option<web_sys::AbortSignal> {
        self.0.abort.borrow().as_ref().map(|c| c.signal())
    }

    /// Resolves after `ms` milliseconds, or at once when the checkout is destroyed (callers
    /// check [`Life::ended`] after every wait).
    pub async fn sleep(&self, ms: i32) {
        if self.ended() {
            return;
        }
        let inner = self.0.clone();
        let promise = js_sys::Promise::new(&mut |resolve: js_sys::Function, _| {
            if let Some(window) = web_sys::window() {
                if let Ok(handle) =
                    window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
                {
                    inner.timers.borrow_mut().push((handle, Some(resolve)));
                }
            }
        });
        let _ = JsFuture::from(promise).await;
    }

    /// Runs `f` once after `ms` milliseconds unless the checkout is destroyed first.
    pub fn after(&self, ms: i32, f: impl FnOnce() + 'static) {
        if self.ended() {
            return;
        }
        let ended = self.0.clone();
        let callback = Closure::once_into_js(move || {
            if !ended.ended.get() {
                f()
            }
        });
        if let Some(window) = web_sys::window() {
            if let Ok(handle) = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms)
            {
                self.0.timers.borrow_mut().push((handle, None));
            }
        }
    }

    /// Ends everything this checkout started. Idempotent.
    pub fn end(&self) {
        if self.0.ended.replace(true) {
            return;
        }
        if let Some(controller) = self.0.abort.borrow_mut().take() {
            controller.abort();
        }
        let window = web_sys::window();
        for (handle, resolve) in self.0.timers.borrow_mut().drain(..) {
            if let Some(w) = &window {
                w.clear_timeout_with_handle(handle);
            }
            // A waiting task wakes up, sees the end and returns, instead of hanging forever.
            if let Some(resolve) = resolve {
                let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            }
        }
    }
}
