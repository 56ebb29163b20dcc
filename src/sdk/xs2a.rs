//! Typed bindings for Klarna's XS2A app launcher (contract §3.5): `XS2A.startFlow(client_token,
//! options)` with its callbacks, and `XS2A.close()`.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = XS2A, js_name = startFlow, catch)]
    fn js_start_flow(client_token: &str, options: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(js_namespace = XS2A, js_name = close, catch)]
    fn js_close() -> Result<(), JsValue>;
}

/// How the launcher ended, from its callbacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowEnd {
    /// `onFinished`: the server must now read the outcome itself.
    Finished,
    /// `onAbort`: the bookkeeper closed it.
    Aborted,
    /// `onClose` before any other ending. Its order against `onFinished` is undocumented
    /// (contract §0), so it says nothing about the outcome: the server reads the flow.
    Closed,
    /// `onError`: the launcher's message, when it gave one.
    Failed(Option<String>),
}

fn message_of(error: &JsValue) -> Option<String> {
    Reflect::get(error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
}

/// How far the launcher got before it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// `onLoad`: its window is opening.
    Loaded,
    /// `onReady`: the bookkeeper can act in it.
    Ready,
}

/// Starts the launcher; `progress` hears `onLoad` and `onReady`, `done` runs once, with the
/// first ending callback, `onClose` included: the page never waits for a window that is gone,
/// and the server decides what the ending means (a finished flow is linked whichever came
/// first).
pub fn start_flow(
    client_token: &str,
    progress: impl Fn(Progress) + 'static,
    done: impl FnOnce(FlowEnd) + 'static,
) -> Result<(), String> {
    let done = std::rc::Rc::new(std::cell::RefCell::new(Some(done)));
    let finish = move |end: FlowEnd| {
        if let Some(f) = done.borrow_mut().take() {
            f(end);
        }
    };
    let options = Object::new();
    let f1 = finish.clone();
    let on_finished = Closure::<dyn FnMut()>::new(move || f1(FlowEnd::Finished));
    let f2 = finish.clone();
    let on_abort = Closure::<dyn FnMut(JsValue)>::new(move |_e: JsValue| f2(FlowEnd::Aborted));
    let f3 = finish.clone();
    // `onError` may come without an argument (contract §3.5).
    let on_error =
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| f3(FlowEnd::Failed(message_of(&e))));
    let f4 = finish;
    let on_close = Closure::<dyn FnMut()>::new(move || f4(FlowEnd::Closed));
    let progress = std::rc::Rc::new(progress);
    let p1 = progress.clone();
    let on_load = Closure::<dyn FnMut()>::new(move || p1(Progress::Loaded));
    let on_ready = Closure::<dyn FnMut()>::new(move || progress(Progress::Ready));
    let _ = Reflect::set(&options, &"onFinished".into(), on_finished.as_ref());
    let _ = Reflect::set(&options, &"onAbort".into(), on_abort.as_ref());
    let _ = Reflect::set(&options, &"onError".into(), on_error.as_ref());
    let _ = Reflect::set(&options, &"onClose".into(), on_close.as_ref());
    let _ = Reflect::set(&options, &"onLoad".into(), on_load.as_ref());
    let _ = Reflect::set(&options, &"onReady".into(), on_ready.as_ref());
    let _ = Reflect::set(&options, &"unfoldConsentDetails".into(), &true.into());
    // The launcher keeps these for the flow's lifetime; one flow per click, so leaking is bounded.
    on_finished.forget();
    on_abort.forget();
    on_error.forget();
    on_close.forget();
    on_load.forget();
    on_ready.forget();
    js_start_flow(client_token, &options)
        .map_err(|e| message_of(&e).unwrap_or_else(|| "startFlow failed".into()))
}

pub fn close() {
    let _ = js_close();
}
