//! Caps on what a TV holds open: event streams and long polls, per device token and per
//! address prefix, so one client (or one stolen token) cannot hold the server's connections.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{family::Family, gauge::Gauge},
    registry::Registry,
};

use super::address_key;

/// Open waits one device token may hold: a stream and a poll, with room for a reconnect.
pub const PER_DEVICE: usize = 4;
/// Open waits one address prefix may hold (a household, or a hotel behind one address).
pub const PER_ADDRESS: usize = 256;
/// What a refused wait is told: streams end and reconnect within seconds.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// How a TV waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// An event stream (`/events`).
    EventStream,
    /// A status request with `?wait=N`.
    LongPoll,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WaitLabels {
    wait: &'static str,
}

impl From<Wait> for WaitLabels {
    fn from(wait: Wait) -> Self {
        Self {
            wait: match wait {
                Wait::EventStream => "event_stream",
                Wait::LongPoll => "long_poll",
            },
        }
    }
}

/// Counts of open waits by key; a [`WaitSlot`] gives its place back when dropped.
#[derive(Debug, Default)]
pub struct WaitSlots {
    open: Mutex<HashMap<String, usize>>,
    waiting: Family<WaitLabels, Gauge>,
}

/// One open wait; dropping it frees its place.
#[derive(Debug)]
pub struct WaitSlot {
    slots: Arc<WaitSlots>,
    keys: [String; 2],
    gauge: Gauge,
}

impl WaitSlots {
    /// Takes a place for a wait of `device` from `ip`, or says how long to wait when either is
    /// at its cap.
    pub fn take(
        self: &Arc<Self>,
        device: &str,
        ip: IpAddr,
        wait: Wait,
    ) -> Result<WaitSlot, Duration> {
        let keys = [
            format!("device:{device}"),
            format!("addr:{}", address_key(ip)),
        ];
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let full = open.get(&keys[0]).copied().unwrap_or(0) >= PER_DEVICE
            || open.get(&keys[1]).copied().unwrap_or(0) >= PER_ADDRESS;
        if full {
            return Err(RETRY_AFTER);
        }
        for key in &keys {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        let gauge = self.waiting.get_or_create(&wait.into()).clone();
        gauge.inc();
        Ok(WaitSlot {
            slots: self.clone(),
            keys,
            gauge,
        })
    }

    /// Adds `tve_waiting_tvs`, by `wait`, to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_waiting_tvs",
            "TVs waiting on an activation, by how they wait",
            self.waiting.clone(),
        );
    }

    /// Waits open under `key`.
    #[cfg(test)]
    fn count(&self, key: &str) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for WaitSlot {
    fn drop(&mut self) {
        self.gauge.dec();
        let mut open = self
            .slots
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for key in &self.keys {
            if let Some(count) = open.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_holds_at_most_its_cap_and_gets_places_back() {
        let slots = Arc::new(WaitSlots::default());
        let ip: IpAddr = [203, 0, 113, 9].into();
        let held: Vec<WaitSlot> = (0..PER_DEVICE)
            .map(|_| slots.take("tv-1", ip, Wait::LongPoll).expect("free"))
            .collect();
        assert!(slots.take("tv-1", ip, Wait::LongPoll).is_err());
        assert!(
            slots.take("tv-2", ip, Wait::LongPoll).is_ok(),
            "another device may"
        );
        drop(held);
        assert_eq!(slots.count("device:tv-1"), 0);
        assert!(
            slots.open.lock().expect("lock").is_empty(),
            "no key left behind"
        );
        assert!(slots.take("tv-1", ip, Wait::LongPoll).is_ok());
    }

    #[test]
    fn an_address_holds_at_most_its_cap() {
        let slots = Arc::new(WaitSlots::default());
        let ip: IpAddr = [203, 0, 113, 9].into();
        let _held: Vec<WaitSlot> = (0..PER_ADDRESS)
            .map(|n| {
                slots
                    .take(&format!("tv-{n}"), ip, Wait::EventStream)
                    .expect("free")
            })
            .collect();
        assert!(slots.take("tv-new", ip, Wait::EventStream).is_err());
        assert!(slots
            .take("tv-new", [203, 0, 113, 10].into(), Wait::EventStream)
            .is_ok());
    }
}
