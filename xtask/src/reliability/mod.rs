//! `cargo xtask bench reliability`: does every order Klarna creates end up in our database, once,
//! when shoppers click Buy a thousand times at once and when our server is SIGKILLed at random
//! moments? Runs the sandbox as its own process ("Klarna" survives our crashes) and our server
//! as another, on 127.0.0.1 only, and prints the figures for docs/reliability.md. Measures and
//! prints; never asserts.

mod chaos;
mod client;
mod duplicates;
mod ledger;
mod procs;
mod rng;
mod shopper;

use std::time::Duration;
use thiserror::Error;

/// Everything that can stop a reliability run (its figures are never a reason to fail).
#[derive(Debug, Error)]
pub enum BenchError {
    #[error("{0}")]
    Build(String),
    #[error("could not start {what}: {source}")]
    Spawn {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{what} did not become ready within {secs} s")]
    NotReady { what: &'static str, secs: u64 },
    #[error("{what}: {source}")]
    Http {
        what: &'static str,
        source: reqwest::Error,
    },
    #[error("{what}: {detail}")]
    Unexpected { what: &'static str, detail: String },
    #[error("reading our database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

pub type BenchResult<T = ()> = Result<T, BenchError>;

/// The run's sizes and bounds: everything is finite in count and in time.
pub struct Plan {
    pub duplicates: usize,
    pub checkouts: usize,
    /// Shoppers at the shop at the same time during the kill run.
    pub concurrent_shoppers: usize,
    /// Share of shoppers, in percent, who close the tab after the first failed Buy.
    pub walk_away_percent: u64,
    /// Random pause between two kills (from the moment the restarted server answers).
    pub kill_pause_ms: (u64, u64),
    /// Klarna holds each order answer back this long (random per kill cycle).
    pub answer_delay_ms: (u64, u64),
    pub seed: u64,
    /// How long the database may take to catch up with Klarna after the last kill.
    pub settle: Duration,
    /// Upper bound for all the shoppers of the kill run together.
    pub chaos_limit: Duration,
}

impl Plan {
    fn standard() -> Plan {
        Plan {
            duplicates: 1000,
            checkouts: 200,
            concurrent_shoppers: 20,
            walk_away_percent: 30,
            kill_pause_ms: (100, 700),
            answer_delay_ms: (100, 300),
            seed: std::env::var("KC_BENCH_SEED")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(20_261_123),
            settle: Duration::from_secs(60),
            chaos_limit: Duration::from_secs(300),
        }
    }
}

/// Builds the two binaries and runs both scenarios, each against a fresh sandbox and database.
pub fn measure() -> crate::Result {
    run().map_err(|e| e.to_string())
}

fn run() -> BenchResult {
    crate::run(std::process::Command::new("cargo").args([
        "build", "--quiet", "-p", "server", "-p", "sandbox", "--bins",
    ]))
    .map_err(BenchError::Build)?;
    let plan = Plan::standard();
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| BenchError::Io("starting tokio".into(), e))?;
    runtime.block_on(async {
        println!(
            "reliability: {} duplicate place-order requests for one authorization",
            plan.duplicates
        );
        let dup = duplicates::run(&plan).await?;
        println!(
            "reliability: {} checkouts while the server is SIGKILLed every {}–{} ms (seed {})",
            plan.checkouts, plan.kill_pause_ms.0, plan.kill_pause_ms.1, plan.seed
        );
        let kills = chaos::run(&plan).await?;
        println!();
        dup.print();
        kills.print(&plan);
        Ok(())
    })
}
