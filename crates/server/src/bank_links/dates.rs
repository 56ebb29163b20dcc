//! A bank link's days, all on the server's clock (`AppState::clock`): the default start of the
//! consent (1 January of the current year), the refusal of a start in the future, the consent
//! window's last day, and how many days a consent has left. Pure functions of "today", so their tests pick the day.

use crate::error::AppError;
use crate::lang::say;
use crate::state::AppState;
use klarna::api::{ConsentState, ConsentStatus};
use klarna::date::Date;
use klarna::FieldProblem;

/// Banks grant at most 90 days of access per consent.
pub const CONSENT_DAYS: i64 = 90;
/// From this many days left, the bookkeeper is asked to renew.
const WARN_DAYS: i64 = 14;

/// The last day of the transactions window a session asks for on `asked_on`, and the day its
/// consent is taken to end: `asked_on` + [`CONSENT_DAYS`] (ERPNext Banking asks the same).
pub fn consent_end(asked_on: Date) -> Date {
    asked_on.add_days(CONSENT_DAYS)
}

/// Today (UTC) on the server's clock.
pub(super) fn today(app: &AppState) -> Date {
    Date::from_unix(app.clock.now())
}

/// The start date: given (not in the future) or 1 January of `today`'s year.
pub(super) fn start_date(given: Option<&str>, today: Date) -> Result<Date, AppError> {
    let Some(text) = given.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(today.start_of_year());
    };
    let date = Date::parse(text).ok_or_else(|| {
        AppError::field(
            "start_date",
            FieldProblem::RejectedByKlarna,
            say(
                "start_date: use a date like 2026-01-01.",
                "start_date: Bitte ein Datum wie 2026-01-01 angeben.",
            ),
        )
    })?;
    if date > today {
        return Err(AppError::field(
            "start_date",
            FieldProblem::RejectedByKlarna,
            say(
                "start_date: the start date cannot be in the future; transactions are fetched from it onwards.",
                "start_date: Das Startdatum darf nicht in der Zukunft liegen; ab ihm werden die Umsätze abgerufen.",
            ),
        ));
    }
    Ok(date)
}

pub(super) fn consent_status(expires_on: &str, today: Date) -> ConsentStatus {
    let days_left = Date::parse(expires_on)
        .map(|d| d.days() - today.days())
        .unwrap_or(0);
    let state = if days_left <= 0 {
        ConsentState::Expired
    } else if days_left <= WARN_DAYS {
        ConsentState::Expiring
    } else {
        ConsentState::Valid
    };
    ConsentStatus {
        state,
        expires_on: expires_on.to_string(),
        days_left: days_left.max(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).unwrap_or_else(|| panic!("{text}"))
    }

    #[test]
    fn a_link_starts_on_1_january_of_todays_year_unless_told_otherwise() {
        let start = |given, today| start_date(given, day(today)).map(|d| d.to_string()).ok();
        assert_eq!(start(None, "2026-06-15").as_deref(), Some("2026-01-01"));
        // New Year's Day and the day after: the year that just began, never the future.
        assert_eq!(start(None, "2027-01-01").as_deref(), Some("2027-01-01"));
        assert_eq!(
            start(Some(" "), "2027-01-02").as_deref(),
            Some("2027-01-01")
        );
        assert_eq!(start(None, "2028-02-29").as_deref(), Some("2028-01-01"));
        assert_eq!(
            start(Some("2026-12-31"), "2027-01-02").as_deref(),
            Some("2026-12-31"),
            "last year's books"
        );
        assert_eq!(
            start(Some("2027-01-02"), "2027-01-02").as_deref(),
            Some("2027-01-02")
        );
        let refused = |given, today| start_date(Some(given), day(today)).err();
        let future = refused("2027-01-03", "2027-01-02").map(|e| e.body.message);
        assert!(future.is_some_and(|m| m.contains("future")));
        assert!(refused("2027-02-30", "2027-01-02").is_some());
    }

    #[test]
    fn a_consent_counts_its_days_on_the_given_today() {
        let status = |today| consent_status("2026-09-13", day(today));
        let valid = status("2026-06-15");
        assert_eq!((valid.state, valid.days_left), (ConsentState::Valid, 90));
        let expiring = status("2026-08-30");
        assert_eq!(
            (expiring.state, expiring.days_left),
            (ConsentState::Expiring, 14)
        );
        let expired = status("2026-09-13");
        assert_eq!(
            (expired.state, expired.days_left),
            (ConsentState::Expired, 0)
        );
        assert_eq!(status("2027-01-02").days_left, 0);
    }
}
