//! vendor/wasm-streams in headless Chromium: the stand-in that keeps wasm-streams' exported
//! classes out of the bundle must still stream as server_fn expects, both ways.
#![cfg(target_arch = "wasm32")]

mod browser;

use browser::{drained, until};
use futures_util::stream::{self, StreamExt};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use wasm_streams::ReadableStream;

wasm_bindgen_test_configure!(run_in_browser);

fn text(chunk: &JsValue) -> String {
    chunk.as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_rust_stream_reads_back_chunk_by_chunk_in_order() {
    let chunks = stream::iter(["a", "bc", "def"].map(|s| Ok(JsValue::from_str(s))));
    let raw = ReadableStream::from_stream(chunks).into_raw();
    let read: Vec<String> = ReadableStream::from_raw(raw)
        .into_stream()
        .map(|c| text(&c.expect("a chunk")))
        .collect()
        .await;
    assert_eq!(read, ["a", "bc", "def"]);
}

#[wasm_bindgen_test]
async fn an_error_chunk_errors_the_javascript_stream() {
    let chunks = stream::iter([Ok(JsValue::from_str("a")), Err(JsValue::from_str("broken"))]);
    let raw = ReadableStream::from_stream(chunks).into_raw();
    let read: Vec<Result<JsValue, JsValue>> =
        ReadableStream::from_raw(raw).into_stream().collect().await;
    assert_eq!(read.len(), 2, "the chunk, then the error, then the end");
    assert_eq!(text(read[0].as_ref().expect("the first chunk")), "a");
    assert_eq!(text(read[1].as_ref().expect_err("the error")), "broken");
}

#[wasm_bindgen_test]
async fn a_fetch_response_body_is_read_as_server_fn_reads_it() {
    // A body as `fetch` gives it: bytes, from a real `Response`.
    let response = web_sys::Response::new_with_opt_str(Some("streamed body")).expect("Response");
    let body = response.body().expect("a body");
    let mut bytes = Vec::new();
    let mut chunks = ReadableStream::from_raw(body).into_stream();
    while let Some(chunk) = chunks.next().await {
        bytes.extend(
            chunk
                .expect("a chunk")
                .unchecked_into::<js_sys::Uint8Array>()
                .to_vec(),
        );
    }
    assert_eq!(String::from_utf8(bytes).expect("utf-8"), "streamed body");
}

#[wasm_bindgen_test]
async fn a_rust_stream_can_be_a_fetch_request_body() {
    // What server_fn does with a streaming request body: hand the stream to JavaScript, which
    // reads it to the end (here through `Response`, as fetch would).
    let chunks =
        stream::iter(["x", "y"].map(|s| Ok(JsValue::from(js_sys::Uint8Array::from(s.as_bytes())))));
    let raw = ReadableStream::from_stream(chunks).into_raw();
    let response = web_sys::Response::new_with_opt_readable_stream(Some(&raw)).expect("Response");
    let read = JsFuture::from(response.text().expect("text()"))
        .await
        .expect("the whole body");
    assert_eq!(text(&read), "xy");
}

/// Sets its flag when dropped: whether the Rust stream it rides along with is gone.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[wasm_bindgen_test]
async fn a_cancel_while_a_pull_waits_drops_the_rust_stream() {
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(dropped.clone());
    // A stream that never yields: the first pull waits on it for ever.
    let chunks = stream::pending::<Result<JsValue, JsValue>>().map(move |c| {
        let _ = &flag;
        c
    });
    let raw = ReadableStream::from_stream(chunks).into_raw();
    let reader: web_sys::ReadableStreamDefaultReader = raw.get_reader().unchecked_into();
    let _read = reader.read();
    drained().await;
    assert!(!dropped.get(), "still alive while read");
    let _ = JsFuture::from(reader.cancel()).await;
    until("the Rust stream dropped by cancel()", || dropped.get()).await;
}

#[wasm_bindgen_test]
async fn nothing_is_pulled_before_a_read() {
    let polled = Rc::new(Cell::new(0));
    let counted = polled.clone();
    let chunks = stream::iter(0..3).map(move |i| {
        counted.set(counted.get() + 1);
        Ok(JsValue::from(i))
    });
    let raw = ReadableStream::from_stream(chunks).into_raw();
    drained().await;
    assert_eq!(polled.get(), 0, "chunks pulled with no reader");
    let reader: web_sys::ReadableStreamDefaultReader = raw.get_reader().unchecked_into();
    let _ = JsFuture::from(reader.read()).await;
    drained().await;
    assert_eq!(polled.get(), 1, "one read, one chunk pulled");
}

#[wasm_bindgen_test]
async fn dropping_the_rust_side_early_cancels_the_javascript_stream() {
    js_sys::eval(
        "window.__kcCancelled = false; window.__kcStream = new ReadableStream({ \
         pull(c) { c.enqueue('x'); }, cancel() { window.__kcCancelled = true; } });",
    )
    .unwrap();
    let raw: web_sys::ReadableStream =
        js_sys::Reflect::get(&js_sys::global(), &"__kcStream".into())
            .unwrap()
            .unchecked_into();
    let mut chunks = ReadableStream::from_raw(raw.clone()).into_stream();
    assert_eq!(text(&chunks.next().await.unwrap().unwrap()), "x");
    drop(chunks);
    until("the JS stream cancelled", || {
        js_sys::eval("window.__kcCancelled").unwrap().is_truthy()
    })
    .await;
    assert!(!raw.locked(), "released after the cancel");
}
