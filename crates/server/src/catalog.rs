//! The demo catalog, used in sandbox mode and by the demo shop: the browser sends `cart: "demo"`
//! and the server alone decides what that costs. A product has one price list per currency,
//! set by the shop; nothing is ever converted (Klarna does not convert either). A country whose
//! currency has no price list cannot buy the cart. Gross prices are the same in every country of
//! a currency; the VAT inside them follows the purchase country, as for an EU shop under OSS.
//! A cart is bought by a consumer unless [`customer_type`] says it is a business purchase.

use klarna::{CartItem, Country, Currency, CustomerType, OrderLineType};
use thiserror::Error;

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

/// One price of a product in one currency: the unit price (gross, or net where sales tax is
/// added on top) and the whole line's discount, both in minor units.
type Price = (Currency, i64, i64);

struct Product {
    kind: OrderLineType,
    reference: &'static str,
    name: &'static str,
    quantity: i64,
    /// Taxed at the reduced rate (books).
    reduced: bool,
    prices: &'static [Price],
}

use Currency::{CAD, EUR, GBP, SEK, USD};

const DEMO: &[Product] = &[
    Product {
        kind: OrderLineType::Physical,
        reference: "TSHIRT-ORG-M",
        name: "Organic cotton T-shirt",
        quantity: 2,
        reduced: false,
        prices: &[
            (EUR, 2_490, 0),
            (SEK, 27_900, 0),
            (GBP, 2_200, 0),
            (USD, 2_600, 0),
            (CAD, 3_500, 0),
        ],
    },
    Product {
        kind: OrderLineType::Physical,
        reference: "MUG-ENAMEL",
        name: "Enamel camping mug",
        quantity: 1,
        reduced: false,
        prices: &[
            (EUR, 1_295, 130),
            (SEK, 14_500, 1_500),
            (GBP, 1_100, 100),
            (USD, 1_400, 150),
            (CAD, 1_900, 200),
        ],
    },
    Product {
        kind: OrderLineType::Physical,
        reference: "BOOK-FIELD",
        name: "Field guide to birds",
        quantity: 1,
        reduced: true,
        prices: &[
            (EUR, 1_999, 0),
            (SEK, 22_900, 0),
            (GBP, 1_799, 0),
            (USD, 2_199, 0),
            (CAD, 2_899, 0),
        ],
    },
    Product {
        kind: OrderLineType::ShippingFee,
        reference: "SHIP-STD",
        name: "Standard shipping",
        quantity: 1,
        reduced: false,
        prices: &[
            (EUR, 495, 0),
            (SEK, 4_900, 0),
            (GBP, 399, 0),
            (USD, 599, 0),
            (CAD, 799, 0),
        ],
    },
];

const DEMO_SMALL: &[Product] = &[Product {
    kind: OrderLineType::Physical,
    reference: "STICKER",
    name: "Sticker pack",
    quantity: 1,
    reduced: false,
    prices: &[(EUR, 300, 0), (SEK, 3_500, 0)],
}];

/// Office supplies for a business (`demo-b2b`), in the currencies of Billie's euro and
/// Swedish markets.
const DEMO_B2B: &[Product] = &[
    Product {
        kind: OrderLineType::Physical,
        reference: "PAPER-A4-500",
        name: "Recycled copy paper A4, 500 sheets",
        quantity: 5,
        reduced: false,
        prices: &[(EUR, 649, 0), (SEK, 7_490, 0)],
    },
    Product {
        kind: OrderLineType::Physical,
        reference: "PEN-GEL-10",
        name: "Gel pens, pack of 10",
        quantity: 2,
        reduced: false,
        prices: &[(EUR, 899, 0), (SEK, 9_990, 0)],
    },
];

fn products(reference: &str) -> Option<&'static [Product]> {
    match reference {
        "demo" => Some(DEMO),
        "demo-small" => Some(DEMO_SMALL),
        "demo-b2b" => Some(DEMO_B2B),
        _ => None,
    }
}

/// Who buys a cart: an organization (Klarna's B2B session, the company asked for in the
/// form) or, by default, a person.
pub fn customer_type(reference: &str) -> CustomerType {
    match reference {
        "demo-b2b" => CustomerType::Organization,
        _ => CustomerType::Person,
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("no cart with reference {0:?}")]
    UnknownCart(String),
    /// Klarna sells in a country's own currency only, and the shop has no prices in it.
    #[error("this cart has no prices in {}", .0.code())]
    NoPrices(Currency),
}

/// A product's price in `currency`, if the shop set one.
fn price_in(p: &Product, currency: Currency) -> Option<&Price> {
    p.prices.iter().find(|(c, _, _)| *c == currency)
}

/// Items of a known cart reference, priced for `country` from the price list of its currency.
pub fn cart(reference: &str, country: Country) -> Result<Vec<CartItem>, CatalogError> {
    let products =
        products(reference).ok_or_else(|| CatalogError::UnknownCart(reference.into()))?;
    let currency = country.currency();
    let (standard, reduced) = vat(country);
    products
        .iter()
        .map(|p| {
            let &(_, unit_price, discount) =
                price_in(p, currency).ok_or(CatalogError::NoPrices(currency))?;
            Ok(CartItem {
                kind: p.kind,
                reference: p.reference.into(),
                name: p.name.into(),
                quantity: p.quantity,
                unit_price,
                tax_rate: if p.reduced { reduced } else { standard },
                discount,
            })
        })
        .collect()
}

/// The countries a cart can be bought from: those whose currency has a price for every item.
pub fn countries(reference: &str) -> Vec<Country> {
    let products = products(reference).unwrap_or_default();
    Country::ALL
        .iter()
        .copied()
        .filter(|c| {
            !products.is_empty() && products.iter().all(|p| price_in(p, c.currency()).is_some())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_come_from_the_currencys_own_list_and_are_never_converted() {
        let de = cart("demo", Country::DE).unwrap();
        let se = cart("demo", Country::SE).unwrap();
        assert_eq!(de[0].unit_price, 2_490);
        assert_eq!(se[0].unit_price, 27_900);
        assert_eq!(
            cart("demo", Country::HU),
            Err(CatalogError::NoPrices(Currency::HUF))
        );
        assert_eq!(
            cart("nope", Country::DE),
            Err(CatalogError::UnknownCart("nope".into()))
        );
    }

    #[test]
    fn the_demo_sells_where_it_has_prices_only() {
        let sellable = countries("demo");
        assert!(sellable.contains(&Country::DE) && sellable.contains(&Country::SE));
        assert!(!sellable.contains(&Country::HU) && !sellable.contains(&Country::CH));
        assert!(!countries("demo-small").contains(&Country::US));
    }

    #[test]
    fn only_the_b2b_cart_is_bought_by_an_organization() {
        assert_eq!(customer_type("demo-b2b"), CustomerType::Organization);
        assert_eq!(customer_type("demo"), CustomerType::Person);
        assert_eq!(customer_type("nope"), CustomerType::Person);
        let sellable = countries("demo-b2b");
        assert!(sellable.contains(&Country::DE) && sellable.contains(&Country::SE));
        assert!(!sellable.contains(&Country::GB));
    }
}
