//! A storefront's page that embeds the component: one script, one element, its events; and a
//! storefront on another origin, under the strict policy docs/embedding.md gives storefronts.

use crate::Shop;
use server::cors::AllowedOrigins;
use server::storefront::{self, Storefront};

#[tokio::test]
async fn a_storefront_embeds_it_with_one_script_and_hears_its_events() {
    let shop = Shop::open().await;
    shop.browser
        .goto(&format!("{}/example.html", shop.server.url()))
        .await
        .unwrap();
    shop.wait_enabled(".kc-buy").await;
    assert_eq!(shop.text(".kc-buy").await, "Kaufen");
    shop.wait_text(".kc-total", "3,00").await;
    shop.fill("customer+de@klarna.com", "41460").await;
    shop.buy_and_confirm().await;
    assert!(!shop.order_id().await.is_empty());
    let events = shop
        .browser
        .execute("return window.checkoutEvents", vec![])
        .await
        .unwrap();
    assert_eq!(events, serde_json::json!(["ready", "order-created"]));
    shop.close().await;
}

/// Two checkouts on one page (`embed/two-checkouts.html`), on the real sandbox: each buys its
/// own cart. Klarna's script holds one session per page, so the one the shopper works in takes
/// it; the other says so, and takes it back when the shopper returns.
#[tokio::test]
async fn two_checkouts_on_one_page_each_buy_their_own_cart() {
    let shop = Shop::open().await;
    shop.browser
        .goto(&format!("{}/two-checkouts.html", shop.server.url()))
        .await
        .unwrap();
    shop.find("#shop-a .kc-buy").await;
    shop.find("#shop-b .kc-buy").await;
    shop.wait_text("#shop-a .kc-total", "3.00").await;
    shop.wait_text("#shop-b .kc-total", "86.39").await;
    // Whichever loaded last holds Klarna; the shopper works in A, which takes it.
    shop.fill_in("#shop-a", "customer+de@klarna.com", "41460")
        .await;
    shop.wait_enabled("#shop-a .kc-buy").await;
    shop.find("#shop-a .klarna-sandbox-widget").await;
    shop.wait_text("#shop-b .kc-paused", "another checkout")
        .await;
    shop.browser
        .execute(
            "document.querySelector('#shop-b .kc-paused').scrollIntoView({block: 'center'})",
            vec![],
        )
        .await
        .unwrap();
    shop.snap("two-checkouts-b-paused").await;
    shop.click("#shop-a .kc-buy").await;
    shop.click("#klarna-sandbox-confirm").await;
    let a = shop.text("#shop-a .kc-order-id").await;
    assert_eq!(
        shop.count("#shop-b .kc-order-id").await,
        0,
        "B is still shopping"
    );
    // Back in B: it takes Klarna back and buys its own cart.
    shop.fill_in("#shop-b", "customer+de@klarna.com", "41460")
        .await;
    shop.wait_enabled("#shop-b .kc-buy").await;
    shop.find("#shop-b .klarna-sandbox-widget").await;
    shop.snap("two-checkouts-dark").await;
    shop.click("#shop-b .kc-buy").await;
    shop.click("#klarna-sandbox-confirm").await;
    let b = shop.text("#shop-b .kc-order-id").await;
    assert!(!a.is_empty() && !b.is_empty() && a != b, "{a} / {b}");
    assert_eq!(shop.sandbox.order_count(), 2);
    assert_eq!(
        shop.text("#shop-a .kc-order-id").await,
        a,
        "A's confirmation stays"
    );
    shop.close().await;
}

/// The demo storefront (`server::storefront`) on a port of its own: another origin.
async fn storefront_beside(allowed: bool) -> (Shop, Storefront) {
    let listener = storefront::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let shop = Shop::open_with(|config| {
        if allowed {
            config.allowed_origins = AllowedOrigins::parse(&origin, true).unwrap();
        }
    })
    .await;
    let store = storefront::serve(listener, &shop.server.url()).unwrap();
    shop.browser
        .goto(&format!("{}/", store.url()))
        .await
        .unwrap();
    (shop, store)
}

async fn page_value(shop: &Shop, expression: &str) -> serde_json::Value {
    shop.browser
        .execute(&format!("return {expression}"), vec![])
        .await
        .unwrap()
}

#[tokio::test]
async fn a_shopper_buys_on_a_storefront_of_another_origin_under_its_strict_csp() {
    let (shop, store) = storefront_beside(true).await;
    shop.wait_enabled(".kc-buy").await;
    shop.wait_text(".kc-total", "3,00").await;
    shop.snap("storefront-another-origin").await;
    shop.fill("customer+de@klarna.com", "41460").await;
    shop.click(".kc-buy").await;
    shop.find("#klarna-sandbox-confirm").await;
    shop.snap("storefront-klarna-dialog").await;
    shop.click("#klarna-sandbox-confirm").await;
    assert!(!shop.order_id().await.is_empty());
    shop.snap("storefront-confirmation").await;
    assert_eq!(shop.sandbox.order_count(), 1);
    let here = shop.browser.current_url().await.unwrap();
    assert_eq!(
        here.as_str(),
        format!("{}/", store.url()),
        "still the storefront's page"
    );
    assert_eq!(
        page_value(&shop, "window.checkoutEvents").await,
        serde_json::json!(["ready", "order-created"])
    );
    // Under the documented policy nothing was refused, from the page's first script on.
    assert_eq!(
        page_value(&shop, "window.cspViolations").await,
        serde_json::json!([])
    );
    assert_eq!(
        page_value(&shop, "window.failedLoads").await,
        serde_json::json!([])
    );
    // And the recorder does hear a violation: an image from a host the policy does not name.
    let heard = shop
        .browser
        .execute_async(
            "const done = arguments[0];
             document.addEventListener('securitypolicyviolation', () => done(window.cspViolations));
             new Image().src = 'http://blocked.invalid/pixel.png';",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        heard,
        serde_json::json!(["img-src http://blocked.invalid/pixel.png"])
    );
    store.task.abort();
    shop.close().await;
}

/// The same page on an origin that is not in `KC_ALLOWED_ORIGINS`: the browser will not even run
/// the component (its files carry no `Access-Control-Allow-Origin` for that site), and the
/// checkout API refuses the site (403 in `crates/server/tests/cors.rs`): Klarna is never asked.
#[tokio::test]
async fn a_storefront_not_in_the_allowlist_cannot_run_the_checkout() {
    let (shop, store) = storefront_beside(false).await;
    let sessions = |shop: &Shop| {
        shop.sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/payments/v1/sessions"))
            .count()
    };
    let before = sessions(&shop);
    let failed = shop
        .browser
        .execute_async(
            "const done = arguments[0];
             (function check() {
               if (window.failedLoads.length) done(window.failedLoads);
               else setTimeout(check, 50);
             })();",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        failed,
        serde_json::json!([format!("{}/klarna-checkout-loader.js", shop.server.url())])
    );
    assert_eq!(shop.count(".kc-buy").await, 0);
    assert_eq!(
        page_value(&shop, "window.checkoutEvents").await,
        serde_json::json!([])
    );
    // Calling the checkout API from that page directly is refused too.
    let call = shop
        .browser
        .execute_async(
            "const [url, done] = arguments;
             fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
                         body: JSON.stringify({cart: 'demo-small', locale: 'de-DE'})})
               .then(r => done('answered ' + r.status), e => done('refused: ' + e.name));",
            vec![serde_json::json!(format!(
                "{}/api/checkout/sessions",
                shop.server.url()
            ))],
        )
        .await
        .unwrap();
    assert_eq!(call, serde_json::json!("refused: TypeError"));
    assert_eq!(sessions(&shop), before, "Klarna was asked for a session");
    assert_eq!(shop.sandbox.order_count(), 0);
    shop.snap("storefront-not-allowed").await;
    store.task.abort();
    shop.close().await;
}
