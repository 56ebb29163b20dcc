//! A throwaway PostgreSQL cluster for `cargo xtask test`, so the storage and concurrency tests
//! run on both engines: Debian's `postgresql` (installed when missing), `initdb` into a
//! temporary directory as the `postgres` user, a server on a free loopback port and a socket
//! in that directory, stopped and removed when the cluster is dropped, also when a test
//! failed. A cluster left over from a killed run is stopped and removed before a new one
//! starts.

use crate::tools::is_root;
use crate::{run, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian puts the server binaries: the newest installed major version.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

pub fn ensure_installed() -> Result<PathBuf> {
    if let Some(bin) = bin_dir() {
        return Ok(bin);
    }
    let install = "apt-get update && apt-get install -y postgresql";
    if !is_root() {
        return Err(format!(
            "PostgreSQL is missing; install it as root with: {install}"
        ));
    }
    run(Command::new("sh")
        .args(["-c", install])
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    bin_dir().ok_or_else(|| "postgresql installed, but no initdb under /usr/lib/postgresql".into())
}

/// A PostgreSQL tool run as the cluster's owner: `postgres` when we are root (the server
/// refuses to run as root), ourselves otherwise.
fn as_owner(bin: &Path, tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

const PREFIX: &str = "kc-pg-";

/// Stops and removes clusters of earlier runs that were killed before they could.
fn remove_leftovers(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for dir in entries.flatten().map(|e| e.path()) {
        let ours = dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(PREFIX));
        if !ours {
            continue;
        }
        if dir.join("data/postmaster.pid").exists() {
            let _ = as_owner(bin, "pg_ctl")
                .arg("-D")
                .arg(dir.join("data"))
                .args(["-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    /// An administrator's URL (user `kc`, database `postgres`); tests create their databases.
    pub url: String,
}

impl Cluster {
    pub fn start() -> Result<Cluster> {
        let bin = ensure_installed()?;
        remove_leftovers(&bin);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("{PREFIX}{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cluster = Cluster {
            bin,
            dir,
            url: format!("postgres://kc@127.0.0.1:{port}/postgres"),
        };
        if is_root() {
            run(Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&cluster.dir))?;
        }
        let quiet = |c: &mut Command| {
            c.stdout(std::process::Stdio::null());
        };
        let mut initdb = as_owner(&cluster.bin, "initdb");
        initdb
            .arg("-D")
            .arg(cluster.dir.join("data"))
            .args(["-A", "trust", "-U", "kc"]);
        quiet(&mut initdb);
        run(&mut initdb)?;
        let mut start = as_owner(&cluster.bin, "pg_ctl");
        start
            .arg("-D")
            .arg(cluster.dir.join("data"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1",
                cluster.dir.display()
            ))
            .arg("-l")
            .arg(cluster.dir.join("server.log"))
            .args(["-w", "start"]);
        quiet(&mut start);
        run(&mut start)?;
        println!("xtask: throwaway PostgreSQL at {}", cluster.url);
        Ok(cluster)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = as_owner(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
