//! The linked banks: each bank's card with its consent (and Renew), its accounts, and under
//! each account its sync.

use super::*;

#[component]
pub(super) fn Banks(ctx: Ctx) -> impl IntoView {
    view! {
        <section class="kc-banks" aria-labelledby=ctx.id("banks-title")>
            <h2 id=ctx.id("banks-title")>{t(ctx.lang, T::LinkedBanks)}</h2>
            {move || {
                let banks = ctx.banks.get();
                if banks.is_empty() {
                    return view! { <p class="kc-help">{t(ctx.lang, T::NoBankYet)}</p> }.into_any();
                }
                banks.into_iter().map(|bank| {
                    let locale = ctx.locale.get_value();
                    let consent = texts::consent(ctx.lang, &locale, &bank.consent);
                    // Not `{:?}`: the release build formats no `Debug` (`-Zfmt-debug=none`).
                    let state = match bank.consent.state {
                        ConsentState::Valid => "kc-consent kc-consent-valid",
                        ConsentState::Expiring => "kc-consent kc-consent-expiring",
                        ConsentState::Expired => "kc-consent kc-consent-expired",
                    };
                    let fresh = ctx.just_linked.get().as_deref() == Some(bank.connection.as_str());
                    // One sync per bank at a time (the server refuses a second): every Sync
                    // button of the bank waits while one of its accounts syncs.
                    let ids: Vec<String> = bank.accounts.iter().map(|a| a.id.clone()).collect();
                    let syncing = move || ctx.sync.with(|s| s.as_ref().is_some_and(|(a, p)| p.running && ids.contains(a)));
                    let skipped = bank.schedule_skipped_on.as_deref().map(|day| texts::skipped(ctx.lang, &locale, day));
                    let rows = bank.accounts.iter().map(|a| {
                        let currency = Currency::from_code(&a.currency).unwrap_or(Currency::EUR);
                        let id = a.id.clone();
                        let sync_id = id.clone();
                        let syncing = syncing.clone();
                        let csv = ctx.endpoint.with_value(|e| e.url(&format!("/api/accounts/{id}/transactions.csv")));
                        view! {
                            <tr>
                                <td>{a.name.clone()}</td>
                                <td class="kc-iban">{a.masked_iban.clone()}</td>
                                <td>{a.holder_name.clone()}</td>
                                <td class="kc-amount">{money(a.balance, currency, &locale)}</td>
                                <td class="kc-actions">
                                    <button type="button" class="kc-button kc-secondary kc-sync" disabled=syncing on:click=move |_| sync_account(ctx, sync_id.clone())>
                                        {t(ctx.lang, T::Sync)}
                                    </button>
                                    <a class="kc-csv" href=csv download="">"CSV"</a>
                                </td>
                            </tr>
                            <SyncRow ctx=ctx account=id />
                        }
                    }).collect_view();
                    view! {
                        <article class="kc-bank-card" class:kc-just-linked=fresh>
                            <h3 tabindex="-1">{bank.bank_name.clone()}" · "{bank.company.clone()}</h3>
                            <p class=state>{consent}</p>
                            {skipped.map(|text| view! { <p class="kc-consent kc-consent-expired kc-schedule-skipped">{text}</p> })}
                            <button type="button" class="kc-button kc-secondary kc-renew" disabled=move || ctx.phase.with(Phase::working).is_some()
                                on:click={
                                    let company = bank.company.clone();
                                    let start = bank.start_date.clone();
                                    move |_| start_link(ctx, company.clone(), start.clone())
                                }>
                                {t(ctx.lang, T::Renew)}
                            </button>
                            <table class="kc-accounts">
                                <thead><tr>
                                    <th scope="col">{t(ctx.lang, T::Account)}</th>
                                    <th scope="col">{t(ctx.lang, T::Iban)}</th>
                                    <th scope="col">{t(ctx.lang, T::Holder)}</th>
                                    <th scope="col">{t(ctx.lang, T::Balance)}</th>
                                    <th scope="col"><span class="kc-visually-hidden">{t(ctx.lang, T::Actions)}</span></th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </article>
                    }
                }).collect_view().into_any()
            }}
        </section>
    }
}
