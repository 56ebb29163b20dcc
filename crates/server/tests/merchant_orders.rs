//! The merchant's order operations over HTTP, against the sandbox's Order Management: capture
//! on shipment with a tracking number, refund, release, cancel, extend; the refusals that come
//! before Klarna is called; and money moved once however often a request is retried.

mod common;

use common::shop::*;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn capture_on_shipment_then_refund_then_release() {
    let shop = shop().await;
    let total = shop.order.order_amount;
    assert_eq!(shop.order().await["state"], "authorized");

    let (status, answer) = shop
        .post(
            "/captures",
            "shipment-1",
            json!({
                "amount": 1000,
                "shipping_info": [{"shipping_company": "DHL", "shipping_method": "Home", "tracking_number": "00340434161234567890"}]
            }),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let capture_id = answer["operation"]["capture_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(answer["order"]["state"], "part_captured");
    assert_eq!(answer["order"]["captured_amount"], 1000);
    assert_eq!(answer["order"]["remaining_authorized_amount"], total - 1000);
    // Klarna got the carrier and the tracking number with the capture, in its own words.
    let sent = shop
        .env
        .sandbox
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/captures"))
        .unwrap();
    assert_eq!(
        sent.body,
        json!({
            "captured_amount": 1000,
            "shipping_info": [{"shipping_company": "DHL", "shipping_method": "Home", "tracking_number": "00340434161234567890"}]
        })
    );
    assert_eq!(answer["order"]["captures"][0]["capture_id"], capture_id);

    let (status, answer) = shop
        .post("/refunds", "return-1", json!({"amount": 400}))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert!(answer["operation"]["refund_id"].is_string());
    assert_eq!(answer["order"]["state"], "part_refunded");

    let (status, answer) = shop.send(false, "/release", "release-1", None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["order"]["remaining_authorized_amount"], 0);
    assert_eq!(answer["order"]["captured_amount"], 1000);
    assert_eq!(answer["order"]["refunded_amount"], 400);

    // Nothing is left to capture, and what was captured can still be refunded, up to 600.
    let (status, e) = shop.post("/captures", "shipment-2", json!({})).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("not_allowed")),
        "{e}"
    );
    let (status, e) = shop
        .post("/refunds", "return-2", json!({"amount": 601}))
        .await;
    assert_eq!(
        (status, e["fields"][0].as_str()),
        (409, Some("amount")),
        "{e}"
    );
    let (status, answer) = shop.post("/refunds", "return-3", json!({})).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["operation"]["amount"], 600);
    assert_eq!(answer["order"]["state"], "refunded");
}

#[tokio::test]
async fn cancel_is_refused_after_a_capture_and_allowed_before() {
    let shop = shop().await;
    let (status, _) = shop.post("/captures", "c1", json!({"amount": 100})).await;
    assert_eq!(status, 201);
    let (status, e) = shop.send(false, "/cancel", "cancel-1", None).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("not_allowed")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("Refund"), "{e}");
    // Nothing was sent to Klarna for the refused cancel.
    assert!(!shop
        .env
        .sandbox
        .requests()
        .iter()
        .any(|r| r.path.ends_with("/cancel")));

    let other = self::shop().await;
    let (status, answer) = other.send(false, "/cancel", "cancel-1", None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["order"]["state"], "cancelled");
    let (status, _) = other
        .post("/captures", "late", json!({"amount": 100}))
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn extend_adds_28_days_from_today_on_klarnas_clock() {
    let shop = shop().await;
    let expires = shop.order().await["expires_at"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(expires.starts_with("2026-03-29"), "{expires}");
    shop.env.state.clock.advance(10 * 86_400);
    let (status, answer) = shop.send(false, "/extend", "extend-1", None).await;
    assert_eq!(status, 200, "{answer}");
    let expires = answer["order"]["expires_at"].as_str().unwrap();
    assert!(expires.starts_with("2026-04-08"), "{expires}");
    // Past its expiry an authorization can no longer be extended, or captured.
    shop.env.state.clock.advance(40 * 86_400);
    assert_eq!(shop.order().await["state"], "expired");
    let (status, _) = shop.send(false, "/extend", "extend-2", None).await;
    assert_eq!(status, 409);
    let (status, _) = shop.post("/captures", "late", json!({})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn the_authorization_never_goes_below_what_was_captured() {
    let shop = shop().await;
    shop.post("/captures", "c1", json!({"amount": 3000})).await;
    let (status, e) = shop
        .send(
            true,
            "/authorization",
            "a1",
            Some(json!({"order_amount": 2999})),
        )
        .await;
    assert_eq!(
        (status, e["fields"][0].as_str()),
        (409, Some("order_amount")),
        "{e}"
    );
    let (status, answer) = shop
        .send(
            true,
            "/authorization",
            "a2",
            Some(json!({"order_amount": 3000})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["order"]["order_amount"], 3000);
    assert_eq!(answer["order"]["remaining_authorized_amount"], 0);
}

#[tokio::test]
async fn references_and_shipping_address_change_and_the_invoice_is_sent_again() {
    let shop = shop().await;
    let (status, answer) = shop
        .send(
            true,
            "/merchant-references",
            "r1",
            Some(json!({"merchant_reference1": "ORDER-4711"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["order"]["merchant_reference1"], "ORDER-4711");

    let mut moved = address("customer@example.com");
    moved.street_address = "Neue Straße 1".into();
    let (status, answer) = shop
        .send(
            true,
            "/customer-details",
            "d1",
            Some(json!({ "shipping_address": moved })),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["order"]["shipping_address"]["street_address"],
        "Neue Straße 1"
    );
    // Klarna never takes a new billing address; we do not even accept one.
    let (status, e) = shop
        .send(
            true,
            "/customer-details",
            "d2",
            Some(json!({ "billing_address": moved })),
        )
        .await;
    assert_eq!(
        (status, e["fields"][0].as_str()),
        (400, Some("billing_address")),
        "{e}"
    );

    let (_, answer) = shop.post("/captures", "c1", json!({})).await;
    let capture = answer["operation"]["capture_id"].as_str().unwrap();
    let (status, answer) = shop
        .send(false, &format!("/captures/{capture}/send-out"), "s1", None)
        .await;
    assert_eq!(status, 200, "{answer}");
    // Another capture id is Klarna's 404, said as ours.
    let (status, e) = shop
        .send(false, "/captures/no-such-capture/send-out", "s2", None)
        .await;
    assert_eq!(
        (status, e["code"].as_str(), e["fields"][0].as_str()),
        (404, Some("capture_not_found"), Some("capture_id")),
        "{e}"
    );
}

#[tokio::test]
async fn bad_requests_name_the_field_and_reach_no_one() {
    let shop = shop().await;
    let before = shop.env.sandbox.requests().len();
    // No Idempotency-Key.
    let r = shop
        .env
        .http
        .post(shop.url("/captures"))
        .bearer_auth(&shop.key)
        .json(&json!({"amount": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["fields"][0], "Idempotency-Key", "{e}");

    for (body, field) in [
        (json!({"amount": 0}), "amount"),
        (json!({"amount": "ten"}), "amount"),
        (json!({"amount": 10, "color": "red"}), "color"),
        (
            json!({"amount": 10, "shipping_info": [{"tracking_number": "x".repeat(101)}]}),
            "shipping_info[0].tracking_number",
        ),
        // Line totals chosen to overflow a 64-bit sum into "adding up" (or into a panic).
        (
            json!({"amount": 10, "order_lines": [
                {"name": "a", "quantity": 1, "unit_price": i64::MAX, "total_amount": i64::MAX},
                {"name": "b", "quantity": 1, "unit_price": 11, "total_amount": 11}]}),
            "order_lines",
        ),
    ] {
        let (status, e) = shop.post("/captures", "k", body.clone()).await;
        assert!(matches!(status, 400 | 422), "{body}: {status} {e}");
        assert_eq!(e["fields"][0], field, "{body}: {e}");
    }
    // A hostile or unknown order id is "not found", and never goes into a Klarna URL.
    for id in ["..%2F..%2Fpayments", "no-such-order", "a%3Fb"] {
        let r = shop
            .env
            .http
            .post(format!("{}/api/merchant/orders/{id}/cancel", shop.env.url))
            .bearer_auth(&shop.key)
            .header("Idempotency-Key", "x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{id}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["code"], "order_not_found", "{id}: {e}");
    }
    assert_eq!(shop.env.sandbox.requests().len(), before);
}

#[tokio::test]
async fn a_pending_review_cannot_be_captured() {
    let env = start().await;
    let order = env.placed_order("customer+de+pending@klarna.com").await;
    let (_, key) = server::merchant::keys::create(&env.state.store, "w", env.state.clock.now())
        .await
        .unwrap();
    let shop = Shop { env, key, order };
    assert_eq!(shop.order().await["state"], "pending_review");
    let (status, e) = shop.post("/captures", "c", json!({})).await;
    assert_eq!(status, 409, "{e}");
    assert!(e["message"].as_str().unwrap().contains("review"), "{e}");
}
