//! Klarna's transactions sorted for the books, once, where they enter the server: a
//! `PROCESSED` one is booked, a `PENDING` one is kept apart until the bank books it, a
//! `CANCELED` or `FAILED` one never reaches the books. Klarna's amounts are unsigned with a
//! `type` (`DEBIT`/`CREDIT`); here they get the sign the books use (negative for money leaving).
//!
//! Pending transactions are not matched to their booked selves by id: Klarna's `transaction_id`
//! "is optional for PENDING transactions, because a consistent id can only be guaranteed after
//! the transaction is finally processed" (docs.openbanking.klarna.com/xs2a/objects/transaction.html).
//! Instead a sync replaces every pending transaction of the days it fetched with what the bank
//! still reports as pending (`entry_store.rs`): one that booked comes back `PROCESSED` and is
//! booked, one that vanished is dropped.
//!
//! A transaction this cannot take (an undocumented state or type, a negative amount, a
//! processed one without id, one without any date, a shape Klarna's documentation does not
//! describe) is skipped and counted, never the whole sync: otherwise one odd entry at the bank
//! would fail every later sync of the account, scheduled ones too.

use klarna::xs2a::{Transaction, TransactionState, TransactionType};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// One entry of a Klarna transactions list as it arrived: a [`Transaction`], or an entry of a
/// shape the documentation does not describe (a field missing or of another type). Entries
/// are read one by one so that an odd one is skipped, not the page (whose rotated consent
/// token must be stored). Why it was unreadable is not kept: serde's message would quote the
/// entry's values (names, IBANs, references).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed {
    Read(Box<Transaction>),
    Unreadable,
}

impl<'de> Deserialize<'de> for Listed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Listed, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(match serde_json::from_value::<Transaction>(value) {
            Ok(t) => Listed::Read(Box::new(t)),
            Err(_) => Listed::Unreadable,
        })
    }
}

/// A page of transactions as the server reads it.
pub type Page = klarna::xs2a::TransactionsPage<Listed>;

/// A processed transaction, as the books keep it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBooked {
    pub transaction_id: String,
    pub booking_date: String,
    /// Minor units, negative for a debit.
    pub amount: i64,
    pub currency: String,
    pub counterparty: String,
    pub reference: String,
}

/// A transaction the bank has not processed yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPending {
    /// Klarna's id, when it sent one; it may change once the bank processes the transaction.
    pub transaction_id: Option<String>,
    /// Klarna's `date`: for a pending transaction, its value date.
    pub date: String,
    /// Minor units, negative for a debit.
    pub amount: i64,
    pub currency: String,
    pub counterparty: String,
    pub reference: String,
}

/// What a transaction from Klarna becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Booked(NewBooked),
    Pending(NewPending),
    /// Cancelled or failed: no money moved, nothing to book or show.
    Ignored(TransactionState),
}

/// A transaction Klarna's documentation rules out; the field is named. The messages carry no
/// personal data (no names, IBANs or references): they are logged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntryError {
    #[error("a transaction of a shape Klarna's documentation does not describe")]
    Unreadable,
    #[error("state: not one of Klarna's documented states")]
    UnknownState,
    #[error("type: a {0:?} transaction neither DEBIT nor CREDIT")]
    UnknownType(TransactionState),
    #[error("transaction_id: a {0:?} transaction without an id")]
    MissingId(TransactionState),
    #[error("date: a transaction without date, booking_date or value_date")]
    MissingDate,
    #[error(
        "amount.amount: {0} is negative, but Klarna's amounts are unsigned (the sign is in `type`)"
    )]
    NegativeAmount(i64),
}

impl TryFrom<Transaction> for Entry {
    type Error = EntryError;

    fn try_from(t: Transaction) -> Result<Entry, EntryError> {
        match t.state {
            TransactionState::Unknown => return Err(EntryError::UnknownState),
            // No money moved: neither its sign nor its amount matters.
            state @ (TransactionState::Canceled | TransactionState::Failed) => {
                return Ok(Entry::Ignored(state))
            }
            TransactionState::Processed | TransactionState::Pending => {}
        }
        if t.amount.amount < 0 {
            return Err(EntryError::NegativeAmount(t.amount.amount));
        }
        let amount = match t.kind {
            TransactionType::Credit => t.amount.amount,
            TransactionType::Debit => -t.amount.amount,
            TransactionType::Unknown => return Err(EntryError::UnknownType(t.state)),
        };
        let counterparty = t
            .counter_party
            .and_then(|c| c.holder_name)
            .unwrap_or_default();
        let reference = t
            .reference
            .or_else(|| t.bank_references.and_then(|r| r.unstructured))
            .unwrap_or_default();
        let currency = t.amount.currency;
        match t.state {
            TransactionState::Processed => Ok(Entry::Booked(NewBooked {
                transaction_id: t
                    .transaction_id
                    .filter(|id| !id.is_empty())
                    .ok_or(EntryError::MissingId(t.state))?,
                booking_date: t
                    .booking_date
                    .or(t.date)
                    .or(t.value_date)
                    .ok_or(EntryError::MissingDate)?,
                amount,
                currency,
                counterparty,
                reference,
            })),
            TransactionState::Pending => Ok(Entry::Pending(NewPending {
                transaction_id: t.transaction_id.filter(|id| !id.is_empty()),
                date: t
                    .date
                    .or(t.value_date)
                    .or(t.booking_date)
                    .ok_or(EntryError::MissingDate)?,
                amount,
                currency,
                counterparty,
                reference,
            })),
            state => Ok(Entry::Ignored(state)),
        }
    }
}

/// One sync's transactions, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sorted {
    pub booked: Vec<NewBooked>,
    pub pending: Vec<NewPending>,
    pub ignored: u32,
    /// Transactions it could not take ([`EntryError`]): neither booked nor pending.
    pub skipped: u32,
}

impl Sorted {
    /// Sorts a page's transactions in; returns why each one it skipped was skipped (for the
    /// log: the caller knows the account).
    pub fn add(&mut self, list: Vec<Listed>) -> Vec<EntryError> {
        let mut problems = Vec::new();
        for listed in list {
            let entry = match listed {
                Listed::Read(t) => Entry::try_from(*t),
                Listed::Unreadable => Err(EntryError::Unreadable),
            };
            match entry {
                Ok(Entry::Booked(b)) => self.booked.push(b),
                Ok(Entry::Pending(p)) => self.pending.push(p),
                Ok(Entry::Ignored(_)) => self.ignored += 1,
                Err(e) => {
                    self.skipped += 1;
                    problems.push(e);
                }
            }
        }
        problems
    }

    /// Each pending transaction with a key unique within the sync: its id when Klarna sent one,
    /// else its content and how many identical ones came before it (two coffees of the same
    /// price on the same day are two transactions).
    pub fn pending_keyed(&self) -> Vec<(String, &NewPending)> {
        let mut seen: std::collections::HashMap<String, u32> = Default::default();
        self.pending
            .iter()
            .map(|p| {
                let base = match &p.transaction_id {
                    Some(id) => format!("id\u{0}{id}"),
                    None => format!(
                        "content\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
                        p.date, p.amount, p.currency, p.counterparty, p.reference
                    ),
                };
                let n = seen.entry(base.clone()).or_default();
                *n += 1;
                let digest = Sha256::digest(format!("{base}\u{0}{n}").as_bytes());
                let key = digest.iter().map(|b| format!("{b:02x}")).collect();
                (key, p)
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "bank_entries/tests.rs"]
mod tests;
