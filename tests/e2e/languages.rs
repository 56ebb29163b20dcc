//! A purchase in another language: the shopper downloads that language's texts and no other.

use crate::Shop;

#[tokio::test]
async fn a_german_purchase_loads_only_the_german_texts() {
    let shop = Shop::open().await;
    shop.browser
        .goto(&format!("{}/?locale=de-DE", shop.server.url()))
        .await
        .unwrap();
    shop.wait_text(".kc-buy", "Kaufen").await;
    shop.wait_text(".kc-cart", "Warenkorb").await;
    shop.fill("customer+de@klarna.com", "41460").await;
    shop.buy_and_confirm().await;
    assert!(!shop.order_id().await.is_empty());
    shop.wait_text(".kc-confirmation", "Vielen Dank").await;
    shop.snap("german-confirmation").await;
    let fetched = shop
        .browser
        .execute(
            "return performance.getEntriesByType('resource')\
               .map(e => new URL(e.name).pathname)\
               .filter(p => p.endsWith('.txt'))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fetched, serde_json::json!(["/i18n/de.txt"]));
    shop.close().await;
}
