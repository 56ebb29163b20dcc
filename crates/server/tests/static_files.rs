//! The component's files as a shopper's browser gets them: Brotli or gzip when it accepts
//! them and the build wrote the `.br` or `.gz` beside the file (`cargo xtask build` writes
//! both), so the bytes on the wire are at most the gzip figure the size budget holds; the plain
//! file otherwise.

mod common;

use common::*;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::{Read, Write};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A server on a dist holding the component's wasm and page, each with its `.gz`; the dist
/// (kept alive with it) and the wasm's bytes.
async fn server_with_component() -> (Env, TempDir, Vec<u8>) {
    let (dist, wasm) = dist_with_component();
    let dir = dist.0.clone();
    let env = start_with(move |c| c.dist = dir).await;
    (env, dist, wasm)
}

/// `GET path`, saying `Accept-Encoding: accept` when given.
async fn get(env: &Env, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = env.http.get(format!("{}{path}", env.url));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    request.send().await.unwrap()
}

const BROTLI_MARKER: &[u8] = b"brotli copy";

fn dist_with_component() -> (TempDir, Vec<u8>) {
    let dist = TempDir::new();
    // Something that compresses, like the real wasm.
    let wasm: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dist.0.join("klarna-checkout_bg.wasm"), &wasm).unwrap();
    std::fs::write(dist.0.join("klarna-checkout_bg.wasm.gz"), gzip(&wasm)).unwrap();
    // The Brotli copy's content is the server's to pass on, not to read: a marker will do.
    std::fs::write(dist.0.join("klarna-checkout_bg.wasm.br"), BROTLI_MARKER).unwrap();
    let page = b"<!DOCTYPE html><p>shop</p>";
    std::fs::write(dist.0.join("index.html"), page).unwrap();
    std::fs::write(dist.0.join("index.html.gz"), gzip(page)).unwrap();
    (dist, wasm)
}

#[tokio::test]
async fn a_browser_that_accepts_gzip_gets_the_precompressed_file() {
    let (env, _dist, wasm) = server_with_component().await;
    let r = get(&env, "/klarna-checkout_bg.wasm", Some("gzip, deflate")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["content-type"], "application/wasm");
    let vary: Vec<String> = r
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect();
    assert!(
        vary.iter().any(|v| v.contains("accept-encoding")),
        "caches must keep the two apart: {vary:?}"
    );
    let body = r.bytes().await.unwrap();
    assert!(
        body.len() < wasm.len() / 4,
        "{} bytes on the wire",
        body.len()
    );
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, wasm);
    // The page (and the fallback for any other path) too.
    let page = get(&env, "/?cart=demo", Some("gzip")).await;
    assert_eq!(page.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn a_browser_that_accepts_brotli_gets_the_brotli_copy_where_there_is_one() {
    let (env, _dist, _) = server_with_component().await;
    let r = get(
        &env,
        "/klarna-checkout_bg.wasm",
        Some("gzip, deflate, br, zstd"),
    )
    .await;
    assert_eq!(r.headers()["content-encoding"], "br");
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert_eq!(r.bytes().await.unwrap().to_vec(), BROTLI_MARKER);
    // The page has no `.br`: gzip, then.
    let page = get(&env, "/", Some("gzip, deflate, br, zstd")).await;
    assert_eq!(page.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn a_browser_that_does_not_accept_gzip_gets_the_file_as_built() {
    let (env, _dist, wasm) = server_with_component().await;
    let r = get(&env, "/klarna-checkout_bg.wasm", None).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.bytes().await.unwrap().to_vec(), wasm);
}

#[tokio::test]
async fn api_answers_are_never_compressed() {
    let (env, _dist, _) = server_with_component().await;
    let r = env
        .http
        .post(format!("{}/api/checkout/sessions", env.url))
        .header("accept-encoding", "gzip")
        .json(&serde_json::json!({"cart": "demo", "locale": "en-GB"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-encoding").is_none());
}
