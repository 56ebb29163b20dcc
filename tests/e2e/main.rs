//! End-to-end: the release build (the one `cargo xtask demo` serves) in headless Chromium,
//! against the real server and the sandbox, clicked through as a shopper would.
#![cfg(not(target_arch = "wasm32"))]

mod a11y;
mod bank;
mod checkout;
mod consent;
mod embedding;
mod keyboard;
mod languages;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use server::config::Config;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
/// 2026-06-15T10:00:00Z: the bookkeeper's "today" (the server's clock, which in sandbox mode is
/// Klarna's too), so the bank's history and the consent read the same on any day the tests run.
pub(crate) const JUNE_15: i64 = 1_781_517_600;

pub(crate) struct Shop {
    pub(crate) browser: Client,
    pub(crate) server: server::Running,
    pub(crate) sandbox: sandbox::Sandbox,
    _driver: Driver,
    _db: Database,
}

/// The test's SQLite database, deleted with its `-wal` and `-shm` files however the test ends.
struct Database(PathBuf);

impl Drop for Database {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Our chromedriver, the Chromium it starts, and that Chromium's profile directory.
///
/// A test ends by dropping its `Shop`, which cannot wait for WebDriver's polite "delete session".
/// Killing chromedriver alone left each Chromium's profile behind (about 100 MB in the temporary
/// directory per test, and CI runs on a shared disk), so chromedriver gets a process group of its
/// own, the whole group is killed, and the profile directory is ours to delete.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Driver {
    fn start(chromedriver: &str, port: u16) -> Driver {
        use std::os::unix::process::CommandExt;
        let profile = std::env::temp_dir().join(format!("kc-e2e-chromium-{port}"));
        let _ = std::fs::remove_dir_all(&profile);
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        Driver { child, profile }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The checkout's field for a wire path (`billing_address.city`): fields have no fixed ids
/// (several checkouts may share a page), but carry their path in `data-kc-field`.
pub(crate) fn field_css(path: &str) -> String {
    format!("[data-kc-field='{path}']")
}

fn dist() -> PathBuf {
    std::env::var_os("KC_E2E_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist"))
}

impl Shop {
    pub(crate) async fn open() -> Shop {
        Shop::open_with(|_| {}).await
    }

    /// [`Shop::open`] on a server whose sandbox configuration `configure` changes first.
    pub(crate) async fn open_with(configure: impl FnOnce(&mut Config)) -> Shop {
        let dist = dist();
        assert!(
            dist.join("index.html").exists(),
            "{} has no build; run `cargo xtask test` (it builds with `trunk build --release` first)",
            dist.display()
        );
        let db = std::env::temp_dir().join(format!("kc-e2e-{}.sqlite", free_port()));
        let mut config = Config::sandbox(dist, db.clone());
        config.listen = "127.0.0.1:0".parse().unwrap();
        configure(&mut config);
        let server = server::spawn(config).await.unwrap();
        let sandbox = server.sandbox.clone().unwrap();

        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        // Tests run in parallel: a port found free may be taken by another test's chromedriver
        // before ours binds it. Ours then exits without saying it started, and a session opened
        // on that port would be the other test's, ending when that test does ("webdriver could
        // not be reached"). So we wait for our own chromedriver to say it listens (its stdout,
        // not a sleep), and take another port when it exits instead.
        let mut started = None;
        for _ in 0..5 {
            let port = free_port();
            let mut ours = Driver::start(&chromedriver, port);
            let stdout = ours.child.stdout.take().expect("chromedriver's stdout");
            let (said, listening) = tokio::sync::oneshot::channel();
            // Reads to the end, so chromedriver never writes into a closed pipe later.
            std::thread::spawn(move || {
                use std::io::BufRead;
                let mut said = Some(said);
                for line in std::io::BufReader::new(stdout)
                    .lines()
                    .map_while(Result::ok)
                {
                    if line.contains("started successfully") {
                        if let Some(said) = said.take() {
                            let _ = said.send(());
                        }
                    }
                }
            });
            let listening = tokio::time::timeout(Duration::from_secs(30), listening).await;
            if matches!(listening, Ok(Ok(()))) {
                started = Some((ours, port));
                break;
            }
        }
        let (driver, port) = started.expect("chromedriver did not start");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({"binary": "/usr/bin/chromium", "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1200,1000",
                format!("--user-data-dir={}", driver.profile.display())]}),
        );
        let browser = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a session of our chromedriver");
        browser.goto(&server.url()).await.unwrap();
        let shop = Shop {
            browser,
            server,
            sandbox,
            _driver: driver,
            _db: Database(db),
        };
        shop.wait_enabled(".kc-buy").await;
        shop
    }

    pub(crate) async fn close(self) {
        let _ = self.browser.close().await;
        self.server.task.abort();
    }

    pub(crate) async fn find(&self, css: &str) -> Element {
        self.browser
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    pub(crate) async fn wait_enabled(&self, css: &str) {
        let el = self.find(css).await;
        for _ in 0..300 {
            if el.is_enabled().await.unwrap_or(false) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never became enabled");
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// How many elements match now, without waiting for one to appear.
    pub(crate) async fn count(&self, css: &str) -> usize {
        self.browser
            .find_all(Locator::Css(css))
            .await
            .map_or(0, |found| found.len())
    }

    pub(crate) async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub(crate) async fn type_into(&self, field: &str, value: &str) {
        self.type_field(&format!("billing_address.{field}"), value)
            .await;
    }

    /// Types into the field whose wire path is `field` (`customer.vat_id`).
    pub(crate) async fn type_field(&self, field: &str, value: &str) {
        self.type_in("", field, value).await;
    }

    /// Types into the field `field` of the checkout under the CSS `scope` (`""`: the first).
    pub(crate) async fn type_in(&self, scope: &str, field: &str, value: &str) {
        let el = self.find(&format!("{scope} {}", field_css(field))).await;
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    pub(crate) async fn fill(&self, email: &str, postal_code: &str) {
        self.fill_in("", email, postal_code).await;
    }

    /// [`Shop::fill`] for the checkout under the CSS `scope`.
    pub(crate) async fn fill_in(&self, scope: &str, email: &str, postal_code: &str) {
        for (field, value) in [
            ("given_name", "Testperson-de"),
            ("family_name", "Approved"),
            ("email", email),
            ("street_address", "Hellersbergstraße 14"),
            ("postal_code", postal_code),
            ("city", "Neuss"),
        ] {
            self.type_in(scope, &format!("billing_address.{field}"), value)
                .await;
        }
    }

    /// Buy, then confirm in Klarna's (sandbox) dialog.
    pub(crate) async fn buy_and_confirm(&self) {
        self.click(".kc-buy").await;
        self.click("#klarna-sandbox-confirm").await;
    }

    pub(crate) async fn order_id(&self) -> String {
        self.text(".kc-order-id").await
    }

    /// Saves a screenshot when `KC_SCREENSHOTS` names a directory, to look at each state as a
    /// shopper sees it (`KC_SCREENSHOTS=target/screenshots cargo xtask test`).
    pub(crate) async fn snap(&self, name: &str) {
        let Some(dir) = std::env::var_os("KC_SCREENSHOTS") else {
            return;
        };
        let dir = PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.browser.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }

    /// Waits until `css` shows text containing `needle` (the page updates after Klarna's
    /// callbacks and our server's answers, not at once), and returns it.
    pub(crate) async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..200 {
            last = self.text(css).await;
            if last.contains(needle) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never said {needle:?}; it says {last:?}");
    }

    /// Waits until the JavaScript expression `condition` holds: the page checks it itself on
    /// every animation frame, within WebDriver's script timeout (30 s).
    pub(crate) async fn wait_until_js(&self, what: &str, condition: &str) {
        let script = format!(
            "const done = arguments[0];
             (function check() {{ if ({condition}) done(true); else requestAnimationFrame(check); }})();"
        );
        let held = self.browser.execute_async(&script, vec![]).await;
        assert!(held.is_ok(), "never true: {what}: {held:?}");
    }

    /// Waits until nothing matches `css` any more: the page itself reports it, from a
    /// MutationObserver, within WebDriver's script timeout (30 s).
    pub(crate) async fn wait_gone(&self, css: &str) {
        let gone = self
            .browser
            .execute_async(
                "const [css, done] = arguments;
                 if (!document.querySelector(css)) return done(true);
                 const seen = new MutationObserver(() => {
                   if (!document.querySelector(css)) { seen.disconnect(); done(true); }
                 });
                 seen.observe(document.body, { childList: true, subtree: true });",
                vec![serde_json::json!(css)],
            )
            .await;
        assert!(gone.is_ok(), "{css} is still there: {gone:?}");
    }

    /// What has focus: a field's wire path (checkout or bank page), the button `kc-buy`,
    /// `kc-continue` or `kc-check-again` (by class: neither component has fixed ids),
    /// `category:<id>`, `heading` (one without an id), or an element's id.
    pub(crate) async fn focused_id(&self) -> String {
        let v = self
            .browser
            .execute(
                "const e = document.activeElement; if (!e) return '';
                 if (e.dataset && e.dataset.kcField) return e.dataset.kcField;
                 for (const c of ['kc-buy', 'kc-continue', 'kc-check-again'])
                   if (e.classList.contains(c)) return c;
                 if (e.type === 'radio') return 'category:' + e.value;
                 if (/^H[1-6]$/.test(e.tagName) && !e.id) return 'heading';
                 return e.id;",
                vec![],
            )
            .await
            .unwrap();
        v.as_str().unwrap_or_default().to_string()
    }
}
