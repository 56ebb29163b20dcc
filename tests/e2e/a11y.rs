//! Accessibility (WCAG 2.2 AA): axe-core's WCAG rules run in the page on every state of the
//! checkout (light and dark preset) and of the bank page, and a test fails on any violation.
//! axe-core comes from npm, pinned and installed by `cargo xtask test`, which names its
//! `axe.min.js` in `KC_AXE_JS`; it is injected with WebDriver's `execute`, which the page's
//! CSP does not govern (a script the page itself inserted would be refused).

use crate::{field_css, Shop};
use std::sync::OnceLock;

/// The WCAG 2.0, 2.1 and 2.2 A and AA rules; axe's best practices are not failures here.
const TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = std::env::var_os("KC_AXE_JS").unwrap_or_else(|| {
            panic!(
                "KC_AXE_JS is not set: run `cargo xtask test`, which installs axe-core from npm \
                 and sets it, or point it at axe-core's axe.min.js"
            )
        });
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "KC_AXE_JS={}: {e}; `cargo xtask test` installs it",
                path.to_string_lossy()
            )
        })
    })
}

impl Shop {
    /// Runs axe-core on the whole page as it is now (the component, the storefront around it,
    /// Klarna's or the bank's dialog when open) and panics with every violation: rule, impact,
    /// the elements (CSS selectors) and what to fix. Saves a screenshot `a11y-<state>` too.
    pub(crate) async fn axe(&self, state: &str) {
        self.snap(&format!("a11y-{state}")).await;
        if let Some(report) = self.axe_report().await {
            panic!("state {state:?}: {report}");
        }
    }

    /// axe-core's violations on the page as it is now, one per line with its elements; `None`
    /// when there are none.
    async fn axe_report(&self) -> Option<String> {
        // The script itself is the body of the function WebDriver runs: axe.min.js is a UMD
        // bundle that sets `window.axe`. Injected once per page.
        let present = self
            .browser
            .execute("return typeof window.axe === 'object'", vec![])
            .await
            .unwrap();
        if present != serde_json::json!(true) {
            self.browser
                .execute(&format!("{}\n;return true;", axe_source()), vec![])
                .await
                .unwrap_or_else(|e| panic!("axe-core could not be injected: {e}"));
        }
        let result = self
            .browser
            .execute_async(
                "const [tags, done] = arguments;
                 axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
                   .then(r => done({ version: axe.version, violations: r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary })),
                   })) }), e => done({ error: String(e) }));",
                vec![serde_json::json!(TAGS)],
            )
            .await
            .unwrap_or_else(|e| panic!("axe.run: {e}"));
        if let Some(error) = result.get("error") {
            panic!("axe.run failed: {error}");
        }
        let violations = result["violations"].as_array().cloned().unwrap_or_default();
        if violations.is_empty() {
            return None;
        }
        let mut report = format!(
            "axe-core {} found {} violation(s):\n",
            result["version"].as_str().unwrap_or("?"),
            violations.len()
        );
        for v in &violations {
            report += &format!(
                "- {} ({}): {}\n",
                v["id"].as_str().unwrap_or_default(),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or_default()
            );
            for node in v["nodes"].as_array().into_iter().flatten() {
                let summary = node["summary"].as_str().unwrap_or_default();
                report += &format!(
                    "    {}\n      {}\n",
                    node["target"].as_str().unwrap_or_default(),
                    summary.replace('\n', "\n      ")
                );
            }
        }
        Some(report)
    }

    /// The checkout's one live region: exactly one in the component, the same element for
    /// as long as the page lives (one inserted with its text is often not read out), and what
    /// it says now.
    async fn live_region(&self) -> String {
        let found = self
            .browser
            .execute(
                "const all = document.querySelectorAll(
                   'klarna-checkout [role=status], klarna-checkout [role=alert], klarna-checkout [aria-live]');
                 if (all.length !== 1) return { count: all.length };
                 window.kcLive = window.kcLive || all[0];
                 return { count: 1, same: window.kcLive === all[0], text: all[0].textContent };",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(found["count"], 1, "live regions in the checkout: {found}");
        assert_eq!(found["same"], true, "the live region was replaced: {found}");
        found["text"].as_str().unwrap_or_default().to_string()
    }

    /// axe on a checkout state, and its one live region saying `said` (when not empty).
    async fn check(&self, state: &str, said: &str) {
        self.axe(state).await;
        let text = self.live_region().await;
        assert!(
            text.contains(said),
            "{state}: the live region says {text:?}"
        );
    }

    /// The demo checkout with `query` (`?theme=dark`, `?cart=demo-b2b&theme=dark`).
    async fn goto_checkout(&self, query: &str) {
        self.browser
            .goto(&format!("{}/{query}", self.server.url()))
            .await
            .unwrap();
    }
}

/// The demo page's query for a preset (`light` is the default, no attribute) and a cart.
fn preset_query(theme: &str, cart: &str) -> String {
    let mut query: Vec<String> = Vec::new();
    if !cart.is_empty() {
        query.push(format!("cart={cart}"));
    }
    if theme != "light" {
        query.push(format!("theme={theme}"));
    }
    if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    }
}

/// A slow Klarna on `path`: each matching request waits `ms` first.
fn slow(shop: &Shop, path: &str, ms: u64) {
    shop.sandbox.set_faults(sandbox::Faults {
        latency_ms: ms,
        path_contains: path.into(),
        ..Default::default()
    });
}

/// Starting, loading Klarna, the form (with a separate shipping address), a field refused,
/// Klarna's dialog, a refused customer, a closed dialog, Klarna down, the confirmation.
async fn purchase_states(theme: &str) {
    let (q, s) = (
        |cart| preset_query(theme, cart),
        |name| format!("{theme}-{name}"),
    );
    let shop = Shop::open().await;
    // Klarna slow to start a session: the skeleton stays up while axe looks at it.
    slow(&shop, "/payments/v1/sessions", 5_000);
    shop.goto_checkout(&q("")).await;
    shop.find(".kc-skeleton").await;
    shop.check(&s("starting"), "Preparing your checkout").await;
    // Klarna's script slow to load: the form with its payment options still loading.
    slow(&shop, "api.js", 5_000);
    shop.goto_checkout(&q("")).await;
    shop.find(".kc-sdk-status:not(.kc-sdk-idle)").await;
    shop.check(&s("loading-klarna"), "").await;
    shop.sandbox.set_faults(sandbox::Faults::default());
    shop.wait_enabled(".kc-buy").await;
    shop.check(&s("form"), "").await;
    shop.click(".kc-same-as-billing").await;
    shop.find(&field_css("shipping_address.given_name")).await;
    shop.check(&s("form-shipping"), "").await;
    shop.click(".kc-same-as-billing").await;
    // Our own rule refuses the postal code: named, marked, focused.
    shop.fill("customer+de+denied@klarna.com", "4146").await;
    shop.click(".kc-buy").await;
    shop.wait_text("[id$='-billing_address-postal_code-error']", "postal code")
        .await;
    shop.check(&s("invalid-fields"), "check the marked fields")
        .await;
    shop.type_into("postal_code", "41460").await;
    shop.click(".kc-buy").await;
    shop.wait_text("#klarna-sandbox-message", "can't approve")
        .await;
    shop.check(&s("klarna-dialog-denied"), "").await;
    shop.click("#klarna-sandbox-close").await;
    shop.wait_text(".kc-notice-area", "can't offer this payment option")
        .await;
    shop.check(&s("rejected"), "can't offer this payment option")
        .await;
    // Another category, an approved customer: Klarna's dialog, then closed.
    shop.type_into("email", "customer+de@klarna.com").await;
    shop.wait_enabled(".kc-buy").await;
    shop.click(".kc-buy").await;
    shop.find("#klarna-sandbox-confirm").await;
    shop.check(&s("klarna-dialog"), "").await;
    shop.click("#klarna-sandbox-close").await;
    shop.wait_text(".kc-notice-area", "You closed Klarna").await;
    shop.check(&s("cancelled"), "You closed Klarna").await;
    // Klarna down when the order is placed: the notice with its Try again.
    shop.sandbox.set_faults(sandbox::Faults {
        fail_next: 1,
        path_contains: "/order".into(),
        ..Default::default()
    });
    shop.wait_enabled(".kc-buy").await;
    shop.buy_and_confirm().await;
    shop.wait_text(".kc-notice-area", "couldn't reach").await;
    shop.check(&s("network-error"), "couldn't reach").await;
    shop.click(".kc-retry").await;
    shop.wait_text(".kc-confirmation", "Thank you").await;
    shop.check(&s("confirmation"), "").await;
    shop.close().await;
}

/// A start that failed, waiting for an approval in the bank's app, a fraud review, and the
/// business form with its company missing.
async fn other_states(theme: &str) {
    let (q, s) = (
        |cart| preset_query(theme, cart),
        |name| format!("{theme}-{name}"),
    );
    let shop = Shop::open().await;
    shop.sandbox.set_faults(sandbox::Faults {
        fail_next: 1,
        path_contains: "/payments/v1/sessions".into(),
        ..Default::default()
    });
    shop.goto_checkout(&q("")).await;
    shop.find(".kc-notice-error").await;
    shop.check(&s("start-failed"), "").await;
    shop.goto_checkout(&q("")).await;
    shop.wait_enabled(".kc-buy").await;
    shop.fill("customer+de+bankapp@klarna.com", "41460").await;
    // Klarna slow to create the order: the page waits for the server's, visibly.
    slow(&shop, "/order", 6_000);
    shop.buy_and_confirm().await;
    shop.wait_text(".kc-confirming", "Klarna approved your payment")
        .await;
    shop.check(&s("confirming"), "Confirming your order").await;
    shop.wait_text(".kc-confirmation", "Thank you").await;
    shop.sandbox.set_faults(sandbox::Faults::default());
    shop.goto_checkout(&q("")).await;
    shop.wait_enabled(".kc-buy").await;
    shop.fill("customer+de+pending@klarna.com", "41460").await;
    shop.buy_and_confirm().await;
    shop.wait_text(".kc-notice-pending", "reviewing").await;
    shop.check(&s("pending-review"), "still reviewing").await;
    shop.goto_checkout(&q("demo-b2b")).await;
    shop.wait_enabled(".kc-buy").await;
    shop.check(&s("b2b-form"), "").await;
    shop.fill("customer+de@klarna.com", "41460").await;
    shop.click(".kc-buy").await;
    shop.wait_text(
        "[id$='-billing_address-organization_name-error']",
        "required",
    )
    .await;
    shop.check(&s("b2b-invalid"), "check the marked fields")
        .await;
    shop.close().await;
}

/// The check itself: an unlabelled field and pale text put into the checkout are reported,
/// with the rule and the element.
#[tokio::test]
async fn axe_reports_an_unlabelled_field_and_low_contrast() {
    let shop = Shop::open().await;
    assert_eq!(shop.axe_report().await, None);
    shop.browser
        .execute(
            "const kc = document.querySelector('klarna-checkout .kc');
             kc.insertAdjacentHTML('afterbegin',
               '<input class=\"unlabelled\"><p class=\"pale\" style=\"color:#bbb;background:#fff\">pale</p>');",
            vec![],
        )
        .await
        .unwrap();
    let report = shop.axe_report().await.expect("violations");
    for needle in [
        "label (critical)",
        ".unlabelled",
        "color-contrast (serious)",
        ".pale",
    ] {
        assert!(report.contains(needle), "{needle} in {report}");
    }
    shop.close().await;
}

#[tokio::test]
async fn every_purchase_state_passes_axe_in_the_light_preset() {
    purchase_states("light").await;
}

#[tokio::test]
async fn every_purchase_state_passes_axe_in_the_dark_preset() {
    purchase_states("dark").await;
}

#[tokio::test]
async fn every_other_checkout_state_passes_axe_in_the_light_preset() {
    other_states("light").await;
}

#[tokio::test]
async fn every_other_checkout_state_passes_axe_in_the_dark_preset() {
    other_states("dark").await;
}

mod bank;
