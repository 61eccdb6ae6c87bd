//! Adobe's Reset TempPass API (TempPass feature page, "Reset TempPass API"), on the management
//! host (`mgmt.auth.adobe.com`), with a DCR access token:
//!
//! - `DELETE /reset-tempass/v3/reset?requestor_id=…&mvpd_id=…[&device_id=…]`: the TempPass
//!   `mvpd_id` of one device (the device id the device's `AP-Device-Identifier` carries), or of
//!   every device when `device_id` is absent or `all`;
//! - `DELETE /reset-tempass/v3/reset/generic?requestor_id=…&mvpd_id=…[&key=…]`: the promotional
//!   TempPass of one user-provided identifier hash (`AP-TempPass-Identity`'s), or of all.
//!
//! Both answer 204 with no body; 400 when `requestor_id` or `mvpd_id` is missing or names no
//! service provider or TempPass here; 401 without a live access token. A reset TempPass starts
//! afresh at its next authorization.

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    http::StatusCode,
};
use base64::{engine::general_purpose::STANDARD, Engine};

use crate::emulator::{
    dcr::Authorized,
    errors::{ApiError, ErrorCode},
    state::EmulatorState,
    temppass::TempPassKey,
};

/// Where the Reset TempPass API is served.
pub const BASE_PATH: &str = "/reset-tempass/v3/reset";

/// What a reset covers.
enum Scope {
    /// Every device and identity.
    All,
    /// The trials keyed by this device id.
    Device(String),
    /// The promotional trials keyed by this identifier hash.
    Identity(String),
}

impl Scope {
    fn covers(&self, key: &TempPassKey) -> bool {
        match self {
            Scope::All => true,
            Scope::Device(id) => STANDARD
                .decode(&key.device_id)
                .is_ok_and(|decoded| decoded == id.as_bytes()),
            Scope::Identity(hash) => key
                .identity
                .as_deref()
                .and_then(|identity| serde_json::from_str::<serde_json::Value>(identity).ok())
                .and_then(|identity| identity.as_object().cloned())
                .is_some_and(|fields| fields.values().any(|value| value.as_str() == Some(hash))),
        }
    }
}

/// The TempPass MVPD the query names, once its service provider is this one's.
fn temp_pass_of(
    state: &EmulatorState,
    query: &HashMap<String, String>,
) -> Result<String, ApiError> {
    let requestor = query
        .get("requestor_id")
        .ok_or(ErrorCode::InvalidParameterServiceProvider)?;
    state.check_service_provider(requestor)?;
    let mvpd = query
        .get("mvpd_id")
        .ok_or(ErrorCode::InvalidParameterMvpd)?;
    match state.mvpd(mvpd)?.temp_pass {
        Some(_) => Ok(mvpd.clone()),
        None => Err(ErrorCode::InvalidParameterMvpd.into()),
    }
}

/// Deletes the trials of `mvpd` that `scope` covers.
fn reset(state: &EmulatorState, mvpd: &str, scope: &Scope) {
    let mut store = state.store();
    store
        .temp_passes
        .retain(|key, _| key.mvpd != mvpd || !scope.covers(key));
}

/// The scope a parameter names: all when absent or `all`.
fn scope_of(value: Option<&String>, one: impl FnOnce(String) -> Scope) -> Scope {
    match value.map(String::as_str) {
        None | Some("" | "all") => Scope::All,
        Some(value) => one(value.to_owned()),
    }
}

/// `DELETE /reset-tempass/v3/reset`: a device's TempPass, or every device's.
pub async fn reset_device(
    State(state): State<EmulatorState>,
    _: Authorized,
    Query(query): Query<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let mvpd = temp_pass_of(&state, &query)?;
    reset(
        &state,
        &mvpd,
        &scope_of(query.get("device_id"), Scope::Device),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /reset-tempass/v3/reset/generic`: an identifier hash's promotional TempPass, or
/// every one.
pub async fn reset_generic(
    State(state): State<EmulatorState>,
    _: Authorized,
    Query(query): Query<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let mvpd = temp_pass_of(&state, &query)?;
    reset(&state, &mvpd, &scope_of(query.get("key"), Scope::Identity));
    Ok(StatusCode::NO_CONTENT)
}
