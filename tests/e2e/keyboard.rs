//! Keyboard only: every step reachable and operable without a mouse.

use crate::Shop;
use std::time::Duration;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

impl Shop {
    pub(crate) async fn keys(&self, text: &str) {
        let el = self.browser.active_element().await.unwrap();
        el.send_keys(text).await.unwrap();
    }

    /// Waits until [`Shop::focused_id`] names `id`.
    pub(crate) async fn wait_focus(&self, id: &str) {
        for _ in 0..100 {
            if self.focused_id().await == id {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "focus never reached #{id}; it is on #{}",
            self.focused_id().await
        );
    }
}

#[tokio::test]
async fn the_whole_purchase_works_from_the_keyboard() {
    let shop = Shop::open().await;
    shop.browser
        .execute(
            "document.querySelector(\"[data-kc-field='billing_address.given_name']\").focus()",
            vec![],
        )
        .await
        .unwrap();
    for value in [
        "Testperson-de",
        "Approved",
        "customer+de@klarna.com",
        "",
        "Hellersbergstraße 14",
        "",
        "41460",
        "Neuss",
    ] {
        shop.keys(&format!("{value}{TAB}")).await;
    }
    shop.wait_focus("billing_address.country").await;
    shop.keys(TAB).await; // "ship to my billing address"
    shop.keys(TAB).await; // the payment category radios
    shop.wait_focus("category:pay_now").await;
    shop.keys(TAB).await;
    shop.wait_focus("kc-buy").await;
    shop.keys(ENTER).await;
    // Klarna's dialog takes focus on its confirm button.
    shop.wait_focus("klarna-sandbox-confirm").await;
    shop.keys(ENTER).await;
    assert!(!shop.order_id().await.is_empty());
    assert_eq!(shop.sandbox.order_count(), 1);
    shop.close().await;
}
