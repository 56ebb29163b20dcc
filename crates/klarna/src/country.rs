//! The purchase countries Klarna Payments serves, with what each implies: currency, the
//! locales Klarna accepts there, API region, whether a region (state) is mandatory,
//! postal-code shapes.

use crate::money::Currency;
use serde::{Deserialize, Serialize};

/// Klarna's three API regions; credentials are per region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    Eu,
    Na,
    Oc,
}

impl Region {
    /// The host infix Klarna uses: `api{infix}.klarna.com`.
    pub fn host_infix(self) -> &'static str {
        match self {
            Region::Eu => "",
            Region::Na => "-na",
            Region::Oc => "-oc",
        }
    }
}

macro_rules! countries {
    ($( $code:ident => $name:literal, $currency:ident, [$($locale:literal),+], $region:ident, [$($postal:literal),*] );* $(;)?) => {
        /// ISO 3166-1 alpha-2 codes of the countries Klarna Payments sells in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum Country { $($code),* }

        impl Country {
            pub const ALL: &'static [Country] = &[$(Country::$code),*];

            pub fn code(self) -> &'static str {
                match self { $(Country::$code => stringify!($code)),* }
            }

            /// English name, used as the fallback label of the country picker.
            pub fn name(self) -> &'static str {
                match self { $(Country::$code => $name),* }
            }

            pub fn currency(self) -> Currency {
                match self { $(Country::$code => Currency::$currency),* }
            }

            /// The locales Klarna accepts for this purchase country, the country's own language
            /// first. Klarna refuses any other with `400 BAD_VALUE: locale` (contract §0).
            pub fn locales(self) -> &'static [&'static str] {
                match self { $(Country::$code => &[$($locale),+]),* }
            }

            pub fn region(self) -> Region {
                match self { $(Country::$code => Region::$region),* }
            }

            /// Postal-code shapes: `9` a digit, `A` a letter, other characters literal;
            /// a space in a shape may be left out by the shopper.
            pub fn postal_shapes(self) -> &'static [&'static str] {
                match self { $(Country::$code => &[$($postal),*]),* }
            }
        }
    };
}

countries! {
    AT => "Austria", EUR, ["de-AT", "en-AT"], Eu, ["9999"];
    BE => "Belgium", EUR, ["nl-BE", "fr-BE", "en-BE"], Eu, ["9999"];
    CH => "Switzerland", CHF, ["de-CH", "fr-CH", "it-CH", "en-CH"], Eu, ["9999"];
    CZ => "Czechia", CZK, ["cs-CZ", "en-CZ"], Eu, ["999 99"];
    DE => "Germany", EUR, ["de-DE", "en-DE"], Eu, ["99999"];
    DK => "Denmark", DKK, ["da-DK", "en-DK"], Eu, ["9999"];
    ES => "Spain", EUR, ["es-ES", "en-ES"], Eu, ["99999"];
    FI => "Finland", EUR, ["fi-FI", "sv-FI", "en-FI"], Eu, ["99999"];
    FR => "France", EUR, ["fr-FR", "en-FR"], Eu, ["99999"];
    GB => "United Kingdom", GBP, ["en-GB"], Eu, ["A9 9AA", "A99 9AA", "AA9 9AA", "AA99 9AA", "A9A 9AA", "AA9A 9AA"];
    GR => "Greece", EUR, ["el-GR", "en-GR"], Eu, ["999 99"];
    HU => "Hungary", HUF, ["hu-HU", "en-HU"], Eu, ["9999"];
    IE => "Ireland", EUR, ["en-IE"], Eu, ["A99 AAAA", "A9A AAAA"];
    IT => "Italy", EUR, ["it-IT", "en-IT"], Eu, ["99999"];
    NL => "Netherlands", EUR, ["nl-NL", "en-NL"], Eu, ["9999 AA"];
    NO => "Norway", NOK, ["nb-NO", "en-NO"], Eu, ["9999"];
    PL => "Poland", PLN, ["pl-PL", "en-PL"], Eu, ["99-999"];
    PT => "Portugal", EUR, ["pt-PT", "en-PT"], Eu, ["9999-999"];
    RO => "Romania", RON, ["ro-RO", "en-RO"], Eu, ["999999"];
    SE => "Sweden", SEK, ["sv-SE", "en-SE"], Eu, ["999 99"];
    US => "United States", USD, ["en-US", "es-US"], Na, ["99999", "99999-9999"];
    CA => "Canada", CAD, ["en-CA", "fr-CA"], Na, ["A9A 9A9"];
    AU => "Australia", AUD, ["en-AU"], Oc, ["9999"];
    NZ => "New Zealand", NZD, ["en-NZ"], Oc, ["9999"];
}

impl Country {
    /// Case-insensitive lookup of an alpha-2 code.
    pub fn from_code(code: &str) -> Option<Country> {
        Country::ALL
            .iter()
            .copied()
            .find(|c| c.code().eq_ignore_ascii_case(code))
    }

    /// Klarna requires `region` (ISO 3166-2 subdivision) in these countries.
    pub fn requires_region(self) -> bool {
        matches!(self, Country::US | Country::AU)
    }

    /// US merchants send tax as its own `sales_tax` line instead of per-line VAT.
    pub fn uses_sales_tax(self) -> bool {
        self == Country::US
    }

    /// Klarna's locale check: only the listed locales of the purchase country pass
    /// (`de-DE` and `en-DE` for DE; `de-FR` nowhere).
    pub fn accepts_locale(self, locale: &str) -> bool {
        self.locales()
            .iter()
            .any(|l| l.eq_ignore_ascii_case(locale))
    }

    /// The locale to ask Klarna for when a shopper reading `language` (an ISO 639-1 code)
    /// buys in this country: their language where Klarna offers it here, else English, else
    /// the country's own language.
    pub fn klarna_locale(self, language: &str) -> &'static str {
        let of = |lang: &str| {
            self.locales().iter().copied().find(|l| {
                l.split('-')
                    .next()
                    .is_some_and(|p| p.eq_ignore_ascii_case(lang))
            })
        };
        of(language)
            .or_else(|| of("en"))
            .unwrap_or(self.locales()[0])
    }

    pub fn postal_code_fits(self, postal_code: &str) -> bool {
        self.postal_shapes()
            .iter()
            .any(|shape| fits_shape(postal_code, shape))
    }
}

fn fits_shape(value: &str, shape: &str) -> bool {
    let mut value = value.chars().peekable();
    for s in shape.chars() {
        match (s, value.peek().copied()) {
            (' ', Some(' ')) => {
                value.next();
            }
            (' ', _) => {}
            ('9', Some(v)) if v.is_ascii_digit() => {
                value.next();
            }
            ('A', Some(v)) if v.is_ascii_alphabetic() => {
                value.next();
            }
            (lit, Some(v)) if lit != '9' && lit != 'A' && lit == v => {
                value.next();
            }
            _ => return false,
        }
    }
    value.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_codes_per_country() {
        assert!(Country::DE.postal_code_fits("10115"));
        assert!(!Country::DE.postal_code_fits("1011"));
        assert!(!Country::DE.postal_code_fits("10115 "));
        assert!(Country::SE.postal_code_fits("123 45"));
        assert!(Country::SE.postal_code_fits("12345"));
        assert!(Country::GB.postal_code_fits("SW1A 1AA"));
        assert!(Country::GB.postal_code_fits("m1 1ae"));
        assert!(!Country::GB.postal_code_fits("12345"));
        assert!(Country::US.postal_code_fits("94105-1234"));
        assert!(Country::NL.postal_code_fits("1012 AB"));
        assert!(Country::PL.postal_code_fits("00-950"));
        assert!(!Country::PL.postal_code_fits("00950"));
        assert!(Country::CA.postal_code_fits("K1A 0B1"));
    }

    #[test]
    fn locale_must_be_one_klarna_lists_for_the_country() {
        assert!(Country::DE.accepts_locale("de-DE"));
        assert!(Country::DE.accepts_locale("en-DE"));
        assert!(!Country::DE.accepts_locale("de-AT"));
        assert!(!Country::DE.accepts_locale("de"));
        // Well-formed, right region, but not on Klarna's list: refused.
        assert!(!Country::FR.accepts_locale("de-FR"));
        assert!(!Country::GB.accepts_locale("de-GB"));
        for c in Country::ALL {
            for l in c.locales() {
                assert!(c.accepts_locale(l), "{c:?} {l}");
                assert!(l.ends_with(c.code()), "{c:?} {l}");
            }
        }
    }

    #[test]
    fn a_shoppers_language_maps_to_a_locale_klarna_allows() {
        assert_eq!(Country::FR.klarna_locale("de"), "en-FR");
        assert_eq!(Country::FR.klarna_locale("fr"), "fr-FR");
        assert_eq!(Country::BE.klarna_locale("FR"), "fr-BE");
        assert_eq!(Country::FI.klarna_locale("sv"), "sv-FI");
        assert_eq!(Country::CH.klarna_locale("it"), "it-CH");
        assert_eq!(Country::GB.klarna_locale("de"), "en-GB");
        assert_eq!(Country::US.klarna_locale("es"), "es-US");
        for c in Country::ALL {
            for lang in ["de", "en", "xx", ""] {
                assert!(c.accepts_locale(c.klarna_locale(lang)), "{c:?} {lang}");
            }
        }
    }
}
