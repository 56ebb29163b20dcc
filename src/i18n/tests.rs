//! Completeness, natively (`cargo test -p klarna-checkout --lib`): every language's catalog has
//! exactly English's keys, the same placeholders in every text, exactly the plural forms CLDR
//! (and so `Intl.PluralRules`) has for that language, and every key the code asks for.

use super::catalog::parse;
use super::{Lang, Text};
use klarna::{AddressField, FieldProblem, OrganizationEntityType};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|s| s.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

/// A key without its plural category, and the category (`days.few` → `days`, `few`), when
/// its base is one of `plurals` (`legal_form.other` is no plural).
fn split_plural<'a>(key: &'a str, plurals: &[&str]) -> (&'a str, Option<&'a str>) {
    match key.rsplit_once('.') {
        Some((base, cat)) if CATEGORIES.contains(&cat) && plurals.contains(&base) => {
            (base, Some(cat))
        }
        _ => (key, None),
    }
}

/// The catalog `dir/<lang>.txt` as key → text.
fn read(dir: &str, lang: Lang) -> BTreeMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(dir)
        .join(format!("{}.txt", lang.code()));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let entries = parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let map: BTreeMap<String, String> = entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        map.len(),
        entries.len(),
        "{}: a key given twice",
        path.display()
    );
    map
}

/// Checks every language of the catalogs in `dir` against English, and English against the
/// keys the code uses (`code_keys`; the plural ones, `plurals`, by their base: `days` for
/// `days.one`, …). Returns every problem found, so one run names them all.
pub fn problems(dir: &str, code_keys: &[String], plurals: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let files: BTreeSet<String> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
    let expected: BTreeSet<String> = Lang::ALL
        .iter()
        .map(|l| format!("{}.txt", l.code()))
        .collect();
    if files != expected {
        out.push(format!(
            "{dir}: files {files:?}, expected one per language {expected:?}"
        ));
    }
    let en = read(dir, Lang::En);
    // Reference: each key (plural keys by base) with its placeholders.
    let reference: BTreeMap<&str, BTreeSet<String>> = en
        .iter()
        .map(|(k, v)| (split_plural(k, plurals).0, placeholders(v)))
        .collect();
    for key in code_keys {
        if !reference.contains_key(key.as_str()) {
            out.push(format!("{dir}/en.txt: no key {key:?}, which the code uses"));
        }
    }
    for key in reference.keys() {
        if !code_keys.iter().any(|k| k == key) {
            out.push(format!(
                "{dir}/en.txt: key {key:?} is used nowhere in the code"
            ));
        }
    }
    for lang in Lang::ALL {
        let file = format!("{dir}/{}.txt", lang.code());
        let catalog = read(dir, lang);
        let mut forms: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (key, text) in &catalog {
            let (base, category) = split_plural(key, plurals);
            if let Some(c) = category {
                forms.entry(base).or_default().insert(c);
            }
            if text.is_empty() {
                out.push(format!("{file}: {key} is empty"));
            }
            match reference.get(base) {
                None => out.push(format!("{file}: extra key {key:?}")),
                Some(p) if *p != placeholders(text) => out.push(format!(
                    "{file}: {key} has placeholders {:?}, English {p:?}",
                    placeholders(text)
                )),
                Some(_) => {}
            }
        }
        for base in reference.keys() {
            let plural_in_en = plurals.contains(base);
            let want: BTreeSet<&str> = lang.plural_categories().iter().copied().collect();
            match (plural_in_en, forms.get(base)) {
                (false, _) if !catalog.contains_key(*base) => {
                    out.push(format!("{file}: missing key {base:?}"))
                }
                (true, got) if got != Some(&want) => out.push(format!(
                    "{file}: {base} has plural forms {got:?}, {} needs exactly {want:?}",
                    lang.code()
                )),
                _ => {}
            }
        }
    }
    out
}

/// Every problem a field can have: a new variant fails to compile here until it has a text.
fn problem_codes() -> Vec<&'static str> {
    use FieldProblem::*;
    let all = [
        Required,
        TooLong { max: 1 },
        TooShort,
        OnlyDigits,
        InvalidCharacters,
        InvalidStreetCharacters,
        InvalidEmail,
        InvalidPhone,
        InvalidPostalCode,
        UnsupportedCountry,
        InvalidRegistrationId,
        InvalidVatId,
        RejectedByKlarna,
        Invalid,
        NotFound,
    ];
    all.iter()
        .map(|p| match p {
            Required
            | TooLong { .. }
            | TooShort
            | OnlyDigits
            | InvalidCharacters
            | InvalidStreetCharacters
            | InvalidEmail
            | InvalidPhone
            | InvalidPostalCode
            | UnsupportedCountry
            | InvalidRegistrationId
            | InvalidVatId
            | RejectedByKlarna
            | Invalid
            | NotFound => p.code(),
        })
        .collect()
}

#[test]
fn every_language_has_every_checkout_text() {
    let mut keys: Vec<String> = Text::ALL.iter().map(|t| t.key().to_string()).collect();
    let company_fields = [
        "organization_entity_type",
        "organization_registration_id",
        "vat_id",
    ];
    keys.extend(
        AddressField::ALL
            .iter()
            .map(|f| f.wire_name())
            .chain(company_fields)
            .map(|f| format!("field.{f}")),
    );
    keys.extend(problem_codes().into_iter().map(|c| format!("problem.{c}")));
    keys.extend(
        OrganizationEntityType::ALL
            .iter()
            .map(|k| format!("legal_form.{}", k.wire_name().to_ascii_lowercase())),
    );
    let found = problems("i18n/checkout", &keys, &[]);
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}

#[test]
fn placeholders_are_read_between_braces() {
    assert_eq!(
        placeholders("Höchstens {max} Zeichen, {n}"),
        ["max".to_string(), "n".into()].into()
    );
    let plurals = ["sync.pages"];
    assert_eq!(
        split_plural("sync.pages.few", &plurals),
        ("sync.pages", Some("few"))
    );
    assert_eq!(
        split_plural("legal_form.other", &plurals),
        ("legal_form.other", None)
    );
}
