//! The DOM events a page hears from `<klarna-bank-link>` (docs/embedding.md), each with a
//! typed `detail`. None ever carries a token: the consent token and Klarna's session and flow
//! ids stay on the server; tests check the details.

use klarna::api::{LinkedBank, SyncProgress};
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

/// `linked`: the bank as the page shows it (masked IBANs, the consent's end).
pub type Linked = LinkedBank;
