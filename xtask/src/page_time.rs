//! Time from navigation to an interactive checkout, and the layout shift until then, in headless
//! Chromium with its CPU slowed 4× (DevTools' `Emulation.setCPUThrottlingRate`, through
//! chromedriver's CDP passthrough) for the whole load: issue 11 asks for both, median of 7 runs,
//! and for two builds timed in the same run against the same server binary (`Lab::start` takes
//! one dist per build and serves each on its own port).

use crate::tools::{self, CHROMEDRIVER, CHROMIUM};
use crate::{root, Result};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const RUNS: usize = 7;
/// How much slower than this machine's CPU the page runs (a mid-range phone against a laptop,
/// as Lighthouse's mobile preset).
const CPU_SLOWDOWN: u32 = 4;

/// `CPU_SLOWDOWN`, or `KC_BENCH_CPU_SLOWDOWN` when set (1 = unthrottled, to check that the
/// throttling takes effect).
pub fn cpu_slowdown() -> Result<u32> {
    match std::env::var("KC_BENCH_CPU_SLOWDOWN") {
        Err(_) => Ok(CPU_SLOWDOWN),
        Ok(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=20).contains(n))
            .ok_or_else(|| format!("KC_BENCH_CPU_SLOWDOWN={v:?}: a whole number from 1 to 20")),
    }
}
/// Bound for each server and for chromedriver to answer after their start.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// One page load: milliseconds from navigation start to Buy enabled with Klarna's widget
/// shown, the cumulative layout shift until two frames later, and each shift (time, score,
/// the moved elements).
#[derive(Debug, Clone)]
pub struct Run {
    pub ms: u64,
    pub cls: f64,
    pub shifts: Vec<String>,
}

/// Median, min and max time and the largest CLS over several runs of one build.
pub struct Summary {
    pub median: u64,
    pub min: u64,
    pub max: u64,
    pub max_cls: f64,
}

pub fn summarize(runs: &[Run]) -> Summary {
    let mut ms: Vec<u64> = runs.iter().map(|r| r.ms).collect();
    ms.sort_unstable();
    Summary {
        median: ms.get(ms.len() / 2).copied().unwrap_or_default(),
        min: ms.first().copied().unwrap_or_default(),
        max: ms.last().copied().unwrap_or_default(),
        max_cls: runs.iter().map(|r| r.cls).fold(0.0, f64::max),
    }
}

/// Installed before the page's first script (`Page.addScriptToEvaluateOnNewDocument`): records
/// layout shifts from navigation on (`buffered`), polls every frame for Buy enabled with the
/// widget shown, then lets two more frames render (the widget's own frame is painted and its
/// shift, if any, reported) before it says it is done.
const PROBE: &str = r#"(() => {
  const r = window.__kcBench = { ms: -1, cls: 0, shifts: [], done: false };
  const name = (n) => !n ? "?" : n.nodeType !== 1 ? name(n.parentElement) + " (text)"
    : n.tagName.toLowerCase() + (typeof n.className === "string" && n.className.trim()
      ? "." + n.className.trim().split(/\s+/).join(".") : "");
  const take = (entries) => {
    for (const e of entries) {
      if (e.hadRecentInput) continue;
      r.cls += e.value;
      const moved = (s) => {
        const [a, b] = [s.previousRect, s.currentRect];
        const d = [];
        if (a.x !== b.x) d.push("x " + a.x + "→" + b.x);
        if (a.y !== b.y) d.push("y " + a.y + "→" + b.y);
        if (a.height !== b.height) d.push("h " + a.height + "→" + b.height);
        return name(s.node) + " " + d.join(" ");
      };
      r.shifts.push(Math.round(e.startTime) + " ms: " + e.value.toFixed(4) + " "
        + e.sources.map(moved).join(", "));
    }
  };
  const seen = new PerformanceObserver((list) => take(list.getEntries()));
  seen.observe({ type: "layout-shift", buffered: true });
  const poll = () => {
    const buy = document.querySelector(".kc-buy");
    const widget = document.querySelector(".klarna-sandbox-widget, .kc-widget iframe");
    if (buy && !buy.disabled && widget) {
      r.ms = Math.round(performance.now());
      requestAnimationFrame(() => requestAnimationFrame(() => {
        take(seen.takeRecords());
        seen.disconnect();
        r.done = true;
      }));
    } else if (performance.now() > 30000) {
      r.done = true;
    } else {
      requestAnimationFrame(poll);
    }
  };
  requestAnimationFrame(poll);
})();"#;

/// Waits (after `goto`) for the probe's result.
const COLLECT: &str = r#"
  const done = arguments[0];
  (function wait() {
    const r = window.__kcBench;
    if (!r) done({ error: "the probe did not run on this page" });
    else if (r.done) done({ ms: r.ms, cls: r.cls, shifts: r.shifts });
    else requestAnimationFrame(wait);
  })();"#;

/// A DevTools command sent through chromedriver (`POST /session/{id}/goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        // Only ever issued on a connected client, which has a session.
        let session = session_id.ok_or(url::ParseError::EmptyHost)?;
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// A child process killed when its owner is dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Polls `url` until `ready` accepts the body of a successful answer, the process still
/// running, within `READY_WITHIN`.
async fn until_ready(
    what: &str,
    process: &mut Killed,
    url: &str,
    ready: impl Fn(&str) -> bool,
) -> Result {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        let answer = http
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success());
        if let Some(answer) = answer {
            if answer.text().await.is_ok_and(|body| ready(&body)) {
                return Ok(());
            }
        }
        if let Ok(Some(status)) = process.0.try_wait() {
            return Err(format!("{what} exited before it was ready ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{what} was not ready within {} s",
                READY_WITHIN.as_secs()
            ));
        }
        // Polling the condition above; a refused connection comes back at once.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One server per build (the same binary, `KC_DIST` set to that build's dist, a database of
/// its own) and one chromedriver, all ready.
pub struct Lab {
    sites: Vec<(String, Killed, PathBuf)>,
    driver: String,
    _driver: Killed,
    caps: serde_json::Map<String, Value>,
}

impl Lab {
    pub async fn start(dists: &[PathBuf]) -> Result<Lab> {
        let mut sites = Vec::new();
        for dist in dists {
            let port = free_port()?;
            let db = std::env::temp_dir().join(format!("kc-bench-{port}.sqlite"));
            let mut server = Killed(
                Command::new(crate::target_dir().join("debug/klarna-checkout-server"))
                    .current_dir(root())
                    .env("KC_PORT", port.to_string())
                    .env("KC_DIST", dist)
                    .env("KC_DATABASE", &db)
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("klarna-checkout-server: {e}"))?,
            );
            let url = format!("http://127.0.0.1:{port}");
            until_ready(
                "klarna-checkout-server",
                &mut server,
                &format!("{url}/api/health"),
                |_| true,
            )
            .await?;
            sites.push((url, server, db));
        }
        let driver_port = free_port()?;
        let mut driver = Killed(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={driver_port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("{CHROMEDRIVER}: {e}"))?,
        );
        let driver_url = format!("http://127.0.0.1:{driver_port}");
        until_ready(
            "chromedriver",
            &mut driver,
            &format!("{driver_url}/status"),
            |body| serde_json::from_str::<Value>(body).is_ok_and(|v| v["value"]["ready"] == true),
        )
        .await?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": tools::chromium_args()}),
        );
        Ok(Lab {
            sites,
            driver: driver_url,
            _driver: driver,
            caps,
        })
    }

    /// One fresh browser (no cache) loading the checkout of build `site`, throttled from its
    /// first byte on.
    pub async fn run(&self, site: usize, slowdown: u32) -> Result<Run> {
        let url = &self.sites[site].0;
        let client = fantoccini::ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(self.caps.clone())
        .connect(&self.driver)
        .await
        .map_err(|e| format!("chromedriver session: {e}"))?;
        let result = measure(&client, url, slowdown).await;
        let closed = client.close().await.map_err(|e| e.to_string());
        let run = result?;
        closed?;
        Ok(run)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (_, server, db) in self.sites.drain(..) {
            drop(server);
            let _ = std::fs::remove_file(db);
        }
    }
}

async fn measure(client: &fantoccini::Client, url: &str, slowdown: u32) -> Result<Run> {
    for (cmd, params) in [
        (
            "Emulation.setCPUThrottlingRate",
            json!({ "rate": slowdown }),
        ),
        (
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": PROBE }),
        ),
    ] {
        client
            .issue_cmd(Cdp { cmd, params })
            .await
            .map_err(|e| format!("{cmd} through chromedriver: {e}"))?;
    }
    client
        .goto(&format!("{url}/"))
        .await
        .map_err(|e| e.to_string())?;
    let answer = client
        .execute_async(COLLECT, vec![])
        .await
        .map_err(|e| e.to_string())?;
    if let Some(error) = answer["error"].as_str() {
        return Err(error.into());
    }
    let ms = answer["ms"].as_i64().unwrap_or(-1);
    if ms < 0 {
        return Err("the checkout did not become interactive within 30 s".into());
    }
    Ok(Run {
        ms: ms as u64,
        cls: answer["cls"].as_f64().unwrap_or_default(),
        shifts: answer["shifts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    })
}
