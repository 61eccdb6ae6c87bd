//! What the emulator remembers between requests, and the settings it runs with.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use rsa::RsaPublicKey;

use crate::{
    clock::SharedClock,
    emulator::{
        dataset::{Dataset, MvpdEntry},
        dcr::{AccessToken, Client},
        errors::{ApiError, ErrorCode},
        faults::Faults,
        profiles::{ProfileKey, StoredProfile},
        sessions::Session,
        temppass::{TempPassKey, TempPassUse},
        throttle::Throttle,
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

/// Everything that changes while the emulator runs.
#[derive(Debug, Default)]
pub struct Store {
    /// Registered clients by `client_id`.
    pub clients: HashMap<String, Client>,
    /// Issued access tokens.
    pub tokens: HashMap<String, AccessToken>,
    /// Authentication sessions by code.
    pub sessions: HashMap<String, Session>,
    /// Profiles by (client, device, MVPD).
    pub profiles: HashMap<ProfileKey, StoredProfile>,
    /// TempPass uses.
    pub temp_passes: HashMap<TempPassKey, TempPassUse>,
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
    ttls: Ttls,
    programmer_key: Option<RsaPublicKey>,
    store: Mutex<Store>,
    faults: Faults,
    throttle: Option<Throttle>,
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
    /// Lifetimes.
    pub ttls: Ttls,
    /// Key that encrypts `zip`; none sends it plain.
    pub programmer_key: Option<RsaPublicKey>,
    /// Faults active at start.
    pub faults: Faults,
    /// Throttling, when on.
    pub throttle: Option<Throttle>,
}

impl EmulatorState {
    /// Assembles the state.
    pub fn new(parts: StateParts) -> Self {
        Self(Arc::new(Inner {
            dataset: parts.dataset,
            clock: parts.clock,
            public_url: parts.public_url.trim_end_matches('/').to_owned(),
            software_statement: parts.software_statement,
            ttls: parts.ttls,
            programmer_key: parts.programmer_key,
            store: Mutex::new(Store::default()),
            faults: parts.faults,
            throttle: parts.throttle,
        }))
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

    /// Lifetimes.
    pub fn ttls(&self) -> Ttls {
        self.0.ttls
    }

    /// Key that encrypts `zip`.
    pub fn programmer_key(&self) -> Option<&RsaPublicKey> {
        self.0.programmer_key.as_ref()
    }

    /// The mutable state, locked.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.0.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Injected faults.
    pub fn faults(&self) -> &Faults {
        &self.0.faults
    }

    /// Throttling, when on.
    pub fn throttle(&self) -> Option<&Throttle> {
        self.0.throttle.as_ref()
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
