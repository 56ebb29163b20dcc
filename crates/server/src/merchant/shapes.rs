//! The merchant API's request and answer bodies, and the checks on them that need no order:
//! a refusal names the field, before anything is written or sent.

use super::errors::MerchantError;
use super::rules::OrderState;
use klarna::order_management::{OrderManagementOrder, ShippingInfo};
use klarna::{validate_address, Address, OrderLine};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An order as Order Management has it, with the state a merchant reads.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MerchantOrder {
    pub state: OrderState,
    #[serde(flatten)]
    pub order: OrderManagementOrder,
}

/// The answer to an operation: what was done, and the order afterwards (absent when Klarna
/// did not answer the read that follows; the operation stands all the same).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OperationAnswer {
    pub operation: OperationView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<MerchantOrder>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OperationView {
    /// Our id of the operation.
    pub id: String,
    /// `capture`, `refund`, `cancel`, `release`, `extend`, `update_authorization`,
    /// `update_customer_details`, `update_merchant_references` or `send_out`.
    pub kind: String,
    /// `done`, or `pending`: sent, Klarna's answer not in yet; it will be sent again with the
    /// same key until Klarna answers. Ask again with the same `Idempotency-Key` to learn the end.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// Klarna's `Capture-Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_id: Option<String>,
    /// Klarna's `Refund-Id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
}

/// `POST /api/merchant/orders/{order_id}/captures`. Without `amount`, all that remains.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureBody {
    pub amount: Option<i64>,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub order_lines: Option<Vec<OrderLine>>,
    /// Carrier and tracking number of the shipment, as Klarna takes them.
    #[serde(default)]
    pub shipping_info: Vec<ShippingInfo>,
}

/// `POST /api/merchant/orders/{order_id}/refunds`. Without `amount`, all not yet refunded.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    pub amount: Option<i64>,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub order_lines: Option<Vec<OrderLine>>,
}

/// `PATCH /api/merchant/orders/{order_id}/authorization`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationBody {
    pub order_amount: i64,
    pub description: Option<String>,
    pub order_lines: Option<Vec<OrderLine>>,
}

/// `PATCH /api/merchant/orders/{order_id}/customer-details`. Klarna never lets the billing
/// address change after purchase, so only the shipping address is taken.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    pub shipping_address: Address,
}

/// `PATCH /api/merchant/orders/{order_id}/merchant-references`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferencesBody {
    pub merchant_reference1: Option<String>,
    pub merchant_reference2: Option<String>,
}

/// `0` stands for "all" until the order says how much that is.
fn amount(field: &str, amount: Option<i64>) -> Result<i64, MerchantError> {
    match amount {
        None => Ok(0),
        Some(a) if a > 0 => Ok(a),
        Some(a) => Err(MerchantError::invalid(
            field,
            format!("{field} must be a positive amount in minor units (cents); got {a}. Leave it out for all."),
        )),
    }
}

fn at_most(field: &str, value: Option<&str>, max: usize) -> Result<(), MerchantError> {
    match value {
        Some(v) if v.chars().count() > max => Err(MerchantError::invalid(
            field,
            format!("{field} is longer than {max} characters."),
        )),
        _ => Ok(()),
    }
}

/// Lines, when given, must add up to the amount they explain.
fn lines_match(lines: Option<&[OrderLine]>, amount: i64, what: &str) -> Result<(), MerchantError> {
    match lines {
        // In i128: amounts a caller chose cannot overflow the sum into agreement (or a panic).
        Some(lines)
            if amount > 0
                && lines
                    .iter()
                    .map(|l| i128::from(l.total_amount))
                    .sum::<i128>()
                    != i128::from(amount) =>
        {
            Err(MerchantError::invalid(
                "order_lines",
                format!("The total_amount of order_lines must add up to {what} ({amount})."),
            ))
        }
        Some([]) => Err(MerchantError::invalid(
            "order_lines",
            "order_lines is empty: leave it out, or list the lines.",
        )),
        _ => Ok(()),
    }
}

/// What a capture and a refund share: the amount asked for (`0`: all), Klarna's text limits, and
/// lines that add up to the amount.
fn money(
    amount_asked: Option<i64>,
    description: &Option<String>,
    reference: &Option<String>,
    lines: Option<&[OrderLine]>,
) -> Result<i64, MerchantError> {
    let a = amount("amount", amount_asked)?;
    at_most("description", description.as_deref(), 255)?;
    at_most("reference", reference.as_deref(), 255)?;
    if lines.is_some() && a == 0 {
        return Err(MerchantError::invalid(
            "amount",
            "With order_lines, give the amount they add up to.",
        ));
    }
    lines_match(lines, a, "amount")?;
    Ok(a)
}

impl CaptureBody {
    /// The amount asked for (`0`: all), once the fields pass Klarna's limits.
    pub fn checked(&self) -> Result<i64, MerchantError> {
        let a = money(
            self.amount,
            &self.description,
            &self.reference,
            self.order_lines.as_deref(),
        )?;
        if self.shipping_info.len() > 500 {
            return Err(MerchantError::invalid(
                "shipping_info",
                "At most 500 shipping_info entries.",
            ));
        }
        let too_long = self
            .shipping_info
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.too_long(i));
        if let Some(field) = too_long.into_iter().next() {
            return Err(MerchantError::invalid(
                &field,
                format!("{field} is longer than Klarna takes."),
            ));
        }
        Ok(a)
    }
}

impl RefundBody {
    pub fn checked(&self) -> Result<i64, MerchantError> {
        money(
            self.amount,
            &self.description,
            &self.reference,
            self.order_lines.as_deref(),
        )
    }
}

impl AuthorizationBody {
    pub fn check(&self) -> Result<(), MerchantError> {
        amount("order_amount", Some(self.order_amount))?;
        at_most("description", self.description.as_deref(), 255)?;
        lines_match(
            self.order_lines.as_deref(),
            self.order_amount,
            "order_amount",
        )
    }
}

impl CustomerBody {
    pub fn check(&self) -> Result<(), MerchantError> {
        match validate_address("shipping_address", &self.shipping_address).first() {
            Some(e) => Err(MerchantError::invalid(&e.field, e.message())),
            None => Ok(()),
        }
    }
}

impl ReferencesBody {
    pub fn check(&self) -> Result<(), MerchantError> {
        if self.merchant_reference1.is_none() && self.merchant_reference2.is_none() {
            return Err(MerchantError::invalid(
                "merchant_reference1",
                "Give merchant_reference1, merchant_reference2 or both.",
            ));
        }
        at_most(
            "merchant_reference1",
            self.merchant_reference1.as_deref(),
            255,
        )?;
        at_most(
            "merchant_reference2",
            self.merchant_reference2.as_deref(),
            255,
        )
    }
}
