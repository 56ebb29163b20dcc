//! Every sentence the bookkeeper reads, in English and German. Kept apart from the checkout's
//! texts so shoppers never download them. Sentences that name what went wrong on the server
//! come from the server already in this language (`Accept-Language`, see `api::send`).

use crate::i18n::Lang;
use klarna::api::{ConsentState, ConsentStatus, SyncProgress};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T {
    SignInTitle,
    UserName,
    Password,
    SignIn,
    SignInAgain,
    LinkTitle,
    Company,
    StartDate,
    StartDateHelp,
    Continue,
    OpeningBank,
    WaitingForBank,
    SavingAccounts,
    LinkedBanks,
    NoBankYet,
    Renew,
    Account,
    Iban,
    Holder,
    Balance,
    Actions,
    Sync,
    SyncProgress,
    LatestTransactions,
    Date,
    Counterparty,
    Reference,
    Amount,
    Network,
    LauncherNotLoaded,
    LauncherNotOpened,
    Aborted,
}

pub fn t(lang: Lang, text: T) -> &'static str {
    use T::*;
    match (lang, text) {
        (Lang::De, SignInTitle) => "Anmelden, um Bankkonten zu verknüpfen",
        (_, SignInTitle) => "Sign in to link bank accounts",
        (Lang::De, UserName) => "Benutzername",
        (_, UserName) => "User name",
        (Lang::De, Password) => "Passwort",
        (_, Password) => "Password",
        (Lang::De, SignIn) => "Anmelden",
        (_, SignIn) => "Sign in",
        (Lang::De, SignInAgain) => "Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an; Ihre Eingaben bleiben erhalten.",
        (_, SignInAgain) => "Your sign-in has expired. Please sign in again; what you typed is kept.",
        (Lang::De, LinkTitle) => "Bankkonto verknüpfen",
        (_, LinkTitle) => "Link a bank account",
        (Lang::De, Company) => "Firma",
        (_, Company) => "Company",
        (Lang::De, StartDate) => "Umsätze abrufen ab",
        (_, StartDate) => "Fetch transactions from",
        (Lang::De, StartDateHelp) => "Umsätze können immer nur ab diesem Datum abgerufen werden: Hier beginnt die Einwilligung bei der Bank. Wählen Sie den Beginn des Geschäftsjahres, das Sie buchen; das Datum darf nicht in der Zukunft liegen.",
        (_, StartDateHelp) => "Transactions can only ever be fetched from this date on: the bank's consent starts here. Pick the start of the fiscal year you are booking; it cannot be in the future.",
        (Lang::De, Continue) => "Weiter zu Ihrer Bank",
        (_, Continue) => "Continue to your bank",
        (Lang::De, OpeningBank) => "Das Fenster Ihrer Bank wird geöffnet …",
        (_, OpeningBank) => "Opening your bank's window…",
        (Lang::De, WaitingForBank) => "Weiter im Fenster Ihrer Bank …",
        (_, WaitingForBank) => "Continue in your bank's window…",
        (Lang::De, SavingAccounts) => "Konten werden gespeichert …",
        (_, SavingAccounts) => "Saving your accounts…",
        (Lang::De, LinkedBanks) => "Verknüpfte Banken",
        (_, LinkedBanks) => "Linked banks",
        (Lang::De, NoBankYet) => "Noch keine Bank verknüpft.",
        (_, NoBankYet) => "No bank linked yet.",
        (Lang::De, Renew) => "Einwilligung erneuern",
        (_, Renew) => "Renew consent",
        (Lang::De, Account) => "Konto",
        (_, Account) => "Account",
        (_, Iban) => "IBAN",
        (Lang::De, Holder) => "Inhaber",
        (_, Holder) => "Holder",
        (Lang::De, Balance) => "Saldo",
        (_, Balance) => "Balance",
        (Lang::De, Actions) => "Aktionen",
        (_, Actions) => "Actions",
        (Lang::De, Sync) => "Abgleichen",
        (_, Sync) => "Sync",
        (Lang::De, SyncProgress) => "Fortschritt des Abgleichs",
        (_, SyncProgress) => "Sync progress",
        (Lang::De, LatestTransactions) => "Letzte Umsätze",
        (_, LatestTransactions) => "Latest transactions",
        (Lang::De, Date) => "Datum",
        (_, Date) => "Date",
        (Lang::De, Counterparty) => "Gegenpartei",
        (_, Counterparty) => "Counterparty",
        (Lang::De, Reference) => "Verwendungszweck",
        (_, Reference) => "Reference",
        (Lang::De, Amount) => "Betrag",
        (_, Amount) => "Amount",
        (Lang::De, Network) => "Der Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.",
        (_, Network) => "We couldn't reach the server. Check your connection and try again.",
        (Lang::De, LauncherNotLoaded) => "Das Fenster der Bank konnte nicht geladen werden. Bitte versuchen Sie es erneut.",
        (_, LauncherNotLoaded) => "The bank's window could not be loaded. Please try again.",
        (Lang::De, LauncherNotOpened) => "Das Fenster der Bank konnte nicht geöffnet werden. Bitte versuchen Sie es erneut.",
        (_, LauncherNotOpened) => "The bank's window could not be opened. Please try again.",
        (Lang::De, Aborted) => "Sie haben das Fenster der Bank geschlossen. Es wurde nichts verknüpft; Sie können neu beginnen.",
        (_, Aborted) => "You closed the bank's window. Nothing was linked; you can start again.",
    }
}

/// "1 day", "2 days"; "1 Tag", "2 Tagen" (German dative after "in").
fn days(lang: Lang, n: i64) -> String {
    match (lang, n) {
        (Lang::De, 1) => "1 Tag".into(),
        (Lang::De, n) => format!("{n} Tagen"),
        (_, 1) => "1 day".into(),
        (_, n) => format!("{n} days"),
    }
}

/// How long the consent lasts, with the next step when it is running out.
pub fn consent(lang: Lang, c: &ConsentStatus) -> String {
    let left = days(lang, c.days_left);
    match (lang, c.state) {
        (Lang::De, ConsentState::Expired) => format!(
            "Einwilligung am {} abgelaufen: Bitte verknüpfen Sie die Bank erneut.",
            c.expires_on
        ),
        (_, ConsentState::Expired) => {
            format!("Consent expired on {}: link the bank again.", c.expires_on)
        }
        (Lang::De, ConsentState::Expiring) => {
            format!("Einwilligung läuft in {left} ab: Bitte bald erneuern.")
        }
        (_, ConsentState::Expiring) => format!("Consent expires in {left}: renew it soon."),
        (Lang::De, ConsentState::Valid) => format!(
            "Einwilligung gültig, läuft in {left} ab ({}).",
            c.expires_on
        ),
        (_, ConsentState::Valid) => {
            format!("Consent valid, expires in {left} ({}).", c.expires_on)
        }
    }
}

/// A running or finished sync in words.
pub fn sync(lang: Lang, p: &SyncProgress) -> String {
    let pages = match (lang, p.pages) {
        (Lang::De, 1) => "1 Seite".to_string(),
        (Lang::De, n) => format!("{n} Seiten"),
        (_, 1) => "1 page".to_string(),
        (_, n) => format!("{n} pages"),
    };
    match (lang, p.running) {
        (Lang::De, true) => format!("Abgleich läuft … {pages}, bisher {} Umsätze", p.fetched),
        (_, true) => format!("Syncing… {pages}, {} transactions so far", p.fetched),
        (Lang::De, false) => format!(
            "Abgeglichen vom {} bis {}: {} von {} Umsätzen neu.",
            p.from_date, p.to_date, p.added, p.fetched
        ),
        (_, false) => format!(
            "Synced {} to {}: {} new of {} transactions.",
            p.from_date, p.to_date, p.added, p.fetched
        ),
    }
}
