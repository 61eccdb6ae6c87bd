//! Rolling restarts: once a node is asked to stop it drains. `/readyz` answers 503 at once so
//! the balancer sends new requests elsewhere, event streams end with a `reconnect` event and long
//! polls answer at once, so waiting TVs come back through the balancer to another node; then the
//! node stops accepting connections and exits within its shutdown deadline.

use tokio::sync::watch;

/// Whether this node is draining; cheap to clone, shared by every handler.
#[derive(Clone, Debug)]
pub struct Draining {
    started: watch::Sender<bool>,
}

impl Default for Draining {
    fn default() -> Self {
        Self {
            started: watch::Sender::new(false),
        }
    }
}

impl Draining {
    /// Starts draining (idempotent).
    pub fn start(&self) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_learn_when_draining_starts() {
        let draining = Draining::default();
        assert!(!draining.is_draining());
        let waiter = tokio::spawn(draining.started());
        draining.start();
        waiter.await.expect("woken");
        assert!(draining.is_draining());
        draining.started().await;
    }
}
