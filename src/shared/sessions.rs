//! The site's browser sessions, in this process or in Redis: one `SessionStore` for the layer.

use async_trait::async_trait;
use tower_sessions::{
    session::{Id, Record},
    session_store, MemoryStore, SessionStore,
};

use crate::redis::RedisSessions;

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
