//! Money moved once, however a request is retried: a capture whose answer was lost, one Klarna
//! never answered (finished by the worker, on Klarna's clock), one past Klarna's 24 hours of
//! idempotency (never sent again), two captures at once, and "capture all" next to a capture
//! still in flight.

mod common;

use common::shop::*;
use serde_json::json;

#[tokio::test]
async fn a_capture_retried_after_a_lost_answer_is_captured_once() {
    let shop = shop().await;
    shop.env.sandbox.set_faults(sandbox::Faults {
        lose_answer_next: 1,
        path_contains: "/captures".into(),
        ..Default::default()
    });
    // No answer is not a failure: the capture is pending, and will be finished.
    let (status, answer) = shop
        .post("/captures", "parcel-7", json!({"amount": 1500}))
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["operation"]["state"], "pending");
    // Asked again at once, it waits for its next try (5 s on Klarna's clock); then the retry
    // sends it again under the same Klarna key.
    let (status, _) = shop
        .post("/captures", "parcel-7", json!({"amount": 1500}))
        .await;
    assert_eq!(status, 202);
    shop.env.state.clock.advance(6);
    let (status, answer) = shop
        .post("/captures", "parcel-7", json!({"amount": 1500}))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["operation"]["state"], "done");
    assert_eq!(answer["order"]["captured_amount"], 1500);
    assert_eq!(answer["order"]["captures"].as_array().unwrap().len(), 1);
    // Both tries carried one Klarna key.
    assert_eq!(shop.captures_at_klarna(), 1);

    // The same key for another amount is another request: refused, nothing sent.
    let (status, e) = shop
        .post("/captures", "parcel-7", json!({"amount": 1600}))
        .await;
    assert_eq!(
        (status, e["code"].as_str(), e["fields"][0].as_str()),
        (409, Some("idempotency_key_reused"), Some("Idempotency-Key")),
        "{e}"
    );
}

#[tokio::test]
async fn an_operation_klarna_never_answered_is_finished_by_the_worker() {
    let shop = shop().await;
    shop.env.sandbox.set_faults(sandbox::Faults {
        drop_next: 1,
        path_contains: "/captures".into(),
        ..Default::default()
    });
    let (status, _) = shop
        .post("/captures", "parcel-8", json!({"amount": 2000}))
        .await;
    assert_eq!(status, 202);
    // While it is pending, its amount counts as spent.
    let total = shop.order.order_amount;
    let (status, e) = shop
        .post("/captures", "parcel-9", json!({"amount": total - 1999}))
        .await;
    assert_eq!(
        (status, e["fields"][0].as_str()),
        (409, Some("amount")),
        "{e}"
    );

    // Not before its next try is due.
    server::workers::run_round(&shop.env.state, false).await;
    assert_eq!(shop.order().await["captured_amount"], 0);
    shop.env.state.clock.advance(6);
    server::workers::run_round(&shop.env.state, false).await;
    assert_eq!(shop.order().await["captured_amount"], 2000);
    // The merchant's retry now gets the worker's result, and Klarna captured once.
    let (status, answer) = shop
        .post("/captures", "parcel-8", json!({"amount": 2000}))
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(shop.captures_at_klarna(), 1);
}

#[tokio::test]
async fn two_captures_at_once_never_exceed_the_authorization() {
    let shop = shop().await;
    let most = shop.order.order_amount * 6 / 10;
    let (a, b) = tokio::join!(
        shop.post("/captures", "first", json!({ "amount": most })),
        shop.post("/captures", "second", json!({ "amount": most })),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    assert_eq!(shop.order().await["captured_amount"], most);
    // The second was refused here, before Klarna: only one capture was ever sent.
    assert_eq!(shop.captures_at_klarna(), 1);
}

#[tokio::test]
async fn a_capture_klarna_never_answered_for_a_day_is_not_sent_again() {
    let shop = shop().await;
    shop.env.sandbox.set_faults(sandbox::Faults {
        lose_answer_next: 1,
        path_contains: "/captures".into(),
        ..Default::default()
    });
    let (status, _) = shop
        .post("/captures", "parcel-10", json!({"amount": 1000}))
        .await;
    assert_eq!(status, 202);
    // Klarna captured; its answer was lost. The server was down for a day (no worker ran).
    // Klarna has forgotten the key by now: a resend would capture a second time.
    shop.env.state.clock.advance(25 * 3600);
    let (status, e) = shop
        .post("/captures", "parcel-10", json!({"amount": 1000}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("operation_unresolved")),
        "{e}"
    );
    server::workers::run_round(&shop.env.state, false).await;
    assert_eq!(shop.captures_at_klarna(), 1);
    assert_eq!(shop.order().await["captured_amount"], 1000);
    // While nobody knows, its amount stays counted as spent.
    let rest = shop.order.order_amount - 1000;
    let (status, e) = shop
        .post("/captures", "parcel-11", json!({ "amount": rest }))
        .await;
    assert_eq!(
        (status, e["fields"][0].as_str()),
        (409, Some("amount")),
        "{e}"
    );
}

#[tokio::test]
async fn capture_all_leaves_out_what_is_in_flight() {
    let shop = shop().await;
    shop.env.sandbox.set_faults(sandbox::Faults {
        drop_next: 1,
        path_contains: "/captures".into(),
        ..Default::default()
    });
    let (status, _) = shop
        .post("/captures", "parcel-1", json!({"amount": 1000}))
        .await;
    assert_eq!(status, 202);
    // "All" is what remains after the capture still in flight.
    let (status, answer) = shop.post("/captures", "parcel-2", json!({})).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["operation"]["amount"],
        shop.order.order_amount - 1000
    );
    // A retry of "all" is the same request; an explicit amount under its key is not.
    let (status, _) = shop.post("/captures", "parcel-2", json!({})).await;
    assert_eq!(status, 201);
    let (status, e) = shop
        .post("/captures", "parcel-2", json!({"amount": 500}))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("idempotency_key_reused")),
        "{e}"
    );
}
