//! `cargo xtask bench [size | reliability | reliability-sqlite | reliability-pg]`: bytes of the
//! built component (raw and gzip) and the time from navigation to an interactive checkout in
//! headless Chromium, median of several runs (`size`); then the reliability scenarios
//! (`reliability`: SQLite, then two instances on PostgreSQL; see `crate::reliability`), which
//! need no browser build. Plain `bench` runs all. Measures and prints; never asserts.

use crate::reliability::Engines;
use crate::tools::{self, CHROMEDRIVER, CHROMIUM};
use crate::{build_component, root, run, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const RUNS: usize = 7;

pub fn measure(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None => {
            size_and_time()?;
            crate::reliability::measure(Engines::Both)
        }
        Some("size") => size_and_time(),
        Some("reliability") => crate::reliability::measure(Engines::Both),
        Some("reliability-sqlite") => crate::reliability::measure(Engines::Sqlite),
        Some("reliability-pg") => crate::reliability::measure(Engines::Postgres),
        Some(other) => Err(format!(
            "unknown bench {other:?}: cargo xtask bench \
             [size | reliability | reliability-sqlite | reliability-pg]"
        )),
    }
}

fn size_and_time() -> Result {
    tools::ensure_build_tools()?;
    tools::ensure_browser()?;
    build_component()?;
    let sizes = sizes()?;
    run(Command::new("cargo").args(["build", "--quiet", "-p", "server"]))?;
    let timings = tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())?
        .block_on(time_to_interactive())?;
    println!();
    println!("| file | raw bytes | gzip bytes |");
    println!("|---|---:|---:|");
    for (kind, r, g) in &sizes {
        println!("| {kind} | {r} | {g} |");
    }
    // What one shopper (bookkeeper) downloads: the code, and the catalog of their language
    // only (docs/i18n.md).
    for bundle in ["checkout", "bank-link"] {
        for lang in ["en", "de"] {
            let (raw, gz) = sizes
                .iter()
                .filter(|(kind, ..)| {
                    kind.starts_with(&format!("{bundle}:"))
                        && (!kind.contains("texts") || kind.contains(&format!("({lang}.txt)")))
                })
                .fold((0, 0), |(r, g), (_, r2, g2)| (r + r2, g + g2));
            println!("| **{bundle} total, {lang}** | {raw} | {gz} |");
        }
    }
    println!();
    let median = timings[timings.len() / 2];
    println!("navigation → interactive checkout (Buy enabled, widget shown), {RUNS} runs: median {median} ms, min {} ms, max {} ms", timings[0], timings[timings.len() - 1]);
    Ok(())
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    Ok(enc.finish().map_err(|e| e.to_string())?.len())
}

/// Component files only: the demo shop's own stylesheet is not part of the component.
/// The checkout and the bank-linking bundle are listed apart: shoppers download only the first.
fn sizes() -> Result<Vec<(String, usize, usize)>> {
    let mut out = bundle_sizes("checkout", &root().join("dist"))?;
    out.extend(bundle_sizes("bank-link", &root().join("dist/bank"))?);
    Ok(out)
}

fn bundle_sizes(bundle: &str, dist: &std::path::Path) -> Result<Vec<(String, usize, usize)>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for kind in ["wasm", "js", "css"] {
        for entry in &entries {
            let name = entry.file_name().to_string_lossy().to_string();
            if !name.ends_with(&format!(".{kind}")) || name.starts_with("demo-shop") {
                continue;
            }
            let bytes = std::fs::read(entry.path()).map_err(|e| e.to_string())?;
            out.push((
                format!("{bundle}: {kind} ({name})"),
                bytes.len(),
                gzip_len(&bytes)?,
            ));
        }
    }
    // wasm-bindgen's snippets (the custom element's definition), imported by the glue.
    let snippets = dist.join("snippets");
    if let Ok(dirs) = std::fs::read_dir(&snippets) {
        let mut files: Vec<_> = dirs
            .flatten()
            .filter_map(|d| std::fs::read_dir(d.path()).ok())
            .flat_map(|f| f.flatten().map(|e| e.path()))
            .collect();
        files.sort();
        for path in files {
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            out.push((
                format!("{bundle}: js (snippets/{name})"),
                bytes.len(),
                gzip_len(&bytes)?,
            ));
        }
    }
    // The texts: one catalog per language, fetched by the component; English and German
    // listed (the others are of the same size).
    for lang in ["en", "de"] {
        let path = dist.join(format!("i18n/{lang}.txt"));
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push((
            format!("{bundle}: texts ({lang}.txt)"),
            bytes.len(),
            gzip_len(&bytes)?,
        ));
    }
    Ok(out)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

async fn time_to_interactive() -> Result<Vec<u64>> {
    let port = free_port()?;
    let db = std::env::temp_dir().join(format!("kc-bench-{port}.sqlite"));
    let _server = Killed(
        Command::new(crate::target_dir().join("debug/klarna-checkout-server"))
            .env("KC_PORT", port.to_string())
            .env("KC_DIST", root().join("dist"))
            .env("KC_DATABASE", &db)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    let driver_port = free_port()?;
    let _driver = Killed(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{CHROMEDRIVER}: {e}"))?,
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": CHROMIUM, "args": crate::tools::chromium_args()}),
    );
    let mut timings = Vec::new();
    for _ in 0..RUNS {
        let client = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(caps.clone())
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .map_err(|e| e.to_string())?;
        client
            .goto(&format!("http://127.0.0.1:{port}/"))
            .await
            .map_err(|e| e.to_string())?;
        let script = r#"
            const done = arguments[0];
            const t0 = performance.now();
            (function poll() {
              const buy = document.querySelector('.kc-buy');
              const widget = document.querySelector('.klarna-sandbox-widget, .kc-widget iframe');
              if (buy && !buy.disabled && widget) done(Math.round(performance.now()));
              else if (performance.now() - t0 > 30000) done(-1);
              else requestAnimationFrame(poll);
            })();"#;
        let ms = client
            .execute_async(script, vec![])
            .await
            .map_err(|e| e.to_string())?;
        client.close().await.map_err(|e| e.to_string())?;
        let ms = ms.as_i64().unwrap_or(-1);
        if ms < 0 {
            return Err("the checkout did not become interactive within 30 s".into());
        }
        timings.push(ms as u64);
    }
    let _ = std::fs::remove_file(&db);
    timings.sort_unstable();
    Ok(timings)
}
