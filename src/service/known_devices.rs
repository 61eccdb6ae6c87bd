//! Devices by token hash, so a TV's calls need no store round trip each: kept a minute at
//! most, and dropped at once when the device's token is replaced or its caches are invalidated
//! (here, and on every node through the bus).

use std::time::Duration;

use moka::sync::Cache;

use crate::store::Device;

/// Devices kept at most; past it the least used go first.
const MOST_DEVICES: u64 = 100_000;
/// How long a device is believed without asking the store again.
const BELIEVED_FOR: Duration = Duration::from_secs(60);

/// Recently seen devices by the hash of their token.
#[derive(Debug)]
pub(super) struct KnownDevices {
    by_token: Cache<String, Device>,
    /// The token hash each device was last seen with, to forget it by device id.
    token_of: Cache<String, String>,
}

fn bounded<V: Clone + Send + Sync + 'static>() -> Cache<String, V> {
    Cache::builder()
        .max_capacity(MOST_DEVICES)
        .time_to_live(BELIEVED_FOR)
        .build()
}

impl Default for KnownDevices {
    fn default() -> Self {
        Self {
            by_token: bounded(),
            token_of: bounded(),
        }
    }
}

impl KnownDevices {
    /// The device holding the token with this hash, if seen within the last minute.
    pub fn get(&self, token_hash: &str) -> Option<Device> {
        self.by_token.get(token_hash)
    }

    /// Remembers the device its token's hash stands for.
    pub fn put(&self, token_hash: &str, device: &Device) {
        self.token_of
            .insert(device.device_id.clone(), token_hash.to_owned());
        self.by_token.insert(token_hash.to_owned(), device.clone());
    }

    /// Forgets the device (its token was replaced, or what it may watch changed).
    pub fn forget(&self, device_id: &str) {
        if let Some(token_hash) = self.token_of.remove(device_id) {
            self.by_token.invalidate(&token_hash);
        }
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
        }
    }

    #[test]
    fn a_forgotten_device_is_asked_for_again() {
        let known = KnownDevices::default();
        known.put("hash-1", &device("dev-1"));
        known.put("hash-2", &device("dev-2"));
        assert_eq!(
            known.get("hash-1").map(|d| d.device_id),
            Some("dev-1".into())
        );
        known.forget("dev-1");
        assert!(known.get("hash-1").is_none());
        assert!(known.get("hash-2").is_some(), "others stay");
    }
}
