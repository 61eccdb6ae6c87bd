//! Devices: registration (one DCR client per registration, kept while the device is in use) and
//! the opaque device token a TV sends on every call; only the token's SHA-256 is stored.
//!
//! Adobe asks for a device identifier that survives reinstalls (REST API V2 checklist §7), yet a
//! device id is no secret (it shows up in analytics and logs). So the Adobe device id is a
//! pseudonym of the app's id under the deployment's key (Adobe never sees the app's id), and a
//! registration keeps an existing Adobe identity (its DCR client and so its viewer's sign-in)
//! only for a caller holding the device's current token, or for a reinstall: a registration
//! without the token from the network the device was last seen on (same IPv4 /24 or IPv6 /56),
//! within the reinstall window. Anyone else gets a fresh identity (the app id's next pseudonym).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{known_devices::Ticket, Service, ServiceError};
use crate::{
    adobe_pass::{DeviceIdentity, DeviceInfo, TempPassIdentity},
    store::Device,
};

const TOKEN_PREFIX: &str = "tvd_";
const MAX_DEVICE_ID_LEN: usize = 128;
/// How long one node may take to register the readiness probe while the others wait.
const PROBE_REGISTRATION: std::time::Duration = std::time::Duration::from_secs(10);
/// Device ids the service uses for itself; no Streaming App may register one.
const RESERVED_PREFIX: &str = "tve-activate-";
/// Days after a device was last seen within which a reinstall on its network keeps its
/// identity, unless configured otherwise.
pub const DEFAULT_REINSTALL_WINDOW_DAYS: u32 = 30;
/// While a device stays on one network, when it was seen is written at most this often (ms).
const SEEN_EVERY_MS: i64 = 3_600_000;

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

/// The hash of what a caller sent as its device token; anything not shaped like one is no
/// device's.
fn device_token_hash(token: &str) -> Result<String, ServiceError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(ServiceError::UnknownDevice);
    }
    Ok(token_hash(token))
}

fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes()))
}

/// The address prefix a device's network is known by: IPv4 /24, IPv6 /56 (a home's delegated
/// prefix; IPv4-mapped addresses count as IPv4).
fn network_prefix(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[7..].fill(0);
            format!("{}/56", Ipv6Addr::from(octets))
        }
    }
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
    if device_id.starts_with(RESERVED_PREFIX) {
        return Err(ServiceError::invalid(
            "deviceId",
            format!("ids starting with {RESERVED_PREFIX:?} are reserved"),
        ));
    }
    Ok(())
}

/// What the store keeps of a device's description: Adobe's device information and, when the
/// app gave one, its Experience Cloud ID.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredDescription {
    #[serde(flatten)]
    info: DeviceInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    visitor_id: Option<String>,
}

fn validate_visitor_id(ecid: &str) -> Result<(), ServiceError> {
    if ecid.is_empty() || ecid.len() > 200 || !ecid.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ServiceError::invalid(
            "visitorId",
            "must have 1 to 200 printable ASCII characters",
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
    // Adobe takes only its listed values for some keys (§3.1): say so here, not at Adobe.
    info.check()
        .map_err(|(key, reason)| ServiceError::invalid("deviceInfo", format!("{key} {reason}")))
}

/// The `osName` a stored device described itself with (empty when its description lacks one),
/// for the funnel's platform label.
pub(super) fn os_name(device: &Device) -> &str {
    device.device_info["osName"].as_str().unwrap_or_default()
}

/// The description the readiness probe registers with unless `--probe-device-info` replaces
/// it: a Linux server on a LAN.
pub fn default_probe_device() -> DeviceInfo {
    DeviceInfo {
        model: "tve-activate".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        os_name: "Linux".to_owned(),
        os_version: "server".to_owned(),
        connection_type: "LAN".to_owned(),
        ..DeviceInfo::default()
    }
}

/// Reads a readiness-probe description (`--probe-device-info`): JSON as a TV's `deviceInfo`
/// at registration, held to the same rules; its `connectionIp`, when given, is the address
/// Adobe is told the probe calls from (`X-Forwarded-For`), else 127.0.0.1.
pub fn probe_device_from_json(json: &str) -> Result<DeviceInfo, String> {
    let info: DeviceInfo = serde_json::from_str(json).map_err(|e| e.to_string())?;
    validate_info(&info).map_err(|e| e.to_string())?;
    if let Some(ip) = &info.connection_ip {
        ip.parse::<IpAddr>()
            .map_err(|_| format!("connectionIp {ip:?} is not an IP address"))?;
    }
    Ok(info)
}

/// The identity of the service's own readiness probe, described by `info`: one DCR client,
/// kept like a device's.
pub(super) fn readiness_probe(info: &DeviceInfo) -> DeviceIdentity {
    let ip = info
        .connection_ip
        .as_deref()
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    DeviceIdentity::new(
        format!("{RESERVED_PREFIX}readiness-probe"),
        info,
        SocketAddr::new(ip, 0),
    )
}

impl Service {
    /// Checks that Adobe Pass gives this service an access token (the readiness probe's own
    /// DCR client, registered once and kept).
    /// Nodes starting together would each register the probe with Adobe (all but one client
    /// orphaned): one takes a lease and registers, the others wait for its credentials.
    pub async fn check_upstream(&self) -> Result<(), ServiceError> {
        let probe = readiness_probe(&self.inner.settings.probe_device);
        let store = &self.inner.store;
        if store.credentials(probe.device_id()).await?.is_none()
            && !self
                .inner
                .settings
                .leases
                .hold("dcr:readiness-probe", PROBE_REGISTRATION)
                .await
        {
            let deadline = tokio::time::Instant::now() + PROBE_REGISTRATION;
            while store.credentials(probe.device_id()).await?.is_none()
                && tokio::time::Instant::now() < deadline
            {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
        self.inner.adobe.register_device(&probe).await?;
        Ok(())
    }

    /// Registers the device and gives it a new token. With `current_token` (the device's token,
    /// as the caller holds it) the registration it belongs to is renewed: the token is replaced
    /// (only while it is still that one, as the store reads it, never the cache), the
    /// description updated, the Adobe identity kept. Without it, a registration of the id
    /// last seen on the caller's network within the reinstall window is taken over the same way
    /// (its previous token revoked); otherwise a registration with a fresh Adobe identity is
    /// made. Registrations are limited per address prefix and in total.
    pub async fn register_device(
        &self,
        app_device_id: &str,
        info: &DeviceInfo,
        visitor_id: Option<&str>,
        connection: SocketAddr,
        current_token: Option<&str>,
    ) -> Result<RegisteredDevice, ServiceError> {
        validate_device_id(app_device_id)?;
        validate_info(info)?;
        if let Some(ecid) = visitor_id {
            validate_visitor_id(ecid)?;
        }
        // A renewal believes the store alone: a cached device may hold a token replaced a moment
        // ago (its thief's calls keep it warm).
        let renewed = match current_token {
            Some(token) => {
                let current_hash = device_token_hash(token)?;
                let device = self
                    .inner
                    .store
                    .device_for_token(&current_hash)
                    .await?
                    .filter(|device| device.app_device_id == app_device_id)
                    .ok_or(ServiceError::UnknownDevice)?;
                Some((device, current_hash))
            }
            None => None,
        };
        self.apply_operator_limits().await;
        self.inner
            .settings
            .limits
            .admit_registration(connection.ip())
            .await?;
        let network = self.network_of(connection.ip());
        let device_id = match &renewed {
            Some((device, _)) => device.device_id.clone(),
            None => self.identity_for(app_device_id, &network).await?,
        };
        // DCR first: a device Adobe will not register gets no token.
        let identity = DeviceIdentity::new(device_id.clone(), info, connection);
        self.inner.adobe.register_device(&identity).await?;
        let device_info = serde_json::to_value(StoredDescription {
            info: info.clone(),
            visitor_id: visitor_id.map(str::to_owned),
        })
        .map_err(|e| ServiceError::invalid("deviceInfo", e.to_string()))?;
        let token = new_token();
        let now = self.now_millis();
        match renewed {
            // Only while the token is still the one shown: of two renewals with one token (the
            // owner's and a thief's) one wins, and the other changes nothing.
            Some((mut device, current_hash)) => {
                device.device_info = device_info;
                device.network = Some(network);
                device.seen_at = now;
                if !self
                    .inner
                    .store
                    .renew_device(&device, &current_hash, &token_hash(&token))
                    .await?
                {
                    return Err(ServiceError::UnknownDevice);
                }
            }
            None => {
                let device = Device {
                    device_id: device_id.clone(),
                    app_device_id: app_device_id.to_owned(),
                    device_info,
                    last_provider: None,
                    temp_pass_identity: None,
                    registered_at: now,
                    network: Some(network),
                    seen_at: now,
                    sign_in_started_at: None,
                };
                self.inner
                    .store
                    .register_device(&device, &token_hash(&token))
                    .await?;
            }
        }
        self.invalidate_device(&device_id).await;
        Ok(RegisteredDevice {
            device_id: app_device_id.to_owned(),
            device_token: token,
        })
    }

    /// A pseudonym of the network `ip` is on.
    pub(super) fn network_of(&self, ip: IpAddr) -> String {
        self.inner
            .store
            .pseudonym(&format!("network\0{}", network_prefix(ip)))
    }

    /// The Adobe device id of a registration of `app_device_id` without its token, from
    /// `network`: that of the registration last seen there within the reinstall window (a
    /// reinstall), else a fresh one, the first pseudonym of the app id no registration holds.
    async fn identity_for(
        &self,
        app_device_id: &str,
        network: &str,
    ) -> Result<String, ServiceError> {
        let known = self.inner.store.devices_of_app(app_device_id).await?;
        let window =
            i64::try_from(self.inner.settings.reinstall_window.as_millis()).unwrap_or(i64::MAX);
        let now = self.now_millis();
        let reinstalled = known
            .iter()
            .filter(|device| {
                device.network.as_deref() == Some(network)
                    && device.seen_at > 0
                    && now.saturating_sub(device.seen_at) < window
            })
            .max_by_key(|device| device.seen_at);
        if let Some(device) = reinstalled {
            return Ok(device.device_id.clone());
        }
        let mut generation: u64 = 0;
        loop {
            let id = self
                .inner
                .store
                .pseudonym(&format!("device\0{app_device_id}\0{generation}"));
            if known.iter().all(|device| device.device_id != id) {
                return Ok(id);
            }
            generation += 1;
        }
    }

    /// Records the network the device calls from when it changed, and hourly while it stays;
    /// a failure to write it costs the call nothing. `ticket` is that of the read that found
    /// the device.
    async fn seen(&self, mut device: Device, token: &str, ip: IpAddr, ticket: Ticket) -> Device {
        let network = self.network_of(ip);
        let now = self.now_millis();
        if device.network.as_deref() == Some(network.as_str())
            && now.saturating_sub(device.seen_at) < SEEN_EVERY_MS
        {
            return device;
        }
        if let Err(error) = self
            .inner
            .store
            .saw_device(&device.device_id, &network, now)
            .await
        {
            tracing::warn!("the device's network could not be recorded: {error}");
            return device;
        }
        device.network = Some(network);
        device.seen_at = now;
        self.inner
            .known_devices
            .put(ticket, &token_hash(token), &device);
        device
    }

    /// The device holding `token`: cached when seen within the minute, else as the store has it
    /// (cached then, unless the device was forgotten since `ticket`).
    async fn device_for_token(&self, token: &str, ticket: Ticket) -> Result<Device, ServiceError> {
        let hash = device_token_hash(token)?;
        if let Some(device) = self.inner.known_devices.get(&hash) {
            return Ok(device);
        }
        let device = self
            .inner
            .store
            .device_for_token(&hash)
            .await?
            .ok_or(ServiceError::UnknownDevice)?;
        self.inner.known_devices.put(ticket, &hash, &device);
        Ok(device)
    }

    /// The device holding `token`, calling from `connection` (its public IP and source port).
    pub async fn authenticate_device(
        &self,
        token: &str,
        connection: SocketAddr,
    ) -> Result<DeviceSession, ServiceError> {
        let ticket = self.inner.known_devices.ticket();
        let device = self.device_for_token(token, ticket).await?;
        let device = self.seen(device, token, connection.ip(), ticket).await;
        self.session_for(device, connection)
    }

    /// The session of a stored device calling (or acted for) from `connection`.
    pub(crate) fn session_for(
        &self,
        device: Device,
        connection: SocketAddr,
    ) -> Result<DeviceSession, ServiceError> {
        let corrupt = |detail: String| {
            ServiceError::Store(crate::store::StoreError::Corrupt {
                what: "device description",
                detail,
            })
        };
        let StoredDescription { info, visitor_id } =
            serde_json::from_value(device.device_info.clone())
                .map_err(|e| corrupt(e.to_string()))?;
        let mut identity = DeviceIdentity::new(device.device_id.clone(), &info, connection);
        if let Some(ecid) = &visitor_id {
            identity = identity
                .with_visitor_id(ecid)
                .map_err(|e| corrupt(e.to_string()))?;
        }
        if let Some(hashed) = &device.temp_pass_identity {
            identity = identity.with_temp_pass_identity(TempPassIdentity::from_value(hashed)?);
        }
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
        assert!(validate_device_id("tve-activate-readiness-probe").is_err());
    }

    #[test]
    fn networks_are_ipv4_slash_24_and_ipv6_slash_56() {
        let prefix = |ip: &str| network_prefix(ip.parse().expect("an address"));
        assert_eq!(prefix("203.0.113.7"), "203.0.113.0/24");
        assert_eq!(prefix("203.0.113.200"), prefix("203.0.113.7"));
        assert_ne!(prefix("203.0.114.7"), prefix("203.0.113.7"));
        assert_eq!(prefix("::ffff:203.0.113.9"), "203.0.113.0/24");
        assert_eq!(prefix("2001:db8:aa:bbcc::1"), "2001:db8:aa:bb00::/56");
        assert_eq!(
            prefix("2001:db8:aa:bbff:1::2"),
            prefix("2001:db8:aa:bb00::9")
        );
        assert_ne!(prefix("2001:db8:aa:cc00::1"), prefix("2001:db8:aa:bb00::1"));
    }
}
