//! What operators set at runtime, as this node last read it from the store: read again once
//! [`REREAD`] has passed, or at the next use after another node announced a change over the
//! node bus (in case an announcement is lost, the first rule still holds).

use std::{
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

/// Longest a node goes without reading a runtime setting from the store.
pub(super) const REREAD: Duration = Duration::from_secs(30);

/// A value read from the store at some time (epoch ms).
#[derive(Debug)]
pub(super) struct Reread<T> {
    read: RwLock<Option<(i64, Arc<T>)>>,
}

impl<T> Default for Reread<T> {
    fn default() -> Self {
        Self {
            read: RwLock::new(None),
        }
    }
}

impl<T> Reread<T> {
    /// The value, unless it is due to be read again at `now`.
    pub fn current(&self, now: i64) -> Option<Arc<T>> {
        let reread = i64::try_from(REREAD.as_millis()).unwrap_or(i64::MAX);
        let read = self.read.read().unwrap_or_else(PoisonError::into_inner);
        read.as_ref()
            .filter(|(at, _)| now.saturating_sub(*at) < reread)
            .map(|(_, value)| value.clone())
    }

    /// The value last read, however old.
    pub fn last(&self) -> Option<Arc<T>> {
        let read = self.read.read().unwrap_or_else(PoisonError::into_inner);
        read.as_ref().map(|(_, value)| value.clone())
    }

    /// Keeps `value`, read at `now`.
    pub fn keep(&self, now: i64, value: T) -> Arc<T> {
        let value = Arc::new(value);
        *self.read.write().unwrap_or_else(PoisonError::into_inner) = Some((now, value.clone()));
        value
    }

    /// Reads the value again at the next use.
    pub fn forget(&self) {
        *self.read.write().unwrap_or_else(PoisonError::into_inner) = None;
    }
}
