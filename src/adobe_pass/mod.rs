//! The client of Adobe Pass (REST API V2 and Dynamic Client Registration): the one place that
//! talks to Adobe, so nothing above it thinks about headers, tokens, throttling, retries or
//! error decoding. Built from `spec/adobe-pass/REST-API-V2.md` and Adobe's OpenAPI files.
//!
//! ```text
//! AdobePass::new(settings, store, clock)
//!   .profiles(&device) / .create_session(&device, …) / .authorize(&device, mvpd, …) …
//! ```
//! Every call takes the [`DeviceIdentity`] it is made for: its headers, its DCR client and its
//! throttle bucket.

mod api;
mod auth;
pub mod credentials;
mod degradation;
pub mod device;
pub mod endpoint;
pub mod error;
pub mod media_token;
pub mod metadata;
pub mod metrics;
pub mod priority;
pub mod retry;
pub mod secret;
mod send;
pub mod settings;
mod temppass_reset;
pub mod throttle;
mod transport;
pub mod types;

use std::sync::Arc;

use url::Url;

pub use api::BROWSER_CALLS;
pub use credentials::{
    ClientCredentials, ClientCredentialsStore, CredentialsStoreError, MemoryCredentialsStore,
    SharedTokens, StoreFuture,
};
pub use device::{
    allowed_values, DeviceIdentity, DeviceInfo, SsoHeaders, TempPassIdentity, REQUIRED_DEVICE_INFO,
    RESTRICTED_DEVICE_INFO,
};
pub use endpoint::Endpoint;
pub use error::{AdobePassError, Remedy};
pub use media_token::{MediaTokenError, MediaTokenVerifier, VerifiedMediaToken};
pub use metadata::{MetadataError, MetadataKeys};
pub use metrics::{Metrics, Outcome};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use settings::{Budgets, ClientSettings, Environment, PlatformStatement};
pub use throttle::{Throttle, ThrottleBuckets, ThrottleSettings, REMEMBER_SPENT_BURST};

use crate::clock::SharedClock;

/// What a client shares with the other nodes; nothing by default.
#[derive(Clone, Debug, Default)]
pub struct Sharing {
    /// Adobe's throttle buckets, one per device IP.
    pub throttle: Option<Arc<dyn ThrottleBuckets>>,
    /// Access tokens, one per device.
    pub tokens: Option<Arc<dyn SharedTokens>>,
}

/// The Adobe Pass client; cheap to clone and share.
#[derive(Clone)]
pub struct AdobePass {
    inner: Arc<Inner>,
}

struct Inner {
    settings: ClientSettings,
    base_url: Url,
    /// The management host's (the Reset TempPass API).
    management_url: Url,
    transport: transport::Transport,
    store: Arc<dyn ClientCredentialsStore>,
    tokens: credentials::TokenCache,
    gate: priority::Gate,
    shared_tokens: Option<Arc<dyn SharedTokens>>,
    metrics: Metrics,
}

impl AdobePass {
    /// A client for `settings`, persisting client credentials in `store` and reading time from
    /// `clock`. Fails only if the base URL or the TLS setup is unusable.
    pub fn new(
        settings: ClientSettings,
        store: Arc<dyn ClientCredentialsStore>,
        clock: SharedClock,
    ) -> Result<Self, AdobePassError> {
        Self::with_sharing(settings, store, clock, Sharing::default())
    }

    /// A client like [`AdobePass::new`] that shares its throttle buckets and access tokens with
    /// other nodes as `sharing` says.
    pub fn with_sharing(
        settings: ClientSettings,
        store: Arc<dyn ClientCredentialsStore>,
        clock: SharedClock,
        sharing: Sharing,
    ) -> Result<Self, AdobePassError> {
        let throttle = sharing
            .throttle
            .unwrap_or_else(|| Arc::new(Throttle::new(settings.throttle, clock.clone())));
        let base_url = settings.environment.base_url().map_err(|error| {
            AdobePassError::InvalidInput(format!("the Adobe Pass base URL: {error}"))
        })?;
        if base_url.cannot_be_a_base() {
            return Err(AdobePassError::InvalidInput(format!(
                "the Adobe Pass base URL {base_url} cannot have paths"
            )));
        }
        let management_url = settings.environment.management_url().map_err(|error| {
            AdobePassError::InvalidInput(format!("the Adobe Pass management URL: {error}"))
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                transport: transport::Transport::new(&settings, clock.clone())?,
                tokens: credentials::TokenCache::new(clock.clone(), settings.token_refresh_margin),
                gate: priority::Gate::new(throttle, settings.throttle),
                shared_tokens: sharing.tokens,
                base_url,
                management_url,
                store,
                metrics: Metrics::default(),
                settings,
            }),
        })
    }

    /// Statistics of every upstream call, by endpoint and outcome.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The settings the client runs with.
    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }
}

impl std::fmt::Debug for AdobePass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdobePass")
            .field("base_url", &self.inner.base_url.as_str())
            .field("service_provider", &self.inner.settings.service_provider)
            .finish_non_exhaustive()
    }
}
