//! The sync's pure rules on fixed dates: where a sync starts and ends.

use super::{first_day, last_day, Date};
use crate::bank_store::{StoredAccount, StoredConnection, SyncTarget};

fn target(consent_start: &str, last_synced: Option<&str>) -> SyncTarget {
    SyncTarget {
        account: StoredAccount {
            id: "a".into(),
            xs2a_account_id: "x".into(),
            iban: "DE00".into(),
            name: "Giro".into(),
            holder_name: "H".into(),
            balance: 0,
            currency: "EUR".into(),
        },
        connection: StoredConnection {
            id: "c".into(),
            company: "C".into(),
            bank_name: "B".into(),
            bank_code: "88888888".into(),
            consent_id: "k".into(),
            consent_token_sealed: String::new(),
            consent_start: consent_start.into(),
            consent_expires_on: "2999-01-01".into(),
        },
        last_synced_date: last_synced.map(Into::into),
        pending_since: None,
    }
}

#[test]
fn a_sync_resumes_where_it_ended_but_never_before_the_consent() {
    let today = Date::parse("2026-06-15").unwrap();
    let first = |start, last| first_day(&target(start, last), None, today).ok();
    assert_eq!(first("2026-01-01", None).as_deref(), Some("2026-01-01"));
    assert_eq!(
        first("2026-01-01", Some("2026-03-10")).as_deref(),
        Some("2026-03-10")
    );
    // Relinked with a later start after the last sync: Klarna would refuse the old date.
    assert_eq!(
        first("2026-05-01", Some("2026-03-10")).as_deref(),
        Some("2026-05-01")
    );
    let t = target("2026-01-01", None);
    assert!(first_day(&t, Some("2025-12-31"), today).is_err());
    assert!(first_day(&t, Some("2026-06-16"), today).is_err(), "future");
    assert_eq!(
        first_day(&t, Some("2026-06-15"), today).ok().as_deref(),
        Some("2026-06-15")
    );
    assert_eq!(
        first_day(&t, Some("2026-02-01"), today).ok().as_deref(),
        Some("2026-02-01")
    );
}

#[test]
fn a_sync_ends_today_but_never_after_the_consents_last_day() {
    let mut t = target("2026-01-01", None);
    t.connection.consent_expires_on = "2026-06-20".into();
    let last = |today| last_day(&t, Date::parse(today).unwrap());
    assert_eq!(last("2026-06-15"), "2026-06-15");
    assert_eq!(last("2026-06-20"), "2026-06-20");
    assert_eq!(last("2026-06-21"), "2026-06-20");
}

#[test]
fn a_sync_goes_back_to_the_oldest_pending_transaction() {
    let today = Date::parse("2026-06-15").unwrap();
    let first = |start, last: Option<&str>, pending: &str| {
        let mut t = target(start, last);
        t.pending_since = Some(pending.into());
        first_day(&t, None, today).ok()
    };
    assert_eq!(
        first("2026-01-01", Some("2026-03-10"), "2026-03-08").as_deref(),
        Some("2026-03-08")
    );
    assert_eq!(
        first("2026-01-01", Some("2026-03-10"), "2026-03-12").as_deref(),
        Some("2026-03-10")
    );
    assert_eq!(
        first("2026-01-01", None, "2026-03-12").as_deref(),
        Some("2026-03-12")
    );
    assert_eq!(
        first("2026-05-01", Some("2026-05-10"), "2026-03-08").as_deref(),
        Some("2026-05-01"),
        "never before the consent"
    );
}

#[test]
fn an_asked_day_after_the_oldest_pending_one_starts_at_the_pending_one() {
    let today = Date::parse("2026-06-15").unwrap();
    let first = |start, pending: Option<&str>, asked| {
        let mut t = target(start, Some("2026-06-10"));
        t.pending_since = pending.map(Into::into);
        first_day(&t, Some(asked), today).ok()
    };
    assert_eq!(
        first("2026-01-01", Some("2026-06-08"), "2026-06-12").as_deref(),
        Some("2026-06-08")
    );
    assert_eq!(
        first("2026-01-01", Some("2026-06-08"), "2026-06-01").as_deref(),
        Some("2026-06-01"),
        "an earlier asked day stays"
    );
    assert_eq!(
        first("2026-01-01", None, "2026-06-12").as_deref(),
        Some("2026-06-12")
    );
    assert_eq!(
        first("2026-06-05", Some("2026-06-01"), "2026-06-12").as_deref(),
        Some("2026-06-05"),
        "never before the consent"
    );
}
