//! Carts registered by the storefront's backend: the merchant API stores a cart's lines and
//! price lists, the browser names the cart, and the checkout prices it exactly as it prices the
//! demo cart; the browser never names a price.

mod common;

use common::*;
use serde_json::{json, Value};

/// A server and a merchant API key.
async fn shop() -> (Env, String) {
    let env = start().await;
    let now = env.state.clock.now();
    let (_, key) = server::merchant::keys::create(&env.state.store, "storefront", now)
        .await
        .unwrap();
    (env, key)
}

async fn register(env: &Env, key: &str, body: Value) -> (u16, Value) {
    let r = env
        .http
        .post(format!("{}/api/merchant/carts", env.url))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn sek_cart() -> Value {
    json!({
        "lines": [
            {"reference": "COFFEE-1KG", "name": "Coffee beans 1 kg", "quantity": 2, "type": "physical",
             "tax_class": "reduced", "prices": {"SEK": {"unit_price": 24_900, "discount": 1_000}}},
            {"reference": "SHIP", "name": "Shipping", "quantity": 1, "type": "shipping_fee",
             "tax_class": "standard", "prices": {"SEK": {"unit_price": 4_900}}}
        ]
    })
}

#[tokio::test]
async fn a_sek_cart_is_sold_in_sweden_only_at_its_own_prices() {
    let (env, key) = shop().await;
    let (status, registered) = register(&env, &key, sek_cart()).await;
    assert_eq!(status, 201, "{registered}");
    let cart = registered["cart"].as_str().unwrap().to_string();
    assert!(cart.starts_with("c_"));
    assert_eq!(registered["currencies"], json!(["SEK"]));
    assert_eq!(registered["countries"], json!(["SE"]));

    let r = env
        .post(
            "/api/checkout/sessions",
            json!({"cart": cart, "locale": "sv-SE"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let session: Value = r.json().await.unwrap();
    assert_eq!(session["countries"], json!(["SE"]));
    assert_eq!(session["cart"]["currency"], "SEK");
    let lines = &session["cart"]["order_lines"];
    // 2 × 249 kr − 10 kr at Sweden's reduced 6 %, then shipping at 25 %.
    assert_eq!(lines[0]["unit_price"], 24_900);
    assert_eq!(lines[0]["total_amount"], 48_800);
    assert_eq!(lines[0]["tax_rate"], 600);
    assert_eq!(lines[1]["total_amount"], 4_900);
    assert_eq!(lines[1]["tax_rate"], 2_500);
    assert_eq!(session["cart"]["order_amount"], 53_700);
    // Klarna was asked for exactly these amounts.
    let sent = env
        .sandbox
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/payments/v1/sessions"))
        .unwrap();
    assert_eq!(sent.body["order_amount"], 53_700);
    assert_eq!(sent.body["purchase_currency"], "SEK");
    assert_eq!(sent.body["intent"], "buy");

    // A German shopper cannot buy it: the shop has no euro prices for it.
    let r = env
        .post(
            "/api/checkout/sessions",
            json!({"cart": cart, "locale": "de-DE"}),
        )
        .await;
    let (status, error) = error_of(r).await;
    assert_eq!(status, 422);
    assert_eq!(error.fields[0].field, "locale");

    // The merchant reads the cart back as stored.
    let r = env
        .http
        .get(format!("{}/api/merchant/carts/{cart}", env.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stored: Value = r.json().await.unwrap();
    assert_eq!(stored["lines"], sek_cart()["lines"].clone().tap_discount());
    assert_eq!(stored["intent"], "buy");
    assert_eq!(stored["customer_type"], "person");
}

/// The stored line spells out the default discount.
trait TapDiscount {
    fn tap_discount(self) -> Value;
}

impl TapDiscount for Value {
    fn tap_discount(mut self) -> Value {
        for line in self.as_array_mut().unwrap() {
            for price in line["prices"].as_object_mut().unwrap().values_mut() {
                if price.get("discount").is_none() {
                    price["discount"] = json!(0);
                }
            }
        }
        self
    }
}

#[tokio::test]
async fn a_bad_cart_is_refused_naming_each_field() {
    let (env, key) = shop().await;
    let (status, error) = register(
        &env,
        &key,
        json!({"lines": [
            {"reference": "A", "name": "A", "quantity": 1, "type": "physical", "tax_class": "standard",
             "prices": {"EUR": {"unit_price": 100}, "SEK": {"unit_price": 1000}}},
            {"reference": "B", "name": "B", "quantity": 1, "type": "physical", "tax_class": "standard",
             "prices": {"EUR": {"unit_price": 100}}},
            {"reference": "C", "name": "C", "quantity": 0, "type": "physical", "tax_class": "standard",
             "prices": {"EUR": {"unit_price": -1}, "SEK": {"unit_price": 10}}}
        ]}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["code"], "invalid_fields");
    assert_eq!(
        error["fields"],
        json!([
            "lines[1].prices.SEK",
            "lines[2].quantity",
            "lines[2].prices.EUR.unit_price"
        ])
    );
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("lines[2].prices.EUR.unit_price"));

    // A wrong type names its field too, and so does an unknown tax class.
    let mut body = sek_cart();
    body["lines"][1]["tax_class"] = json!("luxury");
    let (status, error) = register(&env, &key, body).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["fields"], json!(["lines[1].tax_class"]));
}

#[tokio::test]
async fn the_browser_cannot_change_prices_nor_name_unknown_carts() {
    let (env, key) = shop().await;
    let (_, registered) = register(&env, &key, sek_cart()).await;
    let cart = registered["cart"].as_str().unwrap();
    // Prices in the browser's request are refused outright.
    let r = env
        .post(
            "/api/checkout/sessions",
            json!({"cart": cart, "locale": "sv-SE", "order_amount": 1}),
        )
        .await;
    assert_eq!(r.status(), 400);
    for unknown in ["c_doesnotexist", "../carts", "demo?x=1"] {
        let r = env
            .post(
                "/api/checkout/sessions",
                json!({"cart": unknown, "locale": "sv-SE"}),
            )
            .await;
        let (status, error) = error_of(r).await;
        assert_eq!(status, 404, "{unknown}");
        assert_eq!(error.code, klarna::api::ErrorCode::UnknownCart);
    }
    let r = env
        .http
        .get(format!("{}/api/merchant/carts/c_doesnotexist", env.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn carts_need_a_merchant_key() {
    let env = start().await;
    let r = env
        .http
        .post(format!("{}/api/merchant/carts", env.url))
        .json(&sek_cart())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = env
        .http
        .get(format!("{}/api/merchant/carts/demo", env.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_demo_carts_are_registered_carts_with_the_catalogs_prices() {
    let (env, key) = shop().await;
    let session = env.start_checkout().await;
    // The demo catalog's German total: 2 × 24.90 + 12.95 − 1.30 + 19.99 + 4.95.
    assert_eq!(session.cart.order_amount, 8_639);
    assert_eq!(session.cart.order_tax_amount, 1_191);
    let r = env
        .http
        .get(format!("{}/api/merchant/carts/demo", env.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let demo: Value = r.json().await.unwrap();
    assert_eq!(demo["lines"].as_array().unwrap().len(), 4);
    assert_eq!(
        demo["currencies"],
        json!(["EUR", "SEK", "GBP", "USD", "CAD"])
    );
}
