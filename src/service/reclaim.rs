//! Reclaiming idle registrations: a crowd can register TVs that never sign in, each with a DCR
//! client and rows of its own. A registration whose Adobe identity never started a sign-in (so
//! holds no profile at Adobe) and that has not been seen for a while is deleted with its
//! credentials; its token then finds nothing, and the TV registers again if it comes back.
//! Adobe's DCR API cannot delete a client, so the client stays registered there (SECURITY.md).

use std::time::Duration;

use prometheus_client::{metrics::counter::Counter, registry::Registry};

use super::{Service, ServiceError};
use crate::store::Device;

/// Days a registration that never started a sign-in may stay unseen before it is reclaimed.
pub const DEFAULT_RECLAIM_IDLE_DAYS: u32 = 30;
/// Registrations deleted per store statement.
const BATCH: u32 = 1_000;
/// Most batches per sweep, so that one sweep holds the store for a bounded time.
const MOST_BATCHES: u32 = 100;

/// Counts reclaimed registrations.
#[derive(Debug, Default)]
pub(super) struct Reclaimed(Counter);

impl Reclaimed {
    /// Adds the counter to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tve_registrations_reclaimed",
            "Registrations deleted because they never started a sign-in and stayed idle",
            self.0.clone(),
        );
    }
}

impl Service {
    /// Records, before Adobe is asked to start a sign-in for `device`, that its Adobe identity
    /// may hold a profile from now on, so its registration is never reclaimed. A registration
    /// reclaimed meanwhile is gone: the TV hears that its token is unknown.
    pub(super) async fn starting_sign_in(&self, device: &Device) -> Result<(), ServiceError> {
        if device.sign_in_started_at.is_some() {
            return Ok(());
        }
        let store = &self.inner.store;
        if store
            .sign_in_started(&device.device_id, self.now_millis())
            .await?
        {
            return Ok(());
        }
        self.invalidate_device(&device.device_id).await;
        Err(ServiceError::UnknownDevice)
    }

    /// Deletes the registrations that never started a sign-in and were not seen within the
    /// reclaim window (none when it is zero); returns how many went. Nothing is cached for a
    /// device that long unseen; one that calls at that moment may be served from a node's
    /// cache for its last minute, but cannot start a sign-in (see `starting_sign_in`).
    pub async fn reclaim_idle_registrations(&self) -> Result<u64, ServiceError> {
        let window = self.inner.settings.reclaim_idle_after;
        if window.is_zero() {
            return Ok(0);
        }
        let seen_before = self.now_millis().saturating_sub(millis(window));
        let mut reclaimed = 0;
        for _ in 0..MOST_BATCHES {
            let batch = self
                .inner
                .store
                .reclaim_idle_devices(seen_before, BATCH)
                .await?;
            let count = u64::try_from(batch.len()).unwrap_or(u64::MAX);
            self.inner.reclaimed.0.inc_by(count);
            reclaimed += count;
            if batch.len() < BATCH as usize {
                break;
            }
        }
        Ok(reclaimed)
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
