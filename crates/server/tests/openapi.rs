//! `GET /api/openapi.json` against the server that serves it: the document is OpenAPI 3.1
//! with our security schemes and error bodies; every documented path and method is served
//! (called with no or invalid input, none answers our "no such endpoint" 404 or a 405), and
//! refuses such input with our error body naming the input; and no route is registered past
//! the document (every route of the server's source goes through `utoipa_axum::routes!`).

mod common;

use serde_json::Value;
use std::path::Path;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(env: &common::Env) -> Value {
    let r = env
        .http
        .get(format!("{}/api/openapi.json", env.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    r.json().await.unwrap()
}

/// Every documented `(method, path)`.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out
}

/// A documented path with every parameter filled in.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str("not-an-id");
        rest = &rest[close + 1..];
    }
    out + rest
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_our_schemes_and_error_bodies() {
    let env = common::start().await;
    let doc = document(&env).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for name in ["merchant_api_key", "bookkeeper_session", "csrf_token"] {
        assert!(schemes.contains_key(name), "{name}");
    }
    assert_eq!(schemes["merchant_api_key"]["scheme"], "bearer");
    assert_eq!(schemes["bookkeeper_session"]["in"], "cookie");
    assert_eq!(schemes["csrf_token"]["name"], "X-CSRF-Token");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in ["ApiError", "MerchantError", "FieldError", "CheckoutSession"] {
        assert!(schemas.contains_key(name), "{name}");
    }
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/checkout/sessions",
        "/api/checkout/orders",
        "/api/auth/sign-in",
        "/api/bank-links",
        "/api/accounts/{account}/sync",
        "/hooks/klarna/authorization/{secret}",
        "/api/merchant/whoami",
        "/api/merchant/orders/{order_id}/captures",
        "/api/health",
        "/api/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    // Every merchant POST and PATCH documents its Idempotency-Key as required, but the two a
    // retry cannot do twice (registering a cart, cancelling a token), which take none; every
    // merchant route its key; every state-changing banking route the CSRF token.
    const WITHOUT_KEY: [(&str, &str); 2] = [
        ("post", "/api/merchant/carts"),
        (
            "post",
            "/api/merchant/customer-tokens/{customer_token}/cancel",
        ),
    ];
    for path in [
        "/api/merchant/carts",
        "/api/merchant/customer-tokens/{customer_token}/orders",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][&method];
        let security = op["security"].to_string();
        if path.starts_with("/api/merchant/") {
            assert!(security.contains("merchant_api_key"), "{method} {path}");
            let idempotent = op["parameters"].as_array().into_iter().flatten().any(|p| {
                p["name"] == "Idempotency-Key" && p["in"] == "header" && p["required"] == true
            });
            let needs_key = method != "get" && !WITHOUT_KEY.contains(&(&method, &path));
            assert_eq!(idempotent, needs_key, "{method} {path}");
        }
        if path.starts_with("/api/bank-links")
            || path.starts_with("/api/accounts/")
            || path == "/api/banks"
        {
            assert!(security.contains("bookkeeper_session"), "{method} {path}");
            assert_eq!(
                security.contains("csrf_token"),
                method != "get",
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_and_refuses_bad_input_naming_it() {
    let env = common::start().await;
    let doc = document(&env).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 25, "{} operations", ops.len());
    for (method, path) in &ops {
        let url = format!("{}{}", env.url, concrete(path));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        // No credentials, no body: each is refused, or answered, but never "not here".
        let r = env.http.request(method.clone(), &url).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path}: {text}");
        assert!(
            !(status == 404 && text.contains("no such endpoint")),
            "{method} {path} is documented but not served: {text}"
        );
        assert!(status < 500, "{method} {path}: {status} {text}");
        let documented = |status: u16| {
            doc["paths"][path.as_str()][method.as_str().to_lowercase()]["responses"]
                .get(status.to_string())
                .is_some()
        };
        assert!(
            documented(status),
            "{method} {path}: {status} is not documented"
        );
        if doc["paths"][path.as_str()][method.as_str().to_lowercase()]["requestBody"].is_object() {
            // Over the body limit: refused with a status the document names.
            let big = format!("{{\"x\": \"{}\"}}", "a".repeat(17 * 1024));
            let r = env
                .http
                .request(method.clone(), &url)
                .header("content-type", "application/json")
                .body(big)
                .send()
                .await
                .unwrap();
            let big_status = r.status().as_u16();
            assert!(
                documented(big_status),
                "{method} {path}: {big_status} for a large body is not documented"
            );
        }
        if status >= 400 {
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"));
            assert!(body["code"].is_string(), "{method} {path}: {text}");
            assert!(body["message"].is_string(), "{method} {path}: {text}");
            if [400, 401, 404, 409, 422].contains(&status) {
                let fields = body["fields"].as_array().map(Vec::len).unwrap_or(0);
                assert!(
                    fields > 0,
                    "{method} {path}: {status} names no input: {text}"
                );
            }
        }
    }
    // An undocumented method on a documented path is not served.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
            let url = format!("{}{}", env.url, concrete(path));
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = env.http.request(m, &url).send().await.unwrap();
            assert_eq!(
                r.status(),
                405,
                "{method} {path} is served but not documented"
            );
        }
    }
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A route registered with axum's `.route(…)` would be served without being documented. The
/// server registers every route through `routes!`; the only plain ones are the API's fallback
/// for unknown paths (`lib.rs`), which answers 404 for every method.
#[test]
fn no_route_is_registered_past_the_document() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut plain = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for call in [".route(", ".route_service(", ".nest(", ".nest_service("] {
                if code.contains(call) {
                    plain.push(format!("{}:{}: {}", file.display(), n + 1, code));
                }
            }
        }
    }
    let allowed = |l: &String| {
        l.contains("lib.rs")
            && (l.contains(r#".route("/api/{*rest}""#) || l.contains("sandbox::MOUNT_PATH"))
    };
    let unexpected: Vec<_> = plain.iter().filter(|l| !allowed(l)).collect();
    assert!(
        unexpected.is_empty(),
        "routes outside `routes!` (so outside /api/openapi.json): {unexpected:#?}"
    );
    assert_eq!(plain.len(), 2, "{plain:#?}");
}
