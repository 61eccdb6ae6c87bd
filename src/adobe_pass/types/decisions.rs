//! Decisions (§9): D1 preauthorize and D2 authorize. A denial is an item with an error inside
//! an HTTP 200; timestamps are integers of epoch milliseconds.

use serde::{Deserialize, Serialize};

use super::{enhanced_error::EnhancedError, open_enum::open_enum};
use crate::adobe_pass::secret::Secret;

open_enum! {
    /// Who decided.
    DecisionSource {
        /// The MVPD.
        Mvpd = "mvpd",
        /// A degradation rule.
        Degradation = "degradation",
        /// TempPass.
        Temppass = "temppass",
        /// A dummy decision.
        Dummy = "dummy",
    }
}

/// The JSON body of D1 and D2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionsRequest {
    /// Resource ids or MRSS documents (about 5 for preauthorize, 1 for authorize).
    pub resources: Vec<String>,
}

/// The answer of D1 and D2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decisions {
    /// One decision per resource.
    pub decisions: Vec<Decision>,
}

/// One decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The resource.
    pub resource: String,
    /// The service provider.
    pub service_provider: String,
    /// The MVPD.
    pub mvpd: String,
    /// Who decided.
    pub source: DecisionSource,
    /// Permit or deny.
    pub authorized: bool,
    /// The media token (authorize permits only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<MediaToken>,
    /// Decision valid from, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// Decision valid until, epoch ms (the authorization TTL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// Why the item was denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EnhancedError>,
}

/// A short-lived, single-use media token; never cache it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaToken {
    /// Not in the V2 schema, present in some samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<i64>,
    /// Valid from, epoch ms.
    pub not_before: i64,
    /// Valid until, epoch ms.
    pub not_after: i64,
    /// The base64 token for the media token verifier.
    pub serialized_token: Secret,
}
