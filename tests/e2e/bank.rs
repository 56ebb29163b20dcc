//! The bookkeeper's side: `/bank/`, signed in, linking through the XS2A launcher stand-in.

use crate::{field_css, Shop, JUNE_15};
use fantoccini::Locator;
use std::time::Duration;

/// The bookkeeper's side: `/bank/`, signed in, with helpers for the XS2A launcher stand-in.
impl Shop {
    /// `/bank/` in the preset `theme` (`light`, the default, or `dark`: `/bank/?theme=dark`,
    /// the dark preset on a dark page).
    pub(crate) fn bank_url(&self, theme: &str) -> String {
        match theme {
            "light" => format!("{}/bank/", self.server.url()),
            other => format!("{}/bank/?theme={other}", self.server.url()),
        }
    }

    pub(crate) async fn open_bank_page(&self) {
        self.open_bank_page_in("light").await;
    }

    /// The bank page in the preset `theme`, signed in, the company typed in.
    pub(crate) async fn open_bank_page_in(&self, theme: &str) {
        self.server.clock.set(JUNE_15);
        self.browser.goto(&self.bank_url(theme)).await.unwrap();
        self.find(&field_css("user"))
            .await
            .send_keys("bookkeeper")
            .await
            .unwrap();
        self.find(&field_css("password"))
            .await
            .send_keys("sandbox-password")
            .await
            .unwrap();
        self.click(".kc-sign-in").await;
        self.find(&field_css("company"))
            .await
            .send_keys("Nordlicht Outdoor GmbH")
            .await
            .unwrap();
        // The page proposes 1 January of the server's year, up to the server's today: the
        // browser's own calendar (this machine's real date) has no say.
        let start = self.find(&field_css("start_date")).await;
        assert_eq!(
            start.prop("value").await.unwrap().as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(
            start.attr("max").await.unwrap().as_deref(),
            Some("2026-06-15")
        );
    }

    /// Records the page's events as a host page hears them on the document.
    pub(crate) async fn record_bank_events(&self) {
        self.browser
            .execute(
                "window.bankEvents = [];
                 for (const n of ['linked', 'synced', 'exit', 'error'])
                   document.addEventListener('klarna-bank-link:' + n, (e) => window.bankEvents.push(
                     {name: n, bubbles: e.bubbles, composed: e.composed, detail: e.detail}));",
                vec![],
            )
            .await
            .unwrap();
    }

    /// The events recorded since [`Shop::record_bank_events`].
    pub(crate) async fn bank_events(&self) -> Vec<serde_json::Value> {
        let events = self
            .browser
            .execute("return window.bankEvents", vec![])
            .await
            .unwrap();
        events.as_array().cloned().unwrap_or_default()
    }

    pub(crate) async fn wait_step(&self, step: &str) {
        let css = format!("#xs2a-sandbox-dialog[data-step='{step}']");
        self.find(&css).await;
    }

    /// Country → Demo Bank → login, in the launcher.
    pub(crate) async fn bank_login(&self, username: &str, password: &str) {
        self.wait_step("country").await;
        self.click("#xs2a-sandbox-submit").await;
        self.wait_step("bank").await;
        self.click("#xs2a-sandbox-bank-88888888").await;
        self.wait_step("login").await;
        self.find("#xs2a-sandbox-username")
            .await
            .send_keys(username)
            .await
            .unwrap();
        self.find("#xs2a-sandbox-password")
            .await
            .send_keys(password)
            .await
            .unwrap();
        self.click("#xs2a-sandbox-submit").await;
    }

    /// Continue, then the test bank's happy path: `embedded` / `12345`, OTP `12345`.
    pub(crate) async fn link_demo_bank(&self) {
        self.click(".kc-continue").await;
        self.bank_login("embedded", "12345").await;
        self.wait_step("otp").await;
        self.find("#xs2a-sandbox-otp")
            .await
            .send_keys("12345")
            .await
            .unwrap();
        self.click("#xs2a-sandbox-submit").await;
    }

    pub(crate) async fn open_xs2a_sessions(&self) -> i64 {
        let v: serde_json::Value = reqwest::get(format!(
            "{}/sandbox/_control/xs2a/open-sessions",
            self.server.url()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        v["open"].as_i64().unwrap()
    }

    /// How the launcher stand-in ends its flows from now on (`as_documented`, `close_first`,
    /// `finish_unfinished`, `error_without_argument`).
    pub(crate) async fn launcher_endings(&self, endings: &str) {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/sandbox/_control/xs2a/launcher-endings",
                self.server.url()
            ))
            .json(&serde_json::json!({ "endings": endings }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{endings}");
    }

    pub(crate) async fn wait_no_open_sessions(&self) {
        for _ in 0..50 {
            if self.open_xs2a_sessions().await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "XS2A sessions left open: {}",
            self.open_xs2a_sessions().await
        );
    }
}

#[tokio::test]
async fn a_bookkeeper_links_the_demo_bank_and_sees_accounts_and_consent() {
    let shop = Shop::open().await;
    shop.open_bank_page().await;
    shop.record_bank_events().await;
    shop.link_demo_bank().await;
    let card = shop.text(".kc-bank-card").await;
    shop.snap("bank-linked").await;
    assert!(card.contains("Demo Bank"), "{card}");
    // The date as `Intl.DateTimeFormat` writes it for the page's `en-DE`.
    assert!(card.contains("expires in 90 days (13/09/2026)"), "{card}");
    assert!(
        card.contains("DE") && card.contains("••••"),
        "masked IBANs: {card}"
    );
    assert_eq!(
        shop.browser
            .find_all(Locator::Css(".kc-accounts > tbody > tr:not(.kc-sync-row)"))
            .await
            .unwrap()
            .len(),
        2
    );
    shop.wait_no_open_sessions().await;
    // Sync the first account: progress, then the result and its transactions. Each page of
    // the bank's answer takes a moment, as a real bank's would, so the progress is visible.
    shop.sandbox.set_faults(sandbox::Faults {
        latency_ms: 400,
        path_contains: "/consents/".into(),
        ..Default::default()
    });
    shop.click(".kc-sync").await;
    let mut status = String::new();
    let mut progress_seen = false;
    for _ in 0..200 {
        status = shop.text(".kc-sync-status").await;
        progress_seen |= status.starts_with("Syncing…") && status.contains(" so far");
        if status.starts_with("Synced") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(progress_seen, "no progress shown before: {status}");
    assert!(status.contains("new of"), "{status}");
    // The table is fetched after the sync reports its result.
    let mut rows = 0;
    for _ in 0..100 {
        rows = shop.count(".kc-transactions tbody tr").await;
        if rows > 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rows > 10, "{rows} transaction rows");
    shop.snap("bank-synced").await;
    // `linked` then `synced`, bubbling and composed, with the documented details; no token
    // (the consent token, Klarna's session and flow ids stay on the server) in any of them.
    let events = shop.bank_events().await;
    let names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["linked", "synced"]);
    assert!(events
        .iter()
        .all(|e| e["bubbles"] == true && e["composed"] == true));
    let linked = &events[0]["detail"];
    assert_eq!(linked["bank_name"], "Demo Bank");
    assert_eq!(linked["consent"]["days_left"], 90);
    assert_eq!(linked["accounts"].as_array().unwrap().len(), 2);
    let synced = &events[1]["detail"];
    assert_eq!(synced["running"], false);
    assert!(synced["account"].is_string() && synced["added"].as_u64().unwrap() > 10);
    let text = serde_json::to_string(&events).unwrap().to_lowercase();
    for secret in ["token", "flow", "session", "password"] {
        assert!(!text.contains(secret), "{secret} in an event: {text}");
    }
    shop.close().await;
}

#[tokio::test]
async fn a_decoupled_login_waits_for_the_banking_app_then_links() {
    let shop = Shop::open().await;
    shop.open_bank_page().await;
    shop.click(".kc-continue").await;
    shop.bank_login("decoupled", "any").await;
    // The bank's window asks for approval in the app and carries on by itself.
    shop.wait_step("decoupled").await;
    let waiting = shop.text("#xs2a-sandbox-dialog").await;
    assert!(waiting.contains("banking app"), "{waiting}");
    let card = shop.text(".kc-bank-card").await;
    assert!(card.contains("Demo Bank"), "{card}");
    assert!(card.contains("expires in 90 days"), "{card}");
    shop.wait_no_open_sessions().await;
    shop.close().await;
}

#[tokio::test]
async fn a_wrong_bank_password_is_said_and_abort_then_retry_links() {
    let shop = Shop::open().await;
    shop.open_bank_page().await;
    shop.record_bank_events().await;
    shop.click(".kc-continue").await;
    shop.bank_login("embedded", "wrong-password").await;
    // The bank's own window says what went wrong, in words.
    let mut message = String::new();
    for _ in 0..50 {
        message = shop.text("#xs2a-sandbox-message").await;
        if !message.trim().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        message.contains("password is wrong"),
        "a visible message for the wrong password: {message:?}"
    );
    shop.snap("bank-wrong-password").await;
    // Closing the bank's window aborts; nothing is linked and nothing stays open.
    shop.click("#xs2a-sandbox-close").await;
    shop.wait_text(".kc-notice-area", "You closed the bank's window")
        .await;
    let events = shop.bank_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["name"], "exit");
    assert_eq!(
        events[0]["detail"],
        serde_json::json!({"reason": "aborted"})
    );
    shop.wait_no_open_sessions().await;
    shop.wait_enabled(".kc-continue").await;
    shop.link_demo_bank().await;
    shop.wait_text(".kc-bank-card", "Demo Bank").await;
    shop.wait_no_open_sessions().await;
    shop.close().await;
}

#[tokio::test]
async fn a_bank_under_maintenance_is_explained_and_nothing_stays_open() {
    let shop = Shop::open().await;
    shop.open_bank_page().await;
    shop.click(".kc-continue").await;
    shop.bank_login("bank-maintenance", "12345").await;
    shop.wait_text(".kc-notice-area", "maintenance").await;
    assert!(
        shop.browser
            .find(Locator::Css("#xs2a-sandbox-overlay"))
            .await
            .is_err(),
        "the bank's window is closed"
    );
    shop.snap("bank-maintenance").await;
    shop.wait_no_open_sessions().await;
    shop.close().await;
}

#[tokio::test]
async fn a_launcher_that_closes_before_it_finishes_still_links_the_bank() {
    let shop = Shop::open().await;
    shop.launcher_endings("close_first").await;
    shop.open_bank_page().await;
    shop.record_bank_events().await;
    shop.link_demo_bank().await;
    let card = shop.wait_text(".kc-bank-card", "Demo Bank").await;
    assert!(card.contains("expires in 90 days"), "{card}");
    assert_eq!(shop.open_xs2a_sessions().await, 0);
    let notice = shop.text(".kc-notice-area").await;
    assert!(
        !notice.contains("closed"),
        "nothing was thrown away: {notice}"
    );
    let events = shop.bank_events().await;
    let names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["linked"], "{events:?}");
    shop.close().await;
}

#[tokio::test]
async fn a_launcher_that_gives_up_leaves_no_session_open_and_no_check_again() {
    let shop = Shop::open().await;
    // onError() without an argument once the login is in, the window left open.
    shop.launcher_endings("error_without_argument").await;
    shop.open_bank_page().await;
    shop.click(".kc-continue").await;
    shop.bank_login("embedded", "12345").await;
    shop.wait_text(".kc-notice-area", "stopped with an error")
        .await;
    assert_eq!(
        shop.open_xs2a_sessions().await,
        0,
        "closed at once, not after the sweeper's 15 minutes"
    );
    shop.wait_gone("#xs2a-sandbox-overlay").await;
    assert_eq!(shop.count(".kc-check-again").await, 0);
    shop.snap("bank-launcher-error").await;
    // onFinished although the bank has not finished (it still wants the TAN).
    shop.launcher_endings("finish_unfinished").await;
    shop.wait_enabled(".kc-continue").await;
    shop.click(".kc-continue").await;
    shop.bank_login("embedded", "12345").await;
    shop.wait_text(".kc-notice-area", "before your bank confirmed")
        .await;
    assert_eq!(shop.open_xs2a_sessions().await, 0);
    assert_eq!(shop.count(".kc-check-again").await, 0);
    assert_eq!(shop.count(".kc-bank-card").await, 0, "nothing was linked");
    shop.close().await;
}
