//! Leases: one node at a time does a piece of work for the whole cluster (polls Adobe for a
//! pending activation), and another takes over when it stops renewing (its node died).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;

/// Who does what, for how long.
#[async_trait]
pub trait Leases: Send + Sync + std::fmt::Debug {
    /// Takes or renews the lease on `name` for `ttl`; whether this node holds it now. A lease
    /// that cannot be checked counts as held (the work is done twice rather than not at all).
    async fn hold(&self, name: &str, ttl: Duration) -> bool;
}

/// Leases shared across tasks.
pub type SharedLeases = Arc<dyn Leases>;

/// One node holds every lease.
#[derive(Debug, Default)]
pub struct LocalLeases;

#[async_trait]
impl Leases for LocalLeases {
    async fn hold(&self, _name: &str, _ttl: Duration) -> bool {
        true
    }
}
