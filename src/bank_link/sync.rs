//! Syncing an account: the server runs the sync as its own task; the page polls its progress,
//! shows the result and the transactions (booked, and apart from them the pending ones).

use super::*;

/// Syncs one account: the server runs the sync as its own task (202) and the page polls its
/// progress until it ended, then shows the result (or the error it ended with). Closing the
/// tab loses nothing: the server goes on.
pub(super) fn sync_account(ctx: Ctx, account: String) {
    ctx.notice.set(None);
    ctx.sync.set(Some((
        account.clone(),
        SyncProgress {
            running: true,
            ..SyncProgress::default()
        },
    )));
    spawn_local(async move {
        let path = format!("/api/accounts/{account}/sync");
        let mut progress = match call::<_, SyncProgress>(
            ctx,
            "POST",
            &path,
            Some(&SyncRequest::default()),
        )
        .await
        {
            Ok(started) => started,
            Err(f) => {
                ctx.sync.set(None);
                return fail(ctx, f);
            }
        };
        // A lost poll is asked again, a little later each time (the sync goes on on the server
        // meanwhile); a refusal (signed out, the account gone) ends the polling with its reason.
        let mut lost = 0u32;
        while progress.running {
            ctx.sync.set(Some((account.clone(), progress.clone())));
            crate::api::sleep(300 << lost.min(4)).await;
            match call::<(), SyncProgress>(ctx, "GET", &path, None).await {
                Ok(p) => {
                    progress = p;
                    lost = 0;
                }
                // A poll lost on the way, or a server that stumbled on it (the sync itself
                // runs on): asked again.
                Err(ApiFailure::Network) if lost < 8 => lost += 1,
                Err(ApiFailure::Api(e))
                    if lost < 8
                        && matches!(
                            e.code,
                            ErrorCode::Internal
                                | ErrorCode::KlarnaUnavailable
                                | ErrorCode::TooManyRequests
                        ) =>
                {
                    lost += 1
                }
                Err(f) => {
                    ctx.sync.set(None);
                    return fail(ctx, f);
                }
            }
        }
        if let Some(SyncOutcome::Failed { error }) = progress.outcome.clone() {
            ctx.sync.set(None);
            return fail(ctx, ApiFailure::Api(error));
        }
        ctx.emit(
            "synced",
            super::to_js(&events::Synced {
                account: &account,
                progress: &progress,
            }),
        );
        ctx.sync.set(Some((account.clone(), progress)));
        show_transactions(ctx, account);
    });
}

/// The account's booked transactions, and apart from them those still pending.
fn show_transactions(ctx: Ctx, account: String) {
    spawn_local(async move {
        let path = format!("/api/accounts/{account}/transactions");
        let booked = call::<(), Vec<BookedTransaction>>(ctx, "GET", &path, None).await;
        let path = format!("/api/accounts/{account}/transactions/pending");
        let pending = call::<(), Vec<PendingTransaction>>(ctx, "GET", &path, None).await;
        match (booked, pending) {
            (Ok(booked), Ok(pending)) => {
                ctx.pending.set(Some((account.clone(), pending)));
                ctx.shown.set(Some((account, booked)));
            }
            (Err(f), _) | (_, Err(f)) => fail(ctx, f),
        }
    });
}

/// Under an account: the sync's progress while it runs, then its result and the transactions.
#[component]
pub(super) fn SyncRow(ctx: Ctx, account: String) -> impl IntoView {
    let a1 = account.clone();
    let progress = move || ctx.sync.get().filter(|(a, _)| *a == a1).map(|(_, p)| p);
    let a2 = account.clone();
    let shown = move || {
        ctx.shown
            .get()
            .filter(|(a, _)| *a == a2)
            .map(|(_, list)| list)
    };
    let a3 = account;
    let pending = move || {
        ctx.pending
            .get()
            .filter(|(a, list)| *a == a3 && !list.is_empty())
            .map(|(_, list)| list)
    };
    view! {
        {move || progress().map(|p| {
            let text = texts::sync(ctx.lang, &ctx.locale.get_value(), &p);
            // Left out by the server (a form it cannot read): said, so the books are not
            // silently short.
            let unreadable = (!p.running && p.skipped > 0)
                .then(|| texts::unreadable(ctx.lang, &ctx.locale.get_value(), p.skipped));
            view! {
                <tr class="kc-sync-row"><td colspan="5">
                    <progress class="kc-progress" max="1" value=if p.running { None } else { Some(1.0) } aria-label=t(ctx.lang, T::SyncProgress)></progress>
                    <p class="kc-sync-status" role="status">{text}</p>
                    {unreadable.map(|u| view! { <p class="kc-sync-unreadable kc-help">{u}</p> })}
                </td></tr>
            }
        })}
        {move || pending().map(|list| view! { <pending::PendingRow ctx=ctx list=list /> })}
        {move || shown().map(|list| {
            let locale = ctx.locale.get_value();
            let rows = list.into_iter().take(50).map(|tx| {
                let currency = Currency::from_code(&tx.currency).unwrap_or(Currency::EUR);
                view! {
                    <tr>
                        <td>{texts::date(&locale, &tx.booking_date)}</td>
                        <td>{tx.counterparty}</td>
                        <td>{tx.reference}</td>
                        <td class="kc-amount">{money(tx.amount, currency, &locale)}</td>
                    </tr>
                }
            }).collect_view();
            view! {
                <tr class="kc-transactions-row"><td colspan="5">
                    <table class="kc-transactions">
                        <caption>{t(ctx.lang, T::LatestTransactions)}</caption>
                        {transactions_head(ctx.lang)}
                        <tbody>{rows}</tbody>
                    </table>
                </td></tr>
            }
        })}
    }
}
