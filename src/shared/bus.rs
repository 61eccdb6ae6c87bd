//! What one node tells the others at once: an activation changed (so TVs waiting on another
//! node learn of it within a second), a device's cached token, profile and decisions are stale
//! (logout, admin invalidation or revocation, a renewed token, a new sign-in), Adobe refused a device's profile or took it back, an operator changed a provider's state or the limits. One node alone needs no messages: it already acts.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// A message between nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ClusterEvent {
    /// The activation with this code changed in the store: read it again.
    ActivationChanged {
        /// The code.
        code: String,
    },
    /// A phone opened the code: the node polling Adobe for it polls quickly.
    ActivationOpened {
        /// The code.
        code: String,
    },
    /// Forget what is cached for this device (its registration id).
    DeviceInvalidated {
        /// The device.
        device_id: String,
    },
    /// Adobe refused the device's profile with action `authentication`: the next activation
    /// started on any node replaces it, although P1 may still list it.
    ProfileRefused {
        /// The device.
        device_id: String,
        /// The provider whose profile was refused.
        provider: String,
        /// The refused profile's `notAfter`, epoch ms (the mark is kept no longer).
        expires_at: i64,
    },
    /// The device's viewer signed in again, or Adobe accepted the profile after all.
    RefusalCleared {
        /// The device.
        device_id: String,
    },
    /// An operator changed a provider's state: read the states again.
    ProviderStatesChanged,
    /// An operator changed the limits: read them again.
    LimitsChanged,
}

/// Events a bus keeps for a slow subscriber before it misses some.
pub(crate) const EVENTS_KEPT: usize = 1024;

/// A message on a bus, with the node that sent it (a node skips its own).
#[derive(Serialize, Deserialize)]
pub(crate) struct Envelope {
    /// The sending node.
    pub from: String,
    /// What it says.
    pub event: ClusterEvent,
}

/// Sends events to the other nodes and hands out those they send.
#[async_trait]
pub trait Bus: Send + Sync + std::fmt::Debug {
    /// Tells the other nodes, returning once Redis has taken the message (so a caller's next
    /// request finds the others told); never fails the caller (a lost message costs latency:
    /// the watchers still poll, and caches still expire).
    async fn publish(&self, event: ClusterEvent);

    /// The events other nodes send from now on.
    fn subscribe(&self) -> broadcast::Receiver<ClusterEvent>;
}

/// A bus shared across tasks.
pub type SharedBus = Arc<dyn Bus>;

/// One node: nobody to tell, nothing to hear.
#[derive(Debug)]
pub struct LocalBus {
    events: broadcast::Sender<ClusterEvent>,
}

impl Default for LocalBus {
    fn default() -> Self {
        Self {
            events: broadcast::Sender::new(1),
        }
    }
}

#[async_trait]
impl Bus for LocalBus {
    async fn publish(&self, _event: ClusterEvent) {}

    fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.subscribe()
    }
}
