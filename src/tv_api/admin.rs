//! The admin routes, guarded by their own secret (`--admin-token`; without one configured they
//! answer 404), for an app device id's every registration:
//! - `POST /admin/v1/devices/{deviceId}/invalidate` forgets the cached profile and
//!   preauthorizations (as when Adobe or a provider says entitlements changed);
//! - `POST /admin/v1/devices/{deviceId}/revoke` revokes the device token (it was stolen, say: the
//!   device must register afresh) and logs the device out at Adobe;
//! - `POST /admin/v1/devices/{deviceId}/temppass/reset` starts the device's TempPass afresh at
//!   Adobe, with who and why;
//! - `GET /admin/v1/providers` lists the provider states operators set, and
//!   `PUT /admin/v1/providers/{mvpd}` sets one (normal, notice or hidden), on every node within
//!   seconds, with who and why.

use std::{collections::BTreeMap, net::SocketAddr};

use axum::{
    extract::{rejection::PathRejection, ConnectInfo, FromRequestParts, Path, State},
    http::{request::Parts, StatusCode},
    Json,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use super::{auth::bearer, body::DeclaredJsonBody, error::ApiError};
use crate::{
    adobe_pass::Secret,
    service::{ProviderStateChange, TempPassReset},
    state::AppState,
    store::{ProviderMode, ProviderState},
};

/// Invalidates the device's cached profile and decisions; 204 when done.
pub async fn invalidate(
    State(state): State<AppState>,
    _: Operator,
    device_id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(device_id) = device_id?;
    state.service.invalidate_app_device(&device_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the device's token and logs it out at Adobe (acting from the operator's address);
/// 204 when done.
pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(operator): ConnectInfo<SocketAddr>,
    _: Operator,
    device_id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(device_id) = device_id?;
    state
        .service
        .revoke_device(&device_id, operator.ip())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who resets a device's TempPass, and why.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetTempPass {
    /// The operator's name.
    changed_by: String,
    /// Why.
    reason: String,
}

/// Starts the device's TempPass afresh at Adobe (Reset TempPass API), acting from the
/// operator's address; 204 when done.
pub async fn reset_temp_pass(
    State(state): State<AppState>,
    ConnectInfo(operator): ConnectInfo<SocketAddr>,
    _: Operator,
    device_id: Result<Path<String>, PathRejection>,
    DeclaredJsonBody(change): DeclaredJsonBody<ResetTempPass>,
) -> Result<StatusCode, ApiError> {
    let Path(device_id) = device_id?;
    let change = TempPassReset {
        changed_by: change.changed_by,
        reason: change.reason,
    };
    state
        .service
        .reset_temp_pass(&device_id, operator.ip(), &change)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A provider's state, as an operator sets it and as the list shows it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetProviderState {
    /// `normal`, `notice` or `hidden`.
    state: ProviderMode,
    /// The notice by language (`en`, `es`); left out for the site's own words.
    #[serde(default)]
    message: BTreeMap<String, String>,
    /// When the state lapses by itself, epoch ms.
    until: Option<i64>,
    /// The operator's name.
    changed_by: String,
    /// Why.
    reason: String,
}

/// A provider state as the admin API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStateView {
    mvpd: String,
    state: ProviderMode,
    message: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<i64>,
    changed_by: String,
    reason: String,
    changed_at: i64,
}

impl From<ProviderState> for ProviderStateView {
    fn from(state: ProviderState) -> Self {
        Self {
            mvpd: state.mvpd,
            state: state.mode,
            message: state.message,
            until: state.until,
            changed_by: state.changed_by,
            reason: state.reason,
            changed_at: state.changed_at,
        }
    }
}

/// Every provider state operators set (lapsed ones too, with their end time).
#[derive(Debug, Serialize)]
pub struct ProviderStates {
    providers: Vec<ProviderStateView>,
}

/// Lists the provider states.
pub async fn provider_states(
    State(state): State<AppState>,
    _: Operator,
) -> Result<Json<ProviderStates>, ApiError> {
    let providers = state.service.stored_provider_states().await?;
    Ok(Json(ProviderStates {
        providers: providers.into_iter().map(Into::into).collect(),
    }))
}

/// Sets a provider's state; answers with the state kept.
pub async fn set_provider_state(
    State(state): State<AppState>,
    _: Operator,
    mvpd: Result<Path<String>, PathRejection>,
    DeclaredJsonBody(change): DeclaredJsonBody<SetProviderState>,
) -> Result<Json<ProviderStateView>, ApiError> {
    let Path(mvpd) = mvpd?;
    let kept = state
        .service
        .set_provider_state(
            &mvpd,
            ProviderStateChange {
                mode: change.state,
                message: change.message,
                until: change.until,
                changed_by: change.changed_by,
                reason: change.reason,
            },
        )
        .await?;
    Ok(Json(kept.into()))
}

/// A caller sending the admin token; 404 when none is configured. Taken before anything else
/// of the request, so a caller without the token learns nothing from its body's checks.
#[derive(Debug)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = state.config.admin_token.as_ref().map(Secret::expose) else {
            return Err(ApiError::not_found("route"));
        };
        let given = bearer(&parts.headers).unwrap_or_default();
        if !same_secret(given, expected) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_admin_token",
                "Send the admin token as Authorization: Bearer <token>.",
                "fix-request",
            ));
        }
        Ok(Self)
    }
}

/// Compares two secrets in time independent of where they differ (and of their lengths, by
/// comparing their hashes).
fn same_secret(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.ct_eq(&expected).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_when_equal() {
        let token = "s".repeat(40);
        assert!(same_secret(&token, &token));
        assert!(!same_secret(&"s".repeat(39), &token));
        assert!(!same_secret("", &token));
    }
}
