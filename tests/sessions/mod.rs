//! The checkout session our server answers, for the browser tests (one file, so the three test
//! crates that fake our server agree on its shape): one priced line, sold in Germany.

use klarna::api::{CheckoutSession, PaymentCategory};
use klarna::{price_cart, CartItem, Country, OrderLineType, TaxMode};

/// Session `id` with Klarna's `client_token`, `quantity` × `item` at 24.90 € (19 % VAT), and
/// the payment `categories` Klarna offers.
pub fn session(
    id: &str,
    client_token: &str,
    item: &str,
    quantity: i64,
    categories: &[&str],
) -> CheckoutSession {
    let items = vec![CartItem {
        kind: OrderLineType::Physical,
        reference: format!("SKU-{item}"),
        name: item.into(),
        quantity,
        unit_price: 2490,
        tax_rate: 1900,
        discount: 0,
    }];
    CheckoutSession {
        session: id.into(),
        client_token: client_token.into(),
        categories: categories
            .iter()
            .map(|&c| PaymentCategory {
                identifier: c.into(),
                name: c.into(),
                badge_url: None,
            })
            .collect(),
        cart: price_cart(&items, Country::DE, TaxMode::Included).unwrap(),
        locale: "en-DE".into(),
        sdk_url: "/never-loaded.js".into(),
        expires_in_secs: 48 * 3600,
        countries: Vec::new(),
        customer_type: Default::default(),
    }
}
