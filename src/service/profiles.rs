//! The device's authenticated profile, cached until its `notAfter` (never past it, and at most
//! a few minutes when parental controls may apply to it), and "not signed in" cached a few
//! seconds.

use super::{
    expiring::ExpiringCache, resource::Resource, rules::RuleDenial, DeviceSession, Service,
    ServiceError,
};
use crate::adobe_pass::{
    types::{Attribute, AttributeState, Profile, ProfileType, Profiles},
    AdobePassError, Remedy,
};

/// The viewer's parental limit, from the profile's `maxRating` attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaxRating {
    /// The highest ratings the viewer may watch: `VCHIP` for TV ratings, `MPAA` for film
    /// ratings (Adobe's documented object `{ "MPAA": …, "VCHIP": …, "URL": … }`). A legacy
    /// single string is both.
    Highest {
        /// The highest US TV (V-chip) rating, such as `TV-PG`.
        vchip: Option<String>,
        /// The highest MPAA film rating, such as `PG-13`.
        mpaa: Option<String>,
    },
    /// Legacy: the ratings the viewer may watch, as a list.
    Allowed(Vec<String>),
    /// Sent, but in no shape the service reads (or encrypted with no key that fits): every
    /// rated resource is denied.
    Unreadable,
}

impl MaxRating {
    /// Reads a `maxRating` attribute: the documented object, a legacy string or list of
    /// strings; anything else, or one still encrypted, is [`MaxRating::Unreadable`].
    fn of(attribute: &Attribute) -> Self {
        if attribute.state != AttributeState::Plain {
            return Self::Unreadable;
        }
        let text = |value: Option<&serde_json::Value>| {
            value
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        match &attribute.value {
            serde_json::Value::Object(object) => {
                let field = |name: &str| {
                    text(
                        object
                            .iter()
                            .find(|(key, _)| key.eq_ignore_ascii_case(name))
                            .map(|(_, value)| value),
                    )
                };
                match (field("VCHIP"), field("MPAA")) {
                    (None, None) => Self::Unreadable,
                    (vchip, mpaa) => Self::Highest { vchip, mpaa },
                }
            }
            serde_json::Value::String(_) => match text(Some(&attribute.value)) {
                Some(one) => Self::Highest {
                    vchip: Some(one.clone()),
                    mpaa: Some(one),
                },
                None => Self::Unreadable,
            },
            serde_json::Value::Array(many) => {
                let allowed: Option<Vec<String>> = many.iter().map(|v| text(Some(v))).collect();
                allowed.map_or(Self::Unreadable, Self::Allowed)
            }
            _ => Self::Unreadable,
        }
    }
}

/// What the service keeps of a profile: enough to decide and to tell the TV.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileSummary {
    /// The MVPD (or TempPass) id.
    pub provider: String,
    /// Adobe's profile type: `regular`, `temporary`, `degraded`, or an SSO type.
    pub kind: String,
    /// The profile's `notAfter`, epoch ms.
    pub expires_at: i64,
    /// The parental limit from the `maxRating` attribute, when the MVPD sends one.
    pub max_rating: Option<MaxRating>,
    /// Adobe's `hba_status` attribute, when the MVPD sends it: whether the viewer was signed
    /// in by their home network (home-based authentication) rather than with credentials.
    pub home_based: Option<bool>,
}

impl ProfileSummary {
    fn from_profile(provider: &str, profile: &Profile) -> Self {
        let max_rating = profile.attributes.get("maxRating").map(MaxRating::of);
        if max_rating == Some(MaxRating::Unreadable) {
            tracing::warn!(
                mvpd = %provider,
                "maxRating in a shape the service cannot read: rated resources are denied"
            );
        }
        Self {
            provider: provider.to_owned(),
            kind: profile.kind.to_string(),
            expires_at: profile.not_after,
            max_rating,
            home_based: profile.attributes.get("hba_status").and_then(hba_status),
        }
    }

    /// Whether this is a TempPass profile.
    pub fn is_temporary(&self) -> bool {
        self.kind == ProfileType::Temporary.to_string()
    }
}

impl Service {
    /// After a permit for an MVPD that may update user metadata at authorization
    /// (`--metadata-at-authorization`; Adobe's "Profiles Caching"): the profile read again
    /// (P2) and cached, and the business rules checked against it; their denial, if they now
    /// deny. A profile that cannot be read again leaves the cached one (logged).
    pub(super) async fn recheck_after_permit(
        &self,
        session: &DeviceSession,
        profile: &ProfileSummary,
        resource: &Resource,
    ) -> Option<RuleDenial> {
        let rules = &self.inner.settings.rules;
        if profile.is_temporary() || !rules.updates_metadata_at_authorization(&profile.provider) {
            return None;
        }
        let mvpd = profile.provider.as_str();
        let profiles = match self.inner.adobe.mvpd_profile(&session.identity, mvpd).await {
            Ok(profiles) => self.readable(profiles),
            Err(error) => {
                tracing::warn!(%mvpd, %error, "user metadata not read again after a permit");
                return None;
            }
        };
        let now = self.now_millis();
        let fresh = live_profile(&profiles, mvpd, now)?;
        self.inner
            .profiles
            .put(&session.device.device_id, fresh.clone(), now);
        rules.check(&fresh, resource)
    }
}

/// Profiles kept at most, one per device; past it the least used go first.
const MOST_PROFILES: u64 = 200_000;

/// How long "not signed in" is kept for a device, so a TV polling its profile costs one P1
/// per this; a sign-in, an activation or any invalidation of the device drops it at once.
const NOT_SIGNED_IN_MS: i64 = 5_000;

/// How long a profile the rating rule reads is kept before Adobe is asked again, so that a
/// parental-control change at the MVPD (a new `maxRating`) takes effect within this time.
pub(super) const RATED_PROFILE_REFRESH_MS: i64 = 5 * 60_000;

/// Profiles by device id, each kept until its own `notAfter` (`None` is a recent "not signed
/// in"), or [`RATED_PROFILE_REFRESH_MS`] when the rating rule reads it; and the devices whose viewer must sign in again (Adobe answered a decision with action
/// `authentication` while the profile still exists), with the provider whose profile is stale,
/// until that profile's `notAfter`.
#[derive(Debug)]
pub(super) struct ProfileCache {
    /// Whether the programmer rates resources (`--resource-ratings`): then every profile is
    /// read by the rating rule, one without a limit as much as one with.
    rates_resources: bool,
    entries: ExpiringCache<Option<ProfileSummary>>,
    stale: ExpiringCache<String>,
    /// When each device's entry was last dropped, kept [`NOT_SIGNED_IN_MS`]: a P1 that began
    /// before a drop (a sign-in completing meanwhile) must not store "not signed in" after it.
    forgotten: ExpiringCache<i64>,
}

impl ProfileCache {
    /// An empty cache; `rates_resources` when the programmer rates resources.
    pub(super) fn new(rates_resources: bool) -> Self {
        Self {
            rates_resources,
            entries: ExpiringCache::new(MOST_PROFILES),
            stale: ExpiringCache::new(MOST_PROFILES),
            forgotten: ExpiringCache::new(MOST_PROFILES),
        }
    }
}

impl ProfileCache {
    /// What is known of the device: `Some(None)` when it was lately not signed in.
    fn get(&self, device_id: &str, now: i64) -> Option<Option<ProfileSummary>> {
        self.entries.get(device_id, now)
    }

    /// Keeps `summary` for the device until its `notAfter`, or for
    /// [`RATED_PROFILE_REFRESH_MS`] when the rating rule reads it (it carries a limit, or the
    /// programmer rates resources).
    pub(super) fn put(&self, device_id: &str, summary: ProfileSummary, now: i64) {
        let until = if self.rates_resources || summary.max_rating.is_some() {
            summary
                .expires_at
                .min(now.saturating_add(RATED_PROFILE_REFRESH_MS))
        } else {
            summary.expires_at
        };
        self.entries.put(device_id, Some(summary), until, now);
    }

    /// Keeps what a lookup that began at `asked` found: a profile until its `notAfter`, "not
    /// signed in" for [`NOT_SIGNED_IN_MS`]; nothing if the device's entry was dropped since
    /// `asked` (a sign-in or logout completed meanwhile, and the answer may predate it).
    fn settle(&self, device_id: &str, found: &Option<ProfileSummary>, asked: i64, now: i64) {
        if self
            .forgotten
            .get(device_id, now)
            .is_some_and(|dropped| dropped > asked)
        {
            return;
        }
        match found {
            Some(summary) => self.put(device_id, summary.clone(), now),
            None => self
                .entries
                .put(device_id, None, now.saturating_add(NOT_SIGNED_IN_MS), now),
        }
    }

    /// Drops what is known of the device (a sign-in, an activation, an invalidation).
    pub(super) fn forget(&self, device_id: &str, now: i64) {
        self.entries.forget(device_id);
        self.forgotten
            .put(device_id, now, now.saturating_add(NOT_SIGNED_IN_MS), now);
    }

    /// Notes that the viewer must sign in again: `provider`'s profile, valid until
    /// `expires_at`, is refused by Adobe.
    pub(super) fn mark_stale(&self, device_id: &str, provider: &str, expires_at: i64, now: i64) {
        self.entries.forget(device_id);
        self.stale
            .put(device_id, provider.to_owned(), expires_at, now);
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

/// `mvpd`'s profile in a P2 answer, if it is still valid at `now`.
fn live_profile(profiles: &Profiles, mvpd: &str, now: i64) -> Option<ProfileSummary> {
    profiles
        .profiles
        .get(mvpd)
        .filter(|profile| profile.not_after > now)
        .map(|profile| ProfileSummary::from_profile(mvpd, profile))
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
    /// What is known of the device's profile without asking Adobe: `None` when it must be
    /// asked, `Some(None)` when the device is known to have no profile.
    pub fn cached_profile(&self, session: &DeviceSession) -> Option<Option<ProfileSummary>> {
        self.inner
            .profiles
            .get(&session.device.device_id, self.now_millis())
    }

    /// The device's authenticated profile, if it has one (from cache until its `notAfter`).
    pub async fn profile(
        &self,
        session: &DeviceSession,
    ) -> Result<Option<ProfileSummary>, ServiceError> {
        if let Some(cached) = self.cached_profile(session) {
            return Ok(cached);
        }
        let now = self.now_millis();
        let device_id = &session.device.device_id;
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
        self.inner
            .profiles
            .settle(device_id, &chosen, now, self.now_millis());
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
            Err(error) if means_no_profile(&error) => {
                tracing::debug!(%provider, %error, "no profile for the last provider");
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        Ok(live_profile(&profiles, provider, now))
    }

    /// The profiles with every encrypted attribute decrypted (§14.4) before any rule reads
    /// it; one that cannot be decrypted stays `enc`, unreadable to every rule (a `maxRating`
    /// so left denies rated resources), and is logged without its value.
    fn readable(&self, mut profiles: Profiles) -> Profiles {
        let keys = self.inner.settings.metadata_keys.as_deref();
        for (mvpd, profile) in &mut profiles.profiles {
            for (name, attribute) in &mut profile.attributes {
                if attribute.state != AttributeState::Enc {
                    continue;
                }
                match keys.map(|keys| keys.decrypt_attribute(name, attribute)) {
                    Some(Ok(plain)) => *attribute = plain,
                    Some(Err(error)) => {
                        tracing::warn!(%mvpd, attribute = %name, %error, "encrypted user metadata unreadable");
                    }
                    None => {
                        tracing::debug!(%mvpd, attribute = %name, "encrypted user metadata and no --metadata-key-file");
                    }
                }
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

/// Adobe's `hba_status` (user metadata): a boolean, or `"true"`/`"false"` as some MVPDs send it;
/// anything else (or an attribute left encrypted) is unknown.
fn hba_status(attribute: &Attribute) -> Option<bool> {
    match &attribute.value {
        serde_json::Value::Bool(value) if attribute.state != AttributeState::Enc => Some(*value),
        serde_json::Value::String(text) if attribute.state != AttributeState::Enc => {
            text.trim().parse().ok()
        }
        _ => None,
    }
}

/// Whether Adobe's answer to P2 means "no profile for this provider": the viewer must sign in
/// again (action `authentication`: the profile is missing, expired or invalidated), or the
/// provider is no longer in the configuration. Any other refusal (a broken configuration, a
/// device Adobe does not allow, a bad request) is an error, never a silent sign-out.
fn means_no_profile(error: &AdobePassError) -> bool {
    error
        .enhanced()
        .is_some_and(|enhanced| enhanced.code.as_str() == "invalid_parameter_mvpd")
        || (error.remedy() == Remedy::Authentication && error.http_status() != Some(429))
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

    fn adobe_answer(http_status: u16, code: &str, action: &str) -> AdobePassError {
        AdobePassError::Adobe {
            endpoint: crate::adobe_pass::Endpoint::MvpdProfile,
            http_status,
            error: serde_json::from_value(serde_json::json!({
                "status": http_status, "code": code, "action": action
            }))
            .expect("enhanced error"),
        }
    }

    #[test]
    fn only_a_sign_in_answer_or_a_gone_provider_means_no_profile() {
        for (status, code, action) in [
            (403, "authenticated_profile_expired", "authentication"),
            (403, "authenticated_profile_invalidated", "authentication"),
            (400, "invalid_parameter_mvpd", "none"),
        ] {
            assert!(
                means_no_profile(&adobe_answer(status, code, action)),
                "{code}"
            );
        }
        for (status, code, action) in [
            (
                400,
                "invalid_configuration_user_metadata_encryption",
                "configuration",
            ),
            (403, "device_identifier_not_allowed", "none"),
            (400, "invalid_header_device_info", "none"),
            (401, "invalid_access_token", "application-registration"),
            (500, "internal_server_error", "none"),
        ] {
            assert!(
                !means_no_profile(&adobe_answer(status, code, action)),
                "{code}"
            );
        }
    }

    /// Review #16: the TV learns whether its viewer was signed in by the home network.
    #[test]
    fn hba_status_is_read_as_a_boolean_or_its_text() {
        let with = |value: serde_json::Value, state: &str| {
            let all = profiles(serde_json::json!({"profiles": {"Spectrum": {
                "notBefore": 0, "notAfter": 9, "issuer": "x", "type": "regular",
                "attributes": {"hba_status": {"value": value, "state": state}}
            }}}));
            ProfileSummary::from_profile("Spectrum", &all.profiles["Spectrum"]).home_based
        };
        assert_eq!(with(serde_json::json!(true), "plain"), Some(true));
        assert_eq!(with(serde_json::json!("false"), "plain"), Some(false));
        assert_eq!(with(serde_json::json!("maybe"), "plain"), None);
        assert_eq!(with(serde_json::json!("dHJ1ZQ=="), "enc"), None);
        let none = profiles(serde_json::json!({"profiles": {"Spectrum": profile("regular", 9)}}));
        assert_eq!(
            ProfileSummary::from_profile("Spectrum", &none.profiles["Spectrum"]).home_based,
            None
        );
    }

    #[test]
    fn a_cached_profile_is_not_used_past_its_not_after() {
        let cache = ProfileCache::new(false);
        let summary = ProfileSummary {
            provider: "Spectrum".to_owned(),
            kind: "regular".to_owned(),
            expires_at: 10_000,
            max_rating: None,
            home_based: None,
        };
        cache.put("tv", summary, 5_000);
        assert!(cache.get("tv", 9_999).is_some());
        assert!(cache.get("tv", 10_000).is_none());
        cache.forget("tv", 5_000);
        assert!(cache.get("tv", 5_000).is_none());
    }

    /// Review finding 5: a profile the rating rule reads is asked for again after a few
    /// minutes, so a parental-control change at the MVPD shows; others live to their
    /// `notAfter`.
    #[test]
    fn a_profile_the_rating_rule_reads_is_refreshed_within_minutes() {
        let summary = |max_rating: Option<MaxRating>| ProfileSummary {
            provider: "Spectrum".to_owned(),
            kind: "regular".to_owned(),
            expires_at: 3_600_000,
            max_rating,
            home_based: None,
        };
        let limited = summary(Some(MaxRating::Allowed(vec!["TV-G".to_owned()])));
        let refreshed = RATED_PROFILE_REFRESH_MS;
        let unrated = ProfileCache::new(false);
        unrated.put("limited", limited.clone(), 0);
        unrated.put("unlimited", summary(None), 0);
        assert!(unrated.get("limited", refreshed - 1).is_some());
        assert!(unrated.get("limited", refreshed).is_none(), "asked again");
        assert!(
            unrated.get("unlimited", refreshed).is_some(),
            "no limit to change"
        );
        let rated = ProfileCache::new(true);
        rated.put("unlimited", summary(None), 0);
        assert!(
            rated.get("unlimited", refreshed).is_none(),
            "a limit may be set at the MVPD"
        );
        rated.put(
            "ending",
            ProfileSummary {
                expires_at: 1_000,
                ..limited
            },
            0,
        );
        assert!(rated.get("ending", 1_000).is_none(), "never past notAfter");
    }

    #[test]
    fn not_signed_in_is_kept_a_few_seconds_until_forgotten() {
        let cache = ProfileCache::new(false);
        cache.settle("tv", &None, 1_000, 1_000);
        assert_eq!(cache.get("tv", 1_000 + NOT_SIGNED_IN_MS - 1), Some(None));
        assert_eq!(cache.get("tv", 1_000 + NOT_SIGNED_IN_MS), None);
        cache.settle("tv", &None, 1_000, 1_000);
        cache.forget("tv", 1_001);
        assert_eq!(cache.get("tv", 1_001), None, "a sign-in drops it");
    }

    /// A lookup that began before a sign-in completed, and answers after it, keeps nothing:
    /// its "not signed in" predates the sign-in.
    #[test]
    fn an_answer_older_than_a_drop_is_not_kept() {
        let cache = ProfileCache::new(false);
        cache.forget("tv", 2_000);
        cache.settle("tv", &None, 1_500, 2_500);
        assert_eq!(cache.get("tv", 2_500), None);
        cache.settle("tv", &None, 2_600, 2_700);
        assert_eq!(cache.get("tv", 2_700), Some(None), "a later lookup is kept");
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
            Some(MaxRating::Allowed(vec![
                "TV-Y".to_owned(),
                "TV-G".to_owned()
            ]))
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

    fn max_rating(value: serde_json::Value, state: &str) -> MaxRating {
        let attribute: Attribute =
            serde_json::from_value(serde_json::json!({"value": value, "state": state}))
                .expect("attribute");
        MaxRating::of(&attribute)
    }

    /// `user-metadata.md`: `maxRating` is an object `{ MPAA, VCHIP, URL }`; legacy strings and
    /// lists are still read; any other shape, or a value still encrypted, is unreadable.
    #[test]
    fn max_rating_reads_the_documented_object_and_legacy_shapes() {
        assert_eq!(
            max_rating(
                serde_json::json!({"MPAA": "PG-13", "VCHIP": "TV-PG", "URL": "http://x/"}),
                "plain"
            ),
            MaxRating::Highest {
                vchip: Some("TV-PG".to_owned()),
                mpaa: Some("PG-13".to_owned())
            }
        );
        assert_eq!(
            max_rating(serde_json::json!({"VCHIP": "TV-14"}), "plain"),
            MaxRating::Highest {
                vchip: Some("TV-14".to_owned()),
                mpaa: None
            }
        );
        assert_eq!(
            max_rating(serde_json::json!("TV-14"), "plain"),
            MaxRating::Highest {
                vchip: Some("TV-14".to_owned()),
                mpaa: Some("TV-14".to_owned())
            }
        );
        for unreadable in [
            serde_json::json!({"URL": "http://x/"}),
            serde_json::json!(14),
            serde_json::json!(["TV-G", 3]),
            serde_json::json!(""),
        ] {
            assert_eq!(
                max_rating(unreadable.clone(), "plain"),
                MaxRating::Unreadable,
                "{unreadable}"
            );
        }
        assert_eq!(
            max_rating(serde_json::json!("c2VjcmV0"), "enc"),
            MaxRating::Unreadable
        );
    }
}
