//! One shopper of the kill run: opens the checkout (reloading while the server restarts),
//! takes a moment, approves at Klarna, and presses Buy at once (as the component does). Most
//! press again until they get a definitive answer; the rest close the tab after the first
//! failure, leaving the order to the server alone. With several instances, every request goes
//! to one picked at random (the other when it is down), as behind a load balancer. Every loop
//! is bounded in presses and in time.

use super::client::{Approved, Placed, Shop};
use super::rng::Rng;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX_TRIES: u32 = 60;
const MAX_TIME: Duration = Duration::from_secs(90);
/// A shopper's pause before pressing again (or reloading): a person, not a synchronisation.
const PATIENCE_MS: (u64, u64) = (100, 400);
/// Filling in the address and confirming in Klarna's dialog; spreads the run over more kills.
const THINK_MS: (u64, u64) = (200, 1000);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Saw the order (200).
    Ordered,
    /// A definitive refusal, with its status.
    Refused(u16),
    /// Closed the tab after the first press without a definitive answer.
    WalkedAway,
    /// Pressed Buy `MAX_TRIES` times or for `MAX_TIME` without a definitive answer.
    GaveUp,
    /// Never got a checkout page from our server.
    NoCheckout,
    /// Klarna did not approve (not expected with the approved test customer).
    NotApproved,
}

pub struct Shopper {
    pub walks_away: bool,
    pub approved: Option<Approved>,
    pub outcome: Outcome,
    pub presses: u32,
}

/// Counts place-order requests on the wire, so the killer can tell whether a kill hit one.
struct OnTheWire(Arc<AtomicUsize>);

impl OnTheWire {
    fn new(count: &Arc<AtomicUsize>) -> OnTheWire {
        count.fetch_add(1, Ordering::SeqCst);
        OnTheWire(count.clone())
    }
}

impl Drop for OnTheWire {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub async fn shop(
    shop: Shop,
    walks_away: bool,
    mut rng: Rng,
    placing: Arc<AtomicUsize>,
) -> Shopper {
    let mut shopper = Shopper {
        walks_away,
        approved: None,
        outcome: Outcome::NoCheckout,
        presses: 0,
    };
    let started = Instant::now();
    let mut checkout = None;
    for _ in 0..MAX_TRIES {
        let via = pick(&shop, &mut rng);
        checkout = shop.start_checkout_via(via).await;
        if checkout.is_some() || started.elapsed() > MAX_TIME {
            break;
        }
        pause(&mut rng).await;
    }
    let Some((session, client_token)) = checkout else {
        return shopper;
    };
    tokio::time::sleep(Duration::from_millis(rng.between(THINK_MS))).await;
    let Ok(approved) = shop.approve(session, &client_token).await else {
        shopper.outcome = Outcome::NotApproved;
        return shopper;
    };
    let started = Instant::now();
    shopper.outcome = loop {
        shopper.presses += 1;
        let via = pick(&shop, &mut rng);
        let placed = {
            let _wire = OnTheWire::new(&placing);
            shop.place_via(&approved, via).await
        };
        match placed {
            Placed::Order(_) => break Outcome::Ordered,
            Placed::Refused(status) => break Outcome::Refused(status),
            Placed::Undecided(_) if walks_away => break Outcome::WalkedAway,
            Placed::Undecided(_)
                if shopper.presses >= MAX_TRIES || started.elapsed() > MAX_TIME =>
            {
                break Outcome::GaveUp
            }
            Placed::Undecided(_) => pause(&mut rng).await,
        }
    };
    shopper.approved = Some(approved);
    shopper
}

/// A random instance; with one instance the generator is left alone (the SQLite run's choices
/// stay those of its seed).
fn pick(shop: &Shop, rng: &mut Rng) -> usize {
    match shop.servers.len() {
        0 | 1 => 0,
        n => (rng.next_u64() % n as u64) as usize,
    }
}

async fn pause(rng: &mut Rng) {
    tokio::time::sleep(Duration::from_millis(rng.between(PATIENCE_MS))).await;
}
