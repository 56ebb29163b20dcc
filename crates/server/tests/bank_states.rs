//! Klarna's transaction states over HTTP, against the sandbox's bank: only processed
//! transactions are booked (listed and exported, debits negative), pending ones are listed
//! apart until they book (then they appear once, booked) or vanish, and cancelled or failed
//! ones reach neither the books nor the CSV.

mod bank;
mod common;

use bank::*;
use serde_json::{json, Value};

impl Env {
    async fn csv_text(&self, account: &str) -> String {
        let r = self
            .get(&format!("/api/accounts/{account}/transactions.csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    }
}

#[tokio::test]
async fn pending_transactions_are_listed_apart_and_never_booked_nor_exported() {
    let env = start_with(|_| {}).await.signed_in().await;
    env.seed(
        "2026-06-14",
        -4_200,
        "PENDING-ONLY",
        json!({"state": "PENDING"}),
    )
    .await;
    let account = env.giro().await;
    let first = env.synced(&account, json!({})).await;
    let pending = env.pending(&account).await;
    let ours: Vec<_> = pending
        .iter()
        .filter(|p| p.reference == "PENDING-ONLY")
        .collect();
    assert_eq!(ours.len(), 1, "{pending:?}");
    assert_eq!(
        (
            ours[0].date.as_str(),
            ours[0].amount,
            ours[0].currency.as_str()
        ),
        ("2026-06-14", -4_200, "EUR"),
        "a debit is negative"
    );
    assert_eq!(ours[0].counterparty, "Test Payee GmbH");
    let booked = env.booked(&account).await;
    assert!(booked.iter().all(|t| t.reference != "PENDING-ONLY"));
    assert!(!env.csv_text(&account).await.contains("PENDING-ONLY"));
    assert_eq!(booked.len() + pending.len(), first.fetched as usize);

    // The same days again: the pending ones are still there once each, nothing booked twice.
    let again = env
        .synced(&account, json!({"from_date": first.from_date}))
        .await;
    assert_eq!(again.added, 0);
    assert_eq!(env.pending(&account).await, pending);
    assert_eq!(env.booked(&account).await, booked);
}

#[tokio::test]
async fn a_pending_transaction_that_books_later_appears_once_as_booked() {
    let env = start_with(|_| {}).await.signed_in().await;
    env.seed(
        "2026-06-14",
        -4_200,
        "BOOKS-ON-16",
        json!({"state": "PENDING", "settles_on": "2026-06-16"}),
    )
    .await;
    let account = env.giro().await;
    env.synced(&account, json!({})).await;
    assert!(env
        .pending(&account)
        .await
        .iter()
        .any(|p| p.reference == "BOOKS-ON-16"));
    let today_pending = env.pending(&account).await;
    assert!(
        today_pending.iter().any(|p| p.date == "2026-06-15"),
        "the sandbox's card payments of today are pending: {today_pending:?}"
    );

    // Two days later the bank has booked it (with an id of its own). A default sync starts at
    // the oldest pending day, so it finds it.
    env.clock.set(JUNE_15 + 2 * DAY);
    let env = env.signed_in().await;
    let later = env.synced(&account, json!({})).await;
    assert_eq!(
        later.from_date, "2026-06-14",
        "back to the oldest pending day"
    );
    let booked = env.booked(&account).await;
    let ours: Vec<_> = booked
        .iter()
        .filter(|t| t.reference == "BOOKS-ON-16")
        .collect();
    assert_eq!(ours.len(), 1, "booked once: {ours:?}");
    assert_eq!(
        (ours[0].booking_date.as_str(), ours[0].amount),
        ("2026-06-16", -4_200)
    );
    let pending = env.pending(&account).await;
    assert!(
        pending.iter().all(|p| p.date == "2026-06-17"),
        "only today's card payments are pending now: {pending:?}"
    );
    let csv = env.csv_text(&account).await;
    assert_eq!(csv.matches("BOOKS-ON-16").count(), 1);
    assert!(csv.contains("\"2026-06-16\",\"-42.00\""), "{csv}");
}

#[tokio::test]
async fn an_asked_day_after_the_oldest_pending_one_still_replaces_that_pending_one() {
    let env = start_with(|_| {}).await.signed_in().await;
    env.seed(
        "2026-06-14",
        -4_200,
        "BOOKS-ON-16",
        json!({"state": "PENDING", "settles_on": "2026-06-16"}),
    )
    .await;
    let account = env.giro().await;
    env.synced(&account, json!({})).await;
    env.clock.set(JUNE_15 + 2 * DAY);
    let env = env.signed_in().await;
    // The bookkeeper asks for the day it booked, later than the day it was pending: the sync
    // still starts at the oldest pending day, so the pending copy is replaced.
    let later = env
        .synced(&account, json!({"from_date": "2026-06-16"}))
        .await;
    assert_eq!(later.from_date, "2026-06-14", "{later:?}");
    let booked = env.booked(&account).await;
    assert_eq!(
        booked
            .iter()
            .filter(|t| t.reference == "BOOKS-ON-16")
            .count(),
        1
    );
    let pending = env.pending(&account).await;
    assert!(
        pending.iter().all(|p| p.reference != "BOOKS-ON-16"),
        "never booked and pending at once: {pending:?}"
    );
}

#[tokio::test]
async fn a_pending_transaction_the_bank_drops_is_dropped() {
    let env = start_with(|_| {}).await.signed_in().await;
    env.seed(
        "2026-06-14",
        9_900,
        "CANCELLED-LATER",
        json!({"state": "PENDING", "settles_on": "2026-06-16", "settles_as": "CANCELED"}),
    )
    .await;
    let account = env.giro().await;
    env.synced(&account, json!({})).await;
    let pending = env.pending(&account).await;
    let ours = pending
        .iter()
        .find(|p| p.reference == "CANCELLED-LATER")
        .expect("pending first");
    assert_eq!(ours.amount, 9_900, "a credit is positive");
    env.clock.set(JUNE_15 + 2 * DAY);
    let env = env.signed_in().await;
    env.synced(&account, json!({})).await;
    assert!(env
        .pending(&account)
        .await
        .iter()
        .all(|p| p.reference != "CANCELLED-LATER"));
    assert!(env
        .booked(&account)
        .await
        .iter()
        .all(|t| t.reference != "CANCELLED-LATER"));
}

#[tokio::test]
async fn cancelled_and_failed_transactions_never_reach_the_books_nor_the_csv() {
    let env = start_with(|_| {}).await.signed_in().await;
    env.seed("2026-06-12", -1_999, "PROCESSED-DEBIT", json!({}))
        .await;
    env.seed(
        "2026-06-12",
        2_500,
        "PROCESSED-CREDIT",
        json!({"state": "PROCESSED"}),
    )
    .await;
    env.seed(
        "2026-06-12",
        -7_000,
        "CANCELED-ONE",
        json!({"state": "CANCELED"}),
    )
    .await;
    env.seed(
        "2026-06-12",
        8_000,
        "FAILED-ONE",
        json!({"state": "FAILED"}),
    )
    .await;
    let account = env.giro().await;
    env.synced(&account, json!({})).await;
    let booked = env.booked(&account).await;
    let amount = |reference: &str| {
        booked
            .iter()
            .find(|t| t.reference == reference)
            .map(|t| t.amount)
    };
    assert_eq!(amount("PROCESSED-DEBIT"), Some(-1_999));
    assert_eq!(amount("PROCESSED-CREDIT"), Some(2_500));
    assert_eq!(amount("CANCELED-ONE"), None);
    assert_eq!(amount("FAILED-ONE"), None);
    let pending = env.pending(&account).await;
    assert!(pending
        .iter()
        .all(|p| p.reference != "CANCELED-ONE" && p.reference != "FAILED-ONE"));
    let csv = env.csv_text(&account).await;
    assert!(csv.contains("\"2026-06-12\",\"-19.99\",\"EUR\""), "{csv}");
    assert!(csv.contains("\"25.00\""));
    assert!(!csv.contains("CANCELED-ONE") && !csv.contains("FAILED-ONE"));
}

#[tokio::test]
async fn the_sandbox_refuses_bookings_klarna_would_never_send() {
    let env = start_with(|_| {}).await;
    for (extra, field) in [
        (json!({"state": "BOOKED"}), "state"),
        (json!({"settles_on": "2026-06-16"}), "settles_on"),
        (
            json!({"state": "PENDING", "settles_on": "2026-06-13"}),
            "settles_on",
        ),
        (
            json!({"state": "PENDING", "settles_on": "2026-06-16", "settles_as": "PENDING"}),
            "settles_as",
        ),
    ] {
        let mut body = json!({"iban": DEMO_GIRO_IBAN, "booking_date": "2026-06-14",
            "amount": 100, "counterparty": "x", "reference": "y"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = env
            .http
            .post(format!("{}/_control/xs2a/transactions", env.klarna))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{extra}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["errors"][0]["location"], field, "{v}");
    }
}
