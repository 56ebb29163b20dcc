//! Money is always an integer count of minor units; the exponent says where the decimal point is.

use serde::{Deserialize, Serialize};

/// The currencies Klarna Payments settles in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub fn to_decimal_string(minor: i64, currency: Currency) -> String {
    let scale = 10_i64.pow(currency.exponent());
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = scale as u64;
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = currency.exponent() as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings() {
        assert_eq!(to_decimal_string(1205, Currency::EUR), "12.05");
        assert_eq!(to_decimal_string(-5, Currency::SEK), "-0.05");
        assert_eq!(to_decimal_string(0, Currency::USD), "0.00");
    }

    #[test]
    fn codes_round_trip() {
        for c in Currency::ALL {
            assert_eq!(Currency::from_code(&c.code().to_lowercase()), Some(c));
        }
        assert_eq!(Currency::from_code("XYZ"), None);
    }
}
