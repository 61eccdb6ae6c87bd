//! Decisions: `POST /tv/v1/preauthorize` (what the viewer can probably watch, for badges and
//! menus) and `POST /tv/v1/authorize` (every play start; the media token on permit).

use axum::{extract::State, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    auth::AuthenticatedDevice,
    body::JsonBody,
    error::{ApiError, ErrorBody},
};
use crate::service::{AuthorizeOutcome, PreauthorizeItem, Service};

/// Resources to preauthorize.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preauthorize {
    /// Resources (1 to 50): ids, or MRSS documents whose channel title is the id.
    #[schema(example = json!(["REF30", "news", "premium-sports"]))]
    pub resources: Vec<String>,
}

/// The preauthorization of each resource, in the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preauthorizations {
    /// One per distinct resource asked about.
    pub decisions: Vec<Preauthorization>,
}

/// One resource's preauthorization (informational: never a permission to play).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preauthorization {
    /// The resource id.
    pub resource: String,
    /// Whether the viewer can probably watch it.
    pub authorized: bool,
    /// Why not, as a stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why not, in plain words for the viewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `authenticate` when the viewer must sign in again (start an activation), as with a 403
    /// `not_authenticated`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "authenticate")]
    pub action: Option<String>,
}

/// `authenticate` (the `action` of a 403 `not_authenticated`) when Adobe says the viewer must
/// sign in again.
fn sign_in_action(sign_in_again: bool) -> Option<String> {
    sign_in_again.then(|| "authenticate".to_owned())
}

impl From<PreauthorizeItem> for Preauthorization {
    fn from(item: PreauthorizeItem) -> Self {
        Self {
            resource: item.resource,
            authorized: item.authorized,
            reason: item.reason,
            message: item.message,
            action: sign_in_action(item.sign_in_again),
        }
    }
}

/// A play request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Authorize {
    /// The resource to play: its id, or an MRSS document whose channel title is the id.
    #[schema(example = "REF30")]
    pub resource: String,
}

/// Whether to play.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// `permit` or `deny`.
    pub decision: Verdict,
    /// On permit: the single-use media token (base64) for the player's verifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_token: Option<String>,
    /// On permit: a JWT (EdDSA, valid at most 60 s, never past the media token) bound to this
    /// device (`sub`) and the resource, for the CDN or packager to check before it serves the
    /// stream; its keys are at `GET /.well-known/jwks.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playback_token: Option<String>,
    /// On permit under TempPass: when the TempPass runs out, epoch milliseconds; the app
    /// stops the stream then (Adobe does not). Absent with a TV provider's sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// On deny: why, as a stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// On deny: why, in plain words for the viewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// On deny: `authenticate` when the viewer must sign in again (start an activation), as
    /// with a 403 `not_authenticated`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "authenticate")]
    pub action: Option<String>,
    /// `degradation` when Adobe Pass decided by a degradation rule an operator applied to the
    /// provider (the provider was not asked); absent when the provider decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "degradation")]
    pub source: Option<String>,
}

/// `degradation` when Adobe decided by a degradation rule.
fn source_of(degraded: bool) -> Option<String> {
    degraded.then(|| "degradation".to_owned())
}

/// Play or not.
#[derive(Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Play.
    Permit,
    /// Do not play.
    Deny,
}

/// Preauthorizes resources for the device's viewer (at most 5 per upstream call, merged).
#[utoipa::path(
    post,
    path = "/tv/v1/preauthorize",
    tag = "decisions",
    security(("deviceToken" = [])),
    request_body = Preauthorize,
    responses(
        (status = 200, description = "One decision per resource (a denied one with `action: authenticate` when the viewer must sign in again)", body = Preauthorizations),
        (status = 400, description = "Malformed body, not 1 to 50 resources, or a resource that is blank, too long or MRSS without a channel title (the message names the field)", body = ErrorBody),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 403, description = "The viewer is not signed in (`not_authenticated`)", body = ErrorBody),
        (status = 502, description = "Adobe Pass refused", body = ErrorBody),
        (status = 503, description = "Adobe Pass unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn preauthorize(
    State(service): State<Service>,
    AuthenticatedDevice(session): AuthenticatedDevice,
    JsonBody(request): JsonBody<Preauthorize>,
) -> Result<Json<Preauthorizations>, ApiError> {
    let items = service.preauthorize(&session, &request.resources).await?;
    let mut decisions: Vec<Preauthorization> = Vec::with_capacity(items.len());
    for item in items {
        if !decisions.iter().any(|d| d.resource == item.resource) {
            decisions.push(item.into());
        }
    }
    Ok(Json(Preauthorizations { decisions }))
}

/// Decides a play: business rules first, then Adobe Pass, every time (never cached).
#[utoipa::path(
    post,
    path = "/tv/v1/authorize",
    tag = "decisions",
    security(("deviceToken" = [])),
    request_body = Authorize,
    responses(
        (status = 200, description = "Permit (with the media token and a playback token) or deny (with the reason, and `action: authenticate` when the viewer must sign in again); `source: degradation` when a degradation rule decided", body = Authorization),
        (status = 400, description = "Malformed body, or a resource that is blank, too long or MRSS without a channel title (the message names the field)", body = ErrorBody),
        (status = 401, description = "Unknown or revoked device token", body = ErrorBody),
        (status = 403, description = "The viewer is not signed in (`not_authenticated`)", body = ErrorBody),
        (status = 502, description = "Adobe Pass refused", body = ErrorBody),
        (status = 503, description = "Adobe Pass unavailable; retry after `retryAfter` seconds", body = ErrorBody),
    )
)]
pub async fn authorize(
    State(service): State<Service>,
    AuthenticatedDevice(session): AuthenticatedDevice,
    JsonBody(request): JsonBody<Authorize>,
) -> Result<Json<Authorization>, ApiError> {
    let answer = match service.authorize(&session, &request.resource).await? {
        AuthorizeOutcome::Permit {
            media_token,
            playback_token,
            temp_pass_ends_at,
            degraded,
            ..
        } => Authorization {
            decision: Verdict::Permit,
            media_token: Some(media_token.expose().to_owned()),
            playback_token: Some(playback_token.expose().to_owned()),
            expires_at: temp_pass_ends_at,
            reason: None,
            message: None,
            action: None,
            source: source_of(degraded),
        },
        AuthorizeOutcome::Deny {
            reason,
            message,
            sign_in_again,
            degraded,
            ..
        } => Authorization {
            decision: Verdict::Deny,
            media_token: None,
            playback_token: None,
            expires_at: None,
            reason: Some(reason),
            message: Some(message),
            action: sign_in_action(sign_in_again),
            source: source_of(degraded),
        },
    };
    Ok(Json(answer))
}
