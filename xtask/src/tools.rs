//! Installs what the build and the tests need, from package registries only: the wasm32
//! target and std's source, Trunk, the wasm-bindgen CLI matching `Cargo.lock`, wasm-opt (binaryen 132 from npm:
//! Debian's binaryen 108 produces modules Chromium refuses), Chromium and ChromeDriver, and
//! axe-core (npm) for the end-to-end accessibility checks.

use crate::{root, run, Result};
use std::path::PathBuf;
use std::process::Command;

pub const TRUNK_VERSION: &str = "0.21.14";
pub const BINARYEN_VERSION: &str = "132.0.0";
/// Deque's accessibility rules, injected into the page by the end-to-end tests (`tests/e2e/a11y.rs`).
pub const AXE_VERSION: &str = "4.14.1";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Outside the clone, so a second run on the same machine reuses it.
fn cache_dir() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    PathBuf::from(home).join(".cache/klarna-checkout")
}

fn binaryen_bin() -> PathBuf {
    cache_dir().join(format!("binaryen-{BINARYEN_VERSION}/node_modules/.bin"))
}

fn cargo_bin() -> PathBuf {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    home.join("bin")
}

/// `PATH` with wasm-opt 132 and cargo's bin directory in front.
pub fn path_with_tools() -> String {
    let current = std::env::var("PATH").unwrap_or_default();
    format!(
        "{}:{}:{current}",
        binaryen_bin().display(),
        cargo_bin().display()
    )
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.env("PATH", path_with_tools()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).to_string())
}

/// The wasm-bindgen version `Cargo.lock` resolved; the CLI must be exactly this.
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

pub fn ensure_build_tools() -> Result {
    let targets =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    // The release bundle rebuilds std for size (`-Zbuild-std`), which needs std's sources.
    let components = output(Command::new("rustup").args(["component", "list", "--installed"]))
        .unwrap_or_default();
    if !components.lines().any(|c| c.trim().starts_with("rust-src")) {
        run(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }
    let trunk = output(Command::new("trunk").arg("--version")).unwrap_or_default();
    if !trunk.contains(TRUNK_VERSION) {
        run(Command::new("cargo").args([
            "install",
            "trunk",
            "--version",
            TRUNK_VERSION,
            "--locked",
        ]))?;
    }
    let wanted = locked_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    let runner =
        output(Command::new("wasm-bindgen-test-runner").arg("--version")).unwrap_or_default();
    if !have.contains(&wanted) || !runner.contains(&wanted) {
        // Not --locked: the registry mirror lacks one of its pinned dependencies.
        run(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &wanted,
            "--force",
        ]))?;
    }
    let opt =
        output(Command::new(binaryen_bin().join("wasm-opt")).arg("--version")).unwrap_or_default();
    if !opt.contains("version 132") {
        let dir = cache_dir().join(format!("binaryen-{BINARYEN_VERSION}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(format!("binaryen@{BINARYEN_VERSION}")))?;
    }
    Ok(())
}

/// `axe.min.js` of axe-core [`AXE_VERSION`], installed from npm into the cache when missing;
/// the end-to-end tests find it through `KC_AXE_JS`.
pub fn ensure_axe() -> Result<PathBuf> {
    let dir = cache_dir().join(format!("axe-core-{AXE_VERSION}"));
    let script = dir.join("node_modules/axe-core/axe.min.js");
    let installed = std::fs::read_to_string(dir.join("node_modules/axe-core/package.json"))
        .is_ok_and(|p| p.contains(&format!("\"version\": \"{AXE_VERSION}\"")));
    if !(installed && script.exists()) {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(format!("axe-core@{AXE_VERSION}")))?;
    }
    Ok(script)
}

pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() == "0")
}

pub fn ensure_browser() -> Result {
    let present =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    if present {
        return Ok(());
    }
    let install = "apt-get update && apt-get install -y chromium chromium-driver";
    if !is_root() {
        return Err(format!(
            "Chromium and ChromeDriver are missing; install them as root with: {install}"
        ));
    }
    run(Command::new("sh")
        .args(["-c", install])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Headless Chromium as this machine runs it: no sandbox (root), no GPU, no background
/// network traffic (the network is closed and refusals would slow every start).
pub fn chromium_args() -> Vec<&'static str> {
    vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1200,1000",
    ]
}
