//! A storefront's page that embeds the component: one script, one element, its events.

use crate::Shop;

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
