//! How much of the address space one bucket counts together. An IPv4 address or an IPv6 /64 is
//! one home; but whoever holds one /64 usually holds many: a home is delegated an IPv6 /56, a
//! site or a free tunnel-broker account a /48, and a crowd of IPv4 addresses often shares a /24.
//! Limits nested over these wider prefixes make one holder spend one budget however many
//! addresses it rotates through; [`Scope::Everyone`] is the budget of all callers together.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{address_key, canonical_ip};

/// A prefix of the caller's address that a limit counts together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One IPv4 address or one IPv6 /64: a home.
    Address,
    /// The IPv4 /24 around the address (IPv6 addresses have none).
    Ipv4Net24,
    /// The IPv6 /56 around the address: what an ISP delegates to one home (IPv4 has none).
    Ipv6Net56,
    /// The IPv6 /48 around the address: one site, or one free tunnel-broker account.
    Ipv6Net48,
    /// Every caller together.
    Everyone,
}

impl Scope {
    /// The key of the bucket `ip` falls in at this scope; none when the scope is of the other
    /// address family. IPv4-mapped IPv6 addresses count as IPv4.
    pub fn key(self, ip: IpAddr) -> Option<String> {
        match (self, canonical_ip(ip)) {
            (Self::Address, ip) => Some(address_key(ip)),
            (Self::Ipv4Net24, IpAddr::V4(v4)) => Some(format!("{}/24", ipv4_net(v4, 24))),
            (Self::Ipv6Net56, IpAddr::V6(v6)) => Some(format!("{}/56", ipv6_net(v6, 56))),
            (Self::Ipv6Net48, IpAddr::V6(v6)) => Some(format!("{}/48", ipv6_net(v6, 48))),
            (Self::Everyone, _) => Some("all".to_owned()),
            _ => None,
        }
    }

    /// The name metrics and logs give the limit of this scope.
    pub fn label(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Ipv4Net24 => "ipv4_24",
            Self::Ipv6Net56 => "ipv6_56",
            Self::Ipv6Net48 => "ipv6_48",
            Self::Everyone => "everyone",
        }
    }
}

/// The key of the widest prefix one holder is assumed to have: the IPv4 /24 or the IPv6 /48
/// around `ip` (the key [`Scope::Ipv4Net24`] or [`Scope::Ipv6Net48`] gives it).
pub fn site_key(ip: IpAddr) -> String {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => format!("{}/24", ipv4_net(v4, 24)),
        IpAddr::V6(v6) => format!("{}/48", ipv6_net(v6, 48)),
    }
}

fn ipv4_net(ip: Ipv4Addr, bits: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip) & (u32::MAX << (32 - bits)))
}

fn ipv6_net(ip: Ipv6Addr, bits: u32) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(ip) & (u128::MAX << (128 - bits)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn each_scope_keys_its_prefix() {
        let v6 = ip("2001:db8:1:2ab:c::9");
        assert_eq!(
            Scope::Address.key(v6).as_deref(),
            Some("2001:db8:1:2ab::/64")
        );
        assert_eq!(
            Scope::Ipv6Net56.key(v6).as_deref(),
            Some("2001:db8:1:200::/56")
        );
        assert_eq!(Scope::Ipv6Net48.key(v6).as_deref(), Some("2001:db8:1::/48"));
        assert_eq!(Scope::Ipv4Net24.key(v6), None);
        assert_eq!(Scope::Everyone.key(v6).as_deref(), Some("all"));

        let v4 = ip("203.0.113.7");
        assert_eq!(Scope::Address.key(v4).as_deref(), Some("203.0.113.7"));
        assert_eq!(Scope::Ipv4Net24.key(v4).as_deref(), Some("203.0.113.0/24"));
        assert_eq!(Scope::Ipv6Net56.key(v4), None);
        assert_eq!(Scope::Ipv6Net48.key(v4), None);
        assert_eq!(
            Scope::Ipv4Net24.key(ip("::ffff:203.0.113.9")).as_deref(),
            Some("203.0.113.0/24"),
            "mapped IPv4 is IPv4"
        );
    }

    #[test]
    fn a_site_is_an_ipv4_24_or_an_ipv6_48() {
        for raw in ["203.0.113.7", "::ffff:203.0.113.7", "2001:db8:1:2ab:c::9"] {
            let ip = ip(raw);
            let wide = Scope::Ipv4Net24
                .key(ip)
                .or_else(|| Scope::Ipv6Net48.key(ip));
            assert_eq!(Some(site_key(ip)), wide, "{raw}");
        }
    }

    #[test]
    fn the_homes_of_one_site_share_its_key() {
        let a = ip("2001:db8:1:0::1");
        let b = ip("2001:db8:1:ff:1::1");
        let c = ip("2001:db8:1:100::1");
        assert_eq!(Scope::Ipv6Net56.key(a), Scope::Ipv6Net56.key(b));
        assert_ne!(Scope::Ipv6Net56.key(a), Scope::Ipv6Net56.key(c));
        assert_eq!(Scope::Ipv6Net48.key(a), Scope::Ipv6Net48.key(c));
        assert_ne!(
            Scope::Ipv6Net48.key(a),
            Scope::Ipv6Net48.key(ip("2001:db8:2::1"))
        );
    }
}
