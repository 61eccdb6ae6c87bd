//! Budgets of one action nested over [`Scope`]s: a caller is admitted only when every budget its
//! address falls in has room, and a refusal by a wide budget gives back what the narrower ones
//! took, so a home refused because its network (or everyone) is over the limit keeps its own
//! budget for later.

use std::net::IpAddr;

use super::{Limited, Scope, SharedLimiter};

/// One limiter per scope, narrowest first.
#[derive(Clone, Debug)]
pub struct NestedLimits {
    levels: Vec<(Scope, SharedLimiter)>,
}

/// A refusal, and the scope whose budget refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The budget that had no room.
    pub scope: Scope,
    /// How long to wait, or that the counts cannot be reached.
    pub limited: Limited,
}

impl NestedLimits {
    /// Budgets checked in the order given: narrowest first, so a caller over its own budget
    /// never touches the wider ones.
    pub fn new(levels: Vec<(Scope, SharedLimiter)>) -> Self {
        Self { levels }
    }

    /// Takes one event from every budget `ip` falls in, or says which refused. Nothing stays
    /// counted after a refusal.
    pub async fn take(&self, ip: IpAddr) -> Result<(), Refusal> {
        let mut taken: Vec<(&SharedLimiter, String)> = Vec::with_capacity(self.levels.len());
        for (scope, limiter) in &self.levels {
            let Some(key) = scope.key(ip) else { continue };
            if let Err(limited) = limiter.take(&key).await {
                for (limiter, key) in taken {
                    limiter.refund(&key).await;
                }
                return Err(Refusal {
                    scope: *scope,
                    limited,
                });
            }
            taken.push((limiter, key));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::limits::{LocalLimiter, Rate};

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn limits(address: u32, net56: u32, everyone: u32) -> NestedLimits {
        let minute = Duration::from_secs(60);
        NestedLimits::new(vec![
            (
                Scope::Address,
                LocalLimiter::shared(Rate::new(address, minute)),
            ),
            (Scope::Ipv4Net24, LocalLimiter::shared(Rate::new(1, minute))),
            (
                Scope::Ipv6Net56,
                LocalLimiter::shared(Rate::new(net56, minute)),
            ),
            (
                Scope::Everyone,
                LocalLimiter::shared(Rate::new(everyone, minute)),
            ),
        ])
    }

    #[tokio::test]
    async fn the_narrowest_full_budget_is_named() {
        let limits = limits(1, 5, 100);
        assert!(limits.take(ip("2001:db8:0:1::1")).await.is_ok());
        let refusal = limits
            .take(ip("2001:db8:0:1::2"))
            .await
            .expect_err("same /64");
        assert_eq!(refusal.scope, Scope::Address);
        assert!(matches!(refusal.limited, Limited::Wait(_)));
    }

    /// Whether `ip` has room left in the budget of `scope`.
    async fn room(limits: &NestedLimits, scope: Scope, ip: IpAddr) -> bool {
        let (_, limiter) = limits
            .levels
            .iter()
            .find(|(s, _)| *s == scope)
            .expect("a level of that scope");
        limiter.check(&scope.key(ip).expect("a key")).await.is_ok()
    }

    #[tokio::test]
    async fn a_wide_refusal_gives_the_narrow_budgets_back() {
        let limits = limits(2, 3, 100);
        for home in 1..=3 {
            let caller = ip(&format!("2001:db8:0:{home}::1"));
            assert!(limits.take(caller).await.is_ok(), "home {home}");
        }
        let fourth = ip("2001:db8:0:4::1");
        for _ in 0..5 {
            let refusal = limits.take(fourth).await.expect_err("the /56 is full");
            assert_eq!(refusal.scope, Scope::Ipv6Net56);
        }
        assert!(
            room(&limits, Scope::Address, fourth).await,
            "five refusals left the home's budget of 2 untouched"
        );
    }

    #[tokio::test]
    async fn a_refusal_for_everyone_costs_no_prefix_anything() {
        let limits = limits(1, 1, 1);
        assert!(limits.take(ip("198.51.100.1")).await.is_ok());
        let caller = ip("2001:db8:9::1");
        for _ in 0..3 {
            let refusal = limits.take(caller).await.expect_err("everyone is full");
            assert_eq!(refusal.scope, Scope::Everyone);
        }
        assert!(room(&limits, Scope::Address, caller).await);
        assert!(room(&limits, Scope::Ipv6Net56, caller).await);
    }

    #[tokio::test]
    async fn scopes_of_the_other_family_are_skipped() {
        let limits = limits(5, 1, 100);
        // IPv4 callers never meet the IPv6 /56 budget of 1, and IPv6 ones not the IPv4 /24's.
        assert!(limits.take(ip("198.51.100.1")).await.is_ok());
        assert!(limits.take(ip("2001:db8::1")).await.is_ok());
        assert_eq!(
            limits
                .take(ip("198.51.100.2"))
                .await
                .expect_err("/24")
                .scope,
            Scope::Ipv4Net24
        );
    }
}
