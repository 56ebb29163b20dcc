//! Our server's answers to the checkout, read as `crates/klarna` declares them with serde
//! (field names, `rename`, `rename_all`, `#[serde(default)]`), so that what the server writes
//! with serde the browser reads without it. `tests/wire_answers.rs` reads the server's real
//! answers.

use super::{variant, Fields, FromJs};
use klarna::api::{
    ApiError, CheckoutSession, ErrorCode, OrderState, OrderStatus, PaymentCategory, PlacedOrder,
};
use klarna::{Country, Currency, CustomerType, FieldError, FieldProblem};
use klarna::{OrderLine, OrderLineType, PricedCart};
use wasm_bindgen::JsValue;

impl FromJs for CheckoutSession {
    fn from_js(value: &JsValue) -> Option<CheckoutSession> {
        let f = Fields::of(value)?;
        Some(CheckoutSession {
            session: f.req("session")?,
            client_token: f.req("client_token")?,
            categories: f.req("categories")?,
            cart: f.req("cart")?,
            locale: f.req("locale")?,
            sdk_url: f.req("sdk_url")?,
            expires_in_secs: f.req("expires_in_secs")?,
            countries: f.or_default("countries")?,
            customer_type: f.or_default("customer_type")?,
        })
    }
}

impl FromJs for PaymentCategory {
    fn from_js(value: &JsValue) -> Option<PaymentCategory> {
        let f = Fields::of(value)?;
        Some(PaymentCategory {
            identifier: f.req("identifier")?,
            name: f.req("name")?,
            badge_url: f.or_default("badge_url")?,
        })
    }
}

impl FromJs for PricedCart {
    fn from_js(value: &JsValue) -> Option<PricedCart> {
        let f = Fields::of(value)?;
        Some(PricedCart {
            currency: f.req("currency")?,
            country: f.req("country")?,
            order_lines: f.req("order_lines")?,
            order_amount: f.req("order_amount")?,
            order_tax_amount: f.req("order_tax_amount")?,
        })
    }
}

impl FromJs for OrderLine {
    fn from_js(value: &JsValue) -> Option<OrderLine> {
        let f = Fields::of(value)?;
        Some(OrderLine {
            kind: f.or_default("type")?,
            reference: f.or_default("reference")?,
            name: f.req("name")?,
            quantity: f.req("quantity")?,
            quantity_unit: f.or_default("quantity_unit")?,
            unit_price: f.req("unit_price")?,
            tax_rate: f.or_default("tax_rate")?,
            total_amount: f.req("total_amount")?,
            total_discount_amount: f.or_default("total_discount_amount")?,
            total_tax_amount: f.or_default("total_tax_amount")?,
            image_url: f.or_default("image_url")?,
            product_url: f.or_default("product_url")?,
        })
    }
}

impl FromJs for OrderLineType {
    fn from_js(value: &JsValue) -> Option<OrderLineType> {
        variant(
            value,
            &[
                ("physical", OrderLineType::Physical),
                ("discount", OrderLineType::Discount),
                ("shipping_fee", OrderLineType::ShippingFee),
                ("sales_tax", OrderLineType::SalesTax),
                ("digital", OrderLineType::Digital),
                ("gift_card", OrderLineType::GiftCard),
                ("store_credit", OrderLineType::StoreCredit),
                ("surcharge", OrderLineType::Surcharge),
            ],
        )
    }
}

/// The upper-case alpha-2 code exactly (`Country::from_code` would also take `at`).
impl FromJs for Country {
    fn from_js(value: &JsValue) -> Option<Country> {
        let code = value.as_string()?;
        Country::ALL.iter().copied().find(|c| c.code() == code)
    }
}

/// The upper-case ISO 4217 code exactly.
impl FromJs for Currency {
    fn from_js(value: &JsValue) -> Option<Currency> {
        let code = value.as_string()?;
        Currency::ALL.into_iter().find(|c| c.code() == code)
    }
}

impl FromJs for CustomerType {
    fn from_js(value: &JsValue) -> Option<CustomerType> {
        variant(
            value,
            &[
                ("person", CustomerType::Person),
                ("organization", CustomerType::Organization),
            ],
        )
    }
}

impl FromJs for OrderState {
    fn from_js(value: &JsValue) -> Option<OrderState> {
        variant(
            value,
            &[
                ("accepted", OrderState::Accepted),
                ("pending", OrderState::Pending),
                ("rejected", OrderState::Rejected),
            ],
        )
    }
}

impl FromJs for PlacedOrder {
    fn from_js(value: &JsValue) -> Option<PlacedOrder> {
        let f = Fields::of(value)?;
        Some(PlacedOrder {
            order_id: f.req("order_id")?,
            state: f.req("state")?,
            order_amount: f.req("order_amount")?,
            redirect_url: f.or_default("redirect_url")?,
        })
    }
}

impl FromJs for OrderStatus {
    fn from_js(value: &JsValue) -> Option<OrderStatus> {
        let f = Fields::of(value)?;
        Some(OrderStatus {
            order: f.or_default("order")?,
        })
    }
}

impl FromJs for ApiError {
    fn from_js(value: &JsValue) -> Option<ApiError> {
        let f = Fields::of(value)?;
        Some(ApiError {
            code: f.req("code")?,
            message: f.req("message")?,
            fields: f.or_default("fields")?,
            support_id: f.or_default("support_id")?,
        })
    }
}

/// `{"field": "...", "problem": "too_long", "max": 99}`; a problem a newer server invented is
/// still a refused field (`FieldProblem::from_wire`).
impl FromJs for FieldError {
    fn from_js(value: &JsValue) -> Option<FieldError> {
        let f = Fields::of(value)?;
        let field: String = f.req("field")?;
        let problem: String = f.req("problem")?;
        let max = f.or_default("max")?;
        Some(FieldError::new(
            field,
            FieldProblem::from_wire(&problem, max),
        ))
    }
}

/// The codes this build knows: the bank page's only with `bank-link` (as the enum has them
/// only with `klarna/banking`); any other code is no answer, as with serde.
impl FromJs for ErrorCode {
    fn from_js(value: &JsValue) -> Option<ErrorCode> {
        variant(
            value,
            &[
                ("bad_request", ErrorCode::BadRequest),
                ("invalid_fields", ErrorCode::InvalidFields),
                ("unknown_cart", ErrorCode::UnknownCart),
                ("unknown_session", ErrorCode::UnknownSession),
                ("session_expired", ErrorCode::SessionExpired),
                ("authorization_expired", ErrorCode::AuthorizationExpired),
                ("authorization_mismatch", ErrorCode::AuthorizationMismatch),
                ("rejected", ErrorCode::Rejected),
                ("klarna_unavailable", ErrorCode::KlarnaUnavailable),
                ("too_many_requests", ErrorCode::TooManyRequests),
                #[cfg(feature = "bank-link")]
                ("sign_in_required", ErrorCode::SignInRequired),
                #[cfg(feature = "bank-link")]
                ("too_many_attempts", ErrorCode::TooManyAttempts),
                #[cfg(feature = "bank-link")]
                ("csrf_rejected", ErrorCode::CsrfRejected),
                #[cfg(feature = "bank-link")]
                ("link_not_finished", ErrorCode::LinkNotFinished),
                #[cfg(feature = "bank-link")]
                ("link_failed", ErrorCode::LinkFailed),
                #[cfg(feature = "bank-link")]
                ("link_aborted", ErrorCode::LinkAborted),
                #[cfg(feature = "bank-link")]
                ("sync_running", ErrorCode::SyncRunning),
                ("internal", ErrorCode::Internal),
            ],
        )
    }
}
