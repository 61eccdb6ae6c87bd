//! The Degradation API (premium, licensed): rules that let an integration with an MVPD skip
//! the MVPD for a fixed period. Timestamps are integers of epoch milliseconds.

use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;

open_enum! {
    /// Which degradation rule.
    DegradationRule {
        /// Authentication and authorization skip the MVPD: devices without a profile get a
        /// `degraded` one, and decisions permit.
        AuthNAll = "AuthNAll",
        /// Authorization skips the MVPD: decisions of authenticated devices permit.
        AuthZAll = "AuthZAll",
        /// Authorization is denied (`authorization_denied_by_degradation_rule`).
        AuthZNone = "AuthZNone",
    }
}

/// The body that applies a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApplyDegradation {
    /// Which rule.
    pub rule: DegradationRule,
    /// For how long, in seconds.
    pub ttl: u32,
}

/// A rule in force on an integration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedDegradation {
    /// The service provider.
    pub service_provider: String,
    /// The MVPD.
    pub mvpd: String,
    /// Which rule.
    pub rule: DegradationRule,
    /// Applied at, epoch ms.
    pub applied_at: i64,
    /// Lapses at, epoch ms.
    pub expires_at: i64,
}

/// The rules in force.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DegradationRules {
    /// One per degraded integration.
    #[serde(default)]
    pub rules: Vec<AppliedDegradation>,
}
