//! How the activation watchers' background polls of Adobe are paced: a cap on polls in flight
//! and a circuit breaker that stops them while Adobe fails, with the metrics of both. Polls a
//! person waits on (the phone's return to the completion page) do not pass through here.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::backoff;

/// Polls in flight at once by default, over every watcher of this node.
pub const DEFAULT_MAX_CONCURRENT_POLLS: usize = 32;
/// Failed polls in a row that open the breaker.
const FAILURES_TO_OPEN: u32 = 5;
/// How long the breaker first stays open; it doubles each time a trial poll fails. Each time it
/// opens, it stays open once to twice that, at random, so nodes whose breakers opened together
/// (Adobe failed for all of them) do not send their trials in step.
const FIRST_BACKOFF: Duration = Duration::from_secs(8);
/// The longest the breaker's backoff grows to (before its stretch).
const LONGEST_BACKOFF: Duration = Duration::from_secs(60);

/// How one background poll ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PollResult {
    /// Adobe has no profile for the code yet.
    Pending,
    /// The viewer signed in.
    SignedIn,
    /// Adobe says the session is gone.
    Ended,
    /// Adobe failed (timeout, 5xx, broken connection): counts towards the breaker.
    Failed,
    /// The call failed for a reason of its own (a refusal, a 429 or this node's throttle for
    /// one device IP, the store): says nothing of Adobe.
    Refused,
}

impl PollResult {
    fn label(self) -> &'static str {
        match self {
            PollResult::Pending => "pending",
            PollResult::SignedIn => "signed_in",
            PollResult::Ended => "ended",
            PollResult::Failed => "failed",
            PollResult::Refused => "refused",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// Whether polls may go to Adobe.
#[derive(Debug)]
struct Breaker {
    /// Failed polls in a row.
    failures: u32,
    /// Closed until then.
    open_until: Option<Instant>,
    /// How long it opens next time.
    backoff: Duration,
}

/// The pacing of background polls, shared by every watcher of this node.
#[derive(Debug)]
pub(super) struct Polling {
    in_flight: Arc<Semaphore>,
    /// How many polls may be in flight at once (the semaphore's permits, once shrinking ends).
    max_in_flight: AtomicUsize,
    breaker: Mutex<Breaker>,
    polls: Family<ResultLabels, Counter>,
    held_back: Counter,
    in_flight_gauge: Gauge,
    breaker_open: Gauge,
    breaker_trips: Counter,
    watchers: Gauge,
}

impl Polling {
    /// At most `max_in_flight` polls at once.
    pub fn new(max_in_flight: usize) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
            max_in_flight: AtomicUsize::new(max_in_flight.max(1)),
            breaker: Mutex::new(Breaker {
                failures: 0,
                open_until: None,
                backoff: FIRST_BACKOFF,
            }),
            polls: Family::default(),
            held_back: Counter::default(),
            in_flight_gauge: Gauge::default(),
            breaker_open: Gauge::default(),
            breaker_trips: Counter::default(),
            watchers: Gauge::default(),
        }
    }

    /// Whether a poll may go now; `false` (counted) while the breaker is open. Once its time
    /// is up, polls go again: the first result closes it or opens it for twice as long.
    pub fn admits(&self, now: Instant) -> bool {
        let breaker = self.breaker.lock().unwrap_or_else(PoisonError::into_inner);
        let open = breaker.open_until.is_some_and(|until| now < until);
        if open {
            self.held_back.inc();
        }
        !open
    }

    /// How many polls may be in flight at once.
    #[cfg(test)]
    fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::Relaxed)
    }

    /// Allows `max_in_flight` polls at once from now on: more places at once; fewer as soon as
    /// that many polls in flight have ended (a task takes their places for good).
    pub fn resize(&self, max_in_flight: usize) {
        let max = max_in_flight.max(1);
        let before = self.max_in_flight.swap(max, Ordering::Relaxed);
        if max > before {
            self.in_flight.add_permits(max - before);
            return;
        }
        let fewer = before - max;
        let owed = fewer - self.in_flight.forget_permits(fewer);
        if let Ok(owed @ 1..) = u32::try_from(owed) {
            let in_flight = self.in_flight.clone();
            tokio::spawn(async move {
                if let Ok(places) = in_flight.acquire_many_owned(owed).await {
                    places.forget();
                }
            });
        }
    }

    /// A place among the polls in flight, waiting for one when all are taken.
    pub async fn slot(&self) -> InFlight<'_> {
        // The semaphore is never closed, so acquiring only waits.
        let permit = self.in_flight.acquire().await.ok();
        self.in_flight_gauge.inc();
        InFlight {
            _permit: permit,
            gauge: &self.in_flight_gauge,
        }
    }

    /// Records how a poll ended, opening or closing the breaker.
    pub fn record(&self, result: PollResult, now: Instant) {
        self.polls
            .get_or_create(&ResultLabels {
                result: result.label(),
            })
            .inc();
        let mut breaker = self.breaker.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            PollResult::Failed => {
                let reopen = match breaker.open_until {
                    // Sent before it opened: it is open already.
                    Some(until) if now < until => false,
                    // The trial after the pause failed: pause twice as long.
                    Some(_) => {
                        breaker.backoff = (breaker.backoff * 2).min(LONGEST_BACKOFF);
                        true
                    }
                    None => {
                        breaker.failures += 1;
                        breaker.failures >= FAILURES_TO_OPEN
                    }
                };
                if reopen {
                    breaker.open_until =
                        Some(now + backoff::between_once_and_twice(breaker.backoff));
                    breaker.failures = 0;
                    self.breaker_trips.inc();
                    self.breaker_open.set(1);
                    tracing::warn!(
                        seconds = breaker.backoff.as_secs(),
                        "Adobe keeps failing: activation polls pause"
                    );
                }
            }
            PollResult::Refused => {}
            PollResult::Pending | PollResult::SignedIn | PollResult::Ended => {
                *breaker = Breaker {
                    failures: 0,
                    open_until: None,
                    backoff: FIRST_BACKOFF,
                };
                self.breaker_open.set(0);
            }
        }
    }

    /// Counts a watcher for as long as the returned guard lives.
    pub fn watcher(&self) -> Running<'_> {
        self.watchers.inc();
        Running(&self.watchers)
    }

    /// Adds the `tve_activation_poll*` and `tve_activation_watchers` metrics to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_activation_polls",
            "Background polls of Adobe for a code, by result",
            self.polls.clone(),
        );
        registry.register(
            "tve_activation_polls_held_back",
            "Background polls not sent because the breaker was open",
            self.held_back.clone(),
        );
        registry.register(
            "tve_activation_polls_in_flight",
            "Background polls waiting for Adobe's answer",
            self.in_flight_gauge.clone(),
        );
        registry.register(
            "tve_activation_poll_breaker_open",
            "Whether background polls pause because Adobe keeps failing",
            self.breaker_open.clone(),
        );
        registry.register(
            "tve_activation_poll_breaker_trips",
            "Times the breaker opened",
            self.breaker_trips.clone(),
        );
        registry.register(
            "tve_activation_watchers",
            "Watchers running, one per pending activation this node follows",
            self.watchers.clone(),
        );
    }
}

/// A poll in flight; its place is given back when dropped.
pub(super) struct InFlight<'a> {
    _permit: Option<SemaphorePermit<'a>>,
    gauge: &'a Gauge,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

/// A running watcher, counted until dropped.
pub(super) struct Running<'a>(&'a Gauge);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operators change how many polls may be in flight while polls are in flight.
    #[tokio::test]
    async fn the_places_for_polls_in_flight_grow_and_shrink_at_runtime() {
        let polling = Polling::new(2);
        let first = polling.slot().await;
        let second = polling.slot().await;
        assert_eq!(polling.in_flight.available_permits(), 0);
        polling.resize(3);
        let third = polling.slot().await;
        assert_eq!(polling.max_in_flight(), 3);

        polling.resize(1);
        assert_eq!(polling.max_in_flight(), 1);
        drop((first, second, third));
        tokio::time::timeout(Duration::from_secs(1), async {
            while polling.in_flight.available_permits() != 1 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("two places taken for good once their polls ended");
        let only = polling.slot().await;
        assert_eq!(polling.in_flight.available_permits(), 0);
        drop(only);
    }

    #[test]
    fn the_breaker_opens_after_failures_and_backs_off_while_trials_fail() {
        let polling = Polling::new(4);
        let start = Instant::now();
        for _ in 0..FAILURES_TO_OPEN - 1 {
            polling.record(PollResult::Failed, start);
        }
        assert!(polling.admits(start), "still closed");
        polling.record(PollResult::Failed, start);
        assert!(!polling.admits(start + FIRST_BACKOFF / 2), "open");
        assert!(!polling.admits(start + FIRST_BACKOFF - Duration::from_millis(1)));
        let trial = start + FIRST_BACKOFF * 2;
        assert!(polling.admits(trial), "a trial once the time is up");
        polling.record(PollResult::Failed, trial);
        assert!(
            !polling.admits(trial + FIRST_BACKOFF * 2 - Duration::from_millis(1)),
            "a failed trial opens it for twice as long"
        );
        let later = trial + FIRST_BACKOFF * 4;
        assert!(polling.admits(later));
        polling.record(PollResult::Pending, later);
        polling.record(PollResult::Failed, later);
        assert!(polling.admits(later), "an answer closed it");
        assert_eq!(polling.breaker_trips.get(), 2);
        assert_eq!(polling.held_back.get(), 3);
    }

    /// Issue 22, "No herds": breakers that open at the same moment (Adobe failing for every
    /// node) recover at different moments, each within once to twice its backoff.
    #[test]
    fn breakers_opened_together_recover_apart() {
        let start = Instant::now();
        let reopenings: Vec<Instant> = (0..20)
            .map(|_| {
                let polling = Polling::new(1);
                for _ in 0..FAILURES_TO_OPEN {
                    polling.record(PollResult::Failed, start);
                }
                let open_until = polling.breaker.lock().expect("lock").open_until;
                open_until.expect("open")
            })
            .collect();
        for until in &reopenings {
            assert!((start + FIRST_BACKOFF..=start + FIRST_BACKOFF * 2).contains(until));
        }
        assert!(reopenings.iter().any(|until| *until != reopenings[0]));
    }

    #[test]
    fn refusals_say_nothing_of_adobe() {
        let polling = Polling::new(1);
        let now = Instant::now();
        for _ in 0..FAILURES_TO_OPEN * 2 {
            polling.record(PollResult::Refused, now);
        }
        assert!(polling.admits(now));
    }

    #[tokio::test]
    async fn polls_in_flight_are_capped() {
        let polling = Polling::new(2);
        let first = polling.slot().await;
        let _second = polling.slot().await;
        assert_eq!(polling.in_flight_gauge.get(), 2);
        let third = tokio::time::timeout(Duration::from_millis(50), polling.slot()).await;
        assert!(third.is_err(), "the third waits");
        drop(first);
        let _third = polling.slot().await;
        assert_eq!(polling.in_flight_gauge.get(), 2);
    }
}
