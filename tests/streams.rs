//! vendor/wasm-streams in headless Chromium: the stand-in that keeps wasm-streams' exported
//! classes out of the bundle must still stream as server_fn expects, both ways.
#![cfg(target_arch = "wasm32")]

use futures_util::stream::{self, StreamExt};
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
