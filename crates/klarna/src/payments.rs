//! Klarna Payments API v1 wire types, mirroring the JSON field for field (contract §1.3–1.11).

use crate::address::Address;
use crate::customer::Customer;
use crate::order_lines::OrderLine;
use serde::{Deserialize, Deserializer, Serialize};

/// `merchant_urls`: where Klarna calls back. `{session.id}` / `{order.id}` are substituted by Klarna.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantUrls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
}

/// Body of `POST /payments/v1/sessions` and of a session update. Customer details are not sent
/// here on purpose: Klarna wants them at `authorize()`; a B2B session carries only
/// `customer.type = organization`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRequest {
    pub purchase_country: String,
    pub purchase_currency: String,
    pub locale: String,
    pub order_amount: i64,
    pub order_tax_amount: i64,
    pub order_lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_urls: Option<MerchantUrls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The widget's look.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<crate::WidgetOptions>,
}

impl SessionRequest {
    pub fn is_organization(&self) -> bool {
        self.customer
            .as_ref()
            .is_some_and(Customer::is_organization)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetUrls {
    pub descriptive: String,
    pub standard: String,
}

/// One of `klarna | pay_later | pay_now | pay_over_time | direct_bank_transfer | direct_debit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethodCategory {
    pub identifier: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_urls: Option<AssetUrls>,
}

/// `merchant_session`: answer to a session create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantSession {
    pub session_id: String,
    pub client_token: String,
    #[serde(default)]
    pub payment_method_categories: Vec<PaymentMethodCategory>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Complete,
    Incomplete,
}

/// `session_read`: answer to `GET /payments/v1/sessions/{id}` (the fields we use). Klarna's
/// OpenAPI marks none of them required, so none is: a field Klarna leaves out never turns a
/// good answer into an error on our side.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionRead {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SessionStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_tax_amount: Option<i64>,
    pub order_lines: Vec<OrderLine>,
    pub payment_method_categories: Vec<PaymentMethodCategory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<String>,
}

/// Body of `POST /payments/v1/authorizations/{token}/order`: must repeat exactly what was authorized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOrderRequest {
    pub purchase_country: String,
    pub purchase_currency: String,
    pub locale: String,
    pub order_amount: i64,
    pub order_tax_amount: i64,
    pub order_lines: Vec<OrderLine>,
    /// Left out, Klarna keeps the authorized address (the authorization-callback path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// A B2B order repeats the organization it authorized (left out: Klarna keeps it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_urls: Option<MerchantUrls>,
    #[serde(default)]
    pub auto_capture: bool,
}

impl Default for FraudStatus {
    /// Klarna's OpenAPI does not require `fraud_status`: a missing one reads as pending.
    fn default() -> FraudStatus {
        FraudStatus::Pending
    }
}

/// Klarna's fraud decision on a new order. Anything Klarna may add later is treated as
/// pending: never ship goods on a status we do not understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FraudStatus {
    Accepted,
    Pending,
    Rejected,
}

impl<'de> Deserialize<'de> for FraudStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `null` too reads as pending.
        let raw = Option::<String>::deserialize(d)?.unwrap_or_default();
        Ok(match raw.as_str() {
            "ACCEPTED" | "ACCEPTED_AFTER_REVIEW" => FraudStatus::Accepted,
            "REJECTED" | "REJECTED_AFTER_REVIEW" => FraudStatus::Rejected,
            _ => FraudStatus::Pending,
        })
    }
}

/// `authorized_payment_method` arrives as an object in the OpenAPI text and as a plain string in
/// Klarna's examples; both are accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AuthorizedPaymentMethod {
    Detailed {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number_of_days: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number_of_installments: Option<i64>,
    },
    Plain(String),
}

impl AuthorizedPaymentMethod {
    pub fn kind(&self) -> &str {
        match self {
            AuthorizedPaymentMethod::Detailed { kind, .. } => kind,
            AuthorizedPaymentMethod::Plain(kind) => kind,
        }
    }
}

/// Answer to create order. Only `order_id` is required by Klarna's OpenAPI; everything else is
/// read leniently, so an order Klarna created is never lost to an odd field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KlarnaOrder {
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default)]
    pub fraud_status: FraudStatus,
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub authorized_payment_method: Option<AuthorizedPaymentMethod>,
}

/// `None` for a value of a shape we do not know, instead of an error.
fn lenient<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Maybe<T> {
        Known(T),
        Unknown(serde::de::IgnoredAny),
    }
    Ok(match Maybe::<T>::deserialize(d)? {
        Maybe::Known(t) => Some(t),
        Maybe::Unknown(_) => None,
    })
}

/// Klarna's error body: `error_messages` (list) or `error_message` (one), depending on the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KlarnaErrorBody {
    pub error_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_messages: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

impl KlarnaErrorBody {
    pub fn messages(&self) -> Vec<String> {
        let mut all = self.error_messages.clone().unwrap_or_default();
        all.extend(self.error_message.clone());
        all
    }

    /// Field paths out of `Bad value: x.y` and `Not matching fields: [a, b]` messages.
    pub fn fields(&self) -> Vec<String> {
        let mut fields = Vec::new();
        for message in self.messages() {
            if let Some(rest) = message.strip_prefix("Bad value: ") {
                fields.push(rest.trim().to_string());
            } else if let Some(rest) = message.strip_prefix("Not matching fields: ") {
                let inner = rest.trim().trim_start_matches('[').trim_end_matches(']');
                fields.extend(
                    inner
                        .split(',')
                        .map(|f| f.trim().to_string())
                        .filter(|f| !f.is_empty()),
                );
            }
        }
        fields
    }
}

/// Pending-order notification from Klarna (`merchant_urls.notification`). Unsigned: the server
/// re-reads the order before acting on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub order_id: String,
    pub event_type: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraud_status_unknown_is_pending() {
        let order: KlarnaOrder = serde_json::from_str(
            r#"{"order_id":"o1","fraud_status":"SOMETHING_NEW","authorized_payment_method":"invoice"}"#,
        )
        .unwrap();
        assert_eq!(order.fraud_status, FraudStatus::Pending);
        assert_eq!(order.authorized_payment_method.unwrap().kind(), "invoice");
    }

    #[test]
    fn payment_method_object_form() {
        let order: KlarnaOrder = serde_json::from_str(
            r#"{"order_id":"o1","fraud_status":"ACCEPTED","authorized_payment_method":{"type":"fixed_amount","number_of_installments":3}}"#,
        )
        .unwrap();
        assert_eq!(order.fraud_status, FraudStatus::Accepted);
        assert_eq!(
            order.authorized_payment_method.unwrap().kind(),
            "fixed_amount"
        );
    }

    #[test]
    fn only_order_id_is_required_in_a_created_order() {
        // Literal JSON as Klarna's OpenAPI allows it: no fraud_status, an unknown method shape.
        let order: KlarnaOrder = serde_json::from_str(
            r#"{"order_id":"0b1d9815","authorized_payment_method":[1,2],"extra":true}"#,
        )
        .unwrap();
        let null: KlarnaOrder =
            serde_json::from_str(r#"{"order_id":"o","fraud_status":null}"#).unwrap();
        assert_eq!(null.fraud_status, FraudStatus::Pending);
        assert_eq!(order.fraud_status, FraudStatus::Pending);
        assert_eq!(order.authorized_payment_method, None);
        let read: SessionRead = serde_json::from_str(r#"{"status":"complete"}"#).unwrap();
        assert_eq!(read.status, Some(SessionStatus::Complete));
        assert!(read.payment_method_categories.is_empty());
    }

    #[test]
    fn error_body_both_shapes() {
        let a: KlarnaErrorBody = serde_json::from_str(
            r#"{"error_code":"BAD_VALUE","error_messages":["Not matching fields: [billing_address.postal_code, order_amount]"],"correlation_id":"c"}"#,
        )
        .unwrap();
        assert_eq!(
            a.fields(),
            vec!["billing_address.postal_code", "order_amount"]
        );
        let b: KlarnaErrorBody = serde_json::from_str(
            r#"{"error_code":"NOT_FOUND","error_message":"Invalid authorization token"}"#,
        )
        .unwrap();
        assert_eq!(b.messages(), vec!["Invalid authorization token"]);
    }
}
