//! Klarna's token lifetimes (authorization 60 minutes, session 48 hours) are tested by moving
//! this clock, not by waiting; and a test that depends on the calendar (a bank's history, a
//! consent's 90 days, "1 January of this year") sets it to a fixed instant, so it passes on any
//! day it runs. The clock keeps an offset from real time: once set or advanced it goes on
//! ticking at real speed, so timeouts measured on it still pass while a test waits.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Cheap to clone: all clones share one "now".
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Clock {
    /// Seconds since the Unix epoch, as the sandbox sees it.
    pub fn now(&self) -> i64 {
        real_now() + self.offset_secs.load(Ordering::SeqCst)
    }

    /// Moves the clock to `unix_secs`; it runs on from there.
    pub fn set(&self, unix_secs: i64) {
        self.offset_secs
            .store(unix_secs - real_now(), Ordering::SeqCst);
    }

    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::SeqCst);
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.offset_secs.store(0, Ordering::SeqCst);
    }
}

/// RFC 3339 rendering of a Unix time, for `expires_at` fields.
pub fn rfc3339(secs: i64) -> String {
    let day = klarna::date::Date::from_unix(secs);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{day}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-06-15T10:00:00Z.
    const JUNE: i64 = 1_781_517_600;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(rfc3339(JUNE), "2026-06-15T10:00:00Z");
    }

    #[test]
    fn a_set_clock_runs_on_from_the_instant_and_clones_share_it() {
        let c = Clock::default();
        let shared = c.clone();
        c.set(JUNE);
        // However long this takes, far less than an hour passes.
        assert!(
            (JUNE..JUNE + 3600).contains(&shared.now()),
            "{}",
            shared.now()
        );
        shared.advance(3601);
        assert!((JUNE + 3601..JUNE + 7200).contains(&c.now()), "{}", c.now());
        c.set(0);
        assert!((0..3600).contains(&c.now()), "{}", c.now());
        c.reset();
        assert!((real_now() - c.now()).abs() < 3600);
    }
}
