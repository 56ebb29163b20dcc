//! The bookkeeper's bank page in headless Chromium (wasm-bindgen-test; its own bundle, here
//! through the same crate): signing in, the start date, syncing and the transactions, and the
//! XS2A launcher's endings, against a fake of our server and of Klarna's launcher.
#![cfg(all(target_arch = "wasm32", feature = "bank-link"))]

use bank_fake::*;
use browser::until;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod bank_fake;
mod browser;
mod texts;

#[wasm_bindgen_test]
async fn a_german_bank_page_speaks_german_and_asks_the_server_in_german() {
    fake_bank_server(
        409,
        r#"{"code":"link_failed","message":"Die Einwilligung bei der Bank ist abgelaufen."}"#,
    );
    // Written the way some back offices do; the page uses `de-DE`.
    let root = mount_bank_page("de_DE").await;
    assert!(text("h2").contains("Anmelden"), "{}", text("h2"));
    sign_in_as_bookkeeper().await;
    let card = text(".kc-bank-card");
    assert!(card.contains("läuft in 90 Tagen ab"), "{card}");
    assert!(card.contains("1.234,56"), "German money: {card}");
    assert!(text(".kc-continue").contains("Weiter zu Ihrer Bank"));
    click(".kc-sync");
    until("the server's reason", || {
        text(".kc-notice-area").contains("abgelaufen")
    })
    .await;
    // Every call carried the page's language; state-changing ones after sign-in the CSRF token.
    let sent = requests();
    assert!(sent.iter().all(|r| r.contains("lang=de-DE")), "{sent:?}");
    assert!(
        sent.contains(&"POST /api/accounts/a-1/sync lang=de-DE csrf=csrf-1".to_string()),
        "{sent:?}"
    );
    root.remove();
}

/// "Today" is the server's date (UTC), never the browser's: just after midnight on New Year's
/// Day east of UTC, the browser's calendar is already in 2027 while the server's (and the
/// bank's checks) are still on 31 December 2026. The page must offer 2026's start and no day
/// after the server's today, or the default link would be refused as "in the future".
#[wasm_bindgen_test]
async fn the_start_date_follows_the_servers_today_not_the_browsers() {
    fake_bank_server(200, "{}");
    js_sys::eval(
        r#"
        window.__kc_routes["POST /api/auth/sign-in"] =
          [200, '{"user":"bookkeeper","csrf_token":"csrf-1","today":"2026-12-31"}'];
        window.__kc_real_date = window.Date;
        // The browser's clock: 1 January 2027, 00:30 on its local calendar.
        window.Date = class extends window.__kc_real_date {
          constructor(...args) {
            if (args.length) { super(...args); } else { super(2027, 0, 1, 0, 30); }
          }
          static now() { return new window.Date().getTime(); }
        };
        "#,
    )
    .unwrap();
    let root = mount_bank_page("de-DE").await;
    sign_in_as_bookkeeper().await;
    let start = attr("[data-kc-field='start_date']", "max");
    let value: web_sys::HtmlInputElement = document()
        .query_selector("[data-kc-field='start_date']")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let value = value.value();
    js_sys::eval("window.Date = window.__kc_real_date;").unwrap();
    root.remove();
    assert_eq!(
        start.as_deref(),
        Some("2026-12-31"),
        "the latest start date"
    );
    assert_eq!(value, "2026-01-01", "the default start date");
}

#[wasm_bindgen_test]
async fn an_expired_sign_in_leads_back_to_sign_in_keeping_the_link_form() {
    fake_bank_server(
        401,
        r#"{"code":"sign_in_required","message":"Please sign in (again)."}"#,
    );
    let root = mount_bank_page("en-DE").await;
    sign_in_as_bookkeeper().await;
    type_in("[data-kc-field='company']", "Nordlicht Outdoor GmbH");
    click(".kc-sync");
    until("the sign-in form", || exists(".kc-sign-in")).await;
    assert!(text(".kc-notice-area").contains("sign-in has expired"));
    assert!(!exists("[data-kc-field='company']"));
    sign_in_as_bookkeeper().await;
    let company: web_sys::HtmlInputElement = document()
        .query_selector("[data-kc-field='company']")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(company.value(), "Nordlicht Outdoor GmbH");
    root.remove();
}

/// The server runs the sync; the page polls it. A poll the server refuses (the sign-in ran out
/// meanwhile) ends the polling with its reason, instead of polling every 300 ms for ever with
/// the bank's Sync buttons disabled.
#[wasm_bindgen_test]
async fn a_refused_progress_poll_ends_the_polling_and_says_why() {
    fake_bank_server(
        202,
        r#"{"running":true,"pages":0,"fetched":0,"added":0,"from_date":"2026-01-01","to_date":"2026-06-15"}"#,
    );
    js_sys::eval(
        r#"window.__kc_routes["GET /api/accounts/a-1/sync"] =
             [401, '{"code":"sign_in_required","message":"Please sign in (again)."}'];"#,
    )
    .unwrap();
    let root = mount_bank_page("en-DE").await;
    sign_in_as_bookkeeper().await;
    click(".kc-sync");
    until("the sign-in form", || exists(".kc-sign-in")).await;
    assert!(text(".kc-notice-area").contains("sign-in has expired"));
    let polls = requests()
        .iter()
        .filter(|r| r.starts_with("GET /api/accounts/a-1/sync"))
        .count();
    root.remove();
    assert_eq!(polls, 1, "polled once, then stopped");
}

#[wasm_bindgen_test]
async fn pending_transactions_are_shown_apart_from_the_booked_ones_and_marked() {
    fake_bank_server(
        200,
        r#"{"running":false,"pages":1,"fetched":4,"added":1,"skipped":1,"from_date":"2026-06-01","to_date":"2026-06-15"}"#,
    );
    js_sys::eval(
        r#"window.__kc_routes["GET /api/accounts/a-1/transactions"] = [200, '[{"booking_date":"2026-06-12","amount":-1999,"currency":"EUR","counterparty":"Stadtwerke Musterstadt","reference":"Abschlag Strom"}]'];
           window.__kc_routes["GET /api/accounts/a-1/transactions/pending"] = [200, '[{"date":"2026-06-15","amount":-2340,"currency":"EUR","counterparty":"REWE Markt GmbH","reference":"REWE SAGT DANKE"}]'];"#,
    )
    .unwrap();
    let root = mount_bank_page("en-DE").await;
    sign_in_as_bookkeeper().await;
    click(".kc-sync");
    until("the pending transactions", || exists(".kc-pending")).await;
    until("the booked transactions", || {
        exists(".kc-transactions:not(.kc-pending)")
    })
    .await;
    let pending = text(".kc-pending");
    assert!(pending.contains("Pending, not booked yet"), "{pending}");
    assert!(
        pending.contains("REWE Markt GmbH") && pending.contains("23.40"),
        "{pending}"
    );
    assert!(!pending.contains("Stadtwerke"), "{pending}");
    let mark = text(".kc-pending-transaction .kc-pending-mark");
    assert_eq!(mark, "pending", "each pending row is marked");
    assert!(text(".kc-pending-help").contains("not in the books or the CSV export"));
    let booked = text(".kc-transactions:not(.kc-pending)");
    assert!(booked.contains("Stadtwerke Musterstadt"), "{booked}");
    assert!(!booked.contains("REWE"), "never among the booked: {booked}");
    // One the server could not read was left out, and the page says so.
    assert!(
        text(".kc-sync-unreadable").contains("left out"),
        "{}",
        text(".kc-sync-row")
    );
    root.remove();
}

/// Records the bank page's DOM events, as a back office listening on `document` hears them.
fn record_bank_events() {
    js_sys::eval(
        "window.__kc_events = [];
         if (!window.__kc_listening) {
           window.__kc_listening = true;
           ['linked', 'synced', 'exit', 'error'].forEach(function (n) {
             document.addEventListener('klarna-bank-link:' + n, function (e) {
               window.__kc_events.push(n + ' ' + JSON.stringify(e.detail));
             });
           });
         }",
    )
    .unwrap();
}

/// A stand-in for Klarna's XS2A app launcher that keeps the options `startFlow` got, so a
/// test can play its callbacks.
fn fake_launcher() {
    js_sys::eval(
        "window.XS2A = { startFlow: function (token, options) { window.__kc_flow = options; },
                         close: function () { window.__kc_closed = true; } };",
    )
    .unwrap();
}

/// A signed-in bank page that has just pressed Continue: the fake launcher holds the flow.
/// Syncing answers `sync_status` with `sync_body`.
async fn bank_page_in_the_launcher(sync_status: u16, sync_body: &str) -> web_sys::HtmlElement {
    fake_bank_server(sync_status, sync_body);
    fake_launcher();
    record_bank_events();
    let root = mount_bank_page("en-DE").await;
    sign_in_as_bookkeeper().await;
    type_in("[data-kc-field='company']", "Nordlicht Outdoor GmbH");
    click(".kc-continue");
    until("the launcher", || {
        js_sys::eval("!!window.__kc_flow").unwrap().is_truthy()
    })
    .await;
    root
}

/// What the fake server answers for the link's ending from now on.
fn answer_ending(status: u16, body: &str) {
    let script = format!(
        "window.__kc_routes['POST /api/bank-links/l-1/end'] = [{status}, {}];",
        String::from(js_sys::JSON::stringify(&body.into()).unwrap())
    );
    js_sys::eval(&script).unwrap();
}

/// The endings the page reported, as `{"ending": …}` bodies.
fn endings_sent() -> Vec<String> {
    recorded("window.__kc_bodies")
        .into_iter()
        .filter_map(|b| {
            b.strip_prefix("/api/bank-links/l-1/end ")
                .map(str::to_string)
        })
        .collect()
}

#[wasm_bindgen_test]
async fn the_launchers_progress_shows_and_a_window_that_just_closes_is_reported() {
    let root = bank_page_in_the_launcher(200, "{}").await;
    assert!(text(".kc-continue").contains("Opening your bank"));
    js_sys::eval("window.__kc_flow.onLoad(); window.__kc_flow.onReady();").unwrap();
    until("the launcher's progress on the button", || {
        text(".kc-continue").contains("Continue in your bank's window")
    })
    .await;
    assert!(text(".kc-link-status").contains("Continue in your bank's window"));
    // The window goes away without onAbort or onFinished: the page reports it and shows what
    // the server read from Klarna (here: the flow was aborted), not left waiting.
    answer_ending(
        422,
        r#"{"code":"link_aborted","message":"You closed the bank's window. Nothing was linked."}"#,
    );
    js_sys::eval("window.__kc_flow.onClose();").unwrap();
    until("the server's answer", || {
        text(".kc-notice-area").contains("You closed the bank's window")
    })
    .await;
    assert_eq!(
        recorded("window.__kc_events"),
        [r#"exit {"reason":"aborted"}"#]
    );
    assert!(text(".kc-continue").contains("Continue to your bank"));
    assert_eq!(endings_sent(), [r#"{"ending":"closed"}"#]);
    assert!(
        !exists(".kc-check-again"),
        "the link is closed: nothing to check"
    );
    js_sys::eval("delete window.XS2A; delete window.__kc_flow;").unwrap();
    root.remove();
}

#[wasm_bindgen_test]
async fn on_close_before_on_finished_still_links_the_bank() {
    let root = bank_page_in_the_launcher(200, "{}").await;
    js_sys::eval("window.__kc_flow.onClose(); window.__kc_flow.onFinished();").unwrap();
    until("the linked event", || {
        recorded("window.__kc_events")
            .iter()
            .any(|e| e.starts_with("linked "))
    })
    .await;
    browser::drained().await;
    assert_eq!(endings_sent(), [r#"{"ending":"closed"}"#], "one report");
    assert_eq!(recorded("window.__kc_events").len(), 1);
    assert!(!text(".kc-notice-area").contains("closed"));
    js_sys::eval("delete window.XS2A; delete window.__kc_flow; delete window.__kc_closed;")
        .unwrap();
    root.remove();
}

#[wasm_bindgen_test]
async fn check_again_is_offered_while_the_bank_confirms_and_an_argumentless_error_closes() {
    let root = bank_page_in_the_launcher(200, "{}").await;
    answer_ending(
        409,
        r#"{"code":"link_not_finished","message":"Your bank has not confirmed the link yet. Check again in a moment."}"#,
    );
    js_sys::eval("window.__kc_flow.onFinished();").unwrap();
    until("check again", || exists(".kc-check-again")).await;
    assert!(text(".kc-notice-area").contains("not confirmed the link yet"));
    answer_ending(200, &LINKED_BANK[1..LINKED_BANK.len() - 1]);
    click(".kc-check-again");
    until("the linked event", || {
        recorded("window.__kc_events")
            .iter()
            .any(|e| e.starts_with("linked "))
    })
    .await;
    assert!(!exists(".kc-check-again"));
    assert_eq!(
        endings_sent(),
        [r#"{"ending":"finished"}"#, r#"{"ending":"finished"}"#]
    );
    // A second link: the launcher calls onError() without an argument.
    js_sys::eval("delete window.__kc_flow; window.__kc_bodies = [];").unwrap();
    answer_ending(
        422,
        r#"{"code":"link_failed","message":"The bank's window stopped with an error. Nothing was linked; please start again."}"#,
    );
    click(".kc-continue");
    until("the launcher", || {
        js_sys::eval("!!window.__kc_flow").unwrap().is_truthy()
    })
    .await;
    js_sys::eval("window.__kc_flow.onError();").unwrap();
    until("the server's reason", || {
        text(".kc-notice-area").contains("stopped with an error")
    })
    .await;
    assert_eq!(endings_sent(), [r#"{"ending":"error"}"#]);
    assert!(
        !exists(".kc-check-again"),
        "the server closed it: no way to finish"
    );
    js_sys::eval("delete window.XS2A; delete window.__kc_flow; delete window.__kc_closed;")
        .unwrap();
    root.remove();
}

#[wasm_bindgen_test]
async fn a_finished_link_tells_the_back_office_and_a_refused_sync_says_why() {
    let root = bank_page_in_the_launcher(
        409,
        r#"{"code":"link_failed","message":"The consent at the bank has expired."}"#,
    )
    .await;
    js_sys::eval("window.__kc_flow.onFinished();").unwrap();
    until("the linked event", || {
        recorded("window.__kc_events")
            .iter()
            .any(|e| e.starts_with("linked "))
    })
    .await;
    let linked = recorded("window.__kc_events").join("\n");
    assert!(
        linked.contains("Demo Bank") && linked.contains("DE•••• 3000"),
        "{linked}"
    );
    // Enough to refer to the bank; no balances or holder names in an event.
    assert!(
        !linked.contains("balance") && !linked.contains("holder_name"),
        "{linked}"
    );
    assert!(
        js_sys::eval("!!window.__kc_closed").unwrap().is_truthy(),
        "XS2A.close() called"
    );
    click(".kc-sync");
    until("the error event", || {
        recorded("window.__kc_events").contains(&r#"error {"code":"link_failed"}"#.to_string())
    })
    .await;
    assert!(text(".kc-notice-area").contains("consent at the bank has expired"));
    js_sys::eval("delete window.XS2A; delete window.__kc_flow; delete window.__kc_closed;")
        .unwrap();
    root.remove();
}
