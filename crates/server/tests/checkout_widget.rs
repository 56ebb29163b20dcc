//! Klarna's widget in the checkout's colours: the browser sends them with the session, the
//! server checks them and gives Klarna the same `options` for every Klarna session of that
//! checkout; the sandbox refuses what Klarna's schema refuses.

use klarna::api::{CheckoutSession, ErrorCode};
use serde_json::json;

mod common;

use common::*;

/// The Klarna session requests the sandbox received, newest last.
fn session_bodies(env: &Env) -> Vec<serde_json::Value> {
    env.sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/payments/v1/sessions"))
        .map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn the_widget_gets_the_checkouts_colours_in_every_klarna_session() {
    let env = start().await;
    let colours = json!({"color_border": "#857F79", "color_border_selected": "#010203",
                         "color_details": "#5C5752", "color_text": "#17120F", "radius_border": "3px"});
    let r = env
        .http
        .post(format!("{}/api/checkout/sessions", env.url))
        .json(&json!({"cart": "demo", "locale": "de-DE", "widget": colours}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let session: CheckoutSession = r.json().await.unwrap();
    assert_eq!(session_bodies(&env).last().unwrap()["options"], colours);
    // Another currency is another Klarna session: it looks the same.
    let r = env
        .http
        .patch(format!(
            "{}/api/checkout/sessions/{}",
            env.url, session.session
        ))
        .json(&json!({"country": "SE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let bodies = session_bodies(&env);
    assert_eq!(bodies.len(), 2, "a new Klarna session for SEK");
    assert_eq!(bodies[1]["purchase_currency"], "SEK");
    assert_eq!(bodies[1]["options"], colours);
}

#[tokio::test]
async fn a_colour_klarna_would_refuse_is_named_before_klarna_is_asked() {
    let env = start().await;
    let r = env
        .http
        .post(format!("{}/api/checkout/sessions", env.url))
        .json(&json!({"cart": "demo", "locale": "de-DE",
                      "widget": {"color_text": "red", "radius_border": "1em"}}))
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!((status, e.code), (422, ErrorCode::InvalidFields));
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["widget.color_text", "widget.radius_border"]);
    assert!(session_bodies(&env).is_empty(), "Klarna was not asked");
    // No colours at all: Klarna's own look, and no `options` sent.
    env.start_checkout().await;
    assert!(session_bodies(&env)[0].get("options").is_none());
}

/// Klarna's schema (contract §1.2): colours only as `#RRGGBB`. Literal JSON, as documented.
#[tokio::test]
async fn the_sandbox_refuses_widget_colours_klarna_refuses() {
    let env = start().await;
    let creds = sandbox::SandboxCredentials::default();
    let session = |options: serde_json::Value| {
        json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
               "order_amount": 1000, "order_tax_amount": 160,
               "order_lines": [{"name": "x", "quantity": 1, "unit_price": 1000, "total_amount": 1000,
                                "tax_rate": 1900, "total_tax_amount": 160}],
               "options": options})
    };
    let send = |body: serde_json::Value| {
        env.http
            .post(format!("{}/sandbox/payments/v1/sessions", env.url))
            .basic_auth(&creds.username, Some(&creds.password))
            .json(&body)
            .send()
    };
    let r = send(session(
        json!({"color_text": "#FF9900", "radius_border": "5px"}),
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = send(session(
        json!({"color_text": "orange", "color_border": "#FF990"}),
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let body: klarna::payments::KlarnaErrorBody = r.json().await.unwrap();
    assert_eq!(body.error_code, "BAD_VALUE");
    assert_eq!(
        body.fields(),
        vec!["options.color_border", "options.color_text"]
    );
}
