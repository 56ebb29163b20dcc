//! What the server's pages and the demo storefront tell the browser about framing and sources:
//! our pages may be framed by ourselves only (`frame-ancestors 'self'`) and name Klarna's hosts,
//! the XS2A App's frames included; the demo storefront on another origin is served with exactly
//! the policy docs/embedding.md gives storefronts, and runs no inline script.

mod common;

use common::*;
use server::storefront;

#[tokio::test]
async fn our_pages_may_be_framed_by_ourselves_only() {
    let dist = TempDir::new();
    std::fs::create_dir_all(dist.0.join("bank")).unwrap();
    for page in ["index.html", "example.html", "bank/index.html"] {
        std::fs::write(dist.0.join(page), "<!DOCTYPE html><p>page</p>").unwrap();
    }
    let dir = dist.0.clone();
    let env = start_with(move |c| c.dist = dir).await;
    for path in ["/", "/example.html", "/bank/", "/?cart=demo-b2b"] {
        let r = env
            .http
            .get(format!("{}{path}", env.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.ends_with("; frame-ancestors 'self'"), "{path}: {csp}");
        assert!(
            csp.contains("frame-src https://*.klarna.com https://x.klarnacdn.net;"),
            "{path}: {csp}"
        );
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!scripts.contains("'unsafe-inline'"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn the_demo_storefront_is_served_with_the_documented_policy_and_no_inline_script() {
    let checkout = "http://127.0.0.1:8080";
    let listener = storefront::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let shop = storefront::serve(listener, checkout).unwrap();
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/", shop.url())).send().await.unwrap();
    assert_eq!(
        page.headers()["content-security-policy"].to_str().unwrap(),
        server::security::storefront_policy(checkout)
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!(
        r#"<script type="module" src="{checkout}/klarna-checkout-loader.js"></script>"#
    )));
    assert!(html.contains(&format!(
        r#"<klarna-checkout endpoint="{checkout}" cart="demo-small""#
    )));
    assert!(!html.contains("{{CHECKOUT}}"));
    // Every script has a source: the policy allows no inline script.
    let scripts = html.matches("<script").count();
    assert_eq!(scripts, html.matches("<script src=").count() + 1);
    for asset in ["/storefront.js", "/storefront.css"] {
        let r = http
            .get(format!("{}{asset}", shop.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
    let other = http
        .get(format!("{}/nope", shop.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    shop.task.abort();
}
