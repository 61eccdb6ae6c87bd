//! Profiles (§8): P1, P2, P3 and X2 answer `{"profiles": {<mvpd>: Profile}}`; timestamps are
//! integers of epoch milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;

open_enum! {
    /// The kind of profile.
    ProfileType {
        /// A basic MVPD authentication.
        Regular = "regular",
        /// Granted by a degradation rule.
        Degraded = "degraded",
        /// A TempPass.
        Temporary = "temporary",
        /// Apple partner SSO.
        AppleSso = "appleSSO",
        /// Platform identity SSO.
        PlatformSso = "platformSSO",
        /// Service token SSO.
        ServiceTokenSso = "serviceTokenSSO",
    }
}

open_enum! {
    /// Whether an attribute's value is readable or encrypted with the programmer's certificate.
    AttributeState {
        /// Readable.
        Plain = "plain",
        /// Encrypted: base64 of RSA ciphertext.
        Enc = "enc",
    }
}

/// The answer of P1, P2, P3 and X2; an empty map means the user must authenticate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profiles {
    /// Profiles keyed by MVPD id.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Valid from, epoch ms.
    pub not_before: i64,
    /// Valid until, epoch ms (the authentication TTL).
    pub not_after: i64,
    /// The MVPD, `Adobe` (degraded, temporary) or `Apple` (appleSSO).
    pub issuer: String,
    /// The kind of profile.
    #[serde(rename = "type")]
    pub kind: ProfileType,
    /// User metadata; `userID` is always there.
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    /// OAS only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// One user metadata attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// A string, number, array or object; the base64 ciphertext when encrypted.
    pub value: serde_json::Value,
    /// Plain or encrypted.
    pub state: AttributeState,
    /// OAS only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
