//! The Programmer Service: runs the server-to-server flow with Adobe Pass on behalf of each
//! Streaming App (TV app) and of the viewer's phone. It knows devices, activations, providers,
//! decisions and logout; it knows nothing of HTTP handlers or web pages.

mod activations;
mod decisions;
mod degradation;
mod devices;
mod domains;
mod error;
mod expiring;
mod funnel;
mod happenings;
mod known_devices;
pub mod limits;
mod logout;
mod operator_limits;
mod operators;
mod polling;
mod profiles;
mod provider_states;
mod providers;
mod reclaim;
mod reread;
mod resource;
mod revocation;
mod rules;
mod second_screen;
mod temppass;
mod temppass_reset;

use std::{sync::Arc, time::Duration};

use prometheus_client::registry::Registry;
use url::Url;

pub use activations::{ActivationView, StartOutcome, StartedActivation};
pub use decisions::{
    AdobeReason, AuthorizeOutcome, PreauthorizeItem, DEFAULT_PREAUTHORIZE_CHUNK,
    MAX_PREAUTHORIZE_RESOURCES,
};
pub use degradation::{DegradationChange, DegradationRemoval};
pub use devices::DEFAULT_REINSTALL_WINDOW_DAYS;
pub use devices::{default_probe_device, probe_device_from_json, DeviceSession, RegisteredDevice};
pub use error::ServiceError;
pub use limits::{Caller, ServiceLimits};
pub use logout::LogoutOutcome;
pub use operator_limits::{Configured, LimitsChange, LimitsInForce};
pub use polling::DEFAULT_MAX_CONCURRENT_POLLS;
pub use profiles::{MaxRating, ProfileSummary};
pub use provider_states::{ProviderStateChange, NOTICE_LANGUAGES};
pub use providers::{Provider, ProviderFilter, ProviderList, DEFAULT_HIDDEN_PROVIDERS};
pub use reclaim::DEFAULT_RECLAIM_IDLE_DAYS;
pub use resource::{InvalidResource, Resource};
pub use rules::BusinessRules;
pub use second_screen::PendingCode;
pub use temppass::TempPassStatus;
pub use temppass_reset::TempPassReset;

use crate::{
    adobe_pass::{AdobePass, MediaTokenVerifier, MetadataKeys},
    clock::SharedClock,
    events::Events,
    playback::{JwkSet, PlaybackKeys, ROOT_LABEL},
    shared::{
        ClusterEvent, LocalBus, LocalLeases, LocalSpentTokens, SharedBus, SharedLeases,
        SharedSpentTokens,
    },
    store::SharedStore,
};

/// What the service needs to know about the deployment.
#[derive(Clone, Debug)]
pub struct ServiceSettings {
    /// Public URL of the site (activation links, redirect URLs).
    pub public_url: Url,
    /// Domain name sent with authentication sessions.
    pub domain_name: String,
    /// Which providers the pickers show.
    pub providers: ProviderFilter,
    /// Rules that can deny a play before Adobe is asked.
    pub rules: BusinessRules,
    /// How often a pending activation is checked with Adobe (3–5 s as Adobe asks).
    pub poll_interval: Duration,
    /// How long Adobe's configuration is kept (about 2 minutes).
    pub configuration_ttl: Duration,
    /// Resources per preauthorization call (Adobe usually allows 5, per MVPD, §9).
    pub preauthorize_chunk: usize,
    /// The programmer's private keys for encrypted user metadata (§14.4).
    pub metadata_keys: Option<Arc<MetadataKeys>>,
    /// Checks each media token before its permit goes to the TV; none passes them unverified.
    pub media_tokens: Option<Arc<MediaTokenVerifier>>,
    /// Registration and TempPass rate limits.
    pub limits: ServiceLimits,
    /// Messages to and from the other nodes.
    pub bus: SharedBus,
    /// Which node polls Adobe for which activation.
    pub leases: SharedLeases,
    /// Media tokens already handed to a TV, by any node.
    pub spent_tokens: SharedSpentTokens,
    /// Background polls of Adobe in flight at once, over every activation.
    pub max_concurrent_polls: usize,
    /// How long after a device was last seen a registration of its id without its token, from
    /// its network, keeps its Adobe identity (a reinstall); zero never.
    pub reinstall_window: Duration,
    /// How long a registration that never started a sign-in may stay unseen before it is
    /// deleted; zero never.
    pub reclaim_idle_after: Duration,
    /// How the readiness probe describes itself to Adobe.
    pub probe_device: crate::adobe_pass::DeviceInfo,
    /// The event stream.
    pub events: Events,
}

impl ServiceSettings {
    /// Settings with the defaults: every provider but TempPass and hidden ones, no extra rules,
    /// polling every 4 s, configuration kept 2 minutes, media tokens unverified, no events.
    pub fn new(public_url: Url, domain_name: impl Into<String>) -> Self {
        Self {
            public_url,
            domain_name: domain_name.into(),
            providers: ProviderFilter::default(),
            rules: BusinessRules::default(),
            poll_interval: Duration::from_secs(4),
            configuration_ttl: Duration::from_secs(120),
            preauthorize_chunk: decisions::DEFAULT_PREAUTHORIZE_CHUNK,
            metadata_keys: None,
            media_tokens: None,
            limits: ServiceLimits::local(),
            bus: Arc::new(LocalBus::default()),
            leases: Arc::new(LocalLeases),
            spent_tokens: Arc::new(LocalSpentTokens::default()),
            max_concurrent_polls: polling::DEFAULT_MAX_CONCURRENT_POLLS,
            reinstall_window: Duration::from_secs(
                u64::from(devices::DEFAULT_REINSTALL_WINDOW_DAYS) * 86_400,
            ),
            reclaim_idle_after: Duration::from_secs(
                u64::from(reclaim::DEFAULT_RECLAIM_IDLE_DAYS) * 86_400,
            ),
            probe_device: devices::default_probe_device(),
            events: Events::default(),
        }
    }

    /// `path` (starting with `/`) under the public URL.
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

/// The Programmer Service; cheap to clone and share.
#[derive(Clone, Debug)]
pub struct Service {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: ServiceSettings,
    adobe: AdobePass,
    store: SharedStore,
    clock: SharedClock,
    providers: providers::ConfigurationCache,
    profiles: profiles::ProfileCache,
    permits: decisions::PermitCache,
    chunk_limits: decisions::ChunkLimits,
    activations: activations::ActivationHub,
    polling: polling::Polling,
    known_devices: known_devices::KnownDevices,
    funnel: funnel::Funnel,
    domains: domains::DomainCheck,
    reclaimed: reclaim::Reclaimed,
    provider_states: provider_states::ProviderStates,
    configured_limits: operator_limits::Configured,
    operator_limits: operator_limits::ReadLimits,
    playback: PlaybackKeys,
}

impl Service {
    /// A service talking to Adobe Pass through `adobe`, keeping state in `store`.
    pub fn new(
        settings: ServiceSettings,
        adobe: AdobePass,
        store: SharedStore,
        clock: SharedClock,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                providers: providers::ConfigurationCache::default(),
                profiles: profiles::ProfileCache::new(!settings.rules.ratings.is_empty()),
                permits: decisions::PermitCache::default(),
                chunk_limits: decisions::ChunkLimits::default(),
                activations: activations::ActivationHub::default(),
                polling: polling::Polling::new(settings.max_concurrent_polls),
                known_devices: known_devices::KnownDevices::default(),
                funnel: funnel::Funnel::default(),
                domains: domains::DomainCheck::default(),
                reclaimed: reclaim::Reclaimed::default(),
                provider_states: reread::Reread::default(),
                configured_limits: operator_limits::Configured::of(&settings),
                operator_limits: reread::Reread::default(),
                playback: PlaybackKeys::new(
                    &store.pseudonym(ROOT_LABEL),
                    settings.public_url.as_str(),
                ),
                settings,
                adobe,
                store,
                clock,
            }),
        }
    }

    /// The public keys of playback tokens now, for CDNs and packagers.
    pub fn playback_keys(&self) -> JwkSet {
        self.inner.playback.public_keys(self.now_millis())
    }

    /// The settings the service runs with.
    pub fn settings(&self) -> &ServiceSettings {
        &self.inner.settings
    }

    /// The Adobe Pass client (for metrics and readiness).
    pub fn adobe(&self) -> &AdobePass {
        &self.inner.adobe
    }

    /// The store.
    pub fn store(&self) -> &SharedStore {
        &self.inner.store
    }

    /// Adds the service's metrics (upstream calls, activations, polls, the activation funnel,
    /// plays and the event stream) to `registry`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        self.inner.adobe.metrics().register(registry);
        self.inner.activations.register(registry);
        self.inner.polling.register(registry);
        self.inner.funnel.register(registry);
        self.inner.settings.events.register(registry);
        self.inner.reclaimed.register(registry);
    }

    fn now_millis(&self) -> i64 {
        self.inner.clock.now_millis()
    }

    /// Now and every ten minutes, for as long as the runtime runs: deletes activations whose
    /// code expired more than a day ago, and reclaims idle registrations that never started a
    /// sign-in.
    pub fn spawn_housekeeping(&self) -> tokio::task::JoinHandle<()> {
        const KEEP_FINISHED_MS: i64 = 24 * 60 * 60 * 1000;
        let service = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(600));
            loop {
                every.tick().await;
                let before = service.now_millis() - KEEP_FINISHED_MS;
                match service.inner.store.purge_activations(before).await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "purged expired activations"),
                    Err(error) => tracing::warn!(%error, "cannot purge expired activations"),
                }
                match service.reclaim_idle_registrations().await {
                    Ok(0) => {}
                    Ok(count) => tracing::info!(count, "reclaimed idle registrations"),
                    Err(error) => tracing::warn!(%error, "cannot reclaim idle registrations"),
                }
            }
        })
    }

    /// Forgets what is cached for a device (its token, profile and preauthorizations), here and on
    /// every other node, as when its token is replaced or revoked, or Adobe or an MVPD says its
    /// entitlements changed.
    pub async fn invalidate_device(&self, device_id: &str) {
        self.forget_cached(device_id);
        self.inner
            .settings
            .bus
            .publish(ClusterEvent::DeviceInvalidated {
                device_id: device_id.to_owned(),
            })
            .await;
    }

    /// The device's viewer signed in again, or Adobe accepted the profile after all: a refusal
    /// noted here (and so on every node) is forgotten everywhere.
    async fn refusal_cleared(&self, device_id: &str) {
        let profiles = &self.inner.profiles;
        if profiles
            .stale_provider(device_id, self.now_millis())
            .is_none()
        {
            return;
        }
        profiles.clear_stale(device_id);
        self.inner
            .settings
            .bus
            .publish(ClusterEvent::RefusalCleared {
                device_id: device_id.to_owned(),
            })
            .await;
    }

    fn forget_cached(&self, device_id: &str) {
        self.inner.known_devices.forget(device_id);
        self.inner.profiles.forget(device_id, self.now_millis());
        self.inner.permits.forget_device(device_id);
    }

    /// Acts on what the other nodes say, for as long as the runtime runs: a changed activation
    /// is read again and its waiting TVs told; a stale device's caches are dropped; provider
    /// states and limits set by operators are read again.
    pub fn spawn_cluster_listener(&self) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        let mut events = self.inner.settings.bus.subscribe();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(ClusterEvent::ActivationChanged { code }) => {
                        service.refresh_activation(&code).await;
                    }
                    Ok(ClusterEvent::ActivationOpened { code }) => {
                        service.opened_elsewhere(&code);
                    }
                    Ok(ClusterEvent::DeviceInvalidated { device_id }) => {
                        service.forget_cached(&device_id);
                    }
                    Ok(ClusterEvent::ProfileRefused {
                        device_id,
                        provider,
                        expires_at,
                    }) => {
                        let now = service.now_millis();
                        let profiles = &service.inner.profiles;
                        profiles.mark_stale(&device_id, &provider, expires_at, now);
                    }
                    Ok(ClusterEvent::RefusalCleared { device_id }) => {
                        service.inner.profiles.clear_stale(&device_id);
                    }
                    Ok(ClusterEvent::ProviderStatesChanged) => {
                        service.inner.provider_states.forget();
                    }
                    Ok(ClusterEvent::LimitsChanged) => {
                        service.inner.operator_limits.forget();
                    }
                    // A change by an operator may be among the messages missed.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        service.inner.provider_states.forget();
                        service.inner.operator_limits.forget();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adobe's checklist: the primary application polls every 3–5 seconds.
    #[test]
    fn codes_are_polled_every_three_to_five_seconds() {
        let url = Url::parse("https://watch.example.com/").expect("url");
        let settings = ServiceSettings::new(url, "watch.example.com");
        let interval = settings.poll_interval;
        assert!(
            (Duration::from_secs(3)..=Duration::from_secs(5)).contains(&interval),
            "{interval:?}"
        );
    }
}
