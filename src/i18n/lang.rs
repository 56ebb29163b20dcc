//! The languages the component speaks: every Klarna market's. Separate from `klarna::Lang`,
//! the two languages the server and the sandbox write their own sentences in, and from
//! Klarna's `locale`, which the server picks from Klarna's list for the purchase country.

/// A language of the component's texts (ISO 639-1). Formatting (money, dates) follows the
/// full locale instead, so `en-US` is English texts with US formatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    En,
    De,
    Sv,
    Nb,
    Da,
    Fi,
    Nl,
    Fr,
    It,
    Es,
    Pl,
    Pt,
    Cs,
    El,
    Ro,
    Hu,
    Sk,
}

impl Lang {
    pub const ALL: [Lang; 17] = [
        Lang::En,
        Lang::De,
        Lang::Sv,
        Lang::Nb,
        Lang::Da,
        Lang::Fi,
        Lang::Nl,
        Lang::Fr,
        Lang::It,
        Lang::Es,
        Lang::Pl,
        Lang::Pt,
        Lang::Cs,
        Lang::El,
        Lang::Ro,
        Lang::Hu,
        Lang::Sk,
    ];

    /// ISO 639-1 code; also the catalog's file name (`sv.txt`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Sv => "sv",
            Lang::Nb => "nb",
            Lang::Da => "da",
            Lang::Fi => "fi",
            Lang::Nl => "nl",
            Lang::Fr => "fr",
            Lang::It => "it",
            Lang::Es => "es",
            Lang::Pl => "pl",
            Lang::Pt => "pt",
            Lang::Cs => "cs",
            Lang::El => "el",
            Lang::Ro => "ro",
            Lang::Hu => "hu",
            Lang::Sk => "sk",
        }
    }

    /// The language of a BCP 47 tag (`sv`, `sv-SE`, `de_AT`), if we speak it. Norwegian
    /// (`no`, `nn`) reads as Bokmål, the written standard Klarna's Norwegian market uses.
    pub fn of_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        let primary = match primary.as_str() {
            "no" | "nn" => "nb",
            other => other,
        };
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// CLDR's cardinal plural categories, as `new Intl.PluralRules(code).resolvedOptions()
    /// .pluralCategories` lists them (sorted): the forms a plural text needs in a catalog.
    pub fn plural_categories(self) -> &'static [&'static str] {
        match self {
            Lang::Fr | Lang::It | Lang::Es | Lang::Pt => &["many", "one", "other"],
            Lang::Pl | Lang::Cs | Lang::Sk => &["few", "many", "one", "other"],
            Lang::Ro => &["few", "one", "other"],
            _ => &["one", "other"],
        }
    }

    /// As [`Lang::of_tag`], English for a language we do not speak.
    pub fn of(tag: &str) -> Lang {
        Lang::of_tag(tag).unwrap_or(Lang::En)
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn tags_name_languages() {
        assert_eq!(Lang::of_tag("sv-SE"), Some(Lang::Sv));
        assert_eq!(Lang::of_tag("DE_at"), Some(Lang::De));
        assert_eq!(Lang::of_tag("no-NO"), Some(Lang::Nb));
        assert_eq!(Lang::of_tag("ja-JP"), None);
        assert_eq!(Lang::of("en-US"), Lang::En);
        assert_eq!(Lang::of(""), Lang::En);
        for l in Lang::ALL {
            assert_eq!(Lang::of_tag(l.code()), Some(l));
        }
    }
}
