//! The demo shop's carts (`demo`, `demo-small`, and `demo-b2b` for a business), registered like any merchant's cart: written
//! at every start ([`seed`]) with an upsert, so the code's list is the truth for these ids (as
//! the static catalog was), a restart changes nothing, and instances starting together write
//! the same rows. Their prices are the demo catalog's, unchanged.

use super::{Cart, CartLine, CustomerType, Intent, LinePrice, TaxClass};
use crate::store::Store;
use klarna::OrderLineType;

/// A line with `(currency, unit price, line discount)` prices.
fn line(
    kind: OrderLineType,
    reference: &str,
    name: &str,
    quantity: i64,
    tax_class: TaxClass,
    prices: &[(&str, i64, i64)],
) -> CartLine {
    CartLine {
        reference: reference.into(),
        name: name.into(),
        quantity,
        kind,
        tax_class,
        prices: prices
            .iter()
            .map(|&(code, unit_price, discount)| {
                (
                    code.to_string(),
                    LinePrice {
                        unit_price,
                        discount,
                    },
                )
            })
            .collect(),
    }
}

/// The ids of the seeded carts.
pub const DEMO_CARTS: &[&str] = &["demo", "demo-small", "demo-b2b"];

/// A seeded cart by id.
pub fn demo_cart(id: &str) -> Option<Cart> {
    use OrderLineType::{Physical, ShippingFee};
    use TaxClass::{Reduced, Standard};
    let lines = match id {
        "demo" => vec![
            line(
                Physical,
                "TSHIRT-ORG-M",
                "Organic cotton T-shirt",
                2,
                Standard,
                &[
                    ("EUR", 2_490, 0),
                    ("SEK", 27_900, 0),
                    ("GBP", 2_200, 0),
                    ("USD", 2_600, 0),
                    ("CAD", 3_500, 0),
                ],
            ),
            line(
                Physical,
                "MUG-ENAMEL",
                "Enamel camping mug",
                1,
                Standard,
                &[
                    ("EUR", 1_295, 130),
                    ("SEK", 14_500, 1_500),
                    ("GBP", 1_100, 100),
                    ("USD", 1_400, 150),
                    ("CAD", 1_900, 200),
                ],
            ),
            // Books are taxed at the reduced rate.
            line(
                Physical,
                "BOOK-FIELD",
                "Field guide to birds",
                1,
                Reduced,
                &[
                    ("EUR", 1_999, 0),
                    ("SEK", 22_900, 0),
                    ("GBP", 1_799, 0),
                    ("USD", 2_199, 0),
                    ("CAD", 2_899, 0),
                ],
            ),
            line(
                ShippingFee,
                "SHIP-STD",
                "Standard shipping",
                1,
                Standard,
                &[
                    ("EUR", 495, 0),
                    ("SEK", 4_900, 0),
                    ("GBP", 399, 0),
                    ("USD", 599, 0),
                    ("CAD", 799, 0),
                ],
            ),
        ],
        "demo-small" => vec![line(
            Physical,
            "STICKER",
            "Sticker pack",
            1,
            Standard,
            &[("EUR", 300, 0), ("SEK", 3_500, 0)],
        )],
        // Office supplies for a business, in the currencies of Billie's euro and Swedish
        // markets: Klarna's B2B session, the company asked for in the form.
        "demo-b2b" => vec![
            line(
                Physical,
                "PAPER-A4-500",
                "Recycled copy paper A4, 500 sheets",
                5,
                Standard,
                &[("EUR", 649, 0), ("SEK", 7_490, 0)],
            ),
            line(
                Physical,
                "PEN-GEL-10",
                "Gel pens, pack of 10",
                2,
                Standard,
                &[("EUR", 899, 0), ("SEK", 9_990, 0)],
            ),
        ],
        _ => return None,
    };
    let customer_type = if id == "demo-b2b" {
        CustomerType::Organization
    } else {
        CustomerType::Person
    };
    Some(Cart {
        id: id.into(),
        lines,
        customer_type,
        intent: Intent::Buy,
        created_at: 0,
    })
}

/// Writes the demo carts (insert or replace by id).
pub async fn seed(store: &Store, now: i64) -> Result<(), sqlx::Error> {
    for id in DEMO_CARTS {
        if let Some(mut cart) = demo_cart(id) {
            cart.created_at = now;
            store.upsert_cart(&cart).await?;
        }
    }
    Ok(())
}
