//! Client-side throttle mirroring Adobe's (§12): a token bucket per device IP (the IP sent in
//! `X-Forwarded-For`), 1 request per second with a burst of 10, so this service never pushes a
//! viewer into a 429 on its own. After a 429 the IP waits at least a second. The burst is
//! "one-time": what of it is spent never comes back (the conservative reading; an IP idle for
//! an hour is forgotten and starts afresh).
//!
//! Buckets are kept per household: an IPv4 address, or an IPv6 /64 (every address of one home
//! shares one bucket, at most more careful than Adobe), so rotating addresses inside a /64 makes
//! no new buckets. In this process they live in a bounded cache, O(1) per call, that forgets
//! the least used households first (security review, finding 3).
//!
//! A call is taken only when the bucket holds it now; callers that must wait queue in
//! [`super::priority`], which decides whose call goes next (plays first).
//!
//! The buckets live behind [`ThrottleBuckets`]: in this process ([`Throttle`]), or where several
//! nodes share them, so that all nodes together stay within Adobe's rate for one device.

use std::{
    net::IpAddr,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use moka::{ops::compute::Op, sync::Cache};

use crate::{clock::SharedClock, limits::address_key};

/// Where the buckets live.
#[async_trait]
pub trait ThrottleBuckets: Send + Sync + std::fmt::Debug {
    /// Takes one call for `ip` now if `keep` calls remain after it (fewer when the bucket can
    /// no longer hold that many: a spent burst holds one); else `Err` with how long until it
    /// could. Nothing is reserved on `Err`.
    async fn take(&self, ip: IpAddr, keep: u32) -> Result<(), Duration>;

    /// Sets `calls` aside for `ip` now, whatever the balance (this service's next calls wait
    /// for them). Returns how long until the first of them is covered.
    async fn reserve(&self, ip: IpAddr, calls: u32) -> Duration;

    /// Records a 429 for `ip`: its next call waits at least the pause after a 429. Returns
    /// that wait.
    async fn penalize(&self, ip: IpAddr) -> Duration;
}

#[async_trait]
impl ThrottleBuckets for Throttle {
    async fn take(&self, ip: IpAddr, keep: u32) -> Result<(), Duration> {
        Throttle::take(self, ip, keep)
    }

    async fn reserve(&self, ip: IpAddr, calls: u32) -> Duration {
        Throttle::reserve(self, ip, calls)
    }

    async fn penalize(&self, ip: IpAddr) -> Duration {
        Throttle::penalize(self, ip)
    }
}

/// The bucket's shape and how long a call may wait for its turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Calls allowed at once (Adobe: 10).
    pub burst: u32,
    /// Time to earn one more call (Adobe: 1 s).
    pub interval: Duration,
    /// The longest a call waits for its turn in the queue; beyond it the call is refused with
    /// [`super::AdobePassError::RateLimited`] instead.
    pub max_wait: Duration,
    /// The pause after a 429 (Adobe: at least 1 s).
    pub after_429: Duration,
}

impl ThrottleSettings {
    /// No pacing: for an upstream that throttles nothing (the emulators, a load test bed),
    /// where per-IP buckets would only make callers behind one address queue.
    pub fn unlimited() -> Self {
        Self {
            burst: u32::MAX,
            interval: Duration::from_nanos(1),
            ..Self::default()
        }
    }
}

impl Default for ThrottleSettings {
    /// Adobe's shape with 5% to spare on the interval: calls paced at exactly Adobe's rate can
    /// arrive closer together than they left (network jitter) and draw a 429.
    fn default() -> Self {
        Self {
            burst: 10,
            interval: Duration::from_millis(1050),
            max_wait: Duration::from_secs(5),
            after_429: Duration::from_secs(1),
        }
    }
}

/// Households whose buckets this process remembers at most; beyond, the least used are
/// forgotten (and start afresh, as after an idle hour).
pub const HOUSEHOLDS_REMEMBERED: u64 = 100_000;
/// How long a bucket whose burst is spent is remembered after its last call.
pub const REMEMBER_SPENT_BURST: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Calls available; negative when calls are already reserved in the future.
    tokens: f64,
    /// What the bucket refills to: the burst, then what is left of it (at least one call).
    ceiling: f64,
    updated: SystemTime,
}

/// Token buckets keyed by household (IPv4 address, IPv6 /64), in this process.
#[derive(Debug)]
pub struct Throttle {
    settings: ThrottleSettings,
    clock: SharedClock,
    buckets: Cache<String, Bucket>,
}

impl Throttle {
    /// Empty buckets of `settings`' shape, on `clock`, for at most [`HOUSEHOLDS_REMEMBERED`].
    pub fn new(settings: ThrottleSettings, clock: SharedClock) -> Self {
        Self::remembering(settings, clock, HOUSEHOLDS_REMEMBERED)
    }

    /// Empty buckets that remember at most `households`.
    pub fn remembering(settings: ThrottleSettings, clock: SharedClock, households: u64) -> Self {
        Self {
            settings,
            clock,
            buckets: Cache::builder()
                .max_capacity(households)
                .time_to_idle(REMEMBER_SPENT_BURST)
                .build(),
        }
    }

    /// Takes one call for `ip` now if `keep` calls remain after it (at most what the bucket
    /// can hold beyond one); else `Err` with how long until it could.
    pub fn take(&self, ip: IpAddr, keep: u32) -> Result<(), Duration> {
        let now = self.clock.now();
        let mut verdict = Ok(());
        self.buckets
            .entry(address_key(ip))
            .and_compute_with(|saved| {
                let mut bucket = self.refilled(
                    saved.map_or(self.full(now), |entry| entry.into_value()),
                    now,
                );
                let needed = 1.0 + f64::from(keep).min((bucket.ceiling - 1.0).max(0.0));
                if bucket.tokens >= needed {
                    bucket.tokens -= 1.0;
                    bucket.ceiling = bucket.ceiling.min(bucket.tokens + 1.0).max(1.0);
                    Op::Put(bucket)
                } else {
                    verdict = Err(self.settings.interval.mul_f64(needed - bucket.tokens));
                    Op::Nop
                }
            });
        verdict
    }

    /// Sets `calls` aside for `ip` now, whatever the balance. Returns how long until the first
    /// of them is covered.
    pub fn reserve(&self, ip: IpAddr, calls: u32) -> Duration {
        let now = self.clock.now();
        let mut wait = Duration::ZERO;
        self.buckets
            .entry(address_key(ip))
            .and_compute_with(|saved| {
                let mut bucket = self.refilled(
                    saved.map_or(self.full(now), |entry| entry.into_value()),
                    now,
                );
                wait = self
                    .settings
                    .interval
                    .mul_f64((1.0 - bucket.tokens).max(0.0));
                bucket.tokens -= f64::from(calls);
                bucket.ceiling = bucket.ceiling.min(bucket.tokens + 1.0).max(1.0);
                Op::Put(bucket)
            });
        wait
    }

    /// Records a 429 for `ip`: its next call waits at least `after_429`. Returns that wait.
    pub fn penalize(&self, ip: IpAddr) -> Duration {
        let now = self.clock.now();
        let mut wait = Duration::ZERO;
        self.buckets
            .entry(address_key(ip))
            .and_compute_with(|saved| {
                let spent = Bucket {
                    tokens: 0.0,
                    ceiling: 1.0,
                    updated: now,
                };
                let mut bucket =
                    self.refilled(saved.map_or(spent, |entry| entry.into_value()), now);
                let ceiling = 1.0 - self.settings.after_429.as_secs_f64() / self.interval_secs();
                bucket.tokens = bucket.tokens.min(ceiling);
                bucket.ceiling = 1.0;
                wait = self.settings.interval.mul_f64(1.0 - bucket.tokens);
                Op::Put(bucket)
            });
        wait
    }

    /// Households with a bucket now (for tests and the load tool's memory check).
    pub fn households(&self) -> u64 {
        self.buckets.run_pending_tasks();
        self.buckets.entry_count()
    }

    fn full(&self, now: SystemTime) -> Bucket {
        Bucket {
            tokens: self.burst(),
            ceiling: self.burst(),
            updated: now,
        }
    }

    fn refilled(&self, bucket: Bucket, now: SystemTime) -> Bucket {
        let elapsed = now
            .duration_since(bucket.updated)
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        Bucket {
            tokens: (bucket.tokens + elapsed / self.interval_secs()).min(bucket.ceiling),
            updated: now.max(bucket.updated),
            ..bucket
        }
    }

    fn burst(&self) -> f64 {
        f64::from(self.settings.burst)
    }

    fn interval_secs(&self) -> f64 {
        self.settings.interval.as_secs_f64().max(f64::EPSILON)
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::clock::ManualClock;

    /// Adobe's exact shape, so the arithmetic reads in whole seconds.
    fn throttle() -> (Throttle, std::sync::Arc<ManualClock>) {
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let settings = ThrottleSettings {
            interval: Duration::from_secs(1),
            ..ThrottleSettings::default()
        };
        (Throttle::new(settings, clock.clone()), clock)
    }

    #[test]
    fn the_default_paces_calls_a_little_slower_than_adobe() {
        let settings = ThrottleSettings::default();
        assert_eq!(settings.burst, 10);
        assert!(settings.interval > Duration::from_secs(1));
        assert!(settings.interval <= Duration::from_millis(1100));
    }

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7));

    #[test]
    fn burst_of_ten_then_one_per_second() {
        let (throttle, clock) = throttle();
        for _ in 0..10 {
            assert_eq!(throttle.take(IP, 0), Ok(()));
        }
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_secs(1)));
        clock.advance(Duration::from_millis(500));
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_millis(500)));
        clock.advance(Duration::from_millis(500));
        assert_eq!(throttle.take(IP, 0), Ok(()));
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_secs(1)));
    }

    /// §12: "plus a one-time initial burst of 10": once spent, idling does not bring it back.
    #[test]
    fn the_burst_is_spent_once() {
        let (throttle, clock) = throttle();
        for _ in 0..4 {
            assert_eq!(throttle.take(IP, 0), Ok(()));
        }
        clock.advance(Duration::from_secs(600));
        // The rest of the burst (6), and the one call a second earned while idle.
        for _ in 0..7 {
            assert_eq!(throttle.take(IP, 0), Ok(()));
        }
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(600));
        assert_eq!(throttle.take(IP, 0), Ok(()));
        assert_eq!(
            throttle.take(IP, 0),
            Err(Duration::from_secs(1)),
            "one call per second, no second burst"
        );
    }

    #[test]
    fn each_ip_has_its_own_bucket() {
        let (throttle, _) = throttle();
        for _ in 0..10 {
            throttle.take(IP, 0).expect("within burst");
        }
        let other: IpAddr = "198.51.100.1".parse().expect("ip");
        assert_eq!(throttle.take(other, 0), Ok(()));
    }

    /// Security review, finding 3: a fresh address per call inside one /64 made a bucket each
    /// (kept an hour once two calls were made), and past 4,096 every call scanned them all.
    #[test]
    fn every_address_of_one_ipv6_home_shares_one_bucket() {
        let (throttle, _) = throttle();
        for n in 1..=10u32 {
            let ip: IpAddr = format!("2001:db8:1:2::{n:x}").parse().expect("ip");
            assert_eq!(throttle.take(ip, 0), Ok(()));
        }
        let eleventh: IpAddr = "2001:db8:1:2:ffff::1".parse().expect("ip");
        assert_eq!(throttle.take(eleventh, 0), Err(Duration::from_secs(1)));
        assert_eq!(throttle.households(), 1);
    }

    #[test]
    fn the_households_remembered_are_bounded() {
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let throttle = Throttle::remembering(ThrottleSettings::default(), clock, 1_000);
        for n in 0..20_000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            throttle.take(ip, 0).expect("a fresh bucket");
            throttle.take(ip, 0).expect("the burst");
        }
        let households = throttle.households();
        assert!(households <= 1_000, "{households} buckets kept");
    }

    #[test]
    fn a_call_refused_takes_nothing() {
        let (throttle, _) = throttle();
        for _ in 0..10 {
            throttle.take(IP, 0).expect("the burst");
        }
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_secs(1)));
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_secs(1)));
    }

    #[test]
    fn a_call_taken_now_can_keep_one_for_another() {
        let (throttle, clock) = throttle();
        for _ in 0..9 {
            assert_eq!(throttle.take(IP, 1), Ok(()));
        }
        assert_eq!(
            throttle.take(IP, 1),
            Err(Duration::from_secs(1)),
            "one kept"
        );
        assert_eq!(throttle.take(IP, 0), Ok(()), "the kept one");
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(1));
        // A spent burst holds one call: nothing more can be kept.
        assert_eq!(throttle.take(IP, 1), Ok(()));
    }

    #[test]
    fn a_reservation_holds_later_calls_back() {
        let (throttle, clock) = throttle();
        for _ in 0..9 {
            throttle.take(IP, 0).expect("burst");
        }
        assert_eq!(
            throttle.reserve(IP, 2),
            Duration::ZERO,
            "one call is there now"
        );
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_secs(2)));
        clock.advance(Duration::from_secs(2));
        assert_eq!(throttle.take(IP, 0), Ok(()));
        assert_eq!(throttle.reserve(IP, 2), Duration::from_secs(1));
    }

    #[test]
    fn after_a_429_the_ip_waits_at_least_a_second() {
        let (throttle, clock) = throttle();
        assert_eq!(throttle.penalize(IP), Duration::from_secs(1));
        assert_eq!(throttle.take(IP, 0), Err(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(3));
        assert_eq!(throttle.take(IP, 0), Ok(()));
    }
}
