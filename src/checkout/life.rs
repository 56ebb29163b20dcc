//! What one mounted checkout has running in the page: its requests and its timers. `destroy()`
//! (or the element leaving the page) ends them all at once, so a removed checkout never
//! answers late, fires an event, or keeps a timer alive; a second checkout on the page is not
//! touched.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[derive(Clone)]
pub struct Life(Rc<Inner>);

impl Default for Life {
    fn default() -> Life {
        Life::new()
    }
}

/// The same life, not an equal one.
impl PartialEq for Life {
    fn eq(&self, other: &Life) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Life {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.ended() { "Life(ended)" } else { "Life" })
    }
}

struct Inner {
    /// Aborts every request of this checkout (gloo-net takes its signal).
    abort: RefCell<Option<web_sys::AbortController>>,
    /// Pending timers: the browser's handle and, for a `sleep`, the resolver that ends it.
    timers: RefCell<Vec<(i32, Option<js_sys::Function>)>>,
    ended: Cell<bool>,
}

impl Life {
    pub fn new() -> Life {
        Life(Rc::new(Inner {
            abort: RefCell::new(web_sys::AbortController::new().ok()),
            timers: RefCell::new(Vec::new()),
            ended: Cell::new(false),
        }))
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
        let life = self.clone();
        let promise = js_sys::Promise::new(&mut |resolve: js_sys::Function, _| {
            let done = resolve.clone();
            life.timer(ms, Some(resolve), move || {
                let _ = done.call0(&wasm_bindgen::JsValue::NULL);
            });
        });
        let _ = JsFuture::from(promise).await;
    }

    /// Runs `f` once after `ms` milliseconds unless the checkout is destroyed first.
    pub fn after(&self, ms: i32, f: impl FnOnce() + 'static) {
        if self.ended() {
            return;
        }
        let life = self.clone();
        self.timer(ms, None, move || {
            if !life.ended() {
                f()
            }
        });
    }

    /// A browser timer this checkout keeps until it fires (then it forgets it) or ends.
    fn timer(&self, ms: i32, resolve: Option<js_sys::Function>, f: impl FnOnce() + 'static) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let handle = Rc::new(Cell::new(0));
        let (inner, fired) = (self.0.clone(), handle.clone());
        let callback = Closure::once_into_js(move || {
            inner.timers.borrow_mut().retain(|(h, _)| *h != fired.get());
            f()
        });
        if let Ok(h) = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms)
        {
            handle.set(h);
            self.0.timers.borrow_mut().push((h, resolve));
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
