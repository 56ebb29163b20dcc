//! A batch file of seed 004's format run against the sandbox's Order Management: good, bad
//! and duplicate records answered one by one, a bad record fatal to none, and a second run of
//! the same file repeating nothing.

mod common;

use common::*;
use server::merchant::batch_run::run_text;

/// The request file: two captures and a credit for `first`, a reversal of `second`, then a
/// record with a hostile PayID, one in the wrong currency, one for an unknown order and a
/// repeated TransID; last, a reversal that releases the rest of `first`.
fn file(first: &str, second: &str, second_amount: i64, first_rest: i64) -> String {
    let records = [
        format!("KLARNAPM,CAPTURE,1000,EUR,T-1,R1,{first}"),
        format!("KLARNAPM,CAPTURE,500,EUR,T-2,R2,{first}"),
        format!("KLARNAPM,CREDIT,300,EUR,T-3,R3,{first}"),
        format!("KLARNAPM,REVERSE,{second_amount},EUR,T-4,R4,{second}"),
        "KLARNAPM,CAPTURE,100,EUR,T-5,R5,../payments/v1".to_string(),
        format!("KLARNAPM,CAPTURE,100,SEK,T-6,R6,{first}"),
        "KLARNAPM,CAPTURE,100,EUR,T-7,R7,no-such-order".to_string(),
        format!("KLARNAPM,CAPTURE,100,EUR,T-1,R8,{first}"),
        format!("KLARNAPM,REVERSE,{first_rest},EUR,T-9,R9,{first}"),
    ];
    let sum = 1000 + 500 + 300 + second_amount + 100 * 4 + first_rest;
    format!(
        "HEAD,shop-1,20260301,2.1\n{}\nFOOT,{},{sum}\n",
        records.join("\n"),
        records.len()
    )
}

#[tokio::test]
async fn good_bad_and_duplicate_records_each_get_their_answer_and_a_rerun_repeats_nothing() {
    let env = start().await;
    let first = env.placed_order("customer@example.com").await;
    let second = env.placed_order("customer@example.com").await;
    let text = file(
        &first.order_id,
        &second.order_id,
        second.order_amount,
        first.order_amount - 1500,
    );
    let ran = run_text(&text, &env.state.store, &env.state.klarna, &env.state.clock)
        .await
        .unwrap();
    assert_eq!((ran.records, ran.not_ok), (9, 4));
    let answer = ran.response;
    let lines: Vec<&str> = answer.lines().collect();
    assert_eq!(lines.len(), 11, "{answer}");
    assert_eq!(lines[0], "HEAD,shop-1,20260301,2.1");
    for (i, expected) in [
        ",OK,ok",
        ",OK,ok",
        ",OK,ok",
        ",OK,ok",
        ",FAILED,invalid_pay_id",
        ",FAILED,invalid_fields",
        ",FAILED,order_not_found",
        ",FAILED,duplicate_trans_id",
        ",OK,ok",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            lines[i + 1].ends_with(expected),
            "record {}: {}",
            i + 1,
            lines[i + 1]
        );
    }
    assert!(lines[10].starts_with("FOOT,9,"), "{}", lines[10]);

    let orders = |id: &str| env.sandbox.order_snapshot(id).unwrap();
    assert_eq!(orders(&first.order_id).captured_amount, 1500);
    assert_eq!(orders(&first.order_id).refunded_amount, 300);
    // The last reversal released the rest of the first order.
    assert_eq!(orders(&first.order_id).remaining_authorized_amount, 0);
    assert_eq!(
        orders(&second.order_id).status,
        klarna::order_management::OmStatus::Cancelled
    );
    let calls = env.sandbox.requests().len();

    // The same file again: the same answers (the release too, although nothing is left to
    // release now), and not one more capture, credit or reversal.
    let again = run_text(&text, &env.state.store, &env.state.klarna, &env.state.clock)
        .await
        .unwrap();
    assert_eq!(again.response, answer);
    assert_eq!(orders(&first.order_id).captured_amount, 1500);
    assert_eq!(orders(&first.order_id).captures.len(), 2);
    let mutations = env.sandbox.requests()[calls..]
        .iter()
        .filter(|r| r.method != "GET")
        .count();
    assert_eq!(mutations, 0);
}

#[tokio::test]
async fn a_file_whose_foot_does_not_add_up_runs_nothing() {
    let env = start().await;
    let first = env.placed_order("customer@example.com").await;
    let text = format!(
        "HEAD,shop-1,20260301,2.1\nKLARNAPM,CAPTURE,1000,EUR,T-1,R1,{}\nFOOT,1,999\n",
        first.order_id
    );
    let e = run_text(&text, &env.state.store, &env.state.klarna, &env.state.clock)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("999"), "{e}");
    assert_eq!(
        env.sandbox
            .order_snapshot(&first.order_id)
            .unwrap()
            .captured_amount,
        0
    );
}
