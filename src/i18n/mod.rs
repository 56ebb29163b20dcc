//! Every sentence the shopper reads, in the language of their Klarna market. The texts live in
//! catalogs (`i18n/checkout/<lang>.txt`, see [`catalog`] and docs/i18n.md), fetched when the
//! component mounts; the code names them by key ([`Text`], `field.*`, `problem.*`,
//! `legal_form.*`). Country names, plurals, numbers and dates come from the browser's `Intl`.

pub mod catalog;
pub mod intl;
mod lang;
pub mod locale;
#[cfg(test)]
pub(crate) mod tests;

use crate::api::Endpoint;
pub use catalog::{Flow, Load};
use klarna::{Country, FieldError, FieldProblem, OrganizationEntityType};
pub use lang::Lang;
use leptos::prelude::*;
pub use locale::page_locale;

/// Declares a set of catalog keys: an enum, its `key()` and `ALL` (for the completeness test).
macro_rules! keys {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($variant:ident = $key:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name { $($variant,)* }
        impl $name {
            #[allow(dead_code)] // the completeness test's
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            /// The catalog key.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key,)* }
            }
        }
    };
}
#[cfg(feature = "bank-link")]
pub(crate) use keys;

keys! {
    /// Keys of the checkout's fixed texts.
    pub enum Text {
        Cart = "cart",
        Subtotal = "subtotal",
        Shipping = "shipping",
        Discount = "discount",
        Tax = "tax",
        SalesTax = "sales_tax",
        Total = "total",
        BillingAddress = "billing_address",
        ShippingAddress = "shipping_address",
        SameAsBilling = "same_as_billing",
        Payment = "payment",
        Buy = "buy",
        ConfirmAgain = "confirm_again",
        Working = "working",
        TryAgain = "try_again",
        StartingCheckout = "starting_checkout",
        LoadingKlarna = "loading_klarna",
        OrderThanks = "order_thanks",
        OrderNumber = "order_number",
        PendingReview = "pending_review",
        Cancelled = "cancelled",
        Rejected = "rejected",
        NoCategoryLeft = "no_category_left",
        InvalidFields = "invalid_fields",
        KlarnaFieldRejected = "klarna_field_rejected",
        AuthorizationExpired = "authorization_expired",
        SessionRenewed = "session_renewed",
        Network = "network",
        TooManyRequests = "too_many_requests",
        ScriptLoadFailed = "script_load_failed",
        Internal = "internal",
        SupportId = "support_id",
        Optional = "optional",
        ConfirmingOrder = "confirming_order",
        ConfirmingSlow = "confirming_slow",
        CheckAgain = "check_again",
        ReviewRejected = "review_rejected",
        PaymentDeclined = "payment_declined",
        ChooseLegalForm = "choose_legal_form",
        Company = "company",
        ForExample = "for_example",
        KlarnaPaused = "klarna_paused",
        UseKlarnaHere = "use_klarna_here",
    }
}

/// Built in, in English: the one thing said when a catalog cannot be fetched (there is no
/// other language to say it in). Everything else comes from a catalog.
const TEXTS_FAILED: &str = "This page's texts could not be loaded. Check your connection.";
const TEXTS_RETRY: &str = "Try again";

pub fn t(lang: Lang, text: Text) -> &'static str {
    catalog::lookup(Flow::Checkout, lang, text.key())
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    // By hand over `{`: `str::replace` would bring a substring searcher into the bundle.
    let mut parts = template.split('{');
    let mut out = String::from(parts.next().unwrap_or_default());
    for part in parts {
        let filled = part.split_once('}').and_then(|(name, rest)| {
            let value = values.iter().find(|(n, _)| *n == name)?.1;
            Some((value, rest))
        });
        match filled {
            Some((value, rest)) => {
                out.push_str(value);
                out.push_str(rest);
            }
            None => {
                out.push('{');
                out.push_str(part);
            }
        }
    }
    out
}

/// The plural form of `key` for `n` (`key.one`, `key.few`, … as `Intl.PluralRules` selects
/// for the language) with `{n}` as `locale` writes numbers.
pub fn plural(flow: Flow, lang: Lang, locale: &str, key: &str, n: i64) -> String {
    let category = intl::plural_category(lang.code(), n);
    let mut text = catalog::lookup(flow, lang, &format!("{key}.{category}"));
    if text.is_empty() {
        text = catalog::lookup(flow, lang, &format!("{key}.other"));
    }
    fill(text, &[("n", &intl::number(locale, n))])
}

/// Label of an address or company field (`field.<wire name>`).
pub fn field_label(lang: Lang, wire_name: &str) -> &'static str {
    catalog::lookup(Flow::Checkout, lang, &format!("field.{wire_name}"))
}

/// A field error as a sentence (`problem.<code>`).
pub fn field_message(lang: Lang, error: &FieldError) -> String {
    let text = catalog::lookup(
        Flow::Checkout,
        lang,
        &format!("problem.{}", error.problem.code()),
    );
    match error.problem {
        FieldProblem::TooLong { max } => fill(text, &[("max", &max.to_string())]),
        _ => text.to_string(),
    }
}

/// A legal form as the shopper knows it (`legal_form.<wire name>`).
pub fn legal_form_label(lang: Lang, kind: OrganizationEntityType) -> &'static str {
    catalog::lookup(
        Flow::Checkout,
        lang,
        &format!("legal_form.{}", kind.wire_name().to_ascii_lowercase()),
    )
}

/// A country's name in the shopper's language, from `Intl.DisplayNames`.
pub fn country_name(lang: Lang, country: Country) -> String {
    intl::country_name(lang.code(), country.code()).unwrap_or_else(|| country.name().into())
}

/// Renders `children` once `flow`'s catalog for `lang` is installed, fetching it from
/// `endpoint` if need be. Until then only the spinner (never a key or another language);
/// if it cannot be fetched, the built-in sentence and a retry.
#[component]
pub fn Texts(flow: Flow, lang: Lang, endpoint: Endpoint, children: ChildrenFn) -> impl IntoView {
    catalog::load(flow, lang, &endpoint);
    // Tracks this catalog alone: another arriving does not render the children again.
    move || match catalog::state(flow, lang) {
        Load::Ready => children().into_any(),
        Load::Loading => view! {
            <div class="kc-skeleton" role="status" aria-busy="true">
                <span class="kc-spinner" aria-hidden="true"></span>
            </div>
        }
        .into_any(),
        Load::Failed => {
            let endpoint = endpoint.clone();
            view! {
                <div class="kc-notice kc-notice-error" role="alert" lang="en" data-kc="texts-failed">
                    <p>{TEXTS_FAILED}</p>
                    <button type="button" class="kc-button kc-secondary" on:click=move |_| catalog::load(flow, lang, &endpoint)>
                        {TEXTS_RETRY}
                    </button>
                </div>
            }
            .into_any()
        }
    }
}
