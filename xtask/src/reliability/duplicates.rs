//! Scenario a: one approved checkout, then 1,000 place-order requests for the same session and
//! token released at the same instant (a shopper hammering Buy, a retrying proxy, many tabs).
//! Expected: every answer that is an order names the same order, and Klarna creates exactly one.
//! With several instances the requests alternate between them.

use super::client::{self, Placed};
use super::deploy::{Deployment, Engine};
use super::{BenchError, BenchResult, Plan};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Figures {
    /// Engine and instances, for the heading.
    pub label: String,
    pub requests: usize,
    pub answered_200: usize,
    /// Other answers by status; 0 = no HTTP answer at all.
    pub others: BTreeMap<u16, usize>,
    pub distinct_order_ids: usize,
    pub klarna_orders: usize,
    pub elapsed: Duration,
}

pub async fn run(plan: &Plan, engine: &Engine, instances: usize) -> BenchResult<Figures> {
    let http = client::http(plan.duplicates)?;
    let deployment = Deployment::start(engine, instances, "duplicates", &http).await?;
    let shop = deployment.shop(&http);
    let klarna = deployment.klarna(&http);
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
    for i in 0..plan.duplicates {
        let (shop, approved, barrier) = (shop.clone(), approved.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            shop.place_via(&approved, i).await
        });
    }
    let mut figures = Figures {
        label: format!("{}, {instances} instance(s)", engine.name()),
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
        println!(
            "## Duplicate place-order requests (one authorization, all released at once; {})",
            self.label
        );
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
