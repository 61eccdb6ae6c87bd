//! Partner (Apple) single sign-on (§13): X1 answers with a SAML request or one of the
//! documented fallbacks; X2 turns the partner's SAML response into an `appleSSO` profile.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use base64::{engine::general_purpose::STANDARD, Engine};

use crate::emulator::{
    dataset::MvpdEntry,
    dcr::Authorized,
    device,
    errors::{ApiError, ErrorCode},
    headers::{self, BodyType},
    profiles::{self, ProfileKey, ProfileKind},
    responses::{adobe_json, AuthenticationRequest, ProfilesResponse},
    sessions::{self, Parameters},
    state::EmulatorState,
};

/// The only partner.
pub const APPLE: &str = "Apple";

/// Reads `AP-Partner-Framework-Status` (§3.2) and finds the MVPD it names.
pub fn framework_mvpd(
    state: &EmulatorState,
    request_headers: &HeaderMap,
) -> Result<MvpdEntry, ErrorCode> {
    let status = headers::text(request_headers, "ap-partner-framework-status")
        .and_then(headers::base64_json_object)
        .ok_or(ErrorCode::InvalidHeaderPfsPermissionAccessNotPresent)?;
    let access = status
        .get("frameworkPermissionInfo")
        .and_then(|p| p.get("accessStatus"))
        .and_then(|a| a.as_str())
        .ok_or(ErrorCode::InvalidHeaderPfsPermissionAccessNotPresent)?;
    match access {
        "granted" => {}
        "notDetermined" => return Err(ErrorCode::InvalidHeaderPfsPermissionAccessNotDetermined),
        _ => return Err(ErrorCode::InvalidHeaderPfsPermissionAccessNotGranted),
    }
    let provider = status.get("frameworkProviderInfo");
    let id = provider
        .and_then(|p| p.get("id"))
        .and_then(|id| id.as_str())
        .filter(|id| !id.is_empty())
        .ok_or(ErrorCode::InvalidHeaderPfsProviderIdNotDetermined)?;
    let expires: i64 = provider
        .and_then(|p| p.get("expirationDate"))
        .and_then(|e| {
            e.as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| e.as_i64())
        })
        .ok_or(ErrorCode::InvalidHeaderPfsProviderInfoExpired)?;
    if expires <= state.now_ms() {
        return Err(ErrorCode::InvalidHeaderPfsProviderInfoExpired);
    }
    state
        .dataset()
        .mvpds
        .iter()
        .find(|m| m.platform_mapping_id.as_deref() == Some(id))
        .cloned()
        .ok_or(ErrorCode::InvalidHeaderPfsProviderIdMismatch)
}

/// The MVPD the partner framework status names, even when the status is not usable; the
/// fallback session starts with it (as the documented `pfs_fallback` sample does).
fn provider_hint(state: &EmulatorState, request_headers: &HeaderMap) -> Option<String> {
    let status = headers::text(request_headers, "ap-partner-framework-status")
        .and_then(headers::base64_json_object)?;
    let id = status.get("frameworkProviderInfo")?.get("id")?.as_str()?;
    state
        .dataset()
        .mvpds
        .iter()
        .find(|m| m.platform_mapping_id.as_deref() == Some(id))
        .map(|m| m.id.clone())
}

fn check_partner(partner: &str) -> Result<(), ApiError> {
    if partner == APPLE {
        Ok(())
    } else {
        Err(ErrorCode::InvalidParameterPartner.into())
    }
}

/// X1 `POST /api/v2/{serviceProvider}/sessions/sso/{partner}`.
pub async fn session(
    State(state): State<EmulatorState>,
    Path((service_provider, partner)): Path<(String, String)>,
    Authorized(client_id): Authorized,
    request_headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    check_partner(&partner)?;
    headers::body_type(&request_headers, BodyType::Form)?;
    let (device_id, info) = headers::device(&request_headers)?;
    let mut params = Parameters::parse(&state, &body)?;
    let framework = framework_mvpd(&state, &request_headers);
    if params.mvpd.is_none() {
        params.mvpd = provider_hint(&state, &request_headers);
    }
    if let Ok(mvpd) = &framework {
        params.mvpd = Some(mvpd.id.clone());
        let key = ProfileKey {
            client_id: client_id.clone(),
            device_id: device_id.clone(),
            mvpd: mvpd.id.clone(),
        };
        let session_id = uuid::Uuid::new_v4().to_string();
        if let Some(answer) = sessions::authorize_shortcut(&state, &key, &session_id, true) {
            return Ok(adobe_json(StatusCode::OK, &answer));
        }
    }
    let partner_ready = framework.as_ref().is_ok_and(|m| m.enable_platform_services);
    let fallback = match &framework {
        Err(_) => "pfs_fallback",
        Ok(_) if !partner_ready => "configuration_fallback",
        Ok(_) => "missing_parameters_fallback",
    };
    let complete = params.domain_name.is_some() && params.redirect_url.is_some();
    if partner_ready && complete {
        let mvpd = params.mvpd.clone().unwrap_or_default();
        let saml = format!(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             ID=\"_{}\" Version=\"2.0\" ProviderName=\"{service_provider}\"/>",
            uuid::Uuid::new_v4().simple()
        );
        let answer = crate::emulator::responses::SessionResponse {
            action_name: "partner_profile".to_owned(),
            action_type: "direct".to_owned(),
            reason_type: "none".to_owned(),
            url: Some(format!("/api/v2/{service_provider}/profiles/sso/{APPLE}")),
            missing_parameters: None,
            code: None,
            session_id: uuid::Uuid::new_v4().to_string(),
            mvpd: Some(mvpd),
            service_provider,
            not_before: None,
            not_after: None,
            authentication_request: Some(AuthenticationRequest {
                kind: "saml".to_owned(),
                request: STANDARD.encode(saml),
                attributes_names: ["uid", "NameID", "uniqueId"].map(str::to_owned).to_vec(),
            }),
        };
        return Ok(adobe_json(StatusCode::OK, &answer));
    }
    let session = sessions::start(
        &state,
        &client_id,
        &device_id,
        device::from_info(&info),
        params,
    );
    let mut answer = sessions::next_step(&state, &session, false);
    answer.reason_type = fallback.to_owned();
    Ok(adobe_json(StatusCode::OK, &answer))
}

/// X2 `POST /api/v2/{serviceProvider}/profiles/sso/{partner}` (form: `SAMLResponse`):
/// 201 with the new `appleSSO` profile. The SAML response must be base64; its content is not
/// checked, and the profile belongs to the emulator's `premium` account (or the first one).
pub async fn profile(
    State(state): State<EmulatorState>,
    Path((service_provider, partner)): Path<(String, String)>,
    Authorized(client_id): Authorized,
    request_headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    check_partner(&partner)?;
    headers::body_type(&request_headers, BodyType::Form)?;
    let (device_id, _) = headers::device(&request_headers)?;
    let mvpd = framework_mvpd(&state, &request_headers)?;
    let saml = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "SAMLResponse")
        .map(|(_, v)| v.into_owned())
        .filter(|v| {
            STANDARD
                .decode(v.trim())
                .is_ok_and(|bytes| !bytes.is_empty())
        });
    if saml.is_none() {
        return Err(ErrorCode::InvalidParameterSamlResponse.into());
    }
    let account = state
        .dataset()
        .account_named("premium")
        .or_else(|| state.dataset().accounts.first())
        .map(|a| a.username.clone())
        .ok_or(ErrorCode::InvalidParameterSamlResponse)?;
    let key = ProfileKey {
        client_id,
        device_id,
        mvpd: mvpd.id.clone(),
    };
    let session_id = uuid::Uuid::new_v4().to_string();
    let stored = profiles::create(&state, key, &account, ProfileKind::AppleSso, &session_id);
    let rendered = profiles::render(&state, &mvpd.id, &stored)
        .ok_or(ErrorCode::InvalidParameterSamlResponse)?;
    let body = ProfilesResponse {
        profiles: BTreeMap::from([(mvpd.id, rendered)]),
    };
    Ok(adobe_json(StatusCode::CREATED, &body))
}
