//! `POST /tv/v1/logout`: signs the device's viewer out of their TV provider.

use axum::{extract::State, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    auth::MeteredDevice,
    error::{ApiError, ErrorBody},
};
use crate::service::Service;

/// Signed out.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    /// Always `true`.
    pub logged_out: bool,
    /// The provider's own logout page, when it has one: open it in a browser to end the
    /// provider's session too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
}

/// Signs the viewer out (a no-op when not signed in).
#[utoipa::path(
    post,
    path = "/tv/v1/logout",
    tag = "logout",
    security(("deviceToken" = [])),
    responses(
        (status = 200, description = "Signed out", body = LoggedOut),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 403, description = "Adobe Pass asks for a new sign-in", body = ErrorBody),
        (status = 429, description = "Too many steps reaching Adobe from this TV or its network; retry after `retryAfter` seconds", body = ErrorBody),
        (status = 502, description = "Adobe Pass refused", body = ErrorBody),
        (status = 503, description = "Adobe Pass unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn logout(
    State(service): State<Service>,
    MeteredDevice(session): MeteredDevice,
) -> Result<Json<LoggedOut>, ApiError> {
    let outcome = service.logout(&session).await?;
    Ok(Json(LoggedOut {
        logged_out: true,
        logout_url: outcome.logout_url,
    }))
}
