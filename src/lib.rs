//! klarna-checkout: the Klarna checkout component, compiled to WebAssembly.

pub mod api;
#[cfg(feature = "bank-link")]
pub mod bank_link;
pub mod checkout;
pub mod embed;
pub mod error;
pub mod format;
pub mod i18n;
pub mod sdk;
pub mod wire;
