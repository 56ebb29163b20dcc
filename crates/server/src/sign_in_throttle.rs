//! Failed sign-ins per client address. Argon2 makes each guess slow for us too, so after a few
//! wrong passwords an address waits before the server verifies another one: guessing stays
//! hopeless and nobody can keep the machine busy with it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Wrong passwords allowed per window before the address must wait.
pub const MAX_FAILURES: u32 = 5;
/// The window, and the wait once it is used up.
pub const WINDOW_SECS: i64 = 60;

#[derive(Clone, Default)]
pub struct SignInThrottle(Arc<Mutex<HashMap<IpAddr, (u32, i64)>>>);

impl SignInThrottle {
    /// Seconds `ip` must still wait, if it used up its attempts.
    pub fn wait(&self, ip: IpAddr, now: i64) -> Option<i64> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, (_, since)| now - *since < WINDOW_SECS);
        match all.get(&ip) {
            Some((failures, since)) if *failures >= MAX_FAILURES => {
                Some(WINDOW_SECS - (now - since))
            }
            _ => None,
        }
    }

    pub fn failed(&self, ip: IpAddr, now: i64) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = all.entry(ip).or_insert((0, now));
        if now - entry.1 >= WINDOW_SECS {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    pub fn succeeded(&self, ip: IpAddr) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_make_an_address_wait_a_minute_and_others_not() {
        let t = SignInThrottle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        for s in 0..MAX_FAILURES as i64 {
            assert_eq!(t.wait(ip, 100 + s), None);
            t.failed(ip, 100 + s);
        }
        assert_eq!(t.wait(ip, 110), Some(50));
        assert_eq!(t.wait(other, 110), None);
        assert_eq!(t.wait(ip, 100 + WINDOW_SECS), None, "the window passed");
        t.failed(ip, 200);
        t.succeeded(ip);
        assert_eq!(t.wait(ip, 201), None);
    }
}
