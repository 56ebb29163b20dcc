//! The server's Order Management calls (`klarna_om.rs`) against the sandbox, on an order
//! placed through the checkout: what goes on the wire (literal JSON, the idempotency key, no
//! body on bodiless POSTs), the ids that come back in headers, Klarna's refusals as typed
//! errors, and ids that would steer a URL refused before anything is sent.

use klarna::api::PlacedOrder;
use klarna::order_management::{
    CaptureRequest, MerchantReferences, OmStatus, RefundRequest, ShippingInfo, ShippingMethod,
    UpdateAuthorization, UpdateCustomerDetails,
};
use klarna::payments::FraudStatus;
use serde_json::{json, Value};
use server::klarna_client::{KlarnaCallError, KlarnaClient};
use server::klarna_om::OrderAction;

mod common;

use common::*;

/// A server with an accepted order at Klarna: the environment and Klarna's order id.
async fn placed() -> (Env, String) {
    let env = start().await;
    let session = env.start_checkout().await;
    let billing = address("customer+de@klarna.com");
    let token = env.token(&session, &billing).await;
    let order: PlacedOrder = env
        .place(&session, &token, &billing)
        .await
        .json()
        .await
        .unwrap();
    assert!(env.sandbox.order_snapshot(&order.order_id).is_some());
    (env, order.order_id)
}

/// The last request Klarna got whose path ends with `suffix`.
fn sent(env: &Env, suffix: &str) -> sandbox::RecordedRequest {
    env.sandbox
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("no request to …{suffix}"))
}

fn refused_with(result: Result<(), KlarnaCallError>, code: &str) {
    match result {
        Err(KlarnaCallError::Api { status: 403, body }) => assert_eq!(body.error_code, code),
        other => panic!("expected 403 {code}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_capture_goes_out_as_klarna_documents_it_and_a_retry_gets_the_same_capture_id() {
    let (env, order_id) = placed().await;
    let klarna = &env.state.klarna;
    let amount = klarna.read_order(&order_id).await.unwrap().order_amount;
    let request = CaptureRequest {
        captured_amount: 1000,
        description: Some("First box".into()),
        shipping_info: vec![ShippingInfo {
            shipping_company: Some("DHL".into()),
            shipping_method: Some(ShippingMethod::DHLPackstation),
            tracking_number: Some("63456415674545679874".into()),
            ..ShippingInfo::default()
        }],
        ..CaptureRequest::default()
    };
    let id = klarna
        .capture(&order_id, &request, "capture-1")
        .await
        .unwrap();
    let wire = sent(&env, "/captures");
    assert_eq!(wire.method, "POST");
    assert_eq!(wire.idempotency_key.as_deref(), Some("capture-1"));
    let expected: Value = serde_json::from_str(
        r#"{"captured_amount": 1000, "description": "First box",
            "shipping_info": [{"shipping_company": "DHL", "shipping_method": "DHLPackstation",
                               "tracking_number": "63456415674545679874"}]}"#,
    )
    .unwrap();
    assert_eq!(wire.body, expected);

    // The answer was lost, say: the retry with the same key learns the same capture.
    let again = klarna
        .capture(&order_id, &request, "capture-1")
        .await
        .unwrap();
    assert_eq!(again, id);
    assert_eq!(env.sandbox.capture_count(&order_id), 1);

    let capture = klarna.read_capture(&order_id, &id).await.unwrap();
    assert_eq!(capture.captured_amount, 1000);
    assert_eq!(capture.shipping_info, request.shipping_info);
    let order = klarna.read_order(&order_id).await.unwrap();
    assert_eq!(order.status, OmStatus::PartCaptured);
    assert_eq!(order.fraud_status, FraudStatus::Accepted);
    assert_eq!(order.captured_amount, 1000);
    assert_eq!(order.remaining_authorized_amount, amount - 1000);
    assert_eq!(Some(order), env.sandbox.order_snapshot(&order_id));
}

#[tokio::test]
async fn bodiless_posts_send_no_body_but_the_key_and_refusals_come_back_typed() {
    let (env, order_id) = placed().await;
    let klarna = &env.state.klarna;
    klarna
        .order_action(&order_id, OrderAction::ExtendAuthorizationTime, "extend-1")
        .await
        .unwrap();
    let wire = sent(&env, "/extend-authorization-time");
    assert_eq!(
        (wire.body.clone(), wire.idempotency_key.as_deref()),
        (Value::Null, Some("extend-1"))
    );
    klarna
        .order_action(&order_id, OrderAction::Cancel, "cancel-1")
        .await
        .unwrap();
    let wire = sent(&env, "/cancel");
    assert_eq!(
        (wire.body, wire.idempotency_key.as_deref()),
        (Value::Null, Some("cancel-1"))
    );
    assert_eq!(
        klarna.read_order(&order_id).await.unwrap().status,
        OmStatus::Cancelled
    );

    refused_with(
        klarna
            .order_action(&order_id, OrderAction::Cancel, "cancel-2")
            .await,
        "CANCEL_NOT_ALLOWED",
    );
    refused_with(
        klarna
            .order_action(&order_id, OrderAction::ExtendAuthorizationTime, "extend-2")
            .await,
        "NOT_ALLOWED",
    );
    refused_with(
        klarna
            .order_action(
                &order_id,
                OrderAction::ReleaseRemainingAuthorization,
                "release-1",
            )
            .await,
        "NOT_ALLOWED",
    );
    let capture = CaptureRequest {
        captured_amount: 100,
        ..CaptureRequest::default()
    };
    match klarna.capture(&order_id, &capture, "capture-x").await {
        Err(KlarnaCallError::Api { status: 403, body }) => {
            assert_eq!(body.error_code, "CAPTURE_NOT_ALLOWED")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn refund_release_and_the_patches_reach_klarna_with_their_keys() {
    let (env, order_id) = placed().await;
    let klarna = &env.state.klarna;
    let capture = CaptureRequest {
        captured_amount: 1000,
        ..CaptureRequest::default()
    };
    let capture_id = klarna.capture(&order_id, &capture, "c-1").await.unwrap();
    klarna
        .add_shipping_info(
            &order_id,
            &capture_id,
            &[ShippingInfo {
                shipping_company: Some("UPS".into()),
                ..ShippingInfo::default()
            }],
            "ship-1",
        )
        .await
        .unwrap();
    assert_eq!(
        sent(&env, "/shipping-info").body,
        json!({"shipping_info": [{"shipping_company": "UPS"}]})
    );
    klarna
        .trigger_send_out(&order_id, &capture_id, "send-1")
        .await
        .unwrap();
    assert_eq!(sent(&env, "/trigger-send-out").body, Value::Null);

    let refund = RefundRequest {
        refunded_amount: 400,
        reference: Some("R1".into()),
        ..RefundRequest::default()
    };
    let refund_id = klarna.refund(&order_id, &refund, "r-1").await.unwrap();
    assert_eq!(
        sent(&env, "/refunds").body,
        json!({"refunded_amount": 400, "reference": "R1"})
    );
    let order = klarna.read_order(&order_id).await.unwrap();
    assert_eq!(order.refunds[0].refund_id, refund_id);
    assert_eq!(order.refunded_amount, 400);

    let below = UpdateAuthorization {
        order_amount: 999,
        ..UpdateAuthorization::default()
    };
    refused_with(
        klarna.update_authorization(&order_id, &below, "a-1").await,
        "NOT_ALLOWED",
    );
    let less = UpdateAuthorization {
        order_amount: order.order_amount - 100,
        ..UpdateAuthorization::default()
    };
    klarna
        .update_authorization(&order_id, &less, "a-2")
        .await
        .unwrap();
    assert_eq!(
        sent(&env, "/authorization").idempotency_key.as_deref(),
        Some("a-2")
    );
    klarna
        .order_action(
            &order_id,
            OrderAction::ReleaseRemainingAuthorization,
            "rel-1",
        )
        .await
        .unwrap();
    assert_eq!(
        klarna.read_order(&order_id).await.unwrap().status,
        OmStatus::Captured
    );

    let refs = MerchantReferences {
        merchant_reference2: Some("erp-501".into()),
        ..MerchantReferences::default()
    };
    klarna
        .update_merchant_references(&order_id, &refs, "m-1")
        .await
        .unwrap();
    assert_eq!(
        sent(&env, "/merchant-references").body,
        json!({"merchant_reference2": "erp-501"})
    );
    let mut other = address("customer+de@klarna.com");
    other.city = "Düsseldorf".into();
    let billing = UpdateCustomerDetails {
        billing_address: Some(other.clone()),
        shipping_address: None,
    };
    refused_with(
        klarna
            .update_customer_details(&order_id, &billing, "d-1")
            .await,
        "NOT_ALLOWED",
    );
    let shipping = UpdateCustomerDetails {
        shipping_address: Some(other),
        billing_address: None,
    };
    klarna
        .update_customer_details(&order_id, &shipping, "d-2")
        .await
        .unwrap();
    let order = klarna.read_order(&order_id).await.unwrap();
    assert_eq!(order.shipping_address.unwrap().city, "Düsseldorf");
    assert_eq!(order.merchant_reference2.as_deref(), Some("erp-501"));
}

#[tokio::test]
async fn ids_that_would_steer_the_url_are_refused_before_klarna() {
    let (env, order_id) = placed().await;
    let klarna = &env.state.klarna;
    let before = env.sandbox.requests().len();
    let capture = CaptureRequest {
        captured_amount: 1,
        ..CaptureRequest::default()
    };
    assert!(matches!(
        klarna
            .capture("../../payments/v1/sessions", &capture, "k")
            .await,
        Err(KlarnaCallError::UnsafeId(_))
    ));
    assert!(matches!(
        klarna.read_capture(&order_id, "x?y=1").await,
        Err(KlarnaCallError::UnsafeId(_))
    ));
    assert!(matches!(
        klarna.trigger_send_out(&order_id, "a/b", "k").await,
        Err(KlarnaCallError::UnsafeId(_))
    ));
    assert_eq!(env.sandbox.requests().len(), before);
}

#[tokio::test]
async fn a_201_without_a_capture_id_is_a_decode_error() {
    // A Klarna stand-in that captures but forgets the header.
    let app = axum::Router::new().route(
        "/ordermanagement/v1/orders/{id}/captures",
        axum::routing::post(|| async { axum::http::StatusCode::CREATED }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let klarna = KlarnaClient::new(url, "u".into(), server::config::Secret::new("p"));
    let capture = CaptureRequest {
        captured_amount: 1,
        ..CaptureRequest::default()
    };
    match klarna.capture("o1", &capture, "k").await {
        Err(KlarnaCallError::Decode(m)) => assert!(m.contains("Capture-Id"), "{m}"),
        other => panic!("{other:?}"),
    }
}
