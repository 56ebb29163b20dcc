//! Scenario c: how many checkout sessions per second our server starts, and how long one takes,
//! with one instance and with two on the same machine and database. Exists to show what a
//! second instance costs or gains on PostgreSQL (and where SQLite stands with one). Every
//! session also costs a call to the sandbox, which runs on the same cores.

use super::client;
use super::deploy::{Deployment, Engine};
use super::{BenchResult, Plan};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests before the measured ones, so connection set-up and first queries are not counted.
const WARM_UP: usize = 50;

pub struct Figures {
    pub engine: &'static str,
    pub instances: usize,
    pub requests: usize,
    pub failed: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

pub async fn run(plan: &Plan, engine: &Engine, instances: usize) -> BenchResult<Figures> {
    let http = client::http(plan.throughput_clients)?;
    let name = format!("throughput{instances}");
    let deployment = Deployment::start(engine, instances, &name, &http).await?;
    let servers: Arc<Vec<String>> = Arc::new(deployment.shop(&http).servers);
    let _ = measure(&http, &servers, WARM_UP, plan.throughput_clients).await;
    let started = Instant::now();
    let mut latencies = measure(
        &http,
        &servers,
        plan.throughput_requests,
        plan.throughput_clients,
    )
    .await;
    let elapsed = started.elapsed();
    let failed = latencies.iter().filter(|l| l.is_none()).count();
    let mut ok: Vec<Duration> = latencies.drain(..).flatten().collect();
    ok.sort();
    let at = |q: f64| {
        ok.get(((ok.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    Ok(Figures {
        engine: engine.name(),
        instances: servers.len(),
        requests: plan.throughput_requests,
        failed,
        per_second: ok.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50: at(0.50),
        p99: at(0.99),
    })
}

/// `requests` session starts by `clients` clients, request `i` to instance `i mod n`; the
/// latency of each (`None`: no 200).
async fn measure(
    http: &reqwest::Client,
    servers: &Arc<Vec<String>>,
    requests: usize,
    clients: usize,
) -> Vec<Option<Duration>> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, servers, next) = (http.clone(), servers.clone(), next.clone());
        tasks.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= requests {
                    break mine;
                }
                let server = &servers[i % servers.len()];
                let t = Instant::now();
                let r = http
                    .post(format!("{server}/api/checkout/sessions"))
                    .json(&json!({"cart": "demo", "locale": "de-DE"}))
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                mine.push(ok.then(|| t.elapsed()));
            }
        });
    }
    let mut all = Vec::with_capacity(requests);
    while let Some(done) = tasks.join_next().await {
        all.extend(done.unwrap_or_default());
    }
    all
}

pub fn print(rows: &[Figures], plan: &Plan) {
    println!(
        "## Session starts: {} `POST /api/checkout/sessions` by {} concurrent clients, round-robin",
        plan.throughput_requests, plan.throughput_clients
    );
    println!();
    println!("| engine | instances | requests/s | p50 | p99 | failed |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {} of {} |",
            r.engine,
            r.instances,
            r.per_second,
            r.p50.as_secs_f64() * 1000.0,
            r.p99.as_secs_f64() * 1000.0,
            r.failed,
            r.requests
        );
    }
    println!();
}
