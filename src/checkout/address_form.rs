//! Billing and shipping address, checked as the shopper types by the same rules the server and
//! Klarna apply. Each field has a visible label, and its error is tied to it for screen readers.

use super::organization::OrganizationFields;
use crate::i18n::{country_name, field_label, field_message, t, Lang, Text};
use klarna::address::validate_address;
use klarna::{Address, AddressField, Country, Currency, Customer, FieldError};
use leptos::prelude::*;

use super::state::element_id as field_id;

/// Moves focus to the first refused field of this checkout (found under its `root` by the
/// field's wire path, `data-kc-field`), so keyboard and screen-reader users land on it.
/// Deferred to the next frame: the form may still be disabled until this update is rendered.
pub fn focus_first(root: NodeRef<leptos::html::Div>, errors: &[FieldError]) {
    let Some(first) = errors.first() else { return };
    let selector = format!(
        "[data-kc-field=\"{}\"]",
        first.field.replace(['"', '\\'], "")
    );
    request_animation_frame(move || {
        let Some(root) = root.try_get_untracked().flatten() else {
            return;
        };
        if let Ok(Some(el)) = root.query_selector(&selector) {
            use wasm_bindgen::JsCast;
            if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
}

struct FieldSpec {
    field: AddressField,
    input_type: &'static str,
    autocomplete: &'static str,
    optional: bool,
}

const FIELDS: [FieldSpec; 9] = [
    FieldSpec {
        field: AddressField::GivenName,
        input_type: "text",
        autocomplete: "given-name",
        optional: false,
    },
    FieldSpec {
        field: AddressField::FamilyName,
        input_type: "text",
        autocomplete: "family-name",
        optional: false,
    },
    FieldSpec {
        field: AddressField::Email,
        input_type: "email",
        autocomplete: "email",
        optional: false,
    },
    FieldSpec {
        field: AddressField::Phone,
        input_type: "tel",
        autocomplete: "tel",
        optional: true,
    },
    FieldSpec {
        field: AddressField::StreetAddress,
        input_type: "text",
        autocomplete: "address-line1",
        optional: false,
    },
    FieldSpec {
        field: AddressField::StreetAddress2,
        input_type: "text",
        autocomplete: "address-line2",
        optional: true,
    },
    FieldSpec {
        field: AddressField::PostalCode,
        input_type: "text",
        autocomplete: "postal-code",
        optional: false,
    },
    FieldSpec {
        field: AddressField::City,
        input_type: "text",
        autocomplete: "address-level2",
        optional: false,
    },
    FieldSpec {
        field: AddressField::Region,
        input_type: "text",
        autocomplete: "address-level1",
        optional: false,
    },
];

/// The fields of one address. `prefix` is the wire prefix (`billing_address`).
#[component]
pub fn AddressFields(
    uid: u32,
    prefix: &'static str,
    address: RwSignal<Address>,
    errors: RwSignal<Vec<FieldError>>,
    currency: Currency,
    countries: Vec<Country>,
    lang: Lang,
    #[prop(optional)] section: &'static str,
) -> impl IntoView {
    let error_for = move |path: String| {
        move || errors.with(|all| all.iter().find(|e| e.field == path).cloned())
    };
    // Re-check one field when the shopper leaves it: quiet while typing, honest once done;
    // and while typing in a field already marked wrong, so a corrected value clears it.
    let check = move |field: AddressField| {
        let path = format!("{prefix}.{}", field.wire_name());
        let found = validate_address(prefix, &address.get_untracked())
            .into_iter()
            .find(|e| e.field == path);
        errors.update(|all| {
            all.retain(|e| e.field != path);
            all.extend(found);
        });
    };
    let country = move || Country::from_code(&address.with(|a| a.country.clone()));
    let inputs = FIELDS
        .iter()
        .map(|spec| {
            let field = spec.field;
            let path = format!("{prefix}.{}", field.wire_name());
            let id = field_id(uid, &path);
            let error_id = format!("{id}-error");
            let data_path = path.clone();
            let error = error_for(path.clone());
            let error2 = error_for(path.clone());
            let marked = {
                let path = path.clone();
                move || errors.with_untracked(|all| all.iter().any(|e| e.field == path))
            };
            let error3 = error_for(path);
            let shown = move || field != AddressField::Region || country().is_some_and(Country::requires_region);
            let label = field_label(lang, field.wire_name());
            let optional = spec.optional.then(|| view! { <span class="kc-optional">{format!(" ({})", t(lang, Text::Optional))}</span> });
            let autocomplete = format!("{section}{}", spec.autocomplete);
            view! {
                <div class="kc-field" class:kc-invalid=move || error().is_some() hidden=move || !shown()>
                    <label for=id.clone()>{label}{optional}</label>
                    <input
                        id=id
                        data-kc-field=data_path
                        name=field.wire_name()
                        type=spec.input_type
                        autocomplete=autocomplete
                        maxlength=field.max_len()
                        aria-required=if spec.optional { "false" } else { "true" }
                        aria-invalid=move || if error2().is_some() { "true" } else { "false" }
                        aria-describedby=error_id.clone()
                        prop:value=move || address.with(|a| a.get(field).to_string())
                        on:input=move |ev| {
                            address.update(|a| *a.get_mut(field) = event_target_value(&ev));
                            // A field already marked wrong is re-checked as it is corrected, so
                            // the error goes the moment the value is right.
                            if marked() { check(field) }
                        }
                        on:blur=move |_| check(field)
                    />
                    <p class="kc-field-error" id=error_id>
                        {move || error3().map(|e| field_message(lang, &e))}
                    </p>
                </div>
            }
        })
        .collect_view();
    let country_path = format!("{prefix}.country");
    let country_id = field_id(uid, &country_path);
    // The countries the server can sell this cart in (each in its own currency); an older
    // server that does not say: those of the cart's currency.
    let options = Country::ALL
        .iter()
        .filter(|c| {
            if countries.is_empty() {
                c.currency() == currency
            } else {
                countries.contains(c)
            }
        })
        .map(|c| {
            let code = c.code();
            view! {
                <option value=code selected=move || address.with(|a| a.country == code)>{country_name(lang, *c)}</option>
            }
        })
        .collect_view();
    view! {
        <div class="kc-address">
            {inputs}
            <div class="kc-field">
                <label for=country_id.clone()>{field_label(lang, "country")}</label>
                <select
                    id=country_id
                    data-kc-field=country_path
                    name="country"
                    autocomplete=format!("{section}country")
                    on:change=move |ev| {
                        address.update(|a| a.country = event_target_value(&ev));
                        check(AddressField::PostalCode);
                    }
                >
                    {options}
                </select>
            </div>
        </div>
    }
}

/// Billing address (for a B2B cart, the company first), the "same as billing" switch and,
/// when unticked, the shipping address.
#[component]
pub fn AddressForm(
    uid: u32,
    billing: RwSignal<Address>,
    shipping: RwSignal<Address>,
    same_as_billing: RwSignal<bool>,
    customer: RwSignal<Customer>,
    organization: bool,
    errors: RwSignal<Vec<FieldError>>,
    currency: Currency,
    countries: Vec<Country>,
    lang: Lang,
    disabled: Signal<bool>,
) -> impl IntoView {
    let shipping_countries = countries.clone();
    view! {
        <fieldset class="kc-fieldset" disabled=move || disabled.get()>
            <legend>{t(lang, Text::BillingAddress)}</legend>
            {organization.then(|| view! { <OrganizationFields uid=uid billing=billing customer=customer errors=errors lang=lang /> })}
            <AddressFields uid=uid prefix="billing_address" address=billing errors=errors currency=currency countries=countries lang=lang section="billing " />
            <label class="kc-check">
                <input
                    type="checkbox"
                    class="kc-same-as-billing"
                    prop:checked=move || same_as_billing.get()
                    on:change=move |ev| same_as_billing.set(event_target_checked(&ev))
                />
                {t(lang, Text::SameAsBilling)}
            </label>
        </fieldset>
        <Show when=move || !same_as_billing.get()>
            <fieldset class="kc-fieldset" disabled=move || disabled.get()>
                <legend>{t(lang, Text::ShippingAddress)}</legend>
                <AddressFields uid=uid prefix="shipping_address" address=shipping errors=errors currency=currency countries=shipping_countries.clone() lang=lang section="shipping " />
            </fieldset>
        </Show>
    }
}
