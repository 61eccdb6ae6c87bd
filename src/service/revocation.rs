//! Revocation: an operator takes a device's token away (it was stolen, say), so every holder of
//! it must register afresh, and signs its viewer out at Adobe.

use std::net::{IpAddr, SocketAddr};

use super::{Service, ServiceError};

impl Service {
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
