//! The device's authenticated profile, cached until its `notAfter` (never past it).

use super::{expiring::ExpiringCache, DeviceSession, Service, ServiceError};
use crate::adobe_pass::types::{AttributeState, Profile, ProfileType, Profiles};

/// What the service keeps of a profile: enough to decide and to tell the TV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileSummary {
    /// The MVPD (or TempPass) id.
    pub provider: String,
    /// Adobe's profile type: `regular`, `temporary`, `degraded`, or an SSO type.
    pub kind: String,
    /// The profile's `notAfter`, epoch ms.
    pub expires_at: i64,
    /// Ratings the viewer may watch, from the `maxRating` attribute (a list of allowed ratings,
    /// or one highest rating), when the MVPD sends it.
    pub max_rating: Option<Vec<String>>,
}

impl ProfileSummary {
    fn from_profile(provider: &str, profile: &Profile) -> Self {
        let max_rating = profile
            .attributes
            .get("maxRating")
            .and_then(|attribute| match &attribute.value {
                serde_json::Value::String(one) => Some(vec![one.clone()]),
                serde_json::Value::Array(many) => Some(
                    many.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            });
        Self {
            provider: provider.to_owned(),
            kind: profile.kind.to_string(),
            expires_at: profile.not_after,
            max_rating,
        }
    }

    /// Whether this is a TempPass profile.
    pub fn is_temporary(&self) -> bool {
        self.kind == ProfileType::Temporary.to_string()
    }
}

/// Profiles kept at most, one per device; past it the least used go first.
const MOST_PROFILES: u64 = 200_000;

/// Profiles by device id, each kept until its own `notAfter`; and the devices whose viewer must
/// sign in again (Adobe answered a decision with action `authentication` while the profile
/// still exists), with the provider whose profile is stale, until that profile's `notAfter`.
#[derive(Debug)]
pub(super) struct ProfileCache {
    entries: ExpiringCache<ProfileSummary>,
    stale: ExpiringCache<String>,
}

impl Default for ProfileCache {
    fn default() -> Self {
        Self {
            entries: ExpiringCache::new(MOST_PROFILES),
            stale: ExpiringCache::new(MOST_PROFILES),
        }
    }
}

impl ProfileCache {
    fn get(&self, device_id: &str, now: i64) -> Option<ProfileSummary> {
        self.entries.get(device_id, now)
    }

    /// Keeps `summary` for the device until its `notAfter`.
    pub(super) fn put(&self, device_id: &str, summary: ProfileSummary, now: i64) {
        let until = summary.expires_at;
        self.entries.put(device_id, summary, until, now);
    }

    pub(super) fn forget(&self, device_id: &str) {
        self.entries.forget(device_id);
    }

    /// Notes that the viewer must sign in again: `profile` is refused by Adobe.
    pub(super) fn mark_stale(&self, device_id: &str, profile: &ProfileSummary, now: i64) {
        self.entries.forget(device_id);
        self.stale
            .put(device_id, profile.provider.clone(), profile.expires_at, now);
    }

    /// The provider whose profile Adobe refused, while the viewer has not signed in again.
    pub(super) fn stale_provider(&self, device_id: &str, now: i64) -> Option<String> {
        self.stale.get(device_id, now)
    }

    /// The viewer signed in again, or Adobe accepted the profile after all.
    pub(super) fn clear_stale(&self, device_id: &str) {
        self.stale.forget(device_id);
    }
}

/// The profile to act on: the last provider's, else a real provider's over TempPass, else the
/// one valid longest.
fn choose(profiles: &Profiles, last_provider: Option<&str>, now: i64) -> Option<ProfileSummary> {
    let valid = || {
        profiles
            .profiles
            .iter()
            .filter(move |(_, profile)| profile.not_after > now)
    };
    if let Some((id, profile)) =
        last_provider.and_then(|last| valid().find(|(id, _)| id.as_str() == last))
    {
        return Some(ProfileSummary::from_profile(id, profile));
    }
    valid()
        .max_by_key(|(_, profile)| (profile.kind != ProfileType::Temporary, profile.not_after))
        .map(|(id, profile)| ProfileSummary::from_profile(id, profile))
}

impl Service {
    /// The device's authenticated profile, if it has one (from cache until its `notAfter`).
    pub async fn profile(
        &self,
        session: &DeviceSession,
    ) -> Result<Option<ProfileSummary>, ServiceError> {
        let now = self.now_millis();
        let device_id = &session.device.device_id;
        if let Some(cached) = self.inner.profiles.get(device_id, now) {
            return Ok(Some(cached));
        }
        let profiles = self.readable(self.inner.adobe.profiles(&session.identity).await?);
        let last = session.device.last_provider.as_deref();
        let mut chosen = choose(&profiles, last, now);
        // P1 lists neither TempPass nor degraded profiles (§8.1, §8.2): the provider the device
        // last chose is asked for on its own (P2, §8.3) when P1 lacks it.
        if let Some(last) = last.filter(|last| !profiles.profiles.contains_key(*last)) {
            if let Some(own) = self.provider_profile(session, last, now).await? {
                chosen = Some(own);
            }
        }
        match &chosen {
            Some(summary) => self.inner.profiles.put(device_id, summary.clone(), now),
            None => self.inner.profiles.forget(device_id),
        }
        Ok(chosen)
    }

    /// The device's profile for `provider` alone (P2): its TempPass, or its degraded or regular
    /// profile. An MVPD Adobe no longer takes (a 4xx) counts as no profile.
    async fn provider_profile(
        &self,
        session: &DeviceSession,
        provider: &str,
        now: i64,
    ) -> Result<Option<ProfileSummary>, ServiceError> {
        if self.is_temp_pass(session, provider).await? {
            return self.temp_pass_profile(session, provider).await;
        }
        let profiles = match self
            .inner
            .adobe
            .mvpd_profile(&session.identity, provider)
            .await
        {
            Ok(profiles) => self.readable(profiles),
            Err(error)
                if error
                    .http_status()
                    .is_some_and(|s| (400..500).contains(&s) && s != 429) =>
            {
                tracing::debug!(%provider, %error, "no profile for the last provider");
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        Ok(profiles
            .profiles
            .get(provider)
            .filter(|profile| profile.not_after > now)
            .map(|profile| ProfileSummary::from_profile(provider, profile)))
    }

    /// The profiles with every encrypted attribute decrypted (§14.4) before any rule reads
    /// it; one that cannot be decrypted is left out, as unknown, and logged without its value.
    fn readable(&self, mut profiles: Profiles) -> Profiles {
        let keys = self.inner.settings.metadata_keys.as_deref();
        for (mvpd, profile) in &mut profiles.profiles {
            let mut unreadable = Vec::new();
            for (name, attribute) in &mut profile.attributes {
                if attribute.state != AttributeState::Enc {
                    continue;
                }
                match keys.map(|keys| keys.decrypt_attribute(name, attribute)) {
                    Some(Ok(plain)) => *attribute = plain,
                    Some(Err(error)) => {
                        tracing::warn!(%mvpd, attribute = %name, %error, "encrypted user metadata left out");
                        unreadable.push(name.clone());
                    }
                    None => {
                        tracing::debug!(%mvpd, attribute = %name, "encrypted user metadata and no --metadata-key-file");
                        unreadable.push(name.clone());
                    }
                }
            }
            for name in unreadable {
                profile.attributes.remove(&name);
            }
        }
        profiles
    }

    /// The device's profile, or [`ServiceError::NotAuthenticated`].
    pub(super) async fn require_profile(
        &self,
        session: &DeviceSession,
    ) -> Result<ProfileSummary, ServiceError> {
        self.profile(session)
            .await?
            .ok_or(ServiceError::NotAuthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(json: serde_json::Value) -> Profiles {
        serde_json::from_value(json).expect("profiles")
    }

    fn profile(kind: &str, not_after: i64) -> serde_json::Value {
        serde_json::json!({
            "notBefore": 0, "notAfter": not_after, "issuer": "x", "type": kind,
            "attributes": {"userID": {"value": "u", "state": "plain"},
                           "maxRating": {"value": ["TV-Y", "TV-G"], "state": "plain"}}
        })
    }

    #[test]
    fn a_cached_profile_is_not_used_past_its_not_after() {
        let cache = ProfileCache::default();
        let summary = ProfileSummary {
            provider: "Spectrum".to_owned(),
            kind: "regular".to_owned(),
            expires_at: 10_000,
            max_rating: None,
        };
        cache.put("tv", summary, 5_000);
        assert!(cache.get("tv", 9_999).is_some());
        assert!(cache.get("tv", 10_000).is_none());
        cache.forget("tv");
        assert!(cache.get("tv", 5_000).is_none());
    }

    #[test]
    fn last_provider_wins_then_real_providers_over_temppass() {
        let all = profiles(serde_json::json!({"profiles": {
            "Cablevision": profile("regular", 5_000),
            "Spectrum": profile("regular", 9_000),
            "TempPass_TEST40": profile("temporary", 20_000),
        }}));
        assert_eq!(
            choose(&all, Some("Cablevision"), 1_000)
                .expect("some")
                .provider,
            "Cablevision"
        );
        let chosen = choose(&all, None, 1_000).expect("some");
        assert_eq!(chosen.provider, "Spectrum");
        assert_eq!(
            chosen.max_rating,
            Some(vec!["TV-Y".to_owned(), "TV-G".to_owned()])
        );
        assert_eq!(
            choose(&all, Some("Cablevision"), 6_000)
                .expect("some")
                .provider,
            "Spectrum",
            "an expired profile is never chosen"
        );
        assert_eq!(choose(&all, None, 30_000), None);
    }
}
