//! What one order operation is, as the ledger stores it: its kind, the request for Klarna, and
//! where it stands.

use super::super::errors::MerchantError;
use super::super::rules::Operation;
use sha2::{Digest, Sha256};

/// What kind of call an operation is; stored as its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Capture,
    Refund,
    Cancel,
    Release,
    Extend,
    UpdateAuthorization,
    UpdateCustomerDetails,
    UpdateReferences,
    SendOut,
}

impl Kind {
    const ALL: [(Kind, &'static str); 9] = [
        (Kind::Capture, "capture"),
        (Kind::Refund, "refund"),
        (Kind::Cancel, "cancel"),
        (Kind::Release, "release"),
        (Kind::Extend, "extend"),
        (Kind::UpdateAuthorization, "update_authorization"),
        (Kind::UpdateCustomerDetails, "update_customer_details"),
        (Kind::UpdateReferences, "update_merchant_references"),
        (Kind::SendOut, "send_out"),
    ];

    pub fn name(self) -> &'static str {
        Kind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, n)| n)
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpState {
    /// Written; Klarna's answer not in yet. It is sent again (same Klarna key) until Klarna
    /// answers, within Klarna's 24 hours of idempotency.
    Pending,
    /// Klarna did it; the capture or refund id, if any.
    Done { klarna_id: Option<String> },
    /// Klarna refused; the refusal is answered again to a retry.
    Refused(MerchantError),
    /// Klarna never answered within the time it remembers the key: it may have done it or not,
    /// and sending it again could do it twice. A person looks at the order.
    Unresolved,
}

impl OpState {
    pub fn name(&self) -> &'static str {
        match self {
            OpState::Pending => "pending",
            OpState::Done { .. } => "done",
            OpState::Refused(_) => "refused",
            OpState::Unresolved => "unresolved",
        }
    }
}

/// One stored operation.
#[derive(Clone, Debug)]
pub struct StoredOp {
    pub id: String,
    pub order_id: String,
    pub kind: Kind,
    /// What a capture or refund moves (a reversal in a batch file: what it gives up).
    pub amount: i64,
    /// The capture a send-out is about; empty for every other kind.
    pub target: String,
    /// The JSON body for Klarna (`null`: none).
    pub request: serde_json::Value,
    pub klarna_key: String,
    pub state: OpState,
    /// The merchant's request as asked (before "all" was settled), to recognise a retry.
    pub digest: String,
    /// When it was written: Klarna's key is good for 24 hours from its first use.
    pub created_at: i64,
    /// Sends that got no usable answer so far.
    pub tries: i64,
}

/// What the merchant asked for, before it is written. An amount of `0` on a capture or refund
/// means "all", settled from the order when it is written.
#[derive(Clone, Debug)]
pub struct Planned {
    pub kind: Kind,
    pub operation: Operation,
    pub amount: i64,
    pub target: String,
    pub request: serde_json::Value,
}

impl Planned {
    /// The same request for `amount` (a capture or refund of "all" once "all" is known).
    pub fn with_amount(mut self, amount: i64) -> Planned {
        let field = match self.kind {
            Kind::Capture => {
                self.operation = Operation::Capture(amount);
                "captured_amount"
            }
            Kind::Refund => {
                self.operation = Operation::Refund(amount);
                "refunded_amount"
            }
            _ => return self,
        };
        self.amount = amount;
        if let Some(body) = self.request.as_object_mut() {
            body.insert(field.into(), amount.into());
        }
        self
    }

    /// A capture or refund of "all" (amount `0`).
    pub fn is_all(&self) -> bool {
        self.amount == 0 && matches!(self.kind, Kind::Capture | Kind::Refund)
    }

    /// Identifies the request's content: the same key with another body is another request.
    pub fn digest(&self) -> String {
        let text = format!("{}|{}|{}", self.kind.name(), self.target, self.request);
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}
