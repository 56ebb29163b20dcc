//! A bank consent's life in the browser, on the server's settable clock: valid for 90 days,
//! "expiring" in its last two weeks, "expired" after (a sync then is refused with the reason),
//! and Renew, which goes through the bank again and replaces the consent and its token.

use crate::{Shop, JUNE_15};

const DAY: i64 = 24 * 3600;

#[tokio::test]
async fn an_expired_consent_is_renewed_through_the_bank_with_a_new_token() {
    let shop = Shop::open().await;
    shop.open_bank_page().await;
    shop.link_demo_bank().await;
    shop.wait_text(".kc-bank-card", "expires in 90 days").await;
    let before = shop.server.state.store.connections().await.unwrap();
    assert_eq!(before.len(), 1);

    shop.server.clock.set(JUNE_15 + 80 * DAY);
    shop.bank_sign_in("light", "sandbox-password").await;
    shop.find(".kc-consent-expiring").await;
    shop.wait_text(".kc-bank-card", "expires in 10 days").await;

    shop.server.clock.set(JUNE_15 + 91 * DAY);
    shop.bank_sign_in("light", "sandbox-password").await;
    shop.find(".kc-consent-expired").await;
    shop.click(".kc-sync").await;
    shop.wait_text(".kc-notice-area", "expired").await;

    // Renew: the bank's window again, for the same company and start date.
    shop.click(".kc-renew").await;
    shop.bank_login("embedded", "12345").await;
    shop.wait_step("otp").await;
    shop.find("#xs2a-sandbox-otp")
        .await
        .send_keys("12345")
        .await
        .unwrap();
    shop.click("#xs2a-sandbox-submit").await;
    shop.find(".kc-consent-valid").await;
    shop.wait_text(".kc-bank-card", "expires in 90 days").await;

    let after = shop.server.state.store.connections().await.unwrap();
    assert_eq!(after.len(), 1, "renewed, not linked twice");
    assert_ne!(after[0].consent_id, before[0].consent_id, "a new consent");
    assert_ne!(
        after[0].consent_token_sealed, before[0].consent_token_sealed,
        "a new consent token"
    );
    assert_eq!(after[0].consent_expires_on, "2026-12-13", "91 + 90 days on");
    // The new consent syncs.
    shop.click(".kc-sync").await;
    shop.wait_text(".kc-sync-status", "Synced").await;
    shop.wait_no_open_sessions().await;
    shop.close().await;
}
