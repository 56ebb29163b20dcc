//! The one error model of the checkout (design §5) and the one place that turns it into words.

use crate::api::ApiFailure;
use crate::i18n::{t, Lang, Text};
use klarna::api::ErrorCode;
use klarna::FieldError;

#[derive(Clone, Debug, PartialEq)]
pub enum CheckoutError {
    ScriptLoadFailed,
    Network,
    SessionExpired,
    InvalidFields(Vec<FieldError>),
    Cancelled,
    Rejected,
    /// Every category was refused.
    Unavailable,
    AuthorizationExpired,
    /// The server's rate limit: this connection started too many checkouts or orders.
    TooManyRequests,
    Internal(Option<String>),
}

impl CheckoutError {
    pub fn message(&self, lang: Lang) -> String {
        let text = match self {
            CheckoutError::ScriptLoadFailed => Text::ScriptLoadFailed,
            CheckoutError::Network => Text::Network,
            CheckoutError::SessionExpired => Text::SessionRenewed,
            CheckoutError::InvalidFields(_) => Text::InvalidFields,
            CheckoutError::Cancelled => Text::Cancelled,
            CheckoutError::Rejected => Text::Rejected,
            CheckoutError::Unavailable => Text::NoCategoryLeft,
            CheckoutError::AuthorizationExpired => Text::AuthorizationExpired,
            CheckoutError::TooManyRequests => Text::TooManyRequests,
            CheckoutError::Internal(None) => Text::Internal,
            CheckoutError::Internal(Some(id)) => {
                return format!(
                    "{} ({}: {id})",
                    t(lang, Text::Internal),
                    t(lang, Text::SupportId)
                );
            }
        };
        t(lang, text).to_string()
    }

    /// Whether a "Try again" button repeats the failed step.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            CheckoutError::ScriptLoadFailed | CheckoutError::Network | CheckoutError::Internal(_)
        )
    }

    /// Stable name for the `error` DOM event.
    pub fn code(&self) -> &'static str {
        match self {
            CheckoutError::ScriptLoadFailed => "script_load_failed",
            CheckoutError::Network => "network",
            CheckoutError::SessionExpired => "session_expired",
            CheckoutError::InvalidFields(_) => "invalid_fields",
            CheckoutError::Cancelled => "cancelled",
            CheckoutError::Rejected => "rejected",
            CheckoutError::Unavailable => "unavailable",
            CheckoutError::AuthorizationExpired => "authorization_expired",
            CheckoutError::TooManyRequests => "too_many_requests",
            CheckoutError::Internal(_) => "internal",
        }
    }
}

impl From<ApiFailure> for CheckoutError {
    fn from(f: ApiFailure) -> CheckoutError {
        match f {
            ApiFailure::Network => CheckoutError::Network,
            ApiFailure::Api(e) => match e.code {
                ErrorCode::InvalidFields => CheckoutError::InvalidFields(e.fields),
                ErrorCode::SessionExpired | ErrorCode::UnknownSession => {
                    CheckoutError::SessionExpired
                }
                ErrorCode::AuthorizationExpired | ErrorCode::AuthorizationMismatch => {
                    CheckoutError::AuthorizationExpired
                }
                ErrorCode::Rejected => CheckoutError::Rejected,
                ErrorCode::KlarnaUnavailable => CheckoutError::Network,
                ErrorCode::TooManyRequests => CheckoutError::TooManyRequests,
                ErrorCode::BadRequest | ErrorCode::UnknownCart | ErrorCode::Internal => {
                    CheckoutError::Internal(e.support_id)
                }
                // Bank-linking codes (compiled in only with `klarna/banking`); checkout
                // endpoints never send them.
                #[allow(unreachable_patterns)]
                _ => CheckoutError::Internal(e.support_id),
            },
        }
    }
}
