//! `POST /tv/v1/temppass`: starts or continues TempPass (a trial with no sign-in).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    auth::AuthenticatedDevice,
    body::JsonBody,
    error::{ApiError, ErrorBody},
};
use crate::service::Service;

/// Which TempPass, for whom.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartTempPass {
    /// The TempPass MVPD id; absent: the first TempPass the service offers.
    #[schema(example = "TempPass_TEST40")]
    pub mvpd: Option<String>,
    /// The viewer's email, for promotional TempPass (sent upstream only as a hash).
    pub email: Option<String>,
}

/// Where the device's TempPass stands.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TempPass {
    /// The TempPass id, now the device's provider.
    pub provider: String,
    /// When it runs out, epoch milliseconds; absent until the first play starts the clock
    /// (the authorize answer then carries it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Resources still allowed (promotional TempPass), once the first play started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_resources: Option<i64>,
}

/// Starts TempPass, or reports how much of it is left.
#[utoipa::path(
    post,
    path = "/tv/v1/temppass",
    tag = "temppass",
    security(("deviceToken" = [])),
    request_body(content = Option<StartTempPass>, description = "Optional; `{}` or no body picks the first TempPass"),
    responses(
        (status = 200, description = "TempPass chosen; it runs from the first play", body = TempPass),
        (status = 400, description = "Malformed body, unknown TempPass or bad email (the message names the field)", body = ErrorBody),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 403, description = "TempPass is used up (`temporary_access_*`, action `authenticate`: sign in with a TV provider)", body = ErrorBody),
        (status = 502, description = "Adobe Pass refused, or the TempPass is misconfigured (`invalid_configuration_*`, action `contact-support`)", body = ErrorBody),
        (status = 503, description = "Adobe Pass unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn start(
    State(service): State<Service>,
    AuthenticatedDevice(session): AuthenticatedDevice,
    JsonBody(request): JsonBody<StartTempPass>,
) -> Result<Json<TempPass>, ApiError> {
    let status = service
        .temppass(&session, request.mvpd.as_deref(), request.email.as_deref())
        .await?;
    Ok(Json(TempPass {
        provider: status.provider,
        expires_at: status.expires_at,
        remaining_resources: status.remaining_resources,
    }))
}
