//! Devices: registration (one DCR client per device, kept forever) and the opaque device token
//! a TV sends on every call; only the token's SHA-256 is stored.

use std::net::SocketAddr;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::{Service, ServiceError};
use crate::{
    adobe_pass::{DeviceIdentity, DeviceInfo},
    store::Device,
};

const TOKEN_PREFIX: &str = "tvd_";
const MAX_DEVICE_ID_LEN: usize = 128;

/// A freshly registered (or re-registered) device and its new token.
#[derive(Clone, Debug)]
pub struct RegisteredDevice {
    /// The device id, as sent.
    pub device_id: String,
    /// The token to send as `Authorization: Bearer`; shown once, never stored.
    pub device_token: String,
}

/// A device that proved its token, with the identity its upstream calls carry.
#[derive(Clone, Debug)]
pub struct DeviceSession {
    /// The stored device.
    pub device: Device,
    /// Its description of itself.
    pub info: DeviceInfo,
    /// Headers for Adobe: device id, device info with this connection's IP and port, and
    /// `X-Forwarded-For`.
    pub identity: DeviceIdentity,
}

/// SHA-256 of a device token, hex; what the store keeps.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn validate_device_id(device_id: &str) -> Result<(), ServiceError> {
    if device_id.is_empty() || device_id.len() > MAX_DEVICE_ID_LEN {
        return Err(ServiceError::invalid(
            "deviceId",
            format!("must have 1 to {MAX_DEVICE_ID_LEN} characters"),
        ));
    }
    if !device_id
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
    {
        return Err(ServiceError::invalid(
            "deviceId",
            "may hold only printable ASCII characters without spaces or quotes",
        ));
    }
    Ok(())
}

fn validate_info(info: &DeviceInfo) -> Result<(), ServiceError> {
    for (field, value) in [
        ("deviceInfo.model", &info.model),
        ("deviceInfo.version", &info.version),
        ("deviceInfo.osName", &info.os_name),
        ("deviceInfo.osVersion", &info.os_version),
        ("deviceInfo.connectionType", &info.connection_type),
    ] {
        if value.trim().is_empty() || value.len() > 200 {
            return Err(ServiceError::invalid(
                field,
                "must have 1 to 200 characters",
            ));
        }
    }
    Ok(())
}

/// The identity of the service's own readiness probe: one DCR client, kept like a device's.
fn readiness_probe() -> DeviceIdentity {
    let info = DeviceInfo {
        model: "tve-activate".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        os_name: "Linux".to_owned(),
        os_version: "server".to_owned(),
        connection_type: "LAN".to_owned(),
        ..DeviceInfo::default()
    };
    DeviceIdentity::new(
        "tve-activate-readiness-probe",
        &info,
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
}

impl Service {
    /// Checks that Adobe Pass gives this service an access token (the readiness probe's own
    /// DCR client, registered once and kept).
    pub async fn check_upstream(&self) -> Result<(), ServiceError> {
        self.inner.adobe.register_device(&readiness_probe()).await?;
        Ok(())
    }

    /// Registers the device (or updates a known one) and gives it a new token, which revokes its
    /// previous token. Its DCR client is created on first use and then kept forever.
    pub async fn register_device(
        &self,
        device_id: &str,
        info: &DeviceInfo,
        connection: SocketAddr,
    ) -> Result<RegisteredDevice, ServiceError> {
        validate_device_id(device_id)?;
        validate_info(info)?;
        // DCR first: a device Adobe will not register gets no token.
        let identity = DeviceIdentity::new(device_id, info, connection);
        self.inner.adobe.register_device(&identity).await?;
        let device_info = serde_json::to_value(info)
            .map_err(|e| ServiceError::invalid("deviceInfo", e.to_string()))?;
        let token = new_token();
        let device = Device {
            device_id: device_id.to_owned(),
            device_info,
            last_provider: None,
            registered_at: self.now_millis(),
        };
        self.inner
            .store
            .register_device(&device, &token_hash(&token))
            .await?;
        self.invalidate_device(device_id);
        Ok(RegisteredDevice {
            device_id: device_id.to_owned(),
            device_token: token,
        })
    }

    /// The device holding `token`, calling from `connection` (its public IP and source port).
    pub async fn authenticate_device(
        &self,
        token: &str,
        connection: SocketAddr,
    ) -> Result<DeviceSession, ServiceError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(ServiceError::UnknownDevice);
        }
        let device = self
            .inner
            .store
            .device_for_token(&token_hash(token))
            .await?
            .ok_or(ServiceError::UnknownDevice)?;
        self.session_for(device, connection)
    }

    /// The session of a stored device calling (or acted for) from `connection`.
    pub(crate) fn session_for(
        &self,
        device: Device,
        connection: SocketAddr,
    ) -> Result<DeviceSession, ServiceError> {
        let info: DeviceInfo = serde_json::from_value(device.device_info.clone()).map_err(|e| {
            ServiceError::Store(crate::store::StoreError::Corrupt {
                what: "device description",
                detail: e.to_string(),
            })
        })?;
        let identity = DeviceIdentity::new(device.device_id.clone(), &info, connection);
        Ok(DeviceSession {
            device,
            info,
            identity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn device_ids_are_checked() {
        assert!(validate_device_id("ba23d141-d715-561c-94f4-e9e4c966b1eb").is_ok());
        assert!(validate_device_id("").is_err());
        assert!(validate_device_id("has space").is_err());
        assert!(validate_device_id(&"x".repeat(129)).is_err());
    }
}
