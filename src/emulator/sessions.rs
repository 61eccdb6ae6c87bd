//! Authentication sessions (§7): create (S1), resume (S2), retrieve (S3) and the browser
//! authenticate URL (S4). Codes are 7 characters A–Z0–9, unique among live sessions, and die
//! at expiry, on completion or cancel, and when the same device starts a new session.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::emulator::{
    dcr::Authorized,
    device,
    errors::{ApiError, ErrorCode},
    headers::{self, BodyType},
    login::LOGIN_PATH,
    profiles::{ProfileKey, ProfileKind},
    responses::{adobe_json, Device, SessionResponse, SessionStatusResponse},
    state::{millis, EmulatorState, Store},
};

/// Characters codes are made of.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Code length.
pub const CODE_LENGTH: usize = 7;

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Waiting for parameters or for the user to log in.
    Pending,
    /// The user logged in; profiles by code returns the profile.
    Authenticated,
    /// The user cancelled at the login page.
    Cancelled,
}

/// An authentication session.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Session {
    /// Tracking id.
    pub id: String,
    /// The code.
    pub code: String,
    /// The client that created it.
    pub client_id: String,
    /// The streaming device's identifier.
    pub device_id: String,
    /// The streaming device as described at creation.
    pub device: Device,
    /// Chosen MVPD.
    pub mvpd: Option<String>,
    /// Originating domain.
    pub domain_name: Option<String>,
    /// Where the browser goes when done.
    pub redirect_url: Option<String>,
    /// Epoch ms.
    pub not_before: i64,
    /// Epoch ms.
    pub not_after: i64,
    /// Where it stands.
    pub outcome: Outcome,
}

impl Session {
    /// Parameter names still missing, spelled as Adobe emits them.
    pub fn missing_parameters(&self) -> Vec<String> {
        [
            ("mvpd", self.mvpd.is_none()),
            ("domainName", self.domain_name.is_none()),
            ("redirectUrl", self.redirect_url.is_none()),
        ]
        .into_iter()
        .filter(|(_, missing)| *missing)
        .map(|(name, _)| name.to_owned())
        .collect()
    }

    /// The profile key this session's login creates.
    pub fn profile_key(&self, mvpd: &str) -> ProfileKey {
        ProfileKey {
            client_id: self.client_id.clone(),
            device_id: self.device_id.clone(),
            mvpd: mvpd.to_owned(),
        }
    }
}

/// The form fields of S1, S2 and X1; empty values count as absent.
#[derive(Clone, Debug, Default)]
pub struct Parameters {
    /// `mvpd`.
    pub mvpd: Option<String>,
    /// `domainName` (or `domain`, as one DOC sample spells it).
    pub domain_name: Option<String>,
    /// `redirectUrl`.
    pub redirect_url: Option<String>,
}

impl Parameters {
    /// Parses and checks a form body: an unknown MVPD gives `invalid_parameter_mvpd`, a
    /// redirect URL that is not absolute http(s) on a registered domain gives
    /// `invalid_parameter_redirect_url`, a domain name that is not registered
    /// `invalid_parameter_domain_name`.
    pub fn parse(state: &EmulatorState, body: &[u8]) -> Result<Self, ApiError> {
        let mut params = Self::default();
        for (name, value) in url::form_urlencoded::parse(body) {
            let value = Some(value.trim().to_owned()).filter(|v| !v.is_empty());
            match name.as_ref() {
                "mvpd" => params.mvpd = value,
                "domainName" | "domain" => params.domain_name = value,
                "redirectUrl" => params.redirect_url = value,
                _ => {}
            }
        }
        if let Some(mvpd) = &params.mvpd {
            state.mvpd(mvpd)?;
        }
        if let Some(url) = &params.redirect_url {
            check_registered_redirect(state, url)?;
        }
        if let Some(domain) = &params.domain_name {
            if !state.is_registered_domain(domain) {
                return Err(ErrorCode::InvalidParameterDomainName.into());
            }
        }
        Ok(params)
    }
}

/// A redirect URL an Adobe endpoint accepts: absolute http(s), on one of the service
/// provider's registered domains (TVE Dashboard, registered applications).
pub fn check_registered_redirect(state: &EmulatorState, url: &str) -> Result<url::Url, ApiError> {
    check_redirect_url(url).and_then(|parsed| {
        parsed
            .host_str()
            .is_some_and(|host| state.is_registered_domain(host))
            .then_some(parsed)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidParameterRedirectUrl)
                    .with_details("the host is not a registered domain of the service provider")
            })
    })
}

/// Accepts only absolute http(s) URLs.
pub fn check_redirect_url(url: &str) -> Result<url::Url, ApiError> {
    url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| ErrorCode::InvalidParameterRedirectUrl.into())
}

/// Checks a code's format.
pub fn check_code(code: &str) -> Result<(), ApiError> {
    let well_formed = code.len() == CODE_LENGTH && code.bytes().all(|b| CODE_ALPHABET.contains(&b));
    if well_formed {
        Ok(())
    } else {
        Err(ErrorCode::InvalidParameterCode.into())
    }
}

/// The live, pending session with this code (S2, S3, S4).
pub fn pending_session<'a>(
    store: &'a mut Store,
    code: &str,
    now: i64,
) -> Result<&'a mut Session, ApiError> {
    check_code(code)?;
    store
        .sessions
        .get_mut(code)
        .filter(|s| s.not_after > now && s.outcome == Outcome::Pending)
        .ok_or_else(|| ErrorCode::InvalidAuthenticationSession.into())
}

fn new_code(store: &Store) -> String {
    let mut rng = rand::rng();
    loop {
        let code: String = (0..CODE_LENGTH)
            .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
            .collect();
        if !store.sessions.contains_key(&code) {
            return code;
        }
    }
}

/// Starts a session for a device, killing that device's earlier sessions and any expired one.
pub fn start(
    state: &EmulatorState,
    client_id: &str,
    device_id: &str,
    device: Device,
    params: Parameters,
) -> Session {
    let now = state.now_ms();
    let mut store = state.store();
    store.sessions.retain(|_, s| {
        s.not_after > now && !(s.client_id == client_id && s.device_id == device_id)
    });
    let session = Session {
        id: uuid::Uuid::new_v4().to_string(),
        code: new_code(&store),
        client_id: client_id.to_owned(),
        device_id: device_id.to_owned(),
        device,
        mvpd: params.mvpd,
        domain_name: params.domain_name,
        redirect_url: params.redirect_url,
        not_before: now,
        not_after: now.saturating_add(millis(state.ttls().session)),
        outcome: Outcome::Pending,
    };
    store.sessions.insert(session.code.clone(), session.clone());
    session
}

/// The `authorize` answer when the device can already watch on `mvpd` (a TempPass MVPD, or
/// a live profile), else `None`.
pub fn authorize_shortcut(
    state: &EmulatorState,
    key: &ProfileKey,
    session_id: &str,
    sso_reason: bool,
) -> Option<SessionResponse> {
    let mvpd = state.dataset().mvpd(&key.mvpd)?;
    let reason = if mvpd.temp_pass.is_some() {
        "temporary"
    } else {
        let now = state.now_ms();
        let store = state.store();
        let profile = store.profiles.get(key).filter(|p| p.not_after > now)?;
        match profile.kind {
            ProfileKind::AppleSso if sso_reason => "authenticatedSSO",
            _ => "authenticated",
        }
    };
    let service_provider = state.dataset().service_provider.id.clone();
    Some(SessionResponse {
        action_name: "authorize".to_owned(),
        action_type: "direct".to_owned(),
        reason_type: reason.to_owned(),
        url: Some(format!(
            "/api/v2/{service_provider}/decisions/authorize/{}",
            key.mvpd
        )),
        missing_parameters: None,
        code: None,
        session_id: session_id.to_owned(),
        mvpd: Some(key.mvpd.clone()),
        service_provider,
        not_before: None,
        not_after: None,
        authentication_request: None,
    })
}

/// The `authenticate` / `resume` / `retry` answer for a session.
pub fn next_step(state: &EmulatorState, session: &Session, resuming: bool) -> SessionResponse {
    let service_provider = state.dataset().service_provider.id.clone();
    let missing = session.missing_parameters();
    let (action_name, action_type, url, missing) = if missing.is_empty() {
        (
            "authenticate",
            "interactive",
            format!("/api/v2/authenticate/{service_provider}/{}", session.code),
            None,
        )
    } else {
        (
            if resuming { "retry" } else { "resume" },
            "direct",
            format!("/api/v2/{service_provider}/sessions/{}", session.code),
            Some(missing),
        )
    };
    SessionResponse {
        action_name: action_name.to_owned(),
        action_type: action_type.to_owned(),
        reason_type: "none".to_owned(),
        url: Some(url),
        missing_parameters: missing,
        code: Some(session.code.clone()),
        session_id: session.id.clone(),
        mvpd: session.mvpd.clone(),
        service_provider,
        not_before: Some(session.not_before.to_string()),
        not_after: Some(session.not_after.to_string()),
        authentication_request: None,
    }
}

/// S1 `POST /api/v2/{serviceProvider}/sessions`.
pub async fn create(
    State(state): State<EmulatorState>,
    Path(service_provider): Path<String>,
    Authorized(client_id): Authorized,
    request_headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    headers::body_type(&request_headers, BodyType::Form)?;
    let (device_id, info) = headers::device(&request_headers)?;
    let params = Parameters::parse(&state, &body)?;
    if let Some(mvpd) = &params.mvpd {
        let key = ProfileKey {
            client_id: client_id.clone(),
            device_id: device_id.clone(),
            mvpd: mvpd.clone(),
        };
        let session_id = uuid::Uuid::new_v4().to_string();
        if let Some(answer) = authorize_shortcut(&state, &key, &session_id, true) {
            return Ok(adobe_json(StatusCode::OK, &answer));
        }
    }
    let session = start(
        &state,
        &client_id,
        &device_id,
        device::from_info(&info),
        params,
    );
    Ok(adobe_json(
        StatusCode::OK,
        &next_step(&state, &session, false),
    ))
}

/// S2 `POST /api/v2/{serviceProvider}/sessions/{code}`: fills in missing parameters (those S1
/// already set stay as they are).
pub async fn resume(
    State(state): State<EmulatorState>,
    Path((service_provider, code)): Path<(String, String)>,
    Authorized(_client): Authorized,
    request_headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    // The secondary-application flow lists AP-Device-Identifier as required on S2.
    if !state.readings().unbound_code_calls {
        headers::device_identifier(&request_headers)?;
    }
    headers::body_type(&request_headers, BodyType::Form)?;
    let params = Parameters::parse(&state, &body)?;
    let now = state.now_ms();
    let session = {
        let mut store = state.store();
        let session = pending_session(&mut store, &code, now)?;
        // §7.3: S2 supplies missing parameters; what S1 set stays.
        session.mvpd = session.mvpd.take().or(params.mvpd);
        session.domain_name = session.domain_name.take().or(params.domain_name);
        session.redirect_url = session.redirect_url.take().or(params.redirect_url);
        session.clone()
    };
    if session.missing_parameters().is_empty() {
        if let Some(mvpd) = &session.mvpd {
            let key = session.profile_key(mvpd);
            if let Some(answer) = authorize_shortcut(&state, &key, &session.id, false) {
                return Ok(adobe_json(StatusCode::OK, &answer));
            }
        }
    }
    Ok(adobe_json(
        StatusCode::OK,
        &next_step(&state, &session, true),
    ))
}

/// S3 `GET /api/v2/{serviceProvider}/sessions/{code}`.
pub async fn retrieve(
    State(state): State<EmulatorState>,
    Path((service_provider, code)): Path<(String, String)>,
    Authorized(_client): Authorized,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    let now = state.now_ms();
    let mut store = state.store();
    let session = pending_session(&mut store, &code, now)?;
    let mut existing = BTreeMap::new();
    let known = [
        ("mvpd", &session.mvpd),
        ("domainName", &session.domain_name),
        ("redirectUrl", &session.redirect_url),
    ];
    for (name, value) in known {
        if let Some(value) = value {
            existing.insert(name.to_owned(), value.clone());
        }
    }
    existing.insert("serviceProvider".to_owned(), service_provider);
    let missing = session.missing_parameters();
    let body = SessionStatusResponse {
        missing_parameters: Some(missing).filter(|m| !m.is_empty()),
        existing_parameters: existing,
        device: Some(session.device.clone()),
        not_before: session.not_before.to_string(),
        not_after: session.not_after.to_string(),
    };
    Ok(adobe_json(StatusCode::OK, &body))
}

/// An HTML error page for the browser endpoints (S4 answers errors as `text/html`, §7.5).
pub fn html_error(status: StatusCode, title: &str, detail: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         </head><body><h1>{title}</h1><p>{detail}</p></body></html>"
    );
    (status, Html(page)).into_response()
}

/// S4 `GET /api/v2/authenticate/{serviceProvider}/{code}`: 302 to the mock MVPD login on
/// the emulator's own origin. Errors are 400 HTML pages.
pub async fn authenticate(
    State(state): State<EmulatorState>,
    Path((service_provider, code)): Path<(String, String)>,
) -> Response {
    let problem = |detail: &str| html_error(StatusCode::BAD_REQUEST, "Cannot sign in", detail);
    if state.check_service_provider(&service_provider).is_err() {
        return problem("The service provider is unknown.");
    }
    let now = state.now_ms();
    let mut store = state.store();
    let session = match pending_session(&mut store, &code, now) {
        Ok(session) => session,
        Err(_) => {
            return problem("This code is unknown, used or expired. Start again for a new code.")
        }
    };
    if !session.missing_parameters().is_empty() {
        return problem("This session still lacks a provider, domain or redirect URL.");
    }
    let location = format!("{}{LOGIN_PATH}/{code}", state.public_url());
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_seven_upper_alphanumerics() {
        assert!(check_code("8ER640M").is_ok());
        for bad in ["8er640m", "8ER640", "8ER640MM", "8ER-40M"] {
            assert!(check_code(bad).is_err(), "{bad}");
        }
        let code = new_code(&Store::default());
        assert!(check_code(&code).is_ok(), "{code}");
    }
}
