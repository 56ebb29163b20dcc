//! The server's calls for Klarna's customer tokens (contract §1.10, Customer Token API): create
//! a token from an authorization, read it, charge it with a new order, cancel it. Every POST
//! and PATCH carries the caller's `Klarna-Idempotency-Key`, reused on retry.

use crate::klarna_client::{plain, KlarnaCallError, KlarnaClient};
use klarna::customer_token::{
    CustomerTokenCreated, CustomerTokenRead, CustomerTokenRequest, TokenOrderRequest,
    TokenStatusUpdate,
};
use klarna::payments::KlarnaOrder;
use reqwest::Method;

impl KlarnaClient {
    pub async fn create_customer_token(
        &self,
        authorization_token: &str,
        request: &CustomerTokenRequest,
        idempotency_key: &str,
    ) -> Result<CustomerTokenCreated, KlarnaCallError> {
        let path = format!(
            "/payments/v1/authorizations/{}/customer-token",
            plain(authorization_token)?
        );
        self.send_json(Method::POST, &path, Some((request, idempotency_key)))
            .await
    }

    pub async fn read_customer_token(
        &self,
        token: &str,
    ) -> Result<CustomerTokenRead, KlarnaCallError> {
        let path = format!("/customer-token/v1/tokens/{}", plain(token)?);
        self.send_json::<(), _>(Method::GET, &path, None).await
    }

    /// A new order on the token (Klarna's `customer_token_order`).
    pub async fn charge_customer_token(
        &self,
        token: &str,
        request: &TokenOrderRequest,
        idempotency_key: &str,
    ) -> Result<KlarnaOrder, KlarnaCallError> {
        let path = format!("/customer-token/v1/tokens/{}/order", plain(token)?);
        self.send_json(Method::POST, &path, Some((request, idempotency_key)))
            .await
    }

    /// `PATCH …/status {"status": "CANCELLED"}`; Klarna answers 202 with a sentence.
    pub async fn cancel_customer_token(
        &self,
        token: &str,
        idempotency_key: &str,
    ) -> Result<(), KlarnaCallError> {
        let path = format!("/customer-token/v1/tokens/{}/status", plain(token)?);
        let body = TokenStatusUpdate {
            status: "CANCELLED".into(),
        };
        self.send(Method::PATCH, &path, Some((&body, idempotency_key)))
            .await
            .map(|_| ())
    }
}
