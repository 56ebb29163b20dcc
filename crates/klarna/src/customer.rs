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
//! Where Klarna is silent we decided, strictest-first: the registration number is always
//! required (Adyen's Billie guide requires it in NL and SE; a Billie buyer must be
//! identifiable everywhere), at most 50 characters, with the national format checked where it
//! is fixed (SE with its Luhn digit, NO, FI, DK, NL, GB, FR) and letters, digits and `-./` plus
//! a digit elsewhere (DE "HRB 12345", AT "FN 123456a"); the VAT id is optional, but when given
//! it must be the billing country's (`EL` for Greece) in that country's format, without spaces.

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

    /// Trimmed once before `authorize()`, blanks left out: the order repeats it byte for byte.
    pub fn trimmed(&self) -> Customer {
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        Customer {
            kind: self.kind,
            organization_entity_type: self.organization_entity_type,
            organization_registration_id: clean(&self.organization_registration_id),
            vat_id: clean(&self.vat_id),
        }
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
    if customer.organization_entity_type.is_none() {
        push("customer.organization_entity_type", FieldProblem::Required);
    }
    let id = customer
        .organization_registration_id
        .as_deref()
        .unwrap_or_default()
        .trim();
    if let Some(problem) = if id.is_empty() {
        Some(FieldProblem::Required)
    } else if id.chars().count() > MAX_REGISTRATION_ID {
        Some(FieldProblem::TooLong {
            max: MAX_REGISTRATION_ID,
        })
    } else {
        (!registration_fits(country, id)).then_some(FieldProblem::InvalidRegistrationId)
    } {
        push("customer.organization_registration_id", problem);
    }
    let vat = customer.vat_id.as_deref().unwrap_or_default().trim();
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

/// National company numbers where their shape is fixed: SE organisationsnummer (Luhn), NO
/// organisasjonsnummer, FI Y-tunnus, DK CVR, NL KvK, GB Companies House, FR SIREN.
fn registration_fits(country: Option<Country>, id: &str) -> bool {
    use Country::*;
    let shapes: &[&str] = match country {
        Some(SE) => &["######-####", "##########"],
        Some(NO) | Some(FR) => &["#########", "### ### ###"],
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
    shapes.iter().any(|s| fits(id, s)) && (country != Some(SE) || luhn(id))
}

fn luhn(number: &str) -> bool {
    let sum: u32 = number
        .bytes()
        .filter(u8::is_ascii_digit)
        .rev()
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
    use Country::*;
    let Some(country) = country else {
        return false;
    };
    let shapes: &[&str] = match country {
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
        _ => {
            let prefix = if country == GR { "EL" } else { country.code() };
            let rest = vat.get(2..).unwrap_or_default();
            return vat.get(..2).is_some_and(|p| p.eq_ignore_ascii_case(prefix))
                && (2..=13).contains(&rest.len())
                && rest.bytes().all(|b| b.is_ascii_alphanumeric());
        }
    };
    shapes.iter().any(|s| fits(vat, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(country: &str) -> Address {
        Address {
            organization_name: "Nordlicht Bürobedarf GmbH".into(),
            country: country.into(),
            ..Address::default()
        }
    }

    fn customer(id: &str, vat: Option<&str>) -> Customer {
        Customer {
            kind: Some(CustomerType::Organization),
            organization_entity_type: Some(OrganizationEntityType::LimitedCompany),
            organization_registration_id: Some(id.into()),
            vat_id: vat.map(Into::into),
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_organization_passes() {
        let ok = |c: &str, id: &str, vat: Option<&str>| {
            let e = validate_organization(&company(c), None, &customer(id, vat));
            assert!(e.is_empty(), "{c} {id} {vat:?}: {e:?}");
        };
        ok("DE", "HRB 12345", Some("DE123456789"));
        ok("DE", "HRB 12345", None);
        ok("AT", "FN 123456a", Some("ATU12345678"));
        ok("SE", "556737-0431", Some("SE556737043101"));
        ok("SE", "5567370431", None);
        ok("NO", "923 609 016", Some("NO923609016MVA"));
        ok("FI", "1234567-8", Some("FI12345678"));
        ok("NL", "12345678", Some("NL123456789B01"));
        ok("GB", "SC123456", Some("GB123456789"));
        ok("CH", "CHE-123.456.789", Some("CHE123456789MWST"));
    }

    #[test]
    fn missing_fields_are_named_in_form_order() {
        let mut billing = company("DE");
        billing.organization_name = "  ".into();
        let shipping = Address::default();
        let errors = validate_organization(&billing, Some(&shipping), &Customer::organization());
        assert_eq!(
            fields(errors.clone()),
            vec![
                "billing_address.organization_name",
                "shipping_address.organization_name",
                "customer.organization_entity_type",
                "customer.organization_registration_id",
            ]
        );
        assert!(errors.iter().all(|e| e.problem == FieldProblem::Required));
    }

    #[test]
    fn registration_numbers_follow_the_country() {
        let problem = |c: &str, id: &str| {
            validate_organization(&company(c), None, &customer(id, None))
                .into_iter()
                .map(|e| e.problem)
                .next()
        };
        // Luhn: 556737-0431 is Klarna's own; the last digit changed breaks it.
        assert_eq!(
            problem("SE", "556737-0432"),
            Some(FieldProblem::InvalidRegistrationId)
        );
        assert_eq!(
            problem("NO", "92360901"),
            Some(FieldProblem::InvalidRegistrationId)
        );
        assert_eq!(
            problem("DE", "HRB"),
            Some(FieldProblem::InvalidRegistrationId)
        );
        assert_eq!(
            problem("DE", "HRB <12345>"),
            Some(FieldProblem::InvalidRegistrationId)
        );
        assert_eq!(
            problem("DE", &"1".repeat(51)),
            Some(FieldProblem::TooLong { max: 50 })
        );
    }

    #[test]
    fn a_vat_id_must_be_the_billing_countrys() {
        let vat = |c: &str, v: &str| {
            fields(validate_organization(
                &company(c),
                None,
                &customer("12345678", Some(v)),
            ))
        };
        assert_eq!(vat("DE", "ATU12345678"), vec!["customer.vat_id"]);
        assert_eq!(vat("DE", "DE 123456789"), vec!["customer.vat_id"]);
        assert_eq!(vat("DE", "DE12345678"), vec!["customer.vat_id"]);
        assert!(vat("DE", "de123456789").is_empty());
        assert!(vat("GR", "EL123456789").is_empty());
        assert_eq!(vat("GR", "GR123456789"), vec!["customer.vat_id"]);
    }

    #[test]
    fn wire_form_is_klarnas() {
        let c = customer("HRB 12345", None);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({
                "type": "organization",
                "organization_entity_type": "LIMITED_COMPANY",
                "organization_registration_id": "HRB 12345"
            })
        );
        assert_eq!(
            serde_json::to_string(&Customer::organization()).unwrap(),
            r#"{"type":"organization"}"#
        );
        let back: Customer = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        assert!(
            serde_json::from_str::<Customer>(r#"{"organization_entity_type":"GMBH"}"#).is_err()
        );
        for t in OrganizationEntityType::ALL {
            assert_eq!(
                OrganizationEntityType::from_wire_name(t.wire_name()),
                Some(*t)
            );
        }
        assert_eq!(OrganizationEntityType::ALL.len(), 11);
    }

    #[test]
    fn trimmed_drops_blanks() {
        let c = Customer {
            vat_id: Some("  ".into()),
            organization_registration_id: Some(" HRB 1 ".into()),
            ..Customer::organization()
        };
        let t = c.trimmed();
        assert_eq!(t.vat_id, None);
        assert_eq!(t.organization_registration_id.as_deref(), Some("HRB 1"));
    }
}
