//! The TV's public address and source port: the connection's peer (the client a trusted
//! balancer named in its PROXY protocol header, when the listener reads one), or, only when the
//! peer is a configured trusted proxy, the client that `X-Forwarded-For` names, with the port
//! from the configured client-port header. A port of 0 means unknown: Adobe is then told none.

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
/// (`ip:port`), else the one in the client-port header, else 0 (unknown).
pub fn client_addr(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
    let client = forwarded_client(config, peer, headers);
    if client == peer || client.port() != 0 {
        return client;
    }
    let port = config
        .client_port_header
        .as_ref()
        .and_then(|name| headers.get(name))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u16>().ok())
        .unwrap_or(0);
    SocketAddr::new(client.ip(), port)
}

fn forwarded_client(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
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

    /// §3.1 and §14.2: Adobe must get the device's source port; behind nginx it comes in the
    /// configured header, and only from a trusted proxy.
    #[test]
    fn the_client_port_header_gives_a_forwarded_client_its_port() {
        let args = Args::try_parse_from([
            "tve-activate",
            "--trusted-proxies",
            "10.0.0.0/8",
            "--client-port-header",
            "X-Client-Port",
        ])
        .expect("flags parse");
        let config = Config::try_from(args).expect("valid");
        let mut headers = forwarded("198.51.100.7");
        headers.insert("x-client-port", "53124".parse().expect("header"));
        assert_eq!(
            client_addr(&config, addr("10.1.1.1:5000"), &headers),
            addr("198.51.100.7:53124")
        );
        assert_eq!(
            client_addr(&config, addr("203.0.113.9:41000"), &headers),
            addr("203.0.113.9:41000"),
            "an untrusted peer's header is ignored"
        );
        headers.insert("x-client-port", "junk".parse().expect("header"));
        assert_eq!(
            client_addr(&config, addr("10.1.1.1:5000"), &headers),
            addr("198.51.100.7:0"),
            "an unreadable port is unknown"
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
