//! Klarna Order Management, emulated, over HTTP as a merchant's server drives it: every
//! operation in every order state (allowed or refused with Klarna's code), the money paths
//! (partial capture, refund, release), the authorization's 28 days and 180-day cap on the
//! sandbox clock, the checks on amounts, addresses and references, and a capture repeated
//! under one `Klarna-Idempotency-Key`. The clock is set to a fixed day and moved; nothing
//! waits.

mod common;

use common::{billing, serve, Env, PASSWORD, PENDING, USER};
use reqwest::header::HeaderMap;
use sandbox::Sandbox;
use serde_json::{json, Value};

/// 2026-06-15T10:00:00Z: "today" on the sandbox clock in these tests.
const JUNE_15: i64 = 1_781_517_600;
const DAY: i64 = 86_400;
/// Klarna's fraud review on the sandbox clock (`REVIEW_SECS`), and a second more.
const REVIEW_OVER: i64 = 4 * 3600 + 1;
/// Approved, held for review, then turned down.
const REJECTED: &str = "customer+de+pending+rejected@klarna.com";

struct Om {
    env: Env,
    sandbox: Sandbox,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or("")
    }

    fn messages(&self) -> String {
        self.body["error_messages"].to_string()
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

/// A sandbox of its own whose clock reads [`JUNE_15`].
async fn om() -> Om {
    let sandbox = Sandbox::default();
    sandbox.clock.set(JUNE_15);
    Om {
        env: serve(sandbox.clone()).await,
        sandbox,
    }
}

impl Om {
    async fn order(&self) -> String {
        self.env.order_for(common::APPROVED).await
    }

    /// `method …/orders/{order_id}{rest}` with the merchant's credentials; a mutating call
    /// carries `key`, or a fresh key of its own, as our server always sends one.
    async fn call_with_key(
        &self,
        method: &str,
        order_id: &str,
        rest: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let url = format!(
            "{}/ordermanagement/v1/orders/{order_id}{rest}",
            self.env.base
        );
        let mut req = self
            .env
            .http
            .request(method.clone(), url)
            .basic_auth(USER, Some(PASSWORD));
        if method != reqwest::Method::GET {
            let fresh = uuid::Uuid::new_v4().to_string();
            req = req.header("Klarna-Idempotency-Key", key.unwrap_or(&fresh));
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON")
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn call(&self, method: &str, order_id: &str, rest: &str, body: Option<Value>) -> Answer {
        self.call_with_key(method, order_id, rest, None, body).await
    }

    async fn get(&self, order_id: &str) -> Value {
        let a = self.call("GET", order_id, "", None).await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    async fn capture(&self, order_id: &str, amount: i64) -> Answer {
        self.call(
            "POST",
            order_id,
            "/captures",
            Some(json!({ "captured_amount": amount })),
        )
        .await
    }
}

/// Unix seconds of an RFC 3339 UTC time as the sandbox writes it (`2026-07-13T10:00:00Z`).
fn unix(rfc3339: &Value) -> i64 {
    let s = rfc3339.as_str().expect("a time");
    let day = klarna::date::Date::parse(&s[..10]).expect("date").days();
    let hms: Vec<i64> = s[11..19]
        .split(':')
        .map(|n| n.parse().expect("number"))
        .collect();
    day * DAY + hms[0] * 3600 + hms[1] * 60 + hms[2]
}

#[derive(Clone, Copy, Debug)]
enum State {
    Authorized,
    PartCaptured,
    Captured,
    Released,
    Cancelled,
    Expired,
    PartCapturedExpired,
    PendingReview,
    ReviewRejected,
}

/// A new order of 10.00 brought into `state`, and the status Klarna reports for it.
async fn order_in(om: &Om, state: State) -> (String, &'static str) {
    let email = match state {
        State::PendingReview => PENDING,
        State::ReviewRejected => REJECTED,
        _ => common::APPROVED,
    };
    let id = om.env.order_for(email).await;
    let ok = |a: Answer| assert!(a.status < 300, "{state:?}: {} {}", a.status, a.body);
    let status = match state {
        State::Authorized | State::PendingReview => "AUTHORIZED",
        State::PartCaptured => {
            ok(om.capture(&id, 600).await);
            "PART_CAPTURED"
        }
        State::Captured => {
            ok(om.capture(&id, 1000).await);
            "CAPTURED"
        }
        State::Released => {
            ok(om.capture(&id, 600).await);
            ok(om
                .call("POST", &id, "/release-remaining-authorization", None)
                .await);
            "CAPTURED"
        }
        State::Cancelled => {
            ok(om.call("POST", &id, "/cancel", None).await);
            "CANCELLED"
        }
        State::Expired => {
            om.sandbox.clock.advance(28 * DAY + 1);
            "EXPIRED"
        }
        State::PartCapturedExpired => {
            ok(om.capture(&id, 600).await);
            om.sandbox.clock.advance(28 * DAY + 1);
            "PART_CAPTURED"
        }
        State::ReviewRejected => {
            om.sandbox.clock.advance(REVIEW_OVER);
            "CANCELLED"
        }
    };
    (id, status)
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Capture,
    Refund,
    Cancel,
    Release,
    Extend,
    UpdateAmount,
    NewShippingAddress,
    References,
}

impl Op {
    /// The call, and the code Klarna refuses it with.
    fn request(self) -> (&'static str, &'static str, Option<Value>, &'static str) {
        let mut shipping = billing("customer+de@klarna.com");
        shipping["street_address"] = json!("Neue Straße 5");
        match self {
            Op::Capture => (
                "POST",
                "/captures",
                Some(json!({"captured_amount": 100})),
                "CAPTURE_NOT_ALLOWED",
            ),
            Op::Refund => (
                "POST",
                "/refunds",
                Some(json!({"refunded_amount": 100})),
                "REFUND_NOT_ALLOWED",
            ),
            Op::Cancel => ("POST", "/cancel", None, "CANCEL_NOT_ALLOWED"),
            Op::Release => (
                "POST",
                "/release-remaining-authorization",
                None,
                "NOT_ALLOWED",
            ),
            Op::Extend => ("POST", "/extend-authorization-time", None, "NOT_ALLOWED"),
            Op::UpdateAmount => (
                "PATCH",
                "/authorization",
                Some(json!({"order_amount": 900})),
                "NOT_ALLOWED",
            ),
            Op::NewShippingAddress => (
                "PATCH",
                "/customer-details",
                Some(json!({ "shipping_address": shipping })),
                "NOT_ALLOWED",
            ),
            Op::References => (
                "PATCH",
                "/merchant-references",
                Some(json!({"merchant_reference2": "erp-501"})),
                "NOT_ALLOWED",
            ),
        }
    }
}

#[tokio::test]
async fn every_operation_in_every_state_is_allowed_or_refused_as_at_klarna() {
    use Op::*;
    use State::*;
    let ops = [
        Capture,
        Refund,
        Cancel,
        Release,
        Extend,
        UpdateAmount,
        NewShippingAddress,
        References,
    ];
    // true: allowed (201/204); false: refused with 403 and the operation's code.
    let table: [(State, [bool; 8]); 9] = [
        (
            Authorized,
            [true, false, true, false, true, true, true, true],
        ),
        (
            PartCaptured,
            [true, true, false, true, true, true, true, true],
        ),
        (
            Captured,
            [false, true, false, false, false, false, true, true],
        ),
        (
            Released,
            [false, true, false, false, false, false, true, true],
        ),
        (
            Cancelled,
            [false, false, false, false, false, false, false, true],
        ),
        (
            Expired,
            [false, false, false, false, false, false, true, true],
        ),
        (
            PartCapturedExpired,
            [false, true, false, false, false, false, true, true],
        ),
        (
            PendingReview,
            [false, false, true, false, true, true, true, true],
        ),
        (
            ReviewRejected,
            [false, false, false, false, false, false, false, true],
        ),
    ];
    for (state, allowed) in table {
        for (op, allowed) in ops.into_iter().zip(allowed) {
            // Each cell on a sandbox of its own: moving the clock touches no other cell.
            let om = om().await;
            let (id, status) = order_in(&om, state).await;
            assert_eq!(om.get(&id).await["status"], status, "{state:?}");
            let (method, rest, body, refusal) = op.request();
            let a = om.call(method, &id, rest, body).await;
            if allowed {
                assert!(
                    matches!(a.status, 201 | 204),
                    "{state:?} {op:?}: {} {}",
                    a.status,
                    a.body
                );
            } else {
                assert_eq!(a.status, 403, "{state:?} {op:?}: {}", a.body);
                assert_eq!(a.code(), refusal, "{state:?} {op:?}: {}", a.body);
                assert!(a.body["correlation_id"].is_string(), "{}", a.body);
            }
        }
    }
}

#[tokio::test]
async fn a_fresh_order_is_authorized_for_28_days() {
    let om = om().await;
    let id = om.order().await;
    let o = om.get(&id).await;
    assert_eq!(o["status"], "AUTHORIZED");
    assert_eq!(o["fraud_status"], "ACCEPTED");
    assert_eq!(o["order_amount"], 1000);
    assert_eq!(o["original_order_amount"], 1000);
    assert_eq!(o["remaining_authorized_amount"], 1000);
    assert_eq!(o["captured_amount"], 0);
    assert_eq!(o["purchase_currency"], "EUR");
    assert_eq!(o["merchant_reference1"], "checkout-om");
    assert_eq!(o["billing_address"]["postal_code"], "41460");
    assert_eq!(unix(&o["expires_at"]) - unix(&o["created_at"]), 28 * DAY);
    assert!((JUNE_15..JUNE_15 + 60).contains(&unix(&o["created_at"])));
    assert_eq!(o["captures"], json!([]));
    assert_eq!(
        om.sandbox.order_snapshot(&id).expect("snapshot").order_id,
        id
    );
}

#[tokio::test]
async fn partial_capture_refund_and_release() {
    let om = om().await;
    let id = om.order().await;
    let c = om.capture(&id, 600).await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(c.body, Value::Null, "a capture answers without a body");
    let capture_id = c.header("Capture-Id");
    assert!(!capture_id.is_empty());
    assert!(
        c.header("Location").ends_with(&format!(
            "/ordermanagement/v1/orders/{id}/captures/{capture_id}"
        )),
        "{}",
        c.header("Location")
    );
    let o = om.get(&id).await;
    assert_eq!(o["status"], "PART_CAPTURED");
    assert_eq!(o["captured_amount"], 600);
    assert_eq!(o["remaining_authorized_amount"], 400);
    let listed = om.call("GET", &id, "/captures", None).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    let read = om
        .call("GET", &id, &format!("/captures/{capture_id}"), None)
        .await;
    assert_eq!(read.body["captured_amount"], 600);
    assert_eq!(read.body["capture_id"], capture_id.as_str());

    // More than was captured and not refunded yet: refused.
    let too_much = om
        .call(
            "POST",
            &id,
            "/refunds",
            Some(json!({"refunded_amount": 601})),
        )
        .await;
    assert_eq!(
        (too_much.status, too_much.code()),
        (403, "REFUND_NOT_ALLOWED")
    );
    assert!(
        too_much.messages().contains("refunded_amount"),
        "{}",
        too_much.body
    );
    let r = om
        .call(
            "POST",
            &id,
            "/refunds",
            Some(json!({"refunded_amount": 200, "reference": "R1"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let refund_id = r.header("Refund-Id");
    assert!(r
        .header("Location")
        .ends_with(&format!("/refunds/{refund_id}")));
    let refund = om
        .call("GET", &id, &format!("/refunds/{refund_id}"), None)
        .await;
    assert_eq!(refund.body["refunded_amount"], 200);
    assert_eq!(refund.body["reference"], "R1");
    let rest = om
        .call(
            "POST",
            &id,
            "/refunds",
            Some(json!({"refunded_amount": 401})),
        )
        .await;
    assert_eq!(
        rest.code(),
        "REFUND_NOT_ALLOWED",
        "600 captured, 200 refunded"
    );

    let o = om.get(&id).await;
    assert_eq!(o["refunded_amount"], 200);
    assert_eq!(o["captures"][0]["refunded_amount"], 200);
    assert_eq!(
        o["remaining_authorized_amount"], 400,
        "a refund gives nothing back to capture"
    );

    let released = om
        .call("POST", &id, "/release-remaining-authorization", None)
        .await;
    assert_eq!(released.status, 204, "{}", released.body);
    let o = om.get(&id).await;
    assert_eq!(o["status"], "CAPTURED");
    assert_eq!(o["remaining_authorized_amount"], 0);
    let again = om
        .call("POST", &id, "/release-remaining-authorization", None)
        .await;
    assert_eq!((again.status, again.code()), (403, "NOT_ALLOWED"));
    assert!(
        again.messages().contains("fully captured"),
        "{}",
        again.body
    );
    assert_eq!(om.capture(&id, 1).await.code(), "CAPTURE_NOT_ALLOWED");
    assert_eq!(om.sandbox.capture_count(&id), 1);
}

#[tokio::test]
async fn a_capture_over_the_remaining_amount_is_refused_naming_captured_amount() {
    let om = om().await;
    let id = om.order().await;
    for amount in [1001, 0, -5] {
        let a = om.capture(&id, amount).await;
        assert_eq!(
            (a.status, a.code()),
            (403, "CAPTURE_NOT_ALLOWED"),
            "{amount}"
        );
        assert!(a.messages().contains("captured_amount"), "{}", a.body);
    }
    assert_eq!(om.capture(&id, 700).await.status, 201);
    let over = om.capture(&id, 301).await;
    assert_eq!(over.code(), "CAPTURE_NOT_ALLOWED", "only 300 remain");
    assert_eq!(om.capture(&id, 300).await.status, 201);
    assert_eq!(om.get(&id).await["status"], "CAPTURED");
    assert_eq!(om.sandbox.capture_count(&id), 2);
}

#[tokio::test]
async fn cancel_after_a_capture_is_refused_with_klarnas_message() {
    let om = om().await;
    let id = om.order().await;
    assert_eq!(om.capture(&id, 100).await.status, 201);
    let a = om.call("POST", &id, "/cancel", None).await;
    assert_eq!((a.status, a.code()), (403, "CANCEL_NOT_ALLOWED"));
    assert_eq!(
        a.body["error_messages"],
        json!(["Order has previous captures. Cancel not possible"])
    );
    assert_eq!(om.get(&id).await["status"], "PART_CAPTURED");
}

#[tokio::test]
async fn extend_gives_28_days_from_now_up_to_180_days_after_creation_and_never_after_expiry() {
    let om = om().await;
    let id = om.order().await;
    let created = unix(&om.get(&id).await["created_at"]);
    // Every 20 days, before the 28 run out: 28 days from that day, until the cap.
    for round in 1..=8 {
        om.sandbox.clock.set(created + round * 20 * DAY);
        let a = om
            .call("POST", &id, "/extend-authorization-time", None)
            .await;
        assert_eq!(a.status, 204, "round {round}: {}", a.body);
        assert_eq!(a.body, Value::Null);
        let expires = unix(&om.get(&id).await["expires_at"]);
        let expected = (created + round * 20 * DAY + 28 * DAY).min(created + 180 * DAY);
        assert!(
            (expected..expected + 60).contains(&expires),
            "round {round}: {expires} vs {expected}"
        );
    }
    assert_eq!(unix(&om.get(&id).await["expires_at"]), created + 180 * DAY);
    let capped = om
        .call("POST", &id, "/extend-authorization-time", None)
        .await;
    assert_eq!((capped.status, capped.code()), (403, "NOT_ALLOWED"));
    assert!(capped.messages().contains("180 days"), "{}", capped.body);
    // Still capturable until then; expired after.
    om.sandbox.clock.set(created + 180 * DAY + 1);
    let o = om.get(&id).await;
    assert_eq!(o["status"], "EXPIRED");
    assert_eq!(o["remaining_authorized_amount"], 0);
    assert_eq!(om.capture(&id, 100).await.code(), "CAPTURE_NOT_ALLOWED");

    // An order left to expire cannot be brought back.
    let late = om.order().await;
    om.sandbox.clock.advance(28 * DAY + 1);
    let a = om
        .call("POST", &late, "/extend-authorization-time", None)
        .await;
    assert_eq!((a.status, a.code()), (403, "NOT_ALLOWED"));
    assert!(a.messages().contains("Order is expired"), "{}", a.body);
}

#[tokio::test]
async fn the_order_amount_cannot_go_below_what_was_captured() {
    let om = om().await;
    let id = om.order().await;
    assert_eq!(om.capture(&id, 600).await.status, 201);
    let below = om
        .call(
            "PATCH",
            &id,
            "/authorization",
            Some(json!({"order_amount": 599})),
        )
        .await;
    assert_eq!((below.status, below.code()), (403, "NOT_ALLOWED"));
    assert!(below.messages().contains("order_amount"), "{}", below.body);
    let line = |total: i64| {
        json!({"name": "Shirt", "quantity": 1, "unit_price": total,
        "tax_rate": 0, "total_amount": total, "total_tax_amount": 0})
    };
    let wrong_lines = om
        .call(
            "PATCH",
            &id,
            "/authorization",
            Some(json!({"order_amount": 800, "order_lines": [line(700)]})),
        )
        .await;
    assert_eq!((wrong_lines.status, wrong_lines.code()), (400, "BAD_VALUE"));
    assert_eq!(
        wrong_lines.body["error_messages"],
        json!(["Bad value: order_lines"])
    );
    let ok = om
        .call(
            "PATCH",
            &id,
            "/authorization",
            Some(json!({"order_amount": 800, "order_lines": [line(800)]})),
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.body);
    let o = om.get(&id).await;
    assert_eq!(o["order_amount"], 800);
    assert_eq!(o["original_order_amount"], 1000);
    assert_eq!(o["remaining_authorized_amount"], 200);
    assert_eq!(o["order_lines"][0]["total_amount"], 800);
    // Down to exactly the captured amount: fully captured.
    let exact = om
        .call(
            "PATCH",
            &id,
            "/authorization",
            Some(json!({"order_amount": 600})),
        )
        .await;
    assert_eq!(exact.status, 204);
    assert_eq!(om.get(&id).await["status"], "CAPTURED");
}

#[tokio::test]
async fn the_billing_address_cannot_change_the_shipping_address_can() {
    let om = om().await;
    let id = om.order().await;
    let mut moved = billing("customer+de@klarna.com");
    moved["city"] = json!("Düsseldorf");
    let a = om
        .call(
            "PATCH",
            &id,
            "/customer-details",
            Some(json!({"billing_address": moved})),
        )
        .await;
    assert_eq!((a.status, a.code()), (403, "NOT_ALLOWED"));
    assert!(a.messages().contains("Billing address"), "{}", a.body);
    let same = om
        .call("PATCH", &id, "/customer-details",
            Some(json!({"billing_address": billing("customer+de@klarna.com"), "shipping_address": moved})))
        .await;
    assert_eq!(same.status, 204, "{}", same.body);
    let o = om.get(&id).await;
    assert_eq!(o["shipping_address"]["city"], "Düsseldorf");
    assert_eq!(o["billing_address"]["city"], "Neuss");
    let mut bad = moved.clone();
    bad["postal_code"] = json!("ABC");
    let invalid = om
        .call(
            "PATCH",
            &id,
            "/customer-details",
            Some(json!({"shipping_address": bad})),
        )
        .await;
    assert_eq!((invalid.status, invalid.code()), (422, "INVALID_ADDRESS"));
    assert!(
        invalid.messages().contains("shipping_address.postal_code"),
        "{}",
        invalid.body
    );
}

#[tokio::test]
async fn merchant_references_change_and_are_limited_to_255_characters() {
    let om = om().await;
    let id = om.order().await;
    let a = om
        .call(
            "PATCH",
            &id,
            "/merchant-references",
            Some(json!({"merchant_reference1": "10001", "merchant_reference2": "x".repeat(255)})),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.body);
    let o = om.get(&id).await;
    assert_eq!(o["merchant_reference1"], "10001");
    assert_eq!(o["merchant_reference2"].as_str().map(str::len), Some(255));
    let long = om
        .call(
            "PATCH",
            &id,
            "/merchant-references",
            Some(json!({"merchant_reference2": "x".repeat(256)})),
        )
        .await;
    assert_eq!((long.status, long.code()), (400, "BAD_VALUE"));
    assert_eq!(
        long.body["error_messages"],
        json!(["Bad value: merchant_reference2"])
    );
}

#[tokio::test]
async fn one_idempotency_key_captures_once_and_replays_the_capture_id() {
    let om = om().await;
    let id = om.order().await;
    let body = json!({"captured_amount": 400});
    let first = om
        .call_with_key("POST", &id, "/captures", Some("key-1"), Some(body.clone()))
        .await;
    let second = om
        .call_with_key("POST", &id, "/captures", Some("key-1"), Some(body.clone()))
        .await;
    assert_eq!((first.status, second.status), (201, 201));
    assert!(!first.header("Capture-Id").is_empty());
    assert_eq!(second.header("Capture-Id"), first.header("Capture-Id"));
    assert_eq!(second.header("Location"), first.header("Location"));
    assert_eq!(om.sandbox.capture_count(&id), 1);
    assert_eq!(om.get(&id).await["captured_amount"], 400);
    // Another key is another capture.
    let other = om
        .call_with_key("POST", &id, "/captures", Some("key-2"), Some(body))
        .await;
    assert_eq!(other.status, 201);
    assert_ne!(other.header("Capture-Id"), first.header("Capture-Id"));
    assert_eq!(om.sandbox.capture_count(&id), 2);
    // A refund's id comes back the same way.
    let refund = json!({"refunded_amount": 100});
    let r1 = om
        .call_with_key("POST", &id, "/refunds", Some("key-3"), Some(refund.clone()))
        .await;
    let r2 = om
        .call_with_key("POST", &id, "/refunds", Some("key-3"), Some(refund))
        .await;
    assert_eq!(r2.header("Refund-Id"), r1.header("Refund-Id"));
    assert!(!r1.header("Refund-Id").is_empty());
    assert_eq!(om.get(&id).await["refunded_amount"], 100);
}

#[tokio::test]
async fn a_pending_review_refuses_capture_until_klarna_accepts() {
    let om = om().await;
    let id = om.env.order_for(PENDING).await;
    assert_eq!(om.get(&id).await["fraud_status"], "PENDING");
    let a = om.capture(&id, 100).await;
    assert_eq!((a.status, a.code()), (403, "CAPTURE_NOT_ALLOWED"));
    assert!(a.messages().contains("fraud review"), "{}", a.body);
    om.sandbox.clock.advance(REVIEW_OVER);
    assert_eq!(om.get(&id).await["fraud_status"], "ACCEPTED");
    assert_eq!(om.capture(&id, 100).await.status, 201);

    let rejected = om.env.order_for(REJECTED).await;
    om.sandbox.clock.advance(REVIEW_OVER);
    let o = om.get(&rejected).await;
    assert_eq!(
        (o["status"].as_str(), o["fraud_status"].as_str()),
        (Some("CANCELLED"), Some("REJECTED"))
    );
    assert_eq!(o["remaining_authorized_amount"], 0);
}

#[tokio::test]
async fn a_capture_keeps_its_shipping_info_as_sent_and_checks_its_limits() {
    let om = om().await;
    let id = om.order().await;
    // Literal JSON, as in Klarna's capture example.
    let sent: Value = serde_json::from_str(
        r#"{"captured_amount": 1000, "description": "Shipped in one box", "reference": "INV-1",
            "order_lines": [{"name": "Shirt", "quantity": 1, "unit_price": 1000, "tax_rate": 0,
                              "total_amount": 1000, "total_tax_amount": 0}],
            "shipping_info": [{"shipping_company": "DHL", "shipping_method": "Home",
                               "tracking_number": "63456415674545679874",
                               "tracking_uri": "https://dhl.example/track/63456415674545679874"}]}"#,
    )
    .unwrap();
    let company = |n: usize| json!({"captured_amount": 100, "shipping_info": [{"shipping_company": "D".repeat(n)}]});
    let long = om.call("POST", &id, "/captures", Some(company(101))).await;
    // Klarna's own answer (OM error page): 422, naming the field and its bounds.
    assert_eq!((long.status, long.code()), (422, "UNPROCESSABLE_ENTITY"));
    assert_eq!(
        long.body["error_messages"],
        json!(["The size of the shipping_info/shipping_company value must be between 0 and 100"])
    );
    let many = json!({"captured_amount": 100, "shipping_info": vec![json!({"shipping_method": "Home"}); 501]});
    assert_eq!(
        om.call("POST", &id, "/captures", Some(many)).await.code(),
        "UNPROCESSABLE_ENTITY"
    );
    let mut wrong_sum = sent.clone();
    wrong_sum["captured_amount"] = json!(900);
    let w = om.call("POST", &id, "/captures", Some(wrong_sum)).await;
    assert_eq!(w.body["error_messages"], json!(["Bad value: order_lines"]));
    let mut bad_method = sent.clone();
    bad_method["shipping_info"][0]["shipping_method"] = json!("Teleport");
    assert_eq!(
        om.call("POST", &id, "/captures", Some(bad_method))
            .await
            .status,
        400
    );
    assert_eq!(
        om.sandbox.capture_count(&id),
        0,
        "refused captures leave no trace"
    );

    let c = om.call("POST", &id, "/captures", Some(sent.clone())).await;
    assert_eq!(c.status, 201, "{}", c.body);
    let capture_id = c.header("Capture-Id");
    let read = om
        .call("GET", &id, &format!("/captures/{capture_id}"), None)
        .await
        .body;
    assert_eq!(read["shipping_info"], sent["shipping_info"]);
    assert_eq!(read["description"], "Shipped in one box");
    assert_eq!(read["reference"], "INV-1");

    let more =
        json!({"shipping_info": [{"shipping_company": "UPS", "shipping_method": "PickUpPoint"}]});
    let add = om
        .call(
            "POST",
            &id,
            &format!("/captures/{capture_id}/shipping-info"),
            Some(more),
        )
        .await;
    assert_eq!(add.status, 204, "{}", add.body);
    let read = om
        .call("GET", &id, &format!("/captures/{capture_id}"), None)
        .await
        .body;
    assert_eq!(read["shipping_info"][1]["shipping_company"], "UPS");
    let send_out = om
        .call(
            "POST",
            &id,
            &format!("/captures/{capture_id}/trigger-send-out"),
            None,
        )
        .await;
    assert_eq!(send_out.status, 204);
}

#[tokio::test]
async fn unknown_ids_are_klarnas_404s_and_credentials_are_required() {
    let om = om().await;
    let id = om.order().await;
    let o = om.call("GET", "no-such-order", "", None).await;
    assert_eq!((o.status, o.code()), (404, "NO_SUCH_ORDER"));
    let c = om.call("GET", &id, "/captures/nope", None).await;
    assert_eq!((c.status, c.code()), (404, "NO_SUCH_CAPTURE"));
    let s = om
        .call("POST", &id, "/captures/nope/trigger-send-out", None)
        .await;
    assert_eq!((s.status, s.code()), (404, "NO_SUCH_CAPTURE"));
    let r = om.call("GET", &id, "/refunds/nope", None).await;
    assert_eq!((r.status, r.code()), (404, "NO_SUCH_REFUND"));
    let anonymous = om
        .env
        .http
        .post(format!(
            "{}/ordermanagement/v1/orders/{id}/cancel",
            om.env.base
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(om.get(&id).await["status"], "AUTHORIZED");
}

#[tokio::test]
async fn more_than_was_authorized_needs_a_risk_check_the_test_customers_fail() {
    let om = om().await;
    let id = om.order().await;
    let above = om
        .call(
            "PATCH",
            &id,
            "/authorization",
            Some(json!({"order_amount": 1001})),
        )
        .await;
    assert_eq!((above.status, above.code()), (403, "NOT_ALLOWED"));
    assert!(above.messages().contains("risk"), "{}", above.body);
    assert_eq!(om.get(&id).await["order_amount"], 1000);
}

#[tokio::test]
async fn a_stored_answer_goes_only_to_the_merchant_it_belongs_to() {
    let om = om().await;
    let id = om.order().await;
    let first = om
        .call_with_key(
            "POST",
            &id,
            "/captures",
            Some("key-1"),
            Some(json!({"captured_amount": 100})),
        )
        .await;
    assert_eq!(first.status, 201);
    // The same key without the merchant's credentials: Klarna's 401, not the stored capture.
    let stranger = om
        .env
        .http
        .post(format!(
            "{}/ordermanagement/v1/orders/{id}/captures",
            om.env.base
        ))
        .header("Klarna-Idempotency-Key", "key-1")
        .json(&json!({"captured_amount": 100}))
        .send()
        .await
        .expect("request");
    assert_eq!(stranger.status(), 401);
    assert!(stranger.headers().get("capture-id").is_none());
}
