//! Klarna's browser scripts: one loader, typed bindings.

pub mod loader;
pub mod owner;
pub mod payments;
#[cfg(feature = "bank-link")]
pub mod xs2a;
