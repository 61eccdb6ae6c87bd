//! TempPass: a trial started from the TV, with no sign-in. Basic TempPass is time-boxed per
//! device; promotional TempPass also limits resources and is keyed on a hashed identity.

use serde::Serialize;

use super::{profiles::ProfileSummary, DeviceSession, Service, ServiceError};
use crate::adobe_pass::TempPassIdentity;

/// Where the device's TempPass stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TempPassStatus {
    /// The TempPass MVPD id.
    pub provider: String,
    /// When it runs out, epoch ms.
    pub expires_at: i64,
    /// Resources still allowed (promotional TempPass).
    pub remaining_resources: Option<i64>,
}

impl Service {
    /// Starts (or continues) TempPass for the device with the TempPass MVPD `mvpd` (the first
    /// one Adobe lists when `None`); promotional TempPass needs the viewer's `email`, sent only
    /// as a hash.
    pub async fn temppass(
        &self,
        session: &DeviceSession,
        mvpd: Option<&str>,
        email: Option<&str>,
    ) -> Result<TempPassStatus, ServiceError> {
        let mvpds = self.mvpds(&session.identity, &session.info.os_name).await?;
        let mut temp_passes = mvpds.iter().filter(|m| m.is_temp_pass == Some(true));
        let chosen = match mvpd {
            Some(id) => temp_passes.find(|m| m.id == id).ok_or_else(|| {
                ServiceError::invalid("mvpd", format!("{id:?} is not a TempPass of this service"))
            })?,
            None => temp_passes
                .next()
                .ok_or_else(|| ServiceError::invalid("mvpd", "this service offers no TempPass"))?,
        };
        // A registration's first TempPass start counts against its address; continuing does not.
        if session.device.last_provider.as_deref() != Some(chosen.id.as_str()) {
            self.inner
                .settings
                .limits
                .admit_temppass(session.identity.connection().ip())
                .await?;
        }
        let mut identity = session.identity.clone();
        if let Some(email) = email {
            if !email.contains('@') || email.len() > 254 {
                return Err(ServiceError::invalid("email", "is not an email address"));
            }
            identity =
                identity.with_temp_pass_identity(TempPassIdentity::hashed([("email", email)]));
        }
        let profiles = self.inner.adobe.mvpd_profile(&identity, &chosen.id).await?;
        let profile = profiles
            .profiles
            .get(&chosen.id)
            .ok_or(ServiceError::NotFound("TempPass profile"))?;
        let number = |name: &str| profile.attributes.get(name).and_then(|a| a.value.as_i64());
        let status = TempPassStatus {
            provider: chosen.id.clone(),
            expires_at: number("expiration_date").unwrap_or(profile.not_after),
            remaining_resources: number("remaining_resources"),
        };
        self.inner
            .store
            .remember_provider(&session.device.device_id, &chosen.id)
            .await?;
        let summary = ProfileSummary {
            provider: chosen.id.clone(),
            kind: profile.kind.to_string(),
            expires_at: status.expires_at.min(profile.not_after),
            max_rating: None,
        };
        self.inner.profiles.put(&session.device.device_id, summary);
        Ok(status)
    }
}
