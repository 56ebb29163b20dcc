//! Klarna Order Management API wire types (contract §1.12, Klarna's OM OpenAPI): what the
//! server sends to capture, refund, cancel and change an order, and `MerchantOrderDto` as it
//! reads an order back. Shared with the sandbox, which emulates the API with the same types,
//! so the two cannot disagree on a field name. Requests serialize only what is set; answers
//! are decoded leniently (only `order_id` is required), so an order Klarna holds is never lost
//! to a field it added or left out.

use crate::address::Address;
use crate::order_lines::OrderLine;
use crate::payments::FraudStatus;
use serde::{Deserialize, Serialize};

/// `MerchantOrderDto.status`. A status Klarna may add later reads as [`OmStatus::Unknown`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OmStatus {
    Authorized,
    PartCaptured,
    Captured,
    Cancelled,
    Expired,
    Closed,
    #[default]
    #[serde(other)]
    Unknown,
}

/// `shipping_info.shipping_method`: Klarna's closed list, spelled as Klarna spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ShippingMethod {
    PickUpStore,
    Home,
    BoxReg,
    BoxUnreg,
    PickUpPoint,
    Own,
    Postal,
    DHLPackstation,
    Digital,
    Undefined,
    PickUpWarehouse,
    ClickCollect,
    PalletDelivery,
}

/// Klarna's limits on a `shipping_info` item (OM OpenAPI).
pub const SHIPPING_COMPANY_MAX: usize = 100;
pub const TRACKING_NUMBER_MAX: usize = 100;
pub const TRACKING_URI_MAX: usize = 1024;
/// At most this many `shipping_info` items per capture.
pub const SHIPPING_INFO_MAX_ITEMS: usize = 500;
/// `merchant_reference1/2`, a capture's or refund's `reference` and `description`.
pub const REFERENCE_MAX: usize = 255;

/// One `shipping_info` item of a capture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ShippingInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<ShippingMethod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_shipping_company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_tracking_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_tracking_uri: Option<String>,
}

impl ShippingInfo {
    /// The fields over Klarna's length limits, as `shipping_info[i].field` paths.
    pub fn too_long(&self, index: usize) -> Vec<String> {
        let fields: [(&str, &Option<String>, usize); 6] = [
            (
                "shipping_company",
                &self.shipping_company,
                SHIPPING_COMPANY_MAX,
            ),
            (
                "tracking_number",
                &self.tracking_number,
                TRACKING_NUMBER_MAX,
            ),
            ("tracking_uri", &self.tracking_uri, TRACKING_URI_MAX),
            (
                "return_shipping_company",
                &self.return_shipping_company,
                SHIPPING_COMPANY_MAX,
            ),
            (
                "return_tracking_number",
                &self.return_tracking_number,
                TRACKING_NUMBER_MAX,
            ),
            (
                "return_tracking_uri",
                &self.return_tracking_uri,
                TRACKING_URI_MAX,
            ),
        ];
        fields
            .into_iter()
            .filter(|(_, v, max)| v.as_ref().is_some_and(|v| v.chars().count() > *max))
            .map(|(name, _, _)| format!("shipping_info[{index}].{name}"))
            .collect()
    }
}

/// Body of `POST …/captures`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRequest {
    pub captured_amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_lines: Option<Vec<OrderLine>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipping_info: Vec<ShippingInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_delay: Option<i64>,
}

/// Body of `POST …/captures/{capture_id}/shipping-info` (and of `POST …/shipping-info`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingInfoRequest {
    #[serde(default)]
    pub shipping_info: Vec<ShippingInfo>,
}

/// Body of `POST …/refunds`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub refunded_amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_lines: Option<Vec<OrderLine>>,
}

/// Body of `PATCH …/authorization`: a new order amount (Klarna runs a new risk check).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateAuthorization {
    pub order_amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_lines: Option<Vec<OrderLine>>,
}

/// Body of `PATCH …/customer-details` (`UpdateConsumer`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCustomerDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
}

/// Body of `PATCH …/merchant-references`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantReferences {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
}

/// One capture of an order, as `GET …/captures/{capture_id}` and the order's `captures[]` show it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Capture {
    pub capture_id: String,
    pub captured_amount: i64,
    /// RFC 3339.
    pub captured_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub shipping_info: Vec<ShippingInfo>,
    pub refunded_amount: i64,
}

/// One refund of an order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Refund {
    pub refund_id: String,
    pub refunded_amount: i64,
    /// RFC 3339.
    pub refunded_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// `GET /ordermanagement/v1/orders/{order_id}`: Klarna's `MerchantOrderDto`, the fields we
/// use. Only `order_id` is required; a missing `fraud_status` reads as pending, a missing or
/// new `status` as [`OmStatus::Unknown`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderManagementOrder {
    pub order_id: String,
    #[serde(default)]
    pub status: OmStatus,
    #[serde(default)]
    pub fraud_status: FraudStatus,
    #[serde(default)]
    pub order_amount: i64,
    #[serde(default)]
    pub captured_amount: i64,
    #[serde(default)]
    pub refunded_amount: i64,
    #[serde(default)]
    pub original_order_amount: i64,
    #[serde(default)]
    pub remaining_authorized_amount: i64,
    #[serde(default)]
    pub purchase_currency: String,
    #[serde(default)]
    pub purchase_country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default)]
    pub captures: Vec<Capture>,
    #[serde(default)]
    pub refunds: Vec<Refund>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_address",
        skip_serializing_if = "Option::is_none"
    )]
    pub billing_address: Option<Address>,
    #[serde(
        default,
        deserialize_with = "lenient_address",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_address: Option<Address>,
    #[serde(default)]
    pub order_lines: Vec<OrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub klarna_reference: Option<String>,
}

/// Klarna's OM addresses carry fields our [`Address`] refuses (`title`, `attention`,
/// `street_name`, …): those are dropped here instead of failing the whole order.
fn lenient_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
    /// [`Address`]'s fields, without its `deny_unknown_fields`; `null` reads as empty.
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct Loose {
        given_name: Option<String>,
        family_name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        street_address: Option<String>,
        street_address2: Option<String>,
        postal_code: Option<String>,
        city: Option<String>,
        region: Option<String>,
        country: Option<String>,
        organization_name: Option<String>,
    }
    Ok(Option::<Loose>::deserialize(d)?.map(|a| Address {
        given_name: a.given_name.unwrap_or_default(),
        family_name: a.family_name.unwrap_or_default(),
        email: a.email.unwrap_or_default(),
        phone: a.phone.unwrap_or_default(),
        street_address: a.street_address.unwrap_or_default(),
        street_address2: a.street_address2.unwrap_or_default(),
        postal_code: a.postal_code.unwrap_or_default(),
        city: a.city.unwrap_or_default(),
        region: a.region.unwrap_or_default(),
        country: a.country.unwrap_or_default(),
        organization_name: a.organization_name.unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Written from Klarna's OM docs: a `MerchantOrderDto` with two captures and a refund,
    /// fields we do not model (customer, initial_payment_method, selected_shipping_option,
    /// `title` in an address) included.
    const MERCHANT_ORDER: &str = r#"{
      "order_id": "f3392f8b-6116-4073-ab96-e330819e2c07",
      "status": "PART_CAPTURED",
      "fraud_status": "ACCEPTED",
      "order_amount": 50000,
      "original_order_amount": 50000,
      "captured_amount": 30000,
      "refunded_amount": 5000,
      "remaining_authorized_amount": 20000,
      "purchase_currency": "EUR",
      "purchase_country": "DE",
      "locale": "de-DE",
      "created_at": "2015-11-29T10:25:40Z",
      "expires_at": "2015-12-04T10:26:06Z",
      "klarna_reference": "K4MADNY",
      "merchant_reference1": "10001",
      "merchant_reference2": "501",
      "customer": {"date_of_birth": "1981-09-06", "national_identification_number": "x"},
      "initial_payment_method": {"type": "INVOICE", "description": "Pay later"},
      "billing_address": {"given_name": "Klara", "family_name": "Joyce", "title": "Mrs",
        "street_address": "Hellersbergstraße 14", "postal_code": "41460", "city": "Neuss",
        "country": "DE", "email": "klara@example.com", "phone": "+49 176 1234567"},
      "order_lines": [{"type": "physical", "reference": "19-402", "name": "Battery Power Pack",
        "quantity": 1, "unit_price": 50000, "tax_rate": 1900, "total_amount": 50000,
        "total_discount_amount": 0, "total_tax_amount": 7983}],
      "captures": [
        {"capture_id": "4ba29b50-be7b-44f5-a492-113e6a865e22", "klarna_reference": "K4MADNY-1",
         "captured_amount": 20000, "captured_at": "2015-11-19T01:51:17Z",
         "description": "Shipped part 1", "refunded_amount": 5000,
         "shipping_info": [{"shipping_company": "DHL", "shipping_method": "Home",
           "tracking_number": "63456415674545679874", "tracking_uri": "http://shipping.example/track/1",
           "return_shipping_company": "DHL", "return_tracking_number": "93456415674545679888",
           "return_tracking_uri": "http://shipping.example/return/1"}]},
        {"capture_id": "5cb29b50-be7b-44f5-a492-113e6a865e23", "captured_amount": 10000,
         "captured_at": "2015-11-20T01:51:17Z", "shipping_info": []}
      ],
      "refunds": [
        {"refund_id": "b2cb6ac4-8a46-4e31-9c0f-2c23c6b2d4b2", "refunded_amount": 5000,
         "refunded_at": "2015-12-04T15:17:40Z", "description": "Returned one pack",
         "reference": "R1", "order_lines": [], "credit_invoice": true}
      ],
      "selected_shipping_option": {"id": "express", "name": "EXPRESS 1-2 Days"}
    }"#;

    #[test]
    fn decodes_a_merchant_order_from_the_docs() {
        let o: OrderManagementOrder = serde_json::from_str(MERCHANT_ORDER).unwrap();
        assert_eq!(o.order_id, "f3392f8b-6116-4073-ab96-e330819e2c07");
        assert_eq!(o.status, OmStatus::PartCaptured);
        assert_eq!(o.fraud_status, FraudStatus::Accepted);
        assert_eq!(
            (
                o.order_amount,
                o.captured_amount,
                o.refunded_amount,
                o.remaining_authorized_amount
            ),
            (50000, 30000, 5000, 20000)
        );
        assert_eq!(o.expires_at.as_deref(), Some("2015-12-04T10:26:06Z"));
        assert_eq!(o.captures.len(), 2);
        let first = &o.captures[0];
        assert_eq!(first.capture_id, "4ba29b50-be7b-44f5-a492-113e6a865e22");
        assert_eq!(first.refunded_amount, 5000);
        assert_eq!(
            first.shipping_info[0].shipping_method,
            Some(ShippingMethod::Home)
        );
        assert_eq!(
            first.shipping_info[0].tracking_number.as_deref(),
            Some("63456415674545679874")
        );
        assert_eq!(o.captures[1].description, None);
        assert_eq!(o.refunds[0].refunded_amount, 5000);
        assert_eq!(o.refunds[0].refunded_at, "2015-12-04T15:17:40Z");
        let billing = o.billing_address.unwrap();
        assert_eq!(billing.postal_code, "41460");
        assert_eq!(billing.given_name, "Klara");
        assert_eq!(o.order_lines[0].total_tax_amount, 7983);
        assert_eq!(o.merchant_reference2.as_deref(), Some("501"));
        assert_eq!(o.klarna_reference.as_deref(), Some("K4MADNY"));
    }

    #[test]
    fn only_order_id_is_required_and_new_values_are_tolerated() {
        let o: OrderManagementOrder =
            serde_json::from_str(r#"{"order_id":"o1","status":"SOMETHING_NEW","extra":[1]}"#)
                .unwrap();
        assert_eq!(o.status, OmStatus::Unknown);
        assert_eq!(o.fraud_status, FraudStatus::Pending);
        assert!(o.captures.is_empty());
        let bare: OrderManagementOrder = serde_json::from_str(r#"{"order_id":"o2"}"#).unwrap();
        assert_eq!(bare.status, OmStatus::Unknown);
        assert_eq!(bare.remaining_authorized_amount, 0);
        assert!(serde_json::from_str::<OrderManagementOrder>(r#"{"status":"CAPTURED"}"#).is_err());
    }

    #[test]
    fn a_capture_with_shipping_info_serializes_as_klarna_documents_it() {
        let capture = CaptureRequest {
            captured_amount: 6000,
            description: Some("Shipped the first box".into()),
            reference: None,
            order_lines: None,
            shipping_info: vec![ShippingInfo {
                shipping_company: Some("DHL".into()),
                shipping_method: Some(ShippingMethod::DHLPackstation),
                tracking_number: Some("63456415674545679874".into()),
                tracking_uri: Some("http://shipping.example/track/1".into()),
                ..ShippingInfo::default()
            }],
            shipping_delay: None,
        };
        let expected: Value = serde_json::from_str(
            r#"{"captured_amount": 6000, "description": "Shipped the first box",
                "shipping_info": [{"shipping_company": "DHL", "shipping_method": "DHLPackstation",
                  "tracking_number": "63456415674545679874",
                  "tracking_uri": "http://shipping.example/track/1"}]}"#,
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&capture).unwrap(), expected);
        // Nothing optional goes on the wire when it is not set.
        let bare = CaptureRequest {
            captured_amount: 1,
            ..CaptureRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&bare).unwrap(),
            json!({"captured_amount": 1})
        );
    }

    #[test]
    fn shipping_methods_are_spelled_like_klarna() {
        let all = [
            (ShippingMethod::PickUpStore, "PickUpStore"),
            (ShippingMethod::Home, "Home"),
            (ShippingMethod::BoxReg, "BoxReg"),
            (ShippingMethod::BoxUnreg, "BoxUnreg"),
            (ShippingMethod::PickUpPoint, "PickUpPoint"),
            (ShippingMethod::Own, "Own"),
            (ShippingMethod::Postal, "Postal"),
            (ShippingMethod::DHLPackstation, "DHLPackstation"),
            (ShippingMethod::Digital, "Digital"),
            (ShippingMethod::Undefined, "Undefined"),
            (ShippingMethod::PickUpWarehouse, "PickUpWarehouse"),
            (ShippingMethod::ClickCollect, "ClickCollect"),
            (ShippingMethod::PalletDelivery, "PalletDelivery"),
        ];
        for (method, wire) in all {
            assert_eq!(serde_json::to_value(method).unwrap(), json!(wire));
        }
        assert_eq!(
            serde_json::to_value(OmStatus::PartCaptured).unwrap(),
            json!("PART_CAPTURED")
        );
    }

    #[test]
    fn shipping_info_limits_name_the_field() {
        let info = ShippingInfo {
            shipping_company: Some("x".repeat(101)),
            tracking_number: Some("1".repeat(100)),
            tracking_uri: Some("u".repeat(1025)),
            ..ShippingInfo::default()
        };
        assert_eq!(
            info.too_long(3),
            vec![
                "shipping_info[3].shipping_company",
                "shipping_info[3].tracking_uri"
            ]
        );
    }

    #[test]
    fn other_requests_serialize_only_what_is_set() {
        let refs = MerchantReferences {
            merchant_reference1: Some("10001".into()),
            merchant_reference2: None,
        };
        assert_eq!(
            serde_json::to_value(&refs).unwrap(),
            json!({"merchant_reference1": "10001"})
        );
        let auth = UpdateAuthorization {
            order_amount: 900,
            ..UpdateAuthorization::default()
        };
        assert_eq!(
            serde_json::to_value(&auth).unwrap(),
            json!({"order_amount": 900})
        );
        let refund = RefundRequest {
            refunded_amount: 500,
            reference: Some("R1".into()),
            ..RefundRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&refund).unwrap(),
            json!({"refunded_amount": 500, "reference": "R1"})
        );
    }
}
