//! The site's browser sessions, in this process or in Redis: one `SessionStore` for the layer.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use moka::{sync::Cache, Expiry};
use prometheus_client::{metrics::counter::Counter, registry::Registry};
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};

use crate::redis::RedisSessions;

/// Sessions one process keeps at most; past it the least used go first.
const MOST_SESSIONS: u64 = 200_000;

/// Sessions in this process's memory, each dropped when it expires, and the least used first
/// once there are [`MOST_SESSIONS`].
#[derive(Clone, Debug)]
pub struct MemorySessions {
    records: Cache<Id, Record>,
}

/// A record lives until its own expiry date.
struct UntilExpiry;

fn time_left(record: &Record) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let expiry = u64::try_from(record.expiry_date.unix_timestamp()).unwrap_or(0);
    Duration::from_secs(expiry.saturating_sub(now))
}

impl Expiry<Id, Record> for UntilExpiry {
    fn expire_after_create(&self, _: &Id, record: &Record, _: Instant) -> Option<Duration> {
        Some(time_left(record))
    }

    fn expire_after_update(
        &self,
        _: &Id,
        record: &Record,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(time_left(record))
    }
}

impl Default for MemorySessions {
    fn default() -> Self {
        Self::with_capacity(MOST_SESSIONS)
    }
}

impl MemorySessions {
    /// A store keeping at most `capacity` sessions.
    pub fn with_capacity(capacity: u64) -> Self {
        Self {
            records: Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilExpiry)
                .build(),
        }
    }

    /// Sessions held now (after pending evictions ran).
    pub fn len(&self) -> u64 {
        self.records.run_pending_tasks();
        self.records.entry_count()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while self.records.contains_key(&record.id) {
            record.id = Id::default();
        }
        self.records.insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.records.insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self
            .records
            .get(id)
            .filter(|record| !time_left(record).is_zero()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records.invalidate(id);
        Ok(())
    }
}

/// The site's browser sessions: in this process, or in Redis for several nodes; sessions
/// written under a new id are counted for `/metrics`.
#[derive(Clone, Debug)]
pub struct SiteSessions {
    store: Backend,
    created: Counter,
}

/// Where the sessions are kept.
#[derive(Clone, Debug)]
enum Backend {
    /// In memory, bounded; lost on restart.
    Memory(MemorySessions),
    /// In Redis, seen by every node.
    Redis(RedisSessions),
}

impl SiteSessions {
    /// Sessions kept in this process.
    pub fn memory(store: MemorySessions) -> Self {
        Self::of(Backend::Memory(store))
    }

    /// Sessions kept in Redis.
    pub fn redis(store: RedisSessions) -> Self {
        Self::of(Backend::Redis(store))
    }

    fn of(store: Backend) -> Self {
        Self {
            store,
            created: Counter::default(),
        }
    }

    /// Adds `tve_site_sessions_created_total` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_site_sessions_created",
            "Browser sessions written under a new id: a new session, or a new id for one at a \
             sign-in start",
            self.created.clone(),
        );
    }
}

#[async_trait]
impl SessionStore for SiteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.store {
            Backend::Memory(store) => store.create(record).await?,
            Backend::Redis(store) => store.create(record).await?,
        }
        self.created.inc();
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match &self.store {
            Backend::Memory(store) => store.save(record).await,
            Backend::Redis(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match &self.store {
            Backend::Memory(store) => store.load(id).await,
            Backend::Redis(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match &self.store {
            Backend::Memory(store) => store.delete(id).await,
            Backend::Redis(store) => store.delete(id).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn record(seconds: i64) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::new(),
            expiry_date: tower_sessions::cookie::time::OffsetDateTime::now_utc()
                + tower_sessions::cookie::time::Duration::seconds(seconds),
        }
    }

    #[tokio::test]
    async fn sessions_are_kept_until_they_expire_and_never_beyond_the_cap() {
        let sessions = MemorySessions::with_capacity(100);
        let mut live = record(3600);
        sessions.create(&mut live).await.expect("created");
        let mut expired = record(-1);
        sessions.create(&mut expired).await.expect("created");
        assert!(sessions.load(&live.id).await.expect("load").is_some());
        assert!(sessions.load(&expired.id).await.expect("load").is_none());
        for _ in 0..1000 {
            sessions.create(&mut record(3600)).await.expect("created");
        }
        assert!(sessions.len() <= 100, "{} sessions", sessions.len());
        sessions.delete(&live.id).await.expect("deleted");
        assert!(sessions.load(&live.id).await.expect("load").is_none());
    }
}
