//! The Streaming App API under `/tv/v1`: JSON for TV apps, over the Programmer Service. Every
//! call but registration carries `Authorization: Bearer <device token>`; every error has one
//! shape (see [`error`]). Also the admin routes that invalidate a device's caches or revoke its
//! token, served on the operators' listener.

mod activations;
mod admin;
mod admin_degradation;
mod admin_limits;
mod auth;
mod body;
pub mod client_addr;
mod decisions;
mod devices;
pub mod error;
mod keys;
mod logout;
pub mod openapi;
mod profile;
mod providers;
mod temppass;

use axum::{
    http::{header, HeaderValue},
    routing::{get, post, put},
    Router,
};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;
use error::ApiError;

/// The API's routes, for the server's router to merge.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tv/v1/openapi.json", get(openapi::document))
        .route("/tv/v1/devices", post(devices::register))
        .route("/tv/v1/providers", get(providers::list))
        .route("/tv/v1/profile", get(profile::show))
        .route("/tv/v1/activations", post(activations::start))
        .route("/tv/v1/activations/{code}", get(activations::status))
        .route("/tv/v1/activations/{code}/events", get(activations::events))
        .route("/tv/v1/activations/{code}/qr.svg", get(activations::qr))
        .route("/tv/v1/preauthorize", post(decisions::preauthorize))
        .route("/tv/v1/authorize", post(decisions::authorize))
        .route("/tv/v1/logout", post(logout::logout))
        .route("/tv/v1/temppass", post(temppass::start))
        .route("/tv/v1/{*rest}", axum::routing::any(unknown_route))
        .method_not_allowed_fallback(method_not_allowed)
        // Answers hold tokens, codes and entitlements: no cache may keep them.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        // Public keys only: caches may keep them (added after the layer above).
        .route("/.well-known/jwks.json", get(keys::public_keys))
}

/// The admin routes, for the operators' listener only.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/v1/devices/{device_id}/invalidate",
            post(admin::invalidate),
        )
        .route("/admin/v1/devices/{device_id}/revoke", post(admin::revoke))
        .route(
            "/admin/v1/devices/{device_id}/temppass/reset",
            post(admin::reset_temp_pass),
        )
        .route("/admin/v1/providers", get(admin::provider_states))
        .route("/admin/v1/providers/{mvpd}", put(admin::set_provider_state))
        .route(
            "/admin/v1/limits",
            get(admin_limits::limits).put(admin_limits::change_limits),
        )
        .route("/admin/v1/degradation", get(admin_degradation::rules))
        .route(
            "/admin/v1/degradation/{mvpd}",
            put(admin_degradation::apply).delete(admin_degradation::remove),
        )
        .method_not_allowed_fallback(method_not_allowed)
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This route does not take that method.",
        "fix-request",
    )
}
