//! The `PUT /xs2a/v1/sessions` body we send Klarna (contract §3.2), and its test against
//! literal JSON written from Klarna's session page and ERPNext Banking's request.

use super::dates::{consent_end, CONSENT_DAYS};
use klarna::date::Date;
use klarna::xs2a::{ConsentScope, Empty, Psu, SessionRequest, TransactionsScope};

/// `PUT /xs2a/v1/sessions`: the bookkeeper, and a consent for accounts, balances and the
/// transactions of `from` through the consent's last day (ERPNext Banking sends the same
/// explicit window: today + 90 days). Consent calls must stay inside it.
pub(super) fn session_request(psu: Psu, from: Date, today: Date, language: &str) -> SessionRequest {
    SessionRequest {
        psu,
        // Klarna's app then speaks the bookkeeper's language too.
        language: Some(language.into()),
        consent_scope: ConsentScope {
            accounts: Some(Empty {}),
            balances: Some(Empty {}),
            transactions: Some(TransactionsScope {
                from_date: Some(from.to_string()),
                to_date: Some(consent_end(today).to_string()),
            }),
            lifetime: Some(CONSENT_DAYS),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_session_body_is_the_one_klarnas_docs_describe() {
        let psu = Psu {
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
                .into(),
            ip_address: "198.51.100.7".into(),
        };
        let from = Date::parse("2026-01-01").unwrap();
        let today = Date::parse("2026-06-15").unwrap();
        let sent = serde_json::to_value(session_request(psu, from, today, "de")).unwrap();
        // docs.openbanking.klarna.com/xs2a/session.html: psu {user_agent, ip_address} required;
        // consent_scope.transactions {from_date, to_date} as YYYY-MM-DD; lifetime in days.
        let expected = json!({
            "psu": {
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "ip_address": "198.51.100.7"
            },
            "language": "de",
            "consent_scope": {
                "accounts": {},
                "balances": {},
                "transactions": {"from_date": "2026-01-01", "to_date": "2026-09-13"},
                "lifetime": 90
            }
        });
        assert_eq!(sent, expected);
    }
}
