//! A bounded cache of values each kept until its own deadline on the service's clock: `moka`
//! evicts it then (or the least used first past the capacity), and reads never return a value
//! past its deadline, whatever the clock says.

use std::time::{Duration, Instant};

use moka::{sync::Cache, Expiry};

/// A value and its deadline.
#[derive(Clone, Debug)]
struct Timed<V> {
    value: V,
    /// Epoch ms on the service's clock.
    until: i64,
    /// How long it had left when stored.
    lifetime: Duration,
}

/// Evicts each entry once its lifetime has passed.
struct AtDeadline;

impl<V> Expiry<String, Timed<V>> for AtDeadline {
    fn expire_after_create(&self, _: &String, timed: &Timed<V>, _: Instant) -> Option<Duration> {
        Some(timed.lifetime)
    }

    fn expire_after_update(
        &self,
        _: &String,
        timed: &Timed<V>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(timed.lifetime)
    }
}

/// Values by key, each until its deadline; at most `capacity` of them.
#[derive(Debug)]
pub(super) struct ExpiringCache<V: Clone + Send + Sync + 'static> {
    entries: Cache<String, Timed<V>>,
}

impl<V: Clone + Send + Sync + 'static> ExpiringCache<V> {
    /// An empty cache of at most `capacity` entries.
    pub fn new(capacity: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .expire_after(AtDeadline)
                .build(),
        }
    }

    /// The value under `key`, if its deadline is after `now` (epoch ms).
    pub fn get(&self, key: &str, now: i64) -> Option<V> {
        self.entries
            .get(key)
            .filter(|timed| timed.until > now)
            .map(|timed| timed.value)
    }

    /// Keeps `value` under `key` until `until`, both epoch ms on the clock that says `now`.
    pub fn put(&self, key: &str, value: V, until: i64, now: i64) {
        let left = u64::try_from(until.saturating_sub(now)).unwrap_or(0);
        self.entries.insert(
            key.to_owned(),
            Timed {
                value,
                until,
                lifetime: Duration::from_millis(left),
            },
        );
    }

    /// Drops the value under `key`.
    pub fn forget(&self, key: &str) {
        self.entries.invalidate(key);
    }

    /// Entries held now (after pending evictions ran).
    #[cfg(test)]
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_live_until_their_deadline_and_within_the_capacity() {
        let cache = ExpiringCache::new(50);
        cache.put("a", 1, 2_000, 1_000);
        assert_eq!(cache.get("a", 1_500), Some(1));
        assert_eq!(cache.get("a", 2_000), None, "not at its deadline");
        cache.put("gone", 2, 1_000, 1_000);
        assert_eq!(cache.get("gone", 1_000), None);
        for n in 0..500 {
            cache.put(&format!("k{n}"), n, 1_000_000, 0);
        }
        assert!(cache.len() <= 50, "{}", cache.len());
        cache.forget("a");
        assert_eq!(cache.get("a", 1_500), None);
    }
}
