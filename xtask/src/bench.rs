//! `cargo xtask bench [size [--against <git-ref>] | reliability | reliability-sqlite |
//! reliability-pg]`: bytes of the built component (raw and gzip, `crate::size`) and the time from
//! navigation to an interactive checkout under 4× CPU throttling with its layout shift, median of
//! 7 runs (`crate::page_time`); with `--against`, another commit's checkout built beside this one
//! and timed interleaved with it in the same run (`crate::against`). Then the reliability
//! scenarios (`reliability`: SQLite, then two instances on PostgreSQL; see `crate::reliability`),
//! which need no browser build. Plain `bench` runs all. Measures and prints; never asserts.

use crate::against::OtherBuild;
use crate::page_time::{self, Lab, Run, RUNS};
use crate::reliability::Engines;
use crate::size::{self, FileSize};
use crate::tools;
use crate::{build_component, run, Result};
use std::process::Command;

const USAGE: &str = "cargo xtask bench \
    [size [--against <git-ref>] | reliability | reliability-sqlite | reliability-pg]";

pub fn measure(args: &[String]) -> Result {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        [] => {
            size_and_time(None)?;
            crate::reliability::measure(Engines::Both)
        }
        ["size"] => size_and_time(None),
        ["size", "--against", reference] => size_and_time(Some(reference)),
        ["reliability"] => crate::reliability::measure(Engines::Both),
        ["reliability-sqlite"] => crate::reliability::measure(Engines::Sqlite),
        ["reliability-pg"] => crate::reliability::measure(Engines::Postgres),
        _ => Err(format!("unknown bench {args:?}: {USAGE}")),
    }
}

fn size_and_time(against: Option<&str>) -> Result {
    tools::ensure_build_tools()?;
    tools::ensure_browser()?;
    build_component()?;
    let sizes = size::sizes()?;
    // Built after this tree's, so a failing build of the other leaves this one's figures.
    let other = against.map(OtherBuild::build).transpose()?;
    let other_sizes = match &other {
        Some(o) => Some(size::bundle_sizes("checkout", &o.dist())?),
        None => None,
    };
    run(Command::new("cargo").args(["build", "--quiet", "-p", "server"]))?;
    let slowdown = page_time::cpu_slowdown()?;
    let mut dists = vec![crate::root().join("dist")];
    dists.extend(other.as_ref().map(OtherBuild::dist));
    let runs = tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())?
        .block_on(time_interleaved(&dists, slowdown))?;

    println!();
    print_sizes(&sizes);
    let this = page_time::summarize(&runs[0]);
    println!();
    println!(
        "navigation → interactive checkout (Buy enabled, widget shown), CPU {slowdown}× \
         slower, {RUNS} runs: median {} ms, min {} ms, max {} ms; CLS max {:.4}",
        this.median, this.min, this.max, this.max_cls
    );
    if let (Some(other), Some(other_sizes)) = (&other, &other_sizes) {
        let theirs = page_time::summarize(&runs[1]);
        let (_, ours_gz) = size::total(&sizes, "checkout", "en");
        let (_, theirs_gz) = size::total(other_sizes, "checkout", "en");
        println!();
        println!("| checkout, English | this tree | {} |", other.short());
        println!("|---|---:|---:|");
        println!("| gzip bytes | {ours_gz} | {theirs_gz} |");
        println!(
            "| median ms (CPU {slowdown}×, {RUNS} runs, interleaved) | {} | {} |",
            this.median, theirs.median
        );
        println!(
            "| min–max ms | {}–{} | {}–{} |",
            this.min, this.max, theirs.min, theirs.max
        );
        println!("| CLS max | {:.4} | {:.4} |", this.max_cls, theirs.max_cls);
        println!(
            "this tree against {}: {:.1} % of the bytes, {:.1} % of the median time",
            other.short(),
            100.0 * ours_gz as f64 / theirs_gz.max(1) as f64,
            100.0 * this.median as f64 / theirs.median.max(1) as f64
        );
    }
    Ok(())
}

fn print_sizes(sizes: &[FileSize]) {
    println!("| file | raw bytes | gzip bytes |");
    println!("|---|---:|---:|");
    for f in sizes {
        println!("| {} | {} | {} |", f.kind, f.raw, f.gzip);
    }
    // What one shopper (bookkeeper) downloads: the code, and the catalog of their language
    // only (docs/i18n.md).
    for bundle in ["checkout", "bank-link"] {
        for lang in ["en", "de"] {
            let (raw, gz) = size::total(sizes, bundle, lang);
            println!("| **{bundle} total, {lang}** | {raw} | {gz} |");
        }
    }
}

/// `RUNS` loads of each dist's checkout, taking turns (A, B, A, B, …) so that the machine's
/// changing load falls on both alike; each run printed as it ends.
async fn time_interleaved(dists: &[std::path::PathBuf], slowdown: u32) -> Result<Vec<Vec<Run>>> {
    let lab = Lab::start(dists).await?;
    let mut runs = vec![Vec::new(); dists.len()];
    for i in 1..=RUNS {
        for (site, out) in runs.iter_mut().enumerate() {
            let run = lab.run(site, slowdown).await?;
            let label = if dists.len() > 1 {
                format!(" {}", ["this tree", "other"][site.min(1)])
            } else {
                String::new()
            };
            println!(
                "run {i}{label}: {} ms, CLS {:.4}{}",
                run.ms,
                run.cls,
                if run.shifts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", run.shifts.join("; "))
                }
            );
            out.push(run);
        }
    }
    Ok(runs)
}
