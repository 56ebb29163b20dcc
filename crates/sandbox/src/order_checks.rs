//! What Klarna checks when an authorization becomes an order: the order repeats what the
//! shopper authorized, field for field (Klarna answers `409 Not matching fields` otherwise), and
//! an organization is named and identified in every call, as at `authorize()` (WooCommerce #132:
//! a company name sent in one call only is refused).

use crate::state::Authorization;
use klarna::payments::CreateOrderRequest;
use klarna::{Address, AddressField, Country, Customer};

/// Every field where the order differs from what the shopper authorized, named as Klarna does.
pub(crate) fn mismatches(auth: &Authorization, order: &CreateOrderRequest) -> Vec<String> {
    let a = &auth.approved;
    let mut out = Vec::new();
    if !a
        .purchase_country
        .eq_ignore_ascii_case(&order.purchase_country)
    {
        out.push("purchase_country".to_string());
    }
    if !a
        .purchase_currency
        .eq_ignore_ascii_case(&order.purchase_currency)
    {
        out.push("purchase_currency".into());
    }
    if a.locale != order.locale {
        out.push("locale".into());
    }
    if a.order_amount != order.order_amount {
        out.push("order_amount".into());
    }
    if a.order_tax_amount != order.order_tax_amount {
        out.push("order_tax_amount".into());
    }
    if a.order_lines.len() != order.order_lines.len() {
        out.push(format!(
            "Incorrect number of items in the cart. Expected: {}, Actual: {}",
            a.order_lines.len(),
            order.order_lines.len()
        ));
    } else {
        for (i, (x, y)) in a.order_lines.iter().zip(&order.order_lines).enumerate() {
            if x != y {
                out.push(format!("order_lines[{i}]"));
            }
        }
    }
    out.extend(address_mismatches(
        "billing_address",
        &auth.billing_address,
        order
            .billing_address
            .as_ref()
            .unwrap_or(&auth.billing_address),
    ));
    // Without a shipping address in the order, Klarna keeps the one it has (the billing copy).
    let shipping = order
        .shipping_address
        .as_ref()
        .unwrap_or(&auth.shipping_address);
    out.extend(address_mismatches(
        "shipping_address",
        &auth.shipping_address,
        shipping,
    ));
    out.extend(customer_mismatches(
        &auth.customer,
        order.customer.as_ref().unwrap_or(&auth.customer),
    ));
    // Klarna refuses an organization's data given in one call only (WooCommerce #132): an
    // order that repeats any of it repeats all of it. Only an order with none of it (created
    // from the authorization callback) takes what was authorized.
    if auth.approved.is_organization() {
        let given = [
            ("billing_address", order.billing_address.is_some()),
            ("shipping_address", order.shipping_address.is_some()),
            ("customer", order.customer.is_some()),
        ];
        if given.iter().any(|(_, some)| *some) {
            out.extend(
                given
                    .iter()
                    .filter(|(_, some)| !*some)
                    .map(|(f, _)| f.to_string()),
            );
        }
    }
    out
}

/// A B2B order must name the organization it authorized, field for field.
fn customer_mismatches(authorized: &Customer, given: &Customer) -> Vec<String> {
    let fields = [
        ("type", authorized.kind != given.kind),
        (
            "organization_entity_type",
            authorized.organization_entity_type != given.organization_entity_type,
        ),
        (
            "organization_registration_id",
            authorized.organization_registration_id != given.organization_registration_id,
        ),
        ("vat_id", authorized.vat_id != given.vat_id),
    ];
    fields
        .into_iter()
        .filter(|(_, differs)| *differs)
        .map(|(f, _)| format!("customer.{f}"))
        .collect()
}

/// Klarna's checks of an organization's order: the company named in both addresses, and
/// identified (as at `authorize()`).
pub(crate) fn organization_order_problems(
    auth: &Authorization,
    order: &CreateOrderRequest,
) -> Vec<String> {
    if !auth.approved.is_organization() {
        return Vec::new();
    }
    let billing = order
        .billing_address
        .as_ref()
        .unwrap_or(&auth.billing_address);
    let shipping = order
        .shipping_address
        .as_ref()
        .unwrap_or(&auth.shipping_address);
    let customer = order.customer.as_ref().unwrap_or(&auth.customer);
    organization_problems(billing, Some(shipping), customer)
}

/// Klarna's checks of an organization's fields, named as Klarna names them. The shared rules
/// forgive spaces a shopper typed (`DE 123 456 789`); Klarna gets the cleaned value, so here a
/// value that cleaning would change is refused as sent.
pub(crate) fn organization_problems(
    billing: &Address,
    shipping: Option<&Address>,
    customer: &Customer,
) -> Vec<String> {
    let mut bad: Vec<String> = klarna::customer::validate_organization(billing, shipping, customer)
        .into_iter()
        .map(|e| e.field)
        .collect();
    let cleaned = customer.cleaned(Country::from_code(billing.country.trim()));
    for (field, sent, clean) in [
        (
            "customer.organization_registration_id",
            &customer.organization_registration_id,
            &cleaned.organization_registration_id,
        ),
        ("customer.vat_id", &customer.vat_id, &cleaned.vat_id),
    ] {
        if sent.is_some() && sent != clean && !bad.iter().any(|b| b == field) {
            bad.push(field.into());
        }
    }
    bad
}

fn address_mismatches(prefix: &str, authorized: &Address, given: &Address) -> Vec<String> {
    AddressField::ALL
        .into_iter()
        .filter(|f| authorized.get(*f) != given.get(*f))
        .map(|f| format!("{prefix}.{}", f.wire_name()))
        .collect()
}
