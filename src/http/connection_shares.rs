//! Each client's share of a listener's connections, so one host (or one site rotating through
//! its addresses) cannot take them all with idle or slow sockets: an IPv4 address or IPv6 /64
//! may hold 1/16 of them, an IPv4 /24 or IPv6 /48 a quarter. Exempt peers (the trusted proxies,
//! loopback) are held to no share: behind a balancer the peer is the balancer, and its clients'
//! waits are capped by the address it forwards (`limits::WaitSlots`).

use std::{net::IpAddr, sync::Arc};

use ipnet::IpNet;

use crate::limits::{address_key, canonical_ip, site_key, Held, OpenCounts};

/// The part of the connections one IPv4 address or IPv6 /64 may hold: 1 in this many.
pub const ADDRESS_SHARE: usize = 16;
/// The part of the connections one IPv4 /24 or IPv6 /48 may hold: 1 in this many.
pub const SITE_SHARE: usize = 4;

/// Open connections by client prefix, for one listener.
#[derive(Debug)]
pub struct ConnectionShares {
    open: Arc<OpenCounts>,
    per_address: usize,
    per_site: usize,
    exempt: Arc<[IpNet]>,
}

impl ConnectionShares {
    /// Shares of `max_connections` (at least one connection each), none for `exempt` peers.
    pub fn new(max_connections: usize, exempt: Arc<[IpNet]>) -> Self {
        Self {
            open: Arc::default(),
            per_address: (max_connections / ADDRESS_SHARE).max(1),
            per_site: (max_connections / SITE_SHARE).max(1),
            exempt,
        }
    }

    /// Whether `ip` is held to no share.
    pub fn is_exempt(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.exempt.iter().any(|net| net.contains(&ip))
    }

    /// A place for one more connection of `client`, held until dropped; none when its address
    /// or its site holds its share already.
    pub fn take(&self, client: IpAddr) -> Option<Held> {
        if self.is_exempt(client) {
            return self.open.take(Vec::new());
        }
        self.open.take(vec![
            (address_key(client), self.per_address),
            (site_key(client), self.per_site),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().expect("ip")
    }

    fn shares(exempt: &[&str]) -> ConnectionShares {
        let exempt: Vec<IpNet> = exempt.iter().map(|n| n.parse().expect("net")).collect();
        ConnectionShares::new(64, exempt.into())
    }

    #[test]
    fn an_address_holds_a_sixteenth_and_a_site_a_quarter() {
        let shares = shares(&[]);
        let held: Vec<Held> = (0..4)
            .filter_map(|_| shares.take(ip("2001:db8:1:1::1")))
            .collect();
        assert_eq!(held.len(), 4);
        assert!(shares.take(ip("2001:db8:1:1::2")).is_none(), "the same /64");
        let site: Vec<Held> = (2..20)
            .filter_map(|n| shares.take(ip(&format!("2001:db8:1:{n}::1"))))
            .collect();
        assert_eq!(site.len(), 12, "16 for the /48");
        assert!(shares.take(ip("2001:db8:2::1")).is_some(), "another /48");
        drop(held);
        assert!(
            shares.take(ip("2001:db8:1:1::1")).is_some(),
            "places come back"
        );
    }

    #[test]
    fn mapped_ipv4_shares_its_address_and_24() {
        let shares = shares(&[]);
        let held: Vec<Held> = (0..4)
            .filter_map(|_| shares.take(ip("::ffff:203.0.113.9")))
            .collect();
        assert_eq!(held.len(), 4);
        assert!(shares.take(ip("203.0.113.9")).is_none());
        assert!(shares.take(ip("203.0.113.10")).is_some());
    }

    #[test]
    fn exempt_peers_are_held_to_no_share() {
        let shares = shares(&["10.0.0.0/8", "::1/128"]);
        let held: Vec<Held> = (0..100)
            .filter_map(|_| shares.take(ip("::ffff:10.1.1.1")))
            .collect();
        assert_eq!(held.len(), 100);
        assert!(shares.is_exempt(ip("::1")));
        assert!(!shares.is_exempt(ip("127.0.0.1")));
    }
}
