//! Another origin embeds the checkout: the sites in `KC_ALLOWED_ORIGINS` may load the component
//! and call the checkout API from the browser; every other site is refused; the bank and
//! merchant endpoints stay same-origin.

mod common;

use common::*;
use serde_json::{json, Value};

const SHOP: &str = "https://shop.example";
const EVIL: &str = "https://evil.example";

async fn embedded() -> Env {
    start_with(|c| {
        c.allowed_origins = server::cors::AllowedOrigins::parse(SHOP, false).unwrap();
    })
    .await
}

fn allow_origin(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn an_allowed_shop_may_start_a_checkout_from_the_browser() {
    let env = embedded().await;
    let preflight = env
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/checkout/sessions", env.url),
        )
        .header("Origin", SHOP)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(allow_origin(&preflight).as_deref(), Some(SHOP));
    let methods = preflight.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );

    let r = env
        .http
        .post(format!("{}/api/checkout/sessions", env.url))
        .header("Origin", SHOP)
        .json(&json!({"cart": "demo", "locale": "de-DE"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(allow_origin(&r).as_deref(), Some(SHOP));
}

#[tokio::test]
async fn every_other_site_is_refused_naming_the_origin() {
    let env = embedded().await;
    let r = env
        .http
        .post(format!("{}/api/checkout/sessions", env.url))
        .header("Origin", EVIL)
        .json(&json!({"cart": "demo", "locale": "de-DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(allow_origin(&r), None);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["fields"][0]["field"], "Origin", "{e}");
    // Nothing was started at Klarna.
    assert!(env.sandbox.requests().is_empty());
    // Without KC_ALLOWED_ORIGINS, the shop is another site like any other.
    let alone = start().await;
    let r = alone
        .http
        .post(format!("{}/api/checkout/sessions", alone.url))
        .header("Origin", SHOP)
        .json(&json!({"cart": "demo", "locale": "de-DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn the_servers_own_pages_and_servers_without_an_origin_are_unaffected() {
    let env = embedded().await;
    for origin in [Some(env.url.clone()), None] {
        let mut request = env
            .http
            .post(format!("{}/api/checkout/sessions", env.url))
            .json(&json!({"cart": "demo", "locale": "de-DE"}));
        if let Some(o) = &origin {
            request = request.header("Origin", o);
        }
        let r = request.send().await.unwrap();
        assert!(r.status().is_success(), "{origin:?}: {}", r.status());
        assert_eq!(allow_origin(&r), None);
    }
}

#[tokio::test]
async fn the_bank_and_merchant_endpoints_stay_same_origin() {
    let env = embedded().await;
    for path in ["/api/auth/sign-in", "/api/merchant/whoami", "/api/banks"] {
        let r = env
            .http
            .get(format!("{}{path}", env.url))
            .header("Origin", SHOP)
            .send()
            .await
            .unwrap();
        assert_eq!(allow_origin(&r), None, "{path}");
    }
}

#[tokio::test]
async fn the_components_files_are_readable_by_the_allowed_shop_only() {
    let env = embedded().await;
    for (origin, expected) in [(SHOP, Some(SHOP.to_string())), (EVIL, None)] {
        let r = env
            .http
            .get(format!("{}/klarna-checkout.js", env.url))
            .header("Origin", origin)
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), 403, "{origin}");
        assert_eq!(allow_origin(&r), expected, "{origin}");
    }
}

/// A component file's answer depends on the `Origin`, so the answer without one says so too:
/// otherwise a browser that had loaded the server's own page reused that cached answer (no
/// `Access-Control-Allow-Origin`) for a storefront's module import, which then failed.
#[tokio::test]
async fn the_components_files_vary_by_origin_also_for_the_servers_own_page() {
    let env = embedded().await;
    for origin in [None, Some(env.url.clone()), Some(SHOP.to_string())] {
        let mut request = env.http.get(format!("{}/klarna-checkout.js", env.url));
        if let Some(o) = &origin {
            request = request.header("Origin", o);
        }
        let r = request.send().await.unwrap();
        let vary: Vec<_> = r.headers().get_all("vary").iter().collect();
        // Once for the origin (and once for the gzip copy: static_files.rs).
        assert_eq!(
            vary.iter().filter(|v| v.as_bytes() == b"Origin").count(),
            1,
            "{origin:?}: {vary:?}"
        );
    }
}

/// Klarna's browser scripts (the sandbox's stand-ins) work on any shop's page, as Klarna's do:
/// what they call answers any origin, without credentials. Klarna's REST APIs, which take the
/// merchant's credentials, and the sandbox's control endpoints answer no other origin.
#[tokio::test]
async fn the_sandboxs_browser_endpoints_answer_any_origin_and_its_apis_none() {
    let env = embedded().await;
    for origin in [SHOP, EVIL] {
        let preflight = env
            .http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/sandbox/kp/authorize", env.url),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 204, "{origin}");
        assert_eq!(allow_origin(&preflight).as_deref(), Some("*"));
        assert!(preflight
            .headers()
            .get("access-control-allow-credentials")
            .is_none());
        let widget = env
            .http
            .post(format!("{}/sandbox/kp/widget", env.url))
            .header("Origin", origin)
            .json(&json!({"client_token": "not.a.token"}))
            .send()
            .await
            .unwrap();
        // Refused for its token, and the script may read why.
        assert_eq!(widget.status(), 401);
        assert_eq!(allow_origin(&widget).as_deref(), Some("*"));
        for script in [
            "/sandbox/kp/lib/v1/api.js",
            "/sandbox/xs2a/app-launcher/v0/xs2a-app-launcher.js",
        ] {
            let r = env
                .http
                .get(format!("{}{script}", env.url))
                .header("Origin", origin)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{script}");
            assert_eq!(allow_origin(&r).as_deref(), Some("*"), "{script}");
        }
    }
    for (method, path) in [
        (reqwest::Method::POST, "/sandbox/payments/v1/sessions"),
        (reqwest::Method::OPTIONS, "/sandbox/payments/v1/sessions"),
        (reqwest::Method::PUT, "/sandbox/xs2a/v1/sessions"),
        (reqwest::Method::GET, "/sandbox/_control/orders"),
    ] {
        let r = env
            .http
            .request(method.clone(), format!("{}{path}", env.url))
            .header("Origin", SHOP)
            .header("Access-Control-Request-Method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(allow_origin(&r), None, "{method} {path}");
    }
}
