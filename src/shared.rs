//! What several nodes must share, or one process keeps to itself: rate limits and the site's
//! browser sessions. Chosen once, at start-up, in [`Shared::open`] (as `store::open` chooses the
//! store); nothing else asks which one runs.

use std::sync::Arc;

use async_trait::async_trait;
use tower_sessions::{
    session::{Id, Record},
    session_store, MemoryStore, SessionStore,
};

use crate::{
    adobe_pass::Secret,
    limits::{CodeGuard, SharedLimiter, FAILURES_IN_TOTAL, FAILURES_PER_ADDRESS},
    redis::{Redis, RedisError, RedisSessions},
    service::{limits as service_limits, ServiceLimits},
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
    /// The Redis they live in, for readiness; none when in process.
    pub redis: Option<Redis>,
}

impl Shared {
    /// Everything in this process's memory: one node.
    pub fn local() -> Self {
        Self {
            service_limits: ServiceLimits::local(),
            code_guard: Arc::default(),
            sessions: SiteSessions::Memory(MemoryStore::default()),
            redis: None,
        }
    }

    /// In Redis at `url` under `namespace`, shared with every node that uses both; in memory
    /// without a URL.
    pub async fn open(url: Option<&Secret>, namespace: &str) -> Result<Self, RedisError> {
        let Some(url) = url else {
            return Ok(Self::local());
        };
        let redis = Redis::connect(url, namespace).await?;
        Ok(Self::in_redis(redis))
    }

    /// In `redis`.
    pub fn in_redis(redis: Redis) -> Self {
        let shared = |name: &str, rate| -> SharedLimiter { Arc::new(redis.limiter(name, rate)) };
        Self {
            service_limits: ServiceLimits {
                registrations_per_address: shared(
                    "registrations-per-address",
                    service_limits::REGISTRATIONS_PER_ADDRESS,
                ),
                registrations: shared("registrations", service_limits::REGISTRATIONS),
                temppass_per_address: shared(
                    "temppass-per-address",
                    service_limits::TEMPPASS_PER_ADDRESS,
                ),
            },
            code_guard: Arc::new(CodeGuard::new(
                shared("code-failures-per-address", FAILURES_PER_ADDRESS),
                shared("code-failures", FAILURES_IN_TOTAL),
            )),
            sessions: SiteSessions::Redis(redis.sessions()),
            redis: Some(redis),
        }
    }
}

/// The site's browser sessions: in this process, or in Redis for several nodes.
#[derive(Clone, Debug)]
pub enum SiteSessions {
    /// In memory; lost on restart.
    Memory(MemoryStore),
    /// In Redis, seen by every node.
    Redis(RedisSessions),
}

#[async_trait]
impl SessionStore for SiteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Memory(store) => store.create(record).await,
            Self::Redis(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Memory(store) => store.save(record).await,
            Self::Redis(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Memory(store) => store.load(id).await,
            Self::Redis(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Memory(store) => store.delete(id).await,
            Self::Redis(store) => store.delete(id).await,
        }
    }
}
