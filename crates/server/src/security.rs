//! Security headers for everything the server sends. The Content-Security-Policy is strict
//! (no inline script but the ones we ship, hashed; no eval) so that the component is proven,
//! by every browser test, to run on storefronts that enforce such a policy.

use axum::http::HeaderValue;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Klarna's hosts (contract §2.5): its scripts, images, API/telemetry calls and frames.
const KLARNA_SCRIPTS: &str = "https://x.klarnacdn.net";
const KLARNA_IMAGES: &str = "https://*.klarnacdn.net";
const KLARNA_CONNECT: &str = "https://*.klarna.com https://*.klarnaevt.com";
const KLARNA_FRAMES: &str = "https://*.klarna.com";

/// `'sha256-…'` sources for every inline `<script>` of the HTML files in `dist` (Trunk writes
/// one into `index.html` to start the WebAssembly module).
fn inline_script_hashes(dist: &Path) -> Vec<String> {
    let mut hashes = Vec::new();
    for path in html_files(dist) {
        let Ok(html) = std::fs::read_to_string(&path) else {
            continue;
        };
        for script in inline_scripts(&html) {
            let digest = Sha256::digest(script.as_bytes());
            hashes.push(format!("'sha256-{}'", STANDARD.encode(digest)));
        }
    }
    hashes.sort();
    hashes.dedup();
    hashes
}

/// HTML files of the build, one directory level deep (the bank-linking bundle lives in `bank/`).
fn html_files(dist: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dist) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(html_files_flat(&path));
        } else if path.extension().and_then(|e| e.to_str()) == Some("html") {
            out.push(path);
        }
    }
    out
}

fn html_files_flat(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("html"))
                .collect()
        })
        .unwrap_or_default()
}

/// The bodies of `<script>` elements without a `src` attribute.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_start = start + tag_end + 1;
        let Some(close) = rest[body_start..].find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            out.push(&rest[body_start..body_start + close]);
        }
        rest = &rest[body_start + close + "</script>".len()..];
    }
    out
}

/// Compares two secrets without an early exit, so timing does not reveal how much of a guess
/// was right (hook secrets in URLs, CSRF token digests).
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The policy for the built component in `dist`.
pub fn content_security_policy(dist: &Path) -> HeaderValue {
    let hashes = inline_script_hashes(dist).join(" ");
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {hashes} {KLARNA_SCRIPTS}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: {KLARNA_IMAGES}; \
         connect-src 'self' {KLARNA_CONNECT}; frame-src {KLARNA_FRAMES}; object-src 'none'; \
         base-uri 'none'; form-action 'self'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_inline_scripts() {
        let html = r#"<script type="module">a()</script><script src="/x.js"></script><p><script>b()</script>"#;
        assert_eq!(inline_scripts(html), vec!["a()", "b()"]);
    }

    #[test]
    fn hashes_trunks_start_script() {
        let dir = std::env::temp_dir().join(format!("kc-csp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<script>x</script>").unwrap();
        let csp = content_security_policy(&dir);
        // sha256("x"), base64.
        assert!(
            csp.to_str()
                .unwrap()
                .contains("'sha256-LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE='"),
            "{csp:?}"
        );
        assert!(!csp.to_str().unwrap().contains(" 'unsafe-eval'"));
        assert!(!csp
            .to_str()
            .unwrap()
            .contains("script-src 'self' 'unsafe-inline'"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
