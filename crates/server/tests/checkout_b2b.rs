//! B2B purchases against the sandbox: a cart marked B2B opens Klarna's organization session,
//! the company (name in billing and shipping address, legal form, registration number, VAT
//! id) is checked before Klarna is called and then sent identically at authorize and order,
//! and what reaches Klarna equals literal JSON written from Klarna's documentation.

mod common;

use common::*;
use klarna::api::{CheckoutSession, ErrorCode};
use klarna::customer::CustomerType;
use klarna::{Address, Country};
use serde_json::{json, Value};

const SANDBOX_AUTH: (&str, &str) = ("PK_SANDBOX_test", "sandbox-shared-secret");

async fn start_b2b(env: &Env) -> CheckoutSession {
    let r = env
        .post(
            "/api/checkout/sessions",
            json!({"cart": "demo-b2b", "locale": "de-DE"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn company_address() -> Address {
    Address {
        organization_name: "Nordlicht Bürobedarf GmbH".into(),
        ..address("customer+de@klarna.com")
    }
}

fn company() -> Value {
    json!({
        "type": "organization",
        "organization_entity_type": "LIMITED_COMPANY",
        "organization_registration_id": "HRB 12345",
        "vat_id": "DE123456789"
    })
}

/// `Klarna.Payments.authorize()` with the data our component sends for an organization: the
/// billing address, the same address for shipping (the company name in both), the customer.
async fn authorize(
    env: &Env,
    session: &CheckoutSession,
    billing: &Address,
    customer: Value,
) -> Value {
    let r = env
        .http
        .post(format!("{}/sandbox/kp/authorize", env.url))
        .json(&json!({"client_token": session.client_token, "payment_method_category": "pay_later",
            "stage": "confirm",
            "data": {"billing_address": billing, "shipping_address": billing, "customer": customer}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn token(env: &Env, session: &CheckoutSession) -> String {
    let v = authorize(env, session, &company_address(), company()).await;
    assert_eq!(v["outcome"], "approved", "{v}");
    v["authorization_token"].as_str().unwrap().to_string()
}

async fn place(
    env: &Env,
    session: &CheckoutSession,
    token: &str,
    billing: &Address,
    customer: Value,
) -> reqwest::Response {
    env.post(
        "/api/checkout/orders",
        json!({"session": session.session, "authorization_token": token,
               "billing_address": billing, "customer": customer}),
    )
    .await
}

fn klarna_orders(env: &Env) -> usize {
    env.sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/order"))
        .count()
}

#[tokio::test]
async fn a_b2b_cart_opens_an_organization_session_where_klarna_offers_b2b() {
    let env = start().await;
    let session = start_b2b(&env).await;
    assert_eq!(session.customer_type, CustomerType::Organization);
    // EUR and SEK prices, and Billie's markets only: Belgium, Ireland, Portugal, Greece are out.
    for c in [
        Country::DE,
        Country::AT,
        Country::NL,
        Country::FI,
        Country::SE,
    ] {
        assert!(session.countries.contains(&c), "{c:?}");
    }
    for c in [
        Country::BE,
        Country::IE,
        Country::PT,
        Country::GR,
        Country::US,
    ] {
        assert!(!session.countries.contains(&c), "{c:?}");
    }
    // Billie through Klarna: Pay Later in 30 days, nothing else.
    let ids: Vec<_> = session
        .categories
        .iter()
        .map(|c| c.identifier.as_str())
        .collect();
    assert_eq!(ids, ["pay_later"]);

    let sent = env.sandbox.requests();
    let create = sent
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/payments/v1/sessions"))
        .expect("a session create");
    let mut body = create.body.clone();
    body.as_object_mut().unwrap().remove("merchant_urls");
    // Klarna's B2B session: `customer.type` and nothing personal before `authorize()`.
    assert_eq!(
        body,
        json!({
            "purchase_country": "DE",
            "purchase_currency": "EUR",
            "locale": "de-DE",
            "order_amount": 5043,
            "order_tax_amount": 805,
            "order_lines": [
                {"type": "physical", "reference": "PAPER-A4-500", "name": "Recycled copy paper A4, 500 sheets",
                 "quantity": 5, "quantity_unit": "pcs", "unit_price": 649, "tax_rate": 1900, "total_amount": 3245,
                 "total_discount_amount": 0, "total_tax_amount": 518},
                {"type": "physical", "reference": "PEN-GEL-10", "name": "Gel pens, pack of 10",
                 "quantity": 2, "quantity_unit": "pcs", "unit_price": 899, "tax_rate": 1900, "total_amount": 1798,
                 "total_discount_amount": 0, "total_tax_amount": 287}
            ],
            "intent": "buy",
            "merchant_reference1": session.session,
            "customer": {"type": "organization"}
        })
    );

    // Another B2B country keeps the organization session; one without B2B is refused.
    let r = env.change_country(&session, "AT").await;
    assert_eq!(r.status(), 200);
    let update = env
        .sandbox
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST" && r.path.contains("/payments/v1/sessions/"))
        .expect("a session update");
    assert_eq!(update.body["customer"], json!({"type": "organization"}));
    let (status, e) = error_of(env.change_country(&session, "BE").await).await;
    assert_eq!(
        (status, e.fields[0].field.as_str()),
        (422, "country"),
        "{e:?}"
    );
}

#[tokio::test]
async fn the_company_is_in_every_call_and_the_order_is_klarnas_documented_json() {
    let env = start().await;
    let session = start_b2b(&env).await;
    let token = token(&env, &session).await;
    let r = place(&env, &session, &token, &company_address(), company()).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let sent = env.sandbox.requests();
    let order = sent
        .iter()
        .find(|r| r.path.ends_with(&format!("/authorizations/{token}/order")))
        .expect("a create order");
    let address = json!({
        "given_name": "Testperson-de", "family_name": "Approved", "email": "customer+de@klarna.com",
        "street_address": "Hellersbergstraße 14", "postal_code": "41460", "city": "Neuss",
        "country": "DE", "organization_name": "Nordlicht Bürobedarf GmbH"
    });
    assert_eq!(order.body["billing_address"], address);
    // Without a separate one, the billing address goes as shipping address too, so the
    // company name can never be in one call only (WooCommerce #132).
    assert_eq!(order.body["shipping_address"], address);
    assert_eq!(order.body["customer"], company());
}

#[tokio::test]
async fn a_missing_or_malformed_company_is_refused_before_klarna_naming_the_field() {
    let env = start().await;
    let session = start_b2b(&env).await;
    let token = token(&env, &session).await;
    let cases = [
        (
            Address {
                organization_name: String::new(),
                ..company_address()
            },
            company(),
            "billing_address.organization_name",
        ),
        (
            company_address(),
            json!({"type": "organization", "organization_registration_id": "HRB 12345"}),
            "customer.organization_entity_type",
        ),
        (
            company_address(),
            json!({"type": "organization", "organization_entity_type": "LIMITED_COMPANY"}),
            "customer.organization_registration_id",
        ),
        (
            company_address(),
            json!({"type": "organization", "organization_entity_type": "OTHER", "organization_registration_id": "HRB 12345", "vat_id": "ATU12345678"}),
            "customer.vat_id",
        ),
    ];
    for (billing, customer, field) in cases {
        let (status, e) = error_of(place(&env, &session, &token, &billing, customer).await).await;
        assert_eq!(
            (status, e.code),
            (422, ErrorCode::InvalidFields),
            "{field}: {e:?}"
        );
        assert_eq!(e.fields[0].field, field, "{e:?}");
    }
    // No customer at all: every organization field is named.
    let r = env
        .post(
            "/api/checkout/orders",
            json!({"session": session.session, "authorization_token": token, "billing_address": company_address()}),
        )
        .await;
    let (status, e) = error_of(r).await;
    assert_eq!(status, 422);
    let named: Vec<_> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        named,
        [
            "customer.organization_entity_type",
            "customer.organization_registration_id"
        ]
    );
    assert_eq!(klarna_orders(&env), 0, "Klarna was never asked");
}

#[tokio::test]
async fn a_consumer_cart_takes_no_organization() {
    let env = start().await;
    let session = env.start_checkout().await;
    assert_eq!(session.customer_type, CustomerType::Person);
    let token = env
        .token(&session, &address("customer+de@klarna.com"))
        .await;
    let (status, e) = error_of(
        place(
            &env,
            &session,
            &token,
            &address("customer+de@klarna.com"),
            company(),
        )
        .await,
    )
    .await;
    assert_eq!((status, e.code), (400, ErrorCode::BadRequest), "{e:?}");
    assert!(e.message.starts_with("customer:"), "{e:?}");
    assert_eq!(klarna_orders(&env), 0);
}

#[tokio::test]
async fn klarna_holds_the_order_to_the_authorized_company() {
    let env = start().await;
    let session = start_b2b(&env).await;
    // At authorize(), Klarna asks for what is missing instead of approving.
    let bare = Address {
        organization_name: String::new(),
        ..company_address()
    };
    let v = authorize(&env, &session, &bare, json!({"type": "organization"})).await;
    assert_eq!(v["outcome"], "invalid", "{v}");
    let invalid: Vec<_> = v["invalid_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        invalid.contains(&"billing_address.organization_name"),
        "{invalid:?}"
    );
    assert!(
        invalid.contains(&"customer.organization_registration_id"),
        "{invalid:?}"
    );

    // An order naming another registration number than the one authorized: Klarna's 409,
    // which our server passes on as a mismatch (authorize again).
    let token = token(&env, &session).await;
    let mut other = company();
    other["organization_registration_id"] = json!("HRB 54321");
    let (status, e) =
        error_of(place(&env, &session, &token, &company_address(), other).await).await;
    assert_eq!(
        (status, e.code),
        (409, ErrorCode::AuthorizationMismatch),
        "{e:?}"
    );
    let answer = env
        .sandbox
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/order"))
        .expect("the order Klarna refused");
    assert_eq!(
        answer.body["customer"]["organization_registration_id"],
        "HRB 54321"
    );
}

#[tokio::test]
async fn the_sandbox_answers_as_klarna_does_for_b2b() {
    let env = start().await;
    let klarna = format!("{}/sandbox/payments/v1", env.url);
    let http = &env.http;
    let lines = json!([{"type": "physical", "name": "Paper", "quantity": 1, "unit_price": 1000,
        "tax_rate": 2100, "total_amount": 1000, "total_discount_amount": 0, "total_tax_amount": 174}]);
    // Belgium has no B2B: Klarna's 400 naming the field.
    let r = http
        .post(format!("{klarna}/sessions"))
        .basic_auth(SANDBOX_AUTH.0, Some(SANDBOX_AUTH.1))
        .json(
            &json!({"purchase_country": "BE", "purchase_currency": "EUR", "locale": "nl-BE",
            "order_amount": 1000, "order_tax_amount": 174, "order_lines": lines,
            "customer": {"type": "organization"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_code"], "BAD_VALUE");
    assert_eq!(body["error_messages"], json!(["Bad value: customer.type"]));

    // An approved B2B purchase is paid by Billie's invoice.
    let session = start_b2b(&env).await;
    let token = token(&env, &session).await;
    // The body our server created the session with (the refused Belgian one came first).
    let sent = env.sandbox.requests();
    let create = sent
        .iter()
        .rfind(|r| r.path.ends_with("/payments/v1/sessions"))
        .unwrap();
    let mut order = create.body.clone();
    order["billing_address"] = serde_json::to_value(company_address()).unwrap();
    order["shipping_address"] = order["billing_address"].clone();
    order["customer"] = company();
    order.as_object_mut().unwrap().remove("intent");
    let r = http
        .post(format!("{klarna}/authorizations/{token}/order"))
        .basic_auth(SANDBOX_AUTH.0, Some(SANDBOX_AUTH.1))
        .json(&order)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let created: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{created}");
    assert_eq!(
        created["authorized_payment_method"]["type"], "b2b_invoice",
        "{created}"
    );
}

/// A German sole trader in no register (Kleingewerbe): no registration number, a VAT id typed
/// with spaces. The component authorizes the cleaned value; the order, even given as typed,
/// reaches Klarna cleaned, so Klarna sees the same company twice.
#[tokio::test]
async fn a_sole_trader_without_a_register_buys_and_the_vat_id_is_sent_without_spaces() {
    let env = start().await;
    let session = start_b2b(&env).await;
    let sole = json!({"type": "organization", "organization_entity_type": "SOLE_TRADER",
                      "vat_id": "DE123456789"});
    let v = authorize(&env, &session, &company_address(), sole).await;
    assert_eq!(v["outcome"], "approved", "{v}");
    let token = v["authorization_token"].as_str().unwrap().to_string();
    let typed = json!({"type": "organization", "organization_entity_type": "SOLE_TRADER",
                       "organization_registration_id": "  ", "vat_id": " DE 123 456 789 "});
    let r = place(&env, &session, &token, &company_address(), typed).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let order = env
        .sandbox
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/order"))
        .expect("a create order");
    assert_eq!(
        order.body["customer"],
        json!({"type": "organization", "organization_entity_type": "SOLE_TRADER",
               "vat_id": "DE123456789"})
    );
    // Klarna itself takes the cleaned value only.
    let session = start_b2b(&env).await;
    let spaced = json!({"type": "organization", "organization_entity_type": "SOLE_TRADER",
                        "vat_id": "DE 123 456 789"});
    let v = authorize(&env, &session, &company_address(), spaced).await;
    assert_eq!(v["outcome"], "invalid", "{v}");
    assert_eq!(v["invalid_fields"], json!(["customer.vat_id"]));
}

/// Klarna's B2B (Billie) has no recurring payments: a business cart cannot ask for a customer
/// token, neither at our cart registration nor at Klarna's session.
#[tokio::test]
async fn an_organization_cannot_buy_and_tokenize() {
    let env = start().await;
    let now = env.state.clock.now();
    let (_, key) = server::merchant::keys::create(&env.state.store, "b2b", now)
        .await
        .unwrap();
    let r = env
        .http
        .post(format!("{}/api/merchant/carts", env.url))
        .bearer_auth(&key)
        .json(
            &json!({"customer_type": "organization", "intent": "buy_and_tokenize", "lines": [
            {"reference": "PAPER", "name": "Paper", "quantity": 1, "type": "physical",
             "tax_class": "standard", "prices": {"EUR": {"unit_price": 649}}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["fields"], json!(["intent"]), "{e}");

    let lines = json!([{"type": "physical", "name": "Paper", "quantity": 1, "unit_price": 1000,
        "tax_rate": 1900, "total_amount": 1000, "total_discount_amount": 0, "total_tax_amount": 160}]);
    for intent in ["tokenize", "buy_and_tokenize"] {
        let r = env
            .http
            .post(format!("{}/sandbox/payments/v1/sessions", env.url))
            .basic_auth(SANDBOX_AUTH.0, Some(SANDBOX_AUTH.1))
            .json(
                &json!({"purchase_country": "DE", "purchase_currency": "EUR", "locale": "de-DE",
                "order_amount": 1000, "order_tax_amount": 160, "order_lines": lines,
                "intent": intent, "customer": {"type": "organization"}}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{intent}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error_code"], "BAD_VALUE");
        assert_eq!(body["error_messages"], json!(["Bad value: intent"]));
    }
}

/// An organization's order that repeats the addresses must repeat the customer too (Klarna
/// refuses data given in one call only); only an order with none of them (created from the
/// authorization callback) takes what was authorized.
#[tokio::test]
async fn an_organization_order_with_addresses_but_no_customer_is_refused() {
    let env = start().await;
    let klarna = format!("{}/sandbox/payments/v1", env.url);
    let session = start_b2b(&env).await;
    let create = env
        .sandbox
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/payments/v1/sessions"))
        .unwrap();
    // The session's body without its `customer` ({"type": "organization"}) and `intent`.
    let mut bare = create.body.clone();
    bare.as_object_mut().unwrap().remove("intent");
    bare.as_object_mut().unwrap().remove("customer");
    let mut order = bare.clone();
    order["billing_address"] = serde_json::to_value(company_address()).unwrap();
    order["shipping_address"] = order["billing_address"].clone();
    let send = |token: String, body: Value| {
        let http = env.http.clone();
        let url = format!("{klarna}/authorizations/{token}/order");
        async move {
            let r = http
                .post(url)
                .basic_auth(SANDBOX_AUTH.0, Some(SANDBOX_AUTH.1))
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = send(token(&env, &session).await, order).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error_code"], "BAD_VALUE");
    assert_eq!(
        body["error_messages"],
        json!(["Not matching fields: [customer]"])
    );
    // The callback's order: no addresses, no customer.
    let session = start_b2b(&env).await;
    let (status, body) = send(token(&env, &session).await, bare).await;
    assert_eq!(status, 200, "{body}");
}
