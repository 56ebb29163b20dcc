//! Klarna Open Banking (XS2A) wire types, mirroring contract §3. Every response is wrapped in
//! `{"data": …}`; consent calls return a rotated `consent_token` that replaces the stored one.

use serde::{Deserialize, Serialize};

/// `{"data": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub data: T,
}

/// Who is at the keyboard; Klarna must get the current one (contract §3.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Psu {
    pub user_agent: String,
    pub ip_address: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionsScope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_date: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentScope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Empty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balances: Option<Empty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions: Option<TransactionsScope>,
    /// Days the consent lasts; banks allow at most 90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<i64>,
}

/// `PUT /xs2a/v1/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRequest {
    pub psu: Psu,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub consent_scope: ConsentScope,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowUrls {
    #[serde(default)]
    pub accounts: Option<String>,
    #[serde(default)]
    pub balances: Option<String>,
    #[serde(default)]
    pub transactions: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub session_id: String,
    #[serde(default)]
    pub session_id_short: Option<String>,
    #[serde(default)]
    pub flows: FlowUrls,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bank {
    #[serde(default)]
    pub bank_name: String,
    #[serde(default)]
    pub bank_code: String,
    #[serde(default)]
    pub country_code: String,
}

/// `GET /xs2a/v1/sessions/{id}`: what we read of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRead {
    #[serde(default)]
    pub bank: Option<Bank>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FlowState {
    Processing,
    ConsumerInputNeeded,
    Finished,
    Aborted,
    Exception,
    #[serde(other)]
    Unknown,
}

impl FlowState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            FlowState::Finished | FlowState::Aborted | FlowState::Exception
        )
    }
}

/// Answer to starting a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub flow_id: String,
    pub state: FlowState,
    pub client_token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// Minor units.
    pub amount: i64,
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub iban: Option<String>,
    #[serde(default)]
    pub holder_name: Option<String>,
    #[serde(default)]
    pub account_type: Option<String>,
    #[serde(default)]
    pub balance: Option<Amount>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowResult {
    #[serde(default)]
    pub accounts: Vec<Account>,
}

/// `GET` of a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRead {
    pub state: FlowState,
    #[serde(default)]
    pub result: Option<FlowResult>,
    /// Why the flow ended in `EXCEPTION`, where the API says it.
    #[serde(default)]
    pub error: Option<ErrorDetail>,
}

/// `POST /xs2a/v1/sessions/{id}/consent/get`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub consent_id: String,
    pub consent_token: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterParty {
    #[serde(default)]
    pub holder_name: Option<String>,
    #[serde(default)]
    pub iban: Option<String>,
}

/// Where a transaction stands at the bank (docs.openbanking.klarna.com/xs2a/objects/transaction.html).
/// Only `PROCESSED` ones are booked; `PENDING` ones may still change, book or vanish. A state
/// Klarna's documentation does not list reads as `Unknown` (the page, and the rotated consent
/// token it carries, must still be read); such a transaction is neither booked nor pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionState {
    Processed,
    Pending,
    Canceled,
    Failed,
    #[serde(other)]
    Unknown,
}

/// Which way the money went: Klarna's amounts are unsigned and this says the sign. An
/// undocumented type reads as `Unknown`: its sign is unknown, so it is never booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionType {
    Credit,
    Debit,
    #[serde(other)]
    Unknown,
}

/// Klarna's `bank_references`: what the bank itself wrote, unmodified.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankReferences {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unstructured: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end: Option<String>,
}

/// One entry of a transactions list, in Klarna's shape: the `amount` is **unsigned** and `type`
/// says whether it is a `DEBIT` or a `CREDIT`. `transaction_id` is "optional for PENDING
/// transactions, because a consistent id can only be guaranteed after the transaction is finally
/// processed"; for every other state it is present. `date` is deprecated: the booking date, or
/// the value date of a pending transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    pub amount: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_date: Option<String>,
    pub state: TransactionState,
    #[serde(rename = "type")]
    pub kind: TransactionType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_references: Option<BankReferences>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter_party: Option<CounterParty>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextPage {
    pub offset: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub next: Option<NextPage>,
}

/// A page's result. `E` is how an entry is read: the server reads entries one by one
/// (`bank_entries::Listed`), so that one odd entry costs that entry, not the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionsResult<E = Transaction> {
    #[serde(default = "Vec::new")]
    pub transactions: Vec<E>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// A consent call's answer: `{"data": {"result": …, "consent_token": "<rotated>"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentAnswer<T> {
    #[serde(default)]
    pub result: T,
    pub consent_token: String,
}

impl<E> Default for TransactionsResult<E> {
    fn default() -> Self {
        TransactionsResult {
            transactions: Vec::new(),
            pagination: None,
        }
    }
}

/// One page of a consent's transactions, with the rotated consent token.
pub type TransactionsPage<E = Transaction> = ConsentAnswer<TransactionsResult<E>>;

/// Klarna's error body; consent calls add the rotated token even on errors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    #[serde(default)]
    pub consent_token: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// IBAN for display: country, check digits and the last four, `DE89 •••• •••• 3000`.
/// Counts characters, not bytes: the IBAN comes from Klarna and a non-ASCII one must not
/// panic the server. Eight characters or fewer would be shown whole, so they are hidden.
pub fn mask_iban(iban: &str) -> String {
    let compact: Vec<char> = iban.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() <= 8 {
        return "••••".into();
    }
    let head: String = compact[..4].iter().collect();
    let tail: String = compact[compact.len() - 4..].iter().collect();
    format!("{head} •••• •••• {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn masks_ibans() {
        assert_eq!(
            mask_iban("DE89 3704 0044 0532 0130 00"),
            "DE89 •••• •••• 3000"
        );
        assert_eq!(mask_iban("x"), "••••");
        assert_eq!(mask_iban("DE89 3704"), "••••");
    }

    #[test]
    fn masks_non_ascii_without_panicking() {
        assert_eq!(mask_iban("ÄÖ89 ÜÜÜÜ ßßßß 30€0"), "ÄÖ89 •••• •••• 30€0");
        assert_eq!(mask_iban("€€€€€€€€€"), "€€€€ •••• •••• €€€€");
        assert_eq!(mask_iban("€€€€ €€€€"), "••••");
    }

    proptest! {
        #[test]
        fn mask_reveals_only_head_and_last_four(iban in prop_oneof![any::<String>(), "[A-Z]{2}[0-9]{2}[ A-Z0-9€ß]{0,34}"]) {
            let masked = mask_iban(&iban);
            let compact: Vec<char> = iban.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.len() <= 8 {
                prop_assert_eq!(masked, "••••");
            } else {
                let head: String = compact[..4].iter().collect();
                let tail: String = compact[compact.len() - 4..].iter().collect();
                prop_assert_eq!(masked, format!("{head} •••• •••• {tail}"));
            }
        }
    }

    #[test]
    fn undocumented_states_and_types_read_as_unknown() {
        let t: Transaction = serde_json::from_str(
            r#"{"transaction_id": "a", "date": "2026-06-01", "state": "REVERSED", "type": "FEE",
                "amount": {"amount": 1, "currency": "EUR"}}"#,
        )
        .unwrap();
        assert_eq!(
            (t.state, t.kind),
            (TransactionState::Unknown, TransactionType::Unknown)
        );
    }

    #[test]
    fn unknown_flow_states_are_not_terminal() {
        let f: FlowRead = serde_json::from_str(r#"{"state":"INTERRUPTED"}"#).unwrap();
        assert_eq!(f.state, FlowState::Unknown);
        assert!(!f.state.is_terminal());
        assert!(FlowState::Exception.is_terminal());
    }
}
