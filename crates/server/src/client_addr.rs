//! Who is asking, for the limits that count per client (checkout rate limits, sign-in
//! throttling): the TCP peer, or — only when the peer is a proxy the operator trusts
//! (`KC_TRUSTED_PROXIES`) — the address that proxy reports in `X-Forwarded-For`. A header from
//! anyone else is never believed, since a client can write whatever it likes there. Addresses
//! are then reduced to a [`ClientKey`]: one IPv4 address, or one IPv6 /64 (the smallest network
//! a single subscriber usually gets, so rotating addresses inside it buys nothing).

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use thiserror::Error;

/// A network given as `address/prefix`, or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CidrError {
    #[error("{0:?} is not an IP address or a network such as 10.0.0.0/8 or 2001:db8::/32")]
    NotAnAddress(String),
    #[error("{0:?}: the prefix length must be a number up to {1}")]
    Prefix(String, u8),
    #[error("{0:?} has bits set after the prefix; did you mean {1}?")]
    HostBits(String, Cidr),
}

/// The first `prefix` bits of `bits` (of `width` bits), the rest zero.
fn mask(bits: u128, prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        bits & (u128::MAX << (width - prefix))
    }
}

fn bits_of(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4).into(), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if ip.is_ipv4() != self.network.is_ipv4() {
            return false;
        }
        let (bits, width) = bits_of(ip);
        mask(bits, self.prefix, width) == bits_of(self.network).0
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(entry: &str) -> Result<Cidr, CidrError> {
        let (address, prefix) = match entry.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (entry, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| CidrError::NotAnAddress(entry.into()))?;
        let width = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            // Digits only: `u8::from_str` would also take "+8".
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| CidrError::Prefix(entry.into(), width))?,
            Some(_) => return Err(CidrError::Prefix(entry.into(), width)),
        };
        let (bits, _) = bits_of(address);
        let network = mask(bits, prefix, width);
        if network != bits {
            let suggestion = Cidr {
                network: match address {
                    IpAddr::V4(_) => IpAddr::V4((network as u32).into()),
                    IpAddr::V6(_) => IpAddr::V6(network.into()),
                },
                prefix,
            };
            return Err(CidrError::HostBits(entry.into(), suggestion));
        }
        // `::ffff:10.0.0.0/104` is the IPv4 network 10.0.0.0/8; peers are compared as IPv4.
        if let (IpAddr::V6(v6), true) = (address, prefix >= 96) {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Ok(Cidr {
                    network: IpAddr::V4(v4),
                    prefix: prefix - 96,
                });
            }
        }
        Ok(Cidr {
            network: address,
            prefix,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`KC_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Comma-separated addresses and networks; empty entries are skipped. The error names the
    /// first bad entry.
    pub fn parse(list: &str) -> Result<TrustedProxies, CidrError> {
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(Cidr::from_str)
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`192.0.2.1:443`,
/// `[2001:db8::1]:443`); `None` for anything else (`unknown`, obfuscated names, garbage).
fn forwarded_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// The client's address. Behind trusted proxies, `X-Forwarded-For` is read from the right
/// (each proxy appends the address it saw): trusted hops are skipped, and the first untrusted
/// one is the client. If every hop is trusted, the farthest one is the client. An entry that is
/// not an address ends the walk at the last hop vouched for: whatever stands left of it was
/// written by someone we cannot vouch for.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.trusts(client) {
        return client;
    }
    let lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or_default())
        .collect();
    // Several header lines form one list, in order (RFC 9110 §5.3).
    for entry in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
        let Some(ip) = forwarded_entry(entry) else {
            break;
        };
        client = ip;
        if !trusted.trusts(ip) {
            break;
        }
    }
    client
}

/// What per-client limits count by: an IPv4 address, or the /64 network of an IPv6 address
/// (IPv4-mapped IPv6 addresses count as their IPv4 address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4(std::net::Ipv4Addr),
    /// The upper 64 bits of the address.
    V6Net(u64),
}

impl ClientKey {
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ClientKey::V4(v4),
            IpAddr::V6(v6) => ClientKey::V6Net((u128::from(v6) >> 64) as u64),
        }
    }

    /// The key of the request described by `parts`; the server must be served with
    /// `into_make_service_with_connect_info::<SocketAddr>()`.
    pub fn of_parts(
        parts_extensions: &axum::http::Extensions,
        headers: &HeaderMap,
        trusted: &TrustedProxies,
    ) -> Result<ClientKey, AppError> {
        let ConnectInfo(peer) = parts_extensions
            .get::<ConnectInfo<SocketAddr>>()
            .ok_or_else(|| {
                AppError::internal(
                    "finding the client's address",
                    "no ConnectInfo: serve with into_make_service_with_connect_info",
                )
            })?;
        Ok(ClientKey::of(client_ip(peer.ip(), headers, trusted)))
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::V4(v4) => write!(f, "{v4}"),
            ClientKey::V6Net(net) => write!(f, "{}/64", Ipv6Addr::from(u128::from(*net) << 64)),
        }
    }
}

impl FromRequestParts<AppState> for ClientKey {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        ClientKey::of_parts(
            &parts.extensions,
            &parts.headers,
            &app.config.trusted_proxies,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn parses_addresses_and_networks_of_both_families() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.255.1.2")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.2.3")), "mapped IPv4 is IPv4");
        assert!(
            !c.contains(ip("::a00:1")),
            "an IPv6 address is not in an IPv4 net"
        );
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6: Cidr = " 2001:db8::/32".trim().parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")) && !all.contains(ip("::1")));
        let mapped: Cidr = "::ffff:10.0.0.0/104".parse().unwrap();
        assert_eq!(mapped, "10.0.0.0/8".parse().unwrap());
        assert!("::1/128".parse::<Cidr>().unwrap().contains(ip("::1")));
    }

    #[test]
    fn bad_networks_are_named() {
        for bad in [
            "",
            "10.0.0",
            "localhost",
            "/8",
            "1.2.3.4:80",
            "fe80::1%eth0",
        ] {
            assert_eq!(
                bad.parse::<Cidr>(),
                Err(CidrError::NotAnAddress(bad.into())),
                "{bad}"
            );
        }
        for bad in [
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "10.0.0.0/x",
            "::/129",
            "10.0.0.0/0008",
        ] {
            assert!(
                matches!(bad.parse::<Cidr>(), Err(CidrError::Prefix(e, _)) if e == bad),
                "{bad}"
            );
        }
        let e = "10.1.2.3/8".parse::<Cidr>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"10.1.2.3/8\" has bits set after the prefix; did you mean 10.0.0.0/8?"
        );
        let e = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8, proxy.internal").unwrap_err();
        assert_eq!(e, CidrError::NotAnAddress("proxy.internal".into()));
        assert_eq!(
            trusted(" 127.0.0.1 , ::1,").0.len(),
            2,
            "blanks are skipped"
        );
        assert!(trusted("").is_empty());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let peer = ip("203.0.113.5");
        let spoof = xff(&["198.51.100.1"]);
        assert_eq!(client_ip(peer, &spoof, &TrustedProxies::default()), peer);
        assert_eq!(client_ip(peer, &spoof, &trusted("10.0.0.0/8")), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client() {
        let proxies = trusted("10.0.0.0/8, 2001:db8:ff::/48");
        let peer = ip("10.0.0.2");
        // The client prepended a fake address; the proxies appended what they saw.
        let h = xff(&["1.1.1.1, 198.51.100.7", "10.0.0.9"]);
        assert_eq!(client_ip(peer, &h, &proxies), ip("198.51.100.7"));
        let h = xff(&["1.1.1.1, [2001:db8:1::5]:1234, 2001:db8:ff::1"]);
        assert_eq!(client_ip(peer, &h, &proxies), ip("2001:db8:1::5"));
        // No header, or one the proxy did not fill in: the proxy is all we know.
        assert_eq!(client_ip(peer, &HeaderMap::new(), &proxies), peer);
        assert_eq!(client_ip(peer, &xff(&["1.1.1.1, unknown"]), &proxies), peer);
        // A garbled hop ends the walk at the last hop vouched for, never left of it.
        let h = xff(&["1.1.1.1, garbage, 10.0.0.7"]);
        assert_eq!(client_ip(peer, &h, &proxies), ip("10.0.0.7"));
        // Every hop trusted: the farthest one.
        let h = xff(&["10.1.1.1, 10.0.0.7"]);
        assert_eq!(client_ip(peer, &h, &proxies), ip("10.1.1.1"));
        // A mapped IPv4 peer is the IPv4 proxy; a mapped entry is its IPv4 client.
        let h = xff(&["::ffff:198.51.100.8"]);
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.2"), &h, &proxies),
            ip("198.51.100.8")
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
        );
        assert_ne!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.1")),
            ClientKey::of(ip("192.0.2.1"))
        );
        assert_ne!(
            ClientKey::of(ip("192.0.2.1")),
            ClientKey::of(ip("192.0.2.2"))
        );
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2::1")).to_string(),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.1")).to_string(),
            "192.0.2.1"
        );
    }
}
