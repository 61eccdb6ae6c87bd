//! The admin routes, guarded by their own secret (`--admin-token`; without one configured they
//! answer 404), for an app device id's every registration:
//! - `POST /admin/v1/devices/{deviceId}/invalidate` forgets the cached profile and
//!   preauthorizations (as when Adobe or a provider says entitlements changed);
//! - `POST /admin/v1/devices/{deviceId}/revoke` revokes the device token (it was stolen, say: the
//!   device must register afresh) and logs the device out at Adobe.

use std::net::SocketAddr;

use axum::{
    extract::{rejection::PathRejection, ConnectInfo, Path, State},
    http::{HeaderMap, StatusCode},
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use super::{auth::bearer, error::ApiError};
use crate::{adobe_pass::Secret, state::AppState};

/// Invalidates the device's cached profile and decisions; 204 when done.
pub async fn invalidate(
    State(state): State<AppState>,
    headers: HeaderMap,
    device_id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    admit(&state, &headers)?;
    let Path(device_id) = device_id?;
    let registrations = state
        .service
        .store()
        .devices_of_app(&device_id)
        .await
        .map_err(crate::service::ServiceError::from)?;
    if registrations.is_empty() {
        return Err(ApiError::not_found("device"));
    }
    for registration in registrations {
        state
            .service
            .invalidate_device(&registration.device_id)
            .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the device's token and logs it out at Adobe (acting from the operator's address);
/// 204 when done.
pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(operator): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    device_id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    admit(&state, &headers)?;
    let Path(device_id) = device_id?;
    state
        .service
        .revoke_device(&device_id, operator.ip())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lets in only a caller sending the admin token; 404 when none is configured.
fn admit(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = state.config.admin_token.as_ref().map(Secret::expose) else {
        return Err(ApiError::not_found("route"));
    };
    let given = bearer(headers).unwrap_or_default();
    if !same_secret(given, expected) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_admin_token",
            "Send the admin token as Authorization: Bearer <token>.",
            "fix-request",
        ));
    }
    Ok(())
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
