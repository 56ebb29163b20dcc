use super::*;
use std::collections::HashMap;
use std::sync::Mutex;

/// The request layout, exactly as the document prints it.
const DOC_REQUEST: &str = "\
HEAD,<MerchantID>,<Date>,<Version>
KLARNAPM,CAPTURE,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>
KLARNAPM,CAPTURE,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>,<ArticleList>
KLARNAPM,CREDIT,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>
KLARNAPM,CREDIT,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>,<ArticleList>
KLARNAPM,REVERSE,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>
FOOT,<CountRecords>,<SumAmount>
";

/// The response layout, exactly as the document prints it.
const DOC_RESPONSE: &str = "\
HEAD,<MerchantID>,<Date>,<Version>
KLARNAPM,CAPTURE,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>,<Status>,<Code>
KLARNAPM,CAPTURE,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>,<ArticleList>,<InvNo>,<Status>,<Code>
KLARNAPM,CREDIT,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>,<Status>,<Code>
KLARNAPM,CREDIT,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>,<ArticleList>,<InvNo>,<Status>,<Code>
KLARNAPM,REVERSE,<Amount>,<Currency>,<TransID>,(<RefNr>,)<PayID>,<Status>,<Code>
FOOT,<CountRecords>,<SumAmount>
";

/// Base64 of `{"order_lines":[]}`.
const LIST: &str = "eyJvcmRlcl9saW5lcyI6W119";

/// Fills the document's placeholders; line `n` gets TransID `T<n>`, RefNr `R<n>`, PayID `P<n>`.
fn fill(template: &str, version: &str) -> String {
    let mut out = String::new();
    for (n, line) in template.lines().enumerate() {
        let ref_nr = if version == "1.0" {
            String::new()
        } else {
            format!("R{n},")
        };
        let line = line
            .replace("<MerchantID>", "Shop_1")
            .replace("<Date>", "20240131")
            .replace("<Version>", version)
            .replace("<Amount>", "1000")
            .replace("<Currency>", "EUR")
            .replace("<TransID>", &format!("T{n}"))
            .replace("(<RefNr>,)", &ref_nr)
            .replace("<PayID>", &format!("P{n}"))
            .replace("<ArticleList>", LIST)
            .replace("<InvNo>", &format!("INV-T{n}"))
            .replace("<Status>", "OK")
            .replace("<Code>", "0")
            .replace("<CountRecords>", "5")
            .replace("<SumAmount>", "5000");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// In memory, idempotent under (merchant, TransID, action) as the trait asks: counts calls and
/// the effects they had.
#[derive(Default)]
struct Fake {
    /// TransID → what to answer instead of OK.
    answers: HashMap<String, Outcome>,
    calls: Mutex<Vec<String>>,
    done: Mutex<HashMap<(String, String, Action), Outcome>>,
}

impl Fake {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn effects(&self) -> usize {
        self.done.lock().map(|d| d.len()).unwrap_or_default()
    }
}

impl Executor for Fake {
    async fn run(&self, merchant_id: &str, record: &Record) -> Outcome {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(record.trans_id.clone());
        }
        let key = (
            merchant_id.to_string(),
            record.trans_id.clone(),
            record.action,
        );
        let Ok(mut done) = self.done.lock() else {
            return Outcome::failed("poisoned");
        };
        done.entry(key)
            .or_insert_with(|| match self.answers.get(&record.trans_id) {
                Some(answer) => answer.clone(),
                None if record.article_list.is_some() => {
                    Outcome::ok("0").with_inv_no(format!("INV-{}", record.trans_id))
                }
                None => Outcome::ok("0"),
            })
            .clone()
    }
}

fn records(file: &BatchFile) -> Vec<&Record> {
    file.records
        .iter()
        .filter_map(|l| match l {
            Line::Record(r) => Some(r),
            Line::Bad(_) => None,
        })
        .collect()
}

fn bad(file: &BatchFile) -> Vec<(usize, String)> {
    file.records
        .iter()
        .filter_map(|l| match l {
            Line::Bad(b) => Some((b.line_no, b.error.code().into_owned())),
            Line::Record(_) => None,
        })
        .collect()
}

/// A file of `records` lines in version `version`, with a FOOT that matches.
fn file_of(version: &str, lines: &[&str], sum: u64) -> String {
    let mut text = format!("HEAD,Shop_1,20240131,{version}\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("FOOT,{},{sum}\n", lines.len()));
    text
}

/// The record error of the only line of a version-2.1 file.
fn error_of(line: &str) -> RecordError {
    let amount = line
        .split(',')
        .nth(2)
        .and_then(|a| digits::<u64>(a, 18))
        .unwrap_or(0);
    match parse(&file_of("2.1", &[line], amount)) {
        Ok(file) => match file.records.as_slice() {
            [Line::Bad(b)] => b.error.clone(),
            other => panic!("expected one bad record, got {other:?}"),
        },
        Err(e) => panic!("file rejected: {e}"),
    }
}

#[tokio::test]
async fn the_documents_layouts_in_version_2_1_round_trip() {
    let file = parse(&fill(DOC_REQUEST, "2.1")).expect("the document's layout");
    assert_eq!(file.merchant_id, "Shop_1");
    assert_eq!(file.version.to_string(), "2.1");
    let good = records(&file);
    assert_eq!(good.len(), 5);
    assert_eq!(
        good.iter().map(|r| r.action).collect::<Vec<_>>(),
        [
            Action::Capture,
            Action::Capture,
            Action::Credit,
            Action::Credit,
            Action::Reverse
        ]
    );
    assert_eq!(good[1].ref_nr.as_deref(), Some("R2"));
    assert_eq!(good[1].article_list.as_deref(), Some(LIST));
    let fake = Fake::default();
    let response = process(&file, &fake).await;
    assert_eq!(response, fill(DOC_RESPONSE, "2.1"));
}

#[tokio::test]
async fn version_1_0_has_no_ref_nr_and_returns_no_code() {
    let file = parse(&fill(DOC_REQUEST, "1.0")).expect("the document's layout, 1.0");
    assert!(records(&file).iter().all(|r| r.ref_nr.is_none()));
    assert_eq!(records(&file)[0].pay_id, "P1");
    let response = process(&file, &Fake::default()).await;
    let expected = fill(DOC_RESPONSE, "1.0").replace(",OK,0\n", ",OK\n");
    assert_eq!(response, expected);
}

#[tokio::test]
async fn version_2_0_has_ref_nr_but_returns_no_code() {
    let text = file_of("2.0", &["KLARNAPM,CAPTURE,100,EUR,T1,R1,P1"], 100);
    let file = parse(&text).expect("2.0");
    assert_eq!(records(&file)[0].ref_nr.as_deref(), Some("R1"));
    let response = process(&file, &Fake::default()).await;
    assert_eq!(
        response,
        "HEAD,Shop_1,20240131,2.0\nKLARNAPM,CAPTURE,100,EUR,T1,R1,P1,OK\nFOOT,1,100\n"
    );
}

#[test]
fn a_line_in_the_wrong_versions_layout_is_a_bad_record() {
    // A 2.x line in a 1.0 file: PayID would be read as RefNr and ArticleList as PayID.
    let file = parse(&file_of("1.0", &["KLARNAPM,CAPTURE,100,EUR,T1,R1,P1"], 100)).expect("file");
    assert_eq!(bad(&file), [(2, "invalid_article_list".to_string())]);
    // A 1.0 line in a 2.x file lacks a column.
    let file = parse(&file_of("2.3", &["KLARNAPM,REVERSE,100,EUR,T1,P1"], 100)).expect("file");
    assert_eq!(bad(&file), [(2, "field_count".to_string())]);
    // An empty RefNr column is no RefNr.
    let file = parse(&file_of("2.3", &["KLARNAPM,REVERSE,100,EUR,T1,,P1"], 100)).expect("file");
    assert_eq!(records(&file)[0].ref_nr, None);
}

#[tokio::test]
async fn good_bad_and_duplicate_records_in_one_file() {
    let text = file_of(
        "1.1",
        &[
            "KLARNAPM,CAPTURE,1000,EUR,T1,R1,P1",
            "KLARNAPM,CAPTURE,12.50,EUR,T2,R2,P2",
            "KLARNAPM,credit,500,SEK,T3,,P3",
            "KLARNAPM,CREDIT,700,EUR,T1,R4,P4",
            "KLARNAPM,REVERSE,300,JPY,T5,R5,P5",
            "KLARNAPM,REVERSE,200,CHF,T6,R6,P6",
        ],
        // 12.50 adds nothing; every readable amount counts, good or bad.
        1000 + 500 + 700 + 300 + 200,
    );
    let file = parse(&text).expect("file");
    assert_eq!(
        bad(&file),
        [
            (3, "invalid_amount".to_string()),
            (5, "duplicate_trans_id".to_string()),
            (6, "currency_not_permitted".to_string()),
        ]
    );
    let fake = Fake {
        answers: HashMap::from([("T6".to_string(), Outcome::failed("21000056"))]),
        ..Fake::default()
    };
    let response = process(&file, &fake).await;
    assert_eq!(fake.calls(), ["T1", "T3", "T6"]);
    assert_eq!(
        response,
        "HEAD,Shop_1,20240131,1.1\n\
         KLARNAPM,CAPTURE,1000,EUR,T1,R1,P1,OK,0\n\
         KLARNAPM,CAPTURE,12.50,EUR,T2,R2,P2,FAILED,invalid_amount\n\
         KLARNAPM,CREDIT,500,SEK,T3,,P3,OK,0\n\
         KLARNAPM,CREDIT,700,EUR,T1,R4,P4,FAILED,duplicate_trans_id\n\
         KLARNAPM,REVERSE,300,JPY,T5,R5,P5,FAILED,currency_not_permitted\n\
         KLARNAPM,REVERSE,200,CHF,T6,R6,P6,FAILED,21000056\n\
         FOOT,6,2700\n"
    );
}

#[tokio::test]
async fn rerunning_a_file_repeats_nothing_with_an_idempotent_executor() {
    let file = parse(&fill(DOC_REQUEST, "2.1")).expect("file");
    let fake = Fake::default();
    let first = process(&file, &fake).await;
    let second = process(&file, &fake).await;
    assert_eq!(first, second);
    assert_eq!(fake.calls().len(), 10);
    assert_eq!(fake.effects(), 5);
}

#[test]
fn a_duplicate_of_a_bad_line_is_still_a_duplicate() {
    let text = file_of(
        "2.1",
        &[
            "KLARNAPM,CAPTURE,100,XXX,T1,,P1",
            "KLARNAPM,CAPTURE,100,EUR,T1,,P1",
        ],
        200,
    );
    let file = parse(&text).expect("file");
    assert_eq!(
        bad(&file),
        [
            (2, "currency_not_permitted".to_string()),
            (3, "duplicate_trans_id".to_string())
        ]
    );
}

#[test]
fn foot_count_counts_bad_records_too() {
    let lines = [
        "KLARNAPM,CAPTURE,100,EUR,T1,,P1",
        "KLARNAPM,CAPTURE,100,XXX,T2,,P2",
    ];
    let mut text = file_of("2.1", &lines, 200);
    assert!(parse(&text).is_ok());
    text = text.replace("FOOT,2,200", "FOOT,1,200");
    assert_eq!(
        parse(&text),
        Err(BatchError::CountMismatch {
            line: 4,
            declared: 1,
            counted: 2
        })
    );
}

#[test]
fn foot_sum_must_match() {
    let text = file_of("2.1", &["KLARNAPM,CAPTURE,100,EUR,T1,,P1"], 101);
    assert_eq!(
        parse(&text),
        Err(BatchError::SumMismatch {
            line: 3,
            declared: 101,
            summed: 100
        })
    );
    let text = file_of("2.1", &["KLARNAPM,CAPTURE,100,EUR,T1,,P1"], 100)
        .replace("FOOT,1,100", "FOOT,1,1.00");
    assert!(matches!(
        parse(&text),
        Err(BatchError::InvalidFoot {
            line: 3,
            field: "SumAmount",
            ..
        })
    ));
}

#[test]
fn file_errors_reject_the_whole_file() {
    let record = "KLARNAPM,CAPTURE,100,EUR,T1,,P1";
    assert_eq!(parse(""), Err(BatchError::MissingHead { line: 1 }));
    assert_eq!(
        parse(&format!("{record}\nFOOT,1,100\n")),
        Err(BatchError::MissingHead { line: 1 })
    );
    assert_eq!(
        parse("HEAD,Shop_1,20240131,2.1\nHEAD,Shop_1,20240131,2.1\n"),
        Err(BatchError::DuplicateHead {
            line: 2,
            first_line: 1
        })
    );
    assert_eq!(
        parse(&format!("HEAD,Shop_1,20240131,2.1\n{record}\n\n")),
        Err(BatchError::MissingFoot { last_line: 2 })
    );
    assert_eq!(
        parse(&format!("HEAD,Shop_1,20240131,3.0\n{record}\nFOOT,1,100\n")),
        Err(BatchError::UnknownVersion {
            line: 1,
            found: "3.0".into()
        })
    );
    for version in ["1", "1.x", "2.01", "1.0.0", ""] {
        assert!(
            matches!(
                parse(&format!("HEAD,Shop_1,20240131,{version}\nFOOT,0,0\n")),
                Err(BatchError::UnknownVersion { .. })
            ),
            "{version}"
        );
    }
    assert_eq!(
        parse(&format!(
            "HEAD,Shop_1,20240131,2.1\n{record}\nFOOT,1,100\n{record}\n"
        )),
        Err(BatchError::AfterFoot {
            line: 4,
            foot_line: 3
        })
    );
    assert!(matches!(
        parse("HEAD,Shop_1,31.01.2024,2.1\nFOOT,0,0\n"),
        Err(BatchError::InvalidHead { field: "Date", .. })
    ));
    assert!(matches!(
        parse("HEAD,Shop 1,20240131,2.1\nFOOT,0,0\n"),
        Err(BatchError::InvalidHead {
            field: "MerchantID",
            ..
        })
    ));
    assert!(matches!(
        parse("HEAD,Shop_1,20240131\nFOOT,0,0\n"),
        Err(BatchError::InvalidHead { field: "line", .. })
    ));
}

#[test]
fn crlf_blank_lines_and_a_bom_are_fine() {
    let text =
        "\u{feff}HEAD,Shop_1,20240131,2.1\r\n\r\nKLARNAPM,CAPTURE,100,EUR,T1,,P1\r\nFOOT,1,100\r\n";
    let file = parse(text).expect("file");
    assert_eq!(records(&file)[0].line_no, 3);
    assert_eq!(records(&file)[0].pay_id, "P1");
    // Without a trailing newline too.
    assert!(parse(text.trim_end()).is_ok());
}

#[tokio::test]
async fn a_hostile_pay_id_never_reaches_the_executor() {
    let lines = [
        "KLARNAPM,CAPTURE,100,EUR,T1,,../x",
        "KLARNAPM,CAPTURE,100,EUR,T2,,a?b",
        "KLARNAPM,CAPTURE,100,EUR,T3,,a/b",
        "KLARNAPM,CAPTURE,100,EUR,T4,,%2e%2e",
        "KLARNAPM,CAPTURE,100,EUR,T5,,",
        "KLARNAPM,CAPTURE,100,EUR,T6,,ok-id_1",
    ];
    let file = parse(&file_of("2.1", &lines, 600)).expect("file");
    let codes: Vec<String> = bad(&file).into_iter().map(|(_, code)| code).collect();
    assert_eq!(
        codes,
        [
            "invalid_pay_id",
            "invalid_pay_id",
            "invalid_pay_id",
            "invalid_pay_id",
            "missing_pay_id"
        ]
    );
    let fake = Fake::default();
    let response = process(&file, &fake).await;
    assert_eq!(fake.calls(), ["T6"]);
    assert!(response.contains("KLARNAPM,CAPTURE,100,EUR,T1,,../x,FAILED,invalid_pay_id\n"));
    let long = "a".repeat(256);
    assert_eq!(
        error_of(&format!("KLARNAPM,CAPTURE,100,EUR,T1,,{long}")).code(),
        "too_long_pay_id"
    );
}

#[test]
fn record_checks() {
    let cases = [
        ("KLARNAPM,CAPTURE,-100,EUR,T1,,P1", "invalid_amount"),
        ("KLARNAPM,CAPTURE,+100,EUR,T1,,P1", "invalid_amount"),
        ("KLARNAPM,CAPTURE,1.00,EUR,T1,,P1", "invalid_amount"),
        ("KLARNAPM,CAPTURE,0,EUR,T1,,P1", "invalid_amount"),
        ("KLARNAPM,CAPTURE,0100,EUR,T1,,P1", "invalid_amount"),
        ("KLARNAPM,CAPTURE,12345678901,EUR,T1,,P1", "too_long_amount"),
        ("KLARNAPM,CAPTURE,,EUR,T1,,P1", "missing_amount"),
        ("KLARNAPM,CAPTURE,100,eur,T1,,P1", "currency_not_permitted"),
        ("KLARNAPM,CAPTURE,100,JPY,T1,,P1", "currency_not_permitted"),
        ("KLARNAPM,CAPTURE,100,,T1,,P1", "missing_currency"),
        ("KLARNAPM,CAPTURE,100,EUR,,,P1", "missing_trans_id"),
        ("KLARNAPM,CAPTURE,100,EUR, T1,,P1", "invalid_trans_id"),
        ("KLARNAPM,CAPTURE,100,EUR,T1,R 1,P1", "invalid_ref_nr"),
        ("KLARNAPM,CAPTURE,100,EUR,T1,,P1,", "missing_article_list"),
        (
            "KLARNAPM,CAPTURE,100,EUR,T1,,P1,bm90IGpzb24=",
            "invalid_article_list",
        ),
        (
            "KLARNAPM,CAPTURE,100,EUR,T1,,P1,e30=",
            "invalid_article_list",
        ),
        (
            "KLARNAPM,REVERSE,100,EUR,T1,,P1,eyJvcmRlcl9saW5lcyI6W119",
            "field_count",
        ),
        (
            "KLARNAPM,CAPTURE,100,EUR,T1,,P1,eyJvcmRlcl9saW5lcyI6W119,I1,x",
            "field_count",
        ),
        ("KLARNAPM,CAPTURE,100,EUR,\"T1\",,P1", "quoted_value"),
        ("\"KLARNAPM\",CAPTURE,100,EUR,T1,,P1", "quoted_value"),
        ("KLARNAPX,CAPTURE,100,EUR,T1,,P1", "unknown_type"),
        ("klarnapm,CAPTURE,100,EUR,T1,,P1", "unknown_type"),
        ("KLARNAPM,REFUND,100,EUR,T1,,P1", "unknown_action"),
        ("KLARNAPM", "unknown_action"),
    ];
    for (line, code) in cases {
        assert_eq!(error_of(line).code(), code, "{line}");
    }
    let long = "T".repeat(65);
    assert_eq!(
        error_of(&format!("KLARNAPM,CAPTURE,100,EUR,{long},,P1")).code(),
        "too_long_trans_id"
    );
    // At the limits, and Action in any case.
    let line = format!(
        "KLARNAPM,Capture,9999999999,EUR,{},{},P1,{LIST},{}",
        "T".repeat(64),
        "R".repeat(40),
        "I".repeat(30)
    );
    let file = parse(&file_of("2.1", &[&line], 9_999_999_999)).expect("file");
    let record = records(&file)[0].clone();
    assert_eq!(record.action, Action::Capture);
    assert_eq!(record.amount, 9_999_999_999);
    assert_eq!(
        record.inv_no.as_deref(),
        Some("IIIIIIIIIIIIIIIIIIIIIIIIIIIIII")
    );
}

#[test]
fn record_errors_name_the_field() {
    let error = error_of("KLARNAPM,CAPTURE,100,EUR,T1,,a?b");
    assert!(error.to_string().starts_with("PayID is invalid"), "{error}");
    let error = error_of("KLARNAPM,REVERSE,100,EUR,T1,,P1,x");
    assert_eq!(
        error.to_string(),
        "8 fields, expected 7 for REVERSE in version 2.1"
    );
}

#[tokio::test]
async fn executor_values_cannot_break_the_response_file() {
    let text = file_of(
        "2.1",
        &[&format!("KLARNAPM,CREDIT,100,EUR,T1,,P1,{LIST},OUR-INV")],
        100,
    );
    let file = parse(&text).expect("file");
    let fake = Fake {
        answers: HashMap::from([("T1".to_string(), Outcome::failed("a,b\nFOOT,0,0"))]),
        ..Fake::default()
    };
    let response = process(&file, &fake).await;
    assert_eq!(
        response,
        format!(
            "HEAD,Shop_1,20240131,2.1\n\
             KLARNAPM,CREDIT,100,EUR,T1,,P1,{LIST},OUR-INV,FAILED,a_b_FOOT_0_0\n\
             FOOT,1,100\n"
        )
    );
}

#[tokio::test]
async fn a_bad_line_with_a_stray_carriage_return_stays_one_line() {
    let text = file_of("2.1", &["KLARNAPM,CAPTURE,100,EUR,T1\r,,P1"], 100);
    let file = parse(&text).expect("file");
    let response = process(&file, &Fake::default()).await;
    assert_eq!(
        response,
        "HEAD,Shop_1,20240131,2.1\n\
         KLARNAPM,CAPTURE,100,EUR,T1_,,P1,FAILED,invalid_trans_id\n\
         FOOT,1,100\n"
    );
}
