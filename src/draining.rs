//! Rolling restarts: once a node is asked to stop it drains. `/readyz` answers 503 at once so
//! the balancer sends new requests elsewhere, event streams end with a `reconnect` event and long
//! polls answer, so waiting TVs come back through the balancer to another node; then the node
//! stops accepting connections and exits within its shutdown deadline. Each TV is told (or, on a
//! long poll, answered after) its own delay from the drain's [`Spread`], so the crowd on this node
//! reaches the others spread out rather than in the same second.

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use tokio::sync::watch;

use crate::backoff::{Spread, FIRST_RECONNECT};

/// Whether this node is draining; cheap to clone, shared by every handler.
#[derive(Clone, Debug)]
pub struct Draining {
    started: watch::Sender<bool>,
    drain: Arc<OnceLock<Drain>>,
    deadline: Duration,
}

/// What a drain fixed when it started.
#[derive(Debug)]
struct Drain {
    spread: Spread,
    /// Held answers are given by then, inside the shutdown deadline.
    answer_by: Instant,
}

impl Draining {
    /// Not draining yet; a drain must be over within `deadline` of its start (the node's
    /// shutdown deadline).
    pub fn new(deadline: Duration) -> Self {
        Self {
            started: watch::Sender::new(false),
            drain: Arc::default(),
            deadline,
        }
    }

    /// Starts draining (idempotent) with `waiting` TVs on this node's event streams and long
    /// polls: their reconnects are spread over a span sized to them.
    pub fn start(&self, waiting: usize) {
        self.drain.get_or_init(|| Drain {
            spread: Spread::for_crowd(waiting),
            // A tenth of the deadline (at least 100 ms) is left for the answers to go out.
            answer_by: Instant::now()
                + self
                    .deadline
                    .saturating_sub((self.deadline / 10).max(Duration::from_millis(100))),
        });
        self.started.send_replace(true);
    }

    /// Whether draining has started.
    pub fn is_draining(&self) -> bool {
        *self.started.borrow()
    }

    /// Resolves once draining has started (at once if it has).
    pub fn started(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut started = self.started.subscribe();
        async move {
            let _ = started.wait_for(|started| *started).await;
        }
    }

    /// How long the next TV sent away should wait before it reconnects: its own share of the
    /// drain's spread.
    pub fn reconnect_delay(&self) -> Duration {
        self.drain
            .get()
            .map_or(FIRST_RECONNECT, |drain| drain.spread.next_delay())
    }

    /// How long to hold the answer of a long poll sent away: its share of the spread (the TV
    /// polls again once answered), but never past what the shutdown deadline allows.
    pub fn hold(&self) -> Duration {
        let delay = self.reconnect_delay();
        self.drain.get().map_or(delay, |drain| {
            delay.min(drain.answer_by.saturating_duration_since(Instant::now()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_learn_when_draining_starts() {
        let draining = Draining::new(Duration::from_secs(20));
        assert!(!draining.is_draining());
        let waiter = tokio::spawn(draining.started());
        draining.start(0);
        waiter.await.expect("woken");
        assert!(draining.is_draining());
        draining.started().await;
    }

    /// Each TV sent away gets its own delay, from the first reconnect on, and a held answer
    /// never outlasts the shutdown deadline.
    #[test]
    fn tvs_sent_away_wait_apart_within_the_deadline() {
        let draining = Draining::new(Duration::from_secs(3));
        draining.start(5_000);
        let delays: Vec<Duration> = (0..100).map(|_| draining.reconnect_delay()).collect();
        assert!(delays.iter().all(|delay| *delay >= FIRST_RECONNECT));
        let mut distinct = delays.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), delays.len(), "no two alike");
        let held: Vec<Duration> = (0..100).map(|_| draining.hold()).collect();
        assert!(held.iter().all(|hold| *hold < Duration::from_millis(2_700)));
    }
}
