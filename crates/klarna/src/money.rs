//! Money is always an integer count of minor units; the exponent says where the decimal point is.

use serde::{Deserialize, Serialize};

/// The currencies Klarna Payments settles in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Currency {
    EUR,
    SEK,
    NOK,
    DKK,
    GBP,
    CHF,
    USD,
    AUD,
    CAD,
    PLN,
    CZK,
    NZD,
    RON,
    HUF,
}

impl Currency {
    pub const ALL: [Currency; 14] = [
        Currency::EUR,
        Currency::SEK,
        Currency::NOK,
        Currency::DKK,
        Currency::GBP,
        Currency::CHF,
        Currency::USD,
        Currency::AUD,
        Currency::CAD,
        Currency::PLN,
        Currency::CZK,
        Currency::NZD,
        Currency::RON,
        Currency::HUF,
    ];

    /// ISO 4217 minor-unit exponent. All Klarna currencies have two decimals in ISO 4217,
    /// including HUF and CZK whose coins are gone: Klarna still counts them in hundredths.
    pub fn exponent(self) -> u32 {
        2
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::EUR => "EUR",
            Currency::SEK => "SEK",
            Currency::NOK => "NOK",
            Currency::DKK => "DKK",
            Currency::GBP => "GBP",
            Currency::CHF => "CHF",
            Currency::USD => "USD",
            Currency::AUD => "AUD",
            Currency::CAD => "CAD",
            Currency::PLN => "PLN",
            Currency::CZK => "CZK",
            Currency::NZD => "NZD",
            Currency::RON => "RON",
            Currency::HUF => "HUF",
        }
    }

    /// Case-insensitive, because Klarna's own pattern (`^[A-Za-z]{3,3}$`) accepts both.
    pub fn from_code(code: &str) -> Option<Currency> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code))
    }
}

/// Plain decimal rendering (`-12.05`), used where no locale-aware formatter exists
/// (server logs, CSV, the sandbox widget). The browser formats with `Intl.NumberFormat`.
/// Never panics: `i64::MIN` has no positive twin, so the magnitude is taken as `u64`.
pub fn to_decimal_string(minor: i64, currency: Currency) -> String {
    format_minor(minor, currency.exponent())
}

/// `exponent` is an ISO 4217 exponent (0 to 4), so `10^exponent` fits `u64`. With exponent 0
/// there is no decimal point (`-12`, not `-12.`).
fn format_minor(minor: i64, exponent: u32) -> String {
    let scale = 10_u64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let units = abs / scale;
    match exponent {
        0 => format!("{sign}{units}"),
        _ => format!(
            "{sign}{units}.{:0width$}",
            abs % scale,
            width = exponent as usize
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reads a string `format_minor` wrote back into minor units; `None` if it is not in the
    /// exact shape `-?(0|[1-9][0-9]*)(\.[0-9]{exponent})?`.
    fn parse_minor(text: &str, exponent: u32) -> Option<i128> {
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (units, fraction) = match exponent {
            0 => (text, ""),
            _ => text.split_once('.')?,
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let canonical = units == "0" || !units.starts_with('0');
        if units.is_empty() || !digits(units) || !canonical || !digits(fraction) {
            return None;
        }
        if fraction.len() != exponent as usize {
            return None;
        }
        let fraction: i128 = fraction.parse().unwrap_or(0);
        let value = units.parse::<i128>().ok()? * 10_i128.pow(exponent) + fraction;
        // A minus sign only in front of a non-zero amount.
        (!negative || value != 0).then_some(if negative { -value } else { value })
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(to_decimal_string(1205, Currency::EUR), "12.05");
        assert_eq!(to_decimal_string(-5, Currency::SEK), "-0.05");
        assert_eq!(to_decimal_string(0, Currency::USD), "0.00");
        assert_eq!(
            to_decimal_string(i64::MIN, Currency::EUR),
            "-92233720368547758.08"
        );
        assert_eq!(
            to_decimal_string(i64::MAX, Currency::HUF),
            "92233720368547758.07"
        );
    }

    #[test]
    fn other_iso_exponents() {
        assert_eq!(format_minor(-12, 0), "-12");
        assert_eq!(format_minor(1205, 3), "1.205");
        assert_eq!(format_minor(5, 4), "0.0005");
        assert_eq!(format_minor(i64::MIN, 4), "-922337203685477.5808");
    }

    #[test]
    fn codes_round_trip() {
        for c in Currency::ALL {
            assert_eq!(Currency::from_code(&c.code().to_lowercase()), Some(c));
        }
        assert_eq!(Currency::from_code("XYZ"), None);
    }

    proptest! {
        #[test]
        fn decimal_strings_round_trip(minor in any::<i64>(), currency in prop::sample::select(&Currency::ALL[..])) {
            let text = to_decimal_string(minor, currency);
            prop_assert_eq!(parse_minor(&text, currency.exponent()), Some(i128::from(minor)), "{}", text);
        }

        #[test]
        fn every_iso_exponent_round_trips(minor in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -1000i64..1000], exponent in 0u32..=4) {
            let text = format_minor(minor, exponent);
            prop_assert_eq!(parse_minor(&text, exponent), Some(i128::from(minor)), "{}", text);
        }

        #[test]
        fn currency_lookup_never_panics(code in any::<String>()) {
            if let Some(c) = Currency::from_code(&code) {
                prop_assert!(c.code().eq_ignore_ascii_case(&code));
            }
        }
    }
}
