//! Devices by token hash, so a TV's calls need no store round trip each: kept a minute at
//! most, and dropped at once when the device's token is replaced or revoked, or its caches are
//! invalidated (here, and on every node through the bus).
//!
//! A store read that began before a device was forgotten must not bring its old token back
//! (a thief's call racing the owner's renewal). So forgetting is counted in epochs: a read takes
//! a [`Ticket`] first, what it puts is stamped with it, and a device's entries stamped before its
//! last forgetting are never believed, whichever token hash they are under.

use std::{
    hash::{BuildHasher, RandomState},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use moka::sync::Cache;

use crate::store::Device;

/// Devices kept at most; past it the least used go first.
const MOST_DEVICES: u64 = 100_000;
/// How long a device is believed without asking the store again.
const BELIEVED_FOR: Duration = Duration::from_secs(60);
/// Slots for the epoch each device was last forgotten in; devices sharing a slot forget each
/// other's entries too (a store read more, never a stale answer).
const FORGET_SLOTS: usize = 16_384;

/// The epoch a store read began in: take it before reading, hand it to [`KnownDevices::put`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Ticket(u64);

#[derive(Clone)]
struct Stamped {
    device: Device,
    /// The epoch of the read that found it.
    read_in: u64,
}

/// Recently seen devices by the hash of their token.
pub(super) struct KnownDevices {
    by_token: Cache<String, Stamped>,
    /// Forgettings so far.
    epoch: AtomicU64,
    /// The epoch each slot of device ids was last forgotten in.
    forgotten: Box<[AtomicU64]>,
    slots: RandomState,
}

impl Default for KnownDevices {
    fn default() -> Self {
        Self {
            by_token: Cache::builder()
                .max_capacity(MOST_DEVICES)
                .time_to_live(BELIEVED_FOR)
                .build(),
            epoch: AtomicU64::new(0),
            forgotten: (0..FORGET_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            slots: RandomState::new(),
        }
    }
}

impl std::fmt::Debug for KnownDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownDevices")
            .field("devices", &self.by_token.entry_count())
            .field("epoch", &self.epoch.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl KnownDevices {
    /// The ticket of a store read about to begin.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.epoch.load(Ordering::SeqCst))
    }

    /// The device holding the token with this hash, if seen within the last minute and not
    /// forgotten since.
    pub fn get(&self, token_hash: &str) -> Option<Device> {
        let entry = self.by_token.get(token_hash)?;
        if self.forgotten_in(&entry.device.device_id) > entry.read_in {
            self.by_token.invalidate(token_hash);
            return None;
        }
        Some(entry.device)
    }

    /// Remembers the device its token's hash stands for, as a read that began at `ticket` found
    /// it; nothing when the device was forgotten since.
    pub fn put(&self, ticket: Ticket, token_hash: &str, device: &Device) {
        if self.forgotten_in(&device.device_id) > ticket.0 {
            return;
        }
        self.by_token.insert(
            token_hash.to_owned(),
            Stamped {
                device: device.clone(),
                read_in: ticket.0,
            },
        );
    }

    /// Forgets the device under every token hash (its token was replaced or revoked, or what it
    /// may watch changed), and whatever reads in flight would put back.
    pub fn forget(&self, device_id: &str) {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.slot(device_id).fetch_max(epoch, Ordering::SeqCst);
    }

    fn forgotten_in(&self, device_id: &str) -> u64 {
        self.slot(device_id).load(Ordering::SeqCst)
    }

    fn slot(&self, device_id: &str) -> &AtomicU64 {
        let slot = self.slots.hash_one(device_id) % self.forgotten.len() as u64;
        &self.forgotten[slot as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str) -> Device {
        Device {
            device_id: id.to_owned(),
            app_device_id: "tv".to_owned(),
            device_info: serde_json::json!({}),
            last_provider: None,
            temp_pass_identity: None,
            registered_at: 0,
            network: None,
            seen_at: 0,
            sign_in_started_at: None,
        }
    }

    fn found(known: &KnownDevices, hash: &str) -> Option<String> {
        known.get(hash).map(|d| d.device_id)
    }

    #[test]
    fn a_forgotten_device_is_asked_for_again() {
        let known = KnownDevices::default();
        known.put(known.ticket(), "hash-1", &device("dev-1"));
        known.put(known.ticket(), "hash-2", &device("dev-2"));
        assert_eq!(found(&known, "hash-1"), Some("dev-1".into()));
        known.forget("dev-1");
        assert_eq!(found(&known, "hash-1"), None);
        assert_eq!(found(&known, "hash-2"), Some("dev-2".into()), "others stay");
    }

    #[test]
    fn a_read_begun_before_the_forgetting_puts_nothing_back() {
        let known = KnownDevices::default();
        let before = known.ticket();
        known.forget("dev-1");
        known.put(before, "old-hash", &device("dev-1"));
        assert_eq!(found(&known, "old-hash"), None);
        known.put(known.ticket(), "new-hash", &device("dev-1"));
        assert_eq!(
            found(&known, "new-hash"),
            Some("dev-1".into()),
            "a read begun after it is kept"
        );
    }

    #[test]
    fn forgetting_drops_every_token_a_device_was_cached_under() {
        let known = KnownDevices::default();
        known.put(known.ticket(), "stolen-hash", &device("dev-1"));
        known.put(known.ticket(), "owner-hash", &device("dev-1"));
        known.forget("dev-1");
        assert_eq!(found(&known, "stolen-hash"), None);
        assert_eq!(found(&known, "owner-hash"), None);
    }
}
