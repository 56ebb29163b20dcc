//! What may be done to an order after checkout, decided here before Klarna is called: a
//! merchant gets a clear refusal naming the amount or the state, instead of Klarna's bare 403,
//! and two operations in flight at once can never together capture or refund more than the
//! order holds (what is still in flight is counted as spent).
//!
//! The states a merchant sees follow Klarna's Order Management (`AUTHORIZED`, `PART_CAPTURED`,
//! `CAPTURED`, `CANCELLED`, `EXPIRED`) with refunds on top:
//! authorized → part-captured → captured → part-refunded → refunded; cancel only before a
//! capture; release only after a partial capture; an amount never exceeds what remains.
//! Klarna checks again, and the sandbox refuses as Klarna does, so a rule missed here still
//! cannot move money wrongly.

use super::errors::{MerchantCode, MerchantError};
use klarna::order_management::{OmStatus, OrderManagementOrder};
use klarna::payments::FraudStatus;
use serde::{Deserialize, Serialize};

/// The order's state as a merchant reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
// Apart from the checkout's `klarna::api::OrderState` in the document.
#[schema(as = MerchantOrderState)]
pub enum OrderState {
    /// Klarna is still reviewing the purchase: do not ship.
    PendingReview,
    Authorized,
    PartCaptured,
    Captured,
    PartRefunded,
    Refunded,
    Cancelled,
    /// The authorization ran out before everything was captured.
    Expired,
    /// Klarna closed the order (settled, or a status this server does not know).
    Closed,
}

/// One operation, with the amounts it asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Capture(i64),
    Refund(i64),
    Cancel,
    Release,
    Extend,
    UpdateAuthorization(i64),
    UpdateCustomerDetails,
    UpdateReferences,
    SendOut,
}

/// Amounts of operations that were sent, or are about to be, and whose answer is not in yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InFlight {
    pub capturing: i64,
    pub refunding: i64,
}

/// The numbers the rules need, from Order Management's view of the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    pub status: OmStatus,
    pub fraud: FraudStatus,
    pub order_amount: i64,
    pub captured: i64,
    pub refunded: i64,
    pub remaining: i64,
}

impl From<&OrderManagementOrder> for Facts {
    fn from(o: &OrderManagementOrder) -> Facts {
        Facts {
            status: o.status,
            fraud: o.fraud_status,
            order_amount: o.order_amount,
            captured: o.captured_amount,
            refunded: o.refunded_amount,
            remaining: o.remaining_authorized_amount,
        }
    }
}

impl Facts {
    pub fn state(&self) -> OrderState {
        match self.status {
            OmStatus::Cancelled => OrderState::Cancelled,
            // "Refunded" only when nothing is left to capture either: a part-captured order whose
            // captures were all refunded can still be captured.
            _ if self.refunded > 0 && self.refunded >= self.captured && self.remaining == 0 => {
                OrderState::Refunded
            }
            _ if self.refunded > 0 => OrderState::PartRefunded,
            OmStatus::Expired => OrderState::Expired,
            OmStatus::Captured => OrderState::Captured,
            OmStatus::PartCaptured => OrderState::PartCaptured,
            OmStatus::Authorized if self.fraud == FraudStatus::Pending => OrderState::PendingReview,
            OmStatus::Authorized => OrderState::Authorized,
            OmStatus::Closed | OmStatus::Unknown => OrderState::Closed,
        }
    }

    /// These facts, with at least `captured` captured and `refunded` refunded: figures read
    /// from Klarna before an operation of ours finished catch up with it.
    pub fn at_least(&self, captured: i64, refunded: i64) -> Facts {
        let behind = (captured - self.captured).max(0);
        Facts {
            captured: self.captured + behind,
            remaining: (self.remaining - behind).max(0),
            refunded: self.refunded.max(refunded),
            ..*self
        }
    }

    /// Still holds an authorization that can be captured, changed or extended.
    fn open(&self) -> bool {
        matches!(self.status, OmStatus::Authorized | OmStatus::PartCaptured)
    }
}

/// The order's state refuses the operation: the refusal is about the order in the path.
fn not_allowed(message: impl Into<String>) -> MerchantError {
    MerchantError::on(MerchantCode::NotAllowed, "order_id", message)
}

fn state_name(facts: &Facts) -> String {
    serde_json::to_value(facts.state())
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Whether `op` may be sent to Klarna now, with `in_flight` not yet answered.
pub fn check(op: Operation, facts: &Facts, in_flight: InFlight) -> Result<(), MerchantError> {
    let state = state_name(facts);
    let refused_in_state =
        |what: &str| not_allowed(format!("The order is {state}: it cannot be {what}."));
    match op {
        Operation::Capture(amount) => {
            if !facts.open() {
                return Err(refused_in_state("captured"));
            }
            if facts.fraud != FraudStatus::Accepted {
                return Err(not_allowed(
                    "Klarna is still reviewing this purchase: capture and ship once it is accepted.",
                ));
            }
            let left = facts.remaining - in_flight.capturing;
            something("amount", amount, "capture")?;
            at_most("amount", amount, left, "left to capture")
        }
        Operation::Refund(amount) => {
            if facts.status == OmStatus::Cancelled || facts.captured == 0 {
                return Err(not_allowed(
                    "Nothing has been captured on this order, so nothing can be refunded.",
                ));
            }
            let left = facts.captured - facts.refunded - in_flight.refunding;
            something("amount", amount, "refund")?;
            at_most("amount", amount, left, "left to refund")
        }
        Operation::Cancel => {
            if facts.captured > 0 || in_flight.capturing > 0 {
                return Err(not_allowed(
                    "The order has captures: it cannot be cancelled. Refund instead.",
                ));
            }
            if facts.status != OmStatus::Authorized {
                return Err(refused_in_state("cancelled"));
            }
            Ok(())
        }
        Operation::Release => {
            if facts.status != OmStatus::PartCaptured || facts.remaining == 0 {
                return Err(not_allowed(format!(
                    "Only a part-captured order has an authorization to release; this one is {state}."
                )));
            }
            if in_flight.capturing > 0 {
                return Err(not_allowed(
                    "A capture of this order is still in progress: release after it has finished.",
                ));
            }
            Ok(())
        }
        Operation::Extend => {
            if !facts.open() || facts.remaining == 0 {
                return Err(refused_in_state("extended"));
            }
            Ok(())
        }
        Operation::UpdateAuthorization(order_amount) => {
            positive("order_amount", order_amount)?;
            if !facts.open() {
                return Err(refused_in_state("changed"));
            }
            let floor = facts.captured + in_flight.capturing;
            if order_amount < floor {
                return Err(MerchantError::on(
                    MerchantCode::NotAllowed,
                    "order_amount",
                    format!("order_amount {order_amount} is below the {floor} already captured."),
                ));
            }
            Ok(())
        }
        Operation::UpdateCustomerDetails => {
            if !facts.open() {
                return Err(refused_in_state("changed"));
            }
            Ok(())
        }
        Operation::UpdateReferences => {
            if facts.status == OmStatus::Cancelled {
                return Err(refused_in_state("changed"));
            }
            Ok(())
        }
        Operation::SendOut => {
            if facts.captured == 0 {
                return Err(not_allowed(
                    "Nothing has been captured, so there is no invoice to send.",
                ));
            }
            Ok(())
        }
    }
}

/// A capture or refund of "all" (its amount settled from the order) where all is nothing.
/// (A merchant's own amount of 0 or less never gets here: the body's check refuses it.)
fn something(field: &str, amount: i64, verb: &str) -> Result<(), MerchantError> {
    if amount <= 0 {
        return Err(MerchantError::on(
            MerchantCode::NotAllowed,
            field,
            format!("Nothing is left to {verb} on this order."),
        ));
    }
    Ok(())
}

fn positive(field: &str, amount: i64) -> Result<(), MerchantError> {
    if amount <= 0 {
        return Err(MerchantError::invalid(
            field,
            format!("{field} must be a positive amount in minor units (cents); got {amount}."),
        ));
    }
    Ok(())
}

fn at_most(field: &str, amount: i64, left: i64, what: &str) -> Result<(), MerchantError> {
    if amount > left {
        return Err(MerchantError::on(
            MerchantCode::NotAllowed,
            field,
            format!("{field} {amount} exceeds the {} {what}.", left.max(0)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
