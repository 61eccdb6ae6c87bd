//! Adobe's Degradation API (premium, licensed; "Degradation Feature" and "Degradation API
//! Overview" pages): a programmer applies, lists and removes degradation rules on its
//! integrations with an MVPD, each for a fixed period, with a DCR access token; the rules in
//! force then answer REST API V2 for that MVPD as the degraded-access flows describe (see
//! [`apply_rules`]). Adobe's reference for the endpoints is a PDF outside the public pages:
//! the paths and bodies here are the emulator's rendering (docs/adobe-pass-conformance.md).
//!
//! - `GET /degradation/v3/{serviceProvider}/rules`: the rules in force;
//! - `PUT /degradation/v3/{serviceProvider}/rules/{mvpd}` with `{"rule": "AuthNAll" |
//!   "AuthZAll" | "AuthZNone", "ttl": <seconds>}`: applies a rule, replacing the one in force,
//!   and answers it (`serviceProvider`, `mvpd`, `rule`, `appliedAt`, `expiresAt`);
//! - `DELETE /degradation/v3/{serviceProvider}/rules/{mvpd}`: removes it and answers it (404
//!   `degradation_rule_not_found` when none is in force).

use axum::{
    body::{Body, Bytes},
    extract::{Path, Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use crate::emulator::{
    dcr::Authorized,
    degradation::{self, route},
    degradation_rules::AppliedRule,
    errors::{ApiError, EnhancedError, ErrorCode, HELP_URL},
    faults::Degradation,
    responses::adobe_json,
    state::EmulatorState,
};

/// Where the Degradation API is served.
pub const BASE_PATH: &str = "/degradation/v3";
/// Largest body read here.
const BODY_LIMIT: usize = 1 << 20;

/// The body that applies a rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyRule {
    /// Which rule.
    rule: Degradation,
    /// For how long, in seconds (required: a rule is only applied for a fixed period).
    ttl: u32,
}

/// The rules in force.
#[derive(Debug, Serialize)]
struct RulesList {
    rules: Vec<AppliedRule>,
}

/// A 400 or 404 of the Degradation API, in the Enhanced Error shape.
fn refusal(status: StatusCode, code: &str, message: String) -> ApiError {
    ApiError {
        http_status: status,
        error: Box::new(EnhancedError {
            action: "none".to_owned(),
            status: status.as_u16(),
            code: code.to_owned(),
            message,
            details: None,
            help_url: HELP_URL.to_owned(),
            trace: Some(uuid::Uuid::new_v4().to_string()),
        }),
    }
}

/// The integration's MVPD, once the service provider and MVPD are known.
fn integration(state: &EmulatorState, service_provider: &str, mvpd: &str) -> Result<(), ApiError> {
    state.check_service_provider(service_provider)?;
    state.mvpd(mvpd).map(|_| ())
}

/// `GET …/rules`: the rules in force on the service provider's integrations.
pub async fn list(
    State(state): State<EmulatorState>,
    _: Authorized,
    Path(service_provider): Path<String>,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    let rules = state.degradation_rules().in_force(state.now_ms());
    Ok(adobe_json(StatusCode::OK, &RulesList { rules }))
}

/// `PUT …/rules/{mvpd}`: applies a rule for `ttl` seconds from now; answers the rule.
pub async fn apply(
    State(state): State<EmulatorState>,
    _: Authorized,
    Path((service_provider, mvpd)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    integration(&state, &service_provider, &mvpd)?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if !json {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
    }
    let asked: ApplyRule = serde_json::from_slice(&body).map_err(|e| {
        refusal(
            StatusCode::BAD_REQUEST,
            "invalid_parameter_rule",
            format!("The rule is missing or invalid: {e}."),
        )
    })?;
    if asked.ttl == 0 {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "invalid_parameter_ttl",
            "The ttl must be a positive number of seconds.".to_owned(),
        ));
    }
    let now = state.now_ms();
    let rule = AppliedRule {
        service_provider,
        mvpd,
        rule: asked.rule,
        applied_at: now,
        expires_at: now.saturating_add(i64::from(asked.ttl).saturating_mul(1000)),
    };
    state.degradation_rules().apply(rule.clone());
    Ok(adobe_json(StatusCode::OK, &rule))
}

/// `DELETE …/rules/{mvpd}`: removes the rule in force and answers it, or 404 when there is
/// none.
pub async fn remove(
    State(state): State<EmulatorState>,
    _: Authorized,
    Path((service_provider, mvpd)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    integration(&state, &service_provider, &mvpd)?;
    match state.degradation_rules().remove(&mvpd, state.now_ms()) {
        Some(rule) => Ok(adobe_json(StatusCode::OK, &rule)),
        None => Err(refusal(
            StatusCode::NOT_FOUND,
            "degradation_rule_not_found",
            format!("No degradation rule is applied to the integration with {mvpd}."),
        )),
    }
}

/// The MVPD a REST API V2 request concerns, as far as degradation rules go: the one in the
/// path (P2, D1, D2), in the session form (S1, S2) or set on the session (S2, P3).
fn request_mvpd(state: &EmulatorState, method: &Method, path: &str, body: &[u8]) -> Option<String> {
    let route = route(path);
    let form = || degradation::form_mvpd(body);
    let session = |code: &str| {
        state
            .store()
            .sessions
            .get(code)
            .and_then(|s| s.mvpd.clone())
    };
    match (method, route.as_slice()) {
        (&Method::POST, ["sessions"]) => form(),
        (&Method::POST, ["sessions", code]) => session(code).or_else(form),
        (&Method::GET, ["profiles", "code", code]) => session(code),
        (&Method::GET, ["profiles", mvpd]) => Some((*mvpd).to_owned()),
        (&Method::POST, ["decisions", _, mvpd]) => Some((*mvpd).to_owned()),
        _ => None,
    }
}

/// Middleware: a request concerning an MVPD under a rule in force is answered as the rule
/// says (authenticated devices only for AuthZAll and AuthZNone); every other passes on.
pub async fn apply_rules(
    State(state): State<EmulatorState>,
    request: Request,
    next: Next,
) -> Response {
    if !state.degradation_rules().any_in_force(state.now_ms()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::new(ErrorCode::InvalidParameterResources).into_response();
    };
    let mvpd = request_mvpd(&state, &parts.method, parts.uri.path(), &body);
    let request = Request::from_parts(parts, Body::from(body));
    let now = state.now_ms();
    let Some(rule) = mvpd.and_then(|m| state.degradation_rules().for_mvpd(&m, now)) else {
        return next.run(request).await;
    };
    let rule = degradation::Rule {
        mvpd: &rule.mvpd,
        kind: rule.rule,
        without_profile: false,
    };
    degradation::degraded(&state, request, rule, next).await
}
