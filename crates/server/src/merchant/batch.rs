//! The batch file of Computop Paygate for Klarna Payments (seed 004, "Batch processing via the
//! interface"): a merchant sends many captures, credits and reversals in one text file and gets
//! back the same file with a status on every record. This module reads and checks such a file
//! ([`parse`]) and writes the response file ([`process`]); it does no I/O itself. Whatever
//! actually captures, credits or reverses is an [`Executor`], so the file format can be tested
//! without Klarna and the Klarna side without files.
//!
//! ```text
//! HEAD,<MerchantID>,<Date>,<Version>
//! KLARNAPM,CAPTURE,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>[,<ArticleList>[,<InvNo>]]
//! KLARNAPM,CREDIT,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>[,<ArticleList>[,<InvNo>]]
//! KLARNAPM,REVERSE,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>
//! FOOT,<CountRecords>,<SumAmount>
//! ```
//!
//! Two kinds of error. A *file* error ([`BatchError`]: HEAD missing or twice, unknown version,
//! FOOT missing, FOOT count or sum wrong, anything after FOOT) rejects the whole file: `parse`
//! returns no [`BatchFile`], so nothing of it can run, let alone half of it. A *record* error
//! ([`RecordError`]) makes that one line a [`BadRecord`]; the response file echoes it with
//! `FAILED` and its code, and the other records run as usual.
//!
//! # What the document says, and what we read it as
//!
//! - **Version.** The table says: `1.0 / 2.0` "standard version without return of parameter
//!   Code"; `1.x / 2.x` "with RefNr (valid for all versions other than 1.0)". So: a version is
//!   `1.N` or `2.N` (N a number, 0–99, no leading zero); the RefNr column is there in every
//!   version but `1.0`; and the response carries `,<Code>` after `,<Status>` in every version but
//!   `1.0` and `2.0` ([`Version::returns_code`]). Anything else (`3.0`, `1`, a literal `1.x`) is
//!   [`BatchError::UnknownVersion`]. The document's "Master MID" layout (a slave MID after
//!   Action) is not supported; such a line fails safe, since the slave MID lands in Amount and
//!   the real amount in Currency, which is never a permitted code.
//! - **Amount** is `n..10` "in the smallest currency unit (e.g. EUR Cent)": 1 to 10 ASCII digits,
//!   no sign, no decimal point, no leading zero (so the echo is the merchant's own text), and
//!   greater than 0. The document asks merchants to call the helpdesk for amounts below 100; that
//!   is an agreement, not a format, so we do not enforce it.
//! - **Currency** is `a3`, "permitted are: AUD, CHF, DKK, EUR, GBP, NOK, SEK, USD" — exactly
//!   these, upper case ([`PERMITTED_CURRENCIES`]).
//! - **ArticleList** is `ans..2048`, a JSON article list (`{"order_lines": [...]}`) "Base64
//!   encoded". We require exactly that: Base64 that decodes to a JSON object with an
//!   `order_lines` array. Besides catching broken lists, this catches a 1.x/2.x line in a 1.0
//!   file, whose PayID would otherwise be read as an article list.
//! - **InvNo** is `ans..30`. The request layout does not show it, yet the text says ArticleList
//!   *and* InvNo "are also required in the case of a partial credit on a partial activation" and
//!   the response layout carries `<ArticleList>,<InvNo>`. So a request may give InvNo right after
//!   ArticleList (CAPTURE and CREDIT only), and every response line with an ArticleList carries
//!   an InvNo column: the executor's ([`Outcome::inv_no`], e.g. the invoice of a part capture),
//!   else the request's, else empty.
//! - **Status** and **Code** are not described for batch files. Status is `OK` or `FAILED`
//!   (`FAILED` is Computop's word elsewhere in the document). The document's Code is a numeric
//!   Computop code (`n1..8`, table A4, not part of the document); we have no such table, so
//!   our codes are symbolic (`invalid_pay_id`, `duplicate_trans_id`, ... see
//!   [`RecordError::code`]) and the executor's codes are whatever it says.
//!
//! # Where the document is silent, and what we decided
//!
//! - **TransID, RefNr, PayID, MerchantID** have no format in this document. From Computop's
//!   general parameter tables: TransID `ans..64`, RefNr `ans..40` limited to `a-zA-Z0-9-_`,
//!   MerchantID `ans..30`. "ans" we read as printable ASCII without `"` and without leading or
//!   trailing spaces (MerchantID: no spaces at all, it goes into idempotency keys). PayID goes
//!   into a Klarna URL later, so it must pass [`crate::klarna_client::is_plain_id`] (ASCII letters,
//!   digits, `-`, `_`, at most 255): `../x` or `a?b` never get near Klarna. RefNr may be empty in
//!   a version that has the column (it is optional in Computop's calls): empty means `None`.
//! - **Date** is `YYYYMMDD` (the date format of Computop's batch file names), month 01–12 and
//!   day 01–31; it is echoed, never computed with.
//! - **Separators and quoting.** A field is everything between two commas; there is no quoting
//!   and no escaping. A value containing `"` is rejected (a spreadsheet's quoting would
//!   otherwise end up inside a TransID). Nothing is trimmed.
//! - **Case.** `HEAD`, `FOOT`, `KLARNAPM` and currencies must be upper case, as printed. Action
//!   is accepted in any case, since the document itself writes both `CAPTURE` and `Capture`;
//!   the response writes it upper case.
//! - **Lines.** `\n` or `\r\n`; a trailing newline and blank lines are ignored (line numbers
//!   count them, so they match an editor's). A UTF-8 byte order mark at the start is skipped:
//!   spreadsheets write one and it carries no data. Every non-blank line between HEAD and FOOT
//!   is a record line; one whose first field is not `KLARNAPM` is a bad record.
//! - **FOOT.** CountRecords counts every record line, good or bad: the merchant counted lines,
//!   not our verdicts. SumAmount adds the Amount field (the third) of every record line that is
//!   a plain digit string, good or bad, so a bad record does not by itself reject the file; a
//!   record whose Amount is not a number at all (`12.50`) adds nothing, and the file's sum
//!   will then most likely not match.
//! - **Duplicate TransID.** A TransID that appeared on an earlier record line of the file (good
//!   or bad, any action) makes the later line a bad record `duplicate_trans_id`. This is
//!   stricter than the idempotency key (which includes the action) on purpose: no two lines of
//!   one file can then share a key, so no line is ever skipped as "already done" because of its
//!   neighbour, and the merchant can match response lines by TransID.
//! - **Response file.** HEAD and FOOT with the values received (a FOOT's leading zeros are
//!   dropped); a good record rewritten from its fields (the same text, but for Action's case)
//!   with InvNo, Status and Code appended as above; a bad record echoed verbatim (control
//!   characters, such as a stray `\r`, as `_`) with `,FAILED[,<code>]`. Lines end in `\n`. A
//!   value from the executor is written with `,`, `"` and control characters replaced by `_`,
//!   so it can never add a column or a line.
//! - **Order.** [`process`] runs the records one after another, in file order.
//!
//! Not decided here: that the HEAD's MerchantID is the merchant who sent the file (the file
//! authenticates nothing — the caller compares it with the signed-in merchant), and how large a
//! file may be (the caller bounds the upload; parsing is linear).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;

use base64::Engine as _;
use thiserror::Error;

use crate::klarna_client::is_plain_id;

/// The document's list of permitted currencies.
pub const PERMITTED_CURRENCIES: [&str; 8] =
    ["AUD", "CHF", "DKK", "EUR", "GBP", "NOK", "SEK", "USD"];
/// Amount is `n..10`.
pub const MAX_AMOUNT_DIGITS: usize = 10;
pub const MAX_MERCHANT_ID_LEN: usize = 30;
pub const MAX_TRANS_ID_LEN: usize = 64;
pub const MAX_REF_NR_LEN: usize = 40;
/// The bound of [`is_plain_id`].
pub const MAX_PAY_ID_LEN: usize = 255;
pub const MAX_ARTICLE_LIST_LEN: usize = 2048;
pub const MAX_INV_NO_LEN: usize = 30;

const RECORD_TYPE: &str = "KLARNAPM";
const BOM: char = '\u{feff}';
/// How much of a merchant's value an error message quotes.
const QUOTE_CHARS: usize = 40;

/// What a record asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Capture,
    Credit,
    /// Cancellation ("Storno") of what was authorized and not captured.
    Reverse,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Capture, Action::Credit, Action::Reverse];

    /// As the file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Capture => "CAPTURE",
            Action::Credit => "CREDIT",
            Action::Reverse => "REVERSE",
        }
    }

    fn parse(text: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(text))
    }

    /// CAPTURE and CREDIT may be partial, with an article list (and an invoice number).
    fn takes_article_list(self) -> bool {
        self != Action::Reverse
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The HEAD's Version: `1.N` or `2.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    major: u8,
    minor: u8,
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let (major, minor) = text.split_once('.')?;
        let major = match major {
            "1" => 1,
            "2" => 2,
            _ => return None,
        };
        let plain = (1..=2).contains(&minor.len())
            && minor.bytes().all(|b| b.is_ascii_digit())
            && (minor == "0" || !minor.starts_with('0'));
        if !plain {
            return None;
        }
        let minor = minor.parse().ok()?;
        Some(Version { major, minor })
    }

    /// Every version but 1.0 has the RefNr column.
    pub fn has_ref_nr(self) -> bool {
        !(self.major == 1 && self.minor == 0)
    }

    /// 1.0 and 2.0 are "without return of parameter Code".
    pub fn returns_code(self) -> bool {
        self.minor != 0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A file that passed every file-level check. Its records may still be bad ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFile {
    pub merchant_id: String,
    /// `YYYYMMDD`, as received.
    pub date: String,
    pub version: Version,
    /// Every record line, in file order.
    pub records: Vec<Line>,
    /// The FOOT's SumAmount (which the records were checked against), for the response.
    pub sum_amount: u128,
}

/// One record line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Record(Record),
    Bad(BadRecord),
}

impl Line {
    pub fn line_no(&self) -> usize {
        match self {
            Line::Record(r) => r.line_no,
            Line::Bad(b) => b.line_no,
        }
    }
}

/// A record that passed every check: what an [`Executor`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based, counting every physical line.
    pub line_no: usize,
    pub action: Action,
    /// In the smallest currency unit, > 0.
    pub amount: i64,
    /// One of [`PERMITTED_CURRENCIES`].
    pub currency: String,
    pub trans_id: String,
    /// `None` in version 1.0, or when the column is empty.
    pub ref_nr: Option<String>,
    /// A plain id ([`is_plain_id`]).
    pub pay_id: String,
    /// Base64 of the JSON article list, as received (CAPTURE and CREDIT only).
    pub article_list: Option<String>,
    /// Only after an article list.
    pub inv_no: Option<String>,
}

/// A record line that failed its checks: reported, never run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub line_no: usize,
    /// The line as received, without its line ending.
    pub raw: String,
    pub error: RecordError,
}

/// The columns of a record, by the document's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Amount,
    Currency,
    TransId,
    RefNr,
    PayId,
    ArticleList,
    InvNo,
}

impl Field {
    /// The document's name.
    pub fn name(self) -> &'static str {
        match self {
            Field::Amount => "Amount",
            Field::Currency => "Currency",
            Field::TransId => "TransID",
            Field::RefNr => "RefNr",
            Field::PayId => "PayID",
            Field::ArticleList => "ArticleList",
            Field::InvNo => "InvNo",
        }
    }

    /// The name inside error codes.
    fn key(self) -> &'static str {
        match self {
            Field::Amount => "amount",
            Field::Currency => "currency",
            Field::TransId => "trans_id",
            Field::RefNr => "ref_nr",
            Field::PayId => "pay_id",
            Field::ArticleList => "article_list",
            Field::InvNo => "inv_no",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why one record line is a [`BadRecord`]. [`RecordError::code`] is what the response says.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    #[error("column {column} contains '\"': values are written without quotes")]
    Quoted { column: usize },
    #[error("Type is {found:?}, expected KLARNAPM")]
    UnknownType { found: String },
    #[error("Action is {found:?}, expected CAPTURE, CREDIT or REVERSE")]
    UnknownAction { found: String },
    #[error("{found} fields, expected {expected} for {action} in version {version}")]
    FieldCount {
        action: Action,
        version: Version,
        found: usize,
        expected: String,
    },
    #[error("{0} is empty")]
    Missing(Field),
    #[error("{field} is longer than {max} characters")]
    TooLong { field: Field, max: usize },
    #[error("{field} is invalid: {reason}")]
    Invalid { field: Field, reason: &'static str },
    #[error("Currency {found:?} is not permitted (AUD, CHF, DKK, EUR, GBP, NOK, SEK, USD)")]
    CurrencyNotPermitted { found: String },
    #[error("TransID {trans_id:?} already appears on line {first_line}")]
    DuplicateTransId { trans_id: String, first_line: usize },
}

impl RecordError {
    /// The response file's Code for this record: `quoted_value`, `unknown_type`,
    /// `unknown_action`, `field_count`, `missing_<field>`, `too_long_<field>`,
    /// `invalid_<field>` (field: `amount`, `currency`, `trans_id`, `ref_nr`, `pay_id`,
    /// `article_list`, `inv_no`), `currency_not_permitted`, `duplicate_trans_id`.
    pub fn code(&self) -> Cow<'static, str> {
        match self {
            RecordError::Quoted { .. } => "quoted_value".into(),
            RecordError::UnknownType { .. } => "unknown_type".into(),
            RecordError::UnknownAction { .. } => "unknown_action".into(),
            RecordError::FieldCount { .. } => "field_count".into(),
            RecordError::Missing(field) => format!("missing_{}", field.key()).into(),
            RecordError::TooLong { field, .. } => format!("too_long_{}", field.key()).into(),
            RecordError::Invalid { field, .. } => format!("invalid_{}", field.key()).into(),
            RecordError::CurrencyNotPermitted { .. } => "currency_not_permitted".into(),
            RecordError::DuplicateTransId { .. } => "duplicate_trans_id".into(),
        }
    }
}

/// Why a whole file is rejected. Lines are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BatchError {
    #[error("line {line}: the file must start with a HEAD line")]
    MissingHead { line: usize },
    #[error("line {line}: a second HEAD line (the first is on line {first_line})")]
    DuplicateHead { line: usize, first_line: usize },
    #[error("line {line}: HEAD {field}: {reason}")]
    InvalidHead {
        line: usize,
        field: &'static str,
        reason: String,
    },
    #[error("line {line}: HEAD Version {found:?} is unknown (known: 1.0, 1.N, 2.N)")]
    UnknownVersion { line: usize, found: String },
    #[error("the file ends on line {last_line} without a FOOT line")]
    MissingFoot { last_line: usize },
    #[error("line {line}: FOOT {field}: {reason}")]
    InvalidFoot {
        line: usize,
        field: &'static str,
        reason: String,
    },
    #[error(
        "line {line}: FOOT CountRecords is {declared}, but the file has {counted} record lines"
    )]
    CountMismatch {
        line: usize,
        declared: u64,
        counted: u64,
    },
    #[error(
        "line {line}: FOOT SumAmount is {declared}, but the records' amounts add up to {summed}"
    )]
    SumMismatch {
        line: usize,
        declared: u128,
        summed: u128,
    },
    #[error("line {line}: nothing may follow the FOOT line (line {foot_line})")]
    AfterFoot { line: usize, foot_line: usize },
}

/// Reads and checks a batch file. `Err` rejects the whole file; bad records come back as
/// [`Line::Bad`] inside `Ok`.
pub fn parse(text: &str) -> Result<BatchFile, BatchError> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut head: Option<(usize, Head)> = None;
    let mut foot_line: Option<usize> = None;
    let mut records = Vec::new();
    let mut trans_ids: HashMap<&str, usize> = HashMap::new();
    let mut summed: u128 = 0;
    let mut sum_amount: u128 = 0;
    let mut last_line = 0;
    for (index, line) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        last_line = line_no;
        if let Some(foot_line) = foot_line {
            return Err(BatchError::AfterFoot {
                line: line_no,
                foot_line,
            });
        }
        let fields: Vec<&str> = line.split(',').collect();
        let kind = fields.first().copied().unwrap_or_default();
        let Some((head_line, header)) = &head else {
            if kind != "HEAD" {
                return Err(BatchError::MissingHead { line: line_no });
            }
            head = Some((line_no, parse_head(line_no, &fields)?));
            continue;
        };
        match kind {
            "HEAD" => {
                return Err(BatchError::DuplicateHead {
                    line: line_no,
                    first_line: *head_line,
                })
            }
            "FOOT" => {
                sum_amount = check_foot(line_no, &fields, records.len(), summed)?;
                foot_line = Some(line_no);
            }
            _ => {
                summed += readable_amount(&fields);
                records.push(parse_record(
                    line_no,
                    line,
                    &fields,
                    header.version,
                    &mut trans_ids,
                ));
            }
        }
    }
    let Some((_, header)) = head else {
        return Err(BatchError::MissingHead { line: 1 });
    };
    if foot_line.is_none() {
        return Err(BatchError::MissingFoot { last_line });
    }
    Ok(BatchFile {
        merchant_id: header.merchant_id,
        date: header.date,
        version: header.version,
        records,
        sum_amount,
    })
}

struct Head {
    merchant_id: String,
    date: String,
    version: Version,
}

fn parse_head(line: usize, fields: &[&str]) -> Result<Head, BatchError> {
    let invalid = |field: &'static str, reason: String| BatchError::InvalidHead {
        line,
        field,
        reason,
    };
    let &[_, merchant_id, date, version] = fields else {
        return Err(invalid(
            "line",
            format!(
                "{} fields, expected 4 (HEAD,<MerchantID>,<Date>,<Version>)",
                fields.len()
            ),
        ));
    };
    if merchant_id.is_empty() {
        return Err(invalid("MerchantID", "is empty".into()));
    }
    if merchant_id.len() > MAX_MERCHANT_ID_LEN {
        return Err(invalid(
            "MerchantID",
            format!("is longer than {MAX_MERCHANT_ID_LEN} characters"),
        ));
    }
    if !merchant_id
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"')
    {
        return Err(invalid(
            "MerchantID",
            "only printable ASCII without spaces or quotes".into(),
        ));
    }
    if !is_date(date) {
        return Err(invalid(
            "Date",
            format!("{:?} is not a date YYYYMMDD", clip(date)),
        ));
    }
    let Some(version) = Version::parse(version) else {
        return Err(BatchError::UnknownVersion {
            line,
            found: clip(version),
        });
    };
    Ok(Head {
        merchant_id: merchant_id.to_string(),
        date: date.to_string(),
        version,
    })
}

fn is_date(text: &str) -> bool {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        text.get(range)
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(0)
    };
    (1..=12).contains(&number(4..6)) && (1..=31).contains(&number(6..8))
}

/// Checks FOOT against what came before it; returns its SumAmount.
fn check_foot(
    line: usize,
    fields: &[&str],
    count: usize,
    summed: u128,
) -> Result<u128, BatchError> {
    let invalid = |field: &'static str, reason: String| BatchError::InvalidFoot {
        line,
        field,
        reason,
    };
    let &[_, count_records, sum_amount] = fields else {
        return Err(invalid(
            "line",
            format!(
                "{} fields, expected 3 (FOOT,<CountRecords>,<SumAmount>)",
                fields.len()
            ),
        ));
    };
    let declared_count = digits::<u64>(count_records, 20)
        .ok_or_else(|| invalid("CountRecords", "is not a whole number".into()))?;
    let declared_sum = digits::<u128>(sum_amount, 30)
        .ok_or_else(|| invalid("SumAmount", "is not a whole number".into()))?;
    let counted = count as u64;
    if declared_count != counted {
        return Err(BatchError::CountMismatch {
            line,
            declared: declared_count,
            counted,
        });
    }
    if declared_sum != summed {
        return Err(BatchError::SumMismatch {
            line,
            declared: declared_sum,
            summed,
        });
    }
    Ok(declared_sum)
}

/// A plain digit string of 1 to `max_len` digits.
fn digits<T: std::str::FromStr>(text: &str, max_len: usize) -> Option<T> {
    if (1..=max_len).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// What a record line adds to the FOOT's SumAmount: its third field, if that is digits.
fn readable_amount(fields: &[&str]) -> u128 {
    fields
        .get(2)
        .and_then(|a| digits::<u128>(a, 18))
        .unwrap_or(0)
}

fn parse_record<'a>(
    line_no: usize,
    line: &str,
    fields: &[&'a str],
    version: Version,
    trans_ids: &mut HashMap<&'a str, usize>,
) -> Line {
    // Every line with a TransID column claims it, good or bad, first come first served.
    let earlier = fields
        .get(4)
        .filter(|t| !t.is_empty())
        .and_then(|t| match trans_ids.get(t) {
            Some(first) => Some(*first),
            None => {
                trans_ids.insert(t, line_no);
                None
            }
        });
    let checked = check_record(line_no, fields, version).and_then(|record| match earlier {
        Some(first_line) => Err(RecordError::DuplicateTransId {
            trans_id: clip(&record.trans_id),
            first_line,
        }),
        None => Ok(record),
    });
    match checked {
        Ok(record) => Line::Record(record),
        Err(error) => Line::Bad(BadRecord {
            line_no,
            raw: line.to_string(),
            error,
        }),
    }
}

fn check_record(line_no: usize, fields: &[&str], version: Version) -> Result<Record, RecordError> {
    if let Some(index) = fields.iter().position(|f| f.contains('"')) {
        return Err(RecordError::Quoted { column: index + 1 });
    }
    let kind = fields.first().copied().unwrap_or_default();
    if kind != RECORD_TYPE {
        return Err(RecordError::UnknownType { found: clip(kind) });
    }
    let action_text = fields.get(1).copied().unwrap_or_default();
    let action = Action::parse(action_text).ok_or_else(|| RecordError::UnknownAction {
        found: clip(action_text),
    })?;
    let base = if version.has_ref_nr() { 7 } else { 6 };
    let most = if action.takes_article_list() {
        base + 2
    } else {
        base
    };
    if !(base..=most).contains(&fields.len()) {
        return Err(RecordError::FieldCount {
            action,
            version,
            found: fields.len(),
            expected: if base == most {
                base.to_string()
            } else {
                format!("{base} to {most}")
            },
        });
    }
    // From here on, indexes below `base` exist.
    let amount = check_amount(fields[2])?;
    let currency = check_currency(fields[3])?;
    let trans_id = check_ans(Field::TransId, fields[4], MAX_TRANS_ID_LEN)?;
    let (ref_nr, pay_id_at) = if version.has_ref_nr() {
        (check_ref_nr(fields[5])?, 6)
    } else {
        (None, 5)
    };
    let pay_id = check_pay_id(fields[pay_id_at])?;
    let article_list = fields
        .get(pay_id_at + 1)
        .map(|a| check_article_list(a))
        .transpose()?;
    let inv_no = fields
        .get(pay_id_at + 2)
        .map(|i| check_ans(Field::InvNo, i, MAX_INV_NO_LEN))
        .transpose()?;
    Ok(Record {
        line_no,
        action,
        amount,
        currency,
        trans_id,
        ref_nr,
        pay_id,
        article_list,
        inv_no,
    })
}

fn check_amount(text: &str) -> Result<i64, RecordError> {
    let invalid = |reason| RecordError::Invalid {
        field: Field::Amount,
        reason,
    };
    if text.is_empty() {
        return Err(RecordError::Missing(Field::Amount));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "digits only, in the smallest currency unit, without sign or decimals",
        ));
    }
    if text.len() > MAX_AMOUNT_DIGITS {
        return Err(RecordError::TooLong {
            field: Field::Amount,
            max: MAX_AMOUNT_DIGITS,
        });
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(invalid("no leading zeros"));
    }
    match text.parse::<i64>() {
        Ok(amount) if amount > 0 => Ok(amount),
        _ => Err(invalid("must be greater than 0")),
    }
}

fn check_currency(text: &str) -> Result<String, RecordError> {
    if text.is_empty() {
        return Err(RecordError::Missing(Field::Currency));
    }
    if PERMITTED_CURRENCIES.contains(&text) {
        Ok(text.to_string())
    } else {
        Err(RecordError::CurrencyNotPermitted { found: clip(text) })
    }
}

/// `ans`: printable ASCII, no quotes (already refused), no leading or trailing space.
fn check_ans(field: Field, text: &str, max: usize) -> Result<String, RecordError> {
    if text.is_empty() {
        return Err(RecordError::Missing(field));
    }
    if text.len() > max {
        return Err(RecordError::TooLong { field, max });
    }
    let printable = text.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    if !printable || text.starts_with(' ') || text.ends_with(' ') {
        return Err(RecordError::Invalid {
            field,
            reason: "printable ASCII only, without leading or trailing spaces",
        });
    }
    Ok(text.to_string())
}

fn check_ref_nr(text: &str) -> Result<Option<String>, RecordError> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_REF_NR_LEN {
        return Err(RecordError::TooLong {
            field: Field::RefNr,
            max: MAX_REF_NR_LEN,
        });
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(RecordError::Invalid {
            field: Field::RefNr,
            reason: "only letters, digits, '-' and '_'",
        });
    }
    Ok(Some(text.to_string()))
}

fn check_pay_id(text: &str) -> Result<String, RecordError> {
    if text.is_empty() {
        return Err(RecordError::Missing(Field::PayId));
    }
    if text.len() > MAX_PAY_ID_LEN {
        return Err(RecordError::TooLong {
            field: Field::PayId,
            max: MAX_PAY_ID_LEN,
        });
    }
    if !is_plain_id(text) {
        return Err(RecordError::Invalid {
            field: Field::PayId,
            reason: "only letters, digits, '-' and '_' (it becomes part of a Klarna URL)",
        });
    }
    Ok(text.to_string())
}

fn check_article_list(text: &str) -> Result<String, RecordError> {
    if text.is_empty() {
        return Err(RecordError::Missing(Field::ArticleList));
    }
    if text.len() > MAX_ARTICLE_LIST_LEN {
        return Err(RecordError::TooLong {
            field: Field::ArticleList,
            max: MAX_ARTICLE_LIST_LEN,
        });
    }
    let is_list = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .is_some_and(|v| v.get("order_lines").is_some_and(|l| l.is_array()));
    if !is_list {
        return Err(RecordError::Invalid {
            field: Field::ArticleList,
            reason: "must be Base64 of a JSON object with an order_lines array",
        });
    }
    Ok(text.to_string())
}

/// A merchant's value, shortened for an error message.
fn clip(text: &str) -> String {
    text.chars().take(QUOTE_CHARS).collect()
}

/// The verdict on one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Failed,
    /// Sent to Klarna, whose answer is not in yet: it will be finished (the server's worker
    /// sends it again under the same key), and a rerun of the file reports how it ended. Not a
    /// failure: it must not be sent again under another TransID.
    Pending,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Failed => "FAILED",
            Status::Pending => "PENDING",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an [`Executor`] says about one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// The response's Code column.
    pub code: String,
    /// The invoice number to report for a record with an article list (e.g. of a part
    /// capture); `None` echoes the request's.
    pub inv_no: Option<String>,
}

impl Outcome {
    pub fn ok(code: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Ok,
            code: code.into(),
            inv_no: None,
        }
    }

    pub fn failed(code: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Failed,
            code: code.into(),
            inv_no: None,
        }
    }

    pub fn pending(code: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Pending,
            code: code.into(),
            inv_no: None,
        }
    }

    pub fn with_inv_no(mut self, inv_no: impl Into<String>) -> Outcome {
        self.inv_no = Some(inv_no.into());
        self
    }
}

/// Carries out one checked record (a Klarna capture, refund or cancellation).
///
/// Contract:
/// - **Idempotent.** The same file may be processed again (a retry after a crash, a merchant
///   uploading twice), so running a record must be idempotent under the key
///   (`merchant_id`, `record.trans_id`, `record.action`): the second time it does nothing new
///   and answers what the first time did. [`parse`] guarantees no two records of one file share
///   a TransID, so within a file every key is distinct.
/// - **Total.** Every failure, including a timeout, is an [`Outcome`] with [`Status::Failed`];
///   `run` does not panic. A result that is not known (the call may or may not have reached
///   Klarna) must stay findable under the key, so a rerun settles it instead of repeating it.
/// - `merchant_id` is the HEAD's; the caller has checked it is the merchant who sent the file.
pub trait Executor {
    fn run(&self, merchant_id: &str, record: &Record) -> impl Future<Output = Outcome> + Send;
}

/// Runs every good record of `file`, in order, and returns the response file: HEAD as
/// received, every record line with its Status (and Code, where the version returns it), FOOT
/// as received. Bad records are not run; they answer `FAILED` with their [`RecordError::code`].
pub async fn process(file: &BatchFile, exec: &impl Executor) -> String {
    let with_code = file.version.returns_code();
    let mut out = format!("HEAD,{},{},{}\n", file.merchant_id, file.date, file.version);
    for line in &file.records {
        match line {
            Line::Record(record) => {
                let outcome = exec.run(&file.merchant_id, record).await;
                out.push_str(&echo(record, file.version.has_ref_nr()));
                if record.article_list.is_some() {
                    let inv_no = outcome
                        .inv_no
                        .as_deref()
                        .or(record.inv_no.as_deref())
                        .unwrap_or_default();
                    out.push(',');
                    out.push_str(&cell(inv_no));
                }
                push_verdict(&mut out, outcome.status, &outcome.code, with_code);
            }
            Line::Bad(bad) => {
                out.push_str(&without_controls(&bad.raw));
                push_verdict(&mut out, Status::Failed, &bad.error.code(), with_code);
            }
        }
    }
    out.push_str(&format!(
        "FOOT,{},{}\n",
        file.records.len(),
        file.sum_amount
    ));
    out
}

/// A good record as the file had it (Action upper case), up to and including ArticleList.
fn echo(record: &Record, has_ref_nr: bool) -> String {
    let mut line = format!(
        "{RECORD_TYPE},{},{},{},{},",
        record.action, record.amount, record.currency, record.trans_id
    );
    if has_ref_nr {
        line.push_str(record.ref_nr.as_deref().unwrap_or_default());
        line.push(',');
    }
    line.push_str(&record.pay_id);
    if let Some(list) = &record.article_list {
        line.push(',');
        line.push_str(list);
    }
    line
}

fn push_verdict(out: &mut String, status: Status, code: &str, with_code: bool) {
    out.push(',');
    out.push_str(status.as_str());
    if with_code {
        out.push(',');
        out.push_str(&cell(code));
    }
    out.push('\n');
}

/// A bad line as received, but for control characters (a stray `\r`), so it stays one line.
fn without_controls(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { '_' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// A value that cannot add a column or a line to the response file.
fn cell(text: &str) -> Cow<'_, str> {
    let safe = |c: char| c != ',' && c != '"' && !c.is_control();
    if text.chars().all(safe) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(
            text.chars()
                .map(|c| if safe(c) { c } else { '_' })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests;
