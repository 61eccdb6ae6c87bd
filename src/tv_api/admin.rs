//! `POST /admin/v1/devices/{deviceId}/invalidate`: forgets the cached profile and
//! preauthorizations of every registration of an app device id (as when Adobe or a provider says
//! entitlements changed). Guarded by its own secret (`--admin-token`); without one configured the
//! route answers 404.

use axum::{
    extract::{rejection::PathRejection, Path, State},
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
    let Some(expected) = state.config.admin_token.as_ref().map(Secret::expose) else {
        return Err(ApiError::not_found("route"));
    };
    let given = bearer(&headers).unwrap_or_default();
    if !same_secret(given, expected) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_admin_token",
            "Send the admin token as Authorization: Bearer <token>.",
            "fix-request",
        ));
    }
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
