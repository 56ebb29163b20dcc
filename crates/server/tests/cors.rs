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
