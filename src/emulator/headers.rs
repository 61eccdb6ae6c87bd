//! Request headers Adobe Pass reads (§3): device identifier, device information, TempPass
//! identity, and the caller's IP for throttling.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use base64::{engine::general_purpose::STANDARD, Engine};

use crate::{
    adobe_pass::{allowed_values, REQUIRED_DEVICE_INFO},
    emulator::errors::{ApiError, ErrorCode},
};

/// A header's value as text, if present and printable.
pub fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Decodes base64 (standard alphabet, padding optional) into a JSON object.
pub fn base64_json_object(value: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = STANDARD
        .decode(value)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(value))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `AP-Device-Identifier: fingerprint <base64(deviceId)>`; returns the base64 part, which
/// keys the device's profiles.
pub fn device_identifier(headers: &HeaderMap) -> Result<String, ApiError> {
    let fingerprint = text(headers, "ap-device-identifier")
        .and_then(|v| v.strip_prefix("fingerprint "))
        .map(str::trim)
        .filter(|b64| {
            STANDARD
                .decode(b64)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64))
                .is_ok_and(|id| !id.is_empty())
        });
    fingerprint
        .map(str::to_owned)
        .ok_or_else(|| ErrorCode::InvalidHeaderDeviceIdentifier.into())
}

/// `X-Device-Info`: base64 of a JSON object (§3.1) with the required keys, and only the listed
/// values for the restricted ones. Malformed JSON is rejected, although whether Adobe does so
/// is UNVERIFIED (§3.1 quirk).
pub fn device_info(
    headers: &HeaderMap,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let info = text(headers, "x-device-info")
        .and_then(base64_json_object)
        .ok_or(ErrorCode::InvalidHeaderDeviceInfo)?;
    let required = REQUIRED_DEVICE_INFO.iter().all(|key| {
        info.get(*key)
            .and_then(|v| v.as_str())
            .is_some_and(|v| !v.trim().is_empty())
    });
    let restricted = info.iter().all(|(key, value)| match allowed_values(key) {
        Some(allowed) => value.as_str().is_some_and(|v| allowed.contains(&v)),
        None => key != "connectionSecure" || value.is_boolean(),
    });
    if required && restricted {
        Ok(info)
    } else {
        Err(
            ApiError::from(ErrorCode::InvalidHeaderDeviceInfo).with_details(
                "X-Device-Info lacks a required key or has a value outside the documented list.",
            ),
        )
    }
}

/// Which body an endpoint takes (§2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyType {
    /// `application/x-www-form-urlencoded`: sessions and partner SSO, the DCR token.
    Form,
    /// `application/json`: decisions, the DCR registration.
    Json,
}

/// Whether `Content-Type` names `kind` (parameters such as `charset` allowed).
pub fn has_body_type(headers: &HeaderMap, kind: BodyType) -> bool {
    let expected = match kind {
        BodyType::Form => "application/x-www-form-urlencoded",
        BodyType::Json => "application/json",
    };
    text(headers, "content-type")
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(expected))
}

/// [`has_body_type`] as an API error.
pub fn body_type(headers: &HeaderMap, kind: BodyType) -> Result<(), ApiError> {
    if has_body_type(headers, kind) {
        Ok(())
    } else {
        Err(ErrorCode::UnsupportedMediaType.into())
    }
}

/// The device headers every profile and decision call requires: (device id, device info).
pub fn device(
    headers: &HeaderMap,
) -> Result<(String, serde_json::Map<String, serde_json::Value>), ApiError> {
    Ok((device_identifier(headers)?, device_info(headers)?))
}

/// `AP-TempPass-Identity`: base64 of a non-empty JSON object; returns it in canonical form
/// (keys sorted) to key the promotional TempPass.
pub fn temp_pass_identity(headers: &HeaderMap) -> Result<String, ApiError> {
    text(headers, "ap-temppass-identity")
        .and_then(base64_json_object)
        .filter(|identity| !identity.is_empty())
        .map(|identity| serde_json::Value::Object(identity).to_string())
        .ok_or_else(|| ErrorCode::InvalidHeaderIdentityForTemporaryAccess.into())
}

/// The device's IP: the first `X-Forwarded-For` address, else the connection's.
pub fn client_ip(headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
    text(headers, "x-forwarded-for")
        .and_then(|list| list.split(',').next())
        .and_then(|first| first.trim().parse().ok())
        .or(peer.map(|p| p.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn device_identifier_needs_the_fingerprint_prefix_and_base64() {
        let ok = headers(&[("ap-device-identifier", "fingerprint YmEyM2QxNDE=")]);
        assert_eq!(device_identifier(&ok).expect("valid"), "YmEyM2QxNDE=");
        for bad in ["YmEyM2QxNDE=", "fingerprint ***", "fingerprint "] {
            let err = device_identifier(&headers(&[("ap-device-identifier", bad)])).expect_err(bad);
            assert_eq!(err.error.code, "invalid_header_device_identifier");
        }
    }

    #[test]
    fn forwarded_for_wins_over_the_connection() {
        let peer: SocketAddr = "10.0.0.1:5000".parse().expect("addr");
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.2")]);
        assert_eq!(
            client_ip(&h, Some(peer)),
            Some("203.0.113.9".parse().expect("ip"))
        );
        assert_eq!(client_ip(&HeaderMap::new(), Some(peer)), Some(peer.ip()));
    }
}
