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

use klarna::xs2a::{Transaction, TransactionState, TransactionType};
use sha2::{Digest, Sha256};

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

/// A transaction Klarna's documentation rules out; the field is named.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EntryError {
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
        if t.amount.amount < 0 {
            return Err(EntryError::NegativeAmount(t.amount.amount));
        }
        let amount = match t.kind {
            TransactionType::Credit => t.amount.amount,
            TransactionType::Debit => -t.amount.amount,
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
            state @ (TransactionState::Canceled | TransactionState::Failed) => {
                Ok(Entry::Ignored(state))
            }
        }
    }
}

/// One sync's transactions, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sorted {
    pub booked: Vec<NewBooked>,
    pub pending: Vec<NewPending>,
    pub ignored: u32,
}

impl Sorted {
    pub fn add(&mut self, list: Vec<Transaction>) -> Result<(), EntryError> {
        for t in list {
            match Entry::try_from(t)? {
                Entry::Booked(b) => self.booked.push(b),
                Entry::Pending(p) => self.pending.push(p),
                Entry::Ignored(_) => self.ignored += 1,
            }
        }
        Ok(())
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
