//! The browser never chooses the money, and Klarna's own rules hold: a cart is sold only in
//! currencies the shop has prices in (never converted), Klarna's locale is one it lists for
//! the purchase country, and the order records exactly what Klarna was asked.

mod common;

use common::*;
use klarna::api::{CheckoutSession, ErrorCode, PlacedOrder};
use klarna::{Country, Currency};
use serde_json::json;

/// The demo cart's Swedish price list (SEK), as the shop set it: 2 T-shirts, a mug with its
/// discount, a book, shipping.
const DEMO_IN_SEK: i64 = 2 * 27_900 + (14_500 - 1_500) + 22_900 + 4_900;

#[tokio::test]
async fn a_locale_or_country_whose_currency_the_cart_has_no_prices_in_is_refused() {
    let env = start().await;
    // The exploit: the EUR cart's figures asked for in forints (about 1/400 of the price).
    let r = env
        .post(
            "/api/checkout/sessions",
            json!({"cart": "demo", "locale": "hu-HU"}),
        )
        .await;
    let (status, e) = error_of(r).await;
    assert_eq!((status, e.code), (422, ErrorCode::InvalidFields), "{e:?}");
    assert_eq!(e.fields[0].field, "locale");
    assert!(e.message.contains("HUF"), "{e:?}");

    let session = env.start_checkout().await;
    for country in ["HU", "CH", "PL"] {
        let (status, e) = error_of(env.change_country(&session, country).await).await;
        assert_eq!(
            (status, e.fields[0].field.as_str()),
            (422, "country"),
            "{e:?}"
        );
    }
    assert!(session.countries.contains(&Country::DE));
    assert!(session.countries.contains(&Country::SE));
    assert!(!session.countries.contains(&Country::HU));
}

#[tokio::test]
async fn another_currency_is_priced_from_its_own_list_never_converted() {
    let env = start().await;
    let session = env.start_checkout().await;
    let r = env.change_country(&session, "SE").await;
    assert_eq!(r.status(), 200);
    let sweden: CheckoutSession = r.json().await.unwrap();
    assert_eq!(sweden.cart.currency, Currency::SEK);
    assert_eq!(sweden.cart.order_amount, DEMO_IN_SEK);
    assert_ne!(sweden.cart.order_amount, session.cart.order_amount);
    assert_eq!(
        sweden.locale, "en-SE",
        "a German reader in Sweden reads Klarna in English"
    );

    let mut billing = address("customer+se@klarna.com");
    billing.country = "SE".into();
    billing.postal_code = "123 45".into();
    let token = env.token(&sweden, &billing).await;
    let order: PlacedOrder = env
        .place(&sweden, &token, &billing)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order.order_amount, DEMO_IN_SEK);
    // Recorded exactly as Klarna was asked.
    let facts = env.state.store.order_facts(&order.order_id).await.unwrap();
    assert_eq!(
        facts,
        Some((
            "SE".into(),
            "SEK".into(),
            DEMO_IN_SEK,
            sweden.cart.order_tax_amount
        ))
    );
}

#[tokio::test]
async fn klarnas_locale_is_one_it_lists_for_the_purchase_country() {
    let env = start().await;
    let session = env.start_checkout().await;
    assert_eq!(session.locale, "de-DE");
    // A German reader buying in France: Klarna refuses de-FR, so en-FR.
    let r = env.change_country(&session, "FR").await;
    assert_eq!(r.status(), 200);
    let france: CheckoutSession = r.json().await.unwrap();
    assert_eq!(france.locale, "en-FR");
    let mut billing = address("customer+fr@klarna.com");
    billing.country = "FR".into();
    billing.postal_code = "75001".into();
    let token = env.token(&france, &billing).await;
    assert_eq!(env.place(&france, &token, &billing).await.status(), 200);
    // Back to a country that speaks the reader's language.
    let austria: CheckoutSession = env
        .change_country(&session, "AT")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(austria.locale, "de-AT");

    for (asked, klarna) in [("fr-BE", "fr-BE"), ("fr-DE", "en-DE"), ("sv-FI", "sv-FI")] {
        let r = env
            .post(
                "/api/checkout/sessions",
                json!({"cart": "demo", "locale": asked}),
            )
            .await;
        assert_eq!(r.status(), 200, "{asked}");
        let s: CheckoutSession = r.json().await.unwrap();
        assert_eq!(s.locale, klarna, "{asked}");
    }
}

/// Literal JSON written from Klarna's documentation, not from our types.
#[tokio::test]
async fn the_sandbox_refuses_a_locale_klarna_does_not_list_for_the_country() {
    let env = start().await;
    let creds = sandbox::SandboxCredentials::default();
    let body = |locale: &str| {
        format!(
            r#"{{"purchase_country":"FR","purchase_currency":"EUR","locale":"{locale}",
                "order_amount":1000,"order_tax_amount":167,
                "order_lines":[{{"type":"physical","name":"Mug","quantity":1,"unit_price":1000,
                                 "tax_rate":2000,"total_amount":1000,"total_tax_amount":167}}]}}"#
        )
    };
    for (locale, status) in [
        ("de-FR", 400),
        ("fr-FR", 200),
        ("en-FR", 200),
        ("en-DE", 400),
    ] {
        let r = env
            .http
            .post(format!("{}/sandbox/payments/v1/sessions", env.url))
            .basic_auth(&creds.username, Some(&creds.password))
            .header("content-type", "application/json")
            .body(body(locale))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{locale}");
        if status == 400 {
            let e: klarna::payments::KlarnaErrorBody = r.json().await.unwrap();
            assert_eq!(
                (e.error_code.as_str(), e.fields()),
                ("BAD_VALUE", vec!["locale".to_string()])
            );
        }
    }
}

#[tokio::test]
async fn switching_the_country_back_and_forth_still_buys() {
    // Each update is its own operation: a key repeated from an earlier, identical update would
    // make Klarna replay that answer and keep the session on the other country.
    let env = start().await;
    let session = env.start_checkout().await;
    for country in ["AT", "DE", "AT"] {
        assert_eq!(
            env.change_country(&session, country).await.status(),
            200,
            "{country}"
        );
    }
    let mut billing = address("customer+at@klarna.com");
    billing.country = "AT".into();
    billing.postal_code = "1010".into();
    let token = env.token(&session, &billing).await;
    let r = env.place(&session, &token, &billing).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// What we send Klarna, compared with a literal request written from Klarna's documentation
/// (create session: `purchase_country`, `purchase_currency`, `locale`, `order_amount`,
/// `order_tax_amount`, `order_lines` with the tax inside each line), not with our own types.
#[tokio::test]
async fn the_session_and_order_we_send_are_klarnas_documented_json() {
    let env = start().await;
    let session = env.start_checkout().await;
    let sent = env.sandbox.requests();
    let create = sent
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/payments/v1/sessions"))
        .expect("a session create");
    let mut body = create.body.clone();
    let urls = body
        .as_object_mut()
        .unwrap()
        .remove("merchant_urls")
        .unwrap();
    assert_eq!(
        body,
        json!({
            "purchase_country": "DE",
            "purchase_currency": "EUR",
            "locale": "de-DE",
            "order_amount": 8639,
            "order_tax_amount": 1191,
            "order_lines": [
                {"type": "physical", "reference": "TSHIRT-ORG-M", "name": "Organic cotton T-shirt",
                 "quantity": 2, "quantity_unit": "pcs", "unit_price": 2490, "tax_rate": 1900, "total_amount": 4980,
                 "total_discount_amount": 0, "total_tax_amount": 795},
                {"type": "physical", "reference": "MUG-ENAMEL", "name": "Enamel camping mug",
                 "quantity": 1, "quantity_unit": "pcs", "unit_price": 1295, "tax_rate": 1900, "total_amount": 1165,
                 "total_discount_amount": 130, "total_tax_amount": 186},
                {"type": "physical", "reference": "BOOK-FIELD", "name": "Field guide to birds",
                 "quantity": 1, "quantity_unit": "pcs", "unit_price": 1999, "tax_rate": 700, "total_amount": 1999,
                 "total_discount_amount": 0, "total_tax_amount": 131},
                {"type": "shipping_fee", "reference": "SHIP-STD", "name": "Standard shipping",
                 "quantity": 1, "quantity_unit": "pcs", "unit_price": 495, "tax_rate": 1900, "total_amount": 495,
                 "total_discount_amount": 0, "total_tax_amount": 79}
            ],
            "intent": "buy",
            "merchant_reference1": session.session,
        })
    );
    // Both callbacks registered, each behind the secret path segment.
    for (kind, url) in [
        ("authorization", &urls["authorization"]),
        ("notification", &urls["notification"]),
    ] {
        let url = url.as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/hooks/klarna/{kind}/", env.url)),
            "{url}"
        );
    }
    // Every POST carries a UUIDv5 idempotency key.
    let key = create
        .idempotency_key
        .as_deref()
        .expect("Klarna-Idempotency-Key");
    assert_eq!(uuid::Uuid::parse_str(key).unwrap().get_version_num(), 5);

    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    assert_eq!(env.place(&session, &token, &billing).await.status(), 200);
    let sent = env.sandbox.requests();
    let order = sent
        .iter()
        .find(|r| r.path.ends_with(&format!("/authorizations/{token}/order")))
        .expect("a create order");
    assert_eq!(order.method, "POST");
    let b = &order.body;
    assert_eq!(
        (
            &b["purchase_country"],
            &b["purchase_currency"],
            &b["locale"]
        ),
        (&json!("DE"), &json!("EUR"), &json!("de-DE"))
    );
    assert_eq!(
        (&b["order_amount"], &b["order_tax_amount"]),
        (&json!(8639), &json!(1191))
    );
    assert_eq!(
        b["order_lines"], create.body["order_lines"],
        "exactly what was authorized"
    );
    assert_eq!(b["billing_address"]["postal_code"], "41460");
    assert_eq!(b["auto_capture"], false);
    assert!(b["merchant_urls"]["notification"].is_string());
    let key = order
        .idempotency_key
        .as_deref()
        .expect("Klarna-Idempotency-Key");
    assert_eq!(uuid::Uuid::parse_str(key).unwrap().get_version_num(), 5);
    // Reads and releases carry no body (Klarna answered 403 to an empty one elsewhere).
    assert!(sent
        .iter()
        .filter(|r| r.method == "GET" || r.method == "DELETE")
        .all(|r| r.body.is_null()));
}
