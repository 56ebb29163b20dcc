//! Klarna's checks on an order's lines and sums, transcribed from contract §1.4–1.5. The sandbox
//! applies them to every session and order exactly as Klarna would; the property tests use them
//! to prove that [`crate::price_cart`] never builds a cart Klarna would refuse.

use crate::order_lines::{OrderLine, OrderLineType, MAX_LINE_AMOUNT};

/// Returns Klarna's `Bad value: …` field paths for every violated rule; empty when all hold.
/// `sales_tax` selects the US rules (tax in one `sales_tax` line, no per-line tax).
pub fn check_order(
    lines: &[OrderLine],
    order_amount: i64,
    order_tax_amount: i64,
    sales_tax: bool,
) -> Vec<String> {
    let mut bad = Vec::new();
    if lines.is_empty() || lines.len() > 1000 {
        bad.push("order_lines".to_string());
    }
    for (i, line) in lines.iter().enumerate() {
        for field in check_line(line) {
            bad.push(format!("order_lines[{i}].{field}"));
        }
    }
    // Every sum and product below is in i128: amounts a caller chose can neither overflow into
    // agreement (release) nor panic (debug). 1000 lines of i64 products fit easily.
    let total: i128 = lines.iter().map(|l| i128::from(l.total_amount)).sum();
    if order_amount < 0 || i128::from(order_amount) != total {
        bad.push("order_amount".into());
    }
    let expected_tax: i128 = if sales_tax {
        lines
            .iter()
            .filter(|l| l.kind == Some(OrderLineType::SalesTax))
            .map(|l| i128::from(l.total_amount))
            .sum()
    } else {
        lines.iter().map(|l| i128::from(l.total_tax_amount)).sum()
    };
    let items: i128 = lines.iter().map(|l| i128::from(l.quantity)).sum();
    // Klarna tolerates a difference of one per item between the order tax and the line taxes.
    if order_tax_amount < 0 || (i128::from(order_tax_amount) - expected_tax).abs() > items.max(1) {
        bad.push("order_tax_amount".into());
    }
    bad
}

fn check_line(line: &OrderLine) -> Vec<&'static str> {
    let mut bad = Vec::new();
    if line.name.is_empty() || line.name.chars().count() > 255 {
        bad.push("name");
    }
    if line.quantity < 0 {
        bad.push("quantity");
    }
    let rate_ok = (0..=10_000).contains(&line.tax_rate);
    if !rate_ok {
        bad.push("tax_rate");
    }
    if line.total_discount_amount < 0 {
        bad.push("total_discount_amount");
    }
    if line.unit_price.unsigned_abs() > MAX_LINE_AMOUNT.unsigned_abs() {
        bad.push("unit_price");
    }
    let total_ok = line.total_amount.unsigned_abs() <= MAX_LINE_AMOUNT.unsigned_abs();
    let expected_total = i128::from(line.quantity) * i128::from(line.unit_price)
        - i128::from(line.total_discount_amount);
    if !total_ok || i128::from(line.total_amount) != expected_total {
        bad.push("total_amount");
    }
    // The tax is only meaningful (and only computable: a rate of -100 % divides by zero) for a
    // total and a rate that are themselves in range.
    if total_ok && rate_ok {
        let expected = crate::order_lines::tax_included(line.total_amount, line.tax_rate);
        if (i128::from(line.total_tax_amount) - i128::from(expected)).abs() > 1 {
            bad.push("total_tax_amount");
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(qty: i64, unit: i64, total: i64, rate: i64, tax: i64) -> OrderLine {
        OrderLine {
            kind: Some(OrderLineType::Physical),
            reference: None,
            name: "x".into(),
            quantity: qty,
            quantity_unit: None,
            unit_price: unit,
            tax_rate: rate,
            total_amount: total,
            total_discount_amount: 0,
            total_tax_amount: tax,
            image_url: None,
            product_url: None,
        }
    }

    #[test]
    fn names_each_broken_rule() {
        let lines = vec![line(1, 495, 495, 700, 41), line(2, 100, 201, 0, 0)];
        let bad = check_order(&lines, 600, 41, false);
        assert_eq!(
            bad,
            vec![
                "order_lines[0].total_tax_amount",
                "order_lines[1].total_amount",
                "order_amount"
            ]
        );
    }

    #[test]
    fn tolerates_one_per_item_on_order_tax() {
        let lines = vec![line(2, 5000, 10000, 2500, 2000)];
        assert!(check_order(&lines, 10000, 2002, false).is_empty());
        assert_eq!(
            check_order(&lines, 10000, 2003, false),
            vec!["order_tax_amount"]
        );
    }

    #[test]
    fn an_overflowing_product_is_refused_not_wrapped() {
        // 2^62 × 4 wraps to 0 in i64: the line would pass as a free one.
        let lines = vec![line(1 << 62, 4, 0, 0, 0)];
        assert_eq!(
            check_order(&lines, 0, 0, false),
            vec!["order_lines[0].total_amount"]
        );
    }

    #[test]
    fn overflowing_sums_are_refused_not_wrapped() {
        // Two totals of i64::MAX sum to -2 in i64; a huge quantity sum must not wrap either.
        let lines = vec![
            line(1, i64::MAX, i64::MAX, 0, 0),
            line(1, i64::MAX, i64::MAX, 0, 0),
        ];
        let bad = check_order(&lines, -2, 0, false);
        assert!(bad.contains(&"order_amount".to_string()), "{bad:?}");
        let lines = vec![line(i64::MAX, 0, 0, 0, 0), line(i64::MAX, 0, 0, 0, 0)];
        assert!(check_order(&lines, 0, 0, false).is_empty());
        // A rate of -100 % would divide by zero when computing the tax.
        let lines = vec![line(1, 100, 100, -10_000, 0)];
        assert_eq!(
            check_order(&lines, 100, 0, false),
            vec!["order_lines[0].tax_rate"]
        );
    }

    fn extreme() -> impl Strategy<Value = i64> {
        prop_oneof![
            Just(i64::MIN),
            Just(i64::MIN + 1),
            Just(-1),
            Just(0),
            Just(1),
            Just(1 << 62),
            Just(-10_000),
            Just(MAX_LINE_AMOUNT),
            Just(i64::MAX - 1),
            Just(i64::MAX),
            any::<i64>(),
        ]
    }

    fn arb_line() -> impl Strategy<Value = OrderLine> {
        (
            (extreme(), extreme(), extreme()),
            (extreme(), extreme(), extreme()),
            any::<bool>(),
        )
            .prop_map(|((qty, unit, total), (rate, tax, discount), sales_tax)| {
                let mut l = line(qty, unit, total, rate, tax);
                l.total_discount_amount = discount;
                if sales_tax {
                    l.kind = Some(OrderLineType::SalesTax);
                }
                l
            })
    }

    proptest! {
        /// Whatever a caller sends, the rules answer (never panic, never overflow into "valid"):
        /// an order they accept really adds up, computed without overflow.
        #[test]
        fn never_panics_and_accepts_only_consistent_orders(
            lines in prop::collection::vec(arb_line(), 0..4),
            order_amount in extreme(),
            order_tax_amount in extreme(),
            sales_tax in any::<bool>(),
        ) {
            let bad = check_order(&lines, order_amount, order_tax_amount, sales_tax);
            if bad.is_empty() {
                let sum: i128 = lines.iter().map(|l| i128::from(l.total_amount)).sum();
                prop_assert_eq!(sum, i128::from(order_amount));
                for l in &lines {
                    prop_assert!(l.total_amount.abs() <= MAX_LINE_AMOUNT);
                    prop_assert_eq!(
                        i128::from(l.total_amount),
                        i128::from(l.quantity) * i128::from(l.unit_price)
                            - i128::from(l.total_discount_amount)
                    );
                }
            }
        }
    }
}
