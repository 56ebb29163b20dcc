//! Klarna's browser scripts: one loader, typed bindings.

pub mod loader;
pub mod payments;
pub mod xs2a;
