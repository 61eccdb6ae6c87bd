//! `GET /tv/v1/profile`: whether the device's viewer is signed in, and with whom.

use axum::{extract::State, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    auth::AuthenticatedDevice,
    error::{ApiError, ErrorBody},
};
use crate::service::{Caller, ProfileSummary, Service};

/// The device's sign-in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Whether the viewer is signed in with a TV provider (or on TempPass).
    pub authenticated: bool,
    /// The provider (MVPD or TempPass id), when signed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Adobe's profile type (`regular`, `temporary`, `degraded`, …), when signed in.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// When the sign-in ends, epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Adobe's `hba_status`, when the provider sends it: `true` when the viewer was signed in
    /// by their home network (home-based authentication), so away from home they will be asked
    /// to sign in with credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hba_status: Option<bool>,
}

impl From<Option<ProfileSummary>> for Profile {
    fn from(summary: Option<ProfileSummary>) -> Self {
        match summary {
            Some(summary) => Self {
                authenticated: true,
                provider: Some(summary.provider),
                kind: Some(summary.kind),
                expires_at: Some(summary.expires_at),
                hba_status: summary.home_based,
            },
            None => Self {
                authenticated: false,
                provider: None,
                kind: None,
                expires_at: None,
                hba_status: None,
            },
        }
    }
}

/// The device's profile.
#[utoipa::path(
    get,
    path = "/tv/v1/profile",
    tag = "profile",
    security(("deviceToken" = [])),
    responses(
        (status = 200, description = "Signed in or not", body = Profile),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 429, description = "Too many steps reaching Adobe from this TV or its network; retry after `retryAfter` seconds", body = ErrorBody),
        (status = 502, description = "Adobe Pass refused", body = ErrorBody),
        (status = 503, description = "Adobe Pass unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn show(
    State(service): State<Service>,
    AuthenticatedDevice(session): AuthenticatedDevice,
) -> Result<Json<Profile>, ApiError> {
    // Only a read that reaches Adobe is metered: a cached answer costs Adobe nothing.
    let profile = match service.cached_profile(&session) {
        Some(cached) => cached,
        None => {
            service.admit_adobe_step(Caller::tv(&session)).await?;
            service.profile(&session).await?
        }
    };
    Ok(Json(Profile::from(profile)))
}
