//! Dynamic Client Registration (§4): register a software statement, then exchange the client
//! credentials for access tokens.

use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;
use crate::adobe_pass::secret::Secret;

/// The JSON body of `POST /o/client/register`.
#[derive(Clone, Debug, Serialize)]
pub struct RegisterRequest<'a> {
    /// The software statement from the TVE Dashboard.
    pub software_statement: &'a Secret,
    /// Optional in the DOC (required in the OAS): sent only when configured, since Adobe checks
    /// it against the registered application's domains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<&'a str>,
}

/// The 201 answer of `POST /o/client/register`: credentials to keep forever.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClientRegistration {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: Secret,
    /// When the id was issued, in epoch **seconds**.
    #[serde(default)]
    pub client_id_issued_at: Option<i64>,
    /// Registered redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Grant types, for example `client_credentials`.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Scopes, for example `api:client:v2`.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// The 201 answer of `POST /o/client/token`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    /// Opaque tracking id.
    #[serde(default)]
    pub id: Option<String>,
    /// The bearer token.
    pub access_token: Secret,
    /// When the token was issued, in epoch **milliseconds**.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Lifetime in **seconds**.
    pub expires_in: i64,
    /// `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Listed in the OAS only.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
}

open_enum! {
    /// The OAuth error code of a DCR 400.
    DcrErrorCode {
        /// Missing, unsupported, repeated or malformed parameter.
        InvalidRequest = "invalid_request",
        /// The redirect URI is not valid.
        InvalidRedirectUri = "invalid_redirect_uri",
        /// The software statement is not valid.
        InvalidSoftwareStatement = "invalid_software_statement",
        /// The software statement is not approved.
        UnapprovedSoftwareStatement = "unapproved_software_statement",
        /// The client must obtain new credentials.
        InvalidClient = "invalid_client",
        /// The client may not use this grant.
        UnauthorizedClient = "unauthorized_client",
        /// The grant type is not supported.
        UnsupportedGrantType = "unsupported_grant_type",
    }
}

/// The body of a DCR 400: `{"error": <code>}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcrError {
    /// The code.
    pub error: DcrErrorCode,
    /// Optional OAuth description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}
