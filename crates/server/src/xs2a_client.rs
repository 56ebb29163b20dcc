//! The one place that talks to Klarna Open Banking (XS2A), or the sandbox, which answers alike.

use crate::config::Secret;
use klarna::xs2a::{
    Account, Consent, Envelope, ErrorBody, Flow, FlowRead, Psu, Session, SessionRead,
    SessionRequest,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Xs2aError {
    #[error("Open Banking did not answer: {0}")]
    Unreachable(String),
    #[error("Open Banking answered {status}: {} {}", body.error.code, body.error.message)]
    Api { status: u16, body: ErrorBody },
    /// A success we could not read. Klarna rotated the consent token all the same: when the
    /// answer's JSON has one (`data.consent_token`), it is kept here to be stored.
    #[error("Open Banking's answer could not be read: {reason}")]
    Decode {
        reason: String,
        consent_token: Option<String>,
    },
    /// Not sent: an id or a link that could steer a call carrying our token elsewhere.
    #[error("not sent to Open Banking: {0}")]
    Refused(String),
}

impl Xs2aError {
    /// No answer, or Klarna's own trouble (5xx, 429): the same call may work in a moment.
    pub fn is_transient(&self) -> bool {
        match self {
            Xs2aError::Unreachable(_) => true,
            Xs2aError::Api { status, .. } => crate::klarna_client::is_transient_status(*status),
            Xs2aError::Decode { .. } | Xs2aError::Refused(_) => false,
        }
    }

    /// The rotated consent token an error answer (or an answer we could not read) may carry;
    /// it must replace the stored one.
    pub fn rotated_token(&self) -> Option<&str> {
        match self {
            Xs2aError::Api { body, .. } => body.consent_token.as_deref(),
            Xs2aError::Decode { consent_token, .. } => consent_token.as_deref(),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct Xs2aClient {
    http: reqwest::Client,
    base_url: String,
    token: Secret,
}

/// What a consent call returned, with the token that replaces the stored one.
pub struct Rotated<T> {
    pub value: T,
    pub consent_token: String,
}

#[derive(serde::Deserialize, Default)]
struct AccountsResult {
    #[serde(default)]
    accounts: Vec<Account>,
}

impl Xs2aClient {
    pub fn new(base_url: String, token: Secret) -> Xs2aClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Xs2aClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            token,
        }
    }

    /// Flow URLs arrive absolute from Klarna and as paths from the sandbox. A link is followed
    /// only to the configured Klarna host (scheme, host and port as configured: HTTPS outside
    /// the sandbox), never elsewhere: the request carries the API token.
    fn url(&self, path_or_url: &str) -> Result<String, Xs2aError> {
        let url = if path_or_url.starts_with('/') {
            format!("{}{path_or_url}", self.base_url)
        } else {
            path_or_url.to_string()
        };
        let ours = url
            .strip_prefix(&self.base_url)
            .is_some_and(|rest| rest.starts_with('/'));
        if !ours || url.contains("/../") || url.contains('#') || url.contains('@') {
            return Err(Xs2aError::Refused(format!(
                "a link outside {} was not followed",
                self.base_url
            )));
        }
        Ok(url)
    }

    pub async fn create_session(&self, request: &SessionRequest) -> Result<Session, Xs2aError> {
        self.call(Method::PUT, "/xs2a/v1/sessions", Some(request))
            .await
    }

    pub async fn read_session(&self, id: &str) -> Result<SessionRead, Xs2aError> {
        self.call::<(), _>(
            Method::GET,
            &format!("/xs2a/v1/sessions/{}", self::id(id)?),
            None,
        )
        .await
    }

    /// Closes the session; an already closed one counts as closed.
    pub async fn delete_session(&self, id: &str) -> Result<(), Xs2aError> {
        match self
            .send::<()>(
                Method::DELETE,
                &format!("/xs2a/v1/sessions/{}", self::id(id)?),
                None,
            )
            .await
        {
            Ok(_) | Err(Xs2aError::Api { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn start_accounts_flow(&self, session: &Session) -> Result<Flow, Xs2aError> {
        // Klarna's own link (checked against our host when followed), else the documented path.
        let path = match &session.flows.accounts {
            Some(link) => link.clone(),
            None => format!(
                "/xs2a/v1/sessions/{}/flows/accounts",
                id(&session.session_id)?
            ),
        };
        self.call(Method::PUT, &path, Some(&serde_json::json!({})))
            .await
    }

    pub async fn read_flow(&self, session_id: &str, flow_id: &str) -> Result<FlowRead, Xs2aError> {
        self.call::<(), _>(
            Method::GET,
            &format!(
                "/xs2a/v1/sessions/{}/flows/{}",
                id(session_id)?,
                id(flow_id)?
            ),
            None,
        )
        .await
    }

    /// Without a body: Klarna answers 403 to one, even `{}`.
    pub async fn get_consent(&self, session_id: &str) -> Result<Consent, Xs2aError> {
        self.call::<(), _>(
            Method::POST,
            &format!("/xs2a/v1/sessions/{}/consent/get", id(session_id)?),
            None,
        )
        .await
    }

    pub async fn consent_accounts(
        &self,
        consent_id: &str,
        consent_token: &str,
        psu: Option<&Psu>,
    ) -> Result<Rotated<Vec<Account>>, Xs2aError> {
        let body = with_psu(serde_json::json!({"consent_token": consent_token}), psu);
        let data: klarna::xs2a::ConsentAnswer<AccountsResult> = self
            .call(
                Method::POST,
                &format!("/xs2a/v1/consents/{}/accounts/get", id(consent_id)?),
                Some(&body),
            )
            .await?;
        Ok(Rotated {
            value: data.result.accounts,
            consent_token: data.consent_token,
        })
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Xs2aError> {
        let bytes = self.send(method, path, body).await?;
        serde_json::from_slice::<Envelope<T>>(&bytes)
            .map(|e| e.data)
            .map_err(|e| Xs2aError::Decode {
                reason: shape_error(&e),
                consent_token: token_in(&bytes, &["data", "consent_token"]),
            })
    }

    async fn send<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Vec<u8>, Xs2aError> {
        let mut request = self
            .http
            .request(method, self.url(path)?)
            .header("Authorization", format!("Token {}", self.token.expose()));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| Xs2aError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Xs2aError::Unreachable(e.without_url().to_string()))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        // An error body of another shape than documented still carries the rotated token.
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| ErrorBody {
            consent_token: token_in(&bytes, &["consent_token"]),
            ..ErrorBody::default()
        });
        Err(Xs2aError::Api {
            status: status.as_u16(),
            body,
        })
    }
}

/// The string at `path` in a JSON answer whose typed reading failed: the rotated consent token
/// (`data.consent_token` of an answer, `consent_token` of an error) must not be lost with it.
fn token_in(bytes: &[u8], path: &[&str]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let found = path.iter().try_fold(&value, |v, key| v.get(key))?;
    found.as_str().filter(|t| !t.is_empty()).map(str::to_string)
}

/// Why an answer could not be read, without the values serde quotes (a payee's name, an IBAN,
/// a reference): what went wrong and where.
fn shape_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let what = message.split(':').next().unwrap_or_default();
    let what = what
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_string();
    format!("{what} at line {} column {}", e.line(), e.column())
}

impl Xs2aClient {
    /// First page of an account's transactions through the consent, `from` through `to`
    /// (both inside the consented window).
    pub async fn consent_transactions(
        &self,
        consent_id: &str,
        consent_token: &str,
        account_id: &str,
        from: &str,
        to: &str,
        psu: Option<&Psu>,
    ) -> Result<crate::bank_entries::Page, Xs2aError> {
        let body = serde_json::json!({
            "consent_token": consent_token, "account_id": account_id,
            "from_date": from, "to_date": to, "preferred_pagination_size": 100,
        });
        let body = with_psu(body, psu);
        self.call(
            Method::POST,
            &format!("/xs2a/v1/consents/{}/transactions/get", id(consent_id)?),
            Some(&body),
        )
        .await
    }

    /// The next page, by the opaque offset of the previous one.
    pub async fn consent_transactions_next(
        &self,
        consent_id: &str,
        consent_token: &str,
        offset: &str,
        psu: Option<&Psu>,
    ) -> Result<crate::bank_entries::Page, Xs2aError> {
        let body = with_psu(
            serde_json::json!({"consent_token": consent_token, "offset": offset}),
            psu,
        );
        self.call(
            Method::POST,
            &format!("/xs2a/v1/consents/{}/transactions/list", id(consent_id)?),
            Some(&body),
        )
        .await
    }
}

/// A consent call's body with the bookkeeper who started it (`psu`), or without any `psu` when
/// nobody did (an unattended call; Klarna documents the field as optional, not nullable).
fn with_psu(mut body: serde_json::Value, psu: Option<&Psu>) -> serde_json::Value {
    if let Some(psu) = psu {
        body["psu"] = serde_json::json!(psu);
    }
    body
}

/// An id of Klarna's (session, flow, consent) as it may enter a URL: letters, digits, `-` and
/// `_`, at most 128. Anything else (a `/`, `..`, `?`, `#`) could steer a call that carries the
/// API token to another endpoint, so it is refused before anything is sent.
pub fn id(value: &str) -> Result<&str, Xs2aError> {
    let fine = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if fine {
        Ok(value)
    } else {
        Err(Xs2aError::Refused(format!("{value:?} is not an id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Xs2aClient {
        Xs2aClient::new(base.into(), Secret::new("t"))
    }

    #[test]
    fn links_are_followed_only_to_the_configured_host() {
        let live = client("https://api.openbanking.klarna.com");
        assert_eq!(
            live.url("https://api.openbanking.klarna.com/xs2a/v1/sessions/a/flows/accounts")
                .unwrap(),
            "https://api.openbanking.klarna.com/xs2a/v1/sessions/a/flows/accounts"
        );
        assert_eq!(
            live.url("/xs2a/v1/sessions/a").unwrap(),
            "https://api.openbanking.klarna.com/xs2a/v1/sessions/a"
        );
        for hostile in [
            "http://api.openbanking.klarna.com/xs2a/v1/sessions/a",
            "https://api.openbanking.klarna.com.evil.example/xs2a",
            "https://evil.example/xs2a/v1/sessions/a",
            "https://api.openbanking.klarna.com@evil.example/x",
            "https://api.openbanking.klarna.com/xs2a/../../admin",
            "https://api.openbanking.klarna.com",
        ] {
            assert!(live.url(hostile).is_err(), "{hostile}");
        }
        // The sandbox is configured with plain HTTP on loopback, and only that is followed.
        let sandbox = client("http://127.0.0.1:9000/sandbox/");
        assert!(sandbox
            .url("http://127.0.0.1:9000/sandbox/xs2a/v1/x")
            .is_ok());
        assert!(sandbox
            .url("http://127.0.0.1:9001/sandbox/xs2a/v1/x")
            .is_err());
    }

    #[test]
    fn an_unreadable_answer_keeps_its_rotated_token_and_quotes_no_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Strict {
            amount: i64,
        }
        let answer = br#"{"data": {"amount": "Hans Mustermann", "consent_token": "new"}}"#;
        let e = serde_json::from_slice::<Envelope<Strict>>(answer).unwrap_err();
        let reason = shape_error(&e);
        assert!(reason.starts_with("invalid type at line 1"), "{reason}");
        assert!(!reason.contains("Hans"), "{reason}");
        assert_eq!(
            token_in(answer, &["data", "consent_token"]).as_deref(),
            Some("new")
        );
        assert_eq!(token_in(b"<html>", &["data", "consent_token"]), None);
        assert_eq!(
            token_in(
                br#"{"data": {"consent_token": 5}}"#,
                &["data", "consent_token"]
            ),
            None
        );
        let error = Xs2aError::Decode {
            reason,
            consent_token: Some("new".into()),
        };
        assert_eq!(error.rotated_token(), Some("new"));
        assert!(!error.is_transient());
        // An error body of an undocumented shape: the top-level token is kept.
        assert_eq!(
            token_in(
                br#"{"error": "boom", "consent_token": "t2"}"#,
                &["consent_token"]
            )
            .as_deref(),
            Some("t2")
        );
    }

    #[test]
    fn ids_that_could_steer_a_call_are_refused() {
        assert!(id("3f9c0b2e-aa_01").is_ok());
        for bad in [
            "",
            "a/b",
            "..",
            "a?b",
            "a#b",
            "a b",
            "%2e%2e",
            &"x".repeat(129),
        ] {
            assert!(id(bad).is_err(), "{bad:?}");
        }
    }
}
