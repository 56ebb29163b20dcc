//! B2B purchases: the organization a business customer buys for — Klarna's `customer` object
//! with `type: organization` (contract §1.3) plus `organization_name` in the addresses — and
//! the rules its fields follow. Shared like the address rules: the browser checks as the
//! shopper types, the server before it calls Klarna, the sandbox as Klarna would.
//!
//! From Klarna's documentation: B2B runs through Billie inside Klarna Payments, in AT, CH, DE,
//! DK, ES, FI, FR, GB, IT, NL, NO and SE ("Payments with Billie"), as Pay Later in 30 days;
//! a B2B session is opened with `customer.type = organization` and nothing else (personal
//! data comes at `authorize()`); the legal form is one of eleven values; a company name is
//! required and must be the same in billing and shipping address (Computop's Billie guide:
//! at most 200 characters, so Klarna's 99 for every address field is the binding limit).
//! Billie does not do recurring payments (Adyen's "Billie via Klarna": recurring unsupported).
//! Where Klarna is silent we decided, strictest-first short of refusing real buyers: the
//! registration number is required (Adyen's Billie guide requires it in NL and SE; a Billie
//! buyer must be identifiable) except for a sole trader or `OTHER`, who may have none (a German
//! Kleingewerbe is in no register); at most 50 characters, with the national format checked
//! where it is fixed (SE organisationsnummer or a sole trader's 12-digit personnummer, both
//! with the Luhn digit; NO, FI, DK, NL, GB; FR SIREN or SIRET) and letters, digits and `-./`
//! plus a digit elsewhere (DE "HRB 12345", AT "FN 123456a"); the VAT id is optional, but when
//! given it must be the billing country's (`EL` for Greece) in that country's format. Spaces
//! are removed from the VAT id and from a fixed-format registration number before they are
//! checked, and the cleaned values are what Klarna receives ([`Customer::cleaned`]).

use crate::address::{Address, FieldError, FieldProblem};
use crate::country::Country;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `customer.type`: a B2C session unless it says `organization`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CustomerType {
    #[default]
    Person,
    Organization,
}

impl CustomerType {
    /// The wire name (`person`, `organization`).
    pub fn name(self) -> &'static str {
        match self {
            CustomerType::Person => "person",
            CustomerType::Organization => "organization",
        }
    }
}

macro_rules! entity_types {
    ($($variant:ident => $wire:literal),* $(,)?) => {
        /// `customer.organization_entity_type`: Klarna's closed list of legal forms.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum OrganizationEntityType { $($variant),* }

        impl OrganizationEntityType {
            pub const ALL: &'static [OrganizationEntityType] = &[$(OrganizationEntityType::$variant),*];

            pub fn wire_name(self) -> &'static str {
                match self { $(OrganizationEntityType::$variant => $wire),* }
            }
        }
    };
}

entity_types! {
    LimitedCompany => "LIMITED_COMPANY",
    PublicLimitedCompany => "PUBLIC_LIMITED_COMPANY",
    EntrepreneurialCompany => "ENTREPRENEURIAL_COMPANY",
    LimitedPartnershipLimitedCompany => "LIMITED_PARTNERSHIP_LIMITED_COMPANY",
    LimitedPartnership => "LIMITED_PARTNERSHIP",
    GeneralPartnership => "GENERAL_PARTNERSHIP",
    RegisteredSoleTrader => "REGISTERED_SOLE_TRADER",
    SoleTrader => "SOLE_TRADER",
    CivilLawPartnership => "CIVIL_LAW_PARTNERSHIP",
    PublicInstitution => "PUBLIC_INSTITUTION",
    Other => "OTHER",
}

impl OrganizationEntityType {
    pub fn from_wire_name(name: &str) -> Option<OrganizationEntityType> {
        Self::ALL.iter().copied().find(|t| t.wire_name() == name)
    }
}

// By hand over `wire_name`, so the eleven names are in the browser bundle once.
impl Serialize for OrganizationEntityType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.wire_name())
    }
}

impl<'de> Deserialize<'de> for OrganizationEntityType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::from_wire_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown legal form {name:?}")))
    }
}

/// On the wire a string, one of the eleven wire names.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for OrganizationEntityType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Self::ALL.iter().map(|t| t.wire_name())))
            .description(Some("Klarna's legal form of the organization."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for OrganizationEntityType {}

/// Klarna's `customer` object, the fields a B2B purchase uses. The same value goes into the
/// session (`type` only), `authorize()`, our order request and Klarna's create order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Customer {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CustomerType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_entity_type: Option<OrganizationEntityType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_registration_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
}

impl Customer {
    /// `{"type": "organization"}`: what a B2B session is created with.
    pub fn organization() -> Customer {
        Customer {
            kind: Some(CustomerType::Organization),
            ..Customer::default()
        }
    }

    pub fn is_organization(&self) -> bool {
        self.kind == Some(CustomerType::Organization)
    }

    /// Cleaned once before `authorize()`, for the billing `country`: trimmed, blanks left out,
    /// spaces removed from the VAT id and from a registration number whose national format has
    /// none. The order repeats the result byte for byte; cleaning it again changes nothing.
    pub fn cleaned(&self, country: Option<Country>) -> Customer {
        let clean = |v: &Option<String>, compact: bool| {
            v.as_deref()
                .map(|v| match compact {
                    true => v.split_whitespace().collect::<String>(),
                    false => v.trim().to_string(),
                })
                .filter(|v| !v.is_empty())
        };
        Customer {
            kind: self.kind,
            organization_entity_type: self.organization_entity_type,
            organization_registration_id: clean(
                &self.organization_registration_id,
                fixed_registration_format(country),
            ),
            vat_id: clean(&self.vat_id, true),
        }
    }
}

impl OrganizationEntityType {
    /// Whether the legal form needs a registration number: all but a sole trader and `OTHER`,
    /// who may be in no register (a German Kleingewerbe, an association).
    pub fn requires_registration(self) -> bool {
        !matches!(
            self,
            OrganizationEntityType::SoleTrader | OrganizationEntityType::Other
        )
    }
}

impl Country {
    /// Where Klarna (through Billie) sells to organizations.
    pub fn offers_b2b(self) -> bool {
        use Country::*;
        matches!(
            self,
            AT | CH | DE | DK | ES | FI | FR | GB | IT | NL | NO | SE
        )
    }
}

/// Our limit for `organization_registration_id` (Klarna states none).
pub const MAX_REGISTRATION_ID: usize = 50;

/// The organization's fields, in form order (company, legal form, registration number, VAT
/// id), each error naming Klarna's field. Lengths and characters of `organization_name` are
/// the address rules' ([`crate::validate_address`]); here it is required, in the billing
/// address and in a separate shipping address alike (Klarna refuses an order whose shipping
/// address lacks the name it authorized: WooCommerce #132).
pub fn validate_organization(
    billing: &Address,
    shipping: Option<&Address>,
    customer: &Customer,
) -> Vec<FieldError> {
    let country = Country::from_code(billing.country.trim());
    let mut errors = Vec::new();
    let mut push = |field: &str, problem| errors.push(FieldError::new(field, problem));
    for (prefix, address) in [
        ("billing_address", Some(billing)),
        ("shipping_address", shipping),
    ] {
        if address.is_some_and(|a| a.organization_name.trim().is_empty()) {
            push(
                &format!("{prefix}.organization_name"),
                FieldProblem::Required,
            );
        }
    }
    let customer = customer.cleaned(country);
    if customer.organization_entity_type.is_none() {
        push("customer.organization_entity_type", FieldProblem::Required);
    }
    let id = customer
        .organization_registration_id
        .as_deref()
        .unwrap_or_default();
    let required = customer
        .organization_entity_type
        .is_none_or(OrganizationEntityType::requires_registration);
    if let Some(problem) = if id.is_empty() {
        required.then_some(FieldProblem::Required)
    } else if id.chars().count() > MAX_REGISTRATION_ID {
        Some(FieldProblem::TooLong {
            max: MAX_REGISTRATION_ID,
        })
    } else {
        (!registration_fits(country, id)).then_some(FieldProblem::InvalidRegistrationId)
    } {
        push("customer.organization_registration_id", problem);
    }
    let vat = customer.vat_id.as_deref().unwrap_or_default();
    if !vat.is_empty() && !vat_fits(country, vat) {
        push("customer.vat_id", FieldProblem::InvalidVatId);
    }
    errors
}

/// `#` a digit, `@` a letter, `?` either; anything else literal (case-insensitive).
fn fits(value: &str, shape: &str) -> bool {
    value.len() == shape.len()
        && value.bytes().zip(shape.bytes()).all(|(v, s)| match s {
            b'#' => v.is_ascii_digit(),
            b'@' => v.is_ascii_alphabetic(),
            b'?' => v.is_ascii_alphanumeric(),
            lit => v.eq_ignore_ascii_case(&lit),
        })
}

/// Countries whose registration numbers have a fixed shape without spaces (checked and sent
/// without the spaces a shopper may type, "923 609 016").
fn fixed_registration_format(country: Option<Country>) -> bool {
    use Country::*;
    matches!(country, Some(SE | NO | FR | FI | DK | NL | GB))
}

/// National company numbers where their shape is fixed (spaces already removed): SE
/// organisationsnummer or a sole trader's personnummer with the century (Luhn on the last ten
/// digits), NO organisasjonsnummer, FI Y-tunnus, DK CVR, NL KvK, GB Companies House, FR SIREN
/// or SIRET.
fn registration_fits(country: Option<Country>, id: &str) -> bool {
    use Country::*;
    let shapes: &[&str] = match country {
        Some(SE) => &["######-####", "##########", "########-####", "############"],
        Some(NO) => &["#########"],
        Some(FR) => &["#########", "##############"],
        Some(FI) => &["#######-#"],
        Some(DK) | Some(NL) => &["########"],
        Some(GB) => &["########", "@@######"],
        _ => {
            return id.chars().any(|c| c.is_ascii_digit())
                && id
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '.' | '/'));
        }
    };
    let century = id.len() < 12 || id.starts_with("19") || id.starts_with("20");
    shapes.iter().any(|s| fits(id, s)) && (country != Some(SE) || (century && luhn(id)))
}

/// The Luhn check over the last ten digits (a Swedish personnummer's century is not part of it).
fn luhn(number: &str) -> bool {
    let sum: u32 = number
        .bytes()
        .filter(u8::is_ascii_digit)
        .rev()
        .take(10)
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 1 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The billing country's VAT number format (the European Commission's VIES list, NO's `MVA`
/// and CH's UID with its language suffix); elsewhere the country prefix and 2 to 13 letters
/// or digits.
fn vat_fits(country: Option<Country>, vat: &str) -> bool {
    let Some(country) = country else {
        return false;
    };
    match vat_shapes(country) {
        Some(shapes) => shapes.iter().any(|s| fits(vat, s)),
        None => {
            let rest = vat.get(2..).unwrap_or_default();
            vat.get(..2)
                .is_some_and(|p| p.eq_ignore_ascii_case(vat_prefix(country)))
                && (2..=13).contains(&rest.len())
                && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        }
    }
}

fn vat_prefix(country: Country) -> &'static str {
    if country == Country::GR {
        "EL"
    } else {
        country.code()
    }
}

fn vat_shapes(country: Country) -> Option<&'static [&'static str]> {
    use Country::*;
    Some(match country {
        AT => &["ATU########"],
        CH => &["CHE#########MWST", "CHE#########TVA", "CHE#########IVA"],
        DE => &["DE#########"],
        DK => &["DK########"],
        ES => &["ES?#######?"],
        FI => &["FI########"],
        FR => &["FR??#########"],
        GB => &["GB#########", "GB############"],
        IT => &["IT###########"],
        NL => &["NL#########B##"],
        NO => &["NO#########MVA"],
        SE => &["SE##########01"],
        _ => return None,
    })
}

/// A VAT id in the country's format, to show the shopper before an error does (`DE123456789`,
/// `NL123456789B01`): digits counting up from 1.
pub fn vat_example(country: Country) -> String {
    let shape = match vat_shapes(country) {
        Some(shapes) => shapes[0],
        None => return format!("{}123456789", vat_prefix(country)),
    };
    let mut digit = 0;
    shape
        .chars()
        .map(|c| match c {
            '#' | '?' => {
                digit = (digit + 1) % 10;
                char::from(b'0' + digit)
            }
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests;
