//! The DOM events a page hears from `<klarna-bank-link>` (docs/embedding.md), each with a
//! typed `detail`. None ever carries a token: the consent token and Klarna's session and flow
//! ids stay on the server; tests check the details.

use klarna::api::{ConsentStatus, LinkedBank, SyncProgress};
use serde::Serialize;

/// `synced`: one account's sync ended.
#[derive(Serialize)]
pub struct Synced<'a> {
    pub account: &'a str,
    #[serde(flatten)]
    pub progress: &'a SyncProgress,
}

/// `exit`: the bookkeeper left the bank's window before the link was made.
#[derive(Serialize)]
pub struct Exit {
    pub reason: &'static str,
}

/// `error`: the code of what the bookkeeper was told.
#[derive(Serialize)]
pub struct Error<'a> {
    pub code: &'a str,
}

/// `linked`: the bank just linked, enough to refer to it: no balances, no holder names (the
/// page shows those; a host page that wants them asks the server).
#[derive(Serialize)]
pub struct Linked<'a> {
    pub connection: &'a str,
    pub bank_name: &'a str,
    pub consent: &'a ConsentStatus,
    pub accounts: Vec<Account<'a>>,
}

#[derive(Serialize)]
pub struct Account<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub masked_iban: &'a str,
}

impl<'a> From<&'a LinkedBank> for Linked<'a> {
    fn from(bank: &'a LinkedBank) -> Linked<'a> {
        Linked {
            connection: &bank.connection,
            bank_name: &bank.bank_name,
            consent: &bank.consent,
            accounts: bank
                .accounts
                .iter()
                .map(|a| Account {
                    id: &a.id,
                    name: &a.name,
                    masked_iban: &a.masked_iban,
                })
                .collect(),
        }
    }
}
