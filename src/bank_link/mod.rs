//! The bookkeeper's bank linking (issue 3, first slice): sign in, company and start date, the
//! XS2A app launcher, then the linked bank with its accounts and how long the consent lasts.
//! A separate bundle (`bank-link.html`, cargo feature `bank-link`): shoppers never download it.
//! Several `<klarna-bank-link>` elements may share a page: each one's element ids carry its
//! own prefix (`kcb2-user`), and what it looks for it looks for under its own root.

mod banks;
mod events;
mod ids;
mod link;
mod pending;
mod sync;
mod texts;
mod theme;

use crate::api::{exchange, ApiFailure, Endpoint};
use crate::checkout::state::Theme;
use crate::format::money;
use crate::i18n::{Flow, Lang, Texts};
use crate::sdk::loader::XS2A_LAUNCHER;
use crate::sdk::xs2a::{self, FlowEnd};
use banks::Banks;
use ids::{field_css, focus_soon, is_field_name};
use klarna::api::{
    BankLinkStarted, BookedTransaction, EndBankLink, LinkEnding, LinkedBank, PendingTransaction,
    SignIn, SignedIn, StartBankLink, SyncOutcome, SyncProgress, SyncRequest,
};
use klarna::api::{ConsentState, ErrorCode};
use klarna::Currency;
use leptos::prelude::*;
use leptos::task::spawn_local;
use link::{settle_link, start_link};
use sync::{sync_account, SyncRow};
use texts::{t, T};

#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    SignIn,
    Ready,
    /// The bank's window (the launcher) is being opened.
    OpeningBank,
    /// The bank's window is open and waits for the bookkeeper (`onReady`).
    InBank,
    /// The launcher ended; the server reads the flow and stores the bank if it finished.
    Completing,
    /// The bookkeeper asked again whether the bank has confirmed.
    Checking,
}

impl Phase {
    /// What the page is busy with, in words; `None` while the bookkeeper can start a link.
    fn working(&self) -> Option<T> {
        match self {
            Phase::OpeningBank => Some(T::OpeningBank),
            Phase::InBank => Some(T::WaitingForBank),
            Phase::Completing => Some(T::SavingAccounts),
            Phase::Checking => Some(T::CheckingBank),
            Phase::SignIn | Phase::Ready => None,
        }
    }
}

#[derive(Clone, Copy)]
pub struct Ctx {
    /// This bank page among those of the page: its element ids (`kcb2-user`) are its own, so
    /// two never share a label's `for` or an `aria-describedby`.
    pub uid: u32,
    /// The page's root element (`.kc-bank`): focus moves to elements found under it only.
    pub root: NodeRef<leptos::html::Div>,
    /// Numbers ids made more than once per page (a pending table's help text).
    pub serial: StoredValue<u32>,
    /// The colour preset (the element's `theme` attribute; `style/checkout.css` and
    /// `style/bank-link.css`); a storefront's `--kc-*` variables win over both.
    pub theme: RwSignal<Theme>,
    pub endpoint: StoredValue<Endpoint>,
    /// BCP 47 locale from the element's `locale` attribute: texts, money, and the server's
    /// sentences (sent as `Accept-Language`).
    pub locale: StoredValue<String>,
    pub lang: Lang,
    /// The `<klarna-bank-link>` element, which fires the events a back office listens to.
    pub host: StoredValue<Option<web_sys::HtmlElement>>,
    pub csrf: StoredValue<Option<String>>,
    pub phase: RwSignal<Phase>,
    /// The link form's fields live here, so they survive a detour through the sign-in form.
    pub company: RwSignal<String>,
    pub start_date: RwSignal<String>,
    /// The server's today (UTC) from sign-in: the only calendar the page uses (see
    /// [`SignedIn::today`]).
    pub today: RwSignal<String>,
    pub banks: RwSignal<Vec<LinkedBank>>,
    pub just_linked: RwSignal<Option<String>>,
    /// A link whose ending the server could not settle yet (the bank is still confirming, or
    /// Klarna was not reachable), with the ending to report again: "Check again" is offered
    /// while it is set, and starting over gives it up.
    pub unsettled: RwSignal<Option<(String, LinkEnding)>>,
    pub notice: RwSignal<Option<String>>,
    /// The fields (wire names: `user`, `company`, …) the server refused with the notice.
    pub refused: RwSignal<Vec<String>>,
    /// The account being synced and how far it got.
    pub sync: RwSignal<Option<(String, SyncProgress)>>,
    /// The account whose transactions are shown, with them.
    pub shown: RwSignal<Option<(String, Vec<BookedTransaction>)>>,
    /// Its transactions the bank has not processed yet, shown apart from the booked ones.
    pub pending: RwSignal<Option<(String, Vec<PendingTransaction>)>>,
}

impl Ctx {
    pub fn new(endpoint: Endpoint, locale: String, host: Option<web_sys::HtmlElement>) -> Ctx {
        let locale = locale_tag(&locale);
        let uid = ids::next_uid();
        let theme = host
            .as_ref()
            .and_then(|h| h.get_attribute("theme"))
            .unwrap_or_default();
        Ctx {
            uid,
            root: NodeRef::new(),
            serial: StoredValue::new(0),
            theme: RwSignal::new(Theme::parse(&theme)),
            endpoint: StoredValue::new(endpoint),
            host: StoredValue::new(host),
            lang: Lang::of(&locale),
            locale: StoredValue::new(locale),
            csrf: StoredValue::new(None),
            phase: RwSignal::new(Phase::SignIn),
            company: RwSignal::new(String::new()),
            today: RwSignal::new(String::new()),
            start_date: RwSignal::new(String::new()),
            banks: RwSignal::new(Vec::new()),
            just_linked: RwSignal::new(None),
            unsettled: RwSignal::new(None),
            notice: RwSignal::new(None),
            refused: RwSignal::new(Vec::new()),
            sync: RwSignal::new(None),
            shown: RwSignal::new(None),
            pending: RwSignal::new(None),
        }
    }
}

impl Ctx {
    /// `klarna-bank-link:{name}` on the host element: `linked` (the bank, no secrets),
    /// `synced` (the sync's result), `exit` (the bookkeeper closed the bank's window) and
    /// `error` (our error code).
    fn emit(&self, name: &str, detail: wasm_bindgen::JsValue) {
        self.host.with_value(|host| {
            if let Some(host) = host {
                crate::embed::dispatch(host, &format!("klarna-bank-link:{name}"), &detail);
            }
        });
    }
}

/// The `locale` attribute as a tag `Intl` accepts (`de_DE` → `de-DE`), else `en-DE`: a
/// malformed tag would make `Intl.NumberFormat` throw and take the page down.
fn locale_tag(given: &str) -> String {
    let tag = given.trim().replace('_', "-");
    let mut parts = tag.split('-');
    let language = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    let rest =
        parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if language && rest {
        tag
    } else {
        "en-DE".into()
    }
}

/// Shows a failure in plain words with the next step (never a console-only error). A sign-in
/// that expired on the server leads back to the sign-in form; the link form keeps its input.
fn fail(ctx: Ctx, f: ApiFailure) {
    let code = match &f {
        ApiFailure::Network => "network".to_string(),
        ApiFailure::Api(e) => to_js(&e.code).as_string().unwrap_or_default(),
    };
    ctx.emit("error", to_js(&events::Error { code: &code }));
    let message = match f {
        ApiFailure::Network => t(ctx.lang, T::Network).to_string(),
        ApiFailure::Api(e)
            if e.code == ErrorCode::SignInRequired
                && ctx.phase.get_untracked() != Phase::SignIn =>
        {
            ctx.phase.set(Phase::SignIn);
            focus_soon(ctx, &field_css("user"));
            t(ctx.lang, T::SignInAgain).to_string()
        }
        ApiFailure::Api(e) => {
            // The refused fields are marked, and the first one on the page takes focus.
            let fields: Vec<String> = e.fields.iter().map(|f| f.field.clone()).collect();
            if let Some(first) = fields.first().filter(|f| is_field_name(f)) {
                focus_soon(ctx, &field_css(first));
            }
            ctx.refused.set(fields);
            texts::server_error(ctx.lang, e)
        }
    };
    ctx.notice.set(Some(message));
}

/// `aria-invalid` for a field the server refused (by its wire name).
fn invalid(ctx: Ctx, field: &'static str) -> impl Fn() -> &'static str {
    move || {
        if ctx.refused.with(|r| r.iter().any(|f| f == field)) {
            "true"
        } else {
            "false"
        }
    }
}

async fn call<B: serde::Serialize, R: serde::de::DeserializeOwned>(
    ctx: Ctx,
    method: &str,
    path: &str,
    body: Option<&B>,
) -> Result<R, ApiFailure> {
    let url = ctx.endpoint.with_value(|e| e.url(path));
    let locale = ctx.locale.get_value();
    let csrf = ctx.csrf.get_value();
    let mut headers = vec![("Accept-Language", locale.as_str())];
    if let Some(token) = csrf.as_deref() {
        headers.push(("X-CSRF-Token", token));
    }
    let value = exchange(None, method, &url, body.map(to_js), &headers).await?;
    serde_wasm_bindgen::from_value(value).map_err(|_| ApiFailure::Network)
}

/// A bank type as a JS value (a body, an event's `detail`). The bank page keeps serde; the
/// shopper's checkout writes its few types by hand (`crate::wire`) and carries none of it.
pub(crate) fn to_js<T: serde::Serialize>(value: &T) -> wasm_bindgen::JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(wasm_bindgen::JsValue::NULL)
}

fn refresh_banks(ctx: Ctx) {
    spawn_local(async move {
        match call::<(), Vec<LinkedBank>>(ctx, "GET", "/api/banks", None).await {
            Ok(banks) => {
                ctx.banks.set(banks);
                if ctx.just_linked.get_untracked().is_some() {
                    focus_soon(ctx, ".kc-just-linked h3");
                }
            }
            Err(f) => fail(ctx, f),
        }
    });
}

fn sign_in(ctx: Ctx, user: String, password: String) {
    ctx.notice.set(None);
    ctx.refused.set(Vec::new());
    spawn_local(async move {
        match call::<_, SignedIn>(
            ctx,
            "POST",
            "/api/auth/sign-in",
            Some(&SignIn { user, password }),
        )
        .await
        {
            Ok(s) => {
                ctx.csrf.set_value(Some(s.csrf_token));
                // Set before the link form appears: it reads the start date once. A form kept
                // from before an expired sign-in keeps its date.
                if ctx.start_date.with_untracked(String::is_empty) {
                    ctx.start_date
                        .set(format!("{}-01-01", s.today.get(..4).unwrap_or("")));
                }
                ctx.today.set(s.today);
                ctx.phase.set(Phase::Ready);
                // The sign-in form is gone: focus moves on to the link form.
                focus_soon(ctx, &field_css("company"));
                refresh_banks(ctx);
            }
            Err(f) => fail(ctx, f),
        }
    });
}

#[component]
pub fn BankLinkApp(ctx: Ctx) -> impl IntoView {
    // Only signing in swaps the screen; the link form's fields live in `ctx` and survive it.
    let signed_in = Memo::new(move |_| ctx.phase.get() != Phase::SignIn);
    theme::watch(ctx);
    view! {
        <div class="kc kc-bank" lang=ctx.locale.get_value() data-theme=move || ctx.theme.get().name() node_ref=ctx.root>
            <Texts flow=Flow::Bank lang=ctx.lang endpoint=ctx.endpoint.get_value()>
            <div class="kc-notice-area" role="status" aria-live="polite">
                {move || ctx.notice.get().map(|m| view! { <div class="kc-notice kc-notice-error"><p>{m}</p></div> })}
            </div>
            {move || if signed_in.get() {
                view! { <LinkForm ctx=ctx /> <Banks ctx=ctx /> }.into_any()
            } else {
                view! { <SignInForm ctx=ctx /> }.into_any()
            }}
            </Texts>
        </div>
    }
}

#[component]
fn SignInForm(ctx: Ctx) -> impl IntoView {
    let user = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    view! {
        <form class="kc-fieldset" on:submit=move |ev| {
            ev.prevent_default();
            sign_in(ctx, user.get_untracked(), password.get_untracked());
        }>
            <h2>{t(ctx.lang, T::SignInTitle)}</h2>
            <div class="kc-field">
                <label for=ctx.id("user")>{t(ctx.lang, T::UserName)}</label>
                <input id=ctx.id("user") data-kc-field="user" name="user" autocomplete="username" aria-invalid=invalid(ctx, "user") prop:value=move || user.get() on:input=move |ev| user.set(event_target_value(&ev)) />
            </div>
            <div class="kc-field">
                <label for=ctx.id("password")>{t(ctx.lang, T::Password)}</label>
                <input id=ctx.id("password") data-kc-field="password" name="password" type="password" autocomplete="current-password" aria-invalid=invalid(ctx, "password") prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
            </div>
            <button type="submit" class="kc-button kc-primary kc-sign-in">{t(ctx.lang, T::SignIn)}</button>
        </form>
    }
}

#[component]
fn LinkForm(ctx: Ctx) -> impl IntoView {
    let (company, start_date, lang) = (ctx.company, ctx.start_date, ctx.lang);
    let working = move || ctx.phase.with(Phase::working);
    view! {
        <form class="kc-fieldset" on:submit=move |ev| {
            ev.prevent_default();
            start_link(ctx, company.get_untracked(), start_date.get_untracked());
        }>
            <h2>{t(lang, T::LinkTitle)}</h2>
            <div class="kc-field">
                <label for=ctx.id("company")>{t(lang, T::Company)}</label>
                <input id=ctx.id("company") data-kc-field="company" name="company" required aria-invalid=invalid(ctx, "company") prop:value=move || company.get() on:input=move |ev| company.set(event_target_value(&ev)) />
            </div>
            <div class="kc-field">
                <label for=ctx.id("start_date")>{t(lang, T::StartDate)}</label>
                // Its value is set once, not on every input: setting a date field's value sends
                // typing back to its first part (typed 01012026, it read 0026-10-12).
                <input id=ctx.id("start_date") data-kc-field="start_date" name="start_date" type="date" max=move || ctx.today.get() aria-describedby=ctx.id("start_date-help") aria-invalid=invalid(ctx, "start_date")
                    prop:value=start_date.get_untracked() on:input=move |ev| start_date.set(event_target_value(&ev)) />
                <p id=ctx.id("start_date-help") class="kc-help">{t(lang, T::StartDateHelp)}</p>
            </div>
            <button type="submit" class="kc-button kc-primary kc-continue" disabled=move || working().is_some()>
                {move || t(lang, working().unwrap_or(T::Continue))}
            </button>
            {move || ctx.unsettled.get().filter(|_| working().is_none()).map(|(link, ending)| view! {
                <button type="button" class="kc-button kc-secondary kc-check-again"
                    on:click=move |_| settle_link(ctx, link.clone(), ending, Phase::Checking)>
                    {t(lang, T::CheckAgain)}
                </button>
            })}
            // The button's label is not announced when it changes; this line is.
            <p class="kc-visually-hidden kc-link-status" role="status">
                {move || working().map(|w| t(lang, w))}
            </p>
        </form>
    }
}

/// The head of a transactions table, booked or pending: the same four columns.
fn transactions_head(lang: Lang) -> impl IntoView {
    view! {
        <thead><tr>
            <th scope="col">{t(lang, T::Date)}</th>
            <th scope="col">{t(lang, T::Counterparty)}</th>
            <th scope="col">{t(lang, T::Reference)}</th>
            <th scope="col">{t(lang, T::Amount)}</th>
        </tr></thead>
    }
}

/// Mounts the bank-linking app into every `<klarna-bank-link>` element.
pub fn mount_all() {
    crate::embed::mount_each("klarna-bank-link", |element| {
        let endpoint = Endpoint(element.get_attribute("endpoint").unwrap_or_default());
        let locale = crate::i18n::page_locale(element.get_attribute("locale"), "DE").1;
        let host = element.clone();
        leptos::mount::mount_to(
            element,
            move || view! { <BankLinkApp ctx=Ctx::new(endpoint.clone(), locale.clone(), Some(host.clone())) /> },
        )
        .forget();
    });
}

#[cfg(test)]
mod tests {
    use super::locale_tag;

    #[test]
    fn locale_attributes_become_tags_intl_accepts() {
        assert_eq!(locale_tag("de-DE"), "de-DE");
        assert_eq!(locale_tag(" de_DE "), "de-DE");
        assert_eq!(locale_tag("en"), "en");
        assert_eq!(locale_tag(""), "en-DE");
        assert_eq!(
            locale_tag("de-DE-a"),
            "en-DE",
            "a lone singleton makes Intl throw"
        );
        assert_eq!(locale_tag("<script>"), "en-DE");
        assert_eq!(locale_tag("deutsch"), "en-DE");
    }
}
