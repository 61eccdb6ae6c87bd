//! Sessions (§7): S1 create, S2 resume and X1 answer with a [`Session`]; S3 answers with a
//! [`SessionStatus`]. Their `notBefore`/`notAfter` are strings of epoch milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;

open_enum! {
    /// What the application should do next.
    ActionName {
        /// Open `url` in a user agent to log in.
        Authenticate = "authenticate",
        /// Supply the missing parameters with S2.
        Resume = "resume",
        /// Still missing parameters: call S2 again.
        Retry = "retry",
        /// Already usable: go to decisions.
        Authorize = "authorize",
        /// Obtain a partner response, then call X2.
        PartnerProfile = "partner_profile",
    }
}

open_enum! {
    /// How to follow `url`.
    ActionType {
        /// Open it in a user agent.
        Interactive = "interactive",
        /// Call it with an HTTP client.
        Direct = "direct",
    }
}

open_enum! {
    /// Why the action was chosen.
    ReasonType {
        /// No particular reason.
        None = "none",
        /// A basic profile exists.
        Authenticated = "authenticated",
        /// The MVPD is a TempPass.
        Temporary = "temporary",
        /// An AuthNAll degradation rule applies.
        Degraded = "degraded",
        /// An SSO profile exists.
        AuthenticatedSso = "authenticatedSSO",
        /// Partner SSO fell back: bad or missing `AP-Partner-Framework-Status`.
        PfsFallback = "pfs_fallback",
        /// Partner SSO fell back: disabled in the configuration.
        ConfigurationFallback = "configuration_fallback",
        /// Partner SSO fell back with missing parameters.
        MissingParametersFallback = "missing_parameters_fallback",
    }
}

/// The form body of S1 create and S2 resume; absent fields are left out, and the session then
/// answers `resume` with `missingParameters`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRequest {
    /// The MVPD id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mvpd: Option<String>,
    /// The domain of the application performing the MVPD login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// Where the browser ends after the MVPD login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// The SAML request of a partner SSO session (X1 only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationRequest {
    /// `saml`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The base64 SAML request.
    pub request: String,
    /// The attributes the partner should return.
    #[serde(default)]
    pub attributes_names: Vec<String>,
}

/// The Session response object of S1, S2 and X1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// What to do next.
    pub action_name: ActionName,
    /// How to follow `url`.
    pub action_type: ActionType,
    /// Why.
    pub reason_type: ReasonType,
    /// Parameters still needed (resume, retry).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_parameters: Vec<String>,
    /// A path relative to the Adobe host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The authentication code for a second screen; absent when the action is `authorize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Opaque tracking id.
    pub session_id: String,
    /// The MVPD, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mvpd: Option<String>,
    /// The service provider.
    pub service_provider: String,
    /// Valid from, epoch ms (a string on the wire).
    #[serde(
        default,
        with = "super::string_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<i64>,
    /// Valid until, epoch ms (a string on the wire).
    #[serde(
        default,
        with = "super::string_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_after: Option<i64>,
    /// The partner's SAML request (X1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_request: Option<AuthenticationRequest>,
}

/// The answer of S3: what a session already knows, for a second screen to validate a code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// Parameters already supplied (`mvpd`, `domainName` or `domain`, `redirectUrl`, …).
    #[serde(default)]
    pub existing_parameters: BTreeMap<String, String>,
    /// Parameters still needed.
    #[serde(default)]
    pub missing_parameters: Vec<String>,
    /// Adobe's parsed view of the streaming device, kept as sent (its shape is loosely defined).
    #[serde(default)]
    pub device: Option<serde_json::Value>,
    /// Valid from, epoch ms (a string on the wire).
    #[serde(
        default,
        with = "super::string_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<i64>,
    /// Valid until, epoch ms (a string on the wire).
    #[serde(
        default,
        with = "super::string_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_after: Option<i64>,
}
