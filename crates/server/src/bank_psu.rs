//! The bookkeeper as Klarna Open Banking must see them: `psu {ip_address, user_agent}` on the
//! session and on every consent call the bookkeeper starts (contract §0, §3.4). Klarna wants
//! "the current PSU information", never "outdated or placeholder values", and may deactivate a
//! client that sends them; so this is where the rules live:
//!
//! - **Address**: the client address as the checkout takes it ([`client_ip`]: the TCP peer, or
//!   `X-Forwarded-For` only from a proxy in `KC_TRUSTED_PROXIES`).
//! - **Loopback or unspecified address** (`127.0.0.1`, `::1`, `0.0.0.0`): that is this machine,
//!   not the bookkeeper. ERPNext Banking swaps `127.0.0.1` for the server's public address
//!   (asked from `checkip.amazonaws.com`), which is still not the bookkeeper's. Here, in
//!   playground and live mode the call is refused (500 with a support id; the log tells the
//!   operator to name the reverse proxy in `KC_TRUSTED_PROXIES`). In sandbox mode, where the demo
//!   and the tests run on loopback, [`SANDBOX_PSU_ADDRESS`] (TEST-NET-1, RFC 5737) is sent.
//! - **User agent**: the `User-Agent` header as sent. Without one (not a browser) the call is
//!   refused with 400 naming the header: a made-up value is the placeholder Klarna forbids.
//!
//! A call nobody started (a scheduled sync) passes no psu at all, as Klarna's unattended calls do.

use crate::client_addr::{client_ip, TrustedProxies};
use crate::config::Mode;
use crate::error::AppError;
use crate::lang::say;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use klarna::xs2a::Psu;
use klarna::FieldProblem;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use thiserror::Error;

/// Sent for a loopback bookkeeper in sandbox mode only: a documentation address (TEST-NET-1),
/// so the sandbox, which refuses loopback like Klarna's `validate-ip` logins, accepts it.
pub const SANDBOX_PSU_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PsuError {
    #[error("the request has no User-Agent header")]
    NoUserAgent,
    #[error(
        "the bookkeeper's address is {0}, this machine's own: Klarna must get the bookkeeper's \
         real address. Behind a reverse proxy, name the proxy in KC_TRUSTED_PROXIES so its \
         X-Forwarded-For is believed"
    )]
    Loopback(IpAddr),
}

impl From<PsuError> for AppError {
    fn from(e: PsuError) -> AppError {
        match e {
            PsuError::NoUserAgent => AppError::bad_request(say(
                "User-Agent: Klarna needs your browser's user agent; open this page in a browser.",
                "User-Agent: Klarna benötigt die Kennung Ihres Browsers; öffnen Sie diese Seite in einem Browser.",
            ))
            .on("user-agent", FieldProblem::Required),
            e @ PsuError::Loopback(_) => AppError::internal("sending the bookkeeper to Klarna", e),
        }
    }
}

/// The psu of a request: pure, so the rules are tested without a server.
pub fn psu_of(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
    mode: Mode,
) -> Result<Psu, PsuError> {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|ua| !ua.is_empty())
        .ok_or(PsuError::NoUserAgent)?;
    let mut ip = client_ip(peer, headers, trusted).to_canonical();
    if ip.is_loopback() || ip.is_unspecified() {
        if mode != Mode::Sandbox {
            return Err(PsuError::Loopback(ip));
        }
        ip = IpAddr::V4(SANDBOX_PSU_ADDRESS);
    }
    Ok(Psu {
        user_agent: user_agent.to_string(),
        ip_address: ip.to_string(),
    })
}

/// The bookkeeper at the keyboard: a handler taking it makes an attended Open Banking call.
pub struct Attended(pub Psu);

impl FromRequestParts<AppState> for Attended {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, AppError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .ok_or_else(|| {
                AppError::internal(
                    "finding the bookkeeper's address",
                    "no ConnectInfo: serve with into_make_service_with_connect_info",
                )
            })?;
        let psu = psu_of(
            peer.ip(),
            &parts.headers,
            &app.config.trusted_proxies,
            app.config.mode,
        )?;
        Ok(Attended(psu))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    const UA: (&str, &str) = ("user-agent", "Mozilla/5.0 (X11; Linux x86_64)");

    #[test]
    fn the_address_is_the_checkouts_client_address() {
        let proxy = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let forwarded = headers(&[UA, ("x-forwarded-for", "198.51.100.7")]);
        let psu = psu_of(ip("10.0.0.2"), &forwarded, &proxy, Mode::Live).unwrap();
        assert_eq!(psu.ip_address, "198.51.100.7");
        assert_eq!(psu.user_agent, UA.1);
        // From a peer nobody trusts the header is not believed.
        let psu = psu_of(ip("203.0.113.9"), &forwarded, &proxy, Mode::Live).unwrap();
        assert_eq!(psu.ip_address, "203.0.113.9");
        let psu = psu_of(
            ip("::ffff:203.0.113.9"),
            &headers(&[UA]),
            &proxy,
            Mode::Live,
        )
        .unwrap();
        assert_eq!(psu.ip_address, "203.0.113.9", "mapped IPv4 is sent as IPv4");
    }

    #[test]
    fn a_loopback_bookkeeper_is_refused_outside_the_sandbox_and_replaced_in_it() {
        let none = TrustedProxies::default();
        for peer in ["127.0.0.1", "::1", "0.0.0.0", "::ffff:127.0.0.1"] {
            for mode in [Mode::Live, Mode::Playground] {
                let e = psu_of(ip(peer), &headers(&[UA]), &none, mode).unwrap_err();
                assert!(matches!(e, PsuError::Loopback(_)), "{peer}");
                assert!(e.to_string().contains("KC_TRUSTED_PROXIES"));
                let app: AppError = e.into();
                assert_eq!(app.status.as_u16(), 500);
                assert!(app.body.support_id.is_some());
            }
            let psu = psu_of(ip(peer), &headers(&[UA]), &none, Mode::Sandbox).unwrap();
            assert_eq!(psu.ip_address, "192.0.2.1", "{peer}");
        }
        // A trusted proxy on loopback forwarding a loopback client is still loopback.
        let local = TrustedProxies::parse("127.0.0.1").unwrap();
        let h = headers(&[UA, ("x-forwarded-for", "127.0.0.1")]);
        assert!(psu_of(ip("127.0.0.1"), &h, &local, Mode::Live).is_err());
    }

    #[test]
    fn no_user_agent_is_refused_rather_than_made_up() {
        let none = TrustedProxies::default();
        for h in [headers(&[]), headers(&[("user-agent", "  ")])] {
            let e = psu_of(ip("203.0.113.9"), &h, &none, Mode::Sandbox).unwrap_err();
            assert_eq!(e, PsuError::NoUserAgent);
            let app: AppError = e.into();
            assert_eq!(app.status.as_u16(), 400);
            assert_eq!(app.body.fields[0].field, "user-agent");
        }
    }
}
