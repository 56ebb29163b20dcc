//! The Demo Bank (country DE, bank code 88888888): two accounts of one holder and about a year of
//! transactions, generated deterministically so every run and every test sees the same data.
//!
//! Each day's transactions are derived from the calendar date and a fixed seed, not from "days
//! before today": a transaction keeps its id, date and amount however the sandbox clock moves,
//! and the window the bank offers ([`HISTORY_DAYS`] before today up to today) simply slides over
//! it. Lists are returned **newest first** (as in the playground captures in ALYF's demo data).
//!
//! Amounts are minor units and **unsigned**, with Klarna's `type` (`DEBIT`/`CREDIT`) saying the
//! sign, as Klarna documents ("The unsigned amount of the transaction",
//! docs.openbanking.klarna.com/xs2a/objects/transaction.html) and its playground captures show.
//!
//! Transactions have Klarna's `state`. A card payment is `PENDING` on the day it is made and
//! `PROCESSED` from the next day on the sandbox clock; a pending one has no `transaction_id`
//! ("a consistent id can only be guaranteed after the transaction is finally processed") and no
//! `booking_date`. Tests may book transactions of any state, and pending ones that settle on a
//! day of their choosing (`/_control/xs2a/transactions`).

use super::dates::Date;
use serde::Serialize;
use serde_json::{json, Value};

pub(crate) const BANK_NAME: &str = "Demo Bank";
pub(crate) const BANK_CODE: &str = "88888888";
pub(crate) const COUNTRY_CODE: &str = "DE";
const BIC: &str = "DEMODE88XXX";
const CURRENCY: &str = "EUR";
const HOLDER: &str = "Max Mustermann";
/// How many days of history the bank keeps (the window ends today on the sandbox clock).
pub(crate) const HISTORY_DAYS: i64 = 365;
/// Minor units of a euro amount, so amounts read as in a bank statement.
const fn eur(euros: i64, cents: i64) -> i64 {
    euros * 100 + cents
}

const SEED: u64 = 0x5EED_DE88_8888_8888;

/// The bank's identity as `GET /sessions/{id}` reports it once the consumer chose it.
pub(crate) fn bank_json() -> Value {
    json!({
        "bank_name": BANK_NAME,
        "bank_code": BANK_CODE,
        "country_code": COUNTRY_CODE,
        "connection": "PSD2",
        "bank_krn": "krn:openbanking:global:bank:sandbox-demo-bank-88888888",
        "integration_krn": "krn:openbanking:global:integration:sandbox-demo-bank-psd2",
        "sub_integration_krn": "krn:openbanking:global:sub-integration:sandbox-demo-bank-psd2",
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Checking,
    Savings,
}

struct AccountDef {
    id: &'static str,
    alias: &'static str,
    account_number: &'static str,
    kind: Kind,
    /// Balance the day before the history window starts.
    opening_balance: i64,
}

const ACCOUNTS: [AccountDef; 2] = [
    AccountDef {
        id: "ZGVtby1iYW5rOmdlc2NoYWVmdHNrb250bzowMDEyMzQ1Njc4",
        alias: "Geschäftskonto",
        account_number: "0012345678",
        kind: Kind::Checking,
        opening_balance: eur(2_870, 45),
    },
    AccountDef {
        id: "ZGVtby1iYW5rOnRhZ2VzZ2VsZDowMDg3NjU0MzIx",
        alias: "Tagesgeldkonto",
        account_number: "0087654321",
        kind: Kind::Savings,
        opening_balance: eur(8_000, 0),
    },
];

/// Index of the account with this id or IBAN (either may be given; both must agree).
pub(crate) fn find_account(account_id: Option<&str>, iban: Option<&str>) -> Option<usize> {
    if account_id.is_none() && iban.is_none() {
        return None;
    }
    (0..ACCOUNTS.len()).find(|&i| {
        account_id.is_none_or(|id| id == ACCOUNTS[i].id)
            && iban.is_none_or(|x| x.replace(' ', "").eq_ignore_ascii_case(&account_iban(i)))
    })
}

pub(crate) fn account_count() -> usize {
    ACCOUNTS.len()
}

pub(crate) fn account_iban(index: usize) -> String {
    de_iban(BANK_CODE, ACCOUNTS[index % ACCOUNTS.len()].account_number)
}

/// A German IBAN with correct ISO 7064 check digits: `DE` + check + bank code + account number.
fn de_iban(bank_code: &str, account_number: &str) -> String {
    let bban = format!("{bank_code}{account_number:0>10}");
    // "DE00" moved to the end, letters as numbers (D = 13, E = 14).
    let digits = format!("{bban}131400");
    let rem = digits
        .bytes()
        .fold(0u32, |acc, c| (acc * 10 + u32::from(c - b'0')) % 97);
    format!("DE{:02}{bban}", 98 - rem)
}

/// The account as Klarna's accounts result lists it, with its balance on `today`.
pub(crate) fn account_json(index: usize, today: Date) -> Value {
    let a = &ACCOUNTS[index % ACCOUNTS.len()];
    let checking = a.kind == Kind::Checking;
    json!({
        "id": a.id,
        "alias": a.alias,
        "account_number": a.account_number,
        "iban": account_iban(index),
        "holder_name": HOLDER,
        "holder_address": {"street_address": "Musterstraße 12", "postalcode": "10115", "city": "Berlin", "country": "DE"},
        "bank_code": BANK_CODE,
        "bic": BIC,
        "bank_name": BANK_NAME,
        "bank_address": {"country": COUNTRY_CODE},
        "transfer_type": if checking { "FULL" } else { "REFERENCE" },
        "account_type": if checking { "DEFAULT" } else { "SAVING" },
        "balance": {"amount": balance(index, today), "currency": CURRENCY},
        "capabilities": {
            "account_details": {"available": true},
            "balances": {"available": true},
            "transactions": {"available": true},
            "transfer": {"available": checking},
        },
    })
}

/// Opening balance plus everything booked in the history window up to `today`.
fn balance(index: usize, today: Date) -> i64 {
    let first = first_day(today);
    ACCOUNTS[index % ACCOUNTS.len()].opening_balance
        + (0..=HISTORY_DAYS)
            .map(|back| today.plus_days(-back))
            .filter(|d| *d >= first)
            .flat_map(|d| day_transactions(index, d))
            .map(|t| t.signed)
            .sum::<i64>()
}

/// The oldest day the bank still holds on `today`.
pub(crate) fn first_day(today: Date) -> Date {
    today.plus_days(-HISTORY_DAYS)
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Amount {
    pub amount: i64,
    pub currency: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct CounterParty {
    pub holder_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct BankReferences {
    pub unstructured: String,
}

/// One transaction, in Klarna's shape. `transaction_id` is Klarna's field name; `id` repeats it
/// because our brief names the field `id`. Neither is sent while the transaction is pending.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Transaction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unsigned: `kind` says the direction.
    pub amount: Amount,
    pub date: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<Date>,
    pub value_date: Date,
    pub state: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub reference: String,
    pub bank_references: BankReferences,
    pub counter_party: CounterParty,
    /// Minor units with the sign, for the bank's own balance.
    #[serde(skip)]
    pub signed: i64,
    /// The first day on which the bank shows it processed.
    #[serde(skip)]
    pub books_on: Date,
    /// Test-only replacements of its JSON fields (`null` drops one): see [`Transaction::wire`].
    #[serde(skip)]
    pub wire: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Transaction {
    /// A transaction of `amount` (negative for a debit) booked on `day`.
    fn processed(id: String, day: Date, value_date: Date, amount: i64) -> Transaction {
        Transaction {
            transaction_id: Some(id.clone()),
            id: Some(id),
            amount: Amount {
                amount: amount.abs(),
                currency: CURRENCY,
            },
            date: day,
            booking_date: Some(day),
            value_date,
            state: "PROCESSED",
            kind: if amount < 0 { "DEBIT" } else { "CREDIT" },
            reference: String::new(),
            bank_references: BankReferences {
                unstructured: String::new(),
            },
            counter_party: CounterParty {
                holder_name: String::new(),
                iban: None,
            },
            signed: amount,
            books_on: day,
            wire: None,
        }
    }

    /// Its JSON as a list sends it: Klarna's shape, unless a test booked replacements.
    pub fn wire(&self) -> serde_json::Value {
        let mut json = serde_json::to_value(self).unwrap_or_default();
        if let (Some(replace), Some(fields)) = (&self.wire, json.as_object_mut()) {
            for (k, v) in replace {
                if v.is_null() {
                    fields.remove(k);
                } else {
                    fields.insert(k.clone(), v.clone());
                }
            }
        }
        json
    }

    fn texts(mut self, counterparty: String, iban: Option<String>, reference: String) -> Self {
        self.reference = reference.clone();
        self.bank_references.unstructured = reference;
        self.counter_party = CounterParty {
            holder_name: counterparty,
            iban,
        };
        self
    }

    /// As the bank shows it on `today`: pending, without id or booking date, until it books.
    fn shown_on(mut self, today: Date) -> Transaction {
        if today < self.books_on && self.state == "PROCESSED" {
            self.state = "PENDING";
            self.transaction_id = None;
            self.id = None;
            self.booking_date = None;
        }
        self
    }
}

/// Klarna's transaction states, as a test may book them.
pub(crate) const STATES: [&str; 4] = ["PROCESSED", "PENDING", "CANCELED", "FAILED"];

/// A transaction a test booked with `POST /_control/xs2a/transactions` (Klarna's test bank has
/// no such thing): payee and reference are free text, as a payer writes them into a transfer.
/// A `PENDING` one settles on `settles_on` (if given) as `settles_as`, dated that day.
#[derive(Clone, Debug)]
pub(crate) struct Booked {
    pub account: usize,
    pub transaction: Transaction,
    pub settles: Option<(Date, &'static str)>,
    settled_id: String,
}

impl Booked {
    /// A credit (positive `amount`) or debit on `day` in `state`, with an id of its own.
    pub fn new(
        account: usize,
        day: Date,
        amount: i64,
        counterparty: String,
        reference: String,
    ) -> Booked {
        let id = format!("b{}", uuid::Uuid::new_v4().simple());
        Booked {
            account,
            transaction: Transaction::processed(id, day, day, amount).texts(
                counterparty,
                None,
                reference,
            ),
            settles: None,
            settled_id: format!("s{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The same in another state; a pending one may settle later.
    pub fn in_state(mut self, state: &'static str, settles: Option<(Date, &'static str)>) -> Self {
        self.transaction.state = state;
        if state == "PENDING" {
            self.transaction.transaction_id = None;
            self.transaction.id = None;
            self.transaction.booking_date = None;
            self.settles = settles;
        }
        self
    }

    /// The same with fields of its JSON replaced (test-only, see `/_control/xs2a/transactions`).
    pub fn on_the_wire(mut self, wire: Option<serde_json::Map<String, serde_json::Value>>) -> Self {
        self.transaction.wire = wire.filter(|w| !w.is_empty());
        self
    }

    /// As the bank shows it on `today`.
    fn as_of(&self, today: Date) -> Transaction {
        let mut t = self.transaction.clone();
        if let Some((day, state)) = self.settles.filter(|(day, _)| *day <= today) {
            // A new id: Klarna does not promise to keep a pending transaction's.
            t.transaction_id = Some(self.settled_id.clone());
            t.id = Some(self.settled_id.clone());
            t.state = state;
            t.date = day;
            t.booking_date = (state == "PROCESSED").then_some(day);
        }
        t
    }
}

/// The account's transactions dated between `from` and `to` (both inclusive) that the bank
/// still holds on `today`, as it shows them that day, newest first; those a test `booked` come
/// after the generated ones of their day.
pub(crate) fn transactions(
    index: usize,
    from: Date,
    to: Date,
    today: Date,
    booked: &[Booked],
) -> Vec<Transaction> {
    let from = from.max(first_day(today));
    let to = to.min(today);
    let booked: Vec<Transaction> = booked
        .iter()
        .filter(|b| b.account == index)
        .map(|b| b.as_of(today))
        .collect();
    let mut out = Vec::new();
    let mut day = to;
    while day >= from {
        let mut list = day_transactions(index, day);
        list.reverse();
        out.extend(list.into_iter().map(|t| t.shown_on(today)));
        out.extend(booked.iter().filter(|t| t.date == day).cloned());
        day = day.plus_days(-1);
    }
    out
}

/// SplitMix64: tiny, good enough, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn new(parts: &[u64]) -> Rng {
        let mut r = Rng(SEED);
        for p in parts {
            r.0 ^= p.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            r.next();
        }
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (minor units).
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
}

const CARD_MERCHANTS: [(&str, &str, i64, i64); 8] = [
    (
        "REWE Markt GmbH",
        "REWE SAGT DANKE",
        eur(8, 40),
        eur(96, 30),
    ),
    (
        "EDEKA Center Musterstadt",
        "EDEKA CENTER",
        eur(6, 10),
        eur(74, 80),
    ),
    (
        "Aral Station 4711",
        "ARAL TANKSTELLE",
        eur(38, 0),
        eur(92, 0),
    ),
    (
        "DB Vertrieb GmbH",
        "DB BAHN ONLINE-TICKET",
        eur(19, 90),
        eur(129, 0),
    ),
    (
        "Amazon EU S.a.r.l.",
        "AMZN MKTP DE",
        eur(12, 99),
        eur(159, 0),
    ),
    (
        "dm-drogerie markt",
        "DM-DROGERIE MARKT",
        eur(4, 95),
        eur(44, 60),
    ),
    ("Bäckerei Krume", "BAECKEREI KRUME", eur(2, 20), eur(11, 80)),
    (
        "Office Partner GmbH",
        "OFFICE PARTNER BUEROBEDARF",
        eur(15, 0),
        eur(118, 0),
    ),
];

const CUSTOMERS: [&str; 4] = [
    "Nordlicht Logistik GmbH",
    "Café Sonnenschein",
    "Weber & Söhne KG",
    "Berger Architekten PartG",
];

/// Salary-like income arrives on the 27th, or the Friday before when that is a weekend.
fn is_pay_day(day: Date) -> bool {
    let (y, m, _) = day.ymd();
    let mut pay = Date::from_ymd(y, m, 27);
    while pay.weekday() >= 5 {
        pay = pay.plus_days(-1);
    }
    pay == day
}

/// What one account books on one day, oldest first.
fn day_transactions(index: usize, day: Date) -> Vec<Transaction> {
    let (y, m, d) = day.ymd();
    let month = format!("{m:02}/{y}");
    let mut rng = Rng::new(&[day.day_number() as u64, index as u64]);
    let mut out: Vec<(i64, &'static str, Option<String>, String, i64)> = Vec::new();
    let mut push = |amount: i64, who: &'static str, iban: Option<String>, text: String| {
        out.push((amount, who, iban, text, 0));
    };
    if ACCOUNTS[index % ACCOUNTS.len()].kind == Kind::Savings {
        if d == 15 {
            push(
                eur(250, 0),
                HOLDER,
                Some(account_iban(0)),
                format!("Sparrate {month}"),
            );
        }
        if matches!(m, 3 | 6 | 9 | 12) && day.is_last_of_month() {
            let interest = rng.between(eur(12, 0), eur(38, 0));
            push(
                interest,
                BANK_NAME,
                None,
                format!("Zinsgutschrift Q{} {y}", m / 3),
            );
        }
        return finish(index, day, out);
    }
    if d == 1 {
        let landlord = Some(de_iban("10020030", "4455667788"));
        push(
            -eur(1_150, 0),
            "Hausverwaltung Schneider GmbH",
            landlord,
            format!("Miete Büro {month}"),
        );
    }
    if d == 3 {
        let text = format!("Festnetz/Internet Kd-Nr. 4711081500 {month}");
        push(
            -eur(49, 95),
            "Telekom Deutschland GmbH",
            Some(de_iban("30040050", "1122334455")),
            text,
        );
    }
    if d == 5 {
        let text = format!("Leasingrate Vertrag 88-2231 {month}");
        push(
            -eur(389, 0),
            "Autohaus Lehmann Leasing",
            Some(de_iban("50060070", "2233445566")),
            text,
        );
    }
    if d == 10 {
        let text = format!("Abschlag Strom Vertragskonto 600123 {month}");
        push(
            -eur(86, 0),
            "Stadtwerke Musterstadt",
            Some(de_iban("60070080", "3344556677")),
            text,
        );
        let text = format!("Umsatzsteuer-Vorauszahlung {month} StNr 11/222/33333");
        push(
            -eur(420, 0),
            "Finanzamt Musterstadt",
            Some(de_iban("70080090", "0000123456")),
            text,
        );
    }
    if d == 15 {
        push(
            -eur(250, 0),
            HOLDER,
            Some(account_iban(1)),
            format!("Sparrate {month}"),
        );
    }
    if is_pay_day(day) {
        let text = format!("Gehalt {month} Personalnr. 20417");
        push(
            eur(3_450, 0),
            "Beispiel Software GmbH",
            Some(de_iban("20030040", "9988776655")),
            text,
        );
    }
    if day.weekday() < 5 && rng.percent(5) {
        let who = CUSTOMERS[(rng.next() % CUSTOMERS.len() as u64) as usize];
        let invoice = format!("RE-{y}-{:04}", day.day_number() % 10_000);
        let iban = de_iban("40050060", &format!("{:010}", rng.next() % 10_000_000_000));
        push(
            rng.between(eur(180, 0), eur(1_900, 0)),
            who,
            Some(iban),
            format!("Zahlung {invoice}"),
        );
    }
    let cards = match rng.next() % 100 {
        0..=34 => 0,
        35..=79 => 1,
        _ => 2,
    };
    for _ in 0..cards {
        let (who, label, lo, hi) =
            CARD_MERCHANTS[(rng.next() % CARD_MERCHANTS.len() as u64) as usize];
        let amount = rng.between(lo, hi);
        let text = format!("{label} // Musterstadt/DE {d:02}.{m:02}. Debitk. 1 {y}");
        out.push((-amount, who, None, text, 1));
    }
    finish(index, day, out)
}

fn finish(
    index: usize,
    day: Date,
    raw: Vec<(i64, &'static str, Option<String>, String, i64)>,
) -> Vec<Transaction> {
    raw.into_iter()
        .enumerate()
        .map(|(n, (amount, who, iban, text, value_delay))| {
            let mut h = Rng::new(&[day.day_number() as u64, index as u64, n as u64 + 1]);
            let id = format!("{:016x}{:016x}", h.next(), h.next());
            let mut t = Transaction::processed(id, day, day.plus_days(value_delay), amount).texts(
                who.to_string(),
                iban,
                text,
            );
            // A card payment books overnight: pending on the day it is made.
            t.books_on = day.plus_days(value_delay);
            t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iban_valid(iban: &str) -> bool {
        let moved = format!("{}{}", &iban[4..], &iban[..4]);
        let digits: String = moved
            .chars()
            .map(|c| match c.to_digit(36) {
                Some(v) => v.to_string(),
                None => String::new(),
            })
            .collect();
        digits
            .bytes()
            .fold(0u32, |a, c| (a * 10 + u32::from(c - b'0')) % 97)
            == 1
    }

    #[test]
    fn ibans_are_valid() {
        assert_eq!(account_iban(0).len(), 22);
        assert!(iban_valid(&account_iban(0)), "{}", account_iban(0));
        assert!(iban_valid(&account_iban(1)));
        assert!(iban_valid(&de_iban("10020030", "4455667788")));
        assert!(!iban_valid("DE00888888880012345678"));
    }

    #[test]
    fn data_is_deterministic_and_newest_first() {
        let today = Date::from_ymd(2026, 5, 20);
        let a = transactions(0, first_day(today), today, today, &[]);
        let b = transactions(0, first_day(today), today, today, &[]);
        assert_eq!(serde_json::to_value(&a).ok(), serde_json::to_value(&b).ok());
        assert!(a.len() > 250, "{}", a.len());
        assert!(a.windows(2).all(|w| w[0].date >= w[1].date));
        // Moving the clock keeps each day's transactions.
        let later = transactions(
            0,
            today.plus_days(-10),
            today.plus_days(-10),
            today.plus_days(30),
            &[],
        );
        let same: Vec<_> = a
            .iter()
            .filter(|t| t.date == today.plus_days(-10))
            .collect();
        assert_eq!(later.len(), same.len());
        assert!(later
            .iter()
            .zip(same)
            .all(|(x, y)| x.transaction_id == y.transaction_id));
    }

    #[test]
    fn card_payments_are_pending_on_their_day_and_processed_the_next() {
        // A day with card payments on the business account.
        let day = (0..60)
            .map(|n| Date::from_ymd(2026, 5, 1).plus_days(n))
            .find(|d| day_transactions(0, *d).iter().any(|t| t.books_on > *d))
            .expect("some card payment");
        let on_the_day = transactions(0, day, day, day, &[]);
        let next_day = transactions(0, day, day, day.plus_days(1), &[]);
        assert_eq!(on_the_day.len(), next_day.len());
        let pending: Vec<_> = on_the_day.iter().filter(|t| t.state == "PENDING").collect();
        assert!(!pending.is_empty());
        assert!(pending
            .iter()
            .all(|t| t.transaction_id.is_none() && t.booking_date.is_none()));
        assert!(next_day
            .iter()
            .all(|t| t.state == "PROCESSED" && t.transaction_id.is_some()));
        assert!(on_the_day
            .iter()
            .chain(&next_day)
            .all(|t| t.amount.amount > 0));
    }

    #[test]
    fn a_booked_pending_transaction_settles_on_its_day_with_a_new_id() {
        let day = Date::from_ymd(2026, 6, 10);
        let b = Booked::new(0, day, -500, "Payee".into(), "Ref".into())
            .in_state("PENDING", Some((day.plus_days(2), "PROCESSED")));
        let before = b.as_of(day.plus_days(1));
        assert_eq!(
            (before.state, before.transaction_id.as_deref(), before.date),
            ("PENDING", None, day)
        );
        let after = b.as_of(day.plus_days(2));
        assert_eq!(after.state, "PROCESSED");
        assert_eq!(after.booking_date, Some(day.plus_days(2)));
        assert_eq!((after.kind, after.amount.amount), ("DEBIT", 500));
        assert!(after.transaction_id.is_some());
        let cancelled = Booked::new(0, day, 500, "P".into(), "R".into())
            .in_state("PENDING", Some((day, "CANCELED")))
            .as_of(day);
        assert_eq!(cancelled.state, "CANCELED");
        assert_eq!(cancelled.booking_date, None);
    }

    #[test]
    fn a_test_may_send_a_transaction_of_an_undocumented_shape() {
        let day = Date::from_ymd(2026, 6, 10);
        let plain = Booked::new(0, day, -500, "Payee".into(), "Ref".into());
        let json = plain.as_of(day).wire();
        assert_eq!(
            (json["state"].as_str(), json["type"].as_str()),
            (Some("PROCESSED"), Some("DEBIT"))
        );
        let wire = serde_json::json!({"state": "REVERSED", "transaction_id": null});
        let odd = plain
            .on_the_wire(wire.as_object().cloned())
            .as_of(day)
            .wire();
        assert_eq!(odd["state"], "REVERSED");
        assert!(odd.get("transaction_id").is_none());
        assert_eq!(odd["amount"]["amount"], 500, "the rest as Klarna sends it");
    }

    #[test]
    fn balances_are_plausible() {
        let today = Date::from_ymd(2026, 5, 20);
        let checking = balance(0, today);
        let savings = balance(1, today);
        assert!((0..eur(30_000, 0)).contains(&checking), "{checking}");
        assert!(
            (eur(10_000, 0)..eur(13_000, 0)).contains(&savings),
            "{savings}"
        );
        assert!(transactions(1, first_day(today), today, today, &[])
            .iter()
            .all(|t| t.amount.amount > 0));
    }
}
