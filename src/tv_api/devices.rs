//! `POST /tv/v1/devices`: registers a device and gives it a token. Sent with the device's
//! current token (`Authorization: Bearer`), it renews that registration (new token, same Adobe
//! identity, so the viewer stays signed in); without one it makes a new registration with a new
//! Adobe identity, whatever the device id.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    auth::bearer, body::DeclaredJsonBody, client_addr::ClientAddr, error::ApiError,
    error::ErrorBody,
};
use crate::{adobe_pass::DeviceInfo, service::Service};

/// Longest optional device description value accepted.
const MAX_OPTIONAL_LEN: usize = 200;

/// A device asking to be registered.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterDevice {
    /// The app's stable id for this install (1–128 printable ASCII characters, no spaces).
    #[schema(example = "ba23d141-d715-561c-94f4-e9e4c966b1eb")]
    pub device_id: String,
    /// What the device is.
    pub device_info: DeviceDescription,
    /// The app's Adobe Experience Cloud ID (ECID), when it has one: sent to Adobe Pass as
    /// `AP-Visitor-Identifier` on every call for this device (1–200 printable ASCII characters).
    #[schema(example = "46624967143830147651409370916548731190")]
    pub visitor_id: Option<String>,
}

/// What the device says about itself (Adobe's device information; its address and port are
/// taken from the connection).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceDescription {
    /// Model, for example `AppleTV`.
    #[schema(example = "AppleTV")]
    pub model: String,
    /// Hardware version.
    #[schema(example = "4K")]
    pub version: String,
    /// Operating system, for example `tvOS`, `Android`, `Roku OS`.
    #[schema(example = "tvOS")]
    pub os_name: String,
    /// Operating system version.
    #[schema(example = "17.1")]
    pub os_version: String,
    /// `WiFi`, `LAN`, `3G`, `4G` or `5G`.
    #[schema(example = "WiFi")]
    pub connection_type: String,
    /// For example `TV`, `SetTopBox`.
    pub primary_hardware_type: Option<String>,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// OS family.
    pub os_family: Option<String>,
    /// OS vendor.
    pub os_vendor: Option<String>,
    /// The app's user agent: sent to Adobe Pass as `User-Agent` (and in the device
    /// information) on every call for this device.
    pub user_agent: Option<String>,
    /// Screen width in pixels.
    pub display_width: Option<u32>,
    /// Screen height in pixels.
    pub display_height: Option<u32>,
    /// Whether the network is secure.
    pub connection_secure: Option<bool>,
    /// The application id.
    pub application_id: Option<String>,
}

impl TryFrom<DeviceDescription> for DeviceInfo {
    type Error = ApiError;

    fn try_from(description: DeviceDescription) -> Result<Self, ApiError> {
        let optional = [
            ("primaryHardwareType", &description.primary_hardware_type),
            ("manufacturer", &description.manufacturer),
            ("vendor", &description.vendor),
            ("osFamily", &description.os_family),
            ("osVendor", &description.os_vendor),
            ("userAgent", &description.user_agent),
            ("applicationId", &description.application_id),
        ];
        for (field, value) in optional {
            if value
                .as_ref()
                .is_some_and(|v| v.trim().is_empty() || v.len() > MAX_OPTIONAL_LEN)
            {
                return Err(ApiError::invalid(
                    &format!("deviceInfo.{field}"),
                    format!("must have 1 to {MAX_OPTIONAL_LEN} characters"),
                ));
            }
        }
        Ok(DeviceInfo {
            primary_hardware_type: description.primary_hardware_type,
            model: description.model,
            version: description.version,
            manufacturer: description.manufacturer,
            vendor: description.vendor,
            os_name: description.os_name,
            os_family: description.os_family,
            os_vendor: description.os_vendor,
            os_version: description.os_version,
            user_agent: description.user_agent,
            display_width: description.display_width,
            display_height: description.display_height,
            connection_type: description.connection_type,
            connection_secure: description.connection_secure,
            application_id: description.application_id,
            ..DeviceInfo::default()
        })
    }
}

/// A registered device and its new token.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredDevice {
    /// The device id, as sent.
    pub device_id: String,
    /// The token to send as `Authorization: Bearer` from now on; shown once. When the request
    /// carried the device's current token, that one stops working.
    pub device_token: String,
}

/// Registers the device and gives it a new token. Send the current token, if the device has one,
/// as `Authorization: Bearer` to keep its sign-in; without it the device starts afresh.
#[utoipa::path(
    post,
    path = "/tv/v1/devices",
    tag = "devices",
    request_body = RegisterDevice,
    security((), ("deviceToken" = [])),
    responses(
        (status = 201, description = "Registered; keep the token", body = RegisteredDevice),
        (status = 400, description = "Malformed body or a field out of range (the message names it)", body = ErrorBody),
        (status = 401, description = "The token sent is unknown, revoked or belongs to another device id: register without it", body = ErrorBody),
        (status = 415, description = "The body was not sent with `Content-Type: application/json`", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address, its network or everyone; retry after `retryAfter` seconds", body = ErrorBody),
        (status = 502, description = "Adobe Pass refused the registration", body = ErrorBody),
        (status = 503, description = "Adobe Pass or the store is unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn register(
    State(service): State<Service>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    DeclaredJsonBody(request): DeclaredJsonBody<RegisterDevice>,
) -> Result<(StatusCode, Json<RegisteredDevice>), ApiError> {
    let info = DeviceInfo::try_from(request.device_info)?;
    let registered = service
        .register_device(
            &request.device_id,
            &info,
            request.visitor_id.as_deref(),
            addr,
            bearer(&headers),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(RegisteredDevice {
            device_id: registered.device_id,
            device_token: registered.device_token,
        }),
    ))
}
