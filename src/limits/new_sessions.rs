//! The budget of new browser sessions per address prefix (security review, finding 9): only a
//! sign-in start makes one, and one prefix cannot fill the session store, however many codes it
//! proves. Refusals are counted for `/metrics`.

use std::{net::IpAddr, time::Duration};

use app::pages::activate::api::ssr::{LimitFuture, NotAdmitted, SessionLimiter};
use prometheus_client::{metrics::counter::Counter, registry::Registry};

use super::{Limited, NestedLimits, Rate, Scope, SharedLimiter};
use crate::backoff;

/// New sessions one address (IPv4 address, IPv6 /64) may make at once, then one per 30 s: a
/// household, or a bar's crowd behind one address, signs its TVs in.
pub const NEW_SESSIONS_PER_ADDRESS: Rate = Rate::new(10, Duration::from_secs(30));
/// New sessions one IPv4 /24 may make at once, then one per 5 s.
pub const NEW_SESSIONS_PER_IPV4_24: Rate = Rate::new(50, Duration::from_secs(5));
/// New sessions one IPv6 /56 (one home's delegation) may make at once, then one per 15 s.
pub const NEW_SESSIONS_PER_IPV6_56: Rate = Rate::new(20, Duration::from_secs(15));
/// New sessions one IPv6 /48 may make at once, then one a second.
pub const NEW_SESSIONS_PER_IPV6_48: Rate = Rate::new(100, Duration::from_secs(1));

/// The scopes new sessions are limited over, narrowest first, with their rates.
pub const NEW_SESSION_RATES: [(Scope, Rate); 4] = [
    (Scope::Address, NEW_SESSIONS_PER_ADDRESS),
    (Scope::Ipv4Net24, NEW_SESSIONS_PER_IPV4_24),
    (Scope::Ipv6Net56, NEW_SESSIONS_PER_IPV6_56),
    (Scope::Ipv6Net48, NEW_SESSIONS_PER_IPV6_48),
];

/// The limit on new browser sessions, nested over the viewer's address prefixes.
#[derive(Clone, Debug)]
pub struct NewSessions {
    limits: NestedLimits,
    refused: Counter,
}

impl NewSessions {
    /// The default rates, each limiter made by `limiter(name, rate)`; the names are stable
    /// (they name shared buckets).
    pub fn new(limiter: impl Fn(&str, Rate) -> SharedLimiter) -> Self {
        let levels = NEW_SESSION_RATES
            .iter()
            .map(|&(scope, rate)| {
                let name = format!("new-sessions-per-{}", scope.label());
                (scope, limiter(&name, rate))
            })
            .collect();
        Self {
            limits: NestedLimits::new(levels),
            refused: Counter::default(),
        }
    }

    /// Adds `tve_site_new_sessions_refused_total` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_site_new_sessions_refused",
            "Browser sessions not made because the viewer's address prefix made too many",
            self.refused.clone(),
        );
    }
}

impl SessionLimiter for NewSessions {
    fn admit(&self, viewer: IpAddr) -> LimitFuture<'_, Result<(), NotAdmitted>> {
        Box::pin(async move {
            match self.limits.take(viewer).await {
                Ok(()) => Ok(()),
                Err(refusal) => match refusal.limited {
                    Limited::Wait(wait) => {
                        self.refused.inc();
                        tracing::info!(limit = refusal.scope.label(), "new session refused");
                        Err(NotAdmitted::Wait(backoff::retry_after_seconds(wait)))
                    }
                    Limited::Unavailable => Err(NotAdmitted::Unavailable),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::LocalLimiter;

    #[tokio::test]
    async fn one_address_gets_its_burst_and_then_waits_while_others_do_not() {
        let sessions = NewSessions::new(|_, rate| LocalLimiter::shared(rate));
        let home: IpAddr = "203.0.113.7".parse().expect("ip");
        for _ in 0..NEW_SESSIONS_PER_ADDRESS.burst {
            assert_eq!(sessions.admit(home).await, Ok(()));
        }
        match sessions.admit(home).await {
            Err(NotAdmitted::Wait(wait)) => assert!((1..=60).contains(&wait), "{wait}"),
            other => panic!("refused with a wait, not {other:?}"),
        }
        let neighbour: IpAddr = "203.0.113.8".parse().expect("ip");
        assert_eq!(sessions.admit(neighbour).await, Ok(()));
        assert_eq!(sessions.refused.get(), 1);
    }

    #[tokio::test]
    async fn rotating_through_an_ipv6_site_spends_one_budget() {
        let sessions = NewSessions::new(|_, rate| LocalLimiter::shared(rate));
        let admitted = {
            let mut admitted = 0;
            for n in 0..200u32 {
                let ip: IpAddr = format!("2001:db8:1:{n:x}::1").parse().expect("ip");
                if sessions.admit(ip).await.is_ok() {
                    admitted += 1;
                }
            }
            admitted
        };
        assert_eq!(admitted, NEW_SESSIONS_PER_IPV6_56.burst);
    }
}
