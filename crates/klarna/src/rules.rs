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
    if order_amount < 0 || order_amount != lines.iter().map(|l| l.total_amount).sum::<i64>() {
        bad.push("order_amount".into());
    }
    let expected_tax: i64 = if sales_tax {
        lines
            .iter()
            .filter(|l| l.kind == Some(OrderLineType::SalesTax))
            .map(|l| l.total_amount)
            .sum()
    } else {
        lines.iter().map(|l| l.total_tax_amount).sum()
    };
    let items: i64 = lines.iter().map(|l| l.quantity).sum();
    // Klarna tolerates a difference of one per item between the order tax and the line taxes.
    if order_tax_amount < 0 || (order_tax_amount - expected_tax).abs() > items.max(1) {
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
    if !(0..=10_000).contains(&line.tax_rate) {
        bad.push("tax_rate");
    }
    if line.total_discount_amount < 0 {
        bad.push("total_discount_amount");
    }
    if line.unit_price.abs() > MAX_LINE_AMOUNT {
        bad.push("unit_price");
    }
    if line.total_amount.abs() > MAX_LINE_AMOUNT
        || line.total_amount != line.quantity * line.unit_price - line.total_discount_amount
    {
        bad.push("total_amount");
    }
    let expected = crate::order_lines::tax_included(line.total_amount, line.tax_rate);
    if (line.total_tax_amount - expected).abs() > 1 {
        bad.push("total_tax_amount");
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
