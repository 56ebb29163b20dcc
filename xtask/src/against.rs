//! `cargo xtask bench size --against <git-ref>`: another commit's checkout, built in a temporary
//! git worktree to be sized and timed beside this tree's in the same run (issue 11: "at most
//! half of today's figure measured the same way in the same run"). The worktree is removed when
//! the comparison ends, a failure included.

use crate::{root, run, run_in, target_dir, trunk_release, Result};
use std::path::PathBuf;
use std::process::Command;

/// A detached worktree of one commit, with its checkout built into its own `dist`.
pub struct OtherBuild {
    pub commit: String,
    pub path: PathBuf,
}

impl OtherBuild {
    /// Checks `reference` out beside this tree and builds its checkout (not its bank page: the
    /// comparison is about shoppers) with this tree's release recipe (`trunk_release`: the
    /// same std rebuild and flags; the ref's own `index.html`, `Trunk.toml` and profiles).
    pub fn build(reference: &str) -> Result<OtherBuild> {
        if reference.is_empty() || reference.starts_with('-') {
            return Err(format!("--against {reference:?}: a git ref or commit"));
        }
        let commit = git_output(&["rev-parse", "--verify", &format!("{reference}^{{commit}}")])
            .map_err(|e| format!("--against {reference:?}: not a commit here ({e})"))?;
        let path = target_dir().join("bench-against");
        remove_worktree(&path);
        run(Command::new("git")
            .args(["worktree", "add", "--detach"])
            .arg(&path)
            .arg(&commit))?;
        let other = OtherBuild { commit, path };
        // Its own cargo target directory, kept between runs: both checkouts build the same
        // package and binary, and the binary Trunk reads (`wasm-release/klarna-checkout.wasm`)
        // is one path per target directory; apart, neither build can ever pick up the other's.
        run_in(
            &other.path,
            trunk_release(&["build", "--release"]).env(
                "CARGO_TARGET_DIR",
                target_dir().join("bench-against-target"),
            ),
        )?;
        Ok(other)
    }

    pub fn dist(&self) -> PathBuf {
        self.path.join("dist")
    }

    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(9)]
    }
}

impl Drop for OtherBuild {
    fn drop(&mut self) {
        remove_worktree(&self.path);
    }
}

/// Removes the worktree at `path` (a leftover of an interrupted run included) and git's record
/// of it; says so when it cannot.
fn remove_worktree(path: &std::path::Path) {
    if path.exists() {
        let removed = Command::new("git")
            .args(["worktree", "remove", "--force"])
            .arg(path)
            .current_dir(root())
            .status()
            .is_ok_and(|s| s.success());
        if !removed {
            let _ = std::fs::remove_dir_all(path);
        }
    }
    let _ = Command::new("git")
        .args(["worktree", "prune"])
        .current_dir(root())
        .status();
    if path.exists() {
        eprintln!("xtask: could not remove the worktree {}", path.display());
    }
}

fn git_output(args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root())
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
