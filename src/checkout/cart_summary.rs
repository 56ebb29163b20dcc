//! The priced cart as the server priced it; nothing here computes a price.

use crate::format::money;
use crate::i18n::{t, Lang, Text};
use klarna::{OrderLineType, PricedCart};
use leptos::prelude::*;

#[component]
pub fn CartSummary(cart: PricedCart, lang: Lang, locale: String) -> impl IntoView {
    let currency = cart.currency;
    let fmt = move |minor: i64| money(minor, currency, &locale);
    let lines = cart
        .goods()
        .map(|l| {
            let discount = (l.total_discount_amount > 0).then(|| {
                view! { <span class="kc-line-discount">{format!("−{}", fmt(l.total_discount_amount))}</span> }
            });
            view! {
                <li class="kc-line">
                    <span class="kc-line-qty">{format!("{} ×", l.quantity)}</span>
                    <span class="kc-line-name">{l.name.clone()}</span>
                    {discount}
                    <span class="kc-amount">{fmt(l.total_amount)}</span>
                </li>
            }
        })
        .collect_view();
    let subtotal: i64 = cart.goods().map(|l| l.total_amount).sum();
    let shipping = cart.sum_of(OrderLineType::ShippingFee);
    let discount = cart.sum_of(OrderLineType::Discount);
    let sales_tax = cart.sum_of(OrderLineType::SalesTax);
    let row = move |label: &'static str, amount: i64, class: &'static str| {
        view! {
            <div class=format!("kc-row {class}")>
                <dt>{label}</dt>
                <dd class="kc-amount">{fmt(amount)}</dd>
            </div>
        }
    };
    let tax_row = if sales_tax != 0 {
        row(t(lang, Text::SalesTax), sales_tax, "kc-tax")
    } else {
        row(t(lang, Text::Tax), cart.order_tax_amount, "kc-tax")
    };
    view! {
        <section class="kc-cart" aria-label=t(lang, Text::Cart)>
            <h2>{t(lang, Text::Cart)}</h2>
            <ul class="kc-lines">{lines}</ul>
            <dl class="kc-totals">
                {row(t(lang, Text::Subtotal), subtotal, "kc-subtotal")}
                {(shipping != 0).then(|| row(t(lang, Text::Shipping), shipping, "kc-shipping"))}
                {(discount != 0).then(|| row(t(lang, Text::Discount), discount, "kc-discount"))}
                {row(t(lang, Text::Total), cart.order_amount, "kc-total")}
                {tax_row}
            </dl>
        </section>
    }
}
