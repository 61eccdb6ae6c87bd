//! Decisions: preauthorization (informational, a configured number of resources per upstream
//! call, permits kept in memory until their `notAfter`) and authorization (asked upstream on
//! every play, never cached, after the business rules). Adobe's items are matched to the
//! resources asked the way Adobe echoes them, and items Adobe marks `retry` are asked once more.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use sha2::{Digest, Sha256};

use super::{
    expiring::ExpiringCache, resource::Resource, rules::RuleDenial, DeviceSession, ProfileSummary,
    Service, ServiceError,
};
use crate::{
    adobe_pass::{
        media_token::CLOCK_SKEW_MS,
        types::{Decision, DecisionSource, ErrorCode, MediaToken},
        MediaTokenError, MediaTokenVerifier, Remedy, Secret,
    },
    playback::Play,
    shared::ClusterEvent,
};

/// Adobe's usual limit of resources per preauthorization call (§9).
pub const DEFAULT_PREAUTHORIZE_CHUNK: usize = 5;
/// Most resources one preauthorization request may name.
pub const MAX_PREAUTHORIZE_RESOURCES: usize = 50;
/// The reason of a play Adobe permitted whose media token failed verification.
pub const MEDIA_TOKEN_INVALID: &str = "media_token_invalid";

/// One resource's preauthorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreauthorizeItem {
    /// The resource id.
    pub resource: String,
    /// Whether the viewer may (probably) watch it.
    pub authorized: bool,
    /// Why not, as a stable code.
    pub reason: Option<String>,
    /// Why not, in words.
    pub message: Option<String>,
    /// Adobe says the viewer must sign in again (an item error with action `authentication`,
    /// as `authorization_denied_by_hba_policies`): start an activation.
    pub sign_in_again: bool,
}

/// The answer to a play request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Play, with this single-use media token.
    Permit {
        /// The media token (base64), for the player to verify.
        media_token: Secret,
        /// The playback token (a JWT of at most a minute, bound to the device and the
        /// resource) for the CDN or packager to check.
        playback_token: Secret,
        /// The token's `notAfter`, epoch ms.
        expires_at: i64,
        /// When the TempPass played under runs out, epoch ms (the app stops the stream then);
        /// `None` for a TV provider's profile.
        temp_pass_ends_at: Option<i64>,
        /// Adobe decided by a degradation rule (`source: degradation`), not the MVPD.
        degraded: bool,
    },
    /// Do not play.
    Deny {
        /// Why, as a stable code.
        reason: String,
        /// Why, in words.
        message: String,
        /// Adobe says the viewer must sign in again (an item error with action
        /// `authentication`): start an activation.
        sign_in_again: bool,
        /// Adobe decided by a degradation rule (`source: degradation`), not the MVPD.
        degraded: bool,
        /// Adobe's code and action, when Adobe denied.
        adobe: Option<AdobeReason>,
    },
}

/// Adobe's Enhanced Error code and recommended action for a denial Adobe decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdobeReason {
    /// Adobe's error code.
    pub code: String,
    /// Adobe's recommended action.
    pub action: String,
}

impl AuthorizeOutcome {
    /// Whether Adobe decided by a degradation rule.
    pub fn degraded(&self) -> bool {
        match self {
            Self::Permit { degraded, .. } | Self::Deny { degraded, .. } => *degraded,
        }
    }

    /// The same outcome, marked as decided by a degradation rule when `by_rule`.
    fn decided_by_degradation(mut self, by_rule: bool) -> Self {
        match &mut self {
            Self::Permit { degraded, .. } | Self::Deny { degraded, .. } => *degraded |= by_rule,
        }
        self
    }
}

impl From<RuleDenial> for AuthorizeOutcome {
    /// The programmer's own rule said no; signing in again would not change it.
    fn from(denial: RuleDenial) -> Self {
        Self::Deny {
            reason: denial.reason.to_owned(),
            message: denial.message,
            sign_in_again: false,
            degraded: false,
            adobe: None,
        }
    }
}

impl AuthorizeOutcome {
    /// Adobe permitted, but its media token does not verify or was handed out before: no
    /// token reaches the TV. Not a matter of signing in; a new play asks Adobe for a new token.
    fn media_token_refused() -> Self {
        Self::Deny {
            reason: MEDIA_TOKEN_INVALID.to_owned(),
            message: "This title cannot play right now: its permission to play could not be \
                      verified. Please try again."
                .to_owned(),
            sign_in_again: false,
            degraded: false,
            adobe: None,
        }
    }
}

/// Whether `verifier` (when there is one) finds Adobe's `token` authentic, within its window at
/// `now` and for `resource`.
fn verify_media_token(
    token: &MediaToken,
    resource: &str,
    verifier: Option<&MediaTokenVerifier>,
    now: i64,
) -> Result<(), MediaTokenError> {
    match verifier {
        Some(verifier) => verifier
            .verify(token.serialized_token.expose(), Some(resource), now)
            .map(drop),
        None => Ok(()),
    }
}

/// What a media token is known by once spent: a digest, never the token.
fn spent_id(token: &MediaToken) -> String {
    Sha256::digest(token.serialized_token.expose().as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Resources per preauthorization call learned per MVPD: Adobe's limit is "usually up to 5",
/// set per MVPD (S2S cookbook, Step 5), so a `too_many_resources` halves the chunk for that
/// MVPD, and the smaller size is kept for as long as the node runs.
#[derive(Debug, Default)]
pub(super) struct ChunkLimits {
    by_mvpd: Mutex<HashMap<String, usize>>,
}

impl ChunkLimits {
    /// The chunk size for `mvpd`: the learned one, else `configured`.
    fn size(&self, mvpd: &str, configured: usize) -> usize {
        self.by_mvpd
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(mvpd)
            .map_or(configured, |learned| (*learned).min(configured))
            .max(1)
    }

    /// Records that `mvpd` refused `refused` resources in one call; gives the size to try next.
    fn halve(&self, mvpd: &str, refused: usize) -> usize {
        let next = (refused / 2).max(1);
        let mut limits = self.by_mvpd.lock().unwrap_or_else(PoisonError::into_inner);
        let limit = limits.entry(mvpd.to_owned()).or_insert(next);
        *limit = (*limit).min(next);
        *limit
    }
}

/// Whether Adobe refused a call for naming more resources than the MVPD allows (§9).
fn is_too_many_resources(error: &ServiceError) -> bool {
    matches!(error, ServiceError::Upstream(upstream)
        if upstream.enhanced().is_some_and(|e| e.code == ErrorCode::TooManyResources))
}

/// A device's preauthorization permits: until when, by (provider, resource).
type DevicePermits = Arc<Mutex<HashMap<(String, String), i64>>>;

/// Devices whose permits are kept at most; past it the least used go first.
const MOST_PERMITTED_DEVICES: u64 = 100_000;

/// Preauthorization permits by device, then (provider, resource), each until its `notAfter`;
/// a device's entry lives until its latest permit, and is dropped at once when invalidated.
#[derive(Debug)]
pub(super) struct PermitCache {
    devices: ExpiringCache<DevicePermits>,
}

impl Default for PermitCache {
    fn default() -> Self {
        Self {
            devices: ExpiringCache::new(MOST_PERMITTED_DEVICES),
        }
    }
}

/// A permit's key: device, provider, resource.
type PermitKey = (String, String, String);

impl PermitCache {
    fn is_permitted(&self, (device, provider, resource): &PermitKey, now: i64) -> bool {
        self.devices.get(device, now).is_some_and(|permits| {
            permits
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&(provider.clone(), resource.clone()))
                .is_some_and(|until| *until > now)
        })
    }

    fn permit(&self, (device, provider, resource): PermitKey, until: i64, now: i64) {
        let permits = self.devices.get(&device, now).unwrap_or_default();
        let latest = {
            let mut held = permits.lock().unwrap_or_else(PoisonError::into_inner);
            held.retain(|_, until| *until > now);
            held.insert((provider, resource), until);
            held.values().copied().max().unwrap_or(until)
        };
        self.devices.put(&device, permits, latest, now);
    }

    pub(super) fn forget_device(&self, device_id: &str) {
        self.devices.forget(device_id);
    }
}

/// `raw`, sent by the TV in `field`, as the rules read it; refused with a 400 when it is no
/// resource (blank, too long, or MRSS with no channel title), so nothing reaches Adobe.
fn read_resource(field: &'static str, raw: &str) -> Result<Resource, ServiceError> {
    Resource::read(raw).map_err(|invalid| ServiceError::invalid(field, invalid.to_string()))
}

/// Adobe's decision for `resource`: the item echoing it as sent, else one echoing it with
/// whitespace around it (§9.1's sample answers `"resource1 "`). MRSS documents are echoed as sent.
fn decision_for(decisions: &[Decision], resource: &str) -> Option<Decision> {
    decisions
        .iter()
        .find(|d| d.resource == resource)
        .or_else(|| {
            decisions
                .iter()
                .find(|d| d.resource.trim() == resource.trim())
        })
        .cloned()
}

/// Whether Adobe asks for the item to be sent again (§11: action `retry`).
fn asks_retry(decision: &Decision) -> bool {
    decision
        .error
        .as_ref()
        .is_some_and(|e| Remedy::of(e) == Remedy::Retry)
}

/// Whether Adobe says the viewer must sign in again (§11: action `authentication`, handled
/// the same at item level as at top level).
fn asks_sign_in(decision: &Decision) -> bool {
    decision
        .error
        .as_ref()
        .is_some_and(|e| Remedy::of(e) == Remedy::Authentication)
}

fn no_decision(resource: &str) -> PreauthorizeItem {
    PreauthorizeItem {
        resource: resource.to_owned(),
        authorized: false,
        reason: Some("no_decision".to_owned()),
        message: Some("Adobe Pass gave no decision for this resource.".to_owned()),
        sign_in_again: false,
    }
}

fn denial_of(decision: &Decision) -> (String, String) {
    match &decision.error {
        Some(error) => (
            error.code.to_string(),
            error
                .details
                .clone()
                .or_else(|| error.message.clone())
                .unwrap_or_else(|| "Your TV provider did not allow this.".to_owned()),
        ),
        None => (
            "denied".to_owned(),
            "Your TV provider did not allow this.".to_owned(),
        ),
    }
}

impl Service {
    /// Preauthorizes `resources` for the device's viewer: informational only, never a
    /// permission to play.
    pub async fn preauthorize(
        &self,
        session: &DeviceSession,
        resources: &[String],
    ) -> Result<Vec<PreauthorizeItem>, ServiceError> {
        if resources.is_empty() || resources.len() > MAX_PREAUTHORIZE_RESOURCES {
            return Err(ServiceError::invalid(
                "resources",
                format!("give 1 to {MAX_PREAUTHORIZE_RESOURCES} resources"),
            ));
        }
        let read = resources
            .iter()
            .map(|raw| read_resource("resources", raw))
            .collect::<Result<Vec<_>, _>>()?;
        let profile = self.play_profile(session).await?.summary;
        let now = self.now_millis();
        let device_id = &session.device.device_id;
        let key = |resource: &str| {
            (
                device_id.clone(),
                profile.provider.clone(),
                resource.to_owned(),
            )
        };

        let mut answers: HashMap<String, PreauthorizeItem> = HashMap::new();
        let mut ask: Vec<String> = Vec::new();
        for (resource, read) in resources.iter().zip(&read) {
            if answers.contains_key(resource) || ask.contains(resource) {
                continue;
            }
            if let Some(denial) = self.inner.settings.rules.check(&profile, read) {
                answers.insert(
                    resource.clone(),
                    PreauthorizeItem {
                        resource: resource.clone(),
                        authorized: false,
                        reason: Some(denial.reason.to_owned()),
                        message: Some(denial.message),
                        sign_in_again: false,
                    },
                );
            } else if self.inner.permits.is_permitted(&key(resource), now) {
                answers.insert(
                    resource.clone(),
                    PreauthorizeItem {
                        resource: resource.clone(),
                        authorized: true,
                        reason: None,
                        message: None,
                        sign_in_again: false,
                    },
                );
            } else {
                ask.push(resource.clone());
            }
        }
        let mut refused = false;
        let configured = self.inner.settings.preauthorize_chunk;
        let mut rest: &[String] = &ask;
        while !rest.is_empty() {
            let size = self
                .inner
                .chunk_limits
                .size(&profile.provider, configured)
                .min(rest.len());
            let chunk = &rest[..size];
            let decisions = match self
                .upstream_decisions(session, &profile, chunk, false)
                .await
            {
                Err(error) if size > 1 && is_too_many_resources(&error) => {
                    let next = self.inner.chunk_limits.halve(&profile.provider, size);
                    tracing::info!(
                        mvpd = %profile.provider,
                        refused = size,
                        next,
                        "preauthorization chunk halved for this MVPD"
                    );
                    continue;
                }
                other => other?,
            };
            rest = &rest[size..];
            for (resource, decision) in chunk.iter().zip(decisions) {
                let item = match decision {
                    Some(decision) if decision.authorized => {
                        let until = decision
                            .not_after
                            .unwrap_or(profile.expires_at)
                            .min(profile.expires_at);
                        self.inner.permits.permit(key(resource), until, now);
                        PreauthorizeItem {
                            resource: resource.clone(),
                            authorized: true,
                            reason: None,
                            message: None,
                            sign_in_again: false,
                        }
                    }
                    Some(decision) => {
                        let (reason, message) = denial_of(&decision);
                        let sign_in_again = asks_sign_in(&decision);
                        refused |= sign_in_again;
                        PreauthorizeItem {
                            resource: resource.clone(),
                            authorized: false,
                            reason: Some(reason),
                            message: Some(message),
                            sign_in_again,
                        }
                    }
                    None => no_decision(resource),
                };
                answers.insert(resource.clone(), item);
            }
        }
        if refused {
            self.profile_refused(session, &profile).await;
        }
        Ok(resources
            .iter()
            .map(|resource| {
                answers
                    .get(resource)
                    .cloned()
                    .unwrap_or_else(|| no_decision(resource))
            })
            .collect())
    }

    /// Decides whether the device's viewer may play `resource` now: business rules first, then
    /// Adobe, every time (and the rules again, on the profile read after a permit, for MVPDs
    /// that update metadata at authorization). With a media token verifier, a permit whose
    /// token does not verify for `resource` is a denial ([`MEDIA_TOKEN_INVALID`]).
    pub async fn authorize(
        &self,
        session: &DeviceSession,
        resource: &str,
    ) -> Result<AuthorizeOutcome, ServiceError> {
        let read = read_resource("resource", resource)?;
        let play = self.play_profile(session).await?;
        let profile = &play.summary;
        let mut outcome = self.decide(session, profile, resource, &read).await;
        if matches!(outcome, Ok(AuthorizeOutcome::Permit { .. })) {
            if let Some(denial) = self.recheck_after_permit(session, profile, &read).await {
                outcome = Ok(denial.into());
            }
        }
        let outcome = self.with_temp_pass_end(session, &play, outcome).await;
        self.play_decided(session, &profile.provider, &outcome);
        outcome
    }

    /// The decision for a play by a viewer with `profile` of `resource`, sent to Adobe as the
    /// TV sent it once the rules passed what they `read` of it.
    async fn decide(
        &self,
        session: &DeviceSession,
        profile: &ProfileSummary,
        resource: &str,
        read: &Resource,
    ) -> Result<AuthorizeOutcome, ServiceError> {
        if let Some(denial) = self.inner.settings.rules.check(profile, read) {
            return Ok(denial.into());
        }
        let decision = self
            .upstream_decisions(session, profile, &[resource.to_owned()], true)
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| {
                ServiceError::invalid("resource", "Adobe Pass gave no decision for it")
            })?;
        let by_rule = decision.source == DecisionSource::Degradation;
        match (&decision.token, decision.authorized) {
            (Some(token), true) => {
                self.refusal_cleared(&session.device.device_id).await;
                let outcome = self.permit(session, profile, token, resource, read).await;
                Ok(outcome.decided_by_degradation(by_rule))
            }
            _ => {
                let sign_in_again = asks_sign_in(&decision);
                if sign_in_again {
                    self.profile_refused(session, profile).await;
                }
                let (reason, message) = denial_of(&decision);
                Ok(AuthorizeOutcome::Deny {
                    reason,
                    message,
                    sign_in_again,
                    degraded: by_rule,
                    adobe: decision.error.as_ref().map(|error| AdobeReason {
                        code: error.code.to_string(),
                        action: error.action.to_string(),
                    }),
                })
            }
        }
    }

    /// The permit for Adobe's `token`, once it verifies for `resource` (as the TV sent it; the
    /// rules `read` it) and was never handed out before, by this node or another; with a
    /// playback token beside it. Otherwise a denial: no token reaches the TV.
    async fn permit(
        &self,
        session: &DeviceSession,
        profile: &ProfileSummary,
        token: &MediaToken,
        resource: &str,
        read: &Resource,
    ) -> AuthorizeOutcome {
        let now = self.now_millis();
        let verifier = self.inner.settings.media_tokens.as_deref();
        if let Err(e) = verify_media_token(token, resource, verifier, now) {
            tracing::warn!(
                mvpd = %profile.provider,
                status = e.status(),
                error = %e,
                "Adobe's media token failed verification: the play is denied"
            );
            return AuthorizeOutcome::media_token_refused();
        }
        let id = spent_id(token);
        let left = token.not_after + CLOCK_SKEW_MS - now;
        let ttl = Duration::from_millis(u64::try_from(left).unwrap_or(0).max(1_000));
        if !self.inner.settings.spent_tokens.first_use(&id, ttl).await {
            tracing::warn!(
                mvpd = %profile.provider,
                "Adobe's media token was handed out before: the play is denied"
            );
            return AuthorizeOutcome::media_token_refused();
        }
        let play = Play {
            device_id: &session.device.device_id,
            resource: &read.id,
            mvpd: &profile.provider,
            not_after: token.not_after,
            id: &id,
        };
        match self.inner.playback.sign(play, now) {
            Ok(playback_token) => AuthorizeOutcome::Permit {
                media_token: token.serialized_token.clone(),
                playback_token: Secret::new(playback_token),
                expires_at: token.not_after,
                temp_pass_ends_at: None,
                degraded: false,
            },
            Err(error) => {
                tracing::error!(%error, "the play is denied");
                AuthorizeOutcome::media_token_refused()
            }
        }
    }

    /// Adobe refused the device's profile with action `authentication` (top level or item
    /// level alike, §11): what is cached goes, here and on the other nodes, and the next
    /// activation this node starts for the device replaces the profile although P1 may still
    /// list it. The viewer is never logged out for a denial alone (§11).
    async fn profile_refused(&self, session: &DeviceSession, profile: &ProfileSummary) {
        let device_id = &session.device.device_id;
        self.invalidate_device(device_id).await;
        // A used-up TempPass is no sign-in to replace: nothing to log out at the next start.
        if profile.is_temporary() {
            self.temppass_ended(session, &profile.provider);
        } else {
            let (provider, expires_at) = (profile.provider.clone(), profile.expires_at);
            self.inner
                .profiles
                .mark_stale(device_id, &provider, expires_at, self.now_millis());
            self.inner
                .settings
                .bus
                .publish(ClusterEvent::ProfileRefused {
                    device_id: device_id.to_owned(),
                    provider,
                    expires_at,
                })
                .await;
        }
    }

    /// Adobe's decision for each of `resources`, in their order; the items Adobe marks `retry`
    /// are sent once more, without the others (§11), through the same throttle.
    async fn upstream_decisions(
        &self,
        session: &DeviceSession,
        profile: &ProfileSummary,
        resources: &[String],
        authorize: bool,
    ) -> Result<Vec<Option<Decision>>, ServiceError> {
        let answer = self
            .ask_decisions(session, profile, resources, authorize)
            .await?;
        let mut decisions: Vec<Option<Decision>> = resources
            .iter()
            .map(|resource| decision_for(&answer, resource))
            .collect();
        let again: Vec<String> = resources
            .iter()
            .zip(&decisions)
            .filter(|(_, decision)| decision.as_ref().is_some_and(asks_retry))
            .map(|(resource, _)| resource.clone())
            .collect();
        if again.is_empty() {
            return Ok(decisions);
        }
        let answer = self
            .ask_decisions(session, profile, &again, authorize)
            .await?;
        for (resource, decision) in resources.iter().zip(decisions.iter_mut()) {
            if again.contains(resource) {
                if let Some(fresh) = decision_for(&answer, resource) {
                    *decision = Some(fresh);
                }
            }
        }
        Ok(decisions)
    }

    async fn ask_decisions(
        &self,
        session: &DeviceSession,
        profile: &ProfileSummary,
        resources: &[String],
        authorize: bool,
    ) -> Result<Vec<Decision>, ServiceError> {
        let adobe = &self.inner.adobe;
        let answer = if authorize {
            adobe
                .authorize(&session.identity, &profile.provider, resources)
                .await
        } else {
            adobe
                .preauthorize(&session.identity, &profile.provider, resources)
                .await
        };
        match answer {
            Ok(decisions) => Ok(decisions.decisions),
            Err(error) if error.remedy() == Remedy::Authentication => {
                self.profile_refused(session, profile).await;
                Err(ServiceError::NotAuthenticated)
            }
            Err(error) => Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(json: serde_json::Value) -> Decision {
        serde_json::from_value(json).expect("decision")
    }

    fn item(resource: &str, authorized: bool) -> Decision {
        decision(serde_json::json!({
            "resource": resource, "serviceProvider": "REF30", "mvpd": "Cablevision",
            "source": "mvpd", "authorized": authorized
        }))
    }

    /// §9.1: the documented preauthorize sample echoes `"resource1 "` for `resource1`.
    #[test]
    fn decisions_echoed_with_whitespace_match_the_resource_asked() {
        let answer = [item("resource1 ", true), item("resource2", false)];
        assert!(decision_for(&answer, "resource1").is_some_and(|d| d.authorized));
        assert!(decision_for(&answer, "resource2").is_some_and(|d| !d.authorized));
        assert!(decision_for(&answer, "resource3").is_none());
        let exact = [item("a ", false), item("a", true)];
        assert!(
            decision_for(&exact, "a").is_some_and(|d| d.authorized),
            "an exact echo wins"
        );
    }

    /// §9: MRSS documents are echoed as sent.
    #[test]
    fn mrss_resources_match_as_sent() {
        let mrss = r#"<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>REF30</title><item><title>Game</title></item></channel></rss>"#;
        let answer = [item("REF30", false), item(mrss, true)];
        assert!(decision_for(&answer, mrss).is_some_and(|d| d.authorized));
    }

    #[test]
    fn permits_live_until_their_not_after_and_go_with_their_device() {
        let cache = PermitCache::default();
        let key = |device: &str, resource: &str| {
            (
                device.to_owned(),
                "Spectrum".to_owned(),
                resource.to_owned(),
            )
        };
        cache.permit(key("tv-1", "REF30"), 10_000, 0);
        cache.permit(key("tv-1", "news"), 2_000, 0);
        cache.permit(key("tv-2", "REF30"), 10_000, 0);
        assert!(cache.is_permitted(&key("tv-1", "news"), 1_000));
        assert!(
            !cache.is_permitted(&key("tv-1", "news"), 2_000),
            "past its notAfter"
        );
        assert!(cache.is_permitted(&key("tv-1", "REF30"), 5_000));
        cache.forget_device("tv-1");
        assert!(!cache.is_permitted(&key("tv-1", "REF30"), 5_000));
        assert!(
            cache.is_permitted(&key("tv-2", "REF30"), 5_000),
            "others stay"
        );
    }

    fn media_token(resource: &str, now: i64) -> MediaToken {
        let claims = serde_json::json!({
            "issuer": "adobe-pass-emulator", "requestor": "REF30", "mvpd": "Cablevision",
            "resource": resource, "notBefore": now, "notAfter": now + 420_000, "nonce": "n1"
        });
        MediaToken {
            issued_at: None,
            not_before: now,
            not_after: now + 420_000,
            serialized_token: Secret::new(crate::emulator::media_token::sign(
                claims.to_string().as_bytes(),
            )),
        }
    }

    /// Review E5: a permit reaches the TV only with a media token that verifies for the
    /// resource played; one signed by another key, or for another resource, is a denial.
    #[test]
    fn permits_carry_only_media_tokens_that_verify() {
        let now = 1_700_000_000_000;
        let token = media_token("REF30", now);
        let issuer = MediaTokenVerifier::from_pem(
            &crate::emulator::media_token::public_key_pem().expect("test key"),
        )
        .expect("issuer's key");
        let other = MediaTokenVerifier::from_pem(include_str!(
            "../../tests/adobe_pass_support/keys/primary.pub.pem"
        ))
        .expect("another key");
        assert_eq!(
            verify_media_token(&token, "REF30", Some(&issuer), now),
            Ok(())
        );
        assert_eq!(
            verify_media_token(&token, "REF30", None, now),
            Ok(()),
            "unverified"
        );
        assert_eq!(
            verify_media_token(&token, "REF30", Some(&other), now),
            Err(MediaTokenError::InvalidSignature)
        );
        assert_eq!(
            verify_media_token(&token, "premium-sports", Some(&issuer), now),
            Err(MediaTokenError::InvalidResource)
        );
        assert!(matches!(
            verify_media_token(&token, "REF30", Some(&issuer), now + 3_600_000),
            Err(MediaTokenError::Expired { .. })
        ));
        let denial = AuthorizeOutcome::media_token_refused();
        assert!(
            matches!(&denial, AuthorizeOutcome::Deny { reason, sign_in_again: false, .. }
                if reason == MEDIA_TOKEN_INVALID),
            "{denial:?}"
        );
    }

    /// §11: an item with action `retry` is sent again.
    #[test]
    fn retry_items_are_recognised() {
        let mut retry = item("REF30", false);
        retry.error = Some(
            serde_json::from_value(serde_json::json!({
                "status": 403, "code": "network_connection_timeout", "action": "retry"
            }))
            .expect("error"),
        );
        assert!(asks_retry(&retry));
        assert!(!asks_retry(&item("REF30", false)));
    }
}
