//! The bank page's pending transactions: those the bank has not processed yet, in a table of
//! their own under the account, each row marked pending. They are never mixed with the booked
//! transactions nor summed with them, and leave this table once the bank books them.

use super::texts::{self, t, T};
use super::Ctx;
use crate::format::money;
use klarna::api::PendingTransaction;
use klarna::Currency;
use leptos::prelude::*;

/// The account's pending transactions in a table of their own, each marked pending: never
/// mixed with the booked ones nor summed with them.
#[component]
pub(super) fn PendingRow(ctx: Ctx, list: Vec<PendingTransaction>) -> impl IntoView {
    let locale = ctx.locale.get_value();
    let rows = list
        .into_iter()
        .map(|tx| {
            let currency = Currency::from_code(&tx.currency).unwrap_or(Currency::EUR);
            view! {
                <tr class="kc-pending-transaction">
                    <td>{texts::date(&locale, &tx.date)}" "<span class="kc-pending-mark">{t(ctx.lang, T::Pending)}</span></td>
                    <td>{tx.counterparty}</td>
                    <td>{tx.reference}</td>
                    <td class="kc-amount">{money(tx.amount, currency, &locale)}</td>
                </tr>
            }
        })
        .collect_view();
    let help = ctx.fresh_id("pending-help");
    view! {
        <tr class="kc-pending-row"><td colspan="5">
            <table class="kc-transactions kc-pending" aria-describedby=help.clone()>
                <caption>{t(ctx.lang, T::PendingTransactions)}</caption>
                {super::transactions_head(ctx.lang)}
                <tbody>{rows}</tbody>
            </table>
            <p class="kc-help kc-pending-help" id=help>{t(ctx.lang, T::PendingHelp)}</p>
        </td></tr>
    }
}
