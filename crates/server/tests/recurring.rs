//! Recurring purchases: a cart registered with `intent: buy_and_tokenize` yields a Klarna
//! customer token after its order; the merchant charges the token through a write-before-call
//! path (one Klarna order however often a lost answer is retried), captures the charge like any
//! order, and cancels the token, after which charges are refused.

mod common;

use common::subscriptions::*;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_subscription_is_tokenized_charged_once_captured_and_cancelled() {
    let shop = Shop::new().await;
    let (authorization, order) = shop
        .subscribe("buy_and_tokenize", "subscriber@example.com")
        .await;
    let sent = shop.env.sandbox.requests();
    let session = sent
        .iter()
        .find(|r| r.path.ends_with("/payments/v1/sessions"))
        .unwrap();
    assert_eq!(session.body["intent"], "buy_and_tokenize");

    // The token was asked for with the authorization, in Klarna's documented shape.
    let creation = sent
        .iter()
        .find(|r| r.path == format!("/payments/v1/authorizations/{authorization}/customer-token"))
        .expect("a customer token was requested");
    assert_eq!(creation.method, "POST");
    assert!(creation.idempotency_key.is_some());
    let order_call = sent.iter().find(|r| r.path.ends_with("/order")).unwrap();
    let mut body = creation.body.clone();
    assert_eq!(body["billing_address"], order_call.body["billing_address"]);
    body.as_object_mut().unwrap().remove("billing_address");
    assert_eq!(
        body,
        json!({
            "description": "Subscription",
            "intended_use": "SUBSCRIPTION",
            "locale": "de-DE",
            "purchase_country": "DE",
            "purchase_currency": "EUR",
            "customer": {"type": "person"}
        })
    );

    let (status, token) = shop
        .call(
            reqwest::Method::GET,
            &format!("/api/merchant/orders/{}/customer-token", order.order_id),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["state"], "active");
    assert_eq!(token["klarna_status"], "ACTIVE");
    assert_eq!(token["purchase_currency"], "EUR");
    let ctk = token["customer_token"].as_str().unwrap().to_string();
    assert!(ctk.starts_with("ctk_"));
    // Klarna's token id is never shown to the merchant nor stored in plain text.
    assert!(!token.to_string().contains(&klarna_token_id(&shop)));
    let stored = stored_text(&shop.env.state.config.database).await;
    assert!(stored.contains(&ctk), "the token's row is in what was read");
    assert!(!stored.contains(&klarna_token_id(&shop)));
    let (_, by_ref) = shop
        .call(
            reqwest::Method::GET,
            &format!("/api/merchant/customer-tokens/{ctk}"),
            None,
            None,
        )
        .await;
    assert_eq!(by_ref, token);

    // The first charge's answer is lost after Klarna created the order: 202, still pending
    // (never a reason to charge under a new key); the retry with the same Idempotency-Key,
    // once the pause before the next try is over, gets that order, and Klarna holds one.
    shop.env.sandbox.set_faults(sandbox::Faults {
        lose_answer_next: 1,
        path_contains: "/customer-token/".into(),
        ..sandbox::Faults::default()
    });
    let charge_path = format!("/api/merchant/customer-tokens/{ctk}/orders");
    let body = json!({"cart": null, "order_lines": [
        {"type": "physical", "reference": "BOX-M", "name": "Monthly coffee box", "quantity": 1,
         "unit_price": 2_900, "tax_rate": 700, "total_amount": 2_900, "total_tax_amount": 190}
    ], "order_amount": 2_900, "order_tax_amount": 190, "merchant_reference1": "SUB-1-2026-04",
       "merchant_reference2": "CUST-88"});
    let (status, lost) = shop
        .call(
            reqwest::Method::POST,
            &charge_path,
            Some("april"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 202, "{lost}");
    assert_eq!(lost["state"], "pending");
    assert_eq!(lost["order_id"], Value::Null);
    shop.env.state.clock.advance(5);
    let (status, charged) = shop
        .call(
            reqwest::Method::POST,
            &charge_path,
            Some("april"),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 201, "{charged}");
    assert_eq!(charged["order_amount"], 2_900);
    assert_eq!(charged["state"], "done");
    assert_eq!(charged["order_state"], "accepted");
    assert_eq!(shop.env.sandbox.token_order_count(), 1);
    let charges: Vec<_> = shop
        .env
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/order") && r.path.starts_with("/customer-token/"))
        .collect();
    assert_eq!(charges.len(), 2);
    assert_eq!(charges[0].idempotency_key, charges[1].idempotency_key);
    assert_eq!(charges[0].body["purchase_currency"], "EUR");
    assert_eq!(charges[0].body["merchant_reference1"], "SUB-1-2026-04");
    // Both references are kept with the recorded order.
    let recorded = shop
        .env
        .state
        .store
        .order_request(charged["order_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        recorded.merchant_reference1.as_deref(),
        Some("SUB-1-2026-04")
    );
    assert_eq!(recorded.merchant_reference2.as_deref(), Some("CUST-88"));
    // The same key with another body is another request: refused.
    let mut other = body.clone();
    other["merchant_reference1"] = json!("SUB-1-2026-05");
    let (status, reused) = shop
        .call(
            reqwest::Method::POST,
            &charge_path,
            Some("april"),
            Some(other),
        )
        .await;
    assert_eq!(status, 409, "{reused}");
    assert_eq!(reused["code"], "idempotency_key_reused");

    // The charged order is an order of this shop: captured through the merchant order API.
    let charged_id = charged["order_id"].as_str().unwrap();
    let (status, capture) = shop
        .call(
            reqwest::Method::POST,
            &format!("/api/merchant/orders/{charged_id}/captures"),
            Some("ship-april"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 201, "{capture}");
    assert_eq!(capture["order"]["state"], "captured");
    assert_eq!(shop.env.sandbox.capture_count(charged_id), 1);

    // A registered cart in the token's currency charges too.
    let (status, _) = shop
        .call(
            reqwest::Method::POST,
            &charge_path,
            Some("may"),
            Some(json!({"cart": "demo-small"})),
        )
        .await;
    assert_eq!(status, 201);

    // Cancelled (no Idempotency-Key needed: cancelling is idempotent): here and at Klarna; a
    // new charge is refused, an old key still answers.
    let (status, cancelled) = shop
        .call(
            reqwest::Method::POST,
            &format!("/api/merchant/customer-tokens/{ctk}/cancel"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["klarna_status"], "CANCELLED");
    let cancel_call = shop
        .env
        .sandbox
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/status"))
        .unwrap();
    assert_eq!(cancel_call.method, "PATCH");
    assert_eq!(cancel_call.body, json!({"status": "CANCELLED"}));
    let (status, refused) = shop
        .call(
            reqwest::Method::POST,
            &charge_path,
            Some("june"),
            Some(json!({"cart": "demo-small"})),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "not_allowed");
    assert_eq!(refused["fields"], json!(["customer_token"]));
    let (status, again) = shop
        .call(
            reqwest::Method::POST,
            &charge_path,
            Some("april"),
            Some(body),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(again["order_id"], charged["order_id"]);
}

/// Klarna's token id, as the sandbox was asked about it.
fn klarna_token_id(shop: &Shop) -> String {
    let read = shop
        .env
        .sandbox
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/customer-token/v1/tokens/"))
        .expect("Klarna was asked about the token");
    read.path["/customer-token/v1/tokens/".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn charges_are_checked_before_klarna_is_called() {
    let shop = Shop::new().await;
    let (_, order) = shop
        .subscribe("buy_and_tokenize", "subscriber@example.com")
        .await;
    let (_, token) = shop
        .call(
            reqwest::Method::GET,
            &format!("/api/merchant/orders/{}/customer-token", order.order_id),
            None,
            None,
        )
        .await;
    let path = format!(
        "/api/merchant/customer-tokens/{}/orders",
        token["customer_token"].as_str().unwrap()
    );
    let before = shop.env.sandbox.requests().len();
    // No Idempotency-Key.
    let (status, e) = shop
        .call(
            reqwest::Method::POST,
            &path,
            None,
            Some(json!({"cart": "demo"})),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("idempotency_key_missing"))
    );
    // Another currency than the token's.
    let (status, e) = shop
        .call(
            reqwest::Method::POST,
            &path,
            Some("k1"),
            Some(json!({"cart": "demo", "purchase_currency": "SEK"})),
        )
        .await;
    assert_eq!(
        (status, e["fields"].clone()),
        (422, json!(["purchase_currency"]))
    );
    // Sums that do not add up, named as Klarna names them.
    let (status, e) = shop
        .call(
            reqwest::Method::POST,
            &path,
            Some("k2"),
            Some(json!({"order_lines": [{"name": "X", "quantity": 1, "unit_price": 100, "tax_rate": 1900,
                "total_amount": 100, "total_tax_amount": 16}], "order_amount": 200, "order_tax_amount": 16})),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["fields"], json!(["order_amount"]));
    let (status, _) = shop
        .call(
            reqwest::Method::POST,
            "/api/merchant/customer-tokens/ctk_nope/orders",
            Some("k3"),
            Some(json!({"cart": "demo"})),
        )
        .await;
    assert_eq!(status, 404);
    // None of these reached Klarna.
    assert!(shop.env.sandbox.requests()[before..]
        .iter()
        .all(|r| !r.path.starts_with("/customer-token/")));
}

#[tokio::test]
async fn a_plain_purchase_yields_no_token_and_klarna_refuses_one() {
    let shop = Shop::new().await;
    let (authorization, order) = shop.subscribe("buy", "subscriber@example.com").await;
    let (status, e) = shop
        .call(
            reqwest::Method::GET,
            &format!("/api/merchant/orders/{}/customer-token", order.order_id),
            None,
            None,
        )
        .await;
    assert_eq!(status, 404);
    // The input at fault is the order (`fields` names an input of the request).
    assert_eq!(e["code"], "customer_token_not_found");
    assert_eq!(e["fields"], json!(["order_id"]));
    assert!(!shop
        .env
        .sandbox
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/customer-token")));
    // Klarna issues tokens only for sessions that asked for one.
    let creds = sandbox::SandboxCredentials::default();
    let r = shop
        .env
        .http
        .post(format!("{}/sandbox/payments/v1/authorizations/{authorization}/customer-token", shop.env.url))
        .basic_auth(creds.username, Some(creds.password))
        .json(&json!({"description": "Subscription", "intended_use": "SUBSCRIPTION", "locale": "de-DE",
                      "purchase_country": "DE", "purchase_currency": "EUR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], "INVALID_OPERATION");
}

/// A merchant's line whose quantity × unit_price overflows i64 (2^62 × 4 wraps to 0) is a 422
/// naming the line, not a panic (debug) nor a free line sent to Klarna (release).
#[tokio::test]
async fn an_overflowing_charge_line_is_a_422() {
    let shop = Shop::new().await;
    let (_, order) = shop
        .subscribe("buy_and_tokenize", "subscriber@example.com")
        .await;
    let (_, token) = shop
        .call(
            reqwest::Method::GET,
            &format!("/api/merchant/orders/{}/customer-token", order.order_id),
            None,
            None,
        )
        .await;
    let (status, e) = shop
        .call(
            reqwest::Method::POST,
            &format!(
                "/api/merchant/customer-tokens/{}/orders",
                token["customer_token"].as_str().unwrap()
            ),
            Some("overflow"),
            Some(json!({"order_lines": [
                {"name": "X", "quantity": 4_611_686_018_427_387_904_i64, "unit_price": 4,
                 "tax_rate": 0, "total_amount": 0, "total_tax_amount": 0}
            ], "order_amount": 0, "order_tax_amount": 0})),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    assert!(
        e["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("order_lines[0].total_amount")),
        "{e}"
    );
}
