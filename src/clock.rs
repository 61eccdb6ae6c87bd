//! The one source of time, so tests can move it: expiry, TTLs, throttling and caches all read it.

use std::{
    fmt::Debug,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Tells the current time.
pub trait Clock: Send + Sync + Debug {
    /// Now, as wall-clock time.
    fn now(&self) -> SystemTime;

    /// Now, in milliseconds since the Unix epoch (Adobe Pass's timestamp unit).
    fn now_millis(&self) -> i64 {
        millis_since_epoch(self.now())
    }
}

/// A clock shared across tasks.
pub type SharedClock = Arc<dyn Clock>;

/// Milliseconds since the Unix epoch; times before it count as 0.
pub fn millis_since_epoch(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl SystemClock {
    /// The system clock, ready to share.
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

/// A clock that stands still until told to move; for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Arc<Self> {
        Arc::new(Self {
            now: Mutex::new(start),
        })
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        assert_eq!(clock.now_millis(), 1_700_000_000_000);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now_millis(), 1_700_000_001_500);
    }
}
