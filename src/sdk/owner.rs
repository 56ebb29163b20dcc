//! Klarna's `api.js` holds one client token per page: `Klarna.Payments.init` with another token
//! replaces it and forgets the widgets loaded before. So one checkout at a time owns Klarna.
//! A checkout takes it when it starts or when the shopper comes back to it; the one that had
//! it pauses. Never while the owner is in the middle of a purchase (Klarna's dialog open, its
//! order being placed): the newcomer waits, paused, instead. When the owner goes, the checkout
//! that waited last is woken to take Klarna back.

use std::cell::RefCell;

/// What the page knows of one checkout.
pub struct Claimant {
    pub uid: u32,
    /// `true` while it must keep Klarna (a purchase under way).
    pub busy: Box<dyn Fn() -> bool>,
    /// It lost Klarna to another checkout.
    pub pause: Box<dyn Fn()>,
    /// Klarna is free again: take it back if still waiting.
    pub wake: Box<dyn Fn()>,
}

thread_local! {
    static OWNER: RefCell<Option<Claimant>> = const { RefCell::new(None) };
    /// Paused checkouts, the most recent last.
    static WAITING: RefCell<Vec<Claimant>> = const { RefCell::new(Vec::new()) };
}

/// How a claim went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Klarna is initialised with this checkout's token.
    Taken,
    /// Another checkout is mid-purchase: this one waits, paused.
    Wait,
}

/// Takes Klarna for `claimant`, initialising it with `init` (its own token). On `init`'s
/// failure nothing changes hands.
pub fn claim(
    claimant: Claimant,
    init: impl FnOnce() -> Result<(), String>,
) -> Result<Claim, String> {
    let uid = claimant.uid;
    let owner_busy = OWNER.with(|o| {
        o.borrow()
            .as_ref()
            .is_some_and(|owner| owner.uid != uid && (owner.busy)())
    });
    if owner_busy {
        wait(claimant);
        return Ok(Claim::Wait);
    }
    init()?;
    let previous = OWNER.with(|o| o.borrow_mut().replace(claimant));
    WAITING.with(|w| w.borrow_mut().retain(|c| c.uid != uid));
    if let Some(previous) = previous.filter(|p| p.uid != uid) {
        (previous.pause)();
        wait(previous);
    }
    Ok(Claim::Taken)
}

fn wait(claimant: Claimant) {
    WAITING.with(|w| {
        let mut waiting = w.borrow_mut();
        waiting.retain(|c| c.uid != claimant.uid);
        waiting.push(claimant);
    });
}

/// A destroyed checkout leaves: if it owned Klarna, the checkout that waited last takes it.
pub fn release(uid: u32) {
    WAITING.with(|w| w.borrow_mut().retain(|c| c.uid != uid));
    let owned = OWNER.with(|o| {
        let mut owner = o.borrow_mut();
        let owned = owner.as_ref().is_some_and(|c| c.uid == uid);
        if owned {
            *owner = None;
        }
        owned
    });
    if owned {
        if let Some(next) = WAITING.with(|w| w.borrow_mut().pop()) {
            (next.wake)();
        }
    }
}
