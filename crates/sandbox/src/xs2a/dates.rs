//! Calendar dates (`YYYY-MM-DD`) on the sandbox clock. XS2A speaks in dates, not instants, and
//! the sandbox needs only a few operations on them, so a day number is enough and no date crate
//! is pulled in.

use serde::{Serialize, Serializer};
use std::fmt;

const SECS_PER_DAY: i64 = 86_400;

/// A calendar day, counted from 1970-01-01 (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Date(i64);

impl Date {
    /// The UTC day a Unix time falls on.
    pub fn from_unix(secs: i64) -> Date {
        Date(secs.div_euclid(SECS_PER_DAY))
    }

    /// Accepts exactly `YYYY-MM-DD` with a day that exists in that month.
    pub fn parse(s: &str) -> Option<Date> {
        klarna::date::Date::parse(s).map(|d| Date(d.days()))
    }

    pub fn from_ymd(y: i64, m: u32, d: u32) -> Date {
        Date(
            klarna::date::Date {
                year: y as i32,
                month: m,
                day: d,
            }
            .days(),
        )
    }

    pub fn ymd(self) -> (i64, u32, u32) {
        let d = klarna::date::Date::from_days(self.0);
        (i64::from(d.year), d.month, d.day)
    }

    /// Days since 1970-01-01; also the seed of the demo data of that day.
    pub fn day_number(self) -> i64 {
        self.0
    }

    pub fn plus_days(self, days: i64) -> Date {
        Date(self.0.saturating_add(days))
    }

    /// Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday).
    pub fn weekday(self) -> u32 {
        (self.0 + 3).rem_euclid(7) as u32
    }

    pub fn is_last_of_month(self) -> bool {
        self.plus_days(1).ymd().2 == 1
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_formats() {
        assert_eq!(Date::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix(1_795_000_000).to_string(), "2026-11-18");
        for s in ["2024-02-29", "2000-12-31", "1999-01-01", "2026-07-15"] {
            assert_eq!(Date::parse(s).map(|d| d.to_string()).as_deref(), Some(s));
        }
        assert_eq!(
            Date::from_ymd(2026, 3, 1),
            Date::parse("2026-03-01").unwrap_or(Date(0))
        );
    }

    #[test]
    fn refuses_malformed_dates() {
        for s in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "24-01-01",
            "2024-01-32",
            "2024/01/01",
            "+024-01-01",
        ] {
            assert_eq!(Date::parse(s), None, "{s}");
        }
    }

    #[test]
    fn weekdays_and_month_ends() {
        assert_eq!(Date::from_ymd(1970, 1, 1).weekday(), 3);
        assert_eq!(Date::from_ymd(2026, 6, 1).weekday(), 0);
        assert!(Date::from_ymd(2024, 2, 29).is_last_of_month());
        assert!(!Date::from_ymd(2023, 2, 27).is_last_of_month());
    }
}
