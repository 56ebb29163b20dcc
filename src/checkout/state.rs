//! The checkout's state: plain signals, `Copy`, handed to every part of the view.

use super::life::Life;
use crate::api::{Endpoint, Server};
use crate::error::CheckoutError;
use crate::i18n::Lang;
use klarna::api::{CheckoutSession, PlaceOrder, PlacedOrder};
use klarna::{Address, Country, Customer, FieldError};
use leptos::prelude::*;

/// Where the shopper is.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    Starting,
    StartFailed(CheckoutError),
    Shopping,
    /// Klarna approved without giving the page a token: the server creates the order from
    /// Klarna's callback and the page waits for it. `waited_out`: it has not arrived yet
    /// after a minute; the shopper may check again.
    Confirming {
        waited_out: bool,
    },
    Done(PlacedOrder),
}

/// The Klarna script and widget, per session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdkState {
    Loading,
    Ready,
    Failed,
    /// Another checkout on the page took Klarna's script (it holds one session per page);
    /// this one takes it back when the shopper returns to it.
    Paused,
}

/// How the component was embedded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    pub endpoint: Endpoint,
    pub cart: String,
    pub locale: String,
    /// `light` or `dark`: the preset under the storefront's own `--kc-*` variables.
    pub theme: Theme,
    /// The element events are dispatched on.
    pub host: Option<web_sys::HtmlElement>,
    /// The checkout's requests and timers; its handle ends them at `destroy()`, at once.
    pub life: Life,
}

/// The colour presets (`style/checkout.css`); a storefront's `--kc-*` variables win over both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

impl Theme {
    pub fn parse(value: &str) -> Theme {
        if value.trim().eq_ignore_ascii_case("dark") {
            Theme::Dark
        } else {
            Theme::Light
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

thread_local! {
    static INSTANCES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

#[derive(Clone, Copy)]
pub struct Ctx {
    /// This checkout among those of the page: its element ids (`kc2-billing_address-city`)
    /// and its radio group are its own, so two checkouts never share one.
    pub uid: u32,
    /// The checkout's root element: its Klarna containers and fields are found under it.
    pub root: NodeRef<leptos::html::Div>,
    /// Its requests and timers, ended by `destroy()`.
    pub life: StoredValue<Life, LocalStorage>,
    pub theme: Theme,
    pub lang: Lang,
    pub locale: StoredValue<String>,
    pub cart_ref: StoredValue<String>,
    pub endpoint: StoredValue<Endpoint>,
    pub host: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
    pub phase: RwSignal<Phase>,
    pub session: RwSignal<Option<CheckoutSession>>,
    pub billing: RwSignal<Address>,
    pub shipping: RwSignal<Address>,
    pub same_as_billing: RwSignal<bool>,
    /// The company of a B2B purchase (legal form, registration number, VAT id); its name is
    /// the billing address's `organization_name`.
    pub customer: RwSignal<Customer>,
    pub field_errors: RwSignal<Vec<FieldError>>,
    pub sdk: RwSignal<SdkState>,
    pub selected: RwSignal<Option<String>>,
    /// Categories Klarna refused (`show_form: false`): hidden for the rest of the session.
    pub refused: RwSignal<Vec<String>>,
    /// Widgets asked for under the current hold of Klarna.
    pub loaded: RwSignal<Vec<String>>,
    /// Widgets Klarna has shown (`load()` answered `show_form: true`): only these can be bought.
    pub shown: RwSignal<Vec<String>>,
    /// Counts this checkout's holds of Klarna, so a late `load()` answer of an earlier one is
    /// ignored.
    pub generation: StoredValue<u32>,
    pub busy: RwSignal<bool>,
    pub notice: RwSignal<Option<CheckoutError>>,
    /// A place-order request that failed for want of a connection; "Try again" resends it as is.
    pub retry_order: RwSignal<Option<PlaceOrder>>,
    /// A billing country the server could not be told about; "Try again" tells it again.
    pub retry_country: StoredValue<Option<String>>,
    pub finalize_pending: RwSignal<bool>,
    /// Klarna's session has outlived its 48 hours; the next Buy starts a new one first.
    pub session_stale: RwSignal<bool>,
}

impl Ctx {
    pub fn new(options: Options) -> Ctx {
        let country = options
            .locale
            .split('-')
            .nth(1)
            .and_then(Country::from_code)
            .unwrap_or(Country::DE);
        let empty = Address {
            country: country.code().into(),
            ..Address::default()
        };
        let uid = INSTANCES.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        Ctx {
            uid,
            root: NodeRef::new(),
            life: StoredValue::new_local(options.life.clone()),
            theme: options.theme,
            lang: Lang::of(&options.locale),
            locale: StoredValue::new(options.locale),
            cart_ref: StoredValue::new(options.cart),
            endpoint: StoredValue::new(options.endpoint),
            host: StoredValue::new_local(options.host),
            phase: RwSignal::new(Phase::Starting),
            session: RwSignal::new(None),
            billing: RwSignal::new(empty.clone()),
            shipping: RwSignal::new(empty),
            same_as_billing: RwSignal::new(true),
            customer: RwSignal::new(Customer::organization()),
            field_errors: RwSignal::new(Vec::new()),
            sdk: RwSignal::new(SdkState::Loading),
            selected: RwSignal::new(None),
            refused: RwSignal::new(Vec::new()),
            loaded: RwSignal::new(Vec::new()),
            shown: RwSignal::new(Vec::new()),
            generation: StoredValue::new(0),
            busy: RwSignal::new(false),
            notice: RwSignal::new(None),
            retry_order: RwSignal::new(None),
            retry_country: StoredValue::new(None),
            finalize_pending: RwSignal::new(false),
            session_stale: RwSignal::new(false),
        }
    }

    /// The id of this checkout's element for the wire path `path`
    /// (`billing_address.city` → `kc2-billing_address-city`).
    pub fn id(&self, path: &str) -> String {
        element_id(self.uid, path)
    }

    /// `true` once the checkout was destroyed: late answers and callbacks stop here.
    pub fn gone(&self) -> bool {
        self.phase.is_disposed() || self.life.try_with_value(Life::ended).unwrap_or(true)
    }

    /// This checkout's server, its requests aborted when the checkout is destroyed.
    pub fn server(&self) -> Server {
        Server {
            endpoint: self.endpoint.get_value(),
            signal: self.life.with_value(Life::signal),
        }
    }

    /// Klarna's widgets of this checkout are gone (another session, another hold of Klarna):
    /// none counts as asked for or shown, and a late `load()` answer is ignored.
    pub fn forget_widgets(&self) {
        self.generation.update_value(|g| *g += 1);
        self.loaded.set(Vec::new());
        self.shown.set(Vec::new());
    }

    /// Categories still on offer.
    pub fn offered(&self) -> Vec<klarna::api::PaymentCategory> {
        let refused = self.refused.get();
        self.session
            .get()
            .map(|s| {
                s.categories
                    .into_iter()
                    .filter(|c| !refused.contains(&c.identifier))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Dispatches `klarna-checkout:<name>` on the host element, bubbling out of the component.
    pub fn emit(&self, name: &str, detail: wasm_bindgen::JsValue) {
        if self.gone() {
            return;
        }
        self.host.with_value(|host| {
            if let Some(host) = host {
                crate::embed::dispatch(host, &format!("klarna-checkout:{name}"), &detail);
            }
        });
    }
}

/// `kc<uid>-` and the wire path with dots as dashes.
pub fn element_id(uid: u32, path: &str) -> String {
    format!("kc{uid}-{}", path.replace('.', "-"))
}
