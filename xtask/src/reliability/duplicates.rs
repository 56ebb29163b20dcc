//! Scenario a: one approved checkout, then 1,000 place-order requests for the same session and
//! token released at the same instant (a shopper hammering Buy, a retrying proxy, many tabs).
//! Expected: every answer that is an order names the same order, and Klarna creates exactly one.

use super::client::{self, Klarna, Placed, Shop};
use super::procs::{SandboxProcess, Scratch, ServerProcess};
use super::{BenchError, BenchResult, Plan};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Figures {
    pub requests: usize,
    pub answered_200: usize,
    /// Other answers by status; 0 = no HTTP answer at all.
    pub others: BTreeMap<u16, usize>,
    pub distinct_order_ids: usize,
    pub klarna_orders: usize,
    pub elapsed: Duration,
}

pub async fn run(plan: &Plan) -> BenchResult<Figures> {
    let scratch = Scratch::new("duplicates")?;
    let sandbox = SandboxProcess::start()?;
    let http = client::http(plan.duplicates)?;
    let server = ServerProcess::start(&scratch, &sandbox, &http).await?;
    let shop = Shop {
        http: http.clone(),
        server: server.url(),
        klarna: sandbox.api_url(),
    };
    let klarna = Klarna {
        http,
        base: sandbox.api_url(),
    };
    let (session, client_token) =
        shop.start_checkout()
            .await
            .ok_or_else(|| BenchError::Unexpected {
                what: "starting the checkout",
                detail: "no session from our server".into(),
            })?;
    let approved = Arc::new(shop.approve(session, &client_token).await?);
    // Every request is built and waiting; the barrier releases them together.
    let barrier = Arc::new(tokio::sync::Barrier::new(plan.duplicates));
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for _ in 0..plan.duplicates {
        let (shop, approved, barrier) = (shop.clone(), approved.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            shop.place(&approved).await
        });
    }
    let mut figures = Figures {
        requests: plan.duplicates,
        answered_200: 0,
        others: BTreeMap::new(),
        distinct_order_ids: 0,
        klarna_orders: 0,
        elapsed: Duration::ZERO,
    };
    let mut ids = HashSet::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Placed::Order(id)) => {
                figures.answered_200 += 1;
                ids.insert(id);
            }
            Ok(Placed::Refused(status) | Placed::Undecided(status)) => {
                *figures.others.entry(status).or_insert(0) += 1
            }
            Err(_) => *figures.others.entry(0).or_insert(0) += 1,
        }
    }
    figures.elapsed = started.elapsed();
    figures.distinct_order_ids = ids.len();
    figures.klarna_orders = klarna
        .orders()
        .await?
        .iter()
        .filter(|o| o.merchant_reference1.as_deref() == Some(approved.session.as_str()))
        .count();
    Ok(figures)
}

impl Figures {
    pub fn print(&self) {
        println!("## Duplicate place-order requests (one authorization, all released at once)");
        println!();
        println!("| figure | value |");
        println!("|---|---:|");
        println!("| requests | {} |", self.requests);
        println!("| answered 200 | {} |", self.answered_200);
        for (status, n) in &self.others {
            let what = if *status == 0 {
                "no HTTP answer".to_string()
            } else {
                format!("answered {status}")
            };
            println!("| {what} | {n} |");
        }
        println!(
            "| distinct order ids in the answers | {} |",
            self.distinct_order_ids
        );
        println!(
            "| orders Klarna created (expected: 1) | {} |",
            self.klarna_orders
        );
        println!(
            "| wall time for all answers | {} ms |",
            self.elapsed.as_millis()
        );
        println!();
    }
}
