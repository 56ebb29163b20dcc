//! The checkout's state: plain signals, `Copy`, handed to every part of the view.

use crate::api::Endpoint;
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
}

/// How the component was embedded.
#[derive(Clone, Debug)]
pub struct Options {
    pub endpoint: Endpoint,
    pub cart: String,
    pub locale: String,
    /// The element events are dispatched on.
    pub host: Option<web_sys::HtmlElement>,
}

#[derive(Clone, Copy)]
pub struct Ctx {
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
    pub loaded: RwSignal<Vec<String>>,
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
        Ctx {
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
            busy: RwSignal::new(false),
            notice: RwSignal::new(None),
            retry_order: RwSignal::new(None),
            retry_country: StoredValue::new(None),
            finalize_pending: RwSignal::new(false),
            session_stale: RwSignal::new(false),
        }
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
        self.host.with_value(|host| {
            if let Some(host) = host {
                crate::embed::dispatch(host, &format!("klarna-checkout:{name}"), &detail);
            }
        });
    }
}
