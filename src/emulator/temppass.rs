//! TempPass (§14.3): basic (time-boxed per device) and promotional (time- and resource-boxed
//! per device and `AP-TempPass-Identity`). The clock starts at the first authorization (D2) and
//! never restarts; logout does not reset it. Before that, P2 and D1 show the TempPass as it
//! would run if it started now, and P1 lists no TempPass (Adobe's docs show none there).

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::emulator::{
    dataset::{TempPassKind, TempPassRules},
    errors::{ApiError, ErrorCode},
    headers,
    responses::{Attribute, Decision, Profile},
    state::EmulatorState,
};

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

/// The TempPass for `key`: as it runs, or, never started, as it would run from now on.
fn use_of(state: &EmulatorState, key: &TempPassKey, rules: &TempPassRules) -> TempPassUse {
    let now = state.now_ms();
    let duration = i64::try_from(rules.duration_seconds)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    state
        .store()
        .temp_passes
        .get(key)
        .cloned()
        .unwrap_or_else(|| TempPassUse {
            started_at: now,
            expires_at: now.saturating_add(duration),
            used_resources: Vec::new(),
        })
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

/// P2 for a TempPass MVPD: the temporary profile, or 403 once used up, or 400 without a
/// valid identity (promotional).
pub fn profile(
    state: &EmulatorState,
    device_id: &str,
    mvpd: &str,
    rules: &TempPassRules,
    request_headers: &HeaderMap,
) -> Result<Profile, ApiError> {
    let key = key(device_id, mvpd, rules, request_headers)?;
    let used = use_of(state, &key, rules);
    match exhausted(state.now_ms(), rules, &used) {
        Some(code) => Err(ApiError {
            http_status: StatusCode::FORBIDDEN,
            error: Box::new(code.to_error()),
        }),
        None => Ok(render(&key, rules, &used)),
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
    let key = match key(device_id, mvpd, rules, request_headers) {
        Ok(key) => key,
        Err(_) => {
            return resources
                .iter()
                .map(|r| deny(r, ErrorCode::InvalidHeaderIdentityForTemporaryAccess))
                .collect()
        }
    };
    let mut used = use_of(state, &key, rules);
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
