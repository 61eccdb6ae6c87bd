//! Rate limits as leaky buckets keyed by a string (an address prefix, a session, `"all"`): a
//! burst at once, then one more per period. One trait, so the in-process buckets of a single
//! node and a shared implementation for several nodes are interchangeable; the service and the
//! site never ask which one runs.

use std::{
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use moka::{ops::compute::Op, sync::Cache};

mod code_guard;
mod nested;
mod new_sessions;
mod open_counts;
mod scope;
mod tunable;
mod waits;

pub use code_guard::{CodeGuard, FAILURES_CEILING, FAILURES_IN_TOTAL, FAILURES_PER_ADDRESS};
pub use nested::{NestedLimits, Refusal};
pub use new_sessions::NewSessions;
pub use open_counts::{Held, OpenCounts};
pub use scope::{site_key, Scope};
pub use tunable::{MakeLimiter, Tunable};
pub use waits::{Wait, WaitSlot, WaitSlots};

/// How many events a bucket holds and how fast it drains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed at once.
    pub burst: u32,
    /// Then one more per this period.
    pub period: Duration,
}

impl Rate {
    /// `burst` at once, then one per `period`.
    pub const fn new(burst: u32, period: Duration) -> Self {
        Self { burst, period }
    }
}

/// Why an event was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limited {
    /// Over the limit: wait this long.
    Wait(Duration),
    /// The counts are shared and cannot be reached: nothing is admitted until they can be.
    Unavailable,
}

impl Limited {
    /// How long to wait before trying again.
    pub fn wait(self) -> Duration {
        match self {
            Self::Wait(wait) => wait,
            Self::Unavailable => Duration::from_secs(1),
        }
    }
}

/// A family of buckets of one [`Rate`], one bucket per key.
#[async_trait]
pub trait Limiter: Send + Sync + std::fmt::Debug {
    /// Admits one event for `key` and counts it, or says why not (nothing is counted then).
    async fn take(&self, key: &str) -> Result<(), Limited>;

    /// Whether one more event for `key` would be admitted, without counting it.
    async fn check(&self, key: &str) -> Result<(), Limited>;

    /// Counts one event for `key` whether or not it fits (failures that already happened).
    async fn charge(&self, key: &str);

    /// Gives back one event [`take`](Self::take) counted for `key` that turned out not to
    /// count: the action was refused further on, or a reserved failure did not happen.
    async fn refund(&self, key: &str);
}

/// A limiter shared across tasks.
pub type SharedLimiter = Arc<dyn Limiter>;

/// The key of an address's bucket: IPv4 addresses one by one, IPv6 by their /64 (one home or
/// one phone gets a whole /64, so single IPv6 addresses cost an attacker nothing).
pub fn address_key(ip: IpAddr) -> String {
    match canonical_ip(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// `ip` with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as a dual-stack listener on `[::]`
/// reports IPv4 peers) turned back into the IPv4 address it stands for.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Buckets in this process's memory, in a bounded cache: O(1) per event whatever the number of
/// keys. A bucket idle for `burst × period` has drained and is forgotten; past
/// [`KEYS_REMEMBERED`] the least used are forgotten first (and start afresh).
#[derive(Debug)]
pub struct LocalLimiter {
    rate: Rate,
    buckets: Cache<String, Bucket>,
}

/// How full a bucket was at `at`.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    level: f64,
    at: Instant,
}

/// Keys one limiter remembers at most.
pub const KEYS_REMEMBERED: u64 = 1_000_000;

impl LocalLimiter {
    /// Buckets of `rate`.
    pub fn new(rate: Rate) -> Self {
        Self::remembering(rate, KEYS_REMEMBERED)
    }

    /// Buckets of `rate`, for at most `keys` keys.
    pub fn remembering(rate: Rate, keys: u64) -> Self {
        let drained = rate.period.saturating_mul(rate.burst.max(1));
        Self {
            rate,
            buckets: Cache::builder()
                .max_capacity(keys)
                .time_to_idle(drained)
                .build(),
        }
    }

    /// A shared limiter of `rate`.
    pub fn shared(rate: Rate) -> SharedLimiter {
        Arc::new(Self::new(rate))
    }

    fn level(&self, bucket: Option<Bucket>, now: Instant) -> f64 {
        bucket.map_or(0.0, |b| {
            let drained = now.duration_since(b.at).as_secs_f64() / self.rate.period.as_secs_f64();
            (b.level - drained).max(0.0)
        })
    }

    /// How long until one more event fits, when it does not now.
    fn wait(&self, level: f64) -> Option<Duration> {
        let over = level + 1.0 - f64::from(self.rate.burst);
        (over > 0.0).then(|| self.rate.period.mul_f64(over))
    }

    fn update(&self, key: &str, admit_only_if_fits: bool, count: bool) -> Result<(), Limited> {
        let now = Instant::now();
        let mut verdict = Ok(());
        self.buckets.entry_by_ref(key).and_compute_with(|saved| {
            let level = self.level(saved.map(|entry| entry.into_value()), now);
            if let Some(wait) = self.wait(level).filter(|_| admit_only_if_fits) {
                verdict = Err(Limited::Wait(wait));
                return Op::Nop;
            }
            if count {
                Op::Put(Bucket {
                    level: level + 1.0,
                    at: now,
                })
            } else {
                Op::Nop
            }
        });
        verdict
    }

    fn give_back(&self, key: &str) {
        let now = Instant::now();
        self.buckets.entry_by_ref(key).and_compute_with(|saved| {
            let level = self.level(saved.map(|entry| entry.into_value()), now) - 1.0;
            if level > 0.0 {
                Op::Put(Bucket { level, at: now })
            } else {
                Op::Remove
            }
        });
    }

    /// Keys with a bucket now.
    #[cfg(test)]
    fn keys(&self) -> u64 {
        self.buckets.run_pending_tasks();
        self.buckets.entry_count()
    }
}

#[async_trait]
impl Limiter for LocalLimiter {
    async fn take(&self, key: &str) -> Result<(), Limited> {
        self.update(key, true, true)
    }

    async fn check(&self, key: &str) -> Result<(), Limited> {
        self.update(key, true, false)
    }

    async fn charge(&self, key: &str) {
        // Counting without admitting never refuses.
        let _ = self.update(key, false, true);
    }

    async fn refund(&self, key: &str) {
        self.give_back(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_then_one_per_period() {
        let limiter = LocalLimiter::new(Rate::new(3, Duration::from_secs(60)));
        for _ in 0..3 {
            assert!(limiter.take("a").await.is_ok());
        }
        let wait = limiter
            .take("a")
            .await
            .expect_err("the fourth waits")
            .wait();
        assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60));
        assert!(limiter.take("b").await.is_ok(), "other keys have their own");
    }

    #[tokio::test]
    async fn checking_counts_nothing_and_charging_always_counts() {
        let limiter = LocalLimiter::new(Rate::new(2, Duration::from_secs(60)));
        for _ in 0..5 {
            assert!(limiter.check("a").await.is_ok());
        }
        limiter.charge("a").await;
        limiter.charge("a").await;
        assert!(limiter.check("a").await.is_err());
        limiter.charge("a").await;
        let wait = limiter.check("a").await.expect_err("over the burst").wait();
        assert!(wait > Duration::from_secs(115), "{wait:?}");
    }

    #[tokio::test]
    async fn a_refund_gives_one_event_back_and_never_goes_below_empty() {
        let limiter = LocalLimiter::new(Rate::new(2, Duration::from_secs(60)));
        limiter.refund("a").await;
        assert!(limiter.take("a").await.is_ok());
        assert!(limiter.take("a").await.is_ok());
        assert!(limiter.take("a").await.is_err());
        limiter.refund("a").await;
        assert!(limiter.take("a").await.is_ok(), "one back");
        assert!(limiter.take("a").await.is_err(), "only one");
    }

    #[tokio::test]
    async fn buckets_drain_with_time() {
        let limiter = LocalLimiter::new(Rate::new(1, Duration::from_millis(50)));
        assert!(limiter.take("a").await.is_ok());
        assert!(limiter.take("a").await.is_err());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(limiter.take("a").await.is_ok());
    }

    /// Security review, finding 3: past 10,000 live keys every new key scanned them all under
    /// one lock; now the keys are bounded and each event is O(1).
    #[tokio::test]
    async fn the_keys_remembered_are_bounded() {
        let limiter = LocalLimiter::remembering(Rate::new(5, Duration::from_secs(3600)), 1_000);
        for n in 0..20_000 {
            limiter
                .take(&format!("10.0.{}.{}", n / 256, n % 256))
                .await
                .expect("a fresh key");
        }
        let keys = limiter.keys();
        assert!(keys <= 1_000, "{keys} keys kept");
    }

    #[test]
    fn addresses_are_keyed_by_their_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(address_key(ip("203.0.113.7")), "203.0.113.7");
        assert_eq!(
            address_key(ip("::ffff:203.0.113.7")),
            "203.0.113.7",
            "mapped IPv4 is IPv4"
        );
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            address_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
    }
}
