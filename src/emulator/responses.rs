//! The bodies Adobe Pass sends, as typed values: the emulator serializes them and the example
//! fixtures deserialize into them. Field names are Adobe's.

use std::collections::BTreeMap;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};

use crate::emulator::errors::EnhancedError;

/// Adobe's JSON content type (§2).
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// A JSON response with Adobe's content type.
pub fn adobe_json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    response
}

/// DCR register success (§4.1).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientApplication {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Epoch seconds.
    pub client_id_issued_at: i64,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// `["client_credentials"]`.
    pub grant_types: Vec<String>,
    /// `["api:client:v2"]`.
    pub scopes: Vec<String>,
}

/// DCR token success (§4.2).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessTokenResponse {
    /// Tracking id.
    pub id: String,
    /// The bearer token.
    pub access_token: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Seconds.
    pub expires_in: i64,
    /// `bearer`.
    pub token_type: String,
}

/// DCR error (§4).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DcrError {
    /// OAuth-style error code.
    pub error: String,
}

/// Configuration (§6), in the documented sample's shape (`requestor.mvpds`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigurationResponse {
    /// Device category.
    pub device: String,
    /// Client type.
    pub client_type: String,
    /// Operating system.
    pub os: String,
    /// The service provider and its MVPDs.
    pub requestor: Requestor,
}

/// The service provider in a configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requestor {
    /// Service provider id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Allowed domains.
    pub domains: Vec<Domain>,
    /// MVPDs with an active integration.
    pub mvpds: Vec<Mvpd>,
}

/// A domain of the service provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Domain {
    /// Domain name.
    pub name: String,
    /// Whether MVPD-initiated login is allowed.
    pub mvpd_initiated: bool,
}

/// An MVPD entry (`MvpdType`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Mvpd {
    /// MVPD id.
    pub id: String,
    /// Brand name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// TempPass pseudo-MVPD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_temp_pass: Option<bool>,
    /// Proxied MVPD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_proxy: Option<bool>,
    /// Platform SSO boarding status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boarding_status: Option<String>,
    /// The platform's id for this MVPD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_mapping_id: Option<String>,
    /// Platform SSO enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_platform_services: Option<bool>,
    /// May be shown in the platform picker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_in_platform_picker: Option<bool>,
    /// The device must enforce platform permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_platform_permissions: Option<bool>,
    /// Undocumented flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_per_aggregator: Option<bool>,
    /// Undocumented flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_per_browser_session: Option<bool>,
    /// Undocumented flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive_authn_enabled: Option<bool>,
}

/// Session response (§7.1): S1, S2 and X1.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionResponse {
    /// What to do next.
    pub action_name: String,
    /// How to do it.
    pub action_type: String,
    /// Why.
    pub reason_type: String,
    /// Relative URL of the next call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Parameters still to supply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_parameters: Option<Vec<String>>,
    /// Authentication code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Tracking id.
    pub session_id: String,
    /// MVPD id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mvpd: Option<String>,
    /// Service provider id.
    pub service_provider: String,
    /// Epoch ms, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// Epoch ms, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Partner SSO only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_request: Option<AuthenticationRequest>,
}

/// The partner authentication request in an X1 response.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticationRequest {
    /// `saml`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Base64 SAML request.
    pub request: String,
    /// Attributes the partner should return.
    pub attributes_names: Vec<String>,
}

/// Session status (§7.4): S3.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionStatusResponse {
    /// Parameters still to supply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_parameters: Option<Vec<String>>,
    /// Parameters known so far.
    pub existing_parameters: BTreeMap<String, String>,
    /// The streaming device as the server understood it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// Epoch ms, as a string.
    pub not_before: String,
    /// Epoch ms, as a string.
    pub not_after: String,
}

/// The streaming device in a session status.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Device {
    /// Hardware type (OAS `Device.type` enum).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Application version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Hardware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<Hardware>,
    /// Operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<OperatingSystem>,
    /// Browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<Browser>,
    /// Display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<Display>,
    /// Application id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// Network connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
}

/// A parsed version number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// Major.
    pub major: i32,
    /// Minor.
    pub minor: i32,
    /// Patch.
    pub patch: i32,
    /// Anything after the numbers.
    pub profile: String,
}

/// Device hardware.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
}

/// Device operating system.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatingSystem {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
}

/// Device browser.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Browser {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// User agent as understood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// User agent as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_user_agent: Option<String>,
}

/// Device display.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Display {
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    /// Pixels per inch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppi: Option<i64>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Diagonal size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagonal_size: Option<String>,
}

/// Device connection.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Connection {
    /// IP address, as a string (see the OpenAPI exceptions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Source port, as a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Secure network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
    /// Connection type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Profiles (§8): P1, P2, P3 and X2.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesResponse {
    /// Profiles keyed by MVPD id.
    pub profiles: BTreeMap<String, Profile>,
}

/// A profile (§8.1).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    /// Epoch ms.
    pub not_before: i64,
    /// Epoch ms.
    pub not_after: i64,
    /// Who owns the profile.
    pub issuer: String,
    /// `regular`, `temporary`, `appleSSO`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// User metadata.
    pub attributes: BTreeMap<String, Attribute>,
    /// Tracking id (OAS only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// A user metadata value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// String, number, array or object; a base64 string when encrypted.
    pub value: serde_json::Value,
    /// `plain` or `enc`.
    pub state: String,
}

impl Attribute {
    /// A plain value.
    pub fn plain(value: impl Into<serde_json::Value>) -> Self {
        Self {
            value: value.into(),
            state: "plain".to_owned(),
        }
    }
}

/// Decisions (§9): D1 and D2.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionsResponse {
    /// One per requested resource.
    pub decisions: Vec<Decision>,
}

/// A decision item.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Decision {
    /// Resource id.
    pub resource: String,
    /// Service provider id.
    pub service_provider: String,
    /// MVPD id.
    pub mvpd: String,
    /// `mvpd`, `temppass`, `degradation` or `dummy`.
    pub source: String,
    /// Permit or deny.
    pub authorized: bool,
    /// Media token (authorize permit only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<MediaToken>,
    /// Epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// Epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// Why not authorized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EnhancedError>,
}

/// A media token.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaToken {
    /// Epoch ms; only in the Enhanced Error Codes page sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<i64>,
    /// Epoch ms.
    pub not_before: i64,
    /// Epoch ms.
    pub not_after: i64,
    /// Base64 token.
    pub serialized_token: String,
}

/// Logout (§10).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutResponse {
    /// Keyed by MVPD id.
    pub logouts: BTreeMap<String, MvpdLogout>,
}

/// What to do to finish logging out of one MVPD.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MvpdLogout {
    /// `logout`, `partner_logout`, `complete` or `invalid`.
    pub action_name: String,
    /// `interactive`, `partner_interactive` or `none`.
    pub action_type: String,
    /// MVPD id.
    pub mvpd: String,
    /// Logout page to open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}
