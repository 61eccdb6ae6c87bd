//! The NATS JetStream sink: each event is published to `<subject>.<type>` with its id as
//! `Nats-Msg-Id` (JetStream drops a repeat within the stream's duplicate window), into a stream
//! created when missing. The client connects in the background and reconnects by itself; an
//! event not confirmed by JetStream is counted as dropped.

use std::{future::IntoFuture, sync::Arc, time::Duration};

use async_nats::{
    header::NATS_MESSAGE_ID,
    jetstream::{self, stream},
    HeaderMap, ServerAddr,
};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;

use super::Encoded;

/// The sink's label in `tve_events_dropped_total`.
pub(super) const SINK: &str = "nats";

/// Most events published before their confirmations are awaited together.
const BATCH: usize = 256;

/// How long JetStream may take to confirm an event, or to answer about the stream.
const CONFIRM_WITHIN: Duration = Duration::from_secs(2);

/// Where events go in NATS.
#[derive(Clone)]
pub struct NatsSink {
    /// The servers (any of them will do).
    pub servers: Vec<ServerAddr>,
    /// The subject prefix: an event goes to `<subject>.<type>`.
    pub subject: String,
    /// The stream that keeps them (subjects `<subject>.>`).
    pub stream: String,
}

impl std::fmt::Debug for NatsSink {
    /// Hosts and ports only: a server's address may hold a user and password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let servers: Vec<String> = self
            .servers
            .iter()
            .map(|s| format!("{}:{}", s.host(), s.port()))
            .collect();
        f.debug_struct("NatsSink")
            .field("servers", &servers)
            .field("subject", &self.subject)
            .field("stream", &self.stream)
            .finish()
    }
}

/// Publishes what `queue` brings until every sender is gone.
pub(super) async fn run(
    sink: NatsSink,
    node: String,
    mut queue: mpsc::Receiver<Arc<Encoded>>,
    dropped: Counter,
) {
    let connected = async_nats::ConnectOptions::new()
        .name(format!("tve-activate events ({node})"))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connect(sink.servers.clone())
        .await;
    let client = match connected {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot set up the NATS client: events to NATS are dropped");
            while let Some(_lost) = queue.recv().await {
                dropped.inc();
            }
            return;
        }
    };
    let mut jetstream = jetstream::new(client);
    jetstream.set_timeout(CONFIRM_WITHIN);
    let mut stream_ready = false;
    let mut healthy = true;
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        if !stream_ready {
            stream_ready = ensure_stream(&jetstream, &sink).await;
        }
        let lost = publish(&jetstream, &sink.subject, batch.drain(..)).await;
        dropped.inc_by(lost);
        if lost > 0 {
            stream_ready = false;
            if healthy {
                tracing::warn!(
                    lost,
                    "JetStream did not confirm events; dropping them while it is out"
                );
            }
        } else if !healthy {
            tracing::info!("JetStream confirms events again");
        }
        healthy = lost == 0;
    }
}

/// Publishes `events` and awaits their confirmations together; gives how many were lost.
async fn publish(
    jetstream: &jetstream::Context,
    subject: &str,
    events: impl Iterator<Item = Arc<Encoded>>,
) -> u64 {
    let mut lost = 0;
    let mut confirmations = Vec::with_capacity(BATCH);
    for event in events {
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, event.id.as_str());
        let sent = jetstream
            .publish_with_headers(
                format!("{subject}.{}", event.kind),
                headers,
                event.line.clone().into(),
            )
            .await;
        match sent {
            Ok(confirmation) => confirmations.push(confirmation.into_future()),
            Err(_) => lost += 1,
        }
    }
    for confirmed in futures_util::future::join_all(confirmations).await {
        if confirmed.is_err() {
            lost += 1;
        }
    }
    lost
}

/// Creates the stream when missing (JetStream's default duplicate window, two minutes, drops a
/// repeated id); says whether it is there.
async fn ensure_stream(jetstream: &jetstream::Context, sink: &NatsSink) -> bool {
    let config = stream::Config {
        name: sink.stream.clone(),
        subjects: vec![format!("{}.>", sink.subject)],
        ..stream::Config::default()
    };
    match jetstream.get_or_create_stream(config).await {
        Ok(_) => true,
        Err(error) => {
            tracing::debug!(%error, stream = %sink.stream, "the events stream is not reachable");
            false
        }
    }
}
