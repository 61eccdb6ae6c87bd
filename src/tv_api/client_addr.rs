//! The TV's public address and source port: the connection's peer, or, only when the peer is a
//! configured trusted proxy, the client that `X-Forwarded-For` names.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{request::Parts, HeaderMap, StatusCode},
};

use super::error::ApiError;
use crate::{config::Config, state::AppState};

/// Where the calling device is, as Adobe Pass must be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "connection_unknown",
                    "The server cannot tell where this request comes from.",
                    "contact-support",
                )
            })?;
        Ok(Self(client_addr(&state.config, peer, &parts.headers)))
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; then the right-most
/// `X-Forwarded-For` entry that is not a trusted proxy (a malformed entry stops the walk at the
/// last hop that can be believed). A forwarded client's port is the one its entry carries
/// (`ip:port`), else 0 (unknown).
pub fn client_addr(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
    let peer = canonical(peer);
    if !config.is_trusted_proxy(peer.ip()) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(hop) = parse_entry(entry) else {
            break;
        };
        client = hop;
        if !config.is_trusted_proxy(hop.ip()) {
            break;
        }
    }
    client
}

/// `addr` with an IPv4-mapped IPv6 address (a dual-stack listener's IPv4 peer) as IPv4.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(crate::limits::canonical_ip(addr.ip()), addr.port())
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_entry(entry: &str) -> Option<SocketAddr> {
    entry
        .parse::<SocketAddr>()
        .ok()
        .or_else(|| {
            entry
                .parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 0))
        })
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::config::Args;

    fn config(proxies: &str) -> Config {
        let args = Args::try_parse_from(["tve-activate", "--trusted-proxies", proxies])
            .expect("flags parse");
        Config::try_from(args).expect("valid")
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().expect("header"));
        headers
    }

    fn addr(raw: &str) -> SocketAddr {
        raw.parse().expect("socket address")
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_forward() {
        let config = config("10.0.0.0/8");
        let peer = addr("203.0.113.9:41000");
        assert_eq!(client_addr(&config, peer, &forwarded("198.51.100.1")), peer);
    }

    #[test]
    fn mapped_ipv4_peers_are_matched_as_ipv4() {
        let config = config("10.0.0.0/8");
        let mapped = addr("[::ffff:10.1.1.1]:5000");
        assert_eq!(
            client_addr(&config, mapped, &forwarded("198.51.100.7")),
            addr("198.51.100.7:0"),
            "a mapped proxy address is trusted as its IPv4 form"
        );
        let viewer = addr("[::ffff:203.0.113.9]:41000");
        assert_eq!(
            client_addr(&config, viewer, &HeaderMap::new()),
            addr("203.0.113.9:41000"),
            "Adobe is told the IPv4 address"
        );
        assert_eq!(
            client_addr(&config, mapped, &forwarded("::ffff:198.51.100.8")),
            addr("198.51.100.8:0")
        );
    }

    #[test]
    fn trusted_proxies_name_the_client() {
        let config = config("10.0.0.0/8");
        let peer = addr("10.1.1.1:5000");
        assert_eq!(
            client_addr(&config, peer, &forwarded("198.51.100.7, 10.2.2.2")),
            addr("198.51.100.7:0")
        );
        assert_eq!(
            client_addr(&config, peer, &forwarded("6.6.6.6, 198.51.100.7:4321")),
            addr("198.51.100.7:4321"),
            "entries left of the first untrusted hop may be forged"
        );
        assert_eq!(client_addr(&config, peer, &HeaderMap::new()), peer);
        assert_eq!(
            client_addr(&config, peer, &forwarded("198.51.100.7, garbage")),
            peer,
            "a malformed entry is not believed"
        );
        assert_eq!(
            client_addr(&config, peer, &forwarded("[2001:db8::1]:80")),
            addr("[2001:db8::1]:80")
        );
    }
}
