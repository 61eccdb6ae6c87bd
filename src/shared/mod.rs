//! What several nodes must share, or one process keeps to itself: rate limits, the site's
//! browser sessions, messages between nodes and leases. Chosen once, at start-up, in
//! [`Shared::open`] (as `store::open` chooses the store); nothing else asks which one runs.

mod bus;
mod leases;
mod regions;
mod sessions;
mod spent;

use std::sync::Arc;

pub use bus::{Bus, ClusterEvent, LocalBus, SharedBus};
pub(crate) use bus::{Envelope, EVENTS_KEPT};
pub use leases::{Leases, LocalLeases, SharedLeases};
pub use regions::{Buses, StoreBus, StoreBusError};
pub use sessions::{MemorySessions, SiteSessions};
pub use spent::{LocalSpentTokens, SharedSpentTokens, SpentTokens};

use crate::{
    adobe_pass::{SharedTokens, Sharing, ThrottleSettings},
    clock::SystemClock,
    config::Config,
    limits::{
        CodeGuard, LocalLimiter, NewSessions, SharedLimiter, FAILURES_CEILING, FAILURES_IN_TOTAL,
        FAILURES_PER_ADDRESS,
    },
    redis::Redis,
    service::ServiceLimits,
    store::{SealingKeys, StoreUrl},
    StartError,
};

/// The shared parts of the state.
#[derive(Clone, Debug)]
pub struct Shared {
    /// Registration and TempPass limits.
    pub service_limits: ServiceLimits,
    /// The activation site's limits on codes that match nothing.
    pub code_guard: Arc<CodeGuard>,
    /// Where the site's browser sessions live.
    pub sessions: SiteSessions,
    /// The limit on new browser sessions per address prefix.
    pub new_sessions: Arc<NewSessions>,
    /// Messages between nodes.
    pub bus: SharedBus,
    /// Who polls Adobe for which activation.
    pub leases: SharedLeases,
    /// What the Adobe Pass client shares with the other nodes (throttle buckets, tokens).
    pub adobe: Sharing,
    /// Media tokens already handed to a TV.
    pub spent_tokens: SharedSpentTokens,
    /// The Redis they live in, for readiness; none when in process.
    pub redis: Option<Redis>,
}

impl Shared {
    /// Everything in this process's memory: one node, admitting `registrations_per_second`.
    pub fn local(registrations_per_second: u32) -> Self {
        Self {
            service_limits: ServiceLimits::local_at(registrations_per_second),
            code_guard: Arc::default(),
            sessions: SiteSessions::memory(MemorySessions::default()),
            new_sessions: Arc::new(NewSessions::new(|_, rate| LocalLimiter::shared(rate))),
            bus: Arc::new(LocalBus::default()),
            leases: Arc::new(LocalLeases),
            adobe: Sharing::default(),
            spent_tokens: Arc::new(LocalSpentTokens::default()),
            redis: None,
        }
    }

    /// In the Redis of `--redis-url` under `--redis-namespace`, shared with every node that
    /// uses both; in memory without a URL. Adobe access tokens are shared only with sealing keys.
    /// With `--store-bus`, messages also go through PostgreSQL, to the nodes of other regions.
    pub async fn open(config: &Config) -> Result<Self, StartError> {
        let mut shared = match &config.redis_url {
            None => Self::local(config.registrations_per_second),
            Some(url) => {
                let redis = Redis::connect(url, &config.redis_namespace).await?;
                let mut bus: SharedBus = Arc::new(redis.bus().await?);
                if let (true, StoreUrl::Postgres { url, .. }) = (config.store_bus, &config.store) {
                    let store_bus = StoreBus::connect(url).await?;
                    bus = Arc::new(Buses::new(vec![bus, Arc::new(store_bus)]));
                }
                Self::in_redis(
                    redis,
                    bus,
                    config.secrets.clone(),
                    config.registrations_per_second,
                )
            }
        };
        if !config.adobe_step_limits {
            shared.service_limits = shared.service_limits.without_adobe_step_limits();
        }
        Ok(shared)
    }

    /// In `redis`, with `bus` carrying messages between nodes.
    fn in_redis(
        redis: Redis,
        bus: SharedBus,
        keys: Option<SealingKeys>,
        registrations_per_second: u32,
    ) -> Self {
        let buckets = redis.clone();
        let shared =
            move |name: &str, rate| -> SharedLimiter { Arc::new(buckets.limiter(name, rate)) };
        Self {
            service_limits: ServiceLimits::new(shared.clone(), registrations_per_second),
            code_guard: Arc::new(CodeGuard::new(
                shared("code-failures-per-address", FAILURES_PER_ADDRESS),
                shared("code-failures", FAILURES_IN_TOTAL),
                shared("code-failures-ceiling", FAILURES_CEILING),
            )),
            sessions: SiteSessions::redis(redis.sessions()),
            new_sessions: Arc::new(NewSessions::new(shared)),
            bus,
            leases: Arc::new(redis.leases()),
            adobe: Sharing {
                throttle: Some(Arc::new(
                    redis.throttle(ThrottleSettings::default(), SystemClock::shared()),
                )),
                tokens: keys.map(|keys| Arc::new(redis.tokens(keys)) as Arc<dyn SharedTokens>),
            },
            spent_tokens: Arc::new(redis.spent_tokens()),
            redis: Some(redis),
        }
    }
}
