//! Keyboard only: every step of a purchase and of a bank link reachable and operable without
//! a mouse (Tab, Enter, Space, Escape and typing; no clicks).

use crate::{field_css, Shop};
use std::time::Duration;

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = "\u{E00D}";
const ESCAPE: &str = "\u{E00C}";

impl Shop {
    /// Presses each key of `text` in turn, as a keyboard does: to whatever has focus, also a
    /// date field (an element's "send keys" would set a date field's value at once).
    pub(crate) async fn keys(&self, text: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut keys = KeyActions::new("keyboard".into());
        for key in text.chars() {
            keys = keys
                .then(KeyAction::Down { value: key })
                .then(KeyAction::Up { value: key });
        }
        self.browser.perform_actions(keys).await.unwrap();
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
    // Klarna's dialog takes focus on its confirm button; Escape closes it, and focus comes
    // back to Buy (not to the page's top).
    shop.wait_focus("klarna-sandbox-confirm").await;
    shop.keys(ESCAPE).await;
    shop.wait_text(".kc-notice-area", "You closed Klarna").await;
    shop.wait_focus("kc-buy").await;
    shop.keys(ENTER).await;
    shop.wait_focus("klarna-sandbox-confirm").await;
    shop.keys(ENTER).await;
    assert!(!shop.order_id().await.is_empty());
    // The confirmation's heading has focus.
    shop.wait_focus("heading").await;
    assert_eq!(shop.sandbox.order_count(), 1);
    shop.close().await;
}

/// Tab (at most 40 times) until `id` has focus: proof it is on the keyboard's path.
impl Shop {
    pub(crate) async fn tab_to(&self, id: &str) {
        for _ in 0..40 {
            if self.focused_id().await == id {
                return;
            }
            self.keys(TAB).await;
        }
        panic!(
            "Tab never reached #{id}; focus is on #{}",
            self.focused_id().await
        );
    }
}

#[tokio::test]
async fn a_bank_link_works_from_the_keyboard() {
    let shop = Shop::open().await;
    shop.server.clock.set(crate::JUNE_15);
    shop.browser
        .goto(&format!("{}/bank/", shop.server.url()))
        .await
        .unwrap();
    shop.find(&field_css("user")).await;
    shop.tab_to("user").await;
    shop.keys(&format!("bookkeeper{TAB}sandbox-password{ENTER}"))
        .await;
    // Signed in, focus moves on to the link form (the sign-in form it was in is gone).
    shop.wait_focus("company").await;
    // The start date as typed into the date field's segments (01/01/2026 either way round).
    shop.keys(&format!("Nordlicht Outdoor GmbH{TAB}01012026"))
        .await;
    let start = shop
        .browser
        .execute(
            "return document.querySelector(\"[data-kc-field='start_date']\").value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(start, serde_json::json!("2026-01-01"));
    // The bank's window takes focus; Escape closes it and focus comes back.
    shop.tab_to("kc-continue").await;
    shop.keys(SPACE).await;
    shop.wait_focus("xs2a-sandbox-country").await;
    shop.keys(ESCAPE).await;
    shop.wait_text(".kc-notice-area", "You closed the bank's window")
        .await;
    shop.wait_focus("kc-continue").await;
    shop.wait_no_open_sessions().await;
    // Again, to the end: country, bank, login, TAN.
    shop.keys(ENTER).await;
    shop.wait_focus("xs2a-sandbox-country").await;
    shop.keys(TAB).await;
    shop.wait_focus("xs2a-sandbox-submit").await;
    shop.keys(ENTER).await;
    shop.wait_step("bank").await;
    shop.wait_focus("xs2a-sandbox-bank-search").await;
    shop.tab_to("xs2a-sandbox-bank-88888888").await;
    shop.keys(SPACE).await;
    shop.wait_focus("xs2a-sandbox-username").await;
    shop.keys(&format!("embedded{TAB}12345{ENTER}")).await;
    shop.wait_focus("xs2a-sandbox-otp").await;
    shop.keys(&format!("12345{ENTER}")).await;
    let card = shop.wait_text(".kc-bank-card", "Demo Bank").await;
    assert!(card.contains("expires in 90 days"), "{card}");
    // Focus is on the new bank's heading, not lost when the bank's window went away.
    shop.wait_until_js(
        "focus on the new bank's card",
        "document.activeElement && document.activeElement.closest('.kc-just-linked')",
    )
    .await;
    shop.snap("keyboard-bank-linked").await;
    shop.wait_no_open_sessions().await;
    shop.close().await;
}
