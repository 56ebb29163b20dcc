//! The purchase countries Klarna Payments serves, with what each implies: currency,
//! default locale, API region, whether a region (state) is mandatory, postal-code shapes.

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
    ($( $code:ident => $name:literal, $currency:ident, $locale:literal, $region:ident, [$($postal:literal),*] );* $(;)?) => {
        /// ISO 3166-1 alpha-2 codes of the countries Klarna Payments sells in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

            pub fn default_locale(self) -> &'static str {
                match self { $(Country::$code => $locale),* }
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
    AT => "Austria", EUR, "de-AT", Eu, ["9999"];
    BE => "Belgium", EUR, "nl-BE", Eu, ["9999"];
    CH => "Switzerland", CHF, "de-CH", Eu, ["9999"];
    CZ => "Czechia", CZK, "cs-CZ", Eu, ["999 99"];
    DE => "Germany", EUR, "de-DE", Eu, ["99999"];
    DK => "Denmark", DKK, "da-DK", Eu, ["9999"];
    ES => "Spain", EUR, "es-ES", Eu, ["99999"];
    FI => "Finland", EUR, "fi-FI", Eu, ["99999"];
    FR => "France", EUR, "fr-FR", Eu, ["99999"];
    GB => "United Kingdom", GBP, "en-GB", Eu, ["A9 9AA", "A99 9AA", "AA9 9AA", "AA99 9AA", "A9A 9AA", "AA9A 9AA"];
    GR => "Greece", EUR, "el-GR", Eu, ["999 99"];
    HU => "Hungary", HUF, "hu-HU", Eu, ["9999"];
    IE => "Ireland", EUR, "en-IE", Eu, ["A99 AAAA", "A9A AAAA"];
    IT => "Italy", EUR, "it-IT", Eu, ["99999"];
    NL => "Netherlands", EUR, "nl-NL", Eu, ["9999 AA"];
    NO => "Norway", NOK, "nb-NO", Eu, ["9999"];
    PL => "Poland", PLN, "pl-PL", Eu, ["99-999"];
    PT => "Portugal", EUR, "pt-PT", Eu, ["9999-999"];
    RO => "Romania", RON, "ro-RO", Eu, ["999999"];
    SE => "Sweden", SEK, "sv-SE", Eu, ["999 99"];
    US => "United States", USD, "en-US", Na, ["99999", "99999-9999"];
    CA => "Canada", CAD, "en-CA", Na, ["A9A 9A9"];
    AU => "Australia", AUD, "en-AU", Oc, ["9999"];
    NZ => "New Zealand", NZD, "en-NZ", Oc, ["9999"];
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

    /// Klarna checks that the locale fits the purchase country: the locale's region
    /// subtag must be this country (`de-AT` for AT; `en-AT` is fine too, `de-DE` is not).
    pub fn accepts_locale(self, locale: &str) -> bool {
        let mut parts = locale.split('-');
        let language = parts.next().unwrap_or_default();
        let region = parts.next().unwrap_or_default();
        language.len() == 2
            && language.chars().all(|c| c.is_ascii_alphabetic())
            && region.eq_ignore_ascii_case(self.code())
            && parts.next().is_none()
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
    fn locale_must_fit_country() {
        assert!(Country::DE.accepts_locale("de-DE"));
        assert!(Country::DE.accepts_locale("en-DE"));
        assert!(!Country::DE.accepts_locale("de-AT"));
        assert!(!Country::DE.accepts_locale("de"));
        for c in Country::ALL {
            assert!(c.accepts_locale(c.default_locale()), "{c:?}");
        }
    }
}
