//! Our own browser ↔ server API (design §4). The browser sends references and customer data;
//! every price comes from the server.

use crate::address::{Address, FieldError};
use crate::customer::{Customer, CustomerType};
use crate::order_lines::PricedCart;
use serde::{Deserialize, Serialize};

/// `POST /api/checkout/sessions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartCheckout {
    /// A cart reference the server knows; never a list of prices.
    #[cfg_attr(feature = "openapi", schema(example = "demo"))]
    pub cart: String,
    #[cfg_attr(feature = "openapi", schema(example = "de-DE"))]
    pub locale: String,
    /// The checkout's colours for Klarna's widget (the component reads them off its theme).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget: Option<crate::WidgetOptions>,
}

/// `PATCH /api/checkout/sessions/{session}`: the shopper chose another billing country.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeCountry {
    /// ISO 3166-1 alpha-2.
    #[cfg_attr(feature = "openapi", schema(example = "AT"))]
    pub country: String,
}

/// A payment category as the browser shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentCategory {
    pub identifier: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub badge_url: Option<String>,
}

/// Answer to starting (or renewing) a checkout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckoutSession {
    /// Our session id; Klarna's id stays on the server.
    pub session: String,
    pub client_token: String,
    pub categories: Vec<PaymentCategory>,
    pub cart: PricedCart,
    pub locale: String,
    /// Where the Klarna Payments SDK (`api.js`) is loaded from: Klarna's CDN, or the sandbox's.
    pub sdk_url: String,
    /// Seconds until Klarna's session ends (48 hours after it started). The component starts a
    /// new one when the shopper buys after that, instead of letting Klarna fail.
    pub expires_in_secs: i64,
    /// The billing countries this cart can be bought from: those whose currency the shop has
    /// prices in (Klarna sells in each country's own currency only, and never converts).
    #[serde(default)]
    pub countries: Vec<crate::Country>,
    /// `organization` when the cart is a business purchase: the form then asks for the company.
    #[serde(default)]
    pub customer_type: CustomerType,
}

/// `POST /api/checkout/orders`: idempotent per `authorization_token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    pub session: String,
    pub authorization_token: String,
    pub billing_address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// The organization, exactly as given to `authorize()`; only for a B2B cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
}

/// What the shopper is told after the order exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    Accepted,
    /// Placed, but Klarna reviews it; goods must not ship yet.
    Pending,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlacedOrder {
    pub order_id: String,
    pub state: OrderState,
    pub order_amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// `GET /api/checkout/sessions/{session}/order`: the session's order once it exists (Klarna
/// approved without giving the browser a token, or the order's fraud review ended).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<PlacedOrder>,
}

/// Stable machine-readable error codes; the browser maps each to a state and a sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed body, wrong type, unknown field: a bug in the caller.
    BadRequest,
    /// One or more fields refused; see `fields`.
    InvalidFields,
    UnknownCart,
    UnknownSession,
    /// The checkout session is older than Klarna's 48 hours: start a new one.
    SessionExpired,
    /// The authorization is older than 60 minutes or was used: authorize again.
    AuthorizationExpired,
    /// The cart or address changed after authorization: authorize again.
    AuthorizationMismatch,
    Rejected,
    /// Klarna did not answer or answered 5xx: try again.
    KlarnaUnavailable,
    /// Too many requests from this client (rate limit); wait for `Retry-After`, then try again.
    TooManyRequests,
    /// Banking endpoints: nobody is signed in.
    #[cfg(feature = "banking")]
    SignInRequired,
    /// Banking endpoints: too many wrong passwords from this address; wait, then sign in.
    #[cfg(feature = "banking")]
    TooManyAttempts,
    /// Banking endpoints: missing or wrong CSRF token, or a cross-site request.
    #[cfg(feature = "banking")]
    CsrfRejected,
    /// The bank link's flow has not finished yet (the launcher is still open).
    #[cfg(feature = "banking")]
    LinkNotFinished,
    /// The bank refused or failed (wrong login, maintenance); `message` says which.
    #[cfg(feature = "banking")]
    LinkFailed,
    /// The bookkeeper closed the bank's dialog.
    #[cfg(feature = "banking")]
    LinkAborted,
    /// A sync of the same bank connection is already running (here or on another instance).
    #[cfg(feature = "banking")]
    SyncRunning,
    Internal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Quoted to support; matches a server log line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_id: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            fields: Vec::new(),
            support_id: None,
        }
    }
}

/// `POST /api/auth/sign-in`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub user: String,
    pub password: String,
}

/// Sent back on sign-in: every state-changing banking call repeats it in `X-CSRF-Token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedIn {
    pub user: String,
    pub csrf_token: String,
    /// The server's today (`YYYY-MM-DD`, UTC), the one calendar every bank date is checked
    /// against: the page offers start dates up to it, never the browser's own date, which east
    /// of UTC is already tomorrow just after midnight.
    pub today: String,
}

/// `POST /api/bank-links`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartBankLink {
    #[cfg_attr(feature = "openapi", schema(example = "Muster GmbH"))]
    pub company: String,
    /// `YYYY-MM-DD`, not in the future: transactions are fetched from here on, and never
    /// before it (Klarna refuses dates before the consent's start). Default: 1 January.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "2026-01-01"))]
    pub start_date: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BankLinkStarted {
    pub link: String,
    /// For `XS2A.startFlow`; the only Klarna token the browser ever sees.
    pub client_token: String,
    /// Where the XS2A app launcher script is loaded from.
    pub launcher_url: String,
    pub start_date: String,
}

/// How Klarna's XS2A app launcher ended, as the browser saw it. Only a hint: the server reads
/// the flow's state from Klarna on every ending and decides the outcome itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkEnding {
    /// `onFinished`, or the bookkeeper's "check again" after it.
    Finished,
    /// `onClose` before any other ending (its order against `onFinished` is undocumented).
    Closed,
    /// `onAbort`.
    Aborted,
    /// `onError`, with or without an argument.
    Error,
    /// The bookkeeper started over, or the launcher could not be opened.
    GivenUp,
}

/// `POST /api/bank-links/{link}/end`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndBankLink {
    pub ending: LinkEnding,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Valid,
    /// 14 days or fewer left: renew soon.
    Expiring,
    /// Relink the bank.
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentStatus {
    pub state: ConsentState,
    pub expires_on: String,
    pub days_left: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedAccount {
    pub id: String,
    pub name: String,
    pub masked_iban: String,
    pub holder_name: String,
    pub balance: i64,
    pub currency: String,
}

/// A linked bank as the bookkeeper sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkedBank {
    pub connection: String,
    pub company: String,
    pub bank_name: String,
    pub start_date: String,
    pub consent: ConsentStatus,
    pub accounts: Vec<LinkedAccount>,
    /// The last day the scheduled sync skipped this bank because its consent had expired:
    /// the page says it was not synced and asks for a renewal. Cleared by relinking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_skipped_on: Option<String>,
}

/// `POST /api/accounts/{id}/sync`: fetch new transactions. Without `from_date` the sync goes on
/// from the last synced day (first time: the consent's start).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    #[serde(default)]
    pub from_date: Option<String>,
}

/// Progress and result of a sync; `GET /api/accounts/{id}/sync` shows it while it runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncProgress {
    pub running: bool,
    pub pages: u32,
    pub fetched: u32,
    pub added: u32,
    /// Transactions Klarna sent that the sync could not take (an undocumented state or type,
    /// a negative amount, a processed one without id, one without any date, a shape Klarna's
    /// documentation does not describe): neither booked nor pending, logged without personal
    /// data. The sync goes on without them.
    #[serde(default)]
    pub skipped: u32,
    pub from_date: String,
    pub to_date: String,
    /// How the sync ended; absent while it runs (and before the first sync). A sync whose
    /// server stopped ends `failed` once its lease runs out, never stays "running".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<SyncOutcome>,
    /// Started by the schedule (`KC_SYNC_SCHEDULE`), not by a bookkeeper.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scheduled: bool,
}

/// The end of a sync: `{"state":"ok"}` or `{"state":"failed","error":{…}}` with the error the
/// bookkeeper is shown (in the language of whoever started it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncOutcome {
    Ok,
    Failed { error: ApiError },
}

/// A transaction the bank processed: what the books hold. `amount` in minor units, negative
/// for money that left the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookedTransaction {
    pub booking_date: String,
    pub amount: i64,
    pub currency: String,
    pub counterparty: String,
    pub reference: String,
}

/// A transaction the bank has not processed yet (`GET /api/accounts/{id}/transactions/pending`):
/// never booked nor exported, shown apart, replaced by its booked self once the bank books it.
/// `date` is the bank's value date; `amount` in minor units, negative for money leaving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingTransaction {
    pub date: String,
    pub amount: i64,
    pub currency: String,
    pub counterparty: String,
    pub reference: String,
}
