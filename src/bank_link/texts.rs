//! Every sentence the bookkeeper reads, by key into the bank page's catalog
//! (`i18n/bank/<lang>.txt`, served as `dist/bank/i18n/<lang>.txt`). Kept apart from the
//! checkout's texts so shoppers never download them. The server writes its own sentences in
//! English and German (`Accept-Language`, see `api::send`); in every other language the page
//! says the catalog's sentence for the error's code instead.

use crate::i18n::catalog::{lookup, Flow};
use crate::i18n::{fill, intl, keys, plural, Lang};
use klarna::api::{ApiError, ConsentState, ConsentStatus, SyncProgress};

keys! {
    /// Keys of the bank page's fixed texts.
    pub enum T {
        SignInTitle = "sign_in_title",
        UserName = "user_name",
        Password = "password",
        SignIn = "sign_in",
        SignInAgain = "sign_in_again",
        LinkTitle = "link_title",
        Company = "company",
        StartDate = "start_date",
        StartDateHelp = "start_date_help",
        Continue = "continue",
        OpeningBank = "opening_bank",
        WaitingForBank = "waiting_for_bank",
        SavingAccounts = "saving_accounts",
        CheckingBank = "checking_bank",
        LinkedBanks = "linked_banks",
        NoBankYet = "no_bank_yet",
        Renew = "renew",
        Account = "account",
        Iban = "iban",
        Holder = "holder",
        Balance = "balance",
        Actions = "actions",
        Sync = "sync",
        SyncProgress = "sync_progress",
        LatestTransactions = "latest_transactions",
        PendingTransactions = "pending_transactions",
        Pending = "pending",
        PendingHelp = "pending_help",
        Date = "date",
        Counterparty = "counterparty",
        Reference = "reference",
        Amount = "amount",
        Network = "network",
        LauncherNotLoaded = "launcher_not_loaded",
        LauncherNotOpened = "launcher_not_opened",
        Aborted = "aborted",
        CheckAgain = "check_again",
    }
}

pub fn t(lang: Lang, text: T) -> &'static str {
    lookup(Flow::Bank, lang, text.key())
}

/// A calendar date from the server, as the bookkeeper writes dates.
pub fn date(locale: &str, iso: &str) -> String {
    intl::date(locale, iso)
}

/// How long the consent lasts, with the next step when it is running out.
pub fn consent(lang: Lang, locale: &str, c: &ConsentStatus) -> String {
    let on = date(locale, &c.expires_on);
    let key = match c.state {
        ConsentState::Expired => {
            return fill(
                lookup(Flow::Bank, lang, "consent.expired"),
                &[("date", &on)],
            );
        }
        ConsentState::Expiring => "consent.expiring",
        ConsentState::Valid => "consent.valid",
    };
    fill(
        &plural(Flow::Bank, lang, locale, key, c.days_left),
        &[("date", &on)],
    )
}

/// A running or finished sync in words.
pub fn sync(lang: Lang, locale: &str, p: &SyncProgress) -> String {
    let pages = plural(Flow::Bank, lang, locale, "sync.pages", p.pages.into());
    let key = if p.running {
        "sync.running"
    } else {
        "sync.done"
    };
    let sentence = plural(Flow::Bank, lang, locale, key, p.fetched.into());
    fill(
        &sentence,
        &[
            ("pages", &pages),
            ("added", &intl::number(locale, p.added.into())),
            ("from", &date(locale, &p.from_date)),
            ("to", &date(locale, &p.to_date)),
        ],
    )
}

/// The scheduled sync skipped the bank on `day`: its consent had expired.
pub fn skipped(lang: Lang, locale: &str, day: &str) -> String {
    fill(
        lookup(Flow::Bank, lang, "sync.skipped"),
        &[("date", &date(locale, day))],
    )
}

/// How many of the bank's transactions a sync left out because they could not be read.
pub fn unreadable(lang: Lang, locale: &str, n: u32) -> String {
    fill(
        lookup(Flow::Bank, lang, "sync.unreadable"),
        &[("n", &intl::number(locale, n.into()))],
    )
}

/// What the server said went wrong: its own sentence in the languages it writes (English,
/// German), else ours for the error's code.
pub fn server_error(lang: Lang, e: ApiError) -> String {
    if klarna::Lang::of_tag(lang.code()).is_some() {
        return e.message;
    }
    let code = super::to_js(&e.code).as_string().unwrap_or_default();
    let text = lookup(Flow::Bank, lang, &format!("error.{code}"));
    if text.is_empty() {
        lookup(Flow::Bank, lang, "error.internal").to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plural keys (`<key>.one`, `<key>.other`, … as CLDR has them for each language).
    const PLURALS: [&str; 5] = [
        "consent.expiring",
        "consent.valid",
        "sync.pages",
        "sync.running",
        "sync.done",
    ];

    /// Error codes with a sentence of their own (`error.<code>`); any other says `error.internal`.
    const ERRORS: [&str; 11] = [
        "invalid_fields",
        "sign_in_required",
        "too_many_attempts",
        "csrf_rejected",
        "link_not_finished",
        "link_failed",
        "link_aborted",
        "sync_running",
        "klarna_unavailable",
        "too_many_requests",
        "internal",
    ];

    /// Other keys: `consent.expired`, `sync.skipped`, `sync.unreadable`.
    const OTHERS: [&str; 3] = ["consent.expired", "sync.skipped", "sync.unreadable"];

    #[test]
    fn every_language_has_every_bank_text() {
        let keys: Vec<String> = T::ALL
            .iter()
            .map(|t| t.key().to_string())
            .chain(PLURALS.iter().chain(&OTHERS).map(|k| k.to_string()))
            .chain(ERRORS.iter().map(|c| format!("error.{c}")))
            .collect();
        let found = crate::i18n::tests::problems("i18n/bank", &keys, &PLURALS);
        assert!(found.is_empty(), "\n{}", found.join("\n"));
    }
}
