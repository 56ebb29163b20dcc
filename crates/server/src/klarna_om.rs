//! The server's calls to Klarna's Order Management API (contract §1.12): read an order, then
//! everything after the sale — capture, refund, cancel, release or extend the authorization,
//! change amount, addresses and references. Apart from [`crate::klarna_client`] because it is
//! a second API with its own rules: every mutating call carries the caller's
//! `Klarna-Idempotency-Key` (one per logical operation, reused on retry, so a retried capture
//! never captures twice), POSTs without a body send none at all, and the ids Klarna creates
//! come back in headers (`Capture-Id`, `Refund-Id`), not in a body.

use crate::klarna_client::{plain, KlarnaCallError, KlarnaClient};
use klarna::order_management::{
    Capture, CaptureRequest, MerchantReferences, OrderManagementOrder, RefundRequest, ShippingInfo,
    ShippingInfoRequest, UpdateAuthorization, UpdateCustomerDetails,
};
use reqwest::Method;
use serde::Serialize;

/// `/ordermanagement/v1/orders/{order_id}{rest}`, the order id checked first.
fn order_path(order_id: &str, rest: &str) -> Result<String, KlarnaCallError> {
    Ok(format!(
        "/ordermanagement/v1/orders/{}{rest}",
        plain(order_id)?
    ))
}

/// The id Klarna put in `header` of a 201; without it the answer is unusable.
fn created_id(
    headers: &reqwest::header::HeaderMap,
    header: &str,
) -> Result<String, KlarnaCallError> {
    headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| KlarnaCallError::Decode(format!("a 201 without a {header} header")))
}

/// Order Management's actions on a whole order that take no body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderAction {
    /// Cancels an order with no captures.
    Cancel,
    /// Gives up what a part-captured order has not captured; the order becomes CAPTURED.
    ReleaseRemainingAuthorization,
    /// Moves the authorization's end to today plus the account's lifetime (28 days), at most
    /// 180 days after the order was created.
    ExtendAuthorizationTime,
}

impl OrderAction {
    fn path(self) -> &'static str {
        match self {
            OrderAction::Cancel => "/cancel",
            OrderAction::ReleaseRemainingAuthorization => "/release-remaining-authorization",
            OrderAction::ExtendAuthorizationTime => "/extend-authorization-time",
        }
    }
}

impl KlarnaClient {
    /// Order Management's view of an order: status, amounts, captures, refunds and its fraud
    /// decision as Klarna has it now.
    pub async fn read_order(
        &self,
        order_id: &str,
    ) -> Result<OrderManagementOrder, KlarnaCallError> {
        self.send_json::<(), _>(Method::GET, &order_path(order_id, "")?, None)
            .await
    }

    /// Captures `captured_amount`; Klarna answers 201 with the new capture's id in
    /// `Capture-Id`, which is returned.
    pub async fn capture(
        &self,
        order_id: &str,
        request: &CaptureRequest,
        idempotency_key: &str,
    ) -> Result<String, KlarnaCallError> {
        let path = order_path(order_id, "/captures")?;
        let (headers, _) = self
            .send_full(Method::POST, &path, Some(request), Some(idempotency_key))
            .await?;
        created_id(&headers, "Capture-Id")
    }

    pub async fn read_capture(
        &self,
        order_id: &str,
        capture_id: &str,
    ) -> Result<Capture, KlarnaCallError> {
        let path = order_path(order_id, &format!("/captures/{}", plain(capture_id)?))?;
        self.send_json::<(), _>(Method::GET, &path, None).await
    }

    /// Adds tracking details to a capture (at most 500 items per capture).
    pub async fn add_shipping_info(
        &self,
        order_id: &str,
        capture_id: &str,
        shipping_info: &[ShippingInfo],
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        let path = order_path(
            order_id,
            &format!("/captures/{}/shipping-info", plain(capture_id)?),
        )?;
        let body = ShippingInfoRequest {
            shipping_info: shipping_info.to_vec(),
        };
        self.mutate(Method::POST, &path, Some(&body), idempotency_key)
            .await
    }

    /// Asks Klarna to send the customer the capture's payment details again.
    pub async fn trigger_send_out(
        &self,
        order_id: &str,
        capture_id: &str,
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        let path = order_path(
            order_id,
            &format!("/captures/{}/trigger-send-out", plain(capture_id)?),
        )?;
        self.mutate::<()>(Method::POST, &path, None, idempotency_key)
            .await
    }

    /// Refunds part of what was captured; returns Klarna's `Refund-Id`.
    pub async fn refund(
        &self,
        order_id: &str,
        request: &RefundRequest,
        idempotency_key: &str,
    ) -> Result<String, KlarnaCallError> {
        let path = order_path(order_id, "/refunds")?;
        let (headers, _) = self
            .send_full(Method::POST, &path, Some(request), Some(idempotency_key))
            .await?;
        created_id(&headers, "Refund-Id")
    }

    /// One of Order Management's bodiless POSTs on an order (cancel, release, extend).
    pub async fn order_action(
        &self,
        order_id: &str,
        action: OrderAction,
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        let path = order_path(order_id, action.path())?;
        self.mutate::<()>(Method::POST, &path, None, idempotency_key)
            .await
    }

    /// A new order amount (never below what was captured) and, optionally, new lines.
    pub async fn update_authorization(
        &self,
        order_id: &str,
        request: &UpdateAuthorization,
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        self.mutate(
            Method::PATCH,
            &order_path(order_id, "/authorization")?,
            Some(request),
            idempotency_key,
        )
        .await
    }

    /// A new shipping address; Klarna refuses a changed billing address.
    pub async fn update_customer_details(
        &self,
        order_id: &str,
        request: &UpdateCustomerDetails,
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        self.mutate(
            Method::PATCH,
            &order_path(order_id, "/customer-details")?,
            Some(request),
            idempotency_key,
        )
        .await
    }

    pub async fn update_merchant_references(
        &self,
        order_id: &str,
        request: &MerchantReferences,
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        self.mutate(
            Method::PATCH,
            &order_path(order_id, "/merchant-references")?,
            Some(request),
            idempotency_key,
        )
        .await
    }

    /// A call answered 204: the body, when there is one, goes as JSON; the key always goes.
    async fn mutate<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        self.send_full(method, path, body, Some(idempotency_key))
            .await
            .map(|_| ())
    }
}
