//! Security headers for everything the server sends. The Content-Security-Policy is strict
//! (no inline script but the ones we ship, hashed; no eval) so that the component is proven,
//! by every browser test, to run on storefronts that enforce such a policy. The policy a
//! storefront on another origin needs ([`storefront_policy`], docs/embedding.md) is built here
//! from the same list of Klarna's hosts.

use axum::http::HeaderValue;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Klarna's hosts, as Klarna lists them for a page that sends a CSP ("Browser security
/// configuration for the Klarna web SDK", docs.klarna.com/klarna-network-distribution/
/// payment-presentation/web-sdk-configuration/browser-security-configuration/), images as in
/// contract §2.5 (Klarna's Magento module: `*.klarnacdn.net`). `api.js` and the XS2A app
/// launcher are scripts on `x.klarnacdn.net` (contract §2.1, §3.5); the XS2A App is an iframe
/// (docs.openbanking.klarna.com/xs2a/components.html) whose host Klarna does not name: Klarna's
/// frames are on `*.klarna.com` and `x.klarnacdn.net`, and Open Banking's hosts are
/// `*.openbanking.klarna.com`, inside `*.klarna.com` (a CSP wildcard matches any depth).
pub(crate) const KLARNA_SCRIPTS: &str =
    "https://x.klarnacdn.net https://js.klarna.com https://js.playground.klarna.com";
pub(crate) const KLARNA_STYLES: &str = "https://x.klarnacdn.net";
pub(crate) const KLARNA_FONTS: &str = "https://x.klarnacdn.net";
pub(crate) const KLARNA_IMAGES: &str = "https://*.klarnacdn.net";
pub(crate) const KLARNA_CONNECT: &str =
    "https://*.klarna.com https://*.klarnaevt.com https://x.klarnacdn.net";
pub(crate) const KLARNA_FRAMES: &str = "https://*.klarna.com https://x.klarnacdn.net";

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

/// The policy for the pages of the built component in `dist` (the demo shop, the example page,
/// the bookkeeper's `/bank/`).
///
/// `frame-ancestors 'self'`: no other site may frame them. The bank page must never be framed
/// by another site (an invisible frame over a decoy could make a signed-in bookkeeper link or
/// relink a bank: clickjacking). The checkout is embedded by a script tag, so it runs in the
/// storefront's own document and no storefront needs to frame our pages either; a framed
/// checkout page would only let a hostile page trick a shopper into pressing Buy. So one rule
/// for all pages, allowed origins included.
pub fn content_security_policy(dist: &Path) -> HeaderValue {
    let policy = page_policy(&inline_script_hashes(dist).join(" "));
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'self'"))
}

fn page_policy(hashes: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {hashes} {KLARNA_SCRIPTS}; \
         style-src 'self' 'unsafe-inline' {KLARNA_STYLES}; font-src 'self' {KLARNA_FONTS}; \
         img-src 'self' data: {KLARNA_IMAGES}; connect-src 'self' {KLARNA_CONNECT}; \
         frame-src {KLARNA_FRAMES}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'self'"
    )
}

/// The Content-Security-Policy a storefront at another origin needs to embed the checkout
/// served from `checkout_origin` (`https://pay.example`), live or sandbox: docs/embedding.md
/// prints it, and the demo storefront (`storefront.rs`) is served with exactly this. No
/// `'unsafe-inline'` for scripts; `'wasm-unsafe-eval'` lets the page compile the component's
/// WebAssembly. In the sandbox, Klarna's scripts and endpoints are at `checkout_origin`.
/// `style-src 'unsafe-inline'` is Klarna's own requirement (and the sandbox's widget and
/// dialog are styled inline).
pub fn storefront_policy(checkout_origin: &str) -> String {
    let c = checkout_origin.trim_end_matches('/');
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {c} {KLARNA_SCRIPTS}; \
         style-src 'self' 'unsafe-inline' {c} {KLARNA_STYLES}; font-src 'self' {KLARNA_FONTS}; \
         img-src 'self' data: {c} {KLARNA_IMAGES}; connect-src 'self' {c} {KLARNA_CONNECT}; \
         frame-src {KLARNA_FRAMES}; object-src 'none'; base-uri 'self'"
    )
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

    /// One directive of a policy, by name.
    fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
        policy
            .split(';')
            .map(str::trim)
            .find(|d| d.split(' ').next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing in {policy}"))
    }

    #[test]
    fn our_pages_may_be_framed_by_ourselves_only() {
        let policy = page_policy("'sha256-x'");
        assert_eq!(
            directive(&policy, "frame-ancestors"),
            "frame-ancestors 'self'"
        );
        // Klarna's scripts (api.js, the XS2A app launcher) and its frames (the XS2A App) live.
        assert!(directive(&policy, "script-src").contains(" https://x.klarnacdn.net"));
        let frames = directive(&policy, "frame-src");
        assert!(
            frames.contains("https://*.klarna.com") && frames.contains("https://x.klarnacdn.net")
        );
        assert!(!directive(&policy, "script-src").contains("'unsafe-inline'"));
    }

    #[test]
    fn a_storefront_policy_names_the_checkout_and_klarna_without_inline_scripts() {
        assert_eq!(
            storefront_policy("https://pay.example/"),
            "default-src 'self'; \
             script-src 'self' 'wasm-unsafe-eval' https://pay.example https://x.klarnacdn.net \
             https://js.klarna.com https://js.playground.klarna.com; \
             style-src 'self' 'unsafe-inline' https://pay.example https://x.klarnacdn.net; \
             font-src 'self' https://x.klarnacdn.net; \
             img-src 'self' data: https://pay.example https://*.klarnacdn.net; \
             connect-src 'self' https://pay.example https://*.klarna.com https://*.klarnaevt.com \
             https://x.klarnacdn.net; \
             frame-src https://*.klarna.com https://x.klarnacdn.net; \
             object-src 'none'; base-uri 'self'"
        );
    }
}
