//! `cargo xtask bench reliability`: does every order Klarna creates end up in our database, once,
//! when shoppers click Buy a thousand times at once and when our server is SIGKILLed at random
//! moments? Runs the sandbox as its own process ("Klarna" survives our crashes) and our server
//! as another, on 127.0.0.1 only, and prints the figures for docs/reliability.md: first on
//! SQLite with one instance, then (`reliability-pg` alone) on a throwaway PostgreSQL cluster
//! with two instances, plus session-start throughput with one and two instances. Measures and
//! prints; never asserts.

mod chaos;
mod client;
mod deploy;
mod duplicates;
mod ledger;
mod procs;
mod rng;
mod shopper;
mod throughput;

use deploy::Engine;

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
    #[error("PostgreSQL cluster: {0}")]
    Cluster(String),
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
    /// Session starts measured per throughput row, and the clients sending them.
    pub throughput_requests: usize,
    pub throughput_clients: usize,
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
            throughput_requests: 2000,
            throughput_clients: 32,
        }
    }
}

/// Which engines a run covers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Engines {
    Sqlite,
    Postgres,
    Both,
}

/// Builds the two binaries and runs the scenarios, each against a fresh sandbox and database.
pub fn measure(engines: Engines) -> crate::Result {
    run(engines).map_err(|e| e.to_string())
}

fn run(engines: Engines) -> BenchResult {
    crate::run(std::process::Command::new("cargo").args([
        "build", "--quiet", "-p", "server", "-p", "sandbox", "--bins",
    ]))
    .map_err(BenchError::Build)?;
    let plan = Plan::standard();
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| BenchError::Io("starting tokio".into(), e))?;
    if engines != Engines::Postgres {
        runtime.block_on(on_sqlite(&plan))?;
    }
    if engines != Engines::Sqlite {
        // Stopped and removed when this block ends, on error too.
        let cluster = crate::postgres::Cluster::start().map_err(BenchError::Cluster)?;
        runtime.block_on(on_postgres(&plan, &Engine::Postgres(cluster.url.clone())))?;
    }
    Ok(())
}

async fn on_sqlite(plan: &Plan) -> BenchResult {
    println!(
        "reliability: {} duplicate place-order requests for one authorization (SQLite)",
        plan.duplicates
    );
    let dup = duplicates::run(plan, &Engine::Sqlite, 1).await?;
    println!(
        "reliability: {} checkouts while the server is SIGKILLed every {}–{} ms (seed {}, SQLite)",
        plan.checkouts, plan.kill_pause_ms.0, plan.kill_pause_ms.1, plan.seed
    );
    let kills = chaos::run(plan, &Engine::Sqlite, 1).await?;
    println!();
    dup.print();
    kills.print(plan);
    Ok(())
}

/// Two instances on one PostgreSQL database; throughput with one and two (and SQLite's one).
async fn on_postgres(plan: &Plan, pg: &Engine) -> BenchResult {
    println!(
        "reliability: {} duplicate place-order requests, alternately at two instances (PostgreSQL)",
        plan.duplicates
    );
    let dup = duplicates::run(plan, pg, 2).await?;
    println!(
        "reliability: {} checkouts at two instances, the first SIGKILLed every {}–{} ms (seed {}, PostgreSQL)",
        plan.checkouts, plan.kill_pause_ms.0, plan.kill_pause_ms.1, plan.seed
    );
    let kills = chaos::run(plan, pg, 2).await?;
    let mut rows = Vec::new();
    for (engine, instances) in [(&Engine::Sqlite, 1), (pg, 1), (pg, 2)] {
        println!(
            "reliability: {} session starts, {} instance(s) on {}",
            plan.throughput_requests,
            instances,
            engine.name()
        );
        rows.push(throughput::run(plan, engine, instances).await?);
    }
    println!();
    dup.print();
    kills.print(plan);
    throughput::print(&rows, plan);
    Ok(())
}
