//! The part of `wasm-streams` that `server_fn` calls, and nothing else.
//!
//! Leptos always builds `server_fn` with its `browser` feature, which depends on
//! `wasm-streams`. That crate defines three `#[wasm_bindgen]` classes (the Rust sides of a
//! stream's underlying source, byte source and sink). Exports are kept in every bundle whether
//! used or not: about 10 KB of wasm and 3 KB of JavaScript glue that the shopper downloaded
//! for server functions this component never calls (issue 11, docs/performance.md).
//!
//! `server_fn` uses four functions: [`ReadableStream::from_stream`] for a streaming request
//! body, [`ReadableStream::from_raw`] and [`ReadableStream::into_stream`] for a streaming
//! response, and [`ReadableStream::into_raw`]. They are implemented here with plain closures
//! instead of exported classes; same behaviour, slower per chunk, which no path of ours uses.

use futures_util::stream::{unfold, Stream, StreamExt};
use js_sys::{Object, Promise, Reflect};
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{ReadableStreamDefaultController, ReadableStreamDefaultReader};

/// A JavaScript `ReadableStream`.
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

type Chunks = Pin<Box<dyn Stream<Item = Result<JsValue, JsValue>>>>;

impl ReadableStream {
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        Self { raw }
    }

    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// A `ReadableStream` that pulls its chunks from `stream`: an error chunk errors the
    /// stream, the end of `stream` closes it.
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        let chunks: Rc<RefCell<Option<Chunks>>> = Rc::new(RefCell::new(Some(Box::pin(stream))));
        let pulled = chunks.clone();
        let pull = Closure::<dyn FnMut(ReadableStreamDefaultController) -> Promise>::new(
            move |controller: ReadableStreamDefaultController| {
                let chunks = pulled.clone();
                future_to_promise(async move {
                    // Taken out while awaited: the stream asks for one chunk at a time.
                    let Some(mut stream) = chunks.borrow_mut().take() else {
                        return Ok(JsValue::UNDEFINED);
                    };
                    match stream.next().await {
                        Some(Ok(chunk)) => {
                            controller.enqueue_with_chunk(&chunk)?;
                            *chunks.borrow_mut() = Some(stream);
                        }
                        Some(Err(e)) => controller.error_with_e(&e),
                        None => controller.close()?,
                    }
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let cancel = Closure::<dyn FnMut(JsValue)>::new(move |_reason: JsValue| {
            chunks.borrow_mut().take();
        });
        let source = Object::new();
        let _ = Reflect::set(&source, &"pull".into(), &pull.into_js_value());
        let _ = Reflect::set(&source, &"cancel".into(), &cancel.into_js_value());
        let raw = web_sys::ReadableStream::new_with_underlying_source(&source)
            .expect_throw("ReadableStream with an underlying source");
        Self { raw }
    }

    /// The stream's chunks, read one at a time; an error ends it after the error.
    pub fn into_stream(self) -> impl Stream<Item = Result<JsValue, JsValue>> + Unpin {
        let reader: Option<ReadableStreamDefaultReader> = self.raw.get_reader().dyn_into().ok();
        unfold(reader, |reader| async move {
            let reader = reader?;
            match JsFuture::from(reader.read()).await {
                Ok(result) => {
                    let done = Reflect::get(&result, &"done".into())
                        .map(|d| d.is_truthy())
                        .unwrap_or(true);
                    if done {
                        return None;
                    }
                    let value = Reflect::get(&result, &"value".into()).unwrap_or_default();
                    Some((Ok(value), Some(reader)))
                }
                Err(e) => Some((Err(e), None)),
            }
        })
        // Unpin, as wasm-streams' own `IntoStream` is.
        .boxed_local()
    }
}
