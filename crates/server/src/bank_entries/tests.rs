//! A transactions page written by hand from Klarna's documentation (the Transaction object,
//! docs.openbanking.klarna.com/xs2a/objects/transaction.html, and a playground capture in
//! ERPNext Banking's `demo_responses`), decoded and sorted as the server does it.

use super::*;
use klarna::xs2a::Envelope;

const PAGE: &str = r#"{
  "data": {
    "result": {
      "type": "transactions",
      "from_date": "2026-06-01",
      "to_date": "2026-06-15",
      "incomplete": false,
      "transactions": [
        {
          "transaction_id": "50d18876ee83099984eb0e1ef1c93e3f",
          "reference": "eBay, Additional information about Ebay",
          "bank_references": {"unstructured": "eBay", "additional_information": "Additional information about Ebay"},
          "counter_party": {"id": "YmI5NDAz", "iban": "DE18000000006636981175", "holder_name": "Hans Mustermann", "account_type": "DEFAULT"},
          "date": "2026-06-02",
          "value_date": "2026-06-03",
          "booking_date": "2026-06-02",
          "state": "PROCESSED",
          "type": "DEBIT",
          "method": "DIRECT_DEBIT",
          "amount": {"amount": 324229, "currency": "EUR"}
        },
        {
          "transaction_id": "9649ebf4bdc358a5e029a15626964e4a",
          "bank_references": {"unstructured": "Gehalt Juni"},
          "counter_party": {"holder_name": "Beispiel Software GmbH"},
          "date": "2026-06-01",
          "state": "PROCESSED",
          "type": "CREDIT",
          "method": "TRANSFER",
          "amount": {"amount": 345000, "currency": "EUR"},
          "merchant_category_code": "6012"
        },
        {
          "reference": "REWE SAGT DANKE",
          "counter_party": {"holder_name": "REWE Markt GmbH"},
          "date": "2026-06-15",
          "state": "PENDING",
          "type": "DEBIT",
          "method": "UNKNOWN",
          "amount": {"amount": 2340, "currency": "EUR"}
        },
        {
          "transaction_id": "pending-7f3a",
          "reference": "Zahlung RE-2026-0042",
          "date": "2026-06-14",
          "value_date": "2026-06-16",
          "state": "PENDING",
          "type": "CREDIT",
          "method": "INSTANT",
          "amount": {"amount": 90000, "currency": "EUR"}
        },
        {
          "transaction_id": "c4a1",
          "reference": "storniert",
          "date": "2026-06-10",
          "state": "CANCELED",
          "type": "DEBIT",
          "method": "TRANSFER",
          "amount": {"amount": 5000, "currency": "EUR"}
        },
        {
          "transaction_id": "f9e2",
          "reference": "abgelehnt",
          "date": "2026-06-11",
          "state": "FAILED",
          "type": "CREDIT",
          "method": "TRANSFER",
          "amount": {"amount": 7000, "currency": "EUR"}
        }
      ],
      "pagination": {"url": "https://api.openbanking.playground.klarna.com/xs2a/v1/consents/abc/transactions/list", "next": {"offset": "b2Zmc2V0"}}
    },
    "consent_token": "rotated-token"
  }
}"#;

fn transaction(json: serde_json::Value) -> Transaction {
    serde_json::from_value(json).unwrap()
}

#[test]
fn a_documented_page_sorts_into_booked_pending_and_ignored() {
    let page: Envelope<Page> = serde_json::from_str(PAGE).unwrap();
    assert_eq!(page.data.consent_token, "rotated-token");
    let next = page
        .data
        .result
        .pagination
        .as_ref()
        .and_then(|p| p.next.as_ref());
    assert_eq!(next.map(|n| n.offset.as_str()), Some("b2Zmc2V0"));
    let mut sorted = Sorted::default();
    assert_eq!(sorted.add(page.data.result.transactions), []);
    assert_eq!(
        sorted.booked,
        [
            NewBooked {
                transaction_id: "50d18876ee83099984eb0e1ef1c93e3f".into(),
                booking_date: "2026-06-02".into(),
                amount: -324_229,
                currency: "EUR".into(),
                counterparty: "Hans Mustermann".into(),
                reference: "eBay, Additional information about Ebay".into(),
            },
            NewBooked {
                transaction_id: "9649ebf4bdc358a5e029a15626964e4a".into(),
                booking_date: "2026-06-01".into(),
                amount: 345_000,
                currency: "EUR".into(),
                counterparty: "Beispiel Software GmbH".into(),
                reference: "Gehalt Juni".into(),
            },
        ]
    );
    assert_eq!(
        sorted.pending,
        [
            NewPending {
                transaction_id: None,
                date: "2026-06-15".into(),
                amount: -2_340,
                currency: "EUR".into(),
                counterparty: "REWE Markt GmbH".into(),
                reference: "REWE SAGT DANKE".into(),
            },
            NewPending {
                transaction_id: Some("pending-7f3a".into()),
                date: "2026-06-14".into(),
                amount: 90_000,
                currency: "EUR".into(),
                counterparty: String::new(),
                reference: "Zahlung RE-2026-0042".into(),
            },
        ]
    );
    assert_eq!(sorted.ignored, 2, "the cancelled and the failed one");
    assert_eq!(sorted.skipped, 0);
}

#[test]
fn undocumented_states_types_and_shapes_are_skipped_and_counted_not_the_page() {
    let base = serde_json::json!({"transaction_id": "x", "date": "2026-06-01",
        "state": "PROCESSED", "type": "DEBIT", "amount": {"amount": 1, "currency": "EUR"}});
    let with = |changes: &[(&str, &str)]| {
        let mut j = base.clone();
        for (k, v) in changes {
            j[*k] = (*v).into();
        }
        j
    };
    let page = serde_json::json!({"data": {"consent_token": "rotated", "result": {"transactions": [
        with(&[("state", "BOOKED")]),
        with(&[("state", "PENDING"), ("type", "FEE")]),
        with(&[("type", "OUT")]),
        with(&[("amount", "1,00 EUR")]),
        with(&[("counter_party", "Hans Mustermann")]),
        with(&[("state", "CANCELED"), ("type", "REFUND")]),
        base.clone(),
    ]}}});
    let page: Envelope<Page> = serde_json::from_value(page).unwrap();
    assert_eq!(page.data.consent_token, "rotated");
    let mut sorted = Sorted::default();
    let problems = sorted.add(page.data.result.transactions);
    assert_eq!(
        problems,
        [
            EntryError::UnknownState,
            EntryError::UnknownType(TransactionState::Pending),
            EntryError::UnknownType(TransactionState::Processed),
            EntryError::Unreadable,
            EntryError::Unreadable,
        ]
    );
    assert_eq!((sorted.skipped, sorted.ignored), (5, 1));
    assert!(sorted.pending.is_empty(), "an unknown one is never pending");
    assert_eq!(sorted.booked.len(), 1, "the documented one is booked");
    for p in &problems {
        let logged = p.to_string();
        assert!(
            !logged.contains("Hans") && !logged.contains("1,00"),
            "{logged}"
        );
    }
}

#[test]
fn odd_transactions_are_skipped_and_the_rest_sorted() {
    let t = |json: serde_json::Value| Listed::Read(Box::new(transaction(json)));
    let mut sorted = Sorted::default();
    let problems = sorted.add(vec![
        t(
            serde_json::json!({"date": "2026-06-01", "state": "PROCESSED", "type": "CREDIT",
            "amount": {"amount": 1, "currency": "EUR"}}),
        ),
        t(
            serde_json::json!({"transaction_id": "a", "date": "2026-06-01", "state": "PROCESSED",
            "type": "DEBIT", "amount": {"amount": -5, "currency": "EUR"}}),
        ),
        t(serde_json::json!({"state": "PENDING", "type": "CREDIT",
            "amount": {"amount": 1, "currency": "EUR"}})),
        t(
            serde_json::json!({"transaction_id": "b", "date": "2026-06-02", "state": "PROCESSED",
            "type": "CREDIT", "amount": {"amount": 7, "currency": "EUR"}}),
        ),
    ]);
    assert_eq!(
        problems,
        [
            EntryError::MissingId(TransactionState::Processed),
            EntryError::NegativeAmount(-5),
            EntryError::MissingDate,
        ]
    );
    assert_eq!(sorted.skipped, 3);
    assert_eq!(sorted.booked.len(), 1);
    assert_eq!(sorted.booked[0].transaction_id, "b");
}

#[test]
fn a_processed_transaction_needs_an_id_a_date_and_an_unsigned_amount() {
    let t = |json| Entry::try_from(transaction(json));
    let no_id = serde_json::json!({"date": "2026-06-01", "state": "PROCESSED", "type": "CREDIT",
        "amount": {"amount": 1, "currency": "EUR"}});
    assert_eq!(
        t(no_id),
        Err(EntryError::MissingId(TransactionState::Processed))
    );
    let no_date = serde_json::json!({"transaction_id": "a", "state": "PENDING", "type": "CREDIT",
        "amount": {"amount": 1, "currency": "EUR"}});
    assert_eq!(t(no_date), Err(EntryError::MissingDate));
    let signed = serde_json::json!({"transaction_id": "a", "date": "2026-06-01", "state": "PROCESSED",
        "type": "DEBIT", "amount": {"amount": -5, "currency": "EUR"}});
    assert_eq!(t(signed), Err(EntryError::NegativeAmount(-5)));
}

#[test]
fn identical_pending_transactions_get_keys_of_their_own() {
    let coffee = NewPending {
        transaction_id: None,
        date: "2026-06-15".into(),
        amount: -350,
        currency: "EUR".into(),
        counterparty: "Café".into(),
        reference: "Kaffee".into(),
    };
    let sorted = Sorted {
        pending: vec![coffee.clone(), coffee.clone()],
        ..Sorted::default()
    };
    let keys: Vec<String> = sorted.pending_keyed().into_iter().map(|(k, _)| k).collect();
    assert_ne!(keys[0], keys[1]);
    // The same two again (the next sync) get the same keys.
    let again: Vec<String> = sorted.pending_keyed().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, again);
}
