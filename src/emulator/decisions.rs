//! Decisions (§9): preauthorize (D1, at most 5 resources, no media token) and authorize (D2,
//! 1 resource, with a media token), following the account's entitlements and parental
//! controls. Denials are items inside an HTTP 200.

use std::time::Duration;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};

use crate::emulator::{
    dataset::Denial,
    dcr::Authorized,
    errors::{ApiError, ErrorCode},
    headers::{self, BodyType},
    profiles::ProfileKey,
    responses::{adobe_json, Decision, DecisionsResponse, MediaToken},
    state::{millis, EmulatorState},
    temppass::{self, Trial},
};
use crate::service::Resource;

/// Most resources one preauthorize call takes, unless the MVPD sets its own.
pub const PREAUTHORIZE_LIMIT: usize = 5;
/// Most resources one authorize call takes.
pub const AUTHORIZE_LIMIT: usize = 1;
/// Media token lifetime (§9.2: 7 minutes).
pub const MEDIA_TOKEN_TTL: Duration = Duration::from_secs(7 * 60);
/// How long a decision is valid (Adobe's authZ TTL), capped by the profile's end.
pub const DECISION_TTL: Duration = Duration::from_secs(3600);

/// Which decision endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Preauthorize,
    Authorize,
}

/// Reads `{"resources": [...]}`: a non-empty array of non-empty strings, else
/// `invalid_parameter_resources`.
pub(crate) fn resources(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ErrorCode::InvalidParameterResources)?;
    let list = value
        .get("resources")
        .and_then(|r| r.as_array())
        .filter(|r| !r.is_empty())
        .ok_or(ErrorCode::InvalidParameterResources)?;
    list.iter()
        .map(|r| {
            r.as_str()
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
                .ok_or_else(|| ErrorCode::InvalidParameterResources.into())
        })
        .collect()
}

/// A media token for `resource`, valid for [`MEDIA_TOKEN_TTL`] from `now` and signed with the
/// emulator's test key (see `src/emulator/media_token.rs`). Callers must treat it as opaque.
pub(crate) fn media_token(
    state: &EmulatorState,
    resource: &str,
    mvpd: &str,
    now: i64,
) -> MediaToken {
    let not_after = now.saturating_add(millis(MEDIA_TOKEN_TTL));
    let document = serde_json::json!({
        "issuer": "adobe-pass-emulator",
        "requestor": state.dataset().service_provider.id,
        "mvpd": mvpd,
        "resource": resource,
        "notBefore": now,
        "notAfter": not_after,
        "nonce": uuid::Uuid::new_v4().to_string(),
    });
    MediaToken {
        issued_at: None,
        not_before: now,
        not_after,
        serialized_token: crate::emulator::media_token::sign(document.to_string().as_bytes()),
    }
}

async fn decide(
    state: EmulatorState,
    kind: Kind,
    (service_provider, mvpd): (String, String),
    client_id: String,
    request_headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    headers::body_type(&request_headers, BodyType::Json)?;
    let (device_id, _) = headers::device(&request_headers)?;
    let entry = state.mvpd(&mvpd)?.clone();
    let resources = resources(&body)?;
    let limit = match kind {
        Kind::Preauthorize => entry.preauthorize_limit.unwrap_or(PREAUTHORIZE_LIMIT),
        Kind::Authorize => AUTHORIZE_LIMIT,
    };
    if resources.len() > limit {
        // §9: too_many_resources is 403, action configuration.
        return Err(ErrorCode::TooManyResources.into());
    }
    let now = state.now_ms();
    let sp = state.dataset().service_provider.id.clone();
    let item = |resource: &str, source: &str| Decision {
        resource: resource.to_owned(),
        service_provider: sp.clone(),
        mvpd: mvpd.clone(),
        source: source.to_owned(),
        authorized: false,
        token: None,
        not_before: None,
        not_after: None,
        error: None,
    };
    let permit = |resource: &str, source: &str, until: i64| Decision {
        authorized: true,
        token: (kind == Kind::Authorize).then(|| media_token(&state, resource, &mvpd, now)),
        not_before: Some(now),
        not_after: Some(until),
        ..item(resource, source)
    };
    let decisions = if let Some(rules) = &entry.temp_pass {
        let trial = Trial {
            device_id: &device_id,
            mvpd: &mvpd,
            rules,
            headers: &request_headers,
        };
        temppass::decide(
            &state,
            trial,
            &resources,
            kind == Kind::Authorize,
            |r, used| permit(r, "temppass", used.expires_at),
        )
    } else {
        let key = ProfileKey {
            client_id,
            device_id,
            mvpd: mvpd.clone(),
        };
        let stored = {
            let mut store = state.store();
            match store.profiles.get(&key) {
                Some(p) if p.not_after <= now => {
                    store.profiles.remove(&key);
                    Err(ErrorCode::AuthenticatedProfileExpired)
                }
                Some(p) => Ok(p.clone()),
                None => Err(ErrorCode::AuthenticatedProfileMissing),
            }
        };
        let account = stored.and_then(|p| {
            state
                .dataset()
                .account_named(&p.account)
                .cloned()
                .map(|a| (a, p.not_after))
                .ok_or(ErrorCode::AuthenticatedProfileMissing)
        });
        resources
            .iter()
            .map(|resource| {
                let (account, profile_end) = match &account {
                    Ok(found) => found,
                    Err(code) => {
                        return Decision {
                            error: Some(code.to_error()),
                            ..item(resource, "mvpd")
                        }
                    }
                };
                // §9: a resource is an id or an MRSS document, decided on by its channel title.
                let id = Resource::read(resource).map_or_else(|_| resource.clone(), |r| r.id);
                let known = state.dataset().resources.contains(&id);
                let denial = match (account.denied.get(&id), known) {
                    (Some(Denial::ParentalControls), _) => Some((
                        ErrorCode::AuthorizationDeniedByParentalControls,
                        "Parental controls block this title.",
                    )),
                    (Some(Denial::Mvpd), _) => Some((
                        mvpd_denial(kind),
                        "Your subscription package does not include this channel.",
                    )),
                    (None, false) => {
                        Some((mvpd_denial(kind), "The MVPD does not know this resource."))
                    }
                    (None, true) => None,
                };
                match denial {
                    Some((code, details)) => Decision {
                        error: Some(code.with_details(details)),
                        ..item(resource, "mvpd")
                    },
                    None => permit(
                        resource,
                        "mvpd",
                        (*profile_end).min(now.saturating_add(millis(DECISION_TTL))),
                    ),
                }
            })
            .collect()
    };
    Ok(adobe_json(StatusCode::OK, &DecisionsResponse { decisions }))
}

fn mvpd_denial(kind: Kind) -> ErrorCode {
    match kind {
        Kind::Preauthorize => ErrorCode::PreauthorizationDeniedByMvpd,
        Kind::Authorize => ErrorCode::AuthorizationDeniedByMvpd,
    }
}

/// D1 `POST /api/v2/{serviceProvider}/decisions/preauthorize/{mvpd}`.
pub async fn preauthorize(
    State(state): State<EmulatorState>,
    Path(path): Path<(String, String)>,
    Authorized(client_id): Authorized,
    request_headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    decide(
        state,
        Kind::Preauthorize,
        path,
        client_id,
        request_headers,
        body,
    )
    .await
}

/// D2 `POST /api/v2/{serviceProvider}/decisions/authorize/{mvpd}`.
pub async fn authorize(
    State(state): State<EmulatorState>,
    Path(path): Path<(String, String)>,
    Authorized(client_id): Authorized,
    request_headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    decide(
        state,
        Kind::Authorize,
        path,
        client_id,
        request_headers,
        body,
    )
    .await
}
