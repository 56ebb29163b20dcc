//! The demo catalog, used in sandbox mode and by the demo shop: the browser sends `cart: "demo"`
//! and the server alone decides what that costs. Gross prices are the same in every country of a
//! currency; the VAT inside them follows the purchase country, as for an EU shop under OSS.

use klarna::{CartItem, Country, OrderLineType};

/// Standard and reduced VAT rates in basis points for the countries the demo sells to.
fn vat(country: Country) -> (i64, i64) {
    match country {
        Country::DE => (1_900, 700),
        Country::AT => (2_000, 1_000),
        Country::NL => (2_100, 900),
        Country::BE => (2_100, 600),
        Country::FI => (2_550, 1_400),
        Country::FR => (2_000, 550),
        Country::IT => (2_200, 400),
        Country::ES => (2_100, 400),
        Country::IE => (2_300, 0),
        Country::PT => (2_300, 600),
        Country::GR => (2_400, 600),
        Country::SE => (2_500, 600),
        Country::NO => (2_500, 0),
        Country::DK => (2_500, 2_500),
        Country::GB => (2_000, 0),
        Country::CH => (810, 260),
        Country::PL => (2_300, 500),
        Country::CZ => (2_100, 1_200),
        Country::RO => (1_900, 500),
        Country::HU => (2_700, 500),
        // Sales tax is added as its own line; a non-zero rate only marks the item taxable.
        Country::US => (1, 1),
        // GST; the demo leaves the provinces' own sales taxes out.
        Country::CA => (500, 500),
        Country::AU => (1_000, 0),
        Country::NZ => (1_500, 1_500),
    }
}

/// Items of a known cart reference, priced for `country`.
pub fn cart(reference: &str, country: Country) -> Option<Vec<CartItem>> {
    let (standard, reduced) = vat(country);
    let item =
        |kind, reference: &str, name: &str, quantity, unit_price, tax_rate, discount| CartItem {
            kind,
            reference: reference.into(),
            name: name.into(),
            quantity,
            unit_price,
            tax_rate,
            discount,
        };
    match reference {
        "demo" => Some(vec![
            item(
                OrderLineType::Physical,
                "TSHIRT-ORG-M",
                "Organic cotton T-shirt",
                2,
                2_490,
                standard,
                0,
            ),
            item(
                OrderLineType::Physical,
                "MUG-ENAMEL",
                "Enamel camping mug",
                1,
                1_295,
                standard,
                130,
            ),
            item(
                OrderLineType::Physical,
                "BOOK-FIELD",
                "Field guide to birds",
                1,
                1_999,
                reduced,
                0,
            ),
            item(
                OrderLineType::ShippingFee,
                "SHIP-STD",
                "Standard shipping",
                1,
                495,
                standard,
                0,
            ),
        ]),
        "demo-small" => Some(vec![item(
            OrderLineType::Physical,
            "STICKER",
            "Sticker pack",
            1,
            300,
            standard,
            0,
        )]),
        _ => None,
    }
}
