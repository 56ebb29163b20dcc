//! The company a business customer buys for, its own group ("Company") at the top of the
//! billing address when the session says the cart is B2B: company name, legal form,
//! registration number (optional for a sole trader and `OTHER`) and VAT id (with an example in
//! the billing country's format), each checked when the shopper leaves it by the rules the
//! server and Klarna apply (`klarna::customer`), its error tied to it for screen readers like
//! the address fields'.

use super::state::element_id as field_id;
use crate::i18n::{field_label, field_message, legal_form_label, t, Lang, Text};
use klarna::customer::vat_example;
use klarna::customer::{validate_organization, Customer, OrganizationEntityType};
use klarna::{Address, Country, FieldError};
use leptos::prelude::*;

/// The text fields, in form order around the legal form (after the first): wire path,
/// `autocomplete`, length limit, optional (the registration number: by legal form). One `view!` renders all three, which keeps the
/// bundle small (every distinct view is code of its own).
const TEXT_FIELDS: [(&str, &str, usize, bool); 3] = [
    (
        "billing_address.organization_name",
        "billing organization",
        99,
        false,
    ),
    (
        "customer.organization_registration_id",
        "off",
        klarna::customer::MAX_REGISTRATION_ID,
        false,
    ),
    ("customer.vat_id", "off", 20, true),
];

fn text_of(i: usize, billing: &Address, customer: &Customer) -> String {
    match i {
        0 => billing.organization_name.clone(),
        1 => customer
            .organization_registration_id
            .clone()
            .unwrap_or_default(),
        _ => customer.vat_id.clone().unwrap_or_default(),
    }
}

fn set_text(i: usize, value: String, billing: RwSignal<Address>, customer: RwSignal<Customer>) {
    match i {
        0 => billing.update(|b| b.organization_name = value),
        1 => customer.update(|c| c.organization_registration_id = Some(value)),
        _ => customer.update(|c| c.vat_id = Some(value)),
    }
}

#[component]
pub fn OrganizationFields(
    uid: u32,
    billing: RwSignal<Address>,
    customer: RwSignal<Customer>,
    errors: RwSignal<Vec<FieldError>>,
    lang: Lang,
) -> impl IntoView {
    let error_for = move |path: &'static str| {
        move || errors.with(|all| all.iter().find(|e| e.field == path).cloned())
    };
    // Re-check one field when the shopper leaves it, as the address fields do. Ids follow the
    // address fields' (`kc-` and the wire path): `focus_first` finds a refused field by it.
    let check = move |path: &'static str| {
        let found = billing
            .with_untracked(|b| customer.with_untracked(|c| validate_organization(b, None, c)));
        errors.update(|all| {
            all.retain(|e| e.field != path);
            all.extend(found.into_iter().filter(|e| e.field == path));
        });
    };
    let optional = format!(" ({})", t(lang, Text::Optional));
    let mut texts = TEXT_FIELDS
        .iter()
        .enumerate()
        .map(|(i, &(path, autocomplete, max, optional_field))| {
            let id = field_id(uid, path);
            let error_id = format!("{id}-error");
            let hint_id = format!("{id}-hint");
            let error = error_for(path);
            let name = path.rsplit('.').next().unwrap_or(path);
            let is_optional = move || {
                optional_field
                    || i == 1
                        && customer.with(|c| {
                            c.organization_entity_type
                                .is_some_and(|k| !k.requires_registration())
                        })
            };
            let optional = optional.clone();
            // The VAT id's format for the billing country, shown before any error.
            let hint = move || {
                let country = billing.with(|b| Country::from_code(b.country.trim()))?;
                (i == 2).then(|| format!("{} {}", t(lang, Text::ForExample), vat_example(country)))
            };
            view! {
                <div class="kc-field" class:kc-invalid=move || error().is_some()>
                    <label for=id.clone()>{field_label(lang, name)}<span class="kc-optional">{move || is_optional().then(|| optional.clone())}</span></label>
                    <input id=id data-kc-field=path name=name type="text" autocomplete=autocomplete maxlength=max
                        aria-required=move || if is_optional() { "false" } else { "true" }
                        aria-invalid=move || if error().is_some() { "true" } else { "false" }
                        aria-describedby=format!("{hint_id} {error_id}")
                        prop:value=move || billing.with(|b| customer.with(|c| text_of(i, b, c)))
                        on:input=move |ev| {
                            set_text(i, event_target_value(&ev), billing, customer);
                            if errors.with_untracked(|all| all.iter().any(|e| e.field == path)) {
                                check(path)
                            }
                        }
                        on:blur=move |_| check(path) />
                    <p class="kc-field-hint" id=hint_id>{hint}</p>
                    <p class="kc-field-error" id=error_id>{move || error().map(|e| field_message(lang, &e))}</p>
                </div>
            }
        })
        .collect::<Vec<_>>();
    let rest = texts.split_off(1);
    const FORM: &str = "customer.organization_entity_type";
    const REGISTRATION: &str = "customer.organization_registration_id";
    let id = field_id(uid, FORM);
    let error_id = format!("{id}-error");
    let error = error_for(FORM);
    let options = OrganizationEntityType::ALL
        .iter()
        .map(|&kind| {
            let selected = move || customer.with(|c| c.organization_entity_type == Some(kind));
            view! { <option value=kind.wire_name() selected=selected>{legal_form_label(lang, kind)}</option> }
        })
        .collect_view();
    view! {
        <fieldset class="kc-organization">
            <legend>{t(lang, Text::Company)}</legend>
            {texts}
            <div class="kc-field" class:kc-invalid=move || error().is_some()>
                <label for=id.clone()>{field_label(lang, "organization_entity_type")}</label>
                <select id=id data-kc-field=FORM name="organization_entity_type" aria-required="true"
                    aria-invalid=move || if error().is_some() { "true" } else { "false" }
                    aria-describedby=error_id.clone()
                    on:change=move |ev| {
                        let kind = OrganizationEntityType::from_wire_name(&event_target_value(&ev));
                        customer.update(|c| c.organization_entity_type = kind);
                        check(FORM);
                        // The legal form decides whether a registration number is required.
                        if errors.with_untracked(|all| all.iter().any(|e| e.field == REGISTRATION)) {
                            check(REGISTRATION);
                        }
                    }
                >
                    <option value="" selected=move || customer.with(|c| c.organization_entity_type.is_none())>
                        {t(lang, Text::ChooseLegalForm)}
                    </option>
                    {options}
                </select>
                <p class="kc-field-error" id=error_id>{move || error().map(|e| field_message(lang, &e))}</p>
            </div>
            {rest}
        </fieldset>
    }
}
