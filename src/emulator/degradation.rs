//! Answers the fault rules give in place of the emulator's own flows: decision items denied
//! with a given code (§9: inside an HTTP 200), and degraded access under an AuthNAll rule
//! (§7.1 `reasonType: degraded`, §8.1 `degraded` profiles, §9.2 `source: degradation`).

use std::collections::BTreeMap;

use axum::{
    body::{to_bytes, Body, Bytes},
    extract::Request,
    http::{request::Parts, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::emulator::{
    decisions::{media_token, resources},
    errors::{ApiError, ErrorCode},
    headers,
    responses::{
        adobe_json, Attribute, Decision, DecisionsResponse, Profile, ProfilesResponse,
        SessionResponse,
    },
    state::EmulatorState,
};

/// Largest request body read here (decisions and session forms are small).
const BODY_LIMIT: usize = 1 << 20;
/// How long a degraded profile lasts.
const DEGRADED_PROFILE_MS: i64 = 24 * 60 * 60 * 1000;
/// The `userID` prefix of degraded profiles (§8.1).
const DEGRADED_USER_PREFIX: &str = "95cf93bcd183214a";

/// The path after `/api/v2/{serviceProvider}/`, split on `/`.
fn route(path: &str) -> Vec<&str> {
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

/// Degraded access to `mvpd`: sessions answer `authorize`, profiles are degraded, decisions
/// permit; everything else as usual.
pub async fn degraded(state: &EmulatorState, request: Request, mvpd: &str, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let route = route(&path);
    let service_provider = state.dataset().service_provider.id.clone();
    let now = state.now_ms();
    match (&method, route.as_slice()) {
        (&Method::POST, ["sessions"] | ["sessions", _]) => {
            let (parts, body) = match read(request).await {
                Ok(read) => read,
                Err(answer) => return answer,
            };
            let asked = url::form_urlencoded::parse(&body)
                .find(|(name, _)| name == "mvpd")
                .map(|(_, value)| value.into_owned());
            if asked.as_deref() != Some(mvpd) {
                return pass_on(parts, body, next).await;
            }
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
        (&Method::GET, ["profiles"]) => degraded_profiles(&request, mvpd, now),
        (&Method::GET, ["profiles", asked]) if *asked == mvpd => {
            degraded_profiles(&request, mvpd, now)
        }
        (&Method::POST, ["decisions", kind, asked]) if *asked == mvpd => {
            let authorize = *kind == "authorize";
            let resources = match requested(request).await {
                Ok(resources) => resources,
                Err(answer) => return answer,
            };
            let decisions = resources
                .into_iter()
                .map(|resource| Decision {
                    token: authorize.then(|| media_token(state, &resource, mvpd, now)),
                    resource,
                    service_provider: service_provider.clone(),
                    mvpd: mvpd.to_owned(),
                    source: "degradation".to_owned(),
                    authorized: true,
                    not_before: None,
                    not_after: None,
                    error: None,
                })
                .collect();
            adobe_json(StatusCode::OK, &DecisionsResponse { decisions })
        }
        _ => next.run(request).await,
    }
}

/// The device's degraded profile for `mvpd` (§8.1: issuer Adobe, a prefixed `userID`).
fn degraded_profiles(request: &Request, mvpd: &str, now: i64) -> Response {
    let device = headers::device_identifier(request.headers()).unwrap_or_default();
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
