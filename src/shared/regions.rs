//! Messages between nodes of several regions: each region has a Redis of its own (its fast bus,
//! its limits and sessions), and every region shares the PostgreSQL primary. With
//! `--store-bus`, messages also travel through PostgreSQL (LISTEN/NOTIFY), so a TV waiting in
//! one region hears at once of a sign-in completed in another, and a region that loses its
//! Redis leaves the others untouched. An event heard on both buses is handed out once.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use moka::sync::Cache;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;

use super::{
    bus::{Envelope, EVENTS_KEPT},
    Bus, ClusterEvent, SharedBus,
};
use crate::adobe_pass::Secret;

/// The PostgreSQL channel the messages go on (a channel is per database, so per deployment).
const CHANNEL: &str = "tve_events";
/// How long an event heard on one bus is not handed out again when heard on another.
const SAME_EVENT_WITHIN: Duration = Duration::from_secs(2);

/// Messages through PostgreSQL could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on PostgreSQL: {0}")]
pub struct StoreBusError(#[from] sqlx::Error);

/// Messages between nodes through PostgreSQL's LISTEN/NOTIFY.
#[derive(Debug)]
pub struct StoreBus {
    pool: PgPool,
    node: String,
    events: broadcast::Sender<ClusterEvent>,
}

impl StoreBus {
    /// Listens on the database at `url` (a connection of its own, which `sqlx` re-opens and
    /// listens on again after a loss) and publishes through one more.
    pub async fn connect(url: &Secret) -> Result<Self, StoreBusError> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(url.expose())
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let node = uuid::Uuid::new_v4().simple().to_string();
        let (events, _) = broadcast::channel(EVENTS_KEPT);
        let forward = events.clone();
        let me = node.clone();
        tokio::spawn(async move {
            loop {
                let notification = match listener.recv().await {
                    Ok(notification) => notification,
                    Err(error) => {
                        tracing::warn!(%error, "messages through PostgreSQL interrupted");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                match serde_json::from_str::<Envelope>(notification.payload()) {
                    Ok(envelope) if envelope.from != me => {
                        let _ = forward.send(envelope.event);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "unreadable message from another node"),
                }
            }
        });
        Ok(Self { pool, node, events })
    }
}

#[async_trait]
impl Bus for StoreBus {
    async fn publish(&self, event: ClusterEvent) {
        let envelope = Envelope {
            from: self.node.clone(),
            event,
        };
        let Ok(text) = serde_json::to_string(&envelope) else {
            return;
        };
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(text)
            .execute(&self.pool)
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, "cannot tell the nodes of other regions");
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.subscribe()
    }
}

/// Several buses as one: a message goes out on each, and one heard on several is handed out
/// once.
#[derive(Debug)]
pub struct Buses {
    buses: Vec<SharedBus>,
    events: broadcast::Sender<ClusterEvent>,
}

impl Buses {
    /// Publishes on every bus of `buses` and hands out what any of them hears.
    pub fn new(buses: Vec<SharedBus>) -> Self {
        let (events, _) = broadcast::channel(EVENTS_KEPT);
        let heard: Arc<Cache<ClusterEvent, ()>> = Arc::new(
            Cache::builder()
                .max_capacity(EVENTS_KEPT as u64 * 16)
                .time_to_live(SAME_EVENT_WITHIN)
                .build(),
        );
        for bus in &buses {
            let mut incoming = bus.subscribe();
            let (forward, heard) = (events.clone(), heard.clone());
            tokio::spawn(async move {
                loop {
                    match incoming.recv().await {
                        Ok(event) => {
                            if heard.contains_key(&event) {
                                continue;
                            }
                            heard.insert(event.clone(), ());
                            let _ = forward.send(event);
                        }
                        Err(broadcast::error::RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "missed messages from other nodes");
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
            });
        }
        Self { buses, events }
    }
}

#[async_trait]
impl Bus for Buses {
    async fn publish(&self, event: ClusterEvent) {
        for bus in &self.buses {
            bus.publish(event.clone()).await;
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bus whose messages the test sends by hand.
    #[derive(Debug)]
    struct Fake(broadcast::Sender<ClusterEvent>);

    #[async_trait]
    impl Bus for Fake {
        async fn publish(&self, _event: ClusterEvent) {}
        fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
            self.0.subscribe()
        }
    }

    #[tokio::test]
    async fn an_event_heard_on_two_buses_is_handed_out_once() {
        let (redis, store) = (broadcast::channel(8).0, broadcast::channel(8).0);
        let buses = Buses::new(vec![
            Arc::new(Fake(redis.clone())),
            Arc::new(Fake(store.clone())),
        ]);
        let mut heard = buses.subscribe();
        let changed = |code: &str| ClusterEvent::ActivationChanged {
            code: code.to_owned(),
        };
        redis.send(changed("ABC")).expect("sent");
        store.send(changed("ABC")).expect("sent");
        store.send(changed("XYZ")).expect("sent");
        let first = tokio::time::timeout(Duration::from_secs(1), heard.recv()).await;
        let second = tokio::time::timeout(Duration::from_secs(1), heard.recv()).await;
        assert_eq!(first.expect("in time").expect("event"), changed("ABC"));
        assert_eq!(second.expect("in time").expect("event"), changed("XYZ"));
        assert!(
            tokio::time::timeout(Duration::from_millis(100), heard.recv())
                .await
                .is_err(),
            "ABC once"
        );
    }
}
