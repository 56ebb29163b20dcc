//! Recurring charges when things go wrong (review findings, proved here): no charge is sent
//! after Klarna's 24 hours of idempotency, none makes an order after its token was cancelled,
//! a charge without an answer is `202 pending`, a token cancelled while Klarna was issuing it
//! is cancelled at Klarna too, and an order in fraud review gets a chargeable token only once
//! Klarna accepts it.

mod common;

use common::subscriptions::*;
use reqwest::Method;
use serde_json::{json, Value};

impl Shop {
    /// A subscription bought by a shopper with `email`: the order's id.
    async fn buy(&self, email: &str) -> String {
        self.subscribe("buy_and_tokenize", email).await.1.order_id
    }

    async fn token_of(&self, order_id: &str) -> Value {
        let (status, t) = self
            .call(
                Method::GET,
                &format!("/api/merchant/orders/{order_id}/customer-token"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{t}");
        t
    }

    /// An active subscription's `ctk_…`.
    async fn subscription(&self) -> String {
        let order = self.buy("subscriber@example.com").await;
        let t = self.token_of(&order).await;
        assert_eq!(t["state"], "active");
        t["customer_token"].as_str().unwrap().to_string()
    }

    async fn charge(&self, ctk: &str, key: &str) -> (u16, Value) {
        self.call(
            Method::POST,
            &format!("/api/merchant/customer-tokens/{ctk}/orders"),
            Some(key),
            Some(april()),
        )
        .await
    }

    /// Charge calls Klarna got (answered or not).
    fn charge_calls(&self) -> usize {
        self.env
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/customer-token/") && r.path.ends_with("/order"))
            .count()
    }

    /// A worker round `secs` later on the clock.
    async fn round_after(&self, secs: i64) {
        self.env.state.clock.advance(secs);
        server::workers::run_round(&self.env.state, true).await;
    }
}

fn april() -> Value {
    json!({"order_lines": [
        {"type": "physical", "reference": "BOX-M", "name": "Monthly coffee box", "quantity": 1,
         "unit_price": 2_900, "tax_rate": 700, "total_amount": 2_900, "total_tax_amount": 190}
    ], "order_amount": 2_900, "order_tax_amount": 190})
}

fn faults(path: &str, fail: u32, lose: u32) -> sandbox::Faults {
    sandbox::Faults {
        fail_next: fail,
        lose_answer_next: lose,
        path_contains: path.into(),
        ..sandbox::Faults::default()
    }
}

#[tokio::test]
async fn a_charge_is_sent_again_with_pauses_and_never_after_klarnas_24_hours() {
    let shop = Shop::new().await;
    let ctk = shop.subscription().await;
    shop.env
        .sandbox
        .set_faults(faults("/customer-token/v1/tokens/", 0, 10_000));
    // Klarna makes the order; its answer is lost: pending, not a failure.
    let (status, c) = shop.charge(&ctk, "april").await;
    assert_eq!(status, 202, "{c}");
    assert_eq!(c["state"], "pending");
    assert_eq!(
        (shop.env.sandbox.token_order_count(), shop.charge_calls()),
        (1, 1)
    );
    // Not again before its pause (5 s, then 10 s) is over.
    shop.round_after(0).await;
    assert_eq!(shop.charge_calls(), 1);
    shop.round_after(5).await;
    assert_eq!(shop.charge_calls(), 2);
    shop.round_after(5).await;
    assert_eq!(shop.charge_calls(), 2);
    // A day later Klarna no longer knows the key: never sent again, left for a person.
    shop.round_after(25 * 3600).await;
    shop.round_after(3600).await;
    assert_eq!(shop.charge_calls(), 2);
    assert_eq!(shop.env.sandbox.token_order_count(), 1);
    let (status, e) = shop.charge(&ctk, "april").await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("operation_unresolved")),
        "{e}"
    );
    assert_eq!(shop.charge_calls(), 2);
}

#[tokio::test]
async fn no_charge_reaches_klarna_after_the_token_was_cancelled() {
    let shop = Shop::new().await;
    let ctk = shop.subscription().await;
    // Klarna's Customer Token API is down (charges and cancels alike).
    shop.env
        .sandbox
        .set_faults(faults("/customer-token/v1/tokens/", 10_000, 0));
    let (status, c) = shop.charge(&ctk, "april").await;
    assert_eq!((status, c["state"].as_str()), (202, Some("pending")), "{c}");
    assert_eq!(shop.env.sandbox.token_order_count(), 0);
    let (status, c) = shop
        .call(
            Method::POST,
            &format!("/api/merchant/customer-tokens/{ctk}/cancel"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, c["state"].as_str()),
        (200, Some("cancelled")),
        "{c}"
    );
    // Klarna's order endpoint recovers first; the cancel still does not get through.
    shop.env.sandbox.set_faults(faults("/status", 10_000, 0));
    let sent = shop.charge_calls();
    for _ in 0..6 {
        shop.round_after(900).await;
    }
    let (status, c) = shop.charge(&ctk, "april").await;
    assert_eq!((status, c["state"].as_str()), (202, Some("pending")), "{c}");
    assert_eq!(
        shop.charge_calls(),
        sent,
        "the charge was sent before Klarna cancelled the token"
    );
    assert_eq!(shop.env.sandbox.token_order_count(), 0);
    // Klarna confirms the cancel: the charge is sent again only to learn its outcome, and
    // Klarna, reading the token as cancelled, refuses it.
    shop.env.sandbox.set_faults(sandbox::Faults::default());
    shop.round_after(900).await;
    shop.round_after(900).await;
    assert_eq!(shop.env.sandbox.token_order_count(), 0);
    let (status, e) = shop.charge(&ctk, "april").await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["code"], "not_allowed");
    assert_eq!(e["fields"], json!(["customer_token"]));
}

#[tokio::test]
async fn a_token_cancelled_while_klarna_issues_it_is_cancelled_at_klarna() {
    let shop = Shop::new().await;
    shop.env.sandbox.set_faults(faults("/customer-token", 1, 0));
    let order = shop.buy("subscriber@example.com").await;
    let t = shop.token_of(&order).await;
    assert_eq!(t["state"], "pending");
    let ctk = t["customer_token"].as_str().unwrap();
    let (status, c) = shop
        .call(
            Method::POST,
            &format!("/api/merchant/customer-tokens/{ctk}/cancel"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, c["state"].as_str()),
        (200, Some("cancelled")),
        "{c}"
    );
    // The worker asks Klarna again with the same key, then cancels what Klarna issued.
    shop.round_after(10).await;
    let t = shop.token_of(&order).await;
    assert_eq!(t["state"], "cancelled");
    assert_eq!(t["klarna_status"], "CANCELLED", "{t}");
}

#[tokio::test]
async fn a_token_is_chargeable_only_once_klarna_accepts_its_order() {
    let shop = Shop::new().await;
    let accepted = shop.buy("customer+de+pending@klarna.com").await;
    let rejected = shop.buy("customer+de+pending+rejected@klarna.com").await;
    let mut ctks = Vec::new();
    for order in [&accepted, &rejected] {
        let t = shop.token_of(order).await;
        assert_eq!(t["state"], "pending", "{t}");
        let ctk = t["customer_token"].as_str().unwrap().to_string();
        let (status, e) = shop.charge(&ctk, "april").await;
        assert_eq!(
            (status, e["fields"].clone()),
            (409, json!(["customer_token"])),
            "{e}"
        );
        ctks.push(ctk);
    }
    assert_eq!(shop.charge_calls(), 0);
    // Klarna's review ends; the worker reads the orders again.
    shop.round_after(4 * 3600 + 1).await;
    let t = shop.token_of(&accepted).await;
    assert_eq!(
        (t["state"].as_str(), t["klarna_status"].as_str()),
        (Some("active"), Some("ACTIVE"))
    );
    let (status, c) = shop.charge(&ctks[0], "may").await;
    assert_eq!(status, 201, "{c}");
    let t = shop.token_of(&rejected).await;
    assert_eq!(
        (t["state"].as_str(), t["klarna_status"].as_str()),
        (Some("cancelled"), Some("CANCELLED"))
    );
    let (status, e) = shop.charge(&ctks[1], "may").await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("not_allowed")),
        "{e}"
    );
    assert_eq!(shop.env.sandbox.token_order_count(), 1);
}
