//! The event stream (docs/events.md): typed events of activations, plays, TempPass, logouts and
//! operators' changes, each emitted once, by the node whose store update (or request) decided
//! it, to JSON lines (a file or standard output) and NATS JetStream. Emitting never waits on a
//! sink: each sink drains a bounded queue in a task of its own, and what does not fit, or what
//! a sink fails to deliver, is dropped and counted. Without a sink configured, emitting is one
//! check of an `Option`.

mod context;
mod file;
mod nats;
mod schema;

use std::sync::Arc;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};
use tokio::sync::mpsc;

pub use context::{current_request_id, request_scope};
pub use file::EventFile;
pub use nats::NatsSink;
pub use schema::{
    ActivationStep, Actor, Deny, Event, EventKind, Permit, RedactedCode, Viewer, ADMIN_API,
};

/// Events a sink's queue holds before new ones are dropped.
const QUEUE: usize = 8_192;

/// Where events go; none of them by default.
#[derive(Clone, Debug, Default)]
pub struct EventSettings {
    /// JSON lines to a file or standard output.
    pub file: Option<EventFile>,
    /// NATS JetStream.
    pub nats: Option<NatsSink>,
}

/// One event, encoded once for every sink.
#[derive(Debug)]
struct Encoded {
    /// The envelope's `id`.
    id: String,
    /// The `type` tag.
    kind: &'static str,
    /// The JSON line, without its newline.
    line: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabels {
    r#type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabels {
    sink: &'static str,
}

/// What the event stream counts.
#[derive(Debug, Default)]
struct EventMetrics {
    emitted: Family<TypeLabels, Counter>,
    dropped: Family<SinkLabels, Counter>,
}

/// A sink's queue.
#[derive(Debug)]
struct Queue {
    sink: &'static str,
    sender: mpsc::Sender<Arc<Encoded>>,
}

#[derive(Debug)]
struct Sinks {
    node: String,
    queues: Vec<Queue>,
}

/// The event stream of this node; cheap to clone. [`Events::default`] has no sink.
#[derive(Clone, Debug, Default)]
pub struct Events {
    sinks: Option<Arc<Sinks>>,
    metrics: Arc<EventMetrics>,
}

impl Events {
    /// Starts a task per configured sink (on the current Tokio runtime); events carry `node`.
    pub fn start(settings: &EventSettings, node: &str) -> Self {
        let metrics = Arc::<EventMetrics>::default();
        let mut queues = Vec::new();
        if let Some(file) = &settings.file {
            let (sender, receiver) = mpsc::channel(QUEUE);
            let dropped = metrics.dropped_by(file::SINK);
            tokio::spawn(file::run(file.clone(), receiver, dropped));
            queues.push(Queue {
                sink: file::SINK,
                sender,
            });
        }
        if let Some(nats) = &settings.nats {
            let (sender, receiver) = mpsc::channel(QUEUE);
            let dropped = metrics.dropped_by(nats::SINK);
            tokio::spawn(nats::run(nats.clone(), node.to_owned(), receiver, dropped));
            queues.push(Queue {
                sink: nats::SINK,
                sender,
            });
        }
        let sinks = (!queues.is_empty()).then(|| {
            Arc::new(Sinks {
                node: node.to_owned(),
                queues,
            })
        });
        Self { sinks, metrics }
    }

    /// Emits `kind`, which happened at `time` (epoch ms), to every sink without waiting: with
    /// the request id of the request being served, if any.
    pub fn emit(&self, time: i64, kind: EventKind) {
        let Some(sinks) = &self.sinks else {
            return;
        };
        let name = kind.name();
        let event = Event {
            id: uuid::Uuid::new_v4().to_string(),
            time,
            node: sinks.node.clone(),
            request_id: current_request_id(),
            kind,
        };
        let line = match serde_json::to_string(&event) {
            Ok(line) => line,
            Err(error) => {
                tracing::warn!(%error, event = name, "cannot encode an event");
                return;
            }
        };
        self.metrics
            .emitted
            .get_or_create(&TypeLabels { r#type: name })
            .inc();
        let encoded = Arc::new(Encoded {
            id: event.id,
            kind: name,
            line,
        });
        for queue in &sinks.queues {
            if queue.sender.try_send(encoded.clone()).is_err() {
                self.metrics.dropped_by(queue.sink).inc();
            }
        }
    }

    /// Adds `tve_events_emitted` and `tve_events_dropped` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_events_emitted",
            "Events emitted by this node, by type",
            self.metrics.emitted.clone(),
        );
        registry.register(
            "tve_events_dropped",
            "Events a sink lost: its queue was full, or it could not write them (or JetStream \
             did not confirm them), by sink",
            self.metrics.dropped.clone(),
        );
    }
}

impl EventMetrics {
    fn dropped_by(&self, sink: &'static str) -> Counter {
        self.dropped.get_or_create(&SinkLabels { sink }).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logout() -> EventKind {
        EventKind::Logout(Viewer {
            device_id: "dev-1".to_owned(),
            provider: None,
            platform: "tvOS".to_owned(),
        })
    }

    #[tokio::test]
    async fn without_sinks_nothing_is_emitted_or_counted() {
        let events = Events::start(&EventSettings::default(), "node-a");
        events.emit(1, logout());
        let mut registry = Registry::default();
        events.register(&mut registry);
        let text = crate::telemetry::encode(&registry);
        assert!(!text.contains("tve_events_emitted_total{"), "{text}");
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_without_waiting() {
        let metrics = Arc::<EventMetrics>::default();
        let (sender, _receiver) = mpsc::channel(1);
        let events = Events {
            sinks: Some(Arc::new(Sinks {
                node: "node-a".to_owned(),
                queues: vec![Queue {
                    sink: "file",
                    sender,
                }],
            })),
            metrics,
        };
        for time in 0..3 {
            events.emit(time, logout());
        }
        let mut registry = Registry::default();
        events.register(&mut registry);
        let text = crate::telemetry::encode(&registry);
        assert!(
            text.contains("tve_events_emitted_total{type=\"logout\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("tve_events_dropped_total{sink=\"file\"} 2"),
            "{text}"
        );
    }
}
