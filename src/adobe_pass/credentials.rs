//! Client credentials and access tokens (§4, §14.1). Each device registers once: its
//! credentials are persisted through [`ClientCredentialsStore`] and reused forever (re-registering
//! would orphan the user's profiles). Its access token is persisted beside them and cached in
//! memory until shortly before it expires, shared by concurrent callers; a refresh is
//! single-flight per device. The REST API V2 checklist (§1, MANDATORY) says "Store the access
//! tokens in persistent storage and reuse them until they expire": a restart or an idle device
//! asks for none while the stored one is valid.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, SystemTime},
};

use moka::sync::Cache;
use serde::{Deserialize, Serialize};

use super::secret::Secret;
use crate::clock::SharedClock;

/// A device's DCR client credentials: keep them forever.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCredentials {
    /// Client id.
    pub client_id: String,
    /// Client secret (redacted in Debug output).
    pub client_secret: Secret,
}

/// Why the credentials store failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CredentialsStoreError(pub Box<dyn std::error::Error + Send + Sync>);

/// A boxed future returned by [`ClientCredentialsStore`] methods.
pub type StoreFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, CredentialsStoreError>> + Send + 'a>>;

/// Where client credentials are persisted, keyed by device id.
pub trait ClientCredentialsStore: Send + Sync {
    /// The credentials registered for this device, if any.
    fn load<'a>(&'a self, device_id: &'a str) -> StoreFuture<'a, Option<ClientCredentials>>;

    /// Saves freshly registered credentials unless the device already has some, and returns
    /// the ones kept (so two nodes racing to register both end up using the first).
    fn save_new<'a>(
        &'a self,
        device_id: &'a str,
        credentials: &'a ClientCredentials,
    ) -> StoreFuture<'a, ClientCredentials>;

    /// Deletes the device's credentials if they are still those of `client_id` (Adobe answered
    /// `invalid_client` for them), so the next registration can replace them.
    fn forget<'a>(&'a self, device_id: &'a str, client_id: &'a str) -> StoreFuture<'a, ()>;

    /// The access token persisted for the device, with the time it is due for refresh.
    fn load_token<'a>(
        &'a self,
        device_id: &'a str,
    ) -> StoreFuture<'a, Option<(Secret, SystemTime)>>;

    /// Persists the access token of the device's client `client_id` until `refresh_at`; does
    /// nothing when the device's credentials are no longer that client's. Forgetting the
    /// credentials forgets the token.
    fn save_token<'a>(
        &'a self,
        device_id: &'a str,
        client_id: &'a str,
        token: &'a Secret,
        refresh_at: SystemTime,
    ) -> StoreFuture<'a, ()>;
}

/// What [`MemoryCredentialsStore`] keeps of a device.
#[derive(Debug)]
struct Kept {
    credentials: ClientCredentials,
    token: Option<(Secret, SystemTime)>,
}

/// Credentials and tokens in process memory; for tests and demos (lost on exit).
#[derive(Debug, Default)]
pub struct MemoryCredentialsStore {
    devices: Mutex<HashMap<String, Kept>>,
}

impl MemoryCredentialsStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many devices have credentials.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no device has credentials.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Kept>> {
        self.devices.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ClientCredentialsStore for MemoryCredentialsStore {
    fn load<'a>(&'a self, device_id: &'a str) -> StoreFuture<'a, Option<ClientCredentials>> {
        let found = self
            .lock()
            .get(device_id)
            .map(|kept| kept.credentials.clone());
        Box::pin(async move { Ok(found) })
    }

    fn save_new<'a>(
        &'a self,
        device_id: &'a str,
        credentials: &'a ClientCredentials,
    ) -> StoreFuture<'a, ClientCredentials> {
        let kept = self
            .lock()
            .entry(device_id.to_owned())
            .or_insert_with(|| Kept {
                credentials: credentials.clone(),
                token: None,
            })
            .credentials
            .clone();
        Box::pin(async move { Ok(kept) })
    }

    fn forget<'a>(&'a self, device_id: &'a str, client_id: &'a str) -> StoreFuture<'a, ()> {
        let mut devices = self.lock();
        if devices
            .get(device_id)
            .is_some_and(|kept| kept.credentials.client_id == client_id)
        {
            devices.remove(device_id);
        }
        Box::pin(async move { Ok(()) })
    }

    fn load_token<'a>(
        &'a self,
        device_id: &'a str,
    ) -> StoreFuture<'a, Option<(Secret, SystemTime)>> {
        let found = self
            .lock()
            .get(device_id)
            .and_then(|kept| kept.token.clone());
        Box::pin(async move { Ok(found) })
    }

    fn save_token<'a>(
        &'a self,
        device_id: &'a str,
        client_id: &'a str,
        token: &'a Secret,
        refresh_at: SystemTime,
    ) -> StoreFuture<'a, ()> {
        if let Some(kept) = self
            .lock()
            .get_mut(device_id)
            .filter(|kept| kept.credentials.client_id == client_id)
        {
            kept.token = Some((token.clone(), refresh_at));
        }
        Box::pin(async move { Ok(()) })
    }
}

/// Access tokens several nodes share: one node fetches a device's token, the others use it, so a
/// device has one token at Adobe however many nodes serve it.
#[async_trait::async_trait]
pub trait SharedTokens: Send + Sync + std::fmt::Debug {
    /// The token a node fetched for `device_id`, with the time every node stops using it.
    async fn get(&self, device_id: &str) -> Option<(Secret, SystemTime)>;

    /// Shares a token fetched here, until `refresh_at`.
    async fn put(&self, device_id: &str, token: &Secret, refresh_at: SystemTime);

    /// Takes, for a moment, the right to fetch `device_id`'s token; `false` while another node
    /// holds it.
    async fn claim(&self, device_id: &str) -> bool;
}

/// An access token and when this client stops using it.
#[derive(Clone, Debug)]
pub(crate) struct CachedToken {
    pub token: Secret,
    pub refresh_at: SystemTime,
}

/// What one device has: its credentials once loaded, and its current token.
#[derive(Debug, Default)]
pub(crate) struct DeviceSlot {
    pub credentials: Option<ClientCredentials>,
    pub token: Option<CachedToken>,
}

impl DeviceSlot {
    /// The cached token, if it is not yet due for refresh.
    pub fn fresh_token(&self, now: SystemTime) -> Option<Secret> {
        self.token
            .as_ref()
            .filter(|cached| now < cached.refresh_at)
            .map(|cached| cached.token.clone())
    }
}

/// Device slots kept at most; past it the least used go first.
const MOST_SLOTS: u64 = 100_000;
/// A slot unused this long is dropped (its device reads its token from the store when it
/// returns).
const SLOT_IDLE: Duration = Duration::from_secs(3600);

/// Per-device slots; holding a slot's lock while fetching makes every refresh single-flight.
/// Bounded: idle slots go after an hour, and the least used past [`MOST_SLOTS`].
pub(crate) struct TokenCache {
    clock: SharedClock,
    refresh_margin: Duration,
    slots: Cache<String, Arc<tokio::sync::Mutex<DeviceSlot>>>,
}

impl TokenCache {
    pub fn new(clock: SharedClock, refresh_margin: Duration) -> Self {
        Self {
            clock,
            refresh_margin,
            slots: Cache::builder()
                .max_capacity(MOST_SLOTS)
                .time_to_idle(SLOT_IDLE)
                .build(),
        }
    }

    /// The slot of a device, created empty on first use.
    pub fn slot(&self, device_id: &str) -> Arc<tokio::sync::Mutex<DeviceSlot>> {
        self.slots.get_with_by_ref(device_id, Arc::default)
    }

    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Caches a token received now that lives `expires_in` seconds; it is refreshed
    /// `refresh_margin` before that (counted on this clock, so clock skew with Adobe is harmless).
    /// Returns that refresh time.
    pub fn cache(&self, slot: &mut DeviceSlot, token: Secret, expires_in: i64) -> SystemTime {
        let lifetime = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0));
        let refresh_at = self.now() + lifetime.saturating_sub(self.refresh_margin);
        slot.token = Some(CachedToken { token, refresh_at });
        refresh_at
    }

    /// Caches a token another node fetched, or one read from the store, used until
    /// `refresh_at`.
    pub fn cache_until(&self, slot: &mut DeviceSlot, token: Secret, refresh_at: SystemTime) {
        slot.token = Some(CachedToken { token, refresh_at });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_keeps_the_first_credentials() {
        let store = MemoryCredentialsStore::new();
        let first = ClientCredentials {
            client_id: "a".into(),
            client_secret: Secret::new("s1"),
        };
        let second = ClientCredentials {
            client_id: "b".into(),
            client_secret: Secret::new("s2"),
        };
        assert_eq!(store.save_new("tv", &first).await.expect("saved"), first);
        assert_eq!(store.save_new("tv", &second).await.expect("saved"), first);
        assert_eq!(store.load("tv").await.expect("loaded"), Some(first));
        assert_eq!(store.load("other").await.expect("loaded"), None);
    }

    #[tokio::test]
    async fn memory_store_keeps_the_token_of_the_current_client_only() {
        let store = MemoryCredentialsStore::new();
        let credentials = ClientCredentials {
            client_id: "a".into(),
            client_secret: Secret::new("s1"),
        };
        let until = SystemTime::UNIX_EPOCH + Duration::from_secs(60);
        store.save_new("tv", &credentials).await.expect("saved");
        let token = Secret::new("t1");
        store
            .save_token("tv", "other", &token, until)
            .await
            .expect("saved");
        assert_eq!(store.load_token("tv").await.expect("loaded"), None);
        store
            .save_token("tv", "a", &token, until)
            .await
            .expect("saved");
        assert_eq!(
            store.load_token("tv").await.expect("loaded"),
            Some((token, until))
        );
        store.forget("tv", "a").await.expect("forgotten");
        assert_eq!(store.load_token("tv").await.expect("loaded"), None);
    }

    #[test]
    fn client_secret_is_redacted_in_debug() {
        let credentials = ClientCredentials {
            client_id: "a".into(),
            client_secret: Secret::new("t7AkePiru4"),
        };
        assert!(!format!("{credentials:?}").contains("t7AkePiru4"));
    }
}
