//! The rate limits the service applies itself, each nested over the caller's address prefixes
//! (`crate::limits::Scope`) so rotating addresses inside one holder's prefix gains nothing:
//! registrations (each costs a DCR client at Adobe), with one budget for everyone on top, and
//! TempPass starts (each registration is a new identity at Adobe, and so a new TempPass: this
//! bounds free viewing by inventing device ids). Refusals are counted by the limit that
//! refused, for `/metrics`.

use std::{net::IpAddr, time::Duration};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};

use super::ServiceError;
use crate::limits::{Limited, LocalLimiter, NestedLimits, Rate, Refusal, Scope, SharedLimiter};

/// Registrations one address (IPv4 address, IPv6 /64) may make at once, then one more per minute.
pub const REGISTRATIONS_PER_ADDRESS: Rate = Rate::new(10, Duration::from_secs(60));
/// Registrations one IPv4 /24 may make at once, then one more per 20 s.
pub const REGISTRATIONS_PER_IPV4_24: Rate = Rate::new(30, Duration::from_secs(20));
/// Registrations one IPv6 /56 (one home's delegation) may make at once, then one more per 30 s.
pub const REGISTRATIONS_PER_IPV6_56: Rate = Rate::new(20, Duration::from_secs(30));
/// Registrations one IPv6 /48 may make at once, then one more per 10 s: a hundredth of the
/// default budget for everyone, so draining it takes a hundred /48s, not one.
pub const REGISTRATIONS_PER_IPV6_48: Rate = Rate::new(50, Duration::from_secs(10));
/// Registrations of all devices per second by default (after a burst of 50 seconds' worth).
pub const DEFAULT_REGISTRATIONS_PER_SECOND: u32 = 10;

/// Registrations of all devices: `per_second`, after a burst of 50 seconds' worth.
pub fn registrations(per_second: u32) -> Rate {
    let per_second = per_second.max(1);
    Rate::new(
        per_second.saturating_mul(50),
        Duration::from_secs(1) / per_second,
    )
}

/// TempPass starts one address (IPv4 address, IPv6 /64) may make, then one more per eight hours.
pub const TEMPPASS_PER_ADDRESS: Rate = Rate::new(3, Duration::from_secs(8 * 3600));
/// TempPass starts one IPv6 /56 (one home's 256 /64s) may make, then one more per four hours.
pub const TEMPPASS_PER_IPV6_56: Rate = Rate::new(6, Duration::from_secs(4 * 3600));
/// TempPass starts one IPv6 /48 may make, then one more per two hours.
pub const TEMPPASS_PER_IPV6_48: Rate = Rate::new(12, Duration::from_secs(2 * 3600));

/// The scopes registrations are limited over, narrowest first, with their rates.
pub fn registration_rates(per_second: u32) -> [(Scope, Rate); 5] {
    [
        (Scope::Address, REGISTRATIONS_PER_ADDRESS),
        (Scope::Ipv4Net24, REGISTRATIONS_PER_IPV4_24),
        (Scope::Ipv6Net56, REGISTRATIONS_PER_IPV6_56),
        (Scope::Ipv6Net48, REGISTRATIONS_PER_IPV6_48),
        (Scope::Everyone, registrations(per_second)),
    ]
}

/// The scopes TempPass starts are limited over, narrowest first, with their rates. IPv4 stays
/// per address: a /24 is often many homes behind a carrier's NAT.
pub const TEMPPASS_RATES: [(Scope, Rate); 3] = [
    (Scope::Address, TEMPPASS_PER_ADDRESS),
    (Scope::Ipv6Net56, TEMPPASS_PER_IPV6_56),
    (Scope::Ipv6Net48, TEMPPASS_PER_IPV6_48),
];

/// The service's limiters; local to the process or shared by several nodes, as built.
#[derive(Clone, Debug)]
pub struct ServiceLimits {
    registrations: NestedLimits,
    temppass: NestedLimits,
    refusals: Family<RefusalLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    action: &'static str,
    limit: &'static str,
}

impl ServiceLimits {
    /// The default rates, counted in this process.
    pub fn local() -> Self {
        Self::local_at(DEFAULT_REGISTRATIONS_PER_SECOND)
    }

    /// The default rates but `registrations_per_second` in total, counted in this process.
    pub fn local_at(registrations_per_second: u32) -> Self {
        Self::new(
            |_, _, rate| LocalLimiter::shared(rate),
            registrations_per_second,
        )
    }

    /// The default rates but `registrations_per_second` in total, each limiter made by
    /// `limiter(action, scope, rate)` (`action` is `registration` or `temppass`).
    pub fn new(
        limiter: impl Fn(&str, Scope, Rate) -> SharedLimiter,
        registrations_per_second: u32,
    ) -> Self {
        let nested = |action: &str, rates: &[(Scope, Rate)]| {
            NestedLimits::new(
                rates
                    .iter()
                    .map(|&(scope, rate)| (scope, limiter(action, scope, rate)))
                    .collect(),
            )
        };
        Self {
            registrations: nested(
                "registration",
                &registration_rates(registrations_per_second),
            ),
            temppass: nested("temppass", &TEMPPASS_RATES),
            refusals: Family::default(),
        }
    }

    /// Adds `tve_limit_refusals_total` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_limit_refusals",
            "Registrations and TempPass starts refused, by the limit that refused (address, \
             ipv4_24, ipv6_56, ipv6_48, everyone)",
            self.refusals.clone(),
        );
    }

    /// Admits one registration from `ip`, or says how long to wait.
    pub(super) async fn admit_registration(&self, ip: IpAddr) -> Result<(), ServiceError> {
        let taken = self.registrations.take(ip).await;
        self.admitted("registration", taken)
    }

    /// Admits one TempPass start from `ip`, or says how long to wait.
    pub(super) async fn admit_temppass(&self, ip: IpAddr) -> Result<(), ServiceError> {
        let taken = self.temppass.take(ip).await;
        self.admitted("temppass", taken)
    }

    fn admitted(
        &self,
        action: &'static str,
        taken: Result<(), Refusal>,
    ) -> Result<(), ServiceError> {
        let Err(refusal) = taken else {
            return Ok(());
        };
        match refusal.limited {
            Limited::Wait(wait) => {
                self.refusals
                    .get_or_create(&RefusalLabels {
                        action,
                        limit: refusal.scope.label(),
                    })
                    .inc();
                Err(ServiceError::TooMany(wait))
            }
            // The counts cannot be reached: not a limit at work, and readiness says so.
            Limited::Unavailable => Err(ServiceError::SharedStateUnavailable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `n`th /64 of the IPv6 /48 2001:db8:1::/48, spread over its /56s.
    fn home_in_one_site(n: u32) -> IpAddr {
        let subnet = ((n % 256) << 8) | ((n / 256) % 256);
        format!("2001:db8:1:{subnet:x}::1").parse().expect("ip")
    }

    async fn admitted(mut admit: impl AsyncFnMut(IpAddr) -> bool, attempts: u32) -> u32 {
        let mut admitted = 0;
        for n in 0..attempts {
            if admit(home_in_one_site(n)).await {
                admitted += 1;
            }
        }
        admitted
    }

    #[tokio::test]
    async fn one_ipv6_site_cannot_drain_the_registrations_of_everyone() {
        let limits = ServiceLimits::local();
        let from_one_site = admitted(
            async |ip| limits.admit_registration(ip).await.is_ok(),
            5_000,
        )
        .await;
        assert!(from_one_site <= 50, "{from_one_site} admitted from one /48");
        for other in ["2001:db8:2::1", "198.51.100.7"] {
            let ip = other.parse().expect("ip");
            assert!(
                limits.admit_registration(ip).await.is_ok(),
                "{other} still registers"
            );
        }
    }

    #[tokio::test]
    async fn one_ipv6_site_gets_a_handful_of_temppass_starts() {
        let limits = ServiceLimits::local();
        let from_one_site =
            admitted(async |ip| limits.admit_temppass(ip).await.is_ok(), 5_000).await;
        assert!(from_one_site <= 12, "{from_one_site} started from one /48");
        let home = "2001:db8:2:100::1".parse().expect("ip");
        let mut from_one_home = 0;
        for _ in 0..10 {
            if limits.admit_temppass(home).await.is_ok() {
                from_one_home += 1;
            }
        }
        assert_eq!(
            from_one_home, 3,
            "a /64 of another site keeps its own three"
        );
    }
}
