//! Everything the browser, the server and the sandbox must agree on lives here, so that the
//! three can never disagree on a field name, a rounding rule or an address limit.

pub mod address;
pub mod api;
pub mod country;
pub mod customer;
pub mod customer_token;
pub mod date;
pub mod lang;
pub mod money;
pub mod order_lines;
pub mod order_management;
pub mod payments;
pub mod rules;
pub mod widget;
pub mod xs2a;

pub use address::{
    validate_address, validate_addresses, Address, AddressField, FieldError, FieldProblem,
};
pub use country::Country;
pub use customer::{Customer, CustomerType, OrganizationEntityType};
pub use lang::Lang;
pub use money::Currency;
pub use order_lines::{
    price_cart, CartError, CartItem, OrderLine, OrderLineType, PricedCart, TaxMode,
};
pub use widget::WidgetOptions;
