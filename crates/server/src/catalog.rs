//! Prices a registered cart ([`crate::carts`]) for a purchase country: the browser sends
//! `cart: "c_…"` (or `"demo"`) and the server alone decides what that costs. A line has one
//! price list per currency, set by the shop; nothing is ever converted (Klarna does not convert
//! either). A country whose currency has no price list cannot buy the cart. Gross prices are
//! the same in every country of a currency; the VAT inside them follows the purchase country
//! (this file's table, by the line's tax class), as for an EU shop under OSS.

use crate::carts::{Cart, TaxClass};
use klarna::{CartItem, Country, Currency};
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

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    /// Klarna sells in a country's own currency only, and the shop has no prices in it.
    #[error("this cart has no prices in {}", .0.code())]
    NoPrices(Currency),
}

/// The VAT rate of `class` in `country`, in basis points.
pub fn tax_rate(class: TaxClass, country: Country) -> i64 {
    let (standard, reduced) = vat(country);
    match class {
        TaxClass::Standard => standard,
        TaxClass::Reduced => reduced,
        TaxClass::Zero => 0,
    }
}

/// Items of a cart, priced for `country` from the price list of its currency.
pub fn cart(cart: &Cart, country: Country) -> Result<Vec<CartItem>, CatalogError> {
    let currency = country.currency();
    cart.lines
        .iter()
        .map(|line| {
            let price = line
                .prices
                .get(currency.code())
                .ok_or(CatalogError::NoPrices(currency))?;
            Ok(CartItem {
                kind: line.kind,
                reference: line.reference.clone(),
                name: line.name.clone(),
                quantity: line.quantity,
                unit_price: price.unit_price,
                tax_rate: tax_rate(line.tax_class, country),
                discount: price.discount,
            })
        })
        .collect()
}

/// The countries a cart can be bought from: those whose currency has a price for every line.
pub fn countries(cart: &Cart) -> Vec<Country> {
    let currencies = cart.currencies();
    Country::ALL
        .iter()
        .copied()
        .filter(|c| currencies.contains(&c.currency()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carts::seed::demo_cart;

    #[test]
    fn prices_come_from_the_currencys_own_list_and_are_never_converted() {
        let demo = demo_cart("demo").unwrap();
        let de = cart(&demo, Country::DE).unwrap();
        let se = cart(&demo, Country::SE).unwrap();
        assert_eq!(de[0].unit_price, 2_490);
        assert_eq!(se[0].unit_price, 27_900);
        assert_eq!((de[2].tax_rate, se[2].tax_rate), (700, 600));
        assert_eq!(
            cart(&demo, Country::HU),
            Err(CatalogError::NoPrices(Currency::HUF))
        );
    }

    #[test]
    fn the_demo_sells_where_it_has_prices_only() {
        let sellable = countries(&demo_cart("demo").unwrap());
        assert!(sellable.contains(&Country::DE) && sellable.contains(&Country::SE));
        assert!(!sellable.contains(&Country::HU) && !sellable.contains(&Country::CH));
        assert!(!countries(&demo_cart("demo-small").unwrap()).contains(&Country::US));
    }
}
