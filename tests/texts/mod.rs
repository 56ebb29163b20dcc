//! The catalogs, installed at once for the browser tests (the component would fetch them):
//! `include_str!` in test code only, so no text is compiled into the bundle.

use klarna_checkout::i18n::catalog::{install, Flow};
use klarna_checkout::i18n::Lang;

#[allow(dead_code)]
const CHECKOUT: [(Lang, &str); 17] = [
    (Lang::En, include_str!("../../i18n/checkout/en.txt")),
    (Lang::De, include_str!("../../i18n/checkout/de.txt")),
    (Lang::Sv, include_str!("../../i18n/checkout/sv.txt")),
    (Lang::Nb, include_str!("../../i18n/checkout/nb.txt")),
    (Lang::Da, include_str!("../../i18n/checkout/da.txt")),
    (Lang::Fi, include_str!("../../i18n/checkout/fi.txt")),
    (Lang::Nl, include_str!("../../i18n/checkout/nl.txt")),
    (Lang::Fr, include_str!("../../i18n/checkout/fr.txt")),
    (Lang::It, include_str!("../../i18n/checkout/it.txt")),
    (Lang::Es, include_str!("../../i18n/checkout/es.txt")),
    (Lang::Pl, include_str!("../../i18n/checkout/pl.txt")),
    (Lang::Pt, include_str!("../../i18n/checkout/pt.txt")),
    (Lang::Cs, include_str!("../../i18n/checkout/cs.txt")),
    (Lang::El, include_str!("../../i18n/checkout/el.txt")),
    (Lang::Ro, include_str!("../../i18n/checkout/ro.txt")),
    (Lang::Hu, include_str!("../../i18n/checkout/hu.txt")),
    (Lang::Sk, include_str!("../../i18n/checkout/sk.txt")),
];

#[allow(dead_code)]
const BANK: [(Lang, &str); 17] = [
    (Lang::En, include_str!("../../i18n/bank/en.txt")),
    (Lang::De, include_str!("../../i18n/bank/de.txt")),
    (Lang::Sv, include_str!("../../i18n/bank/sv.txt")),
    (Lang::Nb, include_str!("../../i18n/bank/nb.txt")),
    (Lang::Da, include_str!("../../i18n/bank/da.txt")),
    (Lang::Fi, include_str!("../../i18n/bank/fi.txt")),
    (Lang::Nl, include_str!("../../i18n/bank/nl.txt")),
    (Lang::Fr, include_str!("../../i18n/bank/fr.txt")),
    (Lang::It, include_str!("../../i18n/bank/it.txt")),
    (Lang::Es, include_str!("../../i18n/bank/es.txt")),
    (Lang::Pl, include_str!("../../i18n/bank/pl.txt")),
    (Lang::Pt, include_str!("../../i18n/bank/pt.txt")),
    (Lang::Cs, include_str!("../../i18n/bank/cs.txt")),
    (Lang::El, include_str!("../../i18n/bank/el.txt")),
    (Lang::Ro, include_str!("../../i18n/bank/ro.txt")),
    (Lang::Hu, include_str!("../../i18n/bank/hu.txt")),
    (Lang::Sk, include_str!("../../i18n/bank/sk.txt")),
];

/// Every language's checkout catalog.
#[allow(dead_code)]
pub fn install_checkout() {
    for (lang, text) in CHECKOUT {
        install(Flow::Checkout, lang, text).unwrap();
    }
}

/// Every language's bank page catalog.
#[allow(dead_code)]
pub fn install_bank() {
    for (lang, text) in BANK {
        install(Flow::Bank, lang, text).unwrap();
    }
}
