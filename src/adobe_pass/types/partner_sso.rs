//! Partner single sign-on (§13, Apple VSA): X1 answers a [`super::Session`], X2 answers
//! [`super::Profiles`]; both send form bodies.

use serde::{Deserialize, Serialize};

/// The form body of X1 `POST /api/v2/{serviceProvider}/sessions/sso/{partner}`, used if the flow
/// falls back to basic authentication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerSessionRequest {
    /// The domain of the application.
    pub domain_name: String,
    /// Where the browser ends after the MVPD login.
    pub redirect_url: String,
}

/// The form body of X2 `POST /api/v2/{serviceProvider}/profiles/sso/{partner}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerProfileRequest {
    /// The partner's base64 SAML response (the form encoding URL-encodes it).
    #[serde(rename = "SAMLResponse")]
    pub saml_response: String,
}
