//! Profiles (§8): all for a device (P1), one MVPD (P2) and by authentication code (P3).
//! Profiles belong to (client, device id) and expire; logout removes them.

use std::collections::BTreeMap;

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};

use crate::emulator::{
    dcr::Authorized,
    errors::{ApiError, ErrorCode},
    headers,
    responses::{adobe_json, Profile, ProfilesResponse},
    sessions::{check_code, Outcome},
    state::{millis, EmulatorState},
    temppass, user_metadata,
};

/// Whose profile: the client, the streaming device and the MVPD.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileKey {
    /// DCR client id.
    pub client_id: String,
    /// `AP-Device-Identifier` value.
    pub device_id: String,
    /// MVPD id.
    pub mvpd: String,
}

/// How the profile came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileKind {
    /// MVPD login through the authenticate URL.
    Regular,
    /// Apple partner SSO.
    AppleSso,
}

/// A stored profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoredProfile {
    /// The account that logged in.
    pub account: String,
    /// How.
    pub kind: ProfileKind,
    /// Epoch ms.
    pub not_before: i64,
    /// Epoch ms.
    pub not_after: i64,
    /// The session that created it.
    pub session_id: String,
}

/// Stores a fresh profile for `key`, replacing any earlier one.
pub fn create(
    state: &EmulatorState,
    key: ProfileKey,
    account: &str,
    kind: ProfileKind,
    session_id: &str,
) -> StoredProfile {
    let now = state.now_ms();
    let profile = StoredProfile {
        account: account.to_owned(),
        kind,
        not_before: now,
        not_after: now.saturating_add(millis(state.ttls().profile)),
        session_id: session_id.to_owned(),
    };
    state.store().profiles.insert(key, profile.clone());
    profile
}

/// The profile as Adobe sends it.
pub fn render(state: &EmulatorState, mvpd: &str, stored: &StoredProfile) -> Option<Profile> {
    let account = state.dataset().account_named(&stored.account)?;
    let (issuer, kind) = match stored.kind {
        ProfileKind::Regular => (mvpd, "regular"),
        ProfileKind::AppleSso => ("Apple", "appleSSO"),
    };
    Some(Profile {
        not_before: stored.not_before,
        not_after: stored.not_after,
        issuer: issuer.to_owned(),
        kind: kind.to_owned(),
        attributes: user_metadata::attributes(account, mvpd, state.encryption()),
        session_id: Some(stored.session_id.clone()),
    })
}

/// The live profile for `key`, rendered.
pub fn live(state: &EmulatorState, key: &ProfileKey) -> Option<Profile> {
    let now = state.now_ms();
    let stored = state
        .store()
        .profiles
        .get(key)
        .filter(|p| p.not_after > now)
        .cloned()?;
    render(state, &key.mvpd, &stored)
}

fn profiles(profiles: BTreeMap<String, Profile>) -> Response {
    adobe_json(StatusCode::OK, &ProfilesResponse { profiles })
}

/// P1 `GET /api/v2/{serviceProvider}/profiles`: the device's live profiles (no TempPass:
/// Adobe's docs show none in P1, §8.2).
pub async fn all(
    State(state): State<EmulatorState>,
    Path(service_provider): Path<String>,
    Authorized(client_id): Authorized,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    let (device_id, _) = headers::device(&request_headers)?;
    let now = state.now_ms();
    let mine: Vec<(String, StoredProfile)> = state
        .store()
        .profiles
        .iter()
        .filter(|(k, p)| k.client_id == client_id && k.device_id == device_id && p.not_after > now)
        .map(|(k, p)| (k.mvpd.clone(), p.clone()))
        .collect();
    let map: BTreeMap<String, Profile> = mine
        .iter()
        .filter_map(|(mvpd, p)| Some((mvpd.clone(), render(&state, mvpd, p)?)))
        .collect();
    Ok(profiles(map))
}

/// P2 `GET /api/v2/{serviceProvider}/profiles/{mvpd}`. For a TempPass MVPD: the temporary
/// profile once the first authorization started it (see [`temppass::profile`]), and 403 once
/// its time or resources are used up.
pub async fn for_mvpd(
    State(state): State<EmulatorState>,
    Path((service_provider, mvpd)): Path<(String, String)>,
    Authorized(client_id): Authorized,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    let (device_id, _) = headers::device(&request_headers)?;
    let entry = state.mvpd(&mvpd)?.clone();
    if let Some(rules) = &entry.temp_pass {
        let profile = temppass::profile(&state, &device_id, &entry.id, rules, &request_headers)?;
        return Ok(profiles(
            profile.map(|p| (entry.id, p)).into_iter().collect(),
        ));
    }
    let key = ProfileKey {
        client_id,
        device_id,
        mvpd: mvpd.clone(),
    };
    Ok(profiles(
        live(&state, &key).map(|p| (mvpd, p)).into_iter().collect(),
    ))
}

/// P3 `GET /api/v2/{serviceProvider}/profiles/code/{code}`: empty while the user has not
/// logged in, the new profile once they have; `invalid_authentication_session` once the code
/// is unknown, expired or replaced. Strictly read (see
/// [`crate::emulator::Readings::unbound_code_calls`]) it takes the device's `AP-Device-Identifier` and shows the sign-in only to the client and
/// device that created the session.
pub async fn for_code(
    State(state): State<EmulatorState>,
    Path((service_provider, code)): Path<(String, String)>,
    Authorized(client): Authorized,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    let caller = if state.readings().unbound_code_calls {
        None
    } else {
        Some(headers::device_identifier(&request_headers)?)
    };
    check_code(&code)?;
    let now = state.now_ms();
    let session = state
        .store()
        .sessions
        .get(&code)
        .filter(|s| s.not_after > now)
        .cloned()
        .ok_or(ErrorCode::InvalidAuthenticationSession)?;
    let bound = caller
        .is_none_or(|device_id| device_id == session.device_id && client == session.client_id);
    let found = match (&session.outcome, &session.mvpd) {
        (Outcome::Authenticated, Some(mvpd)) if bound => {
            live(&state, &session.profile_key(mvpd)).map(|p| (mvpd.clone(), p))
        }
        _ => None,
    };
    Ok(profiles(found.into_iter().collect()))
}
