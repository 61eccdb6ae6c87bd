//! A limiter whose rate operators change at runtime: a new rate makes a new limiter of the same
//! name. Shared buckets (Redis) keep their levels and drain at the new rate from then on; buckets
//! in process memory start afresh.

use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;

use super::{Limited, Limiter, Rate, SharedLimiter};

/// Makes a limiter of a rate.
pub type MakeLimiter = Arc<dyn Fn(Rate) -> SharedLimiter + Send + Sync>;

/// A limiter of a rate that can change.
pub struct Tunable {
    current: RwLock<(Rate, SharedLimiter)>,
    make: MakeLimiter,
}

impl std::fmt::Debug for Tunable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tunable")
            .field("rate", &self.rate())
            .finish_non_exhaustive()
    }
}

impl Tunable {
    /// A limiter of `rate`, made by `make` now and whenever the rate changes.
    pub fn new(rate: Rate, make: MakeLimiter) -> Self {
        Self {
            current: RwLock::new((rate, make(rate))),
            make,
        }
    }

    /// The rate it limits to now.
    pub fn rate(&self) -> Rate {
        self.read().0
    }

    /// Limits to `rate` from now on (nothing changes when it is the current one).
    pub fn set(&self, rate: Rate) {
        if self.rate() == rate {
            return;
        }
        let limiter = (self.make)(rate);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = (rate, limiter);
    }

    fn read(&self) -> (Rate, SharedLimiter) {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn limiter(&self) -> SharedLimiter {
        self.read().1
    }
}

#[async_trait]
impl Limiter for Tunable {
    async fn take(&self, key: &str) -> Result<(), Limited> {
        self.limiter().take(key).await
    }

    async fn check(&self, key: &str) -> Result<(), Limited> {
        self.limiter().check(key).await
    }

    async fn charge(&self, key: &str) {
        self.limiter().charge(key).await;
    }

    async fn refund(&self, key: &str) {
        self.limiter().refund(key).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::limits::LocalLimiter;

    #[tokio::test]
    async fn a_new_rate_applies_at_once() {
        let tunable = Tunable::new(
            Rate::new(1, Duration::from_secs(60)),
            Arc::new(LocalLimiter::shared),
        );
        assert!(tunable.take("all").await.is_ok());
        assert!(tunable.take("all").await.is_err(), "one a minute");
        tunable.set(Rate::new(3, Duration::from_secs(60)));
        assert_eq!(tunable.rate().burst, 3);
        for _ in 0..3 {
            assert!(tunable.take("all").await.is_ok());
        }
        assert!(tunable.take("all").await.is_err());
    }
}
