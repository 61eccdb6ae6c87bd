//! The streaming device on whose behalf a call is made. Every identity header comes from here,
//! never from this server: `AP-Device-Identifier`, `X-Device-Info` (with the device's
//! `connectionIp` and source `connectionPort`), `X-Forwarded-For`, `AP-Visitor-Identifier`,
//! `AP-TempPass-Identity` (hashed) and the SSO headers, passed through.

use std::net::{IpAddr, SocketAddr};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{error::AdobePassError, secret::Secret};

/// The device description sent in `X-Device-Info` (REST-API-V2.md §3.1). `connectionIp` and
/// `connectionPort` are filled from [`DeviceIdentity`]'s connection, so they always describe the
/// device, not this server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    /// For example `MobilePhone`, `TV`, `SetTopBox`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_hardware_type: Option<String>,
    /// Required: for example `AppleTV`.
    pub model: String,
    /// Required: hardware version, for example `2.0.1`.
    pub version: String,
    /// Manufacturer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// Vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Required: for example `tvOS`, `Android`, `Roku OS`.
    pub os_name: String,
    /// OS family.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_family: Option<String>,
    /// OS vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_vendor: Option<String>,
    /// Required: for example `17.1`.
    pub os_version: String,
    /// Browser name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_name: Option<String>,
    /// Browser vendor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_vendor: Option<String>,
    /// Browser version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_version: Option<String>,
    /// The device's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Screen width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_width: Option<u32>,
    /// Screen height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_height: Option<u32>,
    /// Screen density.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_ppi: Option<u32>,
    /// Screen diagonal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagonal_screen_size: Option<String>,
    /// The device's IP; set from [`DeviceIdentity`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_ip: Option<String>,
    /// The device's source port; set from [`DeviceIdentity`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_port: Option<u16>,
    /// Required: `WiFi`, `LAN`, `3G`, `4G` or `5G`.
    pub connection_type: String,
    /// Whether the network is secure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_secure: Option<bool>,
    /// The application id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
}

/// The `X-Device-Info` keys whose values Adobe restricts to a list (§3.1), and the lists.
pub const RESTRICTED_DEVICE_INFO: &[(&str, &[&str])] = &[
    (
        "primaryHardwareType",
        &[
            "Camera",
            "DataCollectionTerminal",
            "Desktop",
            "EmbeddedNetworkModule",
            "eReader",
            "GamesConsole",
            "GeolocationTracker",
            "Glasses",
            "MediaPlayer",
            "MobilePhone",
            "PaymentTerminal",
            "PluginModem",
            "SetTopBox",
            "TV",
            "Tablet",
            "WirelessHotspot",
            "Wristwatch",
            "Unknown",
            "VehicleMultimediaSystem",
            "Projector",
        ],
    ),
    (
        "osName",
        &[
            "Android",
            "Chrome OS",
            "Linux",
            "Mac OS",
            "OS X",
            "OpenBSD",
            "Roku OS",
            "Windows",
            "iOS",
            "tvOS",
            "webOS",
        ],
    ),
    (
        "osFamily",
        &[
            "Android",
            "BSD",
            "Linux",
            "PlayStation OS",
            "Roku OS",
            "Symbian",
            "Tizen",
            "Windows",
            "iOS",
            "tvOS",
            "macOS",
            "webOS",
        ],
    ),
    (
        "osVendor",
        &[
            "Amazon",
            "Apple",
            "Google",
            "LG",
            "Microsoft",
            "Mozilla",
            "Nintendo",
            "Nokia",
            "Roku",
            "Samsung",
            "Sony",
            "Tizen Project",
        ],
    ),
    (
        "browserName",
        &[
            "Android Browser",
            "Chrome",
            "Edge",
            "Firefox",
            "Internet Explorer",
            "Opera",
            "Safari",
            "SeaMonkey",
            "Symbian Browser",
        ],
    ),
    (
        "browserVendor",
        &[
            "Amazon",
            "Apple",
            "Google",
            "Microsoft",
            "Motorola",
            "Mozilla",
            "Netscape",
            "Nintendo",
            "Nokia",
            "Samsung",
            "Sony Ericsson",
        ],
    ),
];

/// The `X-Device-Info` keys Adobe requires (§3.1).
pub const REQUIRED_DEVICE_INFO: &[&str] =
    &["model", "version", "osName", "osVersion", "connectionType"];

/// The values Adobe allows for the `X-Device-Info` key `key`, when it restricts them.
pub fn allowed_values(key: &str) -> Option<&'static [&'static str]> {
    RESTRICTED_DEVICE_INFO
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, values)| *values)
}

impl DeviceInfo {
    /// The first value Adobe would not take (§3.1): (key, what is wrong).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let restricted = [
            ("primaryHardwareType", self.primary_hardware_type.as_deref()),
            ("osName", Some(self.os_name.as_str())),
            ("osFamily", self.os_family.as_deref()),
            ("osVendor", self.os_vendor.as_deref()),
            ("browserName", self.browser_name.as_deref()),
            ("browserVendor", self.browser_vendor.as_deref()),
        ];
        for (key, value) in restricted {
            let (Some(value), Some(allowed)) = (value, allowed_values(key)) else {
                continue;
            };
            if !allowed.contains(&value) {
                return Err((key, format!("must be one of {}", allowed.join(", "))));
            }
        }
        Ok(())
    }
}

/// SSO tokens the device holds, passed through unchanged on the endpoints that take them.
#[derive(Clone, Debug, Default)]
pub struct SsoHeaders {
    /// `Adobe-Subject-Token` (Amazon platform identity).
    pub adobe_subject_token: Option<Secret>,
    /// `X-Roku-Reserved-Roku-Connect-Token` (Roku platform identity).
    pub roku_connect_token: Option<Secret>,
    /// `AD-Service-Token` (service token SSO).
    pub service_token: Option<Secret>,
    /// `AP-Partner-Framework-Status` (Apple partner SSO), base64 JSON as the device sent it.
    pub partner_framework_status: Option<String>,
}

/// The identity behind promotional TempPass: only SHA-256 hashes of its values are ever sent.
#[derive(Clone)]
pub struct TempPassIdentity(HeaderValue);

impl TempPassIdentity {
    /// Hashes each value (for example `("email", "viewer@example.com")`, trimmed and lowercased)
    /// and gives base64 of `{"email":"<sha-256 hex>"}`, the `AP-TempPass-Identity` value.
    pub fn hashed<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let object: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(key, value)| {
                let digest = Sha256::digest(value.trim().to_lowercase().as_bytes());
                (key.to_owned(), serde_json::Value::String(hex(&digest)))
            })
            .collect();
        let encoded = STANDARD.encode(serde_json::Value::Object(object).to_string());
        // Base64 is always a valid header value.
        Self(HeaderValue::from_str(&encoded).unwrap_or(HeaderValue::from_static("")))
    }

    /// An identity hashed earlier, as [`TempPassIdentity::value`] gave it (kept by the store).
    pub fn from_value(value: &str) -> Result<Self, AdobePassError> {
        header_value("AP-TempPass-Identity", value).map(Self)
    }

    /// The header value: base64 of the hashed fields, safe to keep.
    pub fn value(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }

    pub(crate) fn header(&self) -> &HeaderValue {
        &self.0
    }
}

impl std::fmt::Debug for TempPassIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TempPassIdentity(<hashed>)")
    }
}

/// A streaming device as Adobe must see it. Build one per call from what the device sent.
#[derive(Clone, Debug)]
pub struct DeviceIdentity {
    device_id: String,
    connection: SocketAddr,
    forwarded_for: IpAddr,
    device_identifier: HeaderValue,
    device_info: HeaderValue,
    visitor_id: Option<HeaderValue>,
    user_agent: Option<HeaderValue>,
    sso: SsoHeaders,
    temp_pass: Option<TempPassIdentity>,
    os_name: String,
    os_vendor: Option<String>,
}

impl DeviceIdentity {
    /// A device with its stable id, its description, and its connection as seen by this
    /// service (public IP and source port).
    pub fn new(device_id: impl Into<String>, info: &DeviceInfo, connection: SocketAddr) -> Self {
        let device_id = device_id.into();
        let mut info = info.clone();
        info.connection_ip = Some(connection.ip().to_string());
        // Port 0 means unknown: Adobe is told nothing rather than a port no device uses.
        info.connection_port = (connection.port() != 0).then_some(connection.port());
        let info_json = serde_json::to_string(&info).unwrap_or_default();
        // A user agent that cannot be a header value travels in the device information only.
        let user_agent = info
            .user_agent
            .as_deref()
            .and_then(|agent| HeaderValue::from_str(agent).ok());
        Self {
            user_agent,
            device_identifier: base64_header("fingerprint ", device_id.as_bytes()),
            device_info: base64_header("", info_json.as_bytes()),
            device_id,
            connection,
            forwarded_for: connection.ip(),
            visitor_id: None,
            sso: SsoHeaders::default(),
            temp_pass: None,
            os_name: info.os_name.clone(),
            os_vendor: info.os_vendor.clone(),
        }
    }

    /// The device's platform as its description gives it: `osName`, and `osVendor` if any.
    pub fn platform(&self) -> (&str, Option<&str>) {
        (&self.os_name, self.os_vendor.as_deref())
    }

    /// Sends `X-Forwarded-For` (and throttles) as the viewer at `ip`, for calls a second screen
    /// makes about this device's session (S2, S3).
    pub fn acting_from(mut self, ip: IpAddr) -> Self {
        self.forwarded_for = ip;
        self
    }

    /// Adds the Experience Cloud ID (`AP-Visitor-Identifier`).
    pub fn with_visitor_id(mut self, ecid: &str) -> Result<Self, AdobePassError> {
        self.visitor_id = Some(header_value("AP-Visitor-Identifier", ecid)?);
        Ok(self)
    }

    /// Adds the SSO tokens the device holds; fails if one cannot be a header value.
    pub fn with_sso(mut self, sso: SsoHeaders) -> Result<Self, AdobePassError> {
        for (name, value) in [
            (
                "Adobe-Subject-Token",
                sso.adobe_subject_token.as_ref().map(Secret::expose),
            ),
            (
                "X-Roku-Reserved-Roku-Connect-Token",
                sso.roku_connect_token.as_ref().map(Secret::expose),
            ),
            (
                "AD-Service-Token",
                sso.service_token.as_ref().map(Secret::expose),
            ),
            (
                "AP-Partner-Framework-Status",
                sso.partner_framework_status.as_deref(),
            ),
        ] {
            if let Some(value) = value {
                header_value(name, value)?;
            }
        }
        self.sso = sso;
        Ok(self)
    }

    /// Adds the promotional TempPass identity.
    pub fn with_temp_pass_identity(mut self, identity: TempPassIdentity) -> Self {
        self.temp_pass = Some(identity);
        self
    }

    /// The device's stable id, as given.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The device's connection (public IP and source port).
    pub fn connection(&self) -> SocketAddr {
        self.connection
    }

    /// The IP sent in `X-Forwarded-For`; Adobe throttles per this IP.
    pub fn forwarded_for(&self) -> IpAddr {
        self.forwarded_for
    }

    pub(crate) fn device_identifier(&self) -> &HeaderValue {
        &self.device_identifier
    }

    pub(crate) fn device_info(&self) -> &HeaderValue {
        &self.device_info
    }

    pub(crate) fn visitor_id(&self) -> Option<&HeaderValue> {
        self.visitor_id.as_ref()
    }

    /// The device's own user agent, sent as `User-Agent` for it.
    pub(crate) fn user_agent(&self) -> Option<&HeaderValue> {
        self.user_agent.as_ref()
    }

    pub(crate) fn sso(&self) -> &SsoHeaders {
        &self.sso
    }

    pub(crate) fn temp_pass(&self) -> Option<&HeaderValue> {
        self.temp_pass.as_ref().map(TempPassIdentity::header)
    }
}

fn base64_header(prefix: &str, bytes: &[u8]) -> HeaderValue {
    let value = format!("{prefix}{}", STANDARD.encode(bytes));
    // A prefix of letters and a space followed by base64 is always a valid header value.
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, AdobePassError> {
    HeaderValue::from_str(value)
        .map_err(|_| AdobePassError::InvalidInput(format!("{name} is not a valid header value")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> DeviceInfo {
        DeviceInfo {
            primary_hardware_type: Some("SetTopBox".into()),
            model: "AppleTV".into(),
            version: "4K".into(),
            os_name: "tvOS".into(),
            os_version: "17.1".into(),
            connection_type: "WiFi".into(),
            ..DeviceInfo::default()
        }
    }

    #[test]
    fn device_identifier_is_fingerprint_of_base64_device_id() {
        let device = DeviceIdentity::new(
            "ba23d141-d715-561c-94f4-e9e4c966b1eb",
            &info(),
            "203.0.113.7:53124".parse().expect("addr"),
        );
        assert_eq!(
            device.device_identifier(),
            "fingerprint YmEyM2QxNDEtZDcxNS01NjFjLTk0ZjQtZTllNGM5NjZiMWVi"
        );
    }

    #[test]
    fn device_info_carries_the_device_connection_not_the_server() {
        let device =
            DeviceIdentity::new("tv-1", &info(), "203.0.113.7:53124".parse().expect("addr"));
        let json = STANDARD
            .decode(device.device_info().as_bytes())
            .expect("base64");
        let decoded: serde_json::Value = serde_json::from_slice(&json).expect("json");
        assert_eq!(decoded["connectionIp"], "203.0.113.7");
        assert_eq!(decoded["connectionPort"], 53124);
        assert_eq!(decoded["model"], "AppleTV");
        assert_eq!(decoded["osName"], "tvOS");
        assert_eq!(device.forwarded_for().to_string(), "203.0.113.7");
        let phone = device.acting_from("198.51.100.9".parse().expect("ip"));
        assert_eq!(phone.forwarded_for().to_string(), "198.51.100.9");
    }

    /// §3.1: `connectionPort` is the device's source port; when it is unknown (behind a proxy
    /// that passes none) it is left out rather than sent as 0.
    #[test]
    fn an_unknown_source_port_is_left_out() {
        let device = DeviceIdentity::new("tv-1", &info(), "203.0.113.7:0".parse().expect("addr"));
        let json = STANDARD
            .decode(device.device_info().as_bytes())
            .expect("base64");
        let decoded: serde_json::Value = serde_json::from_slice(&json).expect("json");
        assert_eq!(decoded["connectionIp"], "203.0.113.7");
        assert!(decoded.get("connectionPort").is_none(), "{decoded}");
    }

    #[test]
    fn temp_pass_identity_never_carries_the_raw_value() {
        let identity = TempPassIdentity::hashed([("email", " Foo@Bar.com ")]);
        let json = STANDARD
            .decode(identity.header().as_bytes())
            .expect("base64");
        let text = String::from_utf8(json).expect("utf-8");
        assert!(!text.to_lowercase().contains("foo@bar.com"), "{text}");
        // SHA-256 of "foo@bar.com".
        assert_eq!(
            text,
            r#"{"email":"0c7e6a405862e402eb76a70f8a26fc732d07c32931e9fae9ab1582911d2e8a3b"}"#
        );
    }

    #[test]
    fn sso_tokens_do_not_appear_in_debug_output() {
        let device = DeviceIdentity::new("tv-1", &info(), "203.0.113.7:1".parse().expect("addr"))
            .with_sso(SsoHeaders {
                service_token: Some(Secret::new("eyJ.service.token")),
                ..SsoHeaders::default()
            })
            .expect("valid");
        assert!(!format!("{device:?}").contains("eyJ.service.token"));
    }

    #[test]
    fn header_injection_is_refused() {
        let device = DeviceIdentity::new("tv-1", &info(), "203.0.113.7:1".parse().expect("addr"));
        assert!(device.with_visitor_id("a\r\nX-Evil: 1").is_err());
    }
}
