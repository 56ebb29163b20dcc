//! Klarna's customer tokens (recurring purchases), wire types shared by the server and the
//! sandbox: the token's creation from an authorization (Payments API), and the Customer Token
//! API's read, order and status calls (contract §1.2, §1.10; Klarna's OpenAPI texts).

use crate::address::Address;
use crate::order_lines::OrderLine;
use crate::payments::MerchantUrls;
use serde::{Deserialize, Serialize};

/// `customer` of a token creation: only the type (`person` | `organization`) is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCustomer {
    #[serde(rename = "type")]
    pub kind: String,
}

/// Body of `POST /payments/v1/authorizations/{token}/customer-token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerTokenRequest {
    /// 1 to 255 characters: what the token is for.
    pub description: String,
    /// Klarna's only value: `SUBSCRIPTION`.
    pub intended_use: String,
    pub locale: String,
    pub purchase_country: String,
    pub purchase_currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<TokenCustomer>,
}

/// Answer to a token creation; only `token_id` is required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerTokenCreated {
    pub token_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_reference: Option<String>,
}

/// Body of `POST /customer-token/v1/tokens/{token}/order` (`customer_token_order`): no country
/// or locale, those are the token's; the currency must be the token's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenOrderRequest {
    pub purchase_currency: String,
    pub order_amount: i64,
    pub order_tax_amount: i64,
    pub order_lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_urls: Option<MerchantUrls>,
    #[serde(default)]
    pub auto_capture: bool,
}

/// Answer to `GET /customer-token/v1/tokens/{token}` (the fields we use).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerTokenRead {
    /// `ACTIVE`, `CANCELLED` or `SUSPENDED`.
    pub status: String,
    pub payment_method_type: String,
}

/// Body of `PATCH /customer-token/v1/tokens/{token}/status`: Klarna's only value is `CANCELLED`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenStatusUpdate {
    pub status: String,
}
