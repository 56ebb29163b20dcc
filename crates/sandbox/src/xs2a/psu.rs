//! The consumer ("PSU") a call is made for: `psu {user_agent, ip_address}`.
//!
//! Klarna requires it on every session (`PUT /xs2a/v1/sessions`, "psu and redirect_return_url
//! have to be provided") and takes it, optionally, on consent calls: present when the consumer
//! started the call (attended, higher limits), absent for a scheduled refresh (unattended). When
//! present it "must hold the current PSU information, and must not contain outdated or
//! placeholder values" (consent-api-howto). So the sandbox refuses a missing `psu` on a session,
//! and everywhere an empty user agent or an `ip_address` that is not an address, or that is a
//! loopback or unspecified one (`127.0.0.1`, `::1`, `0.0.0.0`): that is the server's own
//! address, never a consumer's, and Klarna's test bank has `validate-ip` logins for exactly this.
//!
//! Every psu received (or its absence on a consent call) is recorded, so a test can assert that
//! the calls a bookkeeper started carried their address: `GET /_control/xs2a/psu`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::IpAddr;

/// `psu` as the request wrote it; anything may be missing.
#[derive(Deserialize)]
struct PsuRequest {
    user_agent: Option<String>,
    ip_address: Option<String>,
}

/// A psu that passed the checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Psu {
    pub user_agent: String,
    pub ip_address: String,
}

/// One call and the psu it carried (`None`: an unattended consent call).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PsuSeen {
    pub call: &'static str,
    pub psu: Option<Psu>,
}

/// Reads `psu` from a request body. `required` on sessions; on consent calls it may be absent.
/// Errors are `(location, message)` pairs for one 400 naming every bad field.
pub(crate) fn check(
    value: Option<&Value>,
    required: bool,
    errors: &mut Vec<(String, String)>,
) -> Option<Psu> {
    let value = match value {
        None | Some(Value::Null) if required => {
            errors.push((
                "psu".into(),
                "psu is required: {user_agent, ip_address} of the consumer".into(),
            ));
            return None;
        }
        None | Some(Value::Null) => return None,
        Some(v) => v,
    };
    let Ok(psu) = serde_json::from_value::<PsuRequest>(value.clone()) else {
        errors.push((
            "psu".into(),
            "psu must be an object {user_agent, ip_address}".into(),
        ));
        return None;
    };
    let before = errors.len();
    let user_agent = psu.user_agent.unwrap_or_default();
    if user_agent.trim().is_empty() {
        errors.push(("psu.user_agent".into(), "user_agent is required".into()));
    }
    let ip_address = psu.ip_address.unwrap_or_default();
    if let Some(problem) = address_problem(&ip_address) {
        errors.push(("psu.ip_address".into(), problem.into()));
    }
    (errors.len() == before).then_some(Psu {
        user_agent,
        ip_address,
    })
}

/// Why `ip` is not a consumer's address, if it is not.
fn address_problem(ip: &str) -> Option<&'static str> {
    if ip.is_empty() {
        return Some("ip_address is required");
    }
    let Ok(parsed) = ip.parse::<IpAddr>() else {
        return Some("must be an IPv4 or IPv6 address");
    };
    let parsed = parsed.to_canonical();
    if parsed.is_loopback() || parsed.is_unspecified() {
        return Some("must be the consumer's address, not a loopback or unspecified one");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(value: Option<Value>, required: bool) -> Vec<String> {
        let mut errors = Vec::new();
        check(value.as_ref(), required, &mut errors);
        errors.into_iter().map(|(l, _)| l).collect()
    }

    #[test]
    fn a_consumer_address_and_user_agent_pass() {
        for ip in ["203.0.113.7", "2001:db8::1", "10.1.2.3"] {
            let psu = json!({"user_agent": "Mozilla/5.0", "ip_address": ip});
            assert!(errors_of(Some(psu), true).is_empty(), "{ip}");
        }
        assert!(errors_of(None, false).is_empty(), "unattended");
    }

    #[test]
    fn placeholders_and_the_servers_own_address_are_refused() {
        assert_eq!(errors_of(None, true), ["psu"]);
        assert_eq!(errors_of(Some(json!("x")), false), ["psu"]);
        for ip in [
            "127.0.0.1",
            "::1",
            "0.0.0.0",
            "::",
            "::ffff:127.0.0.1",
            "",
            "local",
        ] {
            let psu = json!({"user_agent": "Mozilla/5.0", "ip_address": ip});
            assert_eq!(errors_of(Some(psu), false), ["psu.ip_address"], "{ip}");
        }
        let psu = json!({"user_agent": " ", "ip_address": "203.0.113.7"});
        assert_eq!(errors_of(Some(psu), false), ["psu.user_agent"]);
    }
}
