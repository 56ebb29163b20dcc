//! No order lost, none doubled: Klarna gets an idempotency key and answers a repeat with its
//! first answer; Klarna's authorization callback is stored before it is answered and becomes
//! the order after a crash, also for an approval the browser got without a token; a pending
//! order's fraud review ends as Klarna's Order Management says, not as a notification claims.

mod common;

use common::*;
use klarna::api::{OrderState, OrderStatus, PlacedOrder};
use serde_json::json;
use server::config::Secret;

const SECRET: &str = "hooksecret0123456789";

async fn order_status(http: &reqwest::Client, url: &str, session: &str) -> OrderStatus {
    let r = http
        .get(format!("{url}/api/checkout/sessions/{session}/order"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Literal requests as Klarna's integration-resilience page describes them.
#[tokio::test]
async fn klarna_answers_a_repeated_idempotency_key_with_its_first_answer() {
    let env = start().await;
    let creds = sandbox::SandboxCredentials::default();
    let create = |key: Option<&'static str>| {
        let mut r = env
            .http
            .post(format!("{}/sandbox/payments/v1/sessions", env.url))
            .basic_auth(&creds.username, Some(&creds.password))
            .header("content-type", "application/json")
            .body(
                r#"{"purchase_country":"DE","purchase_currency":"EUR","locale":"de-DE","order_amount":1000,
                    "order_tax_amount":160,"order_lines":[{"name":"Mug","quantity":1,"unit_price":1000,
                    "tax_rate":1900,"total_amount":1000,"total_tax_amount":160}]}"#,
            );
        if let Some(key) = key {
            r = r.header("Klarna-Idempotency-Key", key);
        }
        async move {
            let v: serde_json::Value = r.send().await.unwrap().json().await.unwrap();
            v["session_id"].as_str().unwrap().to_string()
        }
    };
    let key = "6f1c3a1e-9d0b-5c7e-8a4b-2f3d4e5f6a7b";
    assert_eq!(create(Some(key)).await, create(Some(key)).await);
    assert_ne!(create(None).await, create(None).await);
}

#[tokio::test]
async fn an_approval_without_a_token_becomes_the_order_through_klarnas_callback() {
    // The callback would normally wait an hour for the browser; a waiting shopper brings it on.
    let env = start_with(|c| {
        c.callback_delay_secs = 3600;
        c.worker_interval_ms = 50;
    })
    .await;
    let session = env.start_checkout().await;
    let billing = address("customer+de+bankapp@klarna.com");
    let approved = env.authorize(&session, &billing).await;
    assert_eq!(approved["outcome"], "approved_without_token", "{approved}");
    let order = eventually(&env.state, 10, || async {
        order_status(&env.http, &env.url, &session.session)
            .await
            .order
    })
    .await
    .expect("the callback's order, while the shopper waits");
    assert_eq!(order.state, OrderState::Accepted);
    assert_eq!(env.sandbox.order_count(), 1);
}

#[tokio::test]
async fn a_stored_callback_becomes_the_order_after_a_crash() {
    // Klarna runs apart from our server, which crashes after storing the callback.
    let (sb, klarna_url) = separate_klarna().await;
    let dir = TempDir::new();
    let mut cfg = config(&dir).await;
    cfg.klarna_api_url = Some(klarna_url.clone());
    cfg.callback_delay_secs = 3600;
    cfg.worker_interval_ms = 50;
    let first = server::spawn(cfg.clone()).await.unwrap();
    let http = reqwest::Client::new();
    let session = start_checkout_at(&http, &first.url()).await;
    let billing = address("customer+de+bankapp@klarna.com");
    let approved = authorize_at(&http, &klarna_url, &session, &billing).await;
    assert_eq!(approved["outcome"], "approved_without_token");
    let store = first.state.store.clone();
    eventually(&first.state, 10, || async {
        (store.pending_callbacks().await.unwrap() == 1).then_some(())
    })
    .await
    .expect("the callback is stored");
    first.crash();
    assert_eq!(sb.order_count(), 0);

    let second = server::spawn(cfg).await.unwrap();
    let order = eventually(&second.state, 10, || async {
        order_status(&http, &second.url(), &session.session)
            .await
            .order
    })
    .await
    .expect("the restarted server creates the order from the stored callback");
    assert_eq!(sb.order_count(), 1);
    assert_eq!(second.state.store.pending_callbacks().await.unwrap(), 0);
    assert_eq!(second.state.store.order_count().await.unwrap(), 1);
    assert_eq!(order.order_amount, session.cart.order_amount);
}

async fn pending_order(env: &Env, email: &str) -> (klarna::api::CheckoutSession, PlacedOrder) {
    let session = env.start_checkout().await;
    let billing = address(email);
    let token = env.token(&session, &billing).await;
    let order: PlacedOrder = env
        .place(&session, &token, &billing)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order.state, OrderState::Pending);
    (session, order)
}

#[tokio::test]
async fn a_fraud_review_ends_as_order_management_says_not_as_a_notification_claims() {
    let env = start_with(|c| {
        c.hook_secret = Secret::new(SECRET);
        c.worker_interval_ms = 50;
    })
    .await;
    let (accepted_session, accepted) = pending_order(&env, "customer+de+pending@klarna.com").await;
    let (rejected_session, _) =
        pending_order(&env, "customer+de+pending+rejected@klarna.com").await;

    // A forged notification (the body is unsigned) changes nothing: Klarna still says pending.
    let r = env
        .post(
            &format!("/hooks/klarna/notification/{SECRET}"),
            json!({"order_id": accepted.order_id, "event_type": "FRAUD_RISK_ACCEPTED"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let status = order_status(&env.http, &env.url, &accepted_session.session).await;
    assert_eq!(status.order.unwrap().state, OrderState::Pending);
    let wrong = env
        .post(
            "/hooks/klarna/notification/wrong",
            json!({"order_id": accepted.order_id, "event_type": "FRAUD_RISK_ACCEPTED"}),
        )
        .await;
    assert_eq!(wrong.status(), 404);

    // Klarna's review ends on its clock; it notifies, and the server reads the decision.
    env.sandbox.clock.advance(5 * 3600);
    for (session, expected) in [
        (&accepted_session, OrderState::Accepted),
        (&rejected_session, OrderState::Rejected),
    ] {
        let state = eventually(&env.state, 10, || async {
            let s = order_status(&env.http, &env.url, &session.session).await;
            s.order
                .map(|o| o.state)
                .filter(|s| *s != OrderState::Pending)
        })
        .await;
        assert_eq!(state, Some(expected));
    }
}

#[tokio::test]
async fn an_order_whose_answer_was_lost_is_recorded_without_the_shopper() {
    let env = start_with(|c| {
        c.callback_delay_secs = 3600;
        c.worker_interval_ms = 50;
    })
    .await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    // Klarna creates the order, and its answer never arrives.
    env.sandbox.set_faults(sandbox::Faults {
        lose_answer_next: 1,
        path_contains: "/order".into(),
        ..Default::default()
    });
    let (status, e) = error_of(env.place(&session, &token, &billing).await).await;
    assert_eq!(
        (status, e.code),
        (503, klarna::api::ErrorCode::KlarnaUnavailable)
    );
    assert_eq!(env.sandbox.order_count(), 1, "Klarna has the order");
    assert_eq!(env.state.store.order_count().await.unwrap(), 0);
    // The shopper closed the tab. The recovery worker asks Klarna again with the same
    // idempotency key once the retry is due (5 s on the clock), and records Klarna's first
    // answer.
    env.state.clock.advance(6);
    env.state.wake_workers();
    let store = env.state.store.clone();
    eventually(&env.state, 10, || async {
        (store.order_count().await.unwrap() == 1).then_some(())
    })
    .await
    .expect("the order is recorded by the server itself");
    assert_eq!(env.sandbox.order_count(), 1, "and not created twice");
    let status = order_status(&env.http, &env.url, &session.session).await;
    assert_eq!(
        status.order.unwrap().order_amount,
        session.cart.order_amount
    );
}

#[tokio::test]
async fn sessions_and_refusals_klarna_has_forgotten_are_purged_orders_are_kept() {
    let env = start().await;
    let ordered = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    let token = env.token(&ordered, &billing).await;
    assert_eq!(env.place(&ordered, &token, &billing).await.status(), 200);
    let abandoned = env.start_checkout().await;
    let refused = env.start_checkout().await;
    let mut moved = billing.clone();
    let refused_token = env.token(&refused, &billing).await;
    moved.postal_code = "41462".into();
    assert_eq!(
        env.place(&refused, &refused_token, &moved).await.status(),
        409
    );
    let store = &env.state.store;
    assert!(store
        .failed_authorization(&refused_token)
        .await
        .unwrap()
        .is_some());

    let now = env.state.clock.now();
    assert_eq!(
        store.purge_expired(now + 47 * 3600).await.unwrap(),
        0,
        "within 48 h"
    );
    assert!(store.purge_expired(now + 49 * 3600).await.unwrap() >= 3);
    assert_eq!(store.pending_callbacks().await.unwrap(), 0);
    assert!(store.session(&abandoned.session).await.unwrap().is_none());
    assert!(store.session(&refused.session).await.unwrap().is_none());
    assert!(store
        .failed_authorization(&refused_token)
        .await
        .unwrap()
        .is_none());
    assert!(
        store.session(&ordered.session).await.unwrap().is_some(),
        "an ordered session stays"
    );
    assert_eq!(store.order_count().await.unwrap(), 1);
}
