//! The rate limits the service applies itself, each nested over the caller's address prefixes
//! (`crate::limits::Scope`) so rotating addresses inside one holder's prefix gains nothing:
//! registrations (each costs a DCR client at Adobe), with one budget for everyone on top,
//! TempPass starts (each registration is a new identity at Adobe, and so a new TempPass: this
//! bounds free viewing by inventing device ids), and the steps that make the service call Adobe
//! on a caller's behalf (activation starts, profile reads, provider lists, logouts, the phone's
//! code lookups and sign-ins), per device as well, so no caller spends Adobe's time for everyone
//! (security review, finding 3). Refusals are counted by the limit that refused, for `/metrics`.

use std::{net::IpAddr, sync::Arc, time::Duration};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};

use super::{DeviceSession, Service, ServiceError};
use crate::limits::{
    Limited, LocalLimiter, NestedLimits, Rate, Refusal, Scope, SharedLimiter, Tunable,
};

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

/// Steps reaching Adobe one device may take at once, then one more per 2 s: a TV opening its
/// app, starting a few activations and reading its profile never meets it.
pub const ADOBE_STEPS_PER_DEVICE: Rate = Rate::new(30, Duration::from_secs(2));
/// Steps reaching Adobe one address (IPv4 address, IPv6 /64) may take per second by default,
/// after 30 seconds' worth at once: above Adobe's own pace for one device IP (§12), so a
/// household meets Adobe's pace first, and a caller past twice that is refused at once instead
/// of queueing.
pub const DEFAULT_ADOBE_STEPS_PER_ADDRESS_PER_SECOND: u32 = 2;

/// Steps reaching Adobe from one address: `per_second`, after 30 seconds' worth.
pub fn adobe_steps_per_address(per_second: u32) -> Rate {
    let per_second = per_second.max(1);
    Rate::new(
        per_second.saturating_mul(30),
        Duration::from_secs(1) / per_second,
    )
}
/// Steps reaching Adobe one IPv6 /56 may take at once, then four a second.
pub const ADOBE_STEPS_PER_IPV6_56: Rate = Rate::new(120, Duration::from_millis(250));
/// Steps reaching Adobe one IPv6 /48 may take at once, then ten a second.
pub const ADOBE_STEPS_PER_IPV6_48: Rate = Rate::new(240, Duration::from_millis(100));

/// The scopes steps reaching Adobe are limited over, narrowest first, `per_second` from one
/// address. IPv4 stays per address: a /24 is often many homes behind a carrier's NAT, and Adobe
/// paces each IP anyway.
pub fn adobe_step_rates(per_second: u32) -> [(Scope, Rate); 3] {
    [
        (Scope::Address, adobe_steps_per_address(per_second)),
        (Scope::Ipv6Net56, ADOBE_STEPS_PER_IPV6_56),
        (Scope::Ipv6Net48, ADOBE_STEPS_PER_IPV6_48),
    ]
}

/// Who takes a step that reaches Adobe.
#[derive(Clone, Copy, Debug)]
pub enum Caller<'a> {
    /// A TV with its device id, from its address.
    Tv {
        /// The registration's device id.
        device_id: &'a str,
        /// Where the request came from.
        ip: IpAddr,
    },
    /// A viewer's phone on the activation site, from its address.
    Phone(IpAddr),
}

impl<'a> Caller<'a> {
    /// The TV of `session`, from the address its request came from.
    pub fn tv(session: &'a DeviceSession) -> Self {
        Self::Tv {
            device_id: &session.device.device_id,
            ip: session.identity.connection().ip(),
        }
    }

    fn ip(self) -> IpAddr {
        match self {
            Self::Tv { ip, .. } | Self::Phone(ip) => ip,
        }
    }
}

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
    /// Steps reaching Adobe: per device, then nested over the address; none when switched off.
    adobe_steps: Option<(SharedLimiter, NestedLimits)>,
    tuned: TunedLimits,
    refusals: Family<RefusalLabels, Counter>,
}

/// The limiters whose rates operators change at runtime, also held inside the nested limits.
#[derive(Clone, Debug)]
struct TunedLimits {
    registrations_for_everyone: Arc<Tunable>,
    adobe_steps_per_address: Arc<Tunable>,
}

/// The rates operators change at runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunedRates {
    /// Registrations per second from everyone together (after 50 seconds' worth at once).
    pub registrations_per_second: u32,
    /// Steps reaching Adobe per second from one address (after 30 seconds' worth at once).
    pub adobe_steps_per_address_per_second: u32,
}

/// The rate of a bucket, per second (rounded, at least 1).
fn per_second(rate: Rate) -> u32 {
    let per_second = 1.0 / rate.period.as_secs_f64().max(f64::MIN_POSITIVE);
    (per_second.round() as u32).max(1)
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
            |_, rate| LocalLimiter::shared(rate),
            registrations_per_second,
        )
    }

    /// The default rates but `registrations_per_second` in total, each limiter made by
    /// `limiter(name, rate)`; the names are stable (they name shared buckets). The budget of
    /// registrations for everyone and that of steps reaching Adobe per address can be retuned
    /// at runtime ([`Self::tune`]).
    pub fn new(
        limiter: impl Fn(&str, Rate) -> SharedLimiter + Clone + Send + Sync + 'static,
        registrations_per_second: u32,
    ) -> Self {
        let tunable = |action: &str, scope: Scope, rate: Rate| {
            let name = limiter_name(action, scope);
            let limiter = limiter.clone();
            Arc::new(Tunable::new(
                rate,
                Arc::new(move |rate| limiter(&name, rate)),
            ))
        };
        let registrations_for_everyone = tunable(
            "registration",
            Scope::Everyone,
            registrations(registrations_per_second),
        );
        let adobe_steps_per_address = tunable(
            "adobe-steps",
            Scope::Address,
            adobe_steps_per_address(DEFAULT_ADOBE_STEPS_PER_ADDRESS_PER_SECOND),
        );
        // Each action's limiters, the tunable one (of its scope) among them.
        let nested =
            |action: &str, rates: &[(Scope, Rate)], tuned: Option<(Scope, &Arc<Tunable>)>| {
                NestedLimits::new(
                    rates
                        .iter()
                        .map(|&(scope, rate)| {
                            let made = match tuned {
                                Some((tuned_scope, tuned)) if tuned_scope == scope => {
                                    tuned.clone() as SharedLimiter
                                }
                                _ => limiter(&limiter_name(action, scope), rate),
                            };
                            (scope, made)
                        })
                        .collect(),
                )
            };
        Self {
            registrations: nested(
                "registration",
                &registration_rates(registrations_per_second),
                Some((Scope::Everyone, &registrations_for_everyone)),
            ),
            temppass: nested("temppass", &TEMPPASS_RATES, None),
            adobe_steps: Some((
                limiter("adobe-steps-per-device", ADOBE_STEPS_PER_DEVICE),
                nested(
                    "adobe-steps",
                    &adobe_step_rates(DEFAULT_ADOBE_STEPS_PER_ADDRESS_PER_SECOND),
                    Some((Scope::Address, &adobe_steps_per_address)),
                ),
            )),
            tuned: TunedLimits {
                registrations_for_everyone,
                adobe_steps_per_address,
            },
            refusals: Family::default(),
        }
    }

    /// The rates operators can change at runtime, as they stand.
    pub fn tuned(&self) -> TunedRates {
        TunedRates {
            registrations_per_second: per_second(self.tuned.registrations_for_everyone.rate()),
            adobe_steps_per_address_per_second: per_second(
                self.tuned.adobe_steps_per_address.rate(),
            ),
        }
    }

    /// Applies `rates` from now on.
    pub fn tune(&self, rates: TunedRates) {
        self.tuned
            .registrations_for_everyone
            .set(registrations(rates.registrations_per_second));
        self.tuned
            .adobe_steps_per_address
            .set(adobe_steps_per_address(
                rates.adobe_steps_per_address_per_second,
            ));
    }

    /// The same limits with steps reaching Adobe unmetered: for a load test bed whose callers
    /// all come from one address.
    pub fn without_adobe_step_limits(self) -> Self {
        Self {
            adobe_steps: None,
            ..self
        }
    }

    /// Adds `tve_limit_refusals_total` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_limit_refusals",
            "Registrations, TempPass starts and steps reaching Adobe refused, by action and by \
             the limit that refused (device, address, ipv4_24, ipv6_56, ipv6_48, everyone)",
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

    /// Admits one step that makes the service call Adobe for `caller`, or says how long to
    /// wait: the device's budget first, then its address's, nested over its prefixes. When
    /// the shared counts cannot be reached the step is admitted: these meters keep callers
    /// fair, Adobe's pace per household still holds, and a signed-in TV keeps playing.
    pub(super) async fn admit_adobe_step(&self, caller: Caller<'_>) -> Result<(), ServiceError> {
        let Some((per_device, per_address)) = &self.adobe_steps else {
            return Ok(());
        };
        if let Caller::Tv { device_id, .. } = caller {
            if let Err(Limited::Wait(wait)) = per_device.take(device_id).await {
                return self.refused("adobe_step", "device", Limited::Wait(wait));
            }
        }
        match per_address.take(caller.ip()).await {
            Err(
                refusal @ Refusal {
                    limited: Limited::Wait(_),
                    ..
                },
            ) => {
                if let Caller::Tv { device_id, .. } = caller {
                    per_device.refund(device_id).await;
                }
                self.admitted("adobe_step", Err(refusal))
            }
            Ok(()) | Err(_) => Ok(()),
        }
    }

    fn admitted(
        &self,
        action: &'static str,
        taken: Result<(), Refusal>,
    ) -> Result<(), ServiceError> {
        let Err(refusal) = taken else {
            return Ok(());
        };
        self.refused(action, refusal.scope.label(), refusal.limited)
    }

    fn refused(
        &self,
        action: &'static str,
        limit: &'static str,
        limited: Limited,
    ) -> Result<(), ServiceError> {
        match limited {
            Limited::Wait(wait) => {
                self.refusals
                    .get_or_create(&RefusalLabels { action, limit })
                    .inc();
                Err(ServiceError::TooMany(wait))
            }
            // The counts cannot be reached: not a limit at work, and readiness says so.
            Limited::Unavailable => Err(ServiceError::SharedStateUnavailable),
        }
    }
}

impl Service {
    /// Admits one step that makes the service call Adobe for `caller`, or says how long to
    /// wait (`too_many_requests`).
    pub async fn admit_adobe_step(&self, caller: Caller<'_>) -> Result<(), ServiceError> {
        self.apply_operator_limits().await;
        self.inner.settings.limits.admit_adobe_step(caller).await
    }
}

/// The name of the limiter of `action` (`registration`, `temppass`, `adobe-steps`) over
/// `scope`; the registrations' address and everyone buckets keep the names they had before the
/// wider scopes came.
fn limiter_name(action: &str, scope: Scope) -> String {
    match (action, scope) {
        ("registration", Scope::Everyone) => "registrations".to_owned(),
        ("registration", scope) => format!("registrations-per-{}", scope.label()),
        (action, scope) => format!("{action}-per-{}", scope.label()),
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

    #[derive(Debug)]
    struct Unreachable;

    #[async_trait::async_trait]
    impl crate::limits::Limiter for Unreachable {
        async fn take(&self, _: &str) -> Result<(), Limited> {
            Err(Limited::Unavailable)
        }
        async fn check(&self, _: &str) -> Result<(), Limited> {
            Err(Limited::Unavailable)
        }
        async fn charge(&self, _: &str) {}
        async fn refund(&self, _: &str) {}
    }

    /// Registrations wait for Redis (each costs a DCR client); steps reaching Adobe do not, so
    /// a signed-in TV keeps playing while Redis is away.
    #[tokio::test]
    async fn steps_reaching_adobe_are_admitted_when_the_counts_cannot_be_reached() {
        let limits = ServiceLimits::new(|_, _| std::sync::Arc::new(Unreachable), 10);
        let ip = "198.51.100.7".parse().expect("ip");
        assert!(limits.admit_adobe_step(Caller::Phone(ip)).await.is_ok());
        let tv = Caller::Tv {
            device_id: "tv",
            ip,
        };
        assert!(limits.admit_adobe_step(tv).await.is_ok());
        assert!(matches!(
            limits.admit_registration(ip).await,
            Err(ServiceError::SharedStateUnavailable)
        ));
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
