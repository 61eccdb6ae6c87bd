//! The activation site's limits on codes that match nothing: per address prefix and in total,
//! with a slow-down for everyone while failures spike, and the counts `/metrics` shows.

use std::{net::IpAddr, time::Duration};

use app::pages::activate::api::ssr::{LimitFuture, LookupLimiter, NotAdmitted};
use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge},
    registry::Registry,
};

use super::{address_key, Limited, LocalLimiter, Rate, SharedLimiter};
use crate::backoff;

/// Failed codes one address prefix may enter at once, then one more per minute.
pub const FAILURES_PER_ADDRESS: Rate = Rate::new(10, Duration::from_secs(60));
/// Failed codes of everyone together before lookups slow down: a burst of 300, then ten a
/// second sustained. Past it, an attacker spread over many addresses is at work.
pub const FAILURES_IN_TOTAL: Rate = Rate::new(300, Duration::from_millis(100));
/// Failed codes of everyone together past which lookups of codes a session has not proved are
/// refused (429): a burst of 3,000, then fifty a second. Right codes are refunded, so only a
/// guessing crowd fills it; while it is full, viewers wait as the crowd does.
pub const FAILURES_CEILING: Rate = Rate::new(3_000, Duration::from_millis(20));
/// How long each lookup waits while failures spike.
const SPIKE_DELAY: Duration = Duration::from_secs(1);

/// The limits on codes that match nothing (see `app::pages::activate::api::ssr`): per address
/// prefix and in total, with counts for `/metrics`. A lookup reserves one failure of its
/// prefix's budget and of the ceiling before it runs, so concurrent guesses cannot all pass
/// one check; a right code gives its reservation back.
#[derive(Debug)]
pub struct CodeGuard {
    per_address: SharedLimiter,
    total: SharedLimiter,
    ceiling: SharedLimiter,
    failed: Counter,
    refused: Counter,
    slowed: Counter,
    spiking: Gauge,
}

impl Default for CodeGuard {
    fn default() -> Self {
        Self::new(
            LocalLimiter::shared(FAILURES_PER_ADDRESS),
            LocalLimiter::shared(FAILURES_IN_TOTAL),
            LocalLimiter::shared(FAILURES_CEILING),
        )
    }
}

impl CodeGuard {
    /// A guard over these limiters (per address prefix; in total, for the slow-down and for
    /// the ceiling, each under one key).
    pub fn new(per_address: SharedLimiter, total: SharedLimiter, ceiling: SharedLimiter) -> Self {
        Self {
            per_address,
            total,
            ceiling,
            failed: Counter::default(),
            refused: Counter::default(),
            slowed: Counter::default(),
            spiking: Gauge::default(),
        }
    }

    /// Adds the `tve_activation_code_*` counts to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_activation_code_failures",
            "Codes entered on the activation site that matched no pending activation",
            self.failed.clone(),
        );
        registry.register(
            "tve_activation_code_refusals",
            "Code checks refused because the address prefix, or everyone together, spent the failure budget",
            self.refused.clone(),
        );
        registry.register(
            "tve_activation_code_slowed",
            "Code checks slowed down while failures spiked",
            self.slowed.clone(),
        );
        registry.register(
            "tve_activation_code_failure_spike",
            "Whether failed codes of everyone together are spiking (lookups slowed down)",
            self.spiking.clone(),
        );
    }
}

const TOTAL: &str = "all";

impl LookupLimiter for CodeGuard {
    fn admit(&self, viewer: IpAddr) -> LimitFuture<'_, Result<(), NotAdmitted>> {
        Box::pin(async move {
            let spiking = match self.total.check(TOTAL).await {
                Ok(()) => false,
                Err(Limited::Wait(_)) => true,
                Err(Limited::Unavailable) => return Err(NotAdmitted::Unavailable),
            };
            let was_spiking = self.spiking.set(i64::from(spiking)) != 0;
            if spiking {
                if !was_spiking {
                    tracing::warn!("failed codes are spiking: every code lookup is slowed down");
                }
                self.slowed.inc();
                tokio::time::sleep(SPIKE_DELAY).await;
            }
            let key = address_key(viewer);
            let refused = |limited| match limited {
                Limited::Wait(wait) => {
                    self.refused.inc();
                    NotAdmitted::Wait(backoff::retry_after_seconds(wait))
                }
                Limited::Unavailable => NotAdmitted::Unavailable,
            };
            self.per_address.take(&key).await.map_err(refused)?;
            if let Err(limited) = self.ceiling.take(TOTAL).await {
                self.per_address.refund(&key).await;
                if matches!(limited, Limited::Wait(_)) {
                    tracing::warn!("failed codes passed the ceiling: unproved lookups are refused");
                }
                return Err(refused(limited));
            }
            Ok(())
        })
    }

    fn failed_guess(&self, _viewer: IpAddr) -> LimitFuture<'_, ()> {
        Box::pin(async move {
            // The prefix and the ceiling counted it when admitting.
            self.total.charge(TOTAL).await;
            let total = self.failed.inc() + 1;
            tracing::info!(failed_code_guesses = total, "a code matched no activation");
        })
    }

    fn refund(&self, viewer: IpAddr) -> LimitFuture<'_, ()> {
        Box::pin(async move {
            self.per_address.refund(&address_key(viewer)).await;
            self.ceiling.refund(TOTAL).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(guard: &CodeGuard) -> String {
        let mut registry = Registry::default();
        guard.register(&mut registry);
        crate::telemetry::encode(&registry)
    }

    #[tokio::test]
    async fn the_eleventh_failed_code_from_one_address_is_refused() {
        let guard = CodeGuard::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..10 {
            assert!(guard.admit(ip).await.is_ok());
            guard.failed_guess(ip).await;
        }
        assert!(matches!(guard.admit(ip).await, Err(NotAdmitted::Wait(wait)) if wait >= 1));
        assert!(guard.admit([10, 0, 0, 2].into()).await.is_ok());
        let text = render(&guard);
        assert!(
            text.contains("\ntve_activation_code_failures_total 10\n"),
            "{text}"
        );
        assert!(
            text.contains("\ntve_activation_code_refusals_total 1\n"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn successes_cost_nothing() {
        let guard = CodeGuard::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..50 {
            assert!(guard.admit(ip).await.is_ok());
            guard.refund(ip).await;
        }
    }

    /// Review finding 8: fifty guesses from one address at the same moment, all admitted
    /// before any is known to be wrong: only the budget passes.
    #[tokio::test]
    async fn a_burst_of_concurrent_guesses_from_one_address_gets_only_the_budget() {
        let guard = std::sync::Arc::new(CodeGuard::default());
        let ip: IpAddr = [10, 0, 0, 1].into();
        let guesses = (0..50).map(|_| {
            let guard = guard.clone();
            tokio::spawn(async move { guard.admit(ip).await.is_ok() })
        });
        let mut admitted = 0;
        for guess in guesses {
            admitted += u32::from(guess.await.expect("guess"));
        }
        assert_eq!(admitted, FAILURES_PER_ADDRESS.burst);
    }

    /// Past the ceiling, everyone's unproved lookups are refused (not only slowed down); right
    /// codes give their reservation back, so they never fill it.
    #[tokio::test]
    async fn past_the_ceiling_lookups_are_refused_and_right_codes_never_fill_it() {
        let guard = CodeGuard::new(
            LocalLimiter::shared(FAILURES_PER_ADDRESS),
            LocalLimiter::shared(FAILURES_IN_TOTAL),
            LocalLimiter::shared(Rate::new(4, Duration::from_secs(60))),
        );
        for n in 0..20u8 {
            let viewer: IpAddr = [10, 0, 2, n].into();
            assert!(guard.admit(viewer).await.is_ok(), "right code {n}");
            guard.refund(viewer).await;
        }
        for n in 0..4u8 {
            let guesser: IpAddr = [10, 0, 3, n].into();
            assert!(guard.admit(guesser).await.is_ok());
            guard.failed_guess(guesser).await;
        }
        let someone: IpAddr = [10, 0, 4, 1].into();
        assert!(matches!(
            guard.admit(someone).await,
            Err(NotAdmitted::Wait(_))
        ));
        assert!(
            render(&guard).contains("\ntve_activation_code_refusals_total 1\n"),
            "counted"
        );
    }

    #[tokio::test]
    async fn a_spike_of_failures_slows_everyone_and_says_so() {
        let guard = CodeGuard::new(
            LocalLimiter::shared(FAILURES_PER_ADDRESS),
            LocalLimiter::shared(Rate::new(3, Duration::from_secs(60))),
            LocalLimiter::shared(FAILURES_CEILING),
        );
        for n in 0..3u8 {
            guard.failed_guess([10, 0, 1, n].into()).await;
        }
        let started = std::time::Instant::now();
        assert!(guard.admit([10, 9, 9, 9].into()).await.is_ok());
        assert!(started.elapsed() >= SPIKE_DELAY);
        let text = render(&guard);
        assert!(
            text.contains("\ntve_activation_code_failure_spike 1\n"),
            "{text}"
        );
        assert!(
            text.contains("\ntve_activation_code_slowed_total 1\n"),
            "{text}"
        );
    }
}
