//! Linking a bank: the server opens the XS2A session and flow, the page starts Klarna's app
//! launcher with the flow's client token, and every way the launcher ends is reported to the
//! server, which reads the flow and decides (linked, "check again", or closed with the reason).

use super::*;

pub(super) fn start_link(ctx: Ctx, company: String, start_date: String) {
    ctx.notice.set(None);
    ctx.refused.set(Vec::new());
    ctx.just_linked.set(None);
    if let Some((old, _)) = ctx.unsettled.get_untracked() {
        // Starting over: the old link's XS2A session is closed now, not by the sweeper.
        ctx.unsettled.set(None);
        give_up(ctx, old);
    }
    ctx.phase.set(Phase::OpeningBank);
    spawn_local(async move {
        let body = StartBankLink {
            company,
            start_date: Some(start_date).filter(|d| !d.is_empty()),
        };
        let started =
            match call::<_, BankLinkStarted>(ctx, "POST", "/api/bank-links", Some(&body)).await {
                Ok(s) => s,
                Err(f) => {
                    ctx.phase.set(Phase::Ready);
                    fail(ctx, f);
                    return;
                }
            };
        let url = ctx
            .endpoint
            .with_value(|e| e.resolve(&started.launcher_url));
        if XS2A_LAUNCHER.load(&url).await.is_err() {
            ctx.notice
                .set(Some(t(ctx.lang, T::LauncherNotLoaded).to_string()));
            abort_link(ctx, started.link);
            return;
        }
        let link = started.link.clone();
        let on_progress = move |p: xs2a::Progress| {
            if p == xs2a::Progress::Ready && ctx.phase.get_untracked() == Phase::OpeningBank {
                ctx.phase.set(Phase::InBank);
            }
        };
        let result = xs2a::start_flow(&started.client_token, on_progress, move |end| {
            on_flow_end(ctx, link, end)
        });
        if let Err(message) = result {
            let text = t(ctx.lang, T::LauncherNotOpened);
            // The launcher's own words go inside the sentence, before its full stop.
            let text = match text.split_once(". ") {
                Some((first, rest)) => format!("{first} ({message}). {rest}"),
                None => format!("{text} ({message})"),
            };
            ctx.notice.set(Some(text));
            abort_link(ctx, started.link);
        }
    });
}

/// The link ended before its launcher could run, or the bookkeeper started over: the server
/// closes its XS2A session (after reading the flow, so a flow that finished meanwhile is kept).
fn abort_link(ctx: Ctx, link: String) {
    ctx.phase.set(Phase::Ready);
    give_up(ctx, link);
}

fn give_up(ctx: Ctx, link: String) {
    spawn_local(async move {
        // Nothing to tell the bookkeeper, who moved on; the sweeper closes the session
        // anyway if this call is lost.
        let _ = report(ctx, &link, LinkEnding::GivenUp).await;
    });
}

async fn report(ctx: Ctx, link: &str, ending: LinkEnding) -> Result<LinkedBank, ApiFailure> {
    call::<_, LinkedBank>(
        ctx,
        "POST",
        &format!("/api/bank-links/{link}/end"),
        Some(&EndBankLink { ending }),
    )
    .await
}

/// The launcher ended, by whichever callback came first. The page does not decide what that
/// means: it tells the server, which reads the flow from Klarna (contract §0).
fn on_flow_end(ctx: Ctx, link: String, end: FlowEnd) {
    xs2a::close();
    let ending = match end {
        FlowEnd::Finished => LinkEnding::Finished,
        FlowEnd::Closed => LinkEnding::Closed,
        FlowEnd::Aborted => LinkEnding::Aborted,
        FlowEnd::Failed(_) => LinkEnding::Error,
    };
    settle_link(ctx, link, ending, Phase::Completing);
}

/// Reports the ending and shows its outcome. The launcher gives focus back to the button it
/// disabled: once enabled again (or the new bank shown), focus goes where the news is.
pub(super) fn settle_link(ctx: Ctx, link: String, ending: LinkEnding, busy: Phase) {
    ctx.notice.set(None);
    ctx.unsettled.set(None);
    ctx.phase.set(busy);
    spawn_local(async move {
        let outcome = report(ctx, &link, ending).await;
        ctx.phase.set(Phase::Ready);
        match outcome {
            Ok(bank) => {
                ctx.emit("linked", super::to_js(&events::Linked::from(&bank)));
                ctx.just_linked.set(Some(bank.connection.clone()));
                refresh_banks(ctx);
            }
            Err(ApiFailure::Api(e)) if e.code == ErrorCode::LinkAborted => {
                ctx.notice.set(Some(t(ctx.lang, T::Aborted).to_string()));
                ctx.emit("exit", super::to_js(&events::Exit { reason: "aborted" }));
                focus_soon(ctx, ".kc-continue");
            }
            Err(f) => {
                // Only while the flow can still finish (the bank is confirming) or its state
                // is unknown (no answer) is "check again" offered; every other refusal means
                // the server closed the link.
                let open = match &f {
                    ApiFailure::Network => true,
                    ApiFailure::Api(e) => matches!(
                        e.code,
                        ErrorCode::LinkNotFinished | ErrorCode::KlarnaUnavailable
                    ),
                };
                fail(ctx, f);
                if open {
                    ctx.unsettled.set(Some((link, ending)));
                    focus_soon(ctx, ".kc-check-again");
                } else {
                    focus_soon(ctx, ".kc-continue");
                }
            }
        }
    });
}
