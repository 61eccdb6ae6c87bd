//! What an operator does to a device through the admin API: forgets what is cached for it (its
//! entitlements changed), or takes its token away (it was stolen, say), so every holder of it
//! must register afresh, and signs its viewer out at Adobe. Each is told to the event stream.

use std::net::{IpAddr, SocketAddr};

use super::{Service, ServiceError};
use crate::events::{Actor, EventKind, ADMIN_API};

/// The admin API's actor: its routes for devices take no operator name.
fn admin_api() -> Actor {
    Actor {
        actor: ADMIN_API.to_owned(),
        reason: None,
    }
}

impl Service {
    /// Forgets what is cached (profile, preauthorizations) for every registration of the app
    /// device id `app_device_id`, on every node.
    pub async fn invalidate_app_device(&self, app_device_id: &str) -> Result<(), ServiceError> {
        let registrations = self.inner.store.devices_of_app(app_device_id).await?;
        if registrations.is_empty() {
            return Err(ServiceError::NotFound("device"));
        }
        for device in registrations {
            self.invalidate_device(&device.device_id).await;
            self.emit(EventKind::AdminDeviceInvalidated {
                actor: admin_api(),
                device_id: device.device_id,
            });
        }
        Ok(())
    }

    /// Revokes the token of every registration of the app device id `app_device_id`, drops what
    /// is cached for them on every node, and logs each out at Adobe, acting from `operator`.
    /// The tokens are revoked before Adobe is asked, so a failed logout can be sent again.
    pub async fn revoke_device(
        &self,
        app_device_id: &str,
        operator: IpAddr,
    ) -> Result<(), ServiceError> {
        let registrations = self.inner.store.devices_of_app(app_device_id).await?;
        if registrations.is_empty() {
            return Err(ServiceError::NotFound("device"));
        }
        for device in &registrations {
            self.inner.store.revoke_token(&device.device_id).await?;
            self.invalidate_device(&device.device_id).await;
            self.emit(EventKind::AdminDeviceRevoked {
                actor: admin_api(),
                device_id: device.device_id.clone(),
            });
        }
        for device in registrations {
            tracing::warn!(
                device = %device.device_id,
                "an operator revoked the device's token; it is logged out"
            );
            let session = self.session_for(device, SocketAddr::new(operator, 0))?;
            self.logout(&session).await?;
        }
        Ok(())
    }
}
