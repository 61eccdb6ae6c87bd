//! `GET /.well-known/jwks.json`: the public keys of playback tokens, for the CDN or packager
//! that checks them (RFC 7517). Yesterday's, today's and tomorrow's keys, so a set cached for
//! the hour it may be kept holds every key that signs meanwhile.

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::IntoResponse,
    Json,
};

use crate::{playback::JwkSet, service::Service};

/// How long a CDN may keep the set (a key is published a day before it signs).
const KEPT_FOR: HeaderValue = HeaderValue::from_static("public, max-age=3600");

/// The public keys of playback tokens.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "decisions",
    responses(
        (status = 200, description = "The keys that sign `playbackToken` (Ed25519, `kid` as in each token's header); may be cached an hour", body = JwkSet),
    )
)]
pub async fn public_keys(State(service): State<Service>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, KEPT_FOR)],
        Json(service.playback_keys()),
    )
}
