//! The server against the sandbox, through HTTP only: what a browser and Klarna would see.

use klarna::api::{CheckoutSession, ErrorCode, OrderState, PlacedOrder};
use serde_json::json;
use server::config::Mode;

mod common;

use common::*;

#[tokio::test]
async fn approved_purchase_creates_one_order_and_retries_return_it() {
    let env = start().await;
    let session = env.start_checkout().await;
    assert_eq!(session.cart.currency, klarna::Currency::EUR);
    assert_eq!(
        session.cart.order_amount,
        2 * 2490 + 1295 - 130 + 1999 + 495
    );
    assert!(session
        .categories
        .iter()
        .any(|c| c.identifier == "pay_later"));
    assert_eq!(session.sdk_url, "/sandbox/kp/lib/v1/api.js");
    assert!((48 * 3600 - 5..=48 * 3600).contains(&session.expires_in_secs));

    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    let r = env.place(&session, &token, &billing).await;
    assert_eq!(r.status(), 200);
    let first: PlacedOrder = r.json().await.unwrap();
    assert_eq!(first.state, OrderState::Accepted);
    assert_eq!(first.order_amount, session.cart.order_amount);

    let again: PlacedOrder = env
        .place(&session, &token, &billing)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(env.sandbox.order_count(), 1);
}

#[tokio::test]
async fn fraud_review_is_reported_as_pending() {
    let env = start().await;
    let session = env.start_checkout().await;
    let billing = address("customer+de+pending@klarna.com");
    let token = env.token(&session, &billing).await;
    let order: PlacedOrder = env
        .place(&session, &token, &billing)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order.state, OrderState::Pending);
}

#[tokio::test]
async fn denied_customer_and_nonexistent_postal_code_are_refused_at_authorize() {
    let env = start().await;
    let session = env.start_checkout().await;
    let denied = env
        .authorize(&session, &address("customer+de+denied@klarna.com"))
        .await;
    assert_eq!(denied["outcome"], "denied");
    let mut nowhere = address("customer+de@klarna.com");
    nowhere.postal_code = "00000".into();
    let invalid = env.authorize(&session, &nowhere).await;
    assert_eq!(invalid["outcome"], "invalid");
    assert_eq!(
        invalid["invalid_fields"],
        json!(["billing_address.postal_code"])
    );
}

#[tokio::test]
async fn changed_address_after_authorization_is_a_mismatch_and_stays_one() {
    let env = start().await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    let mut moved = billing.clone();
    moved.postal_code = "41462".into();
    let (status, e) = error_of(env.place(&session, &token, &moved).await).await;
    assert_eq!((status, e.code), (409, ErrorCode::AuthorizationMismatch));
    // Klarna repeats its first answer for a token; so do we, even with the right address now.
    let (status, e) = error_of(env.place(&session, &token, &billing).await).await;
    assert_eq!((status, e.code), (409, ErrorCode::AuthorizationMismatch));
    assert_eq!(env.sandbox.order_count(), 0);
}

#[tokio::test]
async fn authorization_older_than_an_hour_must_be_renewed() {
    let env = start().await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    env.sandbox.clock.advance(61 * 60);
    let (status, e) = error_of(env.place(&session, &token, &billing).await).await;
    assert_eq!((status, e.code), (410, ErrorCode::AuthorizationExpired));
    let fresh = env.token(&session, &billing).await;
    assert_eq!(env.place(&session, &fresh, &billing).await.status(), 200);
}

#[tokio::test]
async fn klarna_outage_is_retryable_and_the_retry_succeeds() {
    let env = start().await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    for faults in [
        sandbox::Faults {
            fail_next: 1,
            path_contains: "/order".into(),
            ..Default::default()
        },
        sandbox::Faults {
            drop_next: 1,
            path_contains: "/order".into(),
            ..Default::default()
        },
    ] {
        env.sandbox.set_faults(faults);
        let (status, e) = error_of(env.place(&session, &token, &billing).await).await;
        assert_eq!((status, e.code), (503, ErrorCode::KlarnaUnavailable));
    }
    assert_eq!(env.place(&session, &token, &billing).await.status(), 200);
    assert_eq!(env.sandbox.order_count(), 1);
}

#[tokio::test]
async fn fifty_concurrent_duplicates_make_exactly_one_order() {
    // All fifty come from one client: more than its default budget of orders per minute.
    let env = start_with(|c| c.rate_orders_per_min = 50).await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    // Latency widens the window in which duplicates overlap.
    env.sandbox.set_faults(sandbox::Faults {
        latency_ms: 200,
        path_contains: "/order".into(),
        ..Default::default()
    });
    let calls = (0..50).map(|_| env.place(&session, &token, &billing));
    let answers = futures_util::future::join_all(calls).await;
    let mut ids = Vec::new();
    for r in answers {
        assert_eq!(r.status(), 200);
        ids.push(r.json::<PlacedOrder>().await.unwrap().order_id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(env.sandbox.order_count(), 1);
}

#[tokio::test]
async fn restart_between_session_and_order_loses_nothing() {
    // Klarna (the sandbox) keeps running; our server restarts on the same database file.
    let (sb, klarna_url) = separate_klarna().await;

    let dir = TempDir::new();
    let mut cfg = config(&dir).await;
    cfg.mode = Mode::Playground;
    cfg.klarna_api_url = Some(klarna_url.clone());
    let first = server::spawn(cfg.clone()).await.unwrap();
    let http = reqwest::Client::new();
    let session = start_checkout_at(&http, &first.url()).await;
    first.task.abort();
    let _ = first.task.await;

    let billing = address("customer+de@klarna.com");
    let auth = authorize_at(&http, &klarna_url, &session, &billing).await;
    let second = server::spawn(cfg).await.unwrap();
    let r = http
        .post(format!("{}/api/checkout/orders", second.url()))
        .json(&json!({"session": session.session, "authorization_token": auth["authorization_token"], "billing_address": billing}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sb.order_count(), 1);
}

#[tokio::test]
async fn bad_input_gets_a_4xx_naming_the_field() {
    let env = start().await;
    let raw = |body: &'static str| {
        env.http
            .post(format!("{}/api/checkout/sessions", env.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases: Vec<(reqwest::Response, u16, &str)> = vec![
        (raw("{not json").await.unwrap(), 400, "JSON"),
        (
            raw(r#"{"cart":"demo","locale":"de-DE","total":1}"#)
                .await
                .unwrap(),
            400,
            "total",
        ),
        (
            raw(r#"{"cart":7,"locale":"de-DE"}"#).await.unwrap(),
            400,
            "cart",
        ),
        (raw(r#"{"locale":"de-DE"}"#).await.unwrap(), 400, "cart"),
        (
            raw(r#"{"cart":"nope","locale":"de-DE"}"#).await.unwrap(),
            404,
            "cart",
        ),
        (
            raw(r#"{"cart":"demo","locale":"xx"}"#).await.unwrap(),
            422,
            "locale",
        ),
    ];
    for (r, status, field) in cases {
        let (got, e) = error_of(r).await;
        assert_eq!(got, status, "{e:?}");
        assert!(
            e.message.contains(field) || e.fields.iter().any(|f| f.field == field),
            "{e:?}"
        );
    }
    let huge = format!(r#"{{"cart":"{}","locale":"de-DE"}}"#, "x".repeat(64 * 1024));
    let r = env
        .http
        .post(format!("{}/api/checkout/sessions", env.url))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    let session = env.start_checkout().await;
    let mut billing = address("customer+de@klarna.com");
    billing.postal_code = "123".into();
    let (status, e) = error_of(env.place(&session, "tok", &billing).await).await;
    assert_eq!((status, e.code), (422, ErrorCode::InvalidFields));
    assert_eq!(e.fields[0].field, "billing_address.postal_code");
    let r = env.post("/api/checkout/orders", json!({"session": "missing", "authorization_token": "t", "billing_address": address("customer+de@klarna.com")})).await;
    assert_eq!(error_of(r).await.0, 404);
    // No route, or the wrong method: our error body, never the shop page with a 200.
    let get = |path: &str| env.http.get(format!("{}{path}", env.url)).send();
    let (status, e) = error_of(get("/api/no-such-thing").await.unwrap()).await;
    assert_eq!((status, e.code), (404, ErrorCode::BadRequest));
    assert!(e.message.contains("/api/no-such-thing"), "{e:?}");
    let (status, e) = error_of(get("/api/checkout/orders").await.unwrap()).await;
    assert_eq!((status, e.code), (405, ErrorCode::BadRequest));
}

#[tokio::test]
async fn a_token_that_would_steer_klarna_urls_is_refused_before_klarna() {
    let env = start().await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    let real = env.token(&session, &billing).await;
    // Each would leave `/payments/v1/authorizations/{token}/order` for another endpoint that
    // the server would call with the merchant's credentials.
    for forged in [
        format!("{real}/../../../ordermanagement/v1/orders/x/cancel?"),
        format!("..%2f{real}"),
        format!("{real}?x="),
        format!("{real}#"),
    ] {
        let (status, e) = error_of(env.place(&session, &forged, &billing).await).await;
        assert_eq!((status, e.code), (400, ErrorCode::BadRequest), "{forged}");
        assert!(e.message.contains("authorization_token"), "{e:?}");
    }
    assert_eq!(env.sandbox.order_count(), 0);
    // The genuine token still works.
    assert_eq!(env.place(&session, &real, &billing).await.status(), 200);
}

#[tokio::test]
async fn sandbox_refuses_wrong_credentials_and_inconsistent_sums() {
    let env = start().await;
    let r = env
        .http
        .post(format!("{}/sandbox/payments/v1/sessions", env.url))
        .basic_auth("PK_SANDBOX_test", Some("wrong"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let creds = sandbox::SandboxCredentials::default();
    let r = env
        .http
        .post(format!("{}/sandbox/payments/v1/sessions", env.url))
        .basic_auth(&creds.username, Some(&creds.password))
        .json(&json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-AT", "order_amount": 1000, "order_tax_amount": 0,
                      "order_lines": [{"name": "x", "quantity": 1, "unit_price": 1000, "total_amount": 900, "tax_rate": 1900, "total_tax_amount": 0}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: klarna::payments::KlarnaErrorBody = r.json().await.unwrap();
    assert_eq!(body.error_code, "BAD_VALUE");
    assert_eq!(
        body.fields(),
        vec![
            "locale",
            "order_lines[0].total_amount",
            "order_lines[0].total_tax_amount",
            "order_amount"
        ]
    );
}

#[tokio::test]
async fn a_klarna_session_past_48_hours_is_replaced_when_the_country_changes() {
    let env = start().await;
    let session = env.start_checkout().await;
    let mut billing = address("customer+at@klarna.com");
    billing.country = "AT".into();
    billing.postal_code = "1010".into();
    env.sandbox.clock.advance(49 * 3600);
    // Klarna forgot the session: authorizing with its client token fails.
    let stale = env
        .post(
            "/sandbox/kp/authorize",
            json!({"client_token": session.client_token, "payment_method_category": "pay_later",
                   "stage": "confirm", "data": {"billing_address": billing}}),
        )
        .await;
    assert_eq!(stale.status(), 404);
    let r = env.change_country(&session, "AT").await;
    assert_eq!(r.status(), 200);
    let renewed: CheckoutSession = r.json().await.unwrap();
    assert_eq!(renewed.session, session.session, "our session id stays");
    assert_ne!(
        renewed.client_token, session.client_token,
        "Klarna's is new"
    );
    let token = env.token(&renewed, &billing).await;
    let placed = env.place(&renewed, &token, &billing).await;
    assert_eq!(placed.status(), 200, "{}", placed.text().await.unwrap());
    assert_eq!(env.sandbox.order_count(), 1);
}

#[tokio::test]
async fn changing_the_billing_country_reprices_and_keeps_the_session_usable() {
    let env = start().await;
    let session = env.start_checkout().await;
    let r = env.change_country(&session, "AT").await;
    assert_eq!(r.status(), 200);
    let austria: CheckoutSession = r.json().await.unwrap();
    assert_eq!(austria.session, session.session);
    assert_eq!(
        austria.client_token, session.client_token,
        "same currency: Klarna's session is updated, not replaced"
    );
    assert_eq!(austria.locale, "de-AT");
    assert_eq!(
        austria.cart.order_amount, session.cart.order_amount,
        "gross prices stay"
    );
    assert!(
        austria.cart.order_tax_amount > session.cart.order_tax_amount,
        "Austrian VAT is higher"
    );

    let mut billing = address("customer+at@klarna.com");
    billing.country = "AT".into();
    billing.postal_code = "1010".into();
    let token = env.token(&austria, &billing).await;
    assert_eq!(env.place(&austria, &token, &billing).await.status(), 200);

    let sweden: CheckoutSession = env
        .change_country(&session, "SE")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sweden.cart.currency, klarna::Currency::SEK);
    assert_ne!(
        sweden.client_token, session.client_token,
        "another currency needs a new Klarna session"
    );

    let r = env.change_country(&session, "XX").await;
    let (status, e) = error_of(r).await;
    assert_eq!((status, e.fields[0].field.as_str()), (422, "country"));
}

#[tokio::test]
async fn klarnas_authorization_callback_creates_the_order_once_when_the_browser_never_returns() {
    let env = start_with(|cfg| {
        cfg.callback_delay_secs = 0;
        cfg.hook_secret = server::config::Secret::new("s3cret");
    })
    .await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    // The shopper approves in Klarna's app and never comes back to the page.
    let token = env.token(&session, &billing).await;
    until(
        "the callback to create the order",
        std::time::Duration::from_secs(5),
        || async { (env.sandbox.order_count() == 1).then_some(()) },
    )
    .await;
    // If the browser does come back later, it gets that same order.
    let order: PlacedOrder = env
        .place(&session, &token, &billing)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(env.sandbox.order_count(), 1);
    let again: PlacedOrder = env
        .place(&session, &token, &billing)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order, again);

    let r = env
        .post(
            "/hooks/klarna/authorization/wrong",
            json!({"authorization_token": token, "session_id": "x"}),
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn two_approvals_of_one_cart_ordered_at_once_make_one_order() {
    let env = start_with(|cfg| cfg.callback_delay_secs = 3600).await;
    let billing = address("customer+de@klarna.com");
    let mut pairs = Vec::new();
    for _ in 0..8 {
        let session = env.start_checkout().await;
        let first = env.token(&session, &billing).await;
        let second = env.token(&session, &billing).await;
        pairs.push((session, first, second));
    }
    // Each cart's two approvals race to become an order (a second tab, or the browser against
    // Klarna's callback).
    let races = pairs.iter().map(|(session, first, second)| async {
        let (a, b) = tokio::join!(
            env.place(session, first, &billing),
            env.place(session, second, &billing)
        );
        let a: PlacedOrder = a.json().await.unwrap();
        let b: PlacedOrder = b.json().await.unwrap();
        assert_eq!(a, b, "both answers name the one order");
    });
    futures_util::future::join_all(races).await;
    assert_eq!(env.sandbox.order_count(), pairs.len());
}

#[tokio::test]
async fn a_superseded_authorization_is_released_instead_of_ordering_twice() {
    let env = start_with(|cfg| cfg.callback_delay_secs = 1).await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    // First approval's order call is lost; the shopper approves again and that one is ordered.
    let first = env.token(&session, &billing).await;
    let second = env.token(&session, &billing).await;
    let order: PlacedOrder = env
        .place(&session, &second, &billing)
        .await
        .json()
        .await
        .unwrap();
    // Both approvals' callbacks handled (the first one's a second later), not a fixed wait.
    until(
        "both callbacks handled",
        std::time::Duration::from_secs(15),
        || async { (env.state.store.pending_callbacks().await.unwrap() == 0).then_some(()) },
    )
    .await;
    assert_eq!(
        env.sandbox.order_count(),
        1,
        "the first approval's callback must not order again"
    );
    // The browser sending the first approval now gets the one order too, not a second one.
    let same: PlacedOrder = env
        .place(&session, &first, &billing)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(same, order);
    assert_eq!(env.sandbox.order_count(), 1);
    // And Klarna no longer holds the first approval.
    let creds = sandbox::SandboxCredentials::default();
    let r = env
        .http
        .delete(format!(
            "{}/sandbox/payments/v1/authorizations/{first}",
            env.url
        ))
        .basic_auth(&creds.username, Some(&creds.password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "already released");
}

#[tokio::test]
async fn every_response_carries_a_strict_content_security_policy() {
    let env = start().await;
    for path in ["/", "/api/health"] {
        let r = env
            .http
            .get(format!("{}{path}", env.url))
            .send()
            .await
            .unwrap();
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(script_src.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(
            !script_src.contains("'unsafe-inline'") && !script_src.contains(" 'unsafe-eval'"),
            "{csp}"
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    }
}
