//! Scenario b: 200 checkouts while a killer SIGKILLs our server at random moments and restarts
//! it on the same port and database. Klarna (its own process) holds every order answer back
//! 100–300 ms, so kills land between Klarna's commit and our database write. Afterwards the
//! server stays up until our database holds every order Klarna created (or a deadline passes),
//! and the books are compared. With two instances on one PostgreSQL database, the shoppers
//! spread over both and only the first instance is killed.

use super::client::{self, Klarna, Shop};
use super::deploy::{Deployment, Engine};
use super::ledger::{self, Comparison};
use super::procs::ServerProcess;
use super::rng::Rng;
use super::shopper::{self, Outcome, Shopper};
use super::{BenchResult, Plan};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// However long the shoppers take, the killer stops after this many kills.
const MAX_KILLS: u32 = 2000;
const SETTLE_POLL: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Kills {
    total: u32,
    /// A place-order request of a shopper was on the wire.
    order_in_flight: u32,
    /// Klarna had committed an order and was still holding its answer back.
    klarna_answer_held: u32,
}

pub struct Figures {
    label: String,
    shoppers: Vec<Shopper>,
    /// Shoppers still busy when the run's time bound ended.
    unfinished: usize,
    kills: Kills,
    server_starts: u32,
    books: Comparison,
    /// Approved checkouts with no Klarna order at the end (nobody created it).
    unfulfilled: Vec<bool>,
    /// When our database held every Klarna order and every approval had its order.
    settled_after: Option<Duration>,
    settle_limit: Duration,
    run_time: Duration,
}

pub async fn run(plan: &Plan, engine: &Engine, instances: usize) -> BenchResult<Figures> {
    let http = client::http(plan.concurrent_shoppers * 2)?;
    let mut deployment = Deployment::start(engine, instances, "kills", &http).await?;
    let shop = deployment.shop(&http);
    let klarna = deployment.klarna(&http);
    // The only one killed; any other instance stays up throughout.
    let server = &mut deployment.servers[0];
    let mut rng = Rng::new(plan.seed);
    klarna
        .delay_order_answers(rng.between(plan.answer_delay_ms))
        .await?;
    let placing = Arc::new(AtomicUsize::new(0));
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let shoppers = async {
        let done = shoppers(plan, &shop, &placing).await;
        let _ = stop.send(true);
        done
    };
    let killer = killer(plan, server, &klarna, &http, &placing, rng, stopped);
    let ((shoppers, unfinished), kills) = tokio::join!(shoppers, killer);
    let kills = kills?;
    let run_time = started.elapsed();

    // The server stays up; no more faults. Wait for the books to agree, bounded.
    klarna.delay_order_answers(0).await?;
    let settle_start = Instant::now();
    let (books, unfulfilled, settled_after) = loop {
        let theirs = klarna.orders().await?;
        let ours = deployment.our_orders().await?;
        let books = ledger::compare(&theirs, &ours);
        let per = client::orders_per_checkout(&theirs);
        let unfulfilled: Vec<bool> = shoppers
            .iter()
            .filter_map(|s| s.approved.as_ref().map(|a| (s.walks_away, a)))
            .filter(|(_, a)| !per.contains_key(&a.session))
            .map(|(walks_away, _)| walks_away)
            .collect();
        if books.settled() && unfulfilled.is_empty() {
            break (books, unfulfilled, Some(settle_start.elapsed()));
        }
        if settle_start.elapsed() > plan.settle {
            break (books, unfulfilled, None);
        }
        tokio::time::sleep(SETTLE_POLL).await;
    };
    Ok(Figures {
        label: format!(
            "{}, {} instance(s), the first one killed",
            engine.name(),
            deployment.servers.len()
        ),
        shoppers,
        unfinished,
        kills,
        server_starts: deployment.servers.iter().map(|s| s.starts).sum(),
        books,
        unfulfilled,
        settled_after,
        settle_limit: plan.settle,
        run_time,
    })
}

/// All shoppers, `concurrent_shoppers` at a time, within `chaos_limit`; returns the finished
/// ones and how many were still busy at the limit.
async fn shoppers(plan: &Plan, shop: &Shop, placing: &Arc<AtomicUsize>) -> (Vec<Shopper>, usize) {
    let gate = Arc::new(tokio::sync::Semaphore::new(plan.concurrent_shoppers));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..plan.checkouts {
        let mut rng = Rng::new(plan.seed.wrapping_add(1 + i as u64));
        let walks_away = rng.percent(plan.walk_away_percent);
        let (shop, placing, gate) = (shop.clone(), placing.clone(), gate.clone());
        tasks.spawn(async move {
            let _turn = gate.acquire_owned().await;
            shopper::shop(shop, walks_away, rng, placing).await
        });
    }
    let deadline = tokio::time::Instant::now() + plan.chaos_limit;
    let mut done = Vec::with_capacity(plan.checkouts);
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
        if let Ok(shopper) = joined {
            done.push(shopper);
        }
    }
    tasks.abort_all();
    let unfinished = plan.checkouts - done.len();
    (done, unfinished)
}

/// Kills the server after a random pause, restarts it and waits until it answers, until the
/// shoppers are done. Before each kill it notes whether an order call was in flight.
async fn killer(
    plan: &Plan,
    server: &mut ServerProcess,
    klarna: &Klarna,
    http: &reqwest::Client,
    placing: &AtomicUsize,
    mut rng: Rng,
    mut stopped: watch::Receiver<bool>,
) -> BenchResult<Kills> {
    let mut kills = Kills::default();
    while kills.total < MAX_KILLS && !*stopped.borrow() {
        let pause = Duration::from_millis(rng.between(plan.kill_pause_ms));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => break,
        }
        let in_flight = placing.load(Ordering::SeqCst) > 0;
        let held = klarna.held_answers().await.unwrap_or(0) > 0;
        server.kill();
        kills.total += 1;
        kills.order_in_flight += u32::from(in_flight);
        kills.klarna_answer_held += u32::from(held);
        klarna
            .delay_order_answers(rng.between(plan.answer_delay_ms))
            .await?;
        server.restart(http).await?;
    }
    Ok(kills)
}

impl Figures {
    pub fn print(&self, plan: &Plan) {
        let count = |f: &dyn Fn(&Shopper) -> bool| self.shoppers.iter().filter(|s| f(s)).count();
        let walkers = count(&|s| s.walks_away);
        let lost_walkers = {
            let walks: HashMap<&str, bool> = self
                .shoppers
                .iter()
                .filter_map(|s| {
                    s.approved
                        .as_ref()
                        .map(|a| (a.session.as_str(), s.walks_away))
                })
                .collect();
            self.books
                .lost
                .iter()
                .filter(|c| walks.get(c.as_str()).copied().unwrap_or(false))
                .count()
        };
        let refused: usize = count(&|s| matches!(s.outcome, Outcome::Refused(_)));
        println!(
            "## {} checkouts, server SIGKILLed every {}–{} ms, Klarna's order answers held back {}–{} ms ({})",
            plan.checkouts, plan.kill_pause_ms.0, plan.kill_pause_ms.1,
            plan.answer_delay_ms.0, plan.answer_delay_ms.1, self.label
        );
        println!();
        println!("| figure | value |");
        println!("|---|---:|");
        let row = |what: &str, value: String| println!("| {what} | {value} |");
        row(
            "shoppers who retry until answered / walk away after a failure",
            format!("{} / {walkers}", self.shoppers.len() - walkers),
        );
        row(
            "shoppers still busy at the time bound",
            self.unfinished.to_string(),
        );
        row(
            "checkouts approved at Klarna",
            count(&|s| s.approved.is_some()).to_string(),
        );
        row(
            "shoppers who saw their order",
            count(&|s| s.outcome == Outcome::Ordered).to_string(),
        );
        row(
            "walked away without an answer",
            count(&|s| s.outcome == Outcome::WalkedAway).to_string(),
        );
        row(
            "gave up after 60 presses or 90 s",
            count(&|s| s.outcome == Outcome::GaveUp).to_string(),
        );
        row("refused (definitive non-200)", refused.to_string());
        row(
            "never got a checkout",
            count(&|s| s.outcome == Outcome::NoCheckout).to_string(),
        );
        row(
            "Buy presses in total",
            self.shoppers
                .iter()
                .map(|s| s.presses)
                .sum::<u32>()
                .to_string(),
        );
        row("kills (SIGKILL)", self.kills.total.to_string());
        row(
            "kills with a place-order request in flight",
            self.kills.order_in_flight.to_string(),
        );
        row(
            "kills while Klarna held a committed order's answer",
            self.kills.klarna_answer_held.to_string(),
        );
        row("server starts", self.server_starts.to_string());
        row(
            "**orders Klarna created**",
            self.books.klarna_orders.to_string(),
        );
        row(
            "**orders in our database**",
            self.books.our_orders.to_string(),
        );
        row(
            "**lost** (in Klarna, not in our database)",
            format!("{} ({lost_walkers} of walk-aways)", self.books.lost.len()),
        );
        row(
            "**doubled** (checkouts with more than one Klarna order)",
            format!(
                "{} ({} extra orders)",
                self.books.doubled_checkouts, self.books.extra_orders
            ),
        );
        row(
            "orders in our database unknown to Klarna",
            self.books.unknown_to_klarna.to_string(),
        );
        row(
            "checkouts with more than one order in our database",
            self.books.our_doubled_checkouts.to_string(),
        );
        row(
            "our orders missing their currency",
            match self.books.missing_currency {
                Some(n) => n.to_string(),
                None => "n/a (no `purchase_currency` column)".into(),
            },
        );
        let unfulfilled_walkers = self.unfulfilled.iter().filter(|w| **w).count();
        row(
            "approved checkouts that never got an order",
            format!(
                "{} ({unfulfilled_walkers} of walk-aways)",
                self.unfulfilled.len()
            ),
        );
        row(
            "database caught up with Klarna",
            match self.settled_after {
                Some(d) => format!("after {:.1} s", d.as_secs_f64()),
                None => format!("not within {} s", self.settle_limit.as_secs()),
            },
        );
        row(
            "duration of the kill run",
            format!("{:.1} s", self.run_time.as_secs_f64()),
        );
        println!();
    }
}
