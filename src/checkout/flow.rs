//! What happens between the Buy button, Klarna and our server, for every documented outcome.

use super::address_form::focus_first;
use super::events;
use super::state::{Ctx, Phase, SdkState};
use crate::error::CheckoutError;
use crate::sdk::loader;
use crate::sdk::owner::{self, Claim, Claimant};
use crate::sdk::payments::{self, AuthorizeOutcome, AuthorizeResult};
use klarna::address::validate_addresses;
use klarna::api::{ChangeCountry, OrderState, OrderStatus, PlaceOrder, PlacedOrder, StartCheckout};
use klarna::customer::{validate_organization, Customer, CustomerType};
use klarna::{Address, Country, FieldError, FieldProblem};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

/// Starts (or, when `renewed`, restarts keeping the form) a checkout session, then loads Klarna.
pub fn start_session(ctx: Ctx, renewed: bool) {
    let server = ctx.server();
    let mut body = StartCheckout {
        cart: ctx.cart_ref.get_value(),
        locale: ctx.locale.get_value(),
        widget: None,
    };
    spawn_local(async move {
        if ctx.gone() {
            return;
        }
        // Mounted by now (this runs after the view is in the page): Klarna's widget takes the
        // colours the checkout shows.
        body.widget = ctx
            .root
            .get_untracked()
            .and_then(|root| super::appearance::widget_options(&root));
        let result = server.start_checkout(&body).await;
        if ctx.gone() {
            return;
        }
        match result {
            Ok(session) => {
                // Klarna's script travels while the shopping view renders (a round trip and
                // the download saved on a real network; `load_sdk` below takes the same load).
                loader::PAYMENTS
                    .prefetch(&ctx.endpoint.with_value(|e| e.resolve(&session.sdk_url)));
                ctx.refused.set(Vec::new());
                ctx.forget_widgets();
                ctx.finalize_pending.set(false);
                ctx.selected
                    .set(session.categories.first().map(|c| c.identifier.clone()));
                watch_expiry(ctx, &session);
                ctx.session.set(Some(session));
                if renewed {
                    ctx.notice.set(Some(CheckoutError::SessionExpired));
                }
                ctx.phase.set(Phase::Shopping);
                events::ready(ctx);
                // A listener may have destroyed or re-carted the checkout.
                if ctx.gone() {
                    return;
                }
                load_sdk(ctx);
            }
            Err(e) => {
                let error = CheckoutError::from(e);
                ctx.phase.set(Phase::StartFailed(error.clone()));
                events::error(ctx, &error);
            }
        }
    });
}

/// The billing country changed: the server re-prices and updates (or replaces) Klarna's
/// session, then the widget is loaded again, as Klarna asks after a session update.
pub fn change_country(ctx: Ctx, country: String) {
    let Some(session) = ctx.session.get_untracked() else {
        return;
    };
    if session.cart.country.code() == country || klarna::Country::from_code(&country).is_none() {
        return;
    }
    ctx.busy.set(true);
    ctx.retry_country.set_value(None);
    let server = ctx.server();
    spawn_local(async move {
        let result = server
            .change_country(
                &session.session,
                &ChangeCountry {
                    country: country.clone(),
                },
            )
            .await;
        if ctx.gone() {
            return;
        }
        ctx.busy.set(false);
        match result {
            Ok(updated) => {
                watch_expiry(ctx, &updated);
                ctx.forget_widgets();
                ctx.finalize_pending.set(false);
                ctx.session.set(Some(updated));
                events::changed(ctx);
                if ctx.gone() {
                    return;
                }
                load_sdk(ctx);
            }
            Err(e) => {
                let error = CheckoutError::from(e);
                if error == CheckoutError::SessionExpired {
                    // The server no longer has this checkout (purged 48 hours on): start
                    // another, keeping the form; its country is then set again.
                    start_session(ctx, true);
                    return;
                }
                ctx.retry_country.set_value(Some(country));
                ctx.notice.set(Some(error.clone()));
                events::error(ctx, &error);
            }
        }
    });
}

/// Marks the session stale when Klarna's 48 hours are over, unless it was replaced meanwhile.
pub fn watch_expiry(ctx: Ctx, session: &klarna::api::CheckoutSession) {
    ctx.session_stale.set(false);
    let token = session.client_token.clone();
    let ms = session.expires_in_secs.clamp(0, i64::from(i32::MAX) / 1000) as i32 * 1000;
    ctx.life.with_value(|life| {
        life.after(ms, move || {
            let current = ctx
                .session
                .with_untracked(|s| s.as_ref().map(|s| s.client_token.clone()));
            if current.as_deref() == Some(token.as_str()) {
                ctx.session_stale.set(true);
            }
        })
    });
}

/// Loads the script once, `init`s it with this session's client token, loads the chosen widget.
pub fn load_sdk(ctx: Ctx) {
    let Some(session) = ctx.session.get_untracked() else {
        return;
    };
    let url = ctx.endpoint.with_value(|e| e.resolve(&session.sdk_url));
    ctx.sdk.set(SdkState::Loading);
    spawn_local(async move {
        let loaded = loader::PAYMENTS.load(&url).await;
        if ctx.gone() {
            return;
        }
        let claimed = loaded
            .map_err(|_| String::new())
            .and_then(|()| claim(ctx, &session.client_token));
        match claimed {
            Ok(Claim::Taken) => {}
            Ok(Claim::Wait) => {
                ctx.sdk.set(SdkState::Paused);
                return;
            }
            Err(_) => {
                ctx.sdk.set(SdkState::Failed);
                ctx.notice.set(Some(CheckoutError::ScriptLoadFailed));
                events::error(ctx, &CheckoutError::ScriptLoadFailed);
                return;
            }
        }
        ctx.sdk.set(SdkState::Ready);
        if ctx.notice.get_untracked() == Some(CheckoutError::ScriptLoadFailed) {
            ctx.notice.set(None);
        }
        if let Some(category) = ctx.selected.get_untracked() {
            load_widget(ctx, category);
        }
    });
}

/// Loads a category's widget once per session (loading twice is a known source of trouble).
pub fn load_widget(ctx: Ctx, category: String) {
    if ctx.sdk.get_untracked() != SdkState::Ready
        || ctx.loaded.with_untracked(|l| l.contains(&category))
    {
        return;
    }
    let Some(container) = ctx
        .root
        .get_untracked()
        .and_then(|root| {
            root.query_selector(&widget_selector(&category))
                .ok()
                .flatten()
        })
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    ctx.loaded.update(|l| l.push(category.clone()));
    let c = category.clone();
    // An answer for an earlier hold of Klarna (paused since, the session replaced) is stale.
    let generation = ctx.generation.get_value();
    let result = payments::load(&container, &category, move |res| {
        if ctx.gone() || ctx.generation.get_value() != generation {
            return;
        }
        if res.show_form {
            // Only now may the shopper buy with it: `authorize()` before `load()` has
            // answered throws.
            ctx.shown.update(|s| s.push(c));
        } else {
            refuse(ctx, &c);
        }
    });
    if result.is_err() {
        ctx.loaded.update(|l| l.retain(|x| x != &category));
        ctx.notice.set(Some(CheckoutError::ScriptLoadFailed));
        events::error(ctx, &CheckoutError::ScriptLoadFailed);
    }
}

/// This checkout's Klarna container for `category` (each checkout has its own).
pub fn widget_selector(category: &str) -> String {
    format!(
        ".kc-widget[data-category=\"{}\"]",
        category.replace(['"', '\\'], "")
    )
}

/// Klarna's script holds one client token per page: this checkout takes it, and the one that
/// had it pauses (its widget is reloaded when the shopper comes back to it).
fn claim(ctx: Ctx, client_token: &str) -> Result<Claim, String> {
    // A new hold of Klarna: widgets loaded under an earlier one are gone.
    ctx.forget_widgets();
    let claimant = Claimant {
        uid: ctx.uid,
        busy: Box::new(move || !ctx.gone() && ctx.busy.get_untracked()),
        pause: Box::new(move || {
            if !ctx.gone() {
                ctx.forget_widgets();
                ctx.sdk.set(SdkState::Paused);
            }
        }),
        wake: Box::new(move || {
            if !ctx.gone() {
                resume(ctx);
            }
        }),
    };
    owner::claim(claimant, || payments::init(client_token))
}

/// The shopper came back to a paused checkout (or Klarna became free): take Klarna back.
/// Only while shopping: a confirmation never takes Klarna from a checkout in use.
pub fn resume(ctx: Ctx) {
    if ctx.sdk.get_untracked() == SdkState::Paused
        && !ctx.busy.get_untracked()
        && ctx.phase.get_untracked() == Phase::Shopping
    {
        load_sdk(ctx);
    }
}

/// Klarna will not offer `category`: hide it and move to the next one still offered.
fn refuse(ctx: Ctx, category: &str) {
    ctx.refused.update(|r| r.push(category.to_string()));
    let next = ctx.offered().into_iter().next().map(|c| c.identifier);
    let none_left = next.is_none();
    ctx.selected.set(next.clone());
    ctx.notice.set(Some(if none_left {
        CheckoutError::Unavailable
    } else {
        CheckoutError::Rejected
    }));
    if let Some(next) = next {
        load_widget(ctx, next);
    }
}

/// The addresses to submit, trimmed once and written back so that what the shopper sees is
/// exactly what Klarna authorizes and the order repeats.
fn submitted_addresses(ctx: Ctx) -> (Address, Option<Address>) {
    let billing = ctx.billing.get_untracked().trimmed();
    ctx.billing.set(billing.clone());
    let shipping = (!ctx.same_as_billing.get_untracked()).then(|| {
        let s = ctx.shipping.get_untracked().trimmed();
        ctx.shipping.set(s.clone());
        s
    });
    (billing, shipping)
}

/// The company of a B2B cart, cleaned once and written back like the addresses: `None` for a
/// consumer's cart.
fn submitted_customer(ctx: Ctx) -> Option<Customer> {
    let b2b = ctx.session.with_untracked(|s| {
        s.as_ref()
            .is_some_and(|s| s.customer_type == CustomerType::Organization)
    });
    b2b.then(|| {
        let country = ctx
            .billing
            .with_untracked(|b| Country::from_code(b.country.trim()));
        let customer = Customer {
            kind: Some(CustomerType::Organization),
            ..ctx.customer.get_untracked().cleaned(country)
        };
        ctx.customer.set(customer.clone());
        customer
    })
}

/// Everything the shopper entered, checked in form order (the company comes first).
fn form_errors(
    billing: &Address,
    shipping: Option<&Address>,
    customer: Option<&Customer>,
) -> Vec<FieldError> {
    let mut errors = customer
        .map(|c| validate_organization(billing, None, c))
        .unwrap_or_default();
    errors.extend(validate_addresses(billing, shipping));
    errors
}

fn show_field_errors(ctx: Ctx, errors: Vec<FieldError>) {
    focus_first(ctx.root, &errors);
    ctx.field_errors.set(errors.clone());
    ctx.notice.set(Some(CheckoutError::InvalidFields(errors)));
}

/// The Buy click. Everything up to `authorize()` is synchronous, on purpose: an `await` before
/// it would spend the click's user activation and Klarna's pop-up would be blocked.
pub fn buy(ctx: Ctx) {
    if ctx.busy.get_untracked() {
        return;
    }
    let Some(category) = ctx.selected.get_untracked() else {
        return;
    };
    if ctx.session_stale.get_untracked() {
        ctx.notice.set(None);
        start_session(ctx, true);
        return;
    }
    let (billing, shipping) = submitted_addresses(ctx);
    let customer = submitted_customer(ctx);
    let errors = form_errors(&billing, shipping.as_ref(), customer.as_ref());
    if !errors.is_empty() {
        show_field_errors(ctx, errors);
        return;
    }
    // A company's name goes in the shipping address too, and for a B2B cart a shipping
    // address always goes: Klarna refuses an order whose company name it saw in one address
    // or one call only (WooCommerce #132), and the order repeats this exactly.
    let shipping = match (&customer, shipping) {
        (Some(_), None) => Some(billing.clone()),
        (Some(_), Some(s)) => Some(Address {
            organization_name: billing.organization_name.clone(),
            ..s
        }),
        (None, s) => s,
    };
    ctx.field_errors.set(Vec::new());
    ctx.notice.set(None);
    ctx.retry_order.set(None);
    ctx.busy.set(true);
    let data = crate::wire::authorize_data(&billing, shipping.as_ref(), customer.as_ref());
    let finalize = ctx.finalize_pending.get_untracked();
    let c = category.clone();
    let done =
        move |res: AuthorizeResult| on_authorized(ctx, c, (billing, shipping, customer), res);
    let started = if finalize {
        payments::finalize(&category, &data, done)
    } else {
        payments::authorize(&category, &data, done)
    };
    if started.is_err() {
        ctx.busy.set(false);
        ctx.notice.set(Some(CheckoutError::ScriptLoadFailed));
        events::error(ctx, &CheckoutError::ScriptLoadFailed);
    }
}

/// What was authorized: billing and shipping address, the company of a B2B cart.
type Authorized = (Address, Option<Address>, Option<Customer>);

fn on_authorized(ctx: Ctx, category: String, authorized: Authorized, res: AuthorizeResult) {
    if ctx.gone() {
        return;
    }
    let (billing, shipping, customer) = authorized;
    match res.outcome() {
        AuthorizeOutcome::Approved {
            authorization_token,
        } => {
            ctx.finalize_pending.set(false);
            let Some(session) = ctx.session.get_untracked() else {
                return;
            };
            place_order(
                ctx,
                PlaceOrder {
                    session: session.session,
                    authorization_token,
                    billing_address: billing,
                    shipping_address: shipping,
                    customer,
                },
            );
        }
        AuthorizeOutcome::FinalizeRequired => {
            ctx.finalize_pending.set(true);
            ctx.busy.set(false);
            super::focus_back(ctx);
        }
        AuthorizeOutcome::ApprovedWithoutToken => {
            ctx.finalize_pending.set(false);
            await_order(ctx);
        }
        AuthorizeOutcome::InvalidFields(fields) => {
            ctx.busy.set(false);
            let errors = fields
                .into_iter()
                .map(|f| FieldError::new(f, FieldProblem::RejectedByKlarna))
                .collect();
            show_field_errors(ctx, errors);
        }
        AuthorizeOutcome::Aborted => {
            ctx.busy.set(false);
            ctx.notice.set(Some(CheckoutError::Cancelled));
            events::cancelled(ctx, &category);
            super::focus_back(ctx);
        }
        AuthorizeOutcome::Rejected => {
            ctx.busy.set(false);
            refuse(ctx, &category);
            events::error(ctx, &CheckoutError::Rejected);
            super::focus_back(ctx);
        }
    }
}

/// Sends the authorization to our server. Safe to repeat: the server answers the same order
/// for the same token.
pub fn place_order(ctx: Ctx, request: PlaceOrder) {
    ctx.busy.set(true);
    let server = ctx.server();
    spawn_local(async move {
        let result = server.place_order(&request).await;
        if ctx.gone() {
            return;
        }
        ctx.busy.set(false);
        match result {
            Ok(order) => {
                ctx.retry_order.set(None);
                order_placed(ctx, order);
            }
            Err(failure) => {
                let error = CheckoutError::from(failure);
                events::error(ctx, &error);
                if ctx.gone() {
                    return;
                }
                match &error {
                    CheckoutError::Network | CheckoutError::Internal(_) => {
                        ctx.retry_order.set(Some(request))
                    }
                    CheckoutError::InvalidFields(errors) => focus_first(ctx.root, errors),
                    CheckoutError::SessionExpired => start_session(ctx, true),
                    _ => {}
                }
                if let CheckoutError::InvalidFields(errors) = &error {
                    ctx.field_errors.set(errors.clone());
                } else {
                    super::focus_back(ctx);
                }
                ctx.notice.set(Some(error));
            }
        }
    });
}

/// The order exists: confirm it, or, when Klarna's fraud check turned it down, say that
/// Klarna can't be used (its session is used up, and the same shopper would be refused again
/// in any category).
fn order_placed(ctx: Ctx, order: PlacedOrder) {
    ctx.busy.set(false);
    if order.state == OrderState::Rejected && !matches!(ctx.phase.get_untracked(), Phase::Done(_)) {
        let all = ctx.session.with_untracked(|s| {
            s.as_ref()
                .map(|s| s.categories.iter().map(|c| c.identifier.clone()).collect())
                .unwrap_or_default()
        });
        ctx.refused.set(all);
        ctx.selected.set(None);
        ctx.phase.set(Phase::Shopping);
        events::error(ctx, &CheckoutError::Rejected);
        ctx.notice.set(Some(CheckoutError::Unavailable));
        return;
    }
    match order.state {
        OrderState::Pending | OrderState::Accepted => events::order(ctx, &order),
        // The review ended in a refusal after the confirmation was shown.
        OrderState::Rejected => events::error(ctx, &CheckoutError::Rejected),
    }
    if ctx.gone() {
        return;
    }
    let pending = order.state == OrderState::Pending;
    ctx.phase.set(Phase::Done(order));
    if pending {
        watch_review(ctx);
    }
}

fn session_id(ctx: Ctx) -> Option<String> {
    ctx.session
        .with_untracked(|s| s.as_ref().map(|s| s.session.clone()))
}

/// Klarna approved without a token: asks the server for the order its callback creates,
/// every two seconds for a minute (Klarna's own SFCC cartridge waits about 20 seconds).
pub fn await_order(ctx: Ctx) {
    let Some(session) = session_id(ctx) else {
        return;
    };
    ctx.busy.set(true);
    ctx.notice.set(None);
    ctx.phase.set(Phase::Confirming { waited_out: false });
    let server = ctx.server();
    let life = ctx.life.get_value();
    spawn_local(async move {
        for _ in 0..30 {
            let status = server.order_status(&session).await;
            if ctx.gone() {
                return;
            }
            if let Ok(OrderStatus { order: Some(order) }) = status {
                order_placed(ctx, order);
                return;
            }
            life.sleep(2_000).await;
            // Gone (destroyed) or moved on: stop asking.
            if ctx.gone() || !matches!(ctx.phase.get_untracked(), Phase::Confirming { .. }) {
                return;
            }
        }
        ctx.busy.set(false);
        ctx.phase.set(Phase::Confirming { waited_out: true });
    });
}

/// A pending order is under Klarna's fraud review (hours at most): the confirmation follows
/// its outcome for as long as it is shown, asking ever less often (5 s doubling to a minute).
fn watch_review(ctx: Ctx) {
    let Some(session) = session_id(ctx) else {
        return;
    };
    let server = ctx.server();
    let life = ctx.life.get_value();
    let still_pending = move || {
        !ctx.gone()
            && matches!(
                ctx.phase.get_untracked(),
                Phase::Done(PlacedOrder {
                    state: OrderState::Pending,
                    ..
                })
            )
    };
    spawn_local(async move {
        let mut wait = 5_000;
        while still_pending() {
            life.sleep(wait).await;
            wait = (wait * 2).min(60_000);
            if !still_pending() {
                return;
            }
            let status = server.order_status(&session).await;
            if !still_pending() {
                return;
            }
            if let Ok(OrderStatus { order: Some(order) }) = status {
                if order.state != OrderState::Pending {
                    order_placed(ctx, order);
                    return;
                }
            }
        }
    });
}

/// "Try again": repeats whatever failed last.
pub fn retry(ctx: Ctx) {
    if let Some(request) = ctx.retry_order.get_untracked() {
        ctx.notice.set(None);
        place_order(ctx, request);
    } else if ctx.sdk.get_untracked() == SdkState::Failed {
        ctx.notice.set(None);
        load_sdk(ctx);
    } else if matches!(ctx.phase.get_untracked(), Phase::StartFailed(_)) {
        ctx.phase.set(Phase::Starting);
        start_session(ctx, false);
    } else if let Some(country) = ctx.retry_country.get_value() {
        ctx.notice.set(None);
        change_country(ctx, country);
    } else {
        // Klarna's script is there but one of its calls threw (`load`, `authorize`): load the
        // widget again if it is missing, and let the shopper press Buy again.
        ctx.notice.set(None);
        if let Some(category) = ctx.selected.get_untracked() {
            load_widget(ctx, category);
        }
    }
}
