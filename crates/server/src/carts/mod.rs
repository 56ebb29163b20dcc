//! Carts registered by the storefront's backend (`POST /api/merchant/carts`): lines with one
//! price list per currency, so the shop's own systems, not the browser and not this server's
//! code, own prices. The browser names a cart (`c_…`); the checkout prices the stored cart for
//! the purchase country ([`crate::catalog`]: VAT by tax class from the server's table). The
//! demo carts are registered carts too, seeded at start ([`seed`]).
//!
//! Files: this one holds the types and the validation; [`store`] the table; [`api`] the routes.

pub mod api;
pub mod seed;
pub mod store;

use crate::merchant::errors::{MerchantCode, MerchantError};
use klarna::order_lines::MAX_LINE_AMOUNT;
use klarna::{price_cart, Currency, OrderLineType, TaxMode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many lines per cart (Klarna takes 1,000; a merchant's body is at most 256 KiB anyway).
pub const MAX_LINES: usize = 100;
/// At most this many units on one line.
pub const MAX_QUANTITY: i64 = 100_000;
/// References and names: Klarna's limit.
const MAX_TEXT_CHARS: usize = 255;

/// Which of the purchase country's VAT rates a line carries ([`crate::catalog`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaxClass {
    Standard,
    Reduced,
    Zero,
}

/// Who buys: a consumer, or a business (Klarna's `customer.type`).
pub use klarna::CustomerType;

/// What the checkout asks Klarna for: a purchase, or a purchase plus a customer token for
/// later charges (recurring, [`crate::recurring`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    #[default]
    Buy,
    BuyAndTokenize,
}

impl Intent {
    /// Klarna's `intent` value, which is spelled the same.
    pub fn name(self) -> &'static str {
        match self {
            Intent::Buy => "buy",
            Intent::BuyAndTokenize => "buy_and_tokenize",
        }
    }
}

/// One price of a line in one currency, in minor units: the unit price (gross, or net where
/// sales tax is added on top) and the whole line's discount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinePrice {
    pub unit_price: i64,
    #[serde(default)]
    pub discount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub reference: String,
    pub name: String,
    pub quantity: i64,
    #[serde(rename = "type")]
    pub kind: OrderLineType,
    pub tax_class: TaxClass,
    /// ISO 4217 code (upper case) → price. Every line prices the same currencies.
    pub prices: BTreeMap<String, LinePrice>,
}

/// `POST /api/merchant/carts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterCart {
    pub lines: Vec<CartLine>,
    #[serde(default)]
    pub customer_type: CustomerType,
    #[serde(default)]
    pub intent: Intent,
}

/// A registered cart, as stored. Carts never change: a new price is a new cart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cart {
    pub id: String,
    pub lines: Vec<CartLine>,
    pub customer_type: CustomerType,
    pub intent: Intent,
    pub created_at: i64,
}

impl Cart {
    /// The currencies every line has a price in (all of them, once validated).
    pub fn currencies(&self) -> Vec<Currency> {
        Currency::ALL
            .into_iter()
            .filter(|c| {
                !self.lines.is_empty() && self.lines.iter().all(|l| l.prices.contains_key(c.code()))
            })
            .collect()
    }
}

/// A new cart id: `c_` and 20 random letters and digits (a plain id, safe in a URL).
pub fn new_id() -> String {
    format!("c_{}", crate::merchant::keys::random_alphanumeric(20))
}

fn fine_text(text: &str) -> bool {
    let chars = text.chars().count();
    (1..=MAX_TEXT_CHARS).contains(&chars) && !text.chars().any(char::is_control)
}

/// Every problem of a cart, each naming its field (`lines[2].prices.EUR.unit_price`); empty
/// when the cart can be sold. `us_sales_tax_rate` is the rate the US checkout adds.
pub fn problems(cart: &RegisterCart, us_sales_tax_rate: i64) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut bad = |field: String, message: &str| out.push((field, message.to_string()));
    if cart.lines.is_empty() {
        bad("lines".into(), "a cart needs at least one line");
    }
    if cart.lines.len() > MAX_LINES {
        bad("lines".into(), "a cart has at most 100 lines");
    }
    // Klarna's B2B (Billie) issues no customer tokens: no recurring for organizations (Adyen's
    // "Billie via Klarna": recurring unsupported; Mollie's Billie: "Recurring: No").
    if cart.customer_type == CustomerType::Organization && cart.intent == Intent::BuyAndTokenize {
        bad(
            "intent".into(),
            "a business (organization) cart cannot be tokenized: Klarna's B2B has no recurring payments",
        );
    }
    // The cart's currencies: every currency any line names; each line must price all of them.
    let mut currencies: Vec<&str> = Vec::new();
    for line in &cart.lines {
        for code in line.prices.keys() {
            if Currency::ALL.iter().any(|c| c.code() == code) && !currencies.contains(&&**code) {
                currencies.push(code);
            }
        }
    }
    for (i, line) in cart.lines.iter().enumerate() {
        let at = |rest: &str| format!("lines[{i}].{rest}");
        if !fine_text(&line.reference) {
            bad(
                at("reference"),
                "must be 1 to 255 characters without control characters",
            );
        }
        if !fine_text(&line.name) {
            bad(
                at("name"),
                "must be 1 to 255 characters without control characters",
            );
        }
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            bad(at("quantity"), "must be a whole number from 1 to 100000");
        }
        if line.kind == OrderLineType::SalesTax {
            bad(
                at("type"),
                "sales tax is added by the checkout for US buyers; register net prices",
            );
        }
        if line.prices.is_empty() {
            bad(at("prices"), "needs a price in at least one currency");
        }
        let is_discount = line.kind == OrderLineType::Discount;
        for (code, price) in &line.prices {
            let field = |rest: &str| format!("lines[{i}].prices.{code}{rest}");
            if !Currency::ALL.iter().any(|c| c.code() == code) {
                bad(
                    field(""),
                    "is not a currency Klarna settles in (upper-case ISO 4217, such as EUR)",
                );
                continue;
            }
            let unit_ok = if is_discount {
                (-MAX_LINE_AMOUNT..=0).contains(&price.unit_price)
            } else {
                (0..=MAX_LINE_AMOUNT).contains(&price.unit_price)
            };
            if !unit_ok {
                bad(
                    field(".unit_price"),
                    if is_discount {
                        "a discount line's unit price is negative or zero, in minor units"
                    } else {
                        "must be from 0 to 200000000 minor units"
                    },
                );
                continue;
            }
            let total = i128::from(line.quantity.clamp(0, MAX_QUANTITY))
                * i128::from(price.unit_price)
                - i128::from(price.discount);
            if price.discount < 0
                || (is_discount && price.discount != 0)
                || (!is_discount && total < 0)
            {
                bad(
                    field(".discount"),
                    "must be from 0 to the line's value (a discount line has none)",
                );
            } else if total.abs() > i128::from(MAX_LINE_AMOUNT) {
                bad(
                    field(".unit_price"),
                    "the line's total exceeds Klarna's 200000000 minor units",
                );
            }
        }
        for code in &currencies {
            if !line.prices.contains_key(*code) {
                bad(
                    format!("lines[{i}].prices.{code}"),
                    "missing: every line needs a price in every currency the cart offers",
                );
            }
        }
    }
    if out.is_empty() {
        // Priced as the checkout will price it, in every country it can be sold to: discounts
        // that exceed the goods are refused now, not in front of a shopper.
        let stored = Cart {
            id: String::new(),
            lines: cart.lines.clone(),
            customer_type: cart.customer_type,
            intent: cart.intent,
            created_at: 0,
        };
        for country in crate::catalog::countries(&stored) {
            let priced = crate::catalog::cart(&stored, country).map(|items| {
                price_cart(
                    &items,
                    country,
                    TaxMode::for_country(country, us_sales_tax_rate),
                )
            });
            if !matches!(priced, Ok(Ok(_))) {
                out.push((
                    "lines".into(),
                    format!(
                        "in {} the discounts exceed the goods they reduce",
                        country.currency().code()
                    ),
                ));
                break;
            }
        }
    }
    out
}

/// The refusal for `problems`, naming every field.
pub fn refusal(problems: Vec<(String, String)>) -> MerchantError {
    let message = problems
        .iter()
        .take(10)
        .map(|(f, m)| format!("{f}: {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut e = MerchantError::new(MerchantCode::InvalidFields, message);
    e.fields = problems.into_iter().map(|(f, _)| f).collect();
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(prices: &[(&str, i64, i64)]) -> CartLine {
        CartLine {
            reference: "SKU".into(),
            name: "Thing".into(),
            quantity: 1,
            kind: OrderLineType::Physical,
            tax_class: TaxClass::Standard,
            prices: prices
                .iter()
                .map(|(c, u, d)| {
                    (
                        c.to_string(),
                        LinePrice {
                            unit_price: *u,
                            discount: *d,
                        },
                    )
                })
                .collect(),
        }
    }

    fn cart(lines: Vec<CartLine>) -> RegisterCart {
        RegisterCart {
            lines,
            customer_type: CustomerType::Person,
            intent: Intent::Buy,
        }
    }

    #[test]
    fn every_problem_names_its_field() {
        let mut third = line(&[("EUR", -5, 0)]);
        third.quantity = 0;
        let found = problems(
            &cart(vec![
                line(&[("EUR", 100, 0), ("SEK", 900, 0)]),
                line(&[("EUR", 100, 200), ("XXX", 1, 0)]),
                third,
            ]),
            0,
        );
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "lines[1].prices.EUR.discount",
                "lines[1].prices.XXX",
                "lines[1].prices.SEK",
                "lines[2].quantity",
                "lines[2].prices.EUR.unit_price",
                "lines[2].prices.SEK",
            ]
        );
        assert!(problems(&cart(vec![]), 0).iter().any(|(f, _)| f == "lines"));
    }

    #[test]
    fn an_organization_cart_cannot_be_tokenized() {
        let mut c = cart(vec![line(&[("EUR", 100, 0)])]);
        c.customer_type = CustomerType::Organization;
        assert!(problems(&c, 0).is_empty());
        c.intent = Intent::BuyAndTokenize;
        let found = problems(&c, 0);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "intent");
        c.customer_type = CustomerType::Person;
        assert!(problems(&c, 0).is_empty());
    }

    #[test]
    fn a_discount_line_larger_than_the_goods_is_refused() {
        let mut discount = line(&[("EUR", -500, 0)]);
        discount.kind = OrderLineType::Discount;
        let found = problems(&cart(vec![line(&[("EUR", 100, 0)]), discount]), 0);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "lines");
        assert!(problems(&cart(vec![line(&[("SEK", 100, 0)])]), 0).is_empty());
    }
}
