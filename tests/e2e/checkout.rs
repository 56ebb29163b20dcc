//! The shopper's purchase and each of Klarna's outcomes, clicked through in Chromium.

use crate::Shop;
use fantoccini::Locator;
use std::time::Duration;

#[tokio::test]
async fn approved_purchase_ends_on_the_confirmation() {
    let shop = Shop::open().await;
    shop.wait_text(".kc-total", "86.39").await;
    shop.fill("customer+de@klarna.com", "41460").await;
    shop.click(".kc-buy").await;
    shop.find("#klarna-sandbox-confirm").await;
    shop.snap("klarna-dialog").await;
    shop.click("#klarna-sandbox-confirm").await;
    let id = shop.order_id().await;
    shop.snap("confirmation").await;
    assert!(!id.is_empty());
    assert_eq!(shop.sandbox.order_count(), 1);
    shop.wait_text(".kc-confirmation", "Thank you").await;
    shop.close().await;
}

/// B2B: the demo page's business cart asks for the company, refuses a missing name before
/// Klarna, and sends the company to Klarna at authorize and order alike.
#[tokio::test]
async fn a_business_buys_with_its_company_details() {
    let shop = Shop::open().await;
    shop.browser
        .goto(&format!("{}/?cart=demo-b2b", shop.server.url()))
        .await
        .unwrap();
    shop.wait_enabled(".kc-buy").await;
    assert_eq!(
        shop.text("label[for$='-customer-organization_entity_type']")
            .await,
        "Legal form"
    );
    shop.fill("customer+de@klarna.com", "41460").await;
    shop.find(&crate::field_css("customer.organization_entity_type"))
        .await
        .select_by_value("LIMITED_COMPANY")
        .await
        .unwrap();
    shop.type_field("customer.organization_registration_id", "HRB 12345")
        .await;
    // Typed with spaces, sent to Klarna without them.
    shop.type_field("customer.vat_id", "DE 123 456 789").await;
    // No company name: named and focused, and Klarna is not asked.
    shop.click(".kc-buy").await;
    shop.wait_text(
        "[id$='-billing_address-organization_name-error']",
        "required",
    )
    .await;
    assert_eq!(shop.focused_id().await, "billing_address.organization_name");
    assert_eq!(shop.sandbox.authorize_calls(), 0);
    shop.snap("b2b-company-missing").await;
    shop.type_into("organization_name", "Nordlicht Bürobedarf GmbH")
        .await;
    // Corrected, the field is no longer marked wrong, before it is even left.
    shop.wait_gone("[data-kc-field='billing_address.organization_name'][aria-invalid='true']")
        .await;
    shop.snap("b2b-form").await;
    shop.buy_and_confirm().await;
    assert!(!shop.order_id().await.is_empty());
    shop.snap("b2b-confirmation").await;
    let order = shop
        .sandbox
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/order"))
        .expect("Klarna's create order");
    for address in ["billing_address", "shipping_address"] {
        assert_eq!(
            order.body[address]["organization_name"],
            "Nordlicht Bürobedarf GmbH"
        );
    }
    assert_eq!(
        order.body["customer"],
        serde_json::json!({"type": "organization", "organization_entity_type": "LIMITED_COMPANY",
            "organization_registration_id": "HRB 12345", "vat_id": "DE123456789"})
    );
    shop.close().await;
}

#[tokio::test]
async fn denied_customer_sees_the_category_withdrawn() {
    let shop = Shop::open().await;
    shop.fill("customer+de+denied@klarna.com", "41460").await;
    shop.click(".kc-buy").await;
    shop.wait_text("#klarna-sandbox-message", "can't approve")
        .await;
    shop.click("#klarna-sandbox-close").await;
    shop.wait_text(".kc-notice-area", "can't offer this payment option")
        .await;
    shop.snap("rejected").await;
    let hidden = shop
        .browser
        .execute(
            "return document.querySelector('.kc-category input[value=pay_now]').closest('li').hidden",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(hidden, serde_json::json!(true));
    assert_eq!(shop.sandbox.order_count(), 0);
    shop.close().await;
}

#[tokio::test]
async fn abort_then_retry_succeeds() {
    let shop = Shop::open().await;
    shop.fill("customer+de@klarna.com", "41460").await;
    shop.click(".kc-buy").await;
    shop.click("#klarna-sandbox-close").await;
    shop.wait_text(".kc-notice-area", "You closed Klarna").await;
    shop.snap("aborted").await;
    shop.wait_enabled(".kc-buy").await;
    shop.buy_and_confirm().await;
    assert!(!shop.order_id().await.is_empty());
    assert_eq!(shop.sandbox.order_count(), 1);
    shop.close().await;
}

#[tokio::test]
async fn invalid_postal_codes_are_named_and_focused() {
    let shop = Shop::open().await;
    // Our own rule: four digits are no German postal code. Klarna is not even asked.
    shop.fill("customer+de@klarna.com", "4146").await;
    shop.click(".kc-buy").await;
    shop.wait_text("[id$='-billing_address-postal_code-error']", "postal code")
        .await;
    shop.wait_focus("billing_address.postal_code").await;
    assert!(shop
        .browser
        .find(Locator::Css("#klarna-sandbox-dialog"))
        .await
        .is_err());
    shop.snap("invalid-postal-code").await;
    // Well-formed but nonexistent: Klarna refuses it at authorize (error.invalid_fields).
    shop.type_into("postal_code", "00000").await;
    shop.click(".kc-buy").await;
    shop.wait_text(
        "[id$='-billing_address-postal_code-error']",
        "Klarna could not accept",
    )
    .await;
    shop.snap("postal-code-refused-by-klarna").await;
    shop.wait_focus("billing_address.postal_code").await;
    // Fixed, it goes through.
    shop.type_into("postal_code", "41460").await;
    shop.buy_and_confirm().await;
    assert!(!shop.order_id().await.is_empty());
    shop.close().await;
}

#[tokio::test]
async fn double_click_on_buy_places_one_order() {
    let shop = Shop::open().await;
    shop.fill("customer+de@klarna.com", "41460").await;
    // Both clicks run before the script returns, and `authorize()` is called synchronously
    // inside a click: the sandbox's probe has counted every call by the time we read it.
    let calls = shop
        .browser
        .execute(
            "const b = document.querySelector('.kc-buy'); b.click(); b.click();
             return window.klarnaSandboxProbe.authorizeCalls;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(calls, serde_json::json!(1), "Klarna was asked once");
    shop.find("#klarna-sandbox-dialog").await;
    assert_eq!(shop.count("#klarna-sandbox-dialog").await, 1);
    shop.click("#klarna-sandbox-confirm").await;
    assert!(!shop.order_id().await.is_empty());
    assert_eq!(shop.sandbox.authorize_calls(), 1);
    assert_eq!(shop.sandbox.order_count(), 1);
    shop.close().await;
}

#[tokio::test]
async fn authorization_older_than_an_hour_is_renewed_and_succeeds() {
    let shop = Shop::open().await;
    shop.fill("customer+de@klarna.com", "41460").await;
    // Klarna is down when the order is placed…
    shop.sandbox.set_faults(sandbox::Faults {
        fail_next: 1,
        path_contains: "/order".into(),
        ..Default::default()
    });
    shop.buy_and_confirm().await;
    shop.wait_text(".kc-notice-area", "couldn't reach").await;
    shop.snap("network-down").await;
    // …and the shopper comes back after more than an hour.
    shop.sandbox.clock.advance(61 * 60);
    shop.click(".kc-retry").await;
    shop.wait_enabled(".kc-buy").await;
    shop.wait_text(".kc-notice-area", "approval has expired")
        .await;
    shop.wait_text(".kc-buy", "Confirm payment again").await;
    shop.snap("approval-expired").await;
    shop.buy_and_confirm().await;
    assert!(!shop.order_id().await.is_empty());
    assert_eq!(shop.sandbox.order_count(), 1);
    shop.close().await;
}

#[tokio::test]
async fn fraud_review_is_announced_as_pending() {
    let shop = Shop::open().await;
    shop.fill("customer+de+pending@klarna.com", "41460").await;
    shop.buy_and_confirm().await;
    assert!(!shop.order_id().await.is_empty());
    shop.wait_text(".kc-notice-pending", "reviewing").await;
    shop.snap("pending-review").await;
    // Klarna's review ends (its clock moves on): it notifies our server, which reads the
    // decision from Order Management; the open confirmation follows without a reload.
    shop.sandbox.clock.advance(5 * 3600);
    shop.wait_gone(".kc-notice-pending").await;
    assert!(shop.text(".kc-confirmation").await.contains("Thank you"));
    shop.snap("pending-review-accepted").await;
    shop.close().await;
}

#[tokio::test]
async fn a_fraud_review_that_ends_in_a_refusal_is_said_on_the_confirmation() {
    let shop = Shop::open().await;
    shop.fill("customer+de+pending+rejected@klarna.com", "41460")
        .await;
    shop.buy_and_confirm().await;
    shop.wait_text(".kc-notice-pending", "reviewing").await;
    shop.sandbox.clock.advance(5 * 3600);
    shop.wait_text(".kc-declined", "declined").await;
    shop.wait_text(".kc-confirmation h2", "Payment declined")
        .await;
    assert_eq!(shop.count(".kc-notice-pending").await, 0);
    shop.snap("pending-review-declined").await;
    shop.close().await;
}

#[tokio::test]
async fn an_approval_in_the_banking_app_is_confirmed_by_the_server() {
    // Klarna approves in the bank's app and gives the page no token: only Klarna's callback
    // brings it, to the server. The page says so and waits; the server creates the order.
    let shop = Shop::open().await;
    shop.fill("customer+de+bankapp@klarna.com", "41460").await;
    shop.buy_and_confirm().await;
    shop.wait_text(".kc-confirming", "Klarna approved your payment")
        .await;
    shop.snap("approved-confirming").await;
    let id = shop.order_id().await;
    assert!(!id.is_empty());
    shop.wait_text(".kc-confirmation", "Thank you").await;
    assert_eq!(shop.sandbox.order_count(), 1);
    assert_eq!(shop.server.state.store.order_count().await.unwrap(), 1);
    shop.close().await;
}

#[tokio::test]
async fn another_billing_country_reprices_vat_and_still_buys() {
    let shop = Shop::open().await;
    let german_vat = shop.text(".kc-tax").await;
    shop.fill("customer+at@klarna.com", "1010").await;
    shop.find(&crate::field_css("billing_address.country"))
        .await
        .select_by_value("AT")
        .await
        .unwrap();
    let mut austrian_vat = german_vat.clone();
    for _ in 0..100 {
        austrian_vat = shop.text(".kc-tax").await;
        if austrian_vat != german_vat {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // 20 % and 10 % instead of 19 % and 7 % on the same gross prices: 8.30 + 1.94 + 1.82 + 0.82.
    assert!(
        austrian_vat.contains("12.88"),
        "{german_vat} → {austrian_vat}"
    );
    shop.wait_text(".kc-total", "86.39").await;
    shop.wait_enabled(".kc-buy").await;
    shop.find(".klarna-sandbox-widget").await;
    shop.buy_and_confirm().await;
    assert!(!shop.order_id().await.is_empty());
    assert_eq!(shop.sandbox.order_count(), 1);
    shop.close().await;
}
