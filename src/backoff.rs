//! The waits handed to TVs and browsers, spread so that a crowd told to wait at once does not
//! come back at once: a `retryAfter` is drawn between what the limit needs and twice that, and a
//! drain gives each TV its own reconnect delay, evenly over a span that grows with the crowd.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use rand::Rng;

/// The shortest span a drain spreads its TVs' reconnects over.
pub const LEAST_SPREAD: Duration = Duration::from_secs(5);
/// Reconnects a second one draining node sends to the others; a larger crowd spreads longer.
pub const RECONNECTS_PER_SECOND: u64 = 1_000;
/// The earliest a drained TV comes back: by then the balancer has noticed the drain.
pub const FIRST_RECONNECT: Duration = Duration::from_secs(1);

/// `(√5 − 1) / 2`: the step of the golden-ratio sequence a drain hands its delays out by.
const GOLDEN_STEP: f64 = 0.618_033_988_749_894_9;

/// `wait` in whole seconds, rounded up, at least 1.
pub fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs()
        .saturating_add(u64::from(wait.subsec_nanos() > 0))
        .max(1)
}

/// The `retryAfter` (whole seconds) for a caller that a limit or a failure asks to wait `need`:
/// uniformly one of `need` (rounded up, at least 1 s) to twice that, so that callers refused
/// together come back apart and none sooner than the limit needs.
pub fn retry_after_seconds(need: Duration) -> u64 {
    let least = whole_seconds(need);
    rand::rng().random_range(least..=least.saturating_mul(2))
}

/// `base` stretched by a random factor from 1 to 2, for a pause kept in time rather than told
/// in seconds (the polls' circuit breaker), so that nodes paused together resume apart.
pub fn between_once_and_twice(base: Duration) -> Duration {
    base.mul_f64(rand::rng().random_range(1.0..=2.0))
}

/// How one drain spreads the reconnects of the TVs waiting on it: the `k`-th TV told to come
/// back waits [`FIRST_RECONNECT`] plus the fraction `offset + k·(√5 − 1)/2 (mod 1)` of the span.
/// Those fractions (a golden-ratio sequence) fill `[0, 1)` evenly however many are drawn (their
/// discrepancy shrinks as `log n / n`), so every slice of the span gets its share of the TVs,
/// whether the drain tells 300 of them or 50,000. The offset is random, so two nodes drained
/// together do not send their TVs back in step.
#[derive(Debug)]
pub struct Spread {
    span: Duration,
    offset: f64,
    next: AtomicU64,
}

impl Spread {
    /// For `waiting` TVs: over [`LEAST_SPREAD`], or at [`RECONNECTS_PER_SECOND`] when that
    /// takes longer.
    pub fn for_crowd(waiting: usize) -> Self {
        Self::with_offset(waiting, rand::rng().random_range(0.0..1.0))
    }

    fn with_offset(waiting: usize, offset: f64) -> Self {
        let waiting = u64::try_from(waiting).unwrap_or(u64::MAX);
        let at_rate = Duration::from_millis(waiting.saturating_mul(1_000) / RECONNECTS_PER_SECOND);
        Self {
            span: at_rate.max(LEAST_SPREAD),
            offset,
            next: AtomicU64::new(0),
        }
    }

    /// How long the reconnects are spread over (after [`FIRST_RECONNECT`]).
    pub fn span(&self) -> Duration {
        self.span
    }

    /// The next TV's delay before it reconnects, from [`FIRST_RECONNECT`] to that plus the span.
    pub fn next_delay(&self) -> Duration {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        // Exact enough: k·step keeps 53 bits, and k stays far below 2^40.
        let fraction = (self.offset + k as f64 * GOLDEN_STEP).fract();
        FIRST_RECONNECT + self.span.mul_f64(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Delays of `n` TVs told by one drain of a crowd of `n`, from several offsets.
    fn drains(n: usize) -> impl Iterator<Item = (Duration, Vec<Duration>)> {
        [0.0, 0.123, 0.5, 0.999_9].into_iter().map(move |offset| {
            let spread = Spread::with_offset(n, offset);
            let delays = (0..n).map(|_| spread.next_delay()).collect();
            (spread.span(), delays)
        })
    }

    /// Issue 22, "No herds": 5,000 event streams on a draining node reconnect over at least
    /// 5 s, no 100 ms slice holding more than 5% of them.
    #[test]
    fn five_thousand_reconnects_spread_over_five_seconds_evenly() {
        for (span, delays) in drains(5_000) {
            assert!(span >= Duration::from_secs(5));
            let mut slices = vec![0usize; 50];
            for delay in &delays {
                assert!(*delay >= FIRST_RECONNECT, "{delay:?}");
                let slice = (*delay - FIRST_RECONNECT).as_millis() / 100;
                slices[usize::try_from(slice).expect("small")] += 1;
            }
            // Every slice of the 5 s is used, so they span it; none holds more than 5%.
            assert!(slices.iter().all(|&n| n > 0), "{slices:?}");
            let most = slices.iter().copied().max().expect("slices");
            assert!(most * 20 <= delays.len(), "{most} in one slice: {slices:?}");
        }
    }

    /// A crowd too large for 5 s at the rate the other nodes take is spread longer, still
    /// evenly; a small one is still spread over 5 s.
    #[test]
    fn the_span_grows_with_the_crowd() {
        assert_eq!(Spread::for_crowd(0).span(), LEAST_SPREAD);
        assert_eq!(Spread::for_crowd(300).span(), LEAST_SPREAD);
        assert_eq!(Spread::for_crowd(20_000).span(), Duration::from_secs(20));
        for n in [7, 300, 1_000, 20_000] {
            for (span, delays) in drains(n) {
                let slices = usize::try_from(span.as_millis() / 100).expect("small");
                let mut counts = vec![0usize; slices];
                for delay in &delays {
                    assert!(*delay < FIRST_RECONNECT + span, "{delay:?}");
                    let slice = (*delay - FIRST_RECONNECT).as_millis() / 100;
                    counts[usize::try_from(slice).expect("small")] += 1;
                }
                // Each slice's share, give or take two.
                let share = n / slices;
                let most = counts.iter().copied().max().expect("slices");
                assert!(most <= share + 2, "{n}: {most} in one slice, share {share}");
            }
        }
    }

    /// Issue 22, "No herds": a `retryAfter` is never below what the limit needs, at most twice
    /// that, and varies.
    #[test]
    fn retry_afters_are_jittered_within_need_and_twice_need() {
        for (need, least) in [
            (Duration::ZERO, 1),
            (Duration::from_millis(1), 1),
            (Duration::from_millis(1_500), 2),
            (Duration::from_secs(5), 5),
            (Duration::from_secs(60), 60),
        ] {
            let waits: Vec<u64> = (0..200).map(|_| retry_after_seconds(need)).collect();
            assert!(
                waits.iter().all(|w| (least..=least * 2).contains(w)),
                "{need:?}: {waits:?}"
            );
            assert!(waits.iter().any(|w| *w != waits[0]), "{need:?}: {waits:?}");
            if least <= 5 {
                for end in [least, least * 2] {
                    assert!(waits.contains(&end), "{need:?} never gave {end}: {waits:?}");
                }
            }
        }
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(3)), 3);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn pauses_stretch_between_once_and_twice() {
        let base = Duration::from_secs(8);
        for _ in 0..100 {
            let pause = between_once_and_twice(base);
            assert!((base..=base * 2).contains(&pause), "{pause:?}");
        }
    }
}
