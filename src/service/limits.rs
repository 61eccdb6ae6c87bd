//! The rate limits the service applies itself: registrations per address prefix and in total,
//! and TempPass starts per address prefix (each registration is a new identity at Adobe, and so
//! a new TempPass: this bounds free viewing by inventing device ids).

use std::{net::IpAddr, time::Duration};

use super::ServiceError;
use crate::limits::{address_key, Limited, LocalLimiter, Rate, SharedLimiter};

/// Registrations one address prefix may make at once, then one more per minute.
pub const REGISTRATIONS_PER_ADDRESS: Rate = Rate::new(10, Duration::from_secs(60));
/// Registrations of all devices per second by default (after a burst of 50 seconds' worth).
pub const DEFAULT_REGISTRATIONS_PER_SECOND: u32 = 10;

/// Registrations of all devices: `per_second`, after a burst of 50 seconds' worth.
pub fn registrations(per_second: u32) -> Rate {
    let per_second = per_second.max(1);
    Rate::new(
        per_second.saturating_mul(50),
        Duration::from_secs(1) / per_second,
    )
}
/// TempPass starts one address prefix may make, then one more per eight hours.
pub const TEMPPASS_PER_ADDRESS: Rate = Rate::new(3, Duration::from_secs(8 * 3600));

/// The service's limiters; local to the process or shared by several nodes, as built.
#[derive(Clone, Debug)]
pub struct ServiceLimits {
    /// Registrations per address prefix.
    pub registrations_per_address: SharedLimiter,
    /// Registrations in total (one key).
    pub registrations: SharedLimiter,
    /// TempPass starts per address prefix.
    pub temppass_per_address: SharedLimiter,
}

impl ServiceLimits {
    /// The default rates, counted in this process.
    pub fn local() -> Self {
        Self::local_at(DEFAULT_REGISTRATIONS_PER_SECOND)
    }

    /// The default rates but `registrations_per_second` in total, counted in this process.
    pub fn local_at(registrations_per_second: u32) -> Self {
        Self {
            registrations_per_address: LocalLimiter::shared(REGISTRATIONS_PER_ADDRESS),
            registrations: LocalLimiter::shared(registrations(registrations_per_second)),
            temppass_per_address: LocalLimiter::shared(TEMPPASS_PER_ADDRESS),
        }
    }

    /// Admits one registration from `ip`, or says how long to wait.
    pub(super) async fn admit_registration(&self, ip: IpAddr) -> Result<(), ServiceError> {
        self.registrations_per_address
            .take(&address_key(ip))
            .await
            .map_err(refusal)?;
        self.registrations.take("all").await.map_err(refusal)
    }

    /// Admits one TempPass start from `ip`, or says how long to wait.
    pub(super) async fn admit_temppass(&self, ip: IpAddr) -> Result<(), ServiceError> {
        self.temppass_per_address
            .take(&address_key(ip))
            .await
            .map_err(refusal)
    }
}

fn refusal(limited: Limited) -> ServiceError {
    match limited {
        Limited::Wait(wait) => ServiceError::TooMany(wait),
        Limited::Unavailable => ServiceError::SharedStateUnavailable,
    }
}
