//! `cargo xtask demo` builds the component and serves the demo shop on the sandbox, with a
//! storefront on another origin (the next port) that embeds it;
//! `cargo xtask test` runs every test, browser tests included; `cargo xtask bench` measures
//! bundle size, time to an interactive checkout and, alone with `cargo xtask bench reliability`,
//! whether orders survive duplicates and a server killed at random moments (on SQLite, and with
//! two instances on PostgreSQL). `cargo xtask fuzz` runs schemathesis against the server's
//! OpenAPI document, as `test` does too. `cargo xtask size-check` builds the component and holds
//! the shopper's checkout to the gzip budget in `size-budget.toml`, as `test` does too. Each
//! installs what it needs first.

mod against;
mod bench;
mod fuzz;
mod page_time;
mod postgres;
mod reliability;
mod size;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("fuzz") => fuzz::Bounds::from_args(&args[1..]).and_then(|b| fuzz::run(&b)),
        Some("bench") => bench::measure(&args[1..]),
        Some("build") => tools::ensure_build_tools().and_then(|_| build_component()),
        Some("size-check") => tools::ensure_build_tools()
            .and_then(|_| build_component())
            .and_then(|_| size::check()),
        _ => {
            eprintln!(
                "usage: cargo xtask <demo [--port N] | test | fuzz | \
                 bench [size [--against <git-ref>] | reliability | reliability-sqlite | \
                 reliability-pg] | size-check | build>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the workspace root),
/// `target/` otherwise. Commands started by xtask inherit the same variable.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// Runs a command in the workspace root with the project's tool directories on `PATH`.
pub fn run(cmd: &mut Command) -> Result {
    run_in(&root(), cmd)
}

/// `run` in another directory (another checkout of the project, for `bench size --against`).
pub fn run_in(dir: &Path, cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    println!("xtask: {shown}");
    let status = cmd
        .current_dir(dir)
        .env("PATH", tools::path_with_tools())
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// `trunk build --release`: the same optimised build (wasm-opt included) for the demo, the
/// end-to-end tests and the benchmark. The standard library is rebuilt for size with panics
/// that abort at once (no formatting machinery): about 10 % less gzip, see docs/performance.md.
/// The variables reach only this build: Trunk passes `--target wasm32-unknown-unknown`, and
/// `build-std` applies to cross builds alone.
pub fn build_component() -> Result {
    fresh_snippets();
    run(&mut trunk_release(&["build", "--release"]))?;
    // The bookkeeper's bank linking is its own bundle, so shoppers never download it. Built
    // second: Trunk empties its own dist directory only.
    fresh_snippets();
    run(&mut trunk_release(&[
        "build",
        "bank-link.html",
        "--release",
        "--dist",
        "dist/bank",
        "--public-url",
        "/bank/",
    ]))?;
    size::precompress(&root().join("dist"))
}

/// Both bundles come from one crate, so wasm-bindgen writes their JS snippets into one
/// directory under the target, which Trunk copies whole into each dist and preloads: the
/// checkout's page fetched the bank page's snippet. Emptied before each build.
fn fresh_snippets() {
    let _ = std::fs::remove_dir_all(target_dir().join("wasm-bindgen/release/snippets"));
}

/// `trunk <args>` with the release recipe above; also for another commit's checkout
/// (`bench size --against`), so that both are built the same way.
pub fn trunk_release(args: &[&str]) -> Command {
    let mut cmd = Command::new("trunk");
    cmd.args(args)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        // The standard library's smaller algorithms (sorting, formatting): 651 bytes gzip.
        .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            // No panic locations, no `Debug` formatting: neither is ever shown to a shopper.
            // Leptos components erased to `AnyView`, as in .cargo/config.toml (replaced here).
            "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none \
             --cfg erase_components",
        );
    cmd
}

fn demo(args: &[String]) -> Result {
    let port = match args {
        [flag, value] if flag == "--port" => value.clone(),
        [] => std::env::var("KC_PORT").unwrap_or_else(|_| "8080".into()),
        _ => return Err("usage: cargo xtask demo [--port N]".into()),
    };
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0 && *p < u16::MAX)
        .ok_or_else(|| format!("--port {port}: a port from 1 to 65534"))?;
    tools::ensure_build_tools()?;
    build_component()?;
    run(Command::new("cargo").args(["build", "--quiet", "-p", "server"]))?;
    let server = target_dir().join("debug/klarna-checkout-server");
    // The demo storefront on the next port: another origin, which the checkout must allow.
    let checkout = format!("http://127.0.0.1:{port}");
    let storefront = format!("127.0.0.1:{}", port + 1);
    let _storefront = Background(
        Command::new(&server)
            .args(["storefront", &storefront, &checkout])
            .spawn()
            .map_err(|e| format!("could not start the demo storefront: {e}"))?,
    );
    println!("xtask: starting the demo on the Klarna sandbox; Ctrl-C stops it");
    println!("xtask: the shop's own checkout:          {checkout}/");
    println!("xtask: a storefront on another origin:    http://{storefront}/");
    println!("xtask: bank linking (bookkeeper):         {checkout}/bank/");
    run(Command::new(server)
        .env("KC_MODE", "sandbox")
        .env("KC_PORT", port.to_string())
        .env("KC_ALLOWED_ORIGINS", format!("http://{storefront}"))
        .env("KC_DIST", root().join("dist"))
        .env(
            "KC_DATABASE",
            root().join("target/demo/klarna-checkout.sqlite"),
        ))
}

/// A child process stopped when the demo ends.
struct Background(std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn test() -> Result {
    tools::ensure_build_tools()?;
    tools::ensure_browser()?;
    let axe = tools::ensure_axe()?;
    build_component()?;
    let mut tally = Tally::default();
    // The shopper's bytes against the committed budget (issue 11), on the build just made;
    // said at once, counted with the rest.
    let budget = size::check().inspect_err(|e| eprintln!("xtask: {e}"));
    match &budget {
        Ok(()) => tally.passed += 1,
        Err(_) => tally.failed += 1,
    }
    // xtask's own unit tests (the budget's arithmetic), left out of the workspace run below.
    let xtask = tally.run(Command::new("cargo").args(["test", "-p", "xtask"]));
    // Native: rules, property tests, server + sandbox integration, and the end-to-end tests
    // that drive the release build in headless Chromium.
    let native = tally.run(
        Command::new("cargo")
            .args([
                "test",
                "--workspace",
                "--exclude",
                "xtask",
                "--no-fail-fast",
            ])
            .env("KC_E2E_DIST", root().join("dist"))
            .env("KC_AXE_JS", &axe)
            .env("CHROMEDRIVER", tools::CHROMEDRIVER),
    );
    // The storage and concurrency tests again, on PostgreSQL: a throwaway cluster, each test
    // on a database of its own, stopped when this block ends (a failure included).
    let postgres = match postgres::Cluster::start() {
        Ok(cluster) => tally.run(
            Command::new("cargo")
                .args(["test", "-p", "server", "--no-fail-fast"])
                .args(POSTGRES_TESTS.iter().flat_map(|t| ["--test", t]))
                .env("KC_TEST_POSTGRES", &cluster.url),
        ),
        Err(e) => {
            tally.failed += 1;
            Err(format!("PostgreSQL for the tests: {e}"))
        }
    };
    // The HTTP API fuzzed by schemathesis from its own OpenAPI document (`fuzz.rs`).
    let fuzz = fuzz::run(&fuzz::Bounds::default());
    match &fuzz {
        Ok(()) => tally.passed += 1,
        Err(_) => tally.failed += 1,
    }
    // Components in headless Chromium through wasm-bindgen-test.
    let browser = tally.run(
        Command::new("cargo")
            .args([
                "test",
                "-p",
                "klarna-checkout",
                "--target",
                "wasm32-unknown-unknown",
                "--tests",
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                "wasm-bindgen-test-runner",
            )
            .env("CHROMEDRIVER", tools::CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    );
    println!("summary: {} passed, {} failed", tally.passed, tally.failed);
    budget
        .and(xtask)
        .and(native)
        .and(postgres)
        .and(fuzz)
        .and(browser)
}

/// The server's tests that run on both engines (`KC_TEST_POSTGRES` moves them to PostgreSQL).
const POSTGRES_TESTS: &[&str] = &[
    "abuse",
    "bank_links",
    "bank_csv",
    "bank_states",
    "bank_endings",
    "bank_schedule",
    "bank_sync_tasks",
    "bank_odd_transactions",
    "checkout_api",
    "checkout_widget",
    "checkout_b2b",
    "checkout_durability",
    "checkout_money",
    "instances",
    "merchant_batch",
    "merchant_carts",
    "merchant_keys",
    "merchant_orders",
    "merchant_retries",
    "recurring",
    "recurring_safety",
];

/// Adds up the `test result:` lines of every runner, for one closing line over all of them.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    fn run(&mut self, cmd: &mut Command) -> Result {
        use std::io::BufRead;
        let shown = format!("{cmd:?}");
        println!("xtask: {shown}");
        let mut child = cmd
            .current_dir(root())
            .env("PATH", tools::path_with_tools())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {shown}: {e}"))?;
        if let Some(out) = child.stdout.take() {
            for line in std::io::BufReader::new(out)
                .lines()
                .map_while(std::result::Result::ok)
            {
                println!("{line}");
                if let Some(rest) = line.trim().strip_prefix("test result: ") {
                    self.passed += count_before(rest, " passed");
                    self.failed += count_before(rest, " failed");
                }
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            self.failed = self.failed.max(1);
            Err(format!("{shown} failed ({status})"))
        }
    }
}

/// `ok. 7 passed; 0 failed; …` → the number before `word`.
fn count_before(text: &str, word: &str) -> u64 {
    text.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok.")
                .trim_start_matches("FAILED.")
                .trim()
                .strip_suffix(word.trim_start())
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}
