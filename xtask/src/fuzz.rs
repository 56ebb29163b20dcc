//! `cargo xtask fuzz` (and a counted step of `cargo xtask test`): schemathesis generates
//! requests from the server's own OpenAPI document (`/api/openapi.json`) and fails on any
//! server error (5xx), on an answer the document does not describe, and (our check in
//! `xtask/schemathesis/hooks.py`) on a 4xx that is not our error body naming the input.
//!
//! The server runs on the sandbox as its own process, on a fresh SQLite file in a scratch
//! directory, with its rate limits raised (fuzzing is one fast client), a merchant API key
//! from its `api-key create` subcommand and a signed-in bookkeeper, so the merchant and banking
//! routes are fuzzed past their credentials. schemathesis lives in its own virtual environment
//! under `~/.cache/klarna-checkout/`, at a pinned version; the run is bounded in examples per
//! operation and, as a guard, in wall time.

use crate::{root, target_dir, tools, Result};
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The schemathesis release the step is written against (its CLI and check API).
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// Test cases per operation and phase: enough to reach every refusal, small enough for 2 cores.
const MAX_EXAMPLES: u32 = 25;
/// A fixed seed: the same requests on every run, so a failure reproduces.
const SEED: u32 = 8_2025;
/// The whole run ends by then, or fails.
const TIME_LIMIT: Duration = Duration::from_secs(240);
/// How long the fresh server may take to answer.
const READY_WITHIN: Duration = Duration::from_secs(30);
const BOOKKEEPER: &str = "schemathesis";
/// `KC_HOOK_SECRET`, given to schemathesis too, so Klarna's hooks are fuzzed past their 404.
const HOOK_SECRET: &str = "fuzzhooksecret0123456789";
/// The sandbox's bookkeeper password (`config::SANDBOX_BOOKKEEPER_PASSWORD`).
const SANDBOX_PASSWORD: &str = "sandbox-password";

/// How much to generate: `cargo xtask test` uses the defaults; `cargo xtask fuzz
/// [--max-examples N] [--seed N]` explores further.
pub struct Bounds {
    pub max_examples: u32,
    pub seed: u32,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            max_examples: MAX_EXAMPLES,
            seed: SEED,
        }
    }
}

impl Bounds {
    pub fn from_args(args: &[String]) -> Result<Bounds> {
        let mut bounds = Bounds::default();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args.next().and_then(|v| v.parse().ok());
            match (flag.as_str(), value) {
                ("--max-examples", Some(n)) if n > 0 => bounds.max_examples = n,
                ("--seed", Some(n)) => bounds.seed = n,
                _ => return Err("usage: cargo xtask fuzz [--max-examples N] [--seed N]".into()),
            }
        }
        Ok(bounds)
    }
}

/// Installs schemathesis if needed, then fuzzes a fresh server.
pub fn run(bounds: &Bounds) -> Result {
    let schemathesis = ensure_schemathesis()?;
    crate::run(Command::new("cargo").args(["build", "--quiet", "-p", "server"]))?;
    let scratch = Scratch::new()?;
    let database = scratch.0.join("fuzz.sqlite");
    let key = create_api_key(&database)?;
    let server = Server::start(&scratch, &database)?;
    let (cookie, csrf) = sign_in(server.port)?;
    // A real registered cart, session, order and customer token (and the hook secret), so the
    // routes that take them get past "not found": the cart asks for a token, so its order has
    // one.
    let cart = registered_cart(server.port, &key)?;
    let (session, order) = placed_order(server.port, &cart)?;
    let token = customer_token(server.port, &key, &order)?;
    let config = scratch.0.join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            "[parameters]\n\"path.session\" = \"{session}\"\n\"path.order_id\" = \"{order}\"\n\
             \"path.secret\" = \"{HOOK_SECRET}\"\n\"path.cart\" = \"{cart}\"\n\
             \"path.customer_token\" = \"{token}\"\n"
        ),
    )
    .map_err(|e| format!("{}: {e}", config.display()))?;
    let base = format!("http://127.0.0.1:{}", server.port);
    let started = Instant::now();
    let mut cmd = Command::new(schemathesis);
    cmd.arg("--config-file")
        .arg(&config)
        .args(["run", &format!("{base}/api/openapi.json")])
        .args(["--url", &base])
        .args(["--checks", "all"])
        // Of "all", left out: the resource checks (`use_after_free`, `ensure_resource_availability`,
        // `object_level_authorization`) assume resources the fuzzer creates and deletes, which
        // ours are not (orders come from Klarna; one merchant key sees every order by design);
        // the data-acceptance checks would need every rule (Klarna's address rules, known carts)
        // in the schema; `allow_header_conformance` wants an `Allow` header on 405s.
        .args([
            "--exclude-checks",
            "use_after_free,ensure_resource_availability,negative_data_rejection,\
             positive_data_acceptance,object_level_authorization,\
             allow_header_conformance",
        ])
        // Signing out would end the bookkeeper's session the banking routes are fuzzed with
        // (tests/bank_links.rs and tests/instances.rs cover it).
        .args(["--exclude-path", "/api/auth/sign-out"])
        .args(["--max-examples", &bounds.max_examples.to_string()])
        .args(["--seed", &bounds.seed.to_string()])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--workers", "2"])
        .args(["--request-timeout", "20"])
        .args(["--suppress-health-check", "all"])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--header", &format!("Cookie: kc_bookkeeper={cookie}")])
        .args(["--header", &format!("X-CSRF-Token: {csrf}")])
        .env(
            "SCHEMATHESIS_HOOKS",
            root().join("xtask/schemathesis/hooks.py"),
        )
        .env("NO_COLOR", "1")
        .current_dir(&scratch.0);
    println!(
        "xtask: schemathesis {SCHEMATHESIS_VERSION} against {base} (server log: fuzz-server.log)"
    );
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start schemathesis: {e}"))?;
    let status = wait_at_most(&mut child, TIME_LIMIT)?;
    let secs = started.elapsed().as_secs();
    server.show_errors();
    match status {
        Some(s) if s.success() => {
            println!("schemathesis: 1 passed, 0 failed (no server error, every answer as documented, {secs} s)");
            Ok(())
        }
        Some(s) => {
            println!("schemathesis: 0 passed, 1 failed ({s}, {secs} s)");
            Err(format!("schemathesis found failures ({s})"))
        }
        None => {
            println!(
                "schemathesis: 0 passed, 1 failed (over {} s)",
                TIME_LIMIT.as_secs()
            );
            Err(format!(
                "schemathesis did not finish within {} s",
                TIME_LIMIT.as_secs()
            ))
        }
    }
}

/// `~/.cache/klarna-checkout/schemathesis-venv` (`XDG_CACHE_HOME` when set).
fn venv_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| target_dir().join("cache"));
    cache.join("klarna-checkout/schemathesis-venv")
}

/// The venv's `schemathesis` at [`SCHEMATHESIS_VERSION`], installed from PyPI when missing.
fn ensure_schemathesis() -> Result<PathBuf> {
    let venv = venv_dir();
    let bin = venv.join("bin/schemathesis");
    if installed_version(&bin).as_deref() == Some(SCHEMATHESIS_VERSION) {
        return Ok(bin);
    }
    let make_venv = || crate::run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    if !venv.join("bin/pip").exists() && make_venv().is_err() {
        if !tools::is_root() {
            return Err("python3 -m venv failed: install Debian's python3-venv".into());
        }
        // Debian's python3 leaves `venv` to a package of its own.
        crate::run(Command::new("apt-get").args(["install", "-y", "python3-venv"]))?;
        make_venv()?;
    }
    crate::run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("schemathesis=={SCHEMATHESIS_VERSION}")),
    )?;
    match installed_version(&bin) {
        Some(v) if v == SCHEMATHESIS_VERSION => Ok(bin),
        other => Err(format!(
            "schemathesis {SCHEMATHESIS_VERSION} did not install (found {other:?})"
        )),
    }
}

/// `schemathesis, version 4.32.5` → `4.32.5`.
fn installed_version(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .rsplit(' ')
        .next()
        .map(str::to_string)
        .filter(|v| !v.is_empty())
}

fn server_binary() -> PathBuf {
    target_dir().join("debug/klarna-checkout-server")
}

/// The server's environment: nothing from the caller's may point it elsewhere.
fn server_command(database: &Path) -> Command {
    let mut cmd = Command::new(server_binary());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("KC_") || key.starts_with("KLARNA_") {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.env("KC_MODE", "sandbox").env("KC_DATABASE", database);
    cmd
}

/// A key from `klarna-checkout-server api-key create`, whose `key: …` line shows it once.
fn create_api_key(database: &Path) -> Result<String> {
    let out = server_command(database)
        .args(["api-key", "create", "schemathesis"])
        .output()
        .map_err(|e| format!("could not start the server's api-key create: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("key: "))
        .map(|k| k.trim().to_string())
        .filter(|_| out.status.success())
        .ok_or_else(|| {
            format!(
                "api-key create failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// A scratch directory (database, empty dist, logs), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!("kc-fuzz-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("dist")).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server on a free port, killed and reaped on drop.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(scratch: &Scratch, database: &Path) -> Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("finding a free port: {e}"))?;
        let log = scratch.0.join("fuzz-server.log");
        let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let file2 = file.try_clone().map_err(|e| e.to_string())?;
        let child = server_command(database)
            .env("KC_HOST", "127.0.0.1")
            .env("KC_PORT", port.to_string())
            .env("KC_DIST", scratch.0.join("dist"))
            .env("KC_BOOKKEEPER_USER", BOOKKEEPER)
            .env("KC_HOOK_SECRET", HOOK_SECRET)
            // One fast client: the limits would answer 429 to most of the run.
            .env("KC_RATE_SESSIONS_PER_MIN", "1000000")
            .env("KC_RATE_ORDERS_PER_MIN", "1000000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(file2))
            .spawn()
            .map_err(|e| format!("could not start the server: {e}"))?;
        let mut server = Server { child, port, log };
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if http(port, "GET", "/api/health", &[], "").is_ok_and(|(status, ..)| status == 200) {
                return Ok(server);
            }
            let exited = server.child.try_wait().ok().flatten().is_some();
            if exited || Instant::now() > deadline {
                server.show_errors();
                return Err(format!(
                    "the server did not answer /api/health within {} s",
                    READY_WITHIN.as_secs()
                ));
            }
            // Polling the condition above; a refused connection comes back at once.
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The server's errors and warnings (a 5xx is logged with its support id).
    fn show_errors(&self) {
        if let Ok(text) = std::fs::read_to_string(&self.log) {
            for line in text.lines().filter(|l| l.contains("ERROR")).take(40) {
                eprintln!("server log: {line}");
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on a fresh connection: status, headers, body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reader = std::io::BufReader::new(stream);
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .map_err(|e| e.to_string())?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no HTTP answer: {status_line:?}"))?;
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let mut rest = String::new();
    reader
        .read_to_string(&mut rest)
        .map_err(|e| e.to_string())?;
    Ok((status, head, rest))
}

/// The JSON object of an answer's body (chunked or not, it is the body's one `{…}`).
fn json_of(text: &str) -> serde_json::Value {
    let json = text
        .find('{')
        .zip(text.rfind('}'))
        .map(|(a, b)| &text[a..=b])
        .unwrap_or_default();
    serde_json::from_str(json).unwrap_or_default()
}

/// POSTs JSON and reads the answer's `field`, which must be there.
fn post_for(port: u16, path: &str, body: serde_json::Value, field: &str) -> Result<String> {
    let (status, _, text) = http(
        port,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )?;
    json_of(&text)[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("POST {path}: {status} without {field}: {text}"))
}

/// A cart registered through the merchant API (`intent: buy_and_tokenize`): its reference.
fn registered_cart(port: u16, key: &str) -> Result<String> {
    let body = serde_json::json!({"intent": "buy_and_tokenize", "lines": [
        {"reference": "BOX-M", "name": "Monthly coffee box", "quantity": 1, "type": "physical",
         "tax_class": "reduced", "prices": {"EUR": {"unit_price": 2_900}}}
    ]});
    let bearer = format!("Bearer {key}");
    let (status, _, text) = http(
        port,
        "POST",
        "/api/merchant/carts",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
        &body.to_string(),
    )?;
    json_of(&text)["cart"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("registering a cart: {status} {text}"))
}

/// The customer token the purchase of a `buy_and_tokenize` cart made: its reference.
fn customer_token(port: u16, key: &str, order: &str) -> Result<String> {
    let bearer = format!("Bearer {key}");
    let path = format!("/api/merchant/orders/{order}/customer-token");
    let (status, _, text) = http(port, "GET", &path, &[("Authorization", &bearer)], "")?;
    json_of(&text)["customer_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("GET {path}: {status} {text}"))
}

/// A purchase of `cart` as the browser makes it (session, Klarna's authorization in the
/// sandbox, order): its session id and Klarna's order id.
fn placed_order(port: u16, cart: &str) -> Result<(String, String)> {
    let session = http(
        port,
        "POST",
        "/api/checkout/sessions",
        &[("Content-Type", "application/json")],
        &serde_json::json!({"cart": cart, "locale": "de-DE"}).to_string(),
    )
    .map(|(_, _, text)| json_of(&text))?;
    let (Some(id), Some(client_token)) = (
        session["session"].as_str(),
        session["client_token"].as_str(),
    ) else {
        return Err(format!("starting a checkout answered {session}"));
    };
    let billing = serde_json::json!({
        "given_name": "Testperson-de", "family_name": "Approved", "email": "fuzz@example.com",
        "street_address": "Hellersbergstraße 14", "postal_code": "41460", "city": "Neuss",
        "country": "DE",
    });
    let token = post_for(
        port,
        "/sandbox/kp/authorize",
        serde_json::json!({"client_token": client_token, "payment_method_category": "pay_later",
            "stage": "confirm", "data": {"billing_address": billing}}),
        "authorization_token",
    )?;
    let order = post_for(
        port,
        "/api/checkout/orders",
        serde_json::json!({"session": id, "authorization_token": token, "billing_address": billing}),
        "order_id",
    )?;
    Ok((id.to_string(), order))
}

/// Signs the bookkeeper in: the session cookie and the CSRF token for the banking routes.
fn sign_in(port: u16) -> Result<(String, String)> {
    let body = serde_json::json!({"user": BOOKKEEPER, "password": SANDBOX_PASSWORD}).to_string();
    let (status, head, text) = http(
        port,
        "POST",
        "/api/auth/sign-in",
        &[("Content-Type", "application/json")],
        &body,
    )?;
    if status != 200 {
        return Err(format!("signing the bookkeeper in: {status} {text}"));
    }
    let cookie = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| v.trim().strip_prefix("kc_bookkeeper="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .ok_or("sign-in set no kc_bookkeeper cookie")?;
    let csrf = json_of(&text)["csrf_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("sign-in answered no csrf_token: {text}"))?;
    Ok((cookie, csrf))
}

/// Waits for `child` at most `limit`; kills it past that (`None`).
fn wait_at_most(child: &mut Child, limit: Duration) -> Result<Option<std::process::ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(status));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        // Polling the child's exit, the only condition there is to wait on.
        std::thread::sleep(Duration::from_millis(100));
    }
}
