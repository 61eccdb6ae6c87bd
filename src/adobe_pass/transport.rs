//! The HTTP client underneath: rustls, configurable timeouts, no redirects followed, and
//! connections recycled within 30 seconds so DNS is re-resolved and Adobe can move traffic between data centres (§14.2).
//!
//! reqwest has no per-connection lifetime and caches no DNS itself (each new connection asks
//! the system resolver). So idle connections close after `connection_max_age`, and the whole
//! client (its pool) is replaced once it is that old: busy connections finish their requests
//! on the old pool and every new request opens connections, resolving the name afresh.

use std::{
    sync::{Mutex, PoisonError},
    time::SystemTime,
};

use super::{
    error::AdobePassError,
    settings::{ClientSettings, MAX_CONNECTION_AGE},
};
use crate::clock::SharedClock;

/// A reqwest client replaced when it reaches its maximum age.
pub(crate) struct Transport {
    settings: ClientSettings,
    clock: SharedClock,
    current: Mutex<(reqwest::Client, SystemTime)>,
}

impl Transport {
    pub fn new(settings: &ClientSettings, clock: SharedClock) -> Result<Self, AdobePassError> {
        let client = build(settings).map_err(|error| {
            AdobePassError::InvalidInput(format!("cannot build the HTTP client: {error}"))
        })?;
        let born = clock.now();
        Ok(Self {
            settings: settings.clone(),
            clock,
            current: Mutex::new((client, born)),
        })
    }

    /// The client to use now; a fresh one (a fresh pool) once the current one is too old.
    pub fn client(&self) -> reqwest::Client {
        let now = self.clock.now();
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let age = now.duration_since(current.1).unwrap_or_default();
        if age >= max_age(&self.settings) {
            // Should a rebuild fail (it only fails on TLS setup, which worked before), keep the
            // current client rather than fail the call.
            if let Ok(fresh) = build(&self.settings) {
                *current = (fresh, now);
            }
        }
        current.0.clone()
    }
}

fn max_age(settings: &ClientSettings) -> std::time::Duration {
    settings.connection_max_age.min(MAX_CONNECTION_AGE)
}

fn build(settings: &ClientSettings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.request_timeout)
        .pool_idle_timeout(max_age(settings))
        // A redirect would send the body (a DCR client secret) and the device's identity
        // headers again, to wherever it points: a 3xx is an unexpected answer instead
        // (security review, finding 14).
        .redirect(reqwest::redirect::Policy::none())
        .build()
}
