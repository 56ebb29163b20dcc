//! The part of `wasm-streams` that `server_fn` calls, and nothing else.
//!
//! Leptos always builds `server_fn` with its `browser` feature, which depends on
//! `wasm-streams`. That crate defines three `#[wasm_bindgen]` classes (the Rust sides of a
//! stream's underlying source, byte source and sink). Exports are kept in every bundle whether
//! used or not: 5.6 KB gzip of wasm and 1 KB of JavaScript glue that the shopper downloaded
//! for server functions this component never calls (issue 11, docs/performance.md).
//!
//! `server_fn` uses four functions: [`ReadableStream::from_stream`] for a streaming request
//! body, [`ReadableStream::from_raw`] and [`ReadableStream::into_stream`] for a streaming
//! response, and [`ReadableStream::into_raw`]. They keep the original's semantics (nothing is
//! pulled before a read, a cancel drops the Rust stream even while a pull waits on it,
//! dropping the Rust side of a JS stream cancels it) with plain closures instead of exported
//! classes; `tests/streams.rs` checks each of these in Chromium.

use futures_util::future::{poll_fn, AbortHandle, Abortable};
use futures_util::stream::Stream;
use js_sys::{Object, Reflect};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::{QueuingStrategy, ReadableStreamDefaultController, ReadableStreamDefaultReader};

/// A JavaScript `ReadableStream`.
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

type Chunks = Rc<RefCell<Option<Pin<Box<dyn Stream<Item = Result<JsValue, JsValue>>>>>>>;

impl ReadableStream {
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        Self { raw }
    }

    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// A `ReadableStream` that pulls its chunks from `stream` when read (a high-water mark of
    /// 0, as the original: nothing is buffered ahead): an error chunk errors the stream, the
    /// end of `stream` closes it, and `cancel()` drops it at once, a waiting pull included.
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        let chunks: Chunks = Rc::new(RefCell::new(Some(Box::pin(stream))));
        let waiting: Rc<RefCell<Option<AbortHandle>>> = Rc::default();
        let (pulled, pull_waiting) = (chunks.clone(), waiting.clone());
        let pull = Closure::<dyn FnMut(ReadableStreamDefaultController) -> js_sys::Promise>::new(
            move |controller: ReadableStreamDefaultController| {
                let chunks = pulled.clone();
                let (handle, registration) = AbortHandle::new_pair();
                *pull_waiting.borrow_mut() = Some(handle);
                future_to_promise(async move {
                    // Borrowed only while polled, so a cancel can drop the stream meanwhile.
                    let next = poll_fn(|cx| match chunks.borrow_mut().as_mut() {
                        Some(stream) => stream.as_mut().poll_next(cx),
                        None => Poll::Ready(None),
                    });
                    match Abortable::new(next, registration).await {
                        // Cancelled while waiting: the stream is gone, nothing to answer.
                        Err(_) => {}
                        Ok(Some(Ok(chunk))) => controller.enqueue_with_chunk(&chunk)?,
                        Ok(Some(Err(e))) => {
                            chunks.borrow_mut().take();
                            controller.error_with_e(&e);
                        }
                        Ok(None) => {
                            chunks.borrow_mut().take();
                            controller.close()?;
                        }
                    }
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let cancel = Closure::<dyn FnMut(JsValue)>::new(move |_reason: JsValue| {
            chunks.borrow_mut().take();
            if let Some(pull) = waiting.borrow_mut().take() {
                pull.abort();
            }
        });
        let source = Object::new();
        let _ = Reflect::set(&source, &"pull".into(), &pull.into_js_value());
        let _ = Reflect::set(&source, &"cancel".into(), &cancel.into_js_value());
        let strategy = QueuingStrategy::new();
        strategy.set_high_water_mark(0.0);
        let raw =
            web_sys::ReadableStream::new_with_underlying_source_and_strategy(&source, &strategy)
                .expect_throw("ReadableStream with an underlying source");
        Self { raw }
    }

    /// The stream's chunks, read one at a time; an error ends it after the error. Dropped
    /// before the end, it cancels the JS stream and releases it, as the original does.
    pub fn into_stream(self) -> IntoStream {
        IntoStream {
            reader: self.raw.get_reader().dyn_into().ok(),
            read: None,
        }
    }
}

/// The Rust side of a JS `ReadableStream` ([`ReadableStream::into_stream`]).
pub struct IntoStream {
    reader: Option<ReadableStreamDefaultReader>,
    read: Option<JsFuture>,
}

impl Stream for IntoStream {
    type Item = Result<JsValue, JsValue>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(reader) = &this.reader else {
            return Poll::Ready(None);
        };
        let read = this
            .read
            .get_or_insert_with(|| JsFuture::from(reader.read()));
        let result = match Pin::new(read).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        this.read = None;
        match result {
            Ok(result) => {
                let done = Reflect::get(&result, &"done".into()).map_or(true, |d| d.is_truthy());
                if done {
                    if let Some(reader) = this.reader.take() {
                        reader.release_lock();
                    }
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Ok(
                    Reflect::get(&result, &"value".into()).unwrap_or_default()
                )))
            }
            Err(e) => {
                // An errored stream: nothing more comes, and there is nothing to cancel.
                this.reader = None;
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

impl Drop for IntoStream {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = reader.cancel();
            reader.release_lock();
        }
    }
}
