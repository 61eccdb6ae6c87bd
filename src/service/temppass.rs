//! TempPass: a trial started from the TV, with no sign-in. Basic TempPass is time-boxed per
//! device; promotional TempPass also limits resources and is keyed on a hashed identity.

use serde::Serialize;

use super::{
    decisions::AuthorizeOutcome, profiles::ProfileSummary, DeviceSession, Service, ServiceError,
};
use crate::adobe_pass::{
    types::{Profile, ProfileType},
    AdobePassError, Remedy, TempPassIdentity,
};

/// Where the device's TempPass stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TempPassStatus {
    /// The TempPass MVPD id.
    pub provider: String,
    /// When it runs out, epoch ms; `None` until the first play starts its clock (Adobe may
    /// show no TempPass profile before that).
    pub expires_at: Option<i64>,
    /// Resources still allowed (promotional TempPass), once Adobe shows them.
    pub remaining_resources: Option<i64>,
}

/// Whether Adobe says the TempPass is over: its time or resources are used up (the code
/// decides, whatever the action; see [`Remedy::of`]).
fn is_used_up(error: &AdobePassError) -> bool {
    error.remedy() == Remedy::Authentication
}

impl TempPassStatus {
    /// The status a TempPass profile shows, and what the service keeps of it.
    fn of(provider: &str, profile: &Profile) -> (Self, ProfileSummary) {
        let number = |name: &str| profile.attributes.get(name).and_then(|a| a.value.as_i64());
        let expires_at = number("expiration_date").unwrap_or(profile.not_after);
        let status = Self {
            provider: provider.to_owned(),
            expires_at: Some(expires_at),
            remaining_resources: number("remaining_resources"),
        };
        let summary = ProfileSummary {
            provider: provider.to_owned(),
            kind: profile.kind.to_string(),
            expires_at: expires_at.min(profile.not_after),
            max_rating: None,
            home_based: None,
        };
        (status, summary)
    }
}

/// The profile a play runs under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PlayProfile {
    /// The device's profile, or its TempPass not started yet (no end known: `i64::MAX`).
    pub summary: ProfileSummary,
    /// Whether it is a TempPass Adobe shows no profile for yet.
    pub unstarted: bool,
}

impl Service {
    /// Starts (or continues) TempPass for the device with the TempPass MVPD `mvpd` (the first
    /// one Adobe lists when `None`); promotional TempPass needs the viewer's `email`, sent only
    /// as a hash and kept as one, so every later call about this TempPass (P2, P3, D1, D2)
    /// carries the same `AP-TempPass-Identity`. TempPass needs no authentication: plays go to
    /// D2 directly, and Adobe starts the clock at the first authorization (§14.3), so before
    /// the first play Adobe may show no profile and the status has no end yet.
    pub async fn temppass(
        &self,
        session: &DeviceSession,
        mvpd: Option<&str>,
        email: Option<&str>,
    ) -> Result<TempPassStatus, ServiceError> {
        let temp_passes = self.temp_pass_ids(session).await?;
        let chosen = match mvpd {
            Some(id) => temp_passes.iter().find(|m| *m == id).ok_or_else(|| {
                ServiceError::invalid("mvpd", format!("{id:?} is not a TempPass of this service"))
            })?,
            None => temp_passes
                .first()
                .ok_or_else(|| ServiceError::invalid("mvpd", "this service offers no TempPass"))?,
        };
        let continuing = session.device.last_provider.as_deref() == Some(chosen.as_str());
        let stored = session.device.temp_pass_identity.as_deref();
        let hashed = match email {
            Some(email) if !email.contains('@') || email.len() > 254 => {
                return Err(ServiceError::invalid("email", "is not an email address"))
            }
            Some(email) => Some(TempPassIdentity::hashed([("email", email)])),
            None if continuing => stored.map(TempPassIdentity::from_value).transpose()?,
            None => None,
        };
        // Adobe counts a promotional TempPass per device or per identity: one device gets one
        // trial, so another email on a device that has an identity starts nothing.
        if let (Some(stored), Some(hashed)) = (stored, &hashed) {
            if stored != hashed.value() {
                return Err(ServiceError::invalid(
                    "email",
                    "this TV's TempPass was started with another email address",
                ));
            }
        }
        // A registration's first TempPass start counts against its address; continuing does not.
        if !continuing {
            self.inner
                .settings
                .limits
                .admit_temppass(session.identity.connection().ip())
                .await?;
        }
        self.starting_sign_in(&session.device).await?;
        let mut identity = session.identity.clone();
        if let Some(hashed) = &hashed {
            identity = identity.with_temp_pass_identity(hashed.clone());
        }
        // A used-up TempPass fails here as a sign-in to do, a broken one as a setup to fix
        // (the code decides, see `Remedy::of`).
        let profiles = self.inner.adobe.mvpd_profile(&identity, chosen).await?;
        let running = profiles
            .profiles
            .get(chosen)
            .map(|profile| TempPassStatus::of(chosen, profile));
        self.inner
            .store
            .remember_provider(
                &session.device.device_id,
                chosen,
                hashed.as_ref().map(TempPassIdentity::value),
            )
            .await?;
        self.invalidate_device(&session.device.device_id).await;
        if let Some((_, summary)) = &running {
            self.inner.profiles.put(
                &session.device.device_id,
                summary.clone(),
                self.now_millis(),
            );
        }
        if !continuing {
            self.temppass_started(session, chosen);
        }
        Ok(running.map_or_else(
            || TempPassStatus {
                provider: chosen.clone(),
                expires_at: None,
                remaining_resources: None,
            },
            |(status, _)| status,
        ))
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

    /// Whether `mvpd` is one of the service's TempPass MVPDs.
    pub(super) async fn is_temp_pass(
        &self,
        session: &DeviceSession,
        mvpd: &str,
    ) -> Result<bool, ServiceError> {
        Ok(self
            .temp_pass_ids(session)
            .await?
            .iter()
            .any(|id| id == mvpd))
    }

    /// The service's TempPass MVPD ids in Adobe's order, from the last configuration answer
    /// for the device's platform however old (TempPass integrations rarely change, and
    /// offering TempPass needs no configuration call); asked only when there is none yet.
    pub(super) async fn temp_pass_ids(
        &self,
        session: &DeviceSession,
    ) -> Result<Vec<String>, ServiceError> {
        if let Some(ids) = self.inner.providers.last_temp_passes(&session.info) {
            return Ok(ids);
        }
        Ok(super::providers::temp_pass_ids(&self.mvpds(session).await?))
    }

    /// The profile a play runs under: the device's, or else its TempPass when Adobe shows no
    /// profile for it yet (the first authorization starts it, so the first play goes to D2
    /// without one; a used-up TempPass is then denied by D2 with its reason).
    pub(super) async fn play_profile(
        &self,
        session: &DeviceSession,
    ) -> Result<PlayProfile, ServiceError> {
        if let Some(summary) = self.profile(session).await? {
            return Ok(PlayProfile {
                summary,
                unstarted: false,
            });
        }
        let last = session
            .device
            .last_provider
            .as_deref()
            .ok_or(ServiceError::NotAuthenticated)?;
        if !self.is_temp_pass(session, last).await? {
            return Err(ServiceError::NotAuthenticated);
        }
        Ok(PlayProfile {
            summary: ProfileSummary {
                provider: last.to_owned(),
                kind: ProfileType::Temporary.to_string(),
                expires_at: i64::MAX,
                max_rating: None,
                home_based: None,
            },
            unstarted: true,
        })
    }

    /// A permitted TempPass play with the TempPass's end, for the TV to stop the stream then
    /// (Adobe does not stop it): the profile's end when known; after the play that started the
    /// TempPass, P2's answer (kept as the device's profile), else the media token's `notAfter`.
    pub(super) async fn with_temp_pass_end(
        &self,
        session: &DeviceSession,
        play: &PlayProfile,
        mut outcome: Result<AuthorizeOutcome, ServiceError>,
    ) -> Result<AuthorizeOutcome, ServiceError> {
        let Ok(AuthorizeOutcome::Permit {
            expires_at,
            temp_pass_ends_at,
            ..
        }) = &mut outcome
        else {
            return outcome;
        };
        *temp_pass_ends_at = if !play.summary.is_temporary() {
            None
        } else if !play.unstarted {
            Some(play.summary.expires_at)
        } else {
            let started = match self
                .temp_pass_profile(session, &play.summary.provider)
                .await
            {
                Ok(started) => started,
                Err(error) => {
                    tracing::warn!(%error, "no TempPass profile after its first play");
                    None
                }
            };
            Some(match started {
                Some(summary) => {
                    let ends_at = summary.expires_at;
                    self.inner
                        .profiles
                        .put(&session.device.device_id, summary, self.now_millis());
                    ends_at
                }
                None => *expires_at,
            })
        };
        outcome
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
