//! The organization rules: what passes, what is named, how values are cleaned.

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
    assert!(vat("DE", "DE 123456789").is_empty());
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
    assert!(serde_json::from_str::<Customer>(r#"{"organization_entity_type":"GMBH"}"#).is_err());
    for t in OrganizationEntityType::ALL {
        assert_eq!(
            OrganizationEntityType::from_wire_name(t.wire_name()),
            Some(*t)
        );
    }
    assert_eq!(OrganizationEntityType::ALL.len(), 11);
}

#[test]
fn cleaned_drops_blanks_and_spaces_where_the_format_has_none() {
    let c = Customer {
        vat_id: Some("  ".into()),
        organization_registration_id: Some(" HRB 1 ".into()),
        ..Customer::organization()
    };
    let t = c.cleaned(Some(Country::DE));
    assert_eq!(t.vat_id, None);
    assert_eq!(t.organization_registration_id.as_deref(), Some("HRB 1"));
    let c = Customer {
        vat_id: Some(" NO 923 609 016 MVA ".into()),
        organization_registration_id: Some(" 923 609 016 ".into()),
        ..Customer::organization()
    };
    let t = c.cleaned(Some(Country::NO));
    assert_eq!(t.vat_id.as_deref(), Some("NO923609016MVA"));
    assert_eq!(t.organization_registration_id.as_deref(), Some("923609016"));
    assert_eq!(t.cleaned(Some(Country::NO)), t);
}

#[test]
fn a_sole_trader_may_have_no_registration_number() {
    for (kind, required) in [
        (OrganizationEntityType::SoleTrader, false),
        (OrganizationEntityType::Other, false),
        (OrganizationEntityType::RegisteredSoleTrader, true),
        (OrganizationEntityType::LimitedCompany, true),
    ] {
        let c = Customer {
            organization_entity_type: Some(kind),
            organization_registration_id: Some(" ".into()),
            ..Customer::organization()
        };
        let errors = fields(validate_organization(&company("DE"), None, &c));
        let named = errors == vec!["customer.organization_registration_id"];
        assert_eq!(named, required, "{kind:?}: {errors:?}");
        assert_eq!(kind.requires_registration(), required);
        // One given is still checked.
        let c = Customer {
            organization_registration_id: Some("HRB".into()),
            ..c
        };
        assert_eq!(
            fields(validate_organization(&company("DE"), None, &c)),
            vec!["customer.organization_registration_id"]
        );
    }
}

#[test]
fn siret_personnummer_and_spaces_are_accepted() {
    let ok = |c: &str, id: &str, vat: Option<&str>| {
        let e = validate_organization(&company(c), None, &customer(id, vat));
        assert!(e.is_empty(), "{c} {id} {vat:?}: {e:?}");
    };
    ok("FR", "732829320", Some("FR44732829320"));
    ok("FR", "732 829 320 00074", Some("FR 44 732829320"));
    ok("FR", "73282932000074", None);
    // An enskild firma: the owner's personnummer with the century, Luhn on the last ten.
    ok("SE", "19811218-9876", None);
    ok("SE", "198112189876", None);
    ok("SE", "556737 0431", Some("SE 5567 3704 3101"));
    ok("NO", "923 609 016", None);
    ok("DE", "HRB 12345", Some("DE 123 456 789"));
    let bad = |c: &str, id: &str| {
        assert_eq!(
            fields(validate_organization(
                &company(c),
                None,
                &customer(id, None)
            )),
            vec!["customer.organization_registration_id"],
            "{c} {id}"
        );
    };
    bad("SE", "19811218-9875");
    bad("SE", "18811218-9876");
    bad("FR", "7328293200007");
    bad("FR", "732829320000745");
}

#[test]
fn vat_examples_fit_their_country() {
    assert_eq!(vat_example(Country::DE), "DE123456789");
    assert_eq!(vat_example(Country::NL), "NL123456789B01");
    assert_eq!(vat_example(Country::GR), "EL123456789");
    for c in [
        Country::AT,
        Country::CH,
        Country::DE,
        Country::DK,
        Country::ES,
        Country::FI,
        Country::FR,
        Country::GB,
        Country::GR,
        Country::IT,
        Country::NL,
        Country::NO,
        Country::SE,
    ] {
        assert!(vat_fits(Some(c), &vat_example(c)), "{c:?}");
    }
}
