//! What the emulator remembers between requests, and the settings it runs with.

use std::{
    collections::HashMap,
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::{
    clock::SharedClock,
    emulator::{
        dataset::{Dataset, MvpdEntry, PlatformApplication},
        dcr::{AccessToken, Client},
        degradation_rules::DegradationRules,
        errors::{ApiError, ErrorCode},
        faults::Faults,
        profiles::{ProfileKey, StoredProfile},
        readings::Readings,
        sessions::Session,
        temppass::{TempPassKey, TempPassSettings, TempPassUse},
        throttle::Throttle,
        user_metadata::Encryption,
    },
};

/// How long things live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ttls {
    /// DCR access tokens.
    pub access_token: Duration,
    /// Authentication sessions (codes).
    pub session: Duration,
    /// Authenticated profiles.
    pub profile: Duration,
}

/// The longest a code lives: Adobe's samples span exactly 30 minutes and its FAQ says so
/// (§7.1); the cookbook stops polling there (§14.3).
pub const MAX_SESSION_TTL: Duration = Duration::from_secs(30 * 60);

impl Ttls {
    /// Rejects a code lifetime Adobe does not document (zero or above 30 minutes).
    pub fn check(&self) -> Result<(), TtlError> {
        if self.session.is_zero() || self.session > MAX_SESSION_TTL {
            return Err(TtlError::Session(self.session.as_secs()));
        }
        Ok(())
    }
}

/// A lifetime the emulator will not use.
#[derive(Debug, thiserror::Error)]
pub enum TtlError {
    /// The code lifetime.
    #[error("a code lives 1 to 1800 seconds (Adobe documents 30 minutes), not {0}")]
    Session(u64),
}

impl Default for Ttls {
    /// Adobe's documented sample values: 6 h tokens, 30 min codes; 30 days for profiles.
    fn default() -> Self {
        Self {
            access_token: Duration::from_secs(6 * 3600),
            session: Duration::from_secs(30 * 60),
            profile: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// Everything that changes while the emulator runs; all of it is what a state file keeps
/// (throttle buckets and fault rules live elsewhere).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Store {
    /// Registered clients by `client_id`.
    pub clients: HashMap<String, Client>,
    /// Issued access tokens, by the SHA-256 of the token.
    pub tokens: HashMap<String, AccessToken>,
    /// Authentication sessions by code.
    pub sessions: HashMap<String, Session>,
    /// Profiles by (client, device, MVPD).
    #[serde(with = "entries")]
    pub profiles: HashMap<ProfileKey, StoredProfile>,
    /// TempPass uses.
    #[serde(with = "entries")]
    pub temp_passes: HashMap<TempPassKey, TempPassUse>,
}

/// Maps whose keys are structs, written as a list of `{"key": …, "value": …}` (JSON object
/// keys can only be strings).
mod entries {
    use std::{collections::HashMap, hash::Hash};

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    struct EntryRef<'a, K, V> {
        key: &'a K,
        value: &'a V,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry<K, V> {
        key: K,
        value: V,
    }

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &HashMap<K, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter().map(|(key, value)| EntryRef { key, value }))
    }

    pub fn deserialize<'de, K, V, D>(deserializer: D) -> Result<HashMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let list = Vec::<Entry<K, V>>::deserialize(deserializer)?;
        Ok(list.into_iter().map(|e| (e.key, e.value)).collect())
    }
}

/// The locked [`Store`]; any mutable use of it signals a change to the state file writer
/// when the guard is released.
#[derive(Debug)]
pub struct StoreGuard<'a> {
    store: MutexGuard<'a, Store>,
    changes: &'a Notify,
    changed: bool,
}

impl Deref for StoreGuard<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

impl DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.changed = true;
        &mut self.store
    }
}

impl Drop for StoreGuard<'_> {
    fn drop(&mut self) {
        if self.changed {
            self.changes.notify_one();
        }
    }
}

/// The emulator's shared state; cheap to clone.
#[derive(Clone, Debug)]
pub struct EmulatorState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    dataset: Dataset,
    clock: SharedClock,
    public_url: String,
    software_statement: String,
    platform_applications: Vec<PlatformApplication>,
    ttls: Ttls,
    encryption: Option<Encryption>,
    store: Mutex<Store>,
    changes: Notify,
    faults: Faults,
    degradation_rules: DegradationRules,
    throttle: Option<Throttle>,
    readings: Readings,
    temp_pass: TempPassSettings,
}

/// The parts an [`EmulatorState`] is made of.
#[derive(Debug)]
pub struct StateParts {
    /// The emulated world.
    pub dataset: Dataset,
    /// Time source.
    pub clock: SharedClock,
    /// Origin the emulator is reached at, without a trailing slash.
    pub public_url: String,
    /// The software statement registration accepts.
    pub software_statement: String,
    /// Applications registered for some platforms only.
    pub platform_applications: Vec<PlatformApplication>,
    /// Lifetimes.
    pub ttls: Ttls,
    /// How user metadata is encrypted for the programmer; none sends it plain.
    pub encryption: Option<Encryption>,
    /// Faults active at start.
    pub faults: Faults,
    /// Throttling, when on.
    pub throttle: Option<Throttle>,
    /// TempPass readings and faults.
    pub temp_pass: TempPassSettings,
    /// What it remembers at start (empty, or loaded from a state file).
    pub store: Store,
    /// The lenient readings in force.
    pub readings: Readings,
}

impl EmulatorState {
    /// Assembles the state.
    pub fn new(parts: StateParts) -> Self {
        Self(Arc::new(Inner {
            dataset: parts.dataset,
            clock: parts.clock,
            public_url: parts.public_url.trim_end_matches('/').to_owned(),
            software_statement: parts.software_statement,
            platform_applications: parts.platform_applications,
            ttls: parts.ttls,
            encryption: parts.encryption,
            store: Mutex::new(parts.store),
            changes: Notify::new(),
            faults: parts.faults,
            degradation_rules: DegradationRules::default(),
            throttle: parts.throttle,
            readings: parts.readings,
            temp_pass: parts.temp_pass,
        }))
    }

    /// The lenient readings in force.
    pub fn readings(&self) -> Readings {
        self.0.readings
    }

    /// Whether `host` is one of the service provider's registered domains or below one (TVE
    /// Dashboard, registered applications: redirect URLs and domain names are validated
    /// against the application's domains).
    pub fn is_registered_domain(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.0
            .dataset
            .service_provider
            .domains
            .iter()
            .any(|domain| {
                let name = domain.name.as_str();
                host.eq_ignore_ascii_case(name)
                    || host.len() > name.len()
                        && host.as_bytes()[host.len() - name.len() - 1] == b'.'
                        && host[host.len() - name.len()..].eq_ignore_ascii_case(name)
            })
    }

    /// The emulated world.
    pub fn dataset(&self) -> &Dataset {
        &self.0.dataset
    }

    /// Now, in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.0.clock.now_millis()
    }

    /// The time source.
    pub fn clock(&self) -> &SharedClock {
        &self.0.clock
    }

    /// Origin the emulator is reached at, without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    /// The software statement registration accepts.
    pub fn software_statement(&self) -> &str {
        &self.0.software_statement
    }

    /// The applications registered for some platforms only.
    pub fn platform_applications(&self) -> &[PlatformApplication] {
        &self.0.platform_applications
    }

    /// Lifetimes.
    pub fn ttls(&self) -> Ttls {
        self.0.ttls
    }

    /// How user metadata is encrypted for the programmer.
    pub fn encryption(&self) -> Option<&Encryption> {
        self.0.encryption.as_ref()
    }

    /// The mutable state, locked.
    pub fn store(&self) -> StoreGuard<'_> {
        StoreGuard {
            store: self.lock(),
            changes: &self.0.changes,
            changed: false,
        }
    }

    /// Resolves after the store was changed (at once if it changed since the last call).
    pub async fn changed(&self) {
        self.0.changes.notified().await;
    }

    /// Reads the store under the lock without counting as a change.
    pub fn inspect<T>(&self, read: impl FnOnce(&Store) -> T) -> T {
        read(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.0.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Injected faults.
    pub fn faults(&self) -> &Faults {
        &self.0.faults
    }

    /// The degradation rules applied through the Degradation API.
    pub fn degradation_rules(&self) -> &DegradationRules {
        &self.0.degradation_rules
    }

    /// Throttling, when on.
    pub fn throttle(&self) -> Option<&Throttle> {
        self.0.throttle.as_ref()
    }

    /// TempPass readings and faults.
    pub fn temp_pass(&self) -> &TempPassSettings {
        &self.0.temp_pass
    }

    /// Checks the `{serviceProvider}` path segment.
    pub fn check_service_provider(&self, service_provider: &str) -> Result<(), ApiError> {
        if service_provider == self.0.dataset.service_provider.id {
            Ok(())
        } else {
            Err(ErrorCode::InvalidParameterServiceProvider.into())
        }
    }

    /// The MVPD for a `{mvpd}` path segment or form field.
    pub fn mvpd(&self, id: &str) -> Result<&MvpdEntry, ApiError> {
        self.0
            .dataset
            .mvpd(id)
            .ok_or_else(|| ErrorCode::InvalidParameterMvpd.into())
    }
}

/// Milliseconds in a duration, saturating.
pub fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §7.1: codes live 30 minutes in Adobe's samples and FAQ; the emulator allows no longer.
    #[test]
    fn codes_live_thirty_minutes_at_most() {
        assert!(Ttls::default().check().is_ok());
        for secs in [0, 1801, 36_000] {
            let ttls = Ttls {
                session: Duration::from_secs(secs),
                ..Ttls::default()
            };
            assert!(ttls.check().is_err(), "{secs}");
        }
    }
}
