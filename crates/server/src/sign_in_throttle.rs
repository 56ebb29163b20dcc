//! Sign-in attempts per client ([`ClientKey`]: the same address, or IPv6 /64, that the checkout
//! rate limits count by; behind a trusted proxy, the client it forwards for). Argon2 makes each guess slow for us too, so after a few wrong passwords an address
//! waits before the server verifies another one: guessing stays hopeless and nobody can keep
//! the machine busy with it. An attempt counts when it starts, so parallel guesses cannot all
//! slip through before the first one is judged; a right password clears the count.

use crate::client_addr::ClientKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Wrong passwords allowed per window before the address must wait.
pub const MAX_FAILURES: u32 = 5;
/// The window, and the wait once it is used up.
pub const WINDOW_SECS: i64 = 60;

#[derive(Clone, Default)]
pub struct SignInThrottle(Arc<Mutex<HashMap<ClientKey, (u32, i64)>>>);

impl SignInThrottle {
    /// Counts an attempt of `client`, or says how many seconds it must still wait.
    pub fn attempt(&self, client: ClientKey, now: i64) -> Result<(), i64> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, (_, since)| now - *since < WINDOW_SECS);
        let entry = all.entry(client).or_insert((0, now));
        if entry.0 >= MAX_FAILURES {
            return Err(WINDOW_SECS - (now - entry.1));
        }
        entry.0 += 1;
        Ok(())
    }

    pub fn succeeded(&self, client: ClientKey) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_make_an_address_wait_a_minute_and_others_not() {
        let t = SignInThrottle::default();
        let key = |s: &str| ClientKey::of(s.parse().unwrap());
        let ip = key("192.0.2.1");
        let other = key("192.0.2.2");
        for s in 0..MAX_FAILURES as i64 {
            assert_eq!(t.attempt(ip, 100 + s), Ok(()));
        }
        assert_eq!(t.attempt(ip, 110), Err(50));
        assert_eq!(t.attempt(other, 110), Ok(()));
        assert_eq!(
            t.attempt(ip, 100 + WINDOW_SECS),
            Ok(()),
            "the window passed"
        );
        t.succeeded(ip);
        for s in 0..MAX_FAILURES as i64 {
            assert_eq!(
                t.attempt(ip, 200 + s),
                Ok(()),
                "a right password cleared the count"
            );
        }
    }

    #[test]
    fn addresses_of_one_ipv6_64_share_their_attempts() {
        let t = SignInThrottle::default();
        for n in 0..MAX_FAILURES {
            let ip = format!("2001:db8:1:2::{n:x}").parse().unwrap();
            assert_eq!(t.attempt(ClientKey::of(ip), 100), Ok(()));
        }
        let next = ClientKey::of("2001:db8:1:2:ffff::1".parse().unwrap());
        assert_eq!(t.attempt(next, 100), Err(WINDOW_SECS));
        let neighbour = ClientKey::of("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(t.attempt(neighbour, 100), Ok(()));
    }
}
