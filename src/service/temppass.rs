//! TempPass: a trial started from the TV, with no sign-in. Basic TempPass is time-boxed per
//! device; promotional TempPass also limits resources and is keyed on a hashed identity.

use serde::Serialize;

use super::{profiles::ProfileSummary, DeviceSession, Service, ServiceError};
use crate::adobe_pass::{
    types::{ErrorCode, Profile},
    AdobePassError, Remedy, TempPassIdentity,
};

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

/// Whether Adobe says the TempPass is over: its time or resources are used up. Decided by the
/// code, since the documented samples disagree on the action (`none` in the promotional P2
/// samples, `authentication` in §11); any other `authentication` remedy counts too.
fn is_used_up(error: &AdobePassError) -> bool {
    error.remedy() == Remedy::Authentication
        || error.enhanced().is_some_and(|e| {
            matches!(
                e.code,
                ErrorCode::TemporaryAccessDurationLimitExceeded
                    | ErrorCode::TemporaryAccessResourcesLimitExceeded
            )
        })
}

impl TempPassStatus {
    /// The status a TempPass profile shows, and what the service keeps of it.
    fn of(provider: &str, profile: &Profile) -> (Self, ProfileSummary) {
        let number = |name: &str| profile.attributes.get(name).and_then(|a| a.value.as_i64());
        let status = Self {
            provider: provider.to_owned(),
            expires_at: number("expiration_date").unwrap_or(profile.not_after),
            remaining_resources: number("remaining_resources"),
        };
        let summary = ProfileSummary {
            provider: provider.to_owned(),
            kind: profile.kind.to_string(),
            expires_at: status.expires_at.min(profile.not_after),
            max_rating: None,
        };
        (status, summary)
    }
}

impl Service {
    /// Starts (or continues) TempPass for the device with the TempPass MVPD `mvpd` (the first
    /// one Adobe lists when `None`); promotional TempPass needs the viewer's `email`, sent only
    /// as a hash and kept as one, so every later call about this TempPass (P2, P3, D1, D2)
    /// carries the same `AP-TempPass-Identity`. TempPass needs no authentication: plays go to
    /// D2 directly, and Adobe starts the clock at the first authorization (§14.3).
    pub async fn temppass(
        &self,
        session: &DeviceSession,
        mvpd: Option<&str>,
        email: Option<&str>,
    ) -> Result<TempPassStatus, ServiceError> {
        let mvpds = self.mvpds(session).await?;
        let mut temp_passes = mvpds.iter().filter(|m| m.is_temp_pass == Some(true));
        let chosen = match mvpd {
            Some(id) => temp_passes.find(|m| m.id == id).ok_or_else(|| {
                ServiceError::invalid("mvpd", format!("{id:?} is not a TempPass of this service"))
            })?,
            None => temp_passes
                .next()
                .ok_or_else(|| ServiceError::invalid("mvpd", "this service offers no TempPass"))?,
        };
        let continuing = session.device.last_provider.as_deref() == Some(chosen.id.as_str());
        // A registration's first TempPass start counts against its address; continuing does not.
        if !continuing {
            self.inner
                .settings
                .limits
                .admit_temppass(session.identity.connection().ip())
                .await?;
        }
        let hashed = match email {
            Some(email) if !email.contains('@') || email.len() > 254 => {
                return Err(ServiceError::invalid("email", "is not an email address"))
            }
            Some(email) => Some(TempPassIdentity::hashed([("email", email)])),
            None if continuing => session
                .device
                .temp_pass_identity
                .as_deref()
                .map(TempPassIdentity::from_value)
                .transpose()?,
            None => None,
        };
        let mut identity = session.identity.clone();
        if let Some(hashed) = &hashed {
            identity = identity.with_temp_pass_identity(hashed.clone());
        }
        let profiles = self.inner.adobe.mvpd_profile(&identity, &chosen.id).await?;
        let profile = profiles
            .profiles
            .get(&chosen.id)
            .ok_or(ServiceError::NotFound("TempPass profile"))?;
        let (status, summary) = TempPassStatus::of(&chosen.id, profile);
        self.inner
            .store
            .remember_provider(
                &session.device.device_id,
                &chosen.id,
                hashed.as_ref().map(TempPassIdentity::value),
            )
            .await?;
        self.invalidate_device(&session.device.device_id).await;
        self.inner
            .profiles
            .put(&session.device.device_id, summary, self.now_millis());
        if !continuing {
            self.inner.funnel.temppass_started(&session.info.os_name);
        }
        Ok(status)
    }

    /// The device's running TempPass with the TempPass MVPD `mvpd` (P2, with the device's
    /// TempPass identity); `None` once it is used up or when Adobe shows none.
    pub(super) async fn temp_pass_profile(
        &self,
        session: &DeviceSession,
        mvpd: &str,
    ) -> Result<Option<ProfileSummary>, ServiceError> {
        match self.inner.adobe.mvpd_profile(&session.identity, mvpd).await {
            Ok(profiles) => Ok(profiles
                .profiles
                .get(mvpd)
                .map(|profile| TempPassStatus::of(mvpd, profile).1)),
            Err(error) if is_used_up(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Whether `mvpd` is one of the service's TempPass MVPDs (from Adobe's configuration).
    pub(super) async fn is_temp_pass(
        &self,
        session: &DeviceSession,
        mvpd: &str,
    ) -> Result<bool, ServiceError> {
        Ok(self
            .mvpds(session)
            .await?
            .iter()
            .any(|m| m.id == mvpd && m.is_temp_pass == Some(true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adobe_pass::{types::EnhancedError, Endpoint};

    fn answered(body: &str) -> AdobePassError {
        let error: EnhancedError = serde_json::from_str(body).expect("enhanced error");
        AdobePassError::Adobe {
            endpoint: Endpoint::MvpdProfile,
            http_status: 403,
            error: Box::new(error),
        }
    }

    /// §8.3: the promotional P2 samples say action `none` where §11 says `authentication`;
    /// either way the TempPass is over.
    #[test]
    fn a_used_up_temppass_is_recognised_whatever_the_action() {
        for action in ["none", "authentication"] {
            let error = answered(&format!(
                r#"{{"status": 403, "code": "temporary_access_duration_limit_exceeded", "action": "{action}"}}"#
            ));
            assert!(is_used_up(&error), "{action}");
        }
        let other =
            answered(r#"{"status": 400, "code": "invalid_parameter_mvpd", "action": "none"}"#);
        assert!(!is_used_up(&other));
    }
}
