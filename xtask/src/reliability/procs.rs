//! The processes of a reliability run and their clean-up: the Klarna sandbox, started once
//! and never killed during the run, and our server (one, or several sharing one PostgreSQL
//! database), which the kill run SIGKILLs and restarts on the same port and database. Every
//! process and file is removed on drop, errors included.

use super::{BenchError, BenchResult};
use crate::target_dir;
use std::fs::File;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a fresh process may take to answer.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A scratch directory (database, empty dist, server log), removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> BenchResult<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "kc-reliability-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("dist"))
            .map_err(|e| BenchError::Io(dir.display().to_string(), e))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed and reaped when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> BenchResult<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| BenchError::Io("finding a free port".into(), e))
}

/// `klarna-sandbox --port 0` as its own process; its base URL comes from its first line.
pub struct SandboxProcess {
    _child: Reaped,
    /// `http://127.0.0.1:PORT` (the API itself is under `/sandbox`).
    pub origin: String,
}

impl SandboxProcess {
    pub fn start() -> BenchResult<SandboxProcess> {
        let mut child = Command::new(target_dir().join("debug/klarna-sandbox"))
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| BenchError::Spawn {
                what: "klarna-sandbox",
                source,
            })?;
        let stdout = child.stdout.take();
        let child = Reaped(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            let mut lines = std::io::BufReader::new(stdout).lines();
            let _ = tx.send(lines.next().and_then(Result::ok));
            // Keep reading so the sandbox never blocks on a full pipe; ends with the process.
            for _ in lines.map_while(Result::ok) {}
        });
        let line = rx
            .recv_timeout(READY_WITHIN)
            .ok()
            .flatten()
            .ok_or(BenchError::NotReady {
                what: "klarna-sandbox",
                secs: READY_WITHIN.as_secs(),
            })?;
        let origin = line
            .trim()
            .strip_prefix("klarna-sandbox listening on ")
            .filter(|url| url.starts_with("http://127.0.0.1:"))
            .ok_or_else(|| BenchError::Unexpected {
                what: "klarna-sandbox's first line",
                detail: line.clone(),
            })?
            .to_string();
        Ok(SandboxProcess {
            _child: child,
            origin,
        })
    }

    /// `KLARNA_API_URL` for our server.
    pub fn api_url(&self) -> String {
        format!("{}/sandbox", self.origin)
    }
}

/// The hook secret every instance shares, so any of them accepts Klarna's callbacks.
const HOOK_SECRET: &str = "kcbenchhooksecret0123456789abcdef";

/// Our server on a fixed port and database, restartable after a kill.
pub struct ServerProcess {
    child: Option<Reaped>,
    port: u16,
    /// `KC_DATABASE`: a SQLite file or a `postgres://` URL.
    database: String,
    dist: PathBuf,
    log: PathBuf,
    klarna: String,
    pub starts: u32,
}

impl ServerProcess {
    /// An instance on `database` (shared with other instances when it is PostgreSQL), logging
    /// to `NAME.log` in the scratch directory.
    pub async fn start_on(
        scratch: &Scratch,
        sandbox: &SandboxProcess,
        http: &reqwest::Client,
        database: String,
        name: &str,
    ) -> BenchResult<ServerProcess> {
        let mut server = ServerProcess {
            child: None,
            port: free_port()?,
            database,
            dist: scratch.0.join("dist"),
            log: scratch.0.join(format!("{name}.log")),
            klarna: sandbox.api_url(),
            starts: 0,
        };
        server.restart(http).await?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> BenchResult {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| BenchError::Io(self.log.display().to_string(), e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| BenchError::Io(self.log.display().to_string(), e))?;
        let mut cmd = Command::new(target_dir().join("debug/klarna-checkout-server"));
        // Nothing from the caller's environment may point the server elsewhere.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("KC_") || key.starts_with("KLARNA_") {
                cmd.env_remove(key.as_ref());
            }
        }
        let child = cmd
            .env("KC_MODE", "sandbox")
            .env("KC_HOST", "127.0.0.1")
            .env("KC_PORT", self.port.to_string())
            .env("KC_DATABASE", &self.database)
            .env("KC_DIST", &self.dist)
            .env("KC_HOOK_SECRET", HOOK_SECRET)
            .env("KLARNA_API_URL", &self.klarna)
            .env("KLARNA_XS2A_URL", &self.klarna)
            .env("KC_CALLBACK_DELAY_SECS", "2")
            .env("KC_RATE_SESSIONS_PER_MIN", "1000000")
            .env("KC_RATE_ORDERS_PER_MIN", "1000000")
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .map_err(|source| BenchError::Spawn {
                what: "klarna-checkout-server",
                source,
            })?;
        self.child = Some(Reaped(child));
        self.starts += 1;
        Ok(())
    }

    /// SIGKILL (`Child::kill`): no shutdown code runs, as in a power cut or an OOM kill.
    pub fn kill(&mut self) {
        drop(self.child.take());
    }

    /// Starts the server (again) and waits until `/api/health` answers.
    pub async fn restart(&mut self, http: &reqwest::Client) -> BenchResult {
        self.kill();
        self.spawn()?;
        let deadline = Instant::now() + READY_WITHIN;
        let health = format!("{}/api/health", self.url());
        loop {
            let answered = http
                .get(&health)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if answered {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .is_none_or(|c| c.0.try_wait().ok().flatten().is_some());
            if exited || Instant::now() > deadline {
                return Err(BenchError::NotReady {
                    what: "klarna-checkout-server (see its log above the figures)",
                    secs: READY_WITHIN.as_secs(),
                })
                .inspect_err(|_| self.show_log_tail());
            }
            // Polling the condition above; a refused connection comes back at once.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn show_log_tail(&self) {
        if let Ok(text) = std::fs::read_to_string(&self.log) {
            let lines: Vec<&str> = text.lines().collect();
            for line in &lines[lines.len().saturating_sub(20)..] {
                eprintln!("server log: {line}");
            }
        }
    }
}
