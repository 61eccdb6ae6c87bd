//! An operator starts a device's TempPass afresh, for a viewer whose trial ended too soon (a
//! support call): through Adobe's Reset TempPass API, for every TempPass this service offers,
//! for the device and, for a promotional trial, for the viewer's identifier hash too.

use std::net::{IpAddr, SocketAddr};

use base64::{engine::general_purpose::STANDARD, Engine};

use super::{devices::readiness_probe, operators::check_who_and_why, Service, ServiceError};
use crate::{
    events::{Actor, EventKind},
    store::Device,
};

/// Who resets a device's TempPass, and why.
#[derive(Clone, Debug)]
pub struct TempPassReset {
    /// Who asks.
    pub changed_by: String,
    /// Why.
    pub reason: String,
}

/// The identifier hashes a stored `AP-TempPass-Identity` holds (the values of its JSON object).
fn identity_hashes(device: &Device) -> Vec<String> {
    device
        .temp_pass_identity
        .as_deref()
        .and_then(|value| STANDARD.decode(value).ok())
        .and_then(|json| {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&json).ok()
        })
        .map(|fields| {
            fields
                .values()
                .filter_map(|value| value.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl Service {
    /// Resets at Adobe the TempPass of every registration of the app's `app_device_id` (acting
    /// from the operator's address), so the TV may start a trial afresh.
    pub async fn reset_temp_pass(
        &self,
        app_device_id: &str,
        operator: IpAddr,
        change: &TempPassReset,
    ) -> Result<(), ServiceError> {
        check_who_and_why(&change.changed_by, &change.reason)?;
        let registrations = self.inner.store.devices_of_app(app_device_id).await?;
        if registrations.is_empty() {
            return Err(ServiceError::NotFound("device"));
        }
        let own = readiness_probe(&self.inner.settings.probe_device);
        for device in registrations {
            let hashes = identity_hashes(&device);
            let device_id = device.device_id.clone();
            let session = self.session_for(device, SocketAddr::new(operator, 0))?;
            for mvpd in self.temp_pass_ids(&session).await? {
                self.inner
                    .adobe
                    .reset_temp_pass(&own, &mvpd, &device_id)
                    .await?;
                for hash in &hashes {
                    self.inner
                        .adobe
                        .reset_temp_pass_identity(&own, &mvpd, hash)
                        .await?;
                }
            }
            self.invalidate_device(&device_id).await;
            self.emit(EventKind::AdminTempPassReset {
                actor: Actor {
                    actor: change.changed_by.clone(),
                    reason: Some(change.reason.clone()),
                },
                device_id: device_id.clone(),
            });
            tracing::warn!(
                device = %device_id,
                changed_by = %change.changed_by,
                reason = %change.reason,
                "an operator reset the device's TempPass"
            );
        }
        Ok(())
    }
}
