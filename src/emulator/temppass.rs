//! TempPass (§14.3): basic (time-boxed per device) and promotional (time- and resource-boxed
//! per device or `AP-TempPass-Identity`). The clock starts at the first authorization (D2) and
//! never restarts; logout does not reset it. Before that, P2 shows no profile (unless told to
//! show the TempPass as it would run from now), D1 permits as the TempPass would, and P1 lists
//! no TempPass (Adobe's docs show none there).

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::emulator::{
    dataset::{TempPassKind, TempPassRules},
    errors::{ApiError, ErrorCode},
    headers,
    responses::{Attribute, Decision, Profile},
    state::EmulatorState,
};

/// How the emulator reads the TempPass documents where they leave room, and TempPass faults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TempPassSettings {
    /// P2 shows a TempPass never played as it would run from now (the lenient reading); off
    /// (the default), P2 shows no profile until the first authorization starts the TempPass.
    pub profile_before_first_play: bool,
    /// TempPass MVPD ids whose configuration is broken: P2 answers 500
    /// `invalid_configuration_temporary_access` and decisions deny with it.
    pub misconfigured: Vec<String>,
}

impl TempPassSettings {
    /// Whether `mvpd`'s TempPass configuration is broken.
    pub fn is_misconfigured(&self, mvpd: &str) -> bool {
        self.misconfigured.iter().any(|m| m == mvpd)
    }
}

/// Whose TempPass.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TempPassKey {
    /// `AP-Device-Identifier` value.
    pub device_id: String,
    /// TempPass MVPD id.
    pub mvpd: String,
    /// Canonical `AP-TempPass-Identity` (promotional only).
    pub identity: Option<String>,
}

/// A TempPass in use.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TempPassUse {
    /// Epoch ms of first use.
    pub started_at: i64,
    /// Epoch ms when it runs out.
    pub expires_at: i64,
    /// Resources authorized so far (promotional).
    pub used_resources: Vec<String>,
}

fn key(
    device_id: &str,
    mvpd: &str,
    rules: &TempPassRules,
    request_headers: &HeaderMap,
) -> Result<TempPassKey, ApiError> {
    let identity = match rules.kind {
        TempPassKind::Basic => None,
        TempPassKind::Promotional => Some(headers::temp_pass_identity(request_headers)?),
    };
    Ok(TempPassKey {
        device_id: device_id.to_owned(),
        mvpd: mvpd.to_owned(),
        identity,
    })
}

/// The trial `key` falls under, with its use: the key's own; for promotional TempPass also the
/// trial of the same device or of the same identity (Adobe's table: an existing identity hash
/// on a new device, or a new hash on an existing device, continues the existing trial). When
/// the device and the identity each have a trial, the one started first counts.
fn find(state: &EmulatorState, key: &TempPassKey) -> Option<(TempPassKey, TempPassUse)> {
    state.inspect(|store| {
        if let Some(used) = store.temp_passes.get(key) {
            return Some((key.clone(), used.clone()));
        }
        let identity = key.identity.as_ref()?;
        store
            .temp_passes
            .iter()
            .filter(|(k, _)| {
                k.mvpd == key.mvpd
                    && (k.device_id == key.device_id || k.identity.as_ref() == Some(identity))
            })
            .min_by_key(|(k, used)| (used.started_at, format!("{k:?}")))
            .map(|(k, used)| (k.clone(), used.clone()))
    })
}

/// A TempPass never played, as it would run if it started now.
fn unstarted(state: &EmulatorState, rules: &TempPassRules) -> TempPassUse {
    let now = state.now_ms();
    let duration = i64::try_from(rules.duration_seconds)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    TempPassUse {
        started_at: now,
        expires_at: now.saturating_add(duration),
        used_resources: Vec::new(),
    }
}

/// Why the TempPass cannot be used now, if it cannot.
fn exhausted(now: i64, rules: &TempPassRules, used: &TempPassUse) -> Option<ErrorCode> {
    if now >= used.expires_at {
        return Some(ErrorCode::TemporaryAccessDurationLimitExceeded);
    }
    match rules.max_resources {
        Some(max)
            if rules.kind == TempPassKind::Promotional && used.used_resources.len() >= max =>
        {
            Some(ErrorCode::TemporaryAccessResourcesLimitExceeded)
        }
        _ => None,
    }
}

fn render(key: &TempPassKey, rules: &TempPassRules, used: &TempPassUse) -> Profile {
    let mut attributes = BTreeMap::from([
        (
            "expiration_date".to_owned(),
            Attribute::plain(used.expires_at),
        ),
        (
            "userID".to_owned(),
            Attribute::plain(format!(
                "temppass_{:x}",
                Sha256::digest(format!("{key:?}").as_bytes())
            )),
        ),
    ]);
    if let (TempPassKind::Promotional, Some(max)) = (rules.kind, rules.max_resources) {
        attributes.insert(
            "remaining_resources".to_owned(),
            Attribute::plain(max.saturating_sub(used.used_resources.len())),
        );
        attributes.insert(
            "used_assets".to_owned(),
            Attribute::plain(used.used_resources.clone()),
        );
    }
    Profile {
        not_before: used.started_at,
        not_after: used.expires_at,
        issuer: "Adobe".to_owned(),
        kind: "temporary".to_owned(),
        attributes,
        session_id: None,
    }
}

/// A top-level P2 error as Adobe's P2 samples show it: the promotional samples say action
/// `none` for `temporary_access_duration_limit_exceeded` and
/// `invalid_configuration_temporary_access`, where the basic ones (and §11) say
/// `authentication` and `configuration`.
fn profile_error(code: ErrorCode, rules: &TempPassRules) -> ApiError {
    let mut error = ApiError::new(code);
    let sampled_none = matches!(
        code,
        ErrorCode::TemporaryAccessDurationLimitExceeded
            | ErrorCode::InvalidConfigurationTemporaryAccess
    );
    if rules.kind == TempPassKind::Promotional && sampled_none {
        "none".clone_into(&mut error.error.action);
    }
    error
}

/// P2 for a TempPass MVPD: the temporary profile once the first authorization started it
/// (before that none, or, with [`TempPassSettings::profile_before_first_play`], the one it
/// would be from now), 403 once used up, 400 without a valid identity (promotional), 500 when
/// its configuration is broken.
pub fn profile(
    state: &EmulatorState,
    device_id: &str,
    mvpd: &str,
    rules: &TempPassRules,
    request_headers: &HeaderMap,
) -> Result<Option<Profile>, ApiError> {
    if state.temp_pass().is_misconfigured(mvpd) {
        return Err(profile_error(
            ErrorCode::InvalidConfigurationTemporaryAccess,
            rules,
        ));
    }
    let key = key(device_id, mvpd, rules, request_headers)?;
    let (key, used) = match find(state, &key) {
        Some(found) => found,
        None if state.temp_pass().profile_before_first_play => (key, unstarted(state, rules)),
        None => return Ok(None),
    };
    match exhausted(state.now_ms(), rules, &used) {
        Some(code) => Err(profile_error(code, rules)),
        None => Ok(Some(render(&key, rules, &used))),
    }
}

/// Who asks for which TempPass.
#[derive(Clone, Copy, Debug)]
pub struct Trial<'a> {
    /// `AP-Device-Identifier` value.
    pub device_id: &'a str,
    /// TempPass MVPD id.
    pub mvpd: &'a str,
    /// Its limits.
    pub rules: &'a TempPassRules,
    /// The request headers (for `AP-TempPass-Identity`).
    pub headers: &'a HeaderMap,
}

/// Decisions on a TempPass MVPD. The first authorization starts the clock; authorizing a new
/// resource on a promotional TempPass uses one of its resources; preauthorizing does neither.
pub fn decide(
    state: &EmulatorState,
    trial: Trial<'_>,
    resources: &[String],
    authorize: bool,
    permit: impl Fn(&str, &TempPassUse) -> Decision,
) -> Vec<Decision> {
    let Trial {
        device_id,
        mvpd,
        rules,
        headers: request_headers,
    } = trial;
    let deny = |resource: &str, code: ErrorCode| Decision {
        resource: resource.to_owned(),
        service_provider: state.dataset().service_provider.id.clone(),
        mvpd: mvpd.to_owned(),
        source: "temppass".to_owned(),
        authorized: false,
        token: None,
        not_before: None,
        not_after: None,
        error: Some(code.to_error()),
    };
    let deny_all =
        |code: ErrorCode| -> Vec<Decision> { resources.iter().map(|r| deny(r, code)).collect() };
    if state.temp_pass().is_misconfigured(mvpd) {
        return deny_all(ErrorCode::InvalidConfigurationTemporaryAccess);
    }
    let Ok(key) = key(device_id, mvpd, rules, request_headers) else {
        return deny_all(ErrorCode::InvalidHeaderIdentityForTemporaryAccess);
    };
    let (key, mut used) = find(state, &key).unwrap_or_else(|| (key, unstarted(state, rules)));
    let now = state.now_ms();
    let mut decisions = Vec::with_capacity(resources.len());
    for resource in resources {
        if now >= used.expires_at {
            decisions.push(deny(
                resource,
                ErrorCode::TemporaryAccessDurationLimitExceeded,
            ));
            continue;
        }
        let counted = rules.kind == TempPassKind::Promotional;
        if counted && !used.used_resources.contains(resource) {
            if exhausted(now, rules, &used).is_some() {
                decisions.push(deny(
                    resource,
                    ErrorCode::TemporaryAccessResourcesLimitExceeded,
                ));
                continue;
            }
            if authorize {
                used.used_resources.push(resource.clone());
            }
        }
        decisions.push(permit(resource, &used));
    }
    if authorize {
        state.store().temp_passes.insert(key, used);
    }
    decisions
}
