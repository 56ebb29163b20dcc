//! The shopper's checkout: cart summary, address, Klarna, confirmation.

pub mod address_form;
pub mod appearance;
pub mod cart_summary;
pub mod events;
pub mod flow;
pub mod life;
pub mod organization;
pub mod state;

use crate::format::money;
use crate::i18n::{t, Flow, Lang, Text, Texts};
use address_form::AddressForm;
use cart_summary::CartSummary;
use klarna::api::{CheckoutSession, OrderState, PlacedOrder};
use leptos::prelude::*;
use state::{Ctx, Options, Phase, SdkState};

/// The whole component. Starts a session for the cart as soon as it is mounted.
#[component]
pub fn Checkout(options: Options) -> impl IntoView {
    let ctx = Ctx::new(options);
    // Destroyed (or its element left the page): every request and timer ends, Klarna is free.
    // (Cleanups run before the owner's values are disposed, so `life` is still there.)
    on_cleanup(move || {
        ctx.life.with_value(|life| life.end());
        crate::sdk::owner::release(ctx.uid);
    });
    flow::start_session(ctx, false);
    view! { <CheckoutView ctx=ctx /> }
}

/// Klarna's dialog closed without an order and took the focus with it: focus goes back where
/// the shopper acts next (Try again, Buy, or the payment option now chosen), not to the top
/// of the page. Left alone when something else has focus (Klarna may give it back itself).
pub(crate) fn focus_back(ctx: Ctx) {
    request_animation_frame(move || {
        let Some(root) = ctx.root.try_get_untracked().flatten() else {
            return;
        };
        let document = web_sys::window().and_then(|w| w.document());
        let lost = document
            .and_then(|d| d.active_element())
            .is_none_or(|e| e.tag_name() == "BODY");
        if !lost {
            return;
        }
        use wasm_bindgen::JsCast;
        for css in [
            ".kc-retry",
            ".kc-buy:not(:disabled)",
            ".kc-category:not([hidden]) input:checked",
        ] {
            if let Ok(Some(el)) = root.query_selector(css) {
                if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                    return;
                }
            }
        }
    });
}

/// Renders whatever state `ctx` is in; tests drive it directly.
#[component]
pub fn CheckoutView(ctx: Ctx) -> impl IntoView {
    let lang = ctx.lang;
    // The one live region: what the page says about its state and every error, in the words
    // the page shows. Always in the page (a region inserted with its text is often not read
    // out). The confirmation is announced by moving focus to its heading instead.
    let announcement = move || match ctx.phase.get() {
        Phase::Starting => Some(t(lang, Text::StartingCheckout).to_string()),
        Phase::StartFailed(error) => Some(error.message(lang)),
        Phase::Shopping => ctx.notice.get().map(|error| error.message(lang)),
        Phase::Confirming { waited_out: false } => Some(t(lang, Text::ConfirmingOrder).to_string()),
        Phase::Confirming { waited_out: true } => Some(t(lang, Text::ConfirmingSlow).to_string()),
        // A review's note is news the heading does not carry.
        Phase::Done(order) => match order.state {
            OrderState::Pending => Some(t(lang, Text::PendingReview).to_string()),
            OrderState::Rejected => Some(t(lang, Text::ReviewRejected).to_string()),
            _ => None,
        },
    };
    view! {
        <div
            class="kc"
            node_ref=ctx.root
            lang=ctx.locale.get_value()
            data-theme=ctx.theme.name()
            // Back in a checkout whose Klarna another one took: take it back.
            on:focusin=move |_| flow::resume(ctx)
            on:pointerdown=move |_| flow::resume(ctx)
        >
            <Texts flow=Flow::Checkout lang=lang endpoint=ctx.endpoint.get_value()>
            <div class="kc-visually-hidden kc-live" role="status" aria-live="polite" aria-atomic="true">{announcement}</div>
            {move || match ctx.phase.get() {
                Phase::Starting => view! {
                    <div class="kc-skeleton">
                        <span class="kc-spinner" aria-hidden="true"></span>
                        {t(lang, Text::StartingCheckout)}
                    </div>
                }.into_any(),
                Phase::StartFailed(error) => view! {
                    <div class="kc-notice kc-notice-error">
                        <p>{error.message(lang)}</p>
                        <button type="button" class="kc-button kc-secondary" on:click=move |_| flow::retry(ctx)>
                            {t(lang, Text::TryAgain)}
                        </button>
                    </div>
                }.into_any(),
                Phase::Shopping => match ctx.session.get_untracked() {
                    Some(session) => view! { <Shopping ctx=ctx session=session /> }.into_any(),
                    None => ().into_any(),
                },
                Phase::Confirming { waited_out } => view! {
                    <div class="kc-notice kc-confirming">
                        {(!waited_out).then(|| view! { <span class="kc-spinner" aria-hidden="true"></span> })}
                        <p>{t(lang, if waited_out { Text::ConfirmingSlow } else { Text::ConfirmingOrder })}</p>
                        {waited_out.then(|| view! {
                            <button type="button" class="kc-button kc-secondary kc-check-again" on:click=move |_| flow::await_order(ctx)>
                                {t(lang, Text::CheckAgain)}
                            </button>
                        })}
                    </div>
                }.into_any(),
                Phase::Done(order) => match ctx.session.get_untracked() {
                    Some(session) => view! {
                        <Confirmation order=order lang=lang session=session locale=ctx.locale.get_value() />
                    }.into_any(),
                    None => ().into_any(),
                },
            }}
            </Texts>
        </div>
    }
}

#[component]
fn Shopping(ctx: Ctx, session: CheckoutSession) -> impl IntoView {
    let lang = ctx.lang;
    let currency = session.cart.currency;
    // Klarna's purchase country follows the billing country.
    let billing_country = Memo::new(move |_| ctx.billing.with(|a| a.country.clone()));
    Effect::new(move |_| flow::change_country(ctx, billing_country.get()));
    // A renewed session re-renders the cart; the form keeps its signals.
    let cart = move || {
        ctx.session
            .get()
            .map(|s| view! { <CartSummary cart=s.cart lang=lang locale=ctx.locale.get_value() /> })
    };
    view! {
        <div class="kc-layout">
            <div class="kc-main">
                <AddressForm
                    uid=ctx.uid
                    billing=ctx.billing
                    shipping=ctx.shipping
                    same_as_billing=ctx.same_as_billing
                    customer=ctx.customer
                    organization=session.customer_type == klarna::CustomerType::Organization
                    errors=ctx.field_errors
                    currency=currency
                    countries=session.countries.clone()
                    lang=lang
                    disabled=Signal::derive(move || ctx.busy.get())
                />
                <PaymentSection ctx=ctx />
            </div>
            <aside class="kc-side">{cart}</aside>
        </div>
    }
}

#[component]
fn PaymentSection(ctx: Ctx) -> impl IntoView {
    // Klarna may be ready before this renders (its texts arrived late): load the chosen
    // widget once its container is here, whichever came first. Loading is once per session.
    Effect::new(move |_| {
        if ctx.sdk.get() == SdkState::Ready {
            if let Some(category) = ctx.selected.get() {
                flow::load_widget(ctx, category);
            }
        }
    });
    let lang = ctx.lang;
    let categories = move || ctx.session.get().map(|s| s.categories).unwrap_or_default();
    let category_views = move || {
        categories()
            .into_iter()
            .map(|c| {
                let id = c.identifier.clone();
                let id_select = id.clone();
                let id_checked = id.clone();
                let id_shown = id.clone();
                let id_refused = id.clone();
                let id_loaded = id.clone();
                let id_data = id.clone();
                let badge = c.badge_url.clone().map(|src| view! { <img class="kc-badge" src=src alt="" width="48" height="20" /> });
                view! {
                    <li class="kc-category" hidden=move || ctx.refused.with(|r| r.contains(&id_refused))>
                        <label class="kc-category-label">
                            <input
                                type="radio"
                                name=format!("kc{}-category", ctx.uid)
                                value=id.clone()
                                prop:checked=move || ctx.selected.get().as_deref() == Some(id_checked.as_str())
                                on:change=move |_| {
                                    ctx.selected.set(Some(id_select.clone()));
                                    ctx.notice.set(None);
                                    flow::load_widget(ctx, id_select.clone());
                                    events::changed(ctx);
                                }
                            />
                            {badge}
                            <span>{c.name.clone()}</span>
                        </label>
                        <div
                            class="kc-widget"
                            class:kc-widget-loading=move || !ctx.loaded.with(|l| l.contains(&id_loaded)) || ctx.sdk.get() != SdkState::Ready
                            data-category=id_data
                            hidden=move || ctx.selected.get().as_deref() != Some(id_shown.as_str())
                        ></div>
                    </li>
                }
            })
            .collect_view()
    };
    let buy_label = move || {
        if ctx.busy.get() {
            t(lang, Text::Working)
        } else if ctx.finalize_pending.get()
            || ctx.notice.get() == Some(crate::error::CheckoutError::AuthorizationExpired)
        {
            t(lang, Text::ConfirmAgain)
        } else {
            t(lang, Text::Buy)
        }
    };
    // Buy waits for the chosen widget: `authorize()` before `load()` answered would throw.
    let can_buy = move || {
        ctx.sdk.get() == SdkState::Ready
            && !ctx.busy.get()
            && ctx
                .selected
                .get()
                .is_some_and(|c| ctx.shown.with(|s| s.contains(&c)))
    };
    view! {
        <section class="kc-payment" aria-labelledby=ctx.id("payment-title") aria-busy=move || if ctx.busy.get() { "true" } else { "false" }>
            <h2 id=ctx.id("payment-title")>{t(lang, Text::Payment)}</h2>
            <p class="kc-sdk-status" class:kc-sdk-idle=move || ctx.sdk.get() != SdkState::Loading>{t(lang, Text::LoadingKlarna)}</p>
            <div class="kc-paused" hidden=move || ctx.sdk.get() != SdkState::Paused>
                <p>{t(lang, Text::KlarnaPaused)}</p>
                <button type="button" class="kc-button kc-secondary kc-resume" on:click=move |_| flow::resume(ctx)>
                    {t(lang, Text::UseKlarnaHere)}
                </button>
            </div>
            <ul class="kc-categories" class:kc-paused-widgets=move || ctx.sdk.get() == SdkState::Paused>{category_views}</ul>
            <Notice ctx=ctx />
            <button
                type="button"
                class="kc-button kc-primary kc-buy"
                disabled=move || !can_buy()
                on:click=move |_| flow::buy(ctx)
            >
                {buy_label}
            </button>
        </section>
    }
}

/// Every outcome said in words where the shopper acts (the live region at the top of the
/// component announces the same words).
#[component]
fn Notice(ctx: Ctx) -> impl IntoView {
    let lang = ctx.lang;
    view! {
        <div class="kc-notice-area">
            {move || ctx.notice.get().map(|error| {
                let retry = error.retryable().then(|| view! {
                    <button type="button" class="kc-button kc-secondary kc-retry" on:click=move |_| flow::retry(ctx)>
                        {t(lang, Text::TryAgain)}
                    </button>
                });
                view! {
                    <div class=format!("kc-notice kc-notice-{}", error.code())>
                        <p>{error.message(lang)}</p>
                        {retry}
                    </div>
                }
            })}
        </div>
    }
}

#[component]
fn Confirmation(
    order: PlacedOrder,
    lang: Lang,
    session: CheckoutSession,
    locale: String,
) -> impl IntoView {
    let pending = order.state == OrderState::Pending;
    let declined = order.state == OrderState::Rejected;
    let currency = session.cart.currency;
    // The page changed under the shopper's feet: move focus to the news.
    let heading = NodeRef::<leptos::html::H2>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    let summary = view! { <CartSummary cart=session.cart lang=lang locale=locale.clone() /> };
    view! {
        <section class="kc-confirmation">
            <h2 node_ref=heading tabindex="-1">{t(lang, if declined { Text::PaymentDeclined } else { Text::OrderThanks })}</h2>
            <p>
                {t(lang, Text::OrderNumber)}": "
                <strong class="kc-order-id">{order.order_id.clone()}</strong>
            </p>
            <p class="kc-confirmation-total">{t(lang, Text::Total)}": "{money(order.order_amount, currency, &locale)}</p>
            {pending.then(|| view! { <p class="kc-notice kc-notice-pending">{t(lang, Text::PendingReview)}</p> })}
            {declined.then(|| view! { <p class="kc-notice kc-notice-error kc-declined">{t(lang, Text::ReviewRejected)}</p> })}
            <div class="kc-confirmation-cart">{summary}</div>
        </section>
    }
}
