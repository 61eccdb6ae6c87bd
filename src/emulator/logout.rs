//! Logout (§10): L1 removes the device's profile for an MVPD and says how to finish; the
//! MVPD logout page it may point to is served here too.

use std::collections::{BTreeMap, HashMap};

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use crate::emulator::{
    dcr::Authorized,
    errors::ApiError,
    headers,
    profiles::{ProfileKey, ProfileKind},
    responses::{adobe_json, LogoutResponse, MvpdLogout},
    sessions::{check_redirect_url, check_registered_redirect, html_error},
    state::EmulatorState,
};

/// Path of the emulated MVPD logout page.
pub const MVPD_LOGOUT_PATH: &str = "/adobe-services/logout";

/// L1 `GET /api/v2/{serviceProvider}/logout/{mvpd}?redirectUrl=…`.
pub async fn logout(
    State(state): State<EmulatorState>,
    Path((service_provider, mvpd)): Path<(String, String)>,
    Authorized(client_id): Authorized,
    request_headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    state.check_service_provider(&service_provider)?;
    let (device_id, _) = headers::device(&request_headers)?;
    let entry = state.mvpd(&mvpd)?.clone();
    let redirect_url = query.get("redirectUrl").filter(|u| !u.is_empty());
    if let Some(url) = redirect_url {
        check_registered_redirect(&state, url)?;
    }
    let answer = |action_name: &str, action_type: &str, url: Option<String>| MvpdLogout {
        action_name: action_name.to_owned(),
        action_type: action_type.to_owned(),
        mvpd: mvpd.clone(),
        url,
    };
    let outcome = if entry.temp_pass.is_some() {
        answer("complete", "none", None)
    } else {
        let key = ProfileKey {
            client_id,
            device_id,
            mvpd: mvpd.clone(),
        };
        let now = state.now_ms();
        let removed = state.store().profiles.remove(&key);
        match removed {
            Some(p) if p.not_after <= now => answer("invalid", "none", None),
            None => answer("invalid", "none", None),
            Some(p) if p.kind == ProfileKind::AppleSso => {
                answer("partner_logout", "partner_interactive", None)
            }
            Some(_) if entry.has_logout_endpoint => {
                let mut url = url::form_urlencoded::Serializer::new(String::new());
                url.append_pair("mso_id", &mvpd)
                    .append_pair("requestor_id", &service_provider);
                if let Some(redirect) = redirect_url {
                    url.append_pair("redirect_url", redirect);
                }
                let url = format!("{}{MVPD_LOGOUT_PATH}?{}", state.public_url(), url.finish());
                answer("logout", "interactive", Some(url))
            }
            Some(_) => answer("complete", "none", None),
        }
    };
    let body = LogoutResponse {
        logouts: BTreeMap::from([(mvpd.clone(), outcome)]),
    };
    Ok(adobe_json(StatusCode::OK, &body))
}

/// The MVPD logout page: redirects to `redirect_url` when given, else says the user is out.
pub async fn mvpd_logout_page(Query(query): Query<HashMap<String, String>>) -> Response {
    match query.get("redirect_url").map(|u| check_redirect_url(u)) {
        Some(Ok(url)) => (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response(),
        Some(Err(_)) => html_error(
            StatusCode::BAD_REQUEST,
            "Cannot sign out",
            "The redirect URL is not valid.",
        ),
        None => html_error(
            StatusCode::OK,
            "Signed out",
            "You are signed out of your TV provider.",
        ),
    }
}
