//! Answers the fault rules give in place of the emulator's own flows: decision items denied
//! with a given code (§9: inside an HTTP 200), and the degradation rules AuthNAll (§7.1
//! `reasonType: degraded`, §8.1 `degraded` profiles from P2 and P3, never P1), AuthZAll and
//! AuthZNone (§9.2, `source: degradation`); and S1 with a defaulted `redirectUrl`.

use std::collections::BTreeMap;

use axum::{
    body::{to_bytes, Body, Bytes},
    extract::{FromRequestParts, Request},
    http::{header, request::Parts, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::emulator::{
    dcr::Authorized,
    decisions::{media_token, resources, DECISION_TTL},
    errors::{ApiError, ErrorCode},
    faults::Degradation,
    headers,
    responses::{
        adobe_json, Attribute, Decision, DecisionsResponse, Profile, ProfilesResponse,
        SessionResponse,
    },
    sessions::{pending_session, Outcome},
    state::{millis, EmulatorState},
};

/// Largest request body read here (decisions and session forms are small).
const BODY_LIMIT: usize = 1 << 20;
/// How long a degraded profile lasts.
const DEGRADED_PROFILE_MS: i64 = 24 * 60 * 60 * 1000;
/// The `userID` prefix of degraded profiles (§8.1).
const DEGRADED_USER_PREFIX: &str = "95cf93bcd183214a";

/// The path after `/api/v2/{serviceProvider}/`, split on `/`.
pub(super) fn route(path: &str) -> Vec<&str> {
    path.strip_prefix("/api/v2/")
        .map(|rest| rest.split('/').skip(1).collect())
        .unwrap_or_default()
}

/// The request split into its head and body, or an answer when the body cannot be read.
async fn read(request: Request) -> Result<(Parts, Bytes), Response> {
    let (parts, body) = request.into_parts();
    to_bytes(body, BODY_LIMIT)
        .await
        .map(|bytes| (parts, bytes))
        .map_err(|_| ApiError::new(ErrorCode::InvalidParameterResources).into_response())
}

/// The resources a decisions request names, or the error answer.
async fn requested(request: Request) -> Result<Vec<String>, Response> {
    let (_, body) = read(request).await?;
    resources(&body).map_err(IntoResponse::into_response)
}

async fn pass_on(parts: Parts, body: Bytes, next: Next) -> Response {
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// D1/D2: every requested resource denied with `code`; other endpoints as usual.
pub async fn item_errors(
    state: &EmulatorState,
    request: Request,
    code: ErrorCode,
    next: Next,
) -> Response {
    let route = route(request.uri().path()).join("/");
    let Some(mvpd) = route
        .strip_prefix("decisions/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, mvpd)| mvpd.to_owned())
    else {
        return next.run(request).await;
    };
    let resources = match requested(request).await {
        Ok(resources) => resources,
        Err(answer) => return answer,
    };
    let service_provider = state.dataset().service_provider.id.clone();
    let decisions = resources
        .into_iter()
        .map(|resource| Decision {
            resource,
            service_provider: service_provider.clone(),
            mvpd: mvpd.clone(),
            source: "mvpd".to_owned(),
            authorized: false,
            token: None,
            not_before: None,
            not_after: None,
            error: Some(code.to_error()),
        })
        .collect();
    adobe_json(StatusCode::OK, &DecisionsResponse { decisions })
}

/// A degradation rule in force.
#[derive(Clone, Copy, Debug)]
pub struct Rule<'a> {
    /// The MVPD under the rule.
    pub mvpd: &'a str,
    /// Which rule.
    pub kind: Degradation,
    /// AuthZAll and AuthZNone decide for devices without a profile too.
    pub without_profile: bool,
}

/// The caller's client id, once its access token and device headers pass the basic checks the
/// endpoints make before looking at degradation rules; else the error answer.
async fn basic_checks(state: &EmulatorState, parts: &mut Parts) -> Result<String, Response> {
    let Authorized(client_id) = Authorized::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    headers::device(&parts.headers).map_err(IntoResponse::into_response)?;
    Ok(client_id)
}

/// Whether the device has a live profile for `mvpd`.
fn authenticated(state: &EmulatorState, client_id: &str, device_id: &str, mvpd: &str) -> bool {
    let now = state.now_ms();
    state.store().profiles.iter().any(|(key, profile)| {
        key.client_id == client_id
            && key.device_id == device_id
            && key.mvpd == mvpd
            && profile.not_after > now
    })
}

/// The `authorize` answer of S1 and S2 under AuthNAll (§7.1, fixture
/// `sessions-resume-authorize-degraded-200.json`: no code, no validity window).
fn authorize_degraded(service_provider: String, mvpd: &str) -> Response {
    adobe_json(
        StatusCode::OK,
        &SessionResponse {
            action_name: "authorize".to_owned(),
            action_type: "direct".to_owned(),
            reason_type: "degraded".to_owned(),
            url: Some(format!(
                "/api/v2/{service_provider}/decisions/authorize/{mvpd}"
            )),
            missing_parameters: None,
            code: None,
            session_id: uuid::Uuid::new_v4().to_string(),
            mvpd: Some(mvpd.to_owned()),
            service_provider,
            not_before: None,
            not_after: None,
            authentication_request: None,
        },
    )
}

/// A degradation rule on `rule.mvpd`: AuthNAll answers sessions, P2, P3 and decisions for it;
/// AuthZAll and AuthZNone answer its decisions for authenticated devices (all devices with
/// `without_profile`). Everything else goes the basic way.
pub async fn degraded(
    state: &EmulatorState,
    request: Request,
    rule: Rule<'_>,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let route = route(&path);
    let service_provider = state.dataset().service_provider.id.clone();
    let mvpd = rule.mvpd;
    let authn_all = rule.kind == Degradation::AuthNAll;
    match (&method, route.as_slice()) {
        (&Method::POST, ["sessions"]) if authn_all => {
            let (mut parts, body) = match read(request).await {
                Ok(read) => read,
                Err(answer) => return answer,
            };
            if form_mvpd(&body).as_deref() != Some(mvpd) {
                return pass_on(parts, body, next).await;
            }
            if let Err(answer) = basic_checks(state, &mut parts).await {
                return answer;
            }
            authorize_degraded(service_provider, mvpd)
        }
        (&Method::POST, ["sessions", code]) if authn_all => {
            let code = (*code).to_owned();
            let (mut parts, body) = match read(request).await {
                Ok(read) => read,
                Err(answer) => return answer,
            };
            if let Err(answer) = Authorized::from_request_parts(&mut parts, state).await {
                return answer.into_response();
            }
            // §7.3: what S1 set stays; S2 fills in the MVPD otherwise.
            let now = state.now_ms();
            let degraded = {
                let mut store = state.store();
                match pending_session(&mut store, &code, now) {
                    Ok(session)
                        if session.mvpd.clone().or_else(|| form_mvpd(&body)).as_deref()
                            == Some(mvpd) =>
                    {
                        session.mvpd = Some(mvpd.to_owned());
                        session.outcome = Outcome::Authenticated;
                        true
                    }
                    _ => false,
                }
            };
            if degraded {
                authorize_degraded(service_provider, mvpd)
            } else {
                pass_on(parts, body, next).await
            }
        }
        (&Method::GET, ["profiles", asked]) if authn_all && *asked == mvpd => {
            let (mut parts, _) = request.into_parts();
            if let Err(answer) = basic_checks(state, &mut parts).await {
                return answer;
            }
            let device = headers::device_identifier(&parts.headers).unwrap_or_default();
            degraded_profiles(&device, mvpd, state.now_ms())
        }
        (&Method::GET, ["profiles", "code", code]) if authn_all => {
            let (mut parts, body) = request.into_parts();
            if let Err(answer) = Authorized::from_request_parts(&mut parts, state).await {
                return answer.into_response();
            }
            let request = Request::from_parts(parts, body);
            let now = state.now_ms();
            let device = state
                .store()
                .sessions
                .get(*code)
                .filter(|s| s.not_after > now && s.mvpd.as_deref() == Some(mvpd))
                .map(|s| s.device_id.clone());
            match device {
                Some(device) => degraded_profiles(&device, mvpd, now),
                None => next.run(request).await,
            }
        }
        (&Method::POST, ["decisions", kind, asked]) if *asked == mvpd => {
            let authorize = *kind == "authorize";
            let (mut parts, body) = match read(request).await {
                Ok(read) => read,
                Err(answer) => return answer,
            };
            let client_id = match basic_checks(state, &mut parts).await {
                Ok(client_id) => client_id,
                Err(answer) => return answer,
            };
            let device = headers::device_identifier(&parts.headers).unwrap_or_default();
            let applies = authn_all
                || rule.without_profile
                || authenticated(state, &client_id, &device, mvpd);
            if !applies {
                return pass_on(parts, body, next).await;
            }
            let resources = match resources(&body) {
                Ok(resources) => resources,
                Err(error) => return error.into_response(),
            };
            let now = state.now_ms();
            let decisions = resources
                .into_iter()
                .map(|resource| {
                    let item = Decision {
                        token: None,
                        resource,
                        service_provider: service_provider.clone(),
                        mvpd: mvpd.to_owned(),
                        source: "degradation".to_owned(),
                        authorized: false,
                        not_before: None,
                        not_after: None,
                        error: None,
                    };
                    match rule.kind {
                        Degradation::AuthZNone => Decision {
                            error: Some(ErrorCode::AuthorizationDeniedByDegradationRule.to_error()),
                            ..item
                        },
                        // §9.2's samples: AuthNAll permits carry the decision's validity
                        // window, AuthZAll permits do not.
                        Degradation::AuthNAll | Degradation::AuthZAll => Decision {
                            token: authorize.then(|| media_token(state, &item.resource, mvpd, now)),
                            authorized: true,
                            not_before: authn_all.then_some(now),
                            not_after: authn_all.then(|| now.saturating_add(millis(DECISION_TTL))),
                            ..item
                        },
                    }
                })
                .collect();
            adobe_json(StatusCode::OK, &DecisionsResponse { decisions })
        }
        _ => next.run(request).await,
    }
}

/// S1 without a `redirectUrl` gets `redirect` added to its form; every other request is passed
/// on unchanged.
pub async fn default_redirect(request: Request, redirect: &str, next: Next) -> Response {
    if request.method() != Method::POST || route(request.uri().path()) != ["sessions"] {
        return next.run(request).await;
    }
    let (mut parts, body) = match read(request).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let given = url::form_urlencoded::parse(&body)
        .any(|(name, value)| name == "redirectUrl" && !value.trim().is_empty());
    if given {
        return pass_on(parts, body, next).await;
    }
    // The serializer is not `Send`: it must be gone before the await.
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(&body).filter(|(name, _)| name != "redirectUrl"))
        .append_pair("redirectUrl", redirect)
        .finish();
    parts.headers.remove(header::CONTENT_LENGTH);
    pass_on(parts, Bytes::from(form), next).await
}

/// The `mvpd` field of a session form.
pub(super) fn form_mvpd(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "mvpd")
        .map(|(_, value)| value.into_owned())
}

/// The degraded profile of `device` for `mvpd` (§8.1: issuer Adobe, a prefixed `userID`).
fn degraded_profiles(device: &str, mvpd: &str, now: i64) -> Response {
    let user = format!(
        "{DEGRADED_USER_PREFIX}{:x}",
        Sha256::digest(format!("{device}/{mvpd}").as_bytes())
    );
    let profile = Profile {
        not_before: now,
        not_after: now.saturating_add(DEGRADED_PROFILE_MS),
        issuer: "Adobe".to_owned(),
        kind: "degraded".to_owned(),
        attributes: BTreeMap::from([("userID".to_owned(), Attribute::plain(user))]),
        session_id: None,
    };
    adobe_json(
        StatusCode::OK,
        &ProfilesResponse {
            profiles: BTreeMap::from([(mvpd.to_owned(), profile)]),
        },
    )
}
