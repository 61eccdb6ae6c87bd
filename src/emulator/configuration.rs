//! C1 `GET /api/v2/{serviceProvider}/configuration` (§6): the MVPDs integrated with the
//! service provider, in the documented sample's shape.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};

use crate::emulator::{
    dataset::MvpdEntry,
    dcr::Authorized,
    errors::ApiError,
    headers,
    logos::LOGO_PATH,
    responses::{adobe_json, ConfigurationResponse, Mvpd, Requestor},
    state::EmulatorState,
};

/// The configuration entry for an MVPD; logos default to the emulator's own.
pub fn mvpd_entry(state: &EmulatorState, mvpd: &MvpdEntry) -> Mvpd {
    Mvpd {
        id: mvpd.id.clone(),
        display_name: Some(mvpd.display_name.clone()),
        logo_url: Some(
            mvpd.logo_url
                .clone()
                .unwrap_or_else(|| format!("{}{LOGO_PATH}/{}.svg", state.public_url(), mvpd.id)),
        ),
        is_temp_pass: Some(mvpd.temp_pass.is_some()),
        platform_mapping_id: mvpd.platform_mapping_id.clone(),
        enable_platform_services: Some(mvpd.enable_platform_services),
        display_in_platform_picker: mvpd.display_in_platform_picker,
        auth_per_aggregator: Some(false),
        ..Mvpd::default()
    }
}

/// Answers C1 for the platform type of the device the optional `X-Device-Info` describes:
/// it sets `os`, and MVPDs boarded on other platforms are left out (without device
/// information, only MVPDs boarded everywhere are listed).
pub async fn configuration(
    State(state): State<EmulatorState>,
    Path(service_provider): Path<String>,
    Authorized(_client): Authorized,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    let info = headers::text(&request_headers, "x-device-info")
        .and_then(headers::base64_json_object)
        .unwrap_or_default();
    let os = info
        .get("osName")
        .and_then(|v| v.as_str())
        .map_or_else(|| "Unknown".to_owned(), str::to_owned);
    let dataset = state.dataset();
    let body = ConfigurationResponse {
        device: "unknown".to_owned(),
        client_type: "server".to_owned(),
        os,
        requestor: Requestor {
            id: dataset.service_provider.id.clone(),
            name: dataset.service_provider.name.clone(),
            domains: dataset.service_provider.domains.clone(),
            mvpds: dataset
                .mvpds
                .iter()
                .filter(|m| m.boarded_on(&info))
                .map(|m| mvpd_entry(&state, m))
                .collect(),
        },
    };
    Ok(adobe_json(StatusCode::OK, &body))
}
